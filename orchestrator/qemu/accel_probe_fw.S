/*
 * accel_probe_fw.S - tiny 64 KiB "-bios" firmware used to probe whether the
 * host's KVM can actually run a Linux boot path, not just real-mode code.
 *
 * Build (identical with gcc or clang; output is exactly 65536 bytes):
 *   gcc -c accel_probe_fw.S -o accel_probe_fw.o      # or: clang -c ...
 *   ld -Ttext=0xF0000 -e _start --oformat binary -o accel_probe_fw.bin accel_probe_fw.o
 * Run:
 *   qemu-system-x86_64 -machine pc -accel kvm -nodefaults -display none -m 32 \
 *     -no-reboot -bios accel_probe_fw.bin \
 *     -device isa-debug-exit,iobase=0xf4,iosize=1 -debugcon file:stages.txt
 * Result: status 67 ((0x21<<1)|1) and stages.txt "RPLBFD" = usable KVM;
 * status 33 ((0x10<<1)|1) + 'X' = failed check; a timeout leaves the last
 * stage reached: R real, P protected, L long mode, B #BP, F #PF, D done.
 * Why: kvm-pvm runs real-mode code but "hangs" Linux in the decompressor;
 * each stage mirrors arch/x86/boot/compressed/head_64.S / ident_map_64.c.
 * Linked at 0xF0000 (QEMU's alias of the BIOS top 64 KiB); reset vector at
 * image offset 0xFFF0; everything is in .text placed with .org.
 */

#define IMG_BASE   0xF0000
#define RM(x)      ((x) - IMG_BASE)     /* offset inside real-mode CS=0xF000 */
#define DEBUGCON   0xe9
#define EXIT_PORT  0xf4
#define EXIT_OK    0x21                 /* QEMU status 67 */
#define EXIT_FAIL  0x10                 /* QEMU status 33 */
#define PML4       0x1000               /* page tables live in RAM, not ROM */
#define PDPT       0x2000
#define PD         0x3000
#define IDT        0x5000               /* 256 x 16-byte gates = 4 KiB */
#define FLAGS      0x6000               /* counters written by the handlers */
#define STACK_TOP  0x80000
#define PF_ADDR    0x400000             /* 4 MiB: NOT mapped initially */
/* Arithmetic loop length. Deliberately ~9M instructions, not a few thousand:
 * a real KVM vCPU (or TCG) runs it in milliseconds, but kvm-pvm runs a
 * non-PVM guest through KVM's instruction emulator at ~1-1.5M insn/s
 * (measured), which is why Linux "hangs" in the decompressor; here that takes
 * ~8 s, so the probe's timeout catches it even if int3 (stage B) gets fixed.
 * Keep <= 1650000 so N(N+1)(2N+1) (sum of i*i, below) fits in 64 bits. */
#ifndef LOOP_N
#define LOOP_N     1500000
#endif
#define LOOP_SUM   (LOOP_N * (LOOP_N + 1) * (2 * LOOP_N + 1) / 6)

.macro STAGE ch
	movb $\ch, %al
	outb %al, $DEBUGCON
.endm

	.text
	.globl _start
_start:

/* ---- Stage R: real mode (CS base 0xF0000 after the reset-vector jump) ---- */
	.code16
start16:
	cli
	cld
	STAGE 'R'
	/* Fast A20 enable (port 0x92), as a boot loader would before Linux. */
	inb $0x92, %al
	orb $0x02, %al
	andb $0xfe, %al
	outb %al, $0x92
	/* GDT lives in ROM; accessed bits are preset so the CPU never writes
	 * back to a read-only descriptor when loading a segment register. */
	lgdtl %cs:RM(gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax                        /* CR0.PE */
	movl %eax, %cr0
	ljmpl $0x08, $start32               /* reload CS: 32-bit flat code */

/* ---- Stage P: 32-bit protected mode, like the decompressor's startup_32 */
	.code32
start32:
	movl $0x10, %eax                    /* reload every data segment */
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $STACK_TOP, %esp
	STAGE 'P'
	/* Build identity page tables in RAM. Only the first 2 MiB is mapped;
	 * anything above must be faulted in on demand (stage F). */
	movl $PML4, %edi
	xorl %eax, %eax
	movl $(3 * 4096 / 4), %ecx
	rep stosl
	movl $(PDPT | 3), PML4              /* present + writable */
	movl $(PD | 3), PDPT
	movl $0x83, PD                      /* 2 MiB page @0: P+RW+PS */
	/* Same ordering as head_64.S: CR4.PAE, CR3, EFER.LME, then CR0.PG. */
	movl %cr4, %eax
	orl $(1 << 5), %eax                 /* CR4.PAE */
	movl %eax, %cr4
	movl $PML4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx              /* EFER */
	rdmsr
	orl $(1 << 8), %eax                 /* EFER.LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax               /* CR0.PG | CR0.PE */
	movl %eax, %cr0
	/* Enter 64-bit code with a far *return*, exactly as startup_32 does
	 * (pushl $__KERNEL_CS; pushl %eax; lret). */
	pushl $0x18
	pushl $start64
	lret

/* ---- Stage L: long mode, like startup_64 ---- */
	.code64
start64:
	xorl %eax, %eax                     /* startup_64 zeroes data segs */
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq $STACK_TOP, %rsp
	STAGE 'L'

	/* IDT in RAM (the decompressor installs its own early IDT to catch
	 * #PF for on-demand mapping). Every vector -> fail_handler, then
	 * override #BP (3) and #PF (14). */
	movl $IDT, %edi
	movl $256, %ecx
	leaq fail_handler(%rip), %rsi
1:	call set_gate
	addq $16, %rdi
	decl %ecx
	jnz 1b
	movl $(IDT + 3 * 16), %edi
	leaq bp_handler(%rip), %rsi
	call set_gate
	movl $(IDT + 14 * 16), %edi
	leaq pf_handler(%rip), %rsi
	call set_gate
	lidtq idt_ptr(%rip)
	movq $0, FLAGS                      /* #BP count */
	movq $0, FLAGS + 8                  /* #PF count */

	/* ---- Stage B: a software exception delivered through the IDT.
	 * (On kvm-pvm this is where it dies: KVM's emulator cannot emulate INT
	 * in 64-bit mode -> "KVM internal error. Suberror: 1", VM paused.) ---- */
	int3
	cmpq $1, FLAGS
	jne fail
	STAGE 'B'

	/* ---- Stage F: touch an unmapped address; #PF maps it, iretq
	 * restarts the instruction (the decompressor's ident-map path). ---- */
	movl $PF_ADDR, %edi
	movq (%rdi), %rax                   /* faults once, then succeeds */
	movabsq $0x1122334455667788, %rax
	movq %rax, (%rdi)
	movq (%rdi), %rdx
	cmpq %rax, %rdx
	jne fail
	cmpq $1, FLAGS + 8
	jne fail
	STAGE 'F'

	/* ---- Stage D: plain arithmetic loop with a known answer, so a
	 * vCPU that "runs" but computes garbage is caught too, and one that
	 * crawls (emulated, like kvm-pvm) overruns the probe timeout. ---- */
	xorl %eax, %eax                     /* sum */
	movl $1, %ecx                       /* i */
2:	movq %rcx, %rdx
	imulq %rcx, %rdx
	addq %rdx, %rax
	incq %rcx
	cmpq $LOOP_N, %rcx
	jbe 2b
	movabsq $LOOP_SUM, %rdx
	cmpq %rdx, %rax
	jne fail
	STAGE 'D'
	movb $EXIT_OK, %al
	outb %al, $EXIT_PORT                /* QEMU exits with 67 here */
3:	hlt
	jmp 3b

fail:
	STAGE 'X'
	movb $EXIT_FAIL, %al
	outb %al, $EXIT_PORT                /* QEMU exits with 33 here */
4:	hlt
	jmp 4b

/* set_gate: %rdi = gate address, %rsi = handler. 64-bit interrupt gate,
 * selector 0x18, present, DPL 0, no IST. Clobbers %rax. */
set_gate:
	movq %rsi, %rax
	movw %ax, (%rdi)                    /* offset 15:0 */
	movw $0x18, 2(%rdi)                 /* selector */
	movw $0x8E00, 4(%rdi)               /* P=1 DPL=0 type=0xE, IST=0 */
	shrq $16, %rax
	movw %ax, 6(%rdi)                   /* offset 31:16 */
	shrq $16, %rax
	movl %eax, 8(%rdi)                  /* offset 63:32 */
	movl $0, 12(%rdi)
	ret

bp_handler:                             /* #BP: no error code */
	incq FLAGS
	iretq

pf_handler:                             /* #PF: error code on the stack */
	pushq %rax
	pushq %rcx
	movq %cr2, %rax
	cmpq $0x40000000, %rax              /* only the first 1 GiB (one PD) */
	jae fail
	movq %rax, %rcx
	shrq $21, %rcx                      /* PD index */
	andq $~0x1FFFFF, %rax
	orq $0x83, %rax                     /* 2 MiB page: P+RW+PS */
	movq %rax, PD(, %rcx, 8)
	incq FLAGS + 8
	cmpq $1, FLAGS + 8                  /* a re-fault means the PD write */
	ja fail                             /* was lost: fail, don't loop */
	popq %rcx
	popq %rax
	addq $8, %rsp                       /* drop the error code */
	iretq                               /* re-executes the faulting access */

fail_handler:                           /* any other exception */
	jmp fail

/* ---- Descriptor tables (read-only, in ROM) ---- */
	.p2align 3, 0                        /* zero fill: gcc == clang image */
gdt:
	.quad 0
	.quad 0x00CF9B000000FFFF            /* 0x08: 32-bit code, accessed */
	.quad 0x00CF93000000FFFF            /* 0x10: data, accessed */
	.quad 0x00AF9B000000FFFF            /* 0x18: 64-bit code, accessed */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt                           /* linear address (ROM alias) */
idt_ptr:
	.word 256 * 16 - 1
	.quad IDT

/* ---- Reset vector: linear 0xFFFFFFF0 = image offset 0xFFF0 ---- */
	.org 0xFFF0
	.code16
reset_vector:
	ljmp $0xF000, $RM(start16)          /* leave the 0xFFFF0000 CS base */
	.org 0x10000, 0xff                  /* pad to exactly 64 KiB */
