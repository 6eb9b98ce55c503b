/* What differs between guest architectures, in one table: the QEMU binary,
 * the machine, the devices the argv builder picks, the UEFI firmware files
 * and how KVM is probed. Everything else in vmdesk is the same for every
 * architecture. Pure data; any thread. */
#pragma once

#include "vm/vm_config.h"

#include <stdbool.h>

typedef struct {
    VmArch arch;
    const char *qemu_binary;      /* default binary, looked up in PATH */
    const char *qemu_env;         /* environment variable that overrides it */
    const char *qemu_package;     /* the Debian package that has it */
    const char *machine;          /* -machine type */
    const char *machine_opts;     /* its options, "k=v,..." (always given) */
    bool hyperv;                  /* Windows under KVM gets Hyper-V enlightenments */
    bool secure_boot_smm;         /* Secure Boot firmware needs SMM and a secure pflash */
    bool has_bios;                /* firmware=bios boots a BIOS; else it means no firmware
                                     at all (direct kernel boot only) */
    const char *tpm_device;       /* the TPM front end for swtpm */
    const char *display_virtio;   /* Linux guests: a virtio GPU */
    const char *display_compat;   /* other guests: what their firmware and OS drive in-box */
    bool usb_keyboard;            /* no PS/2 keyboard on the machine: usb-kbd on the xHCI */
    const char *cd_controller;    /* a controller the CD drives need first, or NULL */
    const char *cd_device;        /* the CD drive */
    const char *cd_bus_prefix;    /* drive N's bus: prefix + N (ide.1) ... */
    bool cd_bus_shared;           /* ... or the prefix alone for every drive (scsi0.0) */
    const char *disk_in_box;      /* Windows without virtio drivers: the -device of a disk
                                     Setup drives in-box, on node disk0 */
    const char *nic_in_box;       /* ... and the model of its network card */
    /* UEFI: Debian's firmware package, the folders searched (after the
     * environment variable @firmware_env names), the code images and the
     * variable-store templates; Secure Boot (Microsoft keys) after. */
    const char *firmware_name;
    const char *firmware_package;
    const char *firmware_env;
    const char *const *firmware_dirs;
    const char *const *code_plain, *const *vars_plain, *const *code_sb, *const *vars_sb;
} QemuArch;

/* The entry of @arch; never NULL. */
const QemuArch *qemu_arch_get(VmArch arch);

/* The QEMU binary for @arch: the override in the environment, else the
 * default name. Not allocated. */
const char *qemu_arch_binary(VmArch arch);
