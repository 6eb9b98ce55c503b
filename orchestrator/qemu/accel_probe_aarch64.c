/* The aarch64 KVM probe firmware: QEMU's virt machine runs it from its
 * flash at address 0 (-bios). It writes "E" to the PL011 UART (the first
 * instruction ran), the exception level as a digit (a system register read),
 * loads a word from its own image and checks it, writes "K" and powers the
 * machine off through PSCI (QEMU exits 0). A failed check writes "F" and
 * spins. Assembled from the source in the comments with
 *   clang --target=aarch64-linux-gnu -c probe.S && llvm-objcopy -O binary
 * and checked under TCG by unit-argv (/accel/probe-firmware). */
#include "qemu/accel_priv.h"

#include <stdint.h>

static const uint32_t words[] = {
    0xd2a12001, /* movz x1, #0x0900, lsl #16   PL011 data register */
    0x528008a2, /* mov  w2, #'E' */
    0x39000022, /* strb w2, [x1] */
    0xd5384243, /* mrs  x3, CurrentEL */
    0xd342fc63, /* lsr  x3, x3, #2 */
    0x1100c062, /* add  w2, w3, #'0' */
    0x39000022, /* strb w2, [x1] */
    0x100001a4, /* adr  x4, data */
    0xb9400085, /* ldr  w5, [x4] */
    0x528969e6, /* movz w6, #0x4b4f */
    0x6b0600bf, /* cmp  w5, w6 */
    0x540000c1, /* b.ne fail */
    0x52800962, /* mov  w2, #'K' */
    0x39000022, /* strb w2, [x1] */
    0x52800100, /* movz w0, #0x0008 */
    0x72b08000, /* movk w0, #0x8400, lsl #16   PSCI SYSTEM_OFF */
    0xd4000002, /* hvc  #0 */
    0x528008c2, /* fail: mov w2, #'F' */
    0x39000022, /* strb w2, [x1] */
    0x14000000, /* b    . */
    0x00004b4f, /* data: .word 0x4b4f */
};

const unsigned char *const accel_probe_fw_aarch64 = (const unsigned char *)words;
const unsigned int accel_probe_fw_aarch64_len = sizeof(words);
