#include "qemu/qemu_arch.h"

#include <glib.h>

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static const QemuArch arches[] = {
    [VM_ARCH_X86_64] = {
        .arch = VM_ARCH_X86_64,
        .qemu_binary = "qemu-system-x86_64",
        .qemu_env = "VMDESK_QEMU",
        .qemu_package = "qemu-system-x86",
        .machine = "q35",
        .machine_opts = "vmport=off",
        .hyperv = true,
        .secure_boot_smm = true,
        .has_bios = true,
        .tpm_device = "tpm-crb",
        /* Linux has virtio-gpu drivers; Windows has none in-box and an
         * unknown OS may have none: the standard VGA works everywhere. */
        .display_virtio = "virtio-vga",
        .display_compat = "VGA,vgamem_mb=64",
        .usb_keyboard = false,
        .cd_controller = NULL,
        .cd_device = "ide-cd",
        .cd_bus_prefix = "ide.",
        .cd_bus_shared = false,
        /* Windows Setup cannot see virtio-blk without drivers: SATA (AHCI). */
        .disk_in_box = "ide-hd,drive=disk0,bus=ide.0,bootindex=1",
        .nic_in_box = "e1000e",
        .firmware_name = "OVMF",
        .firmware_package = "ovmf",
        .firmware_env = "VMDESK_OVMF_DIR",
        .firmware_dirs = NAMES("/usr/share/OVMF", "/usr/share/edk2/ovmf", "/usr/share/edk2/x64",
                               "/usr/share/qemu"),
        .code_plain = NAMES("OVMF_CODE_4M.fd", "OVMF_CODE.fd"),
        .vars_plain = NAMES("OVMF_VARS_4M.fd", "OVMF_VARS.fd"),
        .code_sb = NAMES("OVMF_CODE_4M.secboot.fd", "OVMF_CODE.secboot.fd"),
        .vars_sb = NAMES("OVMF_VARS_4M.ms.fd", "OVMF_VARS.ms.fd", "OVMF_VARS.secboot.fd"),
    },
    [VM_ARCH_AARCH64] = {
        .arch = VM_ARCH_AARCH64,
        .qemu_binary = "qemu-system-aarch64",
        .qemu_env = "VMDESK_QEMU_AARCH64",
        .qemu_package = "qemu-system-arm",
        /* GICv3 (or the host's under KVM): more than 8 vCPUs, and what
         * Windows on Arm wants. */
        .machine = "virt",
        .machine_opts = "gic-version=max",
        .hyperv = false,
        /* AAVMF keeps its variables without SMM (there is none on Arm). */
        .secure_boot_smm = false,
        .has_bios = false,
        .tpm_device = "tpm-tis-device",
        /* Windows on Arm has no virtio-gpu driver: it keeps the firmware's
         * framebuffer, which ramfb gives it. */
        .display_virtio = "virtio-gpu-pci",
        .display_compat = "ramfb",
        .usb_keyboard = true,
        /* The virt machine has no IDE or AHCI: CDs on virtio-scsi. */
        .cd_controller = "virtio-scsi-pci,id=scsi0",
        .cd_device = "scsi-cd",
        .cd_bus_prefix = "scsi0.0",
        .cd_bus_shared = true,
        /* Windows on Arm drives NVMe in-box; its network card needs the
         * virtio-win drivers (ARM64) either way. */
        .disk_in_box = "nvme,drive=disk0,serial=disk0,bootindex=1",
        .nic_in_box = "virtio-net-pci",
        .firmware_name = "AAVMF",
        .firmware_package = "qemu-efi-aarch64",
        .firmware_env = "VMDESK_AAVMF_DIR",
        .firmware_dirs = NAMES("/usr/share/AAVMF", "/usr/share/edk2/aarch64", "/usr/share/qemu"),
        .code_plain = NAMES("AAVMF_CODE.fd", "QEMU_EFI-pflash.raw"),
        .vars_plain = NAMES("AAVMF_VARS.fd", "vars-template-pflash.raw"),
        .code_sb = NAMES("AAVMF_CODE.ms.fd"),
        .vars_sb = NAMES("AAVMF_VARS.ms.fd"),
    },
};

const QemuArch *qemu_arch_get(VmArch arch)
{
    g_assert((unsigned)arch < G_N_ELEMENTS(arches));
    return &arches[arch];
}

const char *qemu_arch_binary(VmArch arch)
{
    const QemuArch *a = qemu_arch_get(arch);
    const char *env = g_getenv(a->qemu_env);
    return env && *env ? env : a->qemu_binary;
}
