/* What a libvirt domain is, read from its XML for `vmdesk show`: the same
 * facts vmdesk shows of its own VMs (architecture, memory, CPUs, firmware,
 * TPM, disks, CD, displays, guest agent). Pure; any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char *arch;          /* "x86_64", "aarch64" ... */
    char *machine;       /* as libvirt expanded it ("pc-q35-7.2") */
    char *type;          /* domain type: "kvm", "qemu" */
    uint64_t memory;     /* bytes */
    unsigned cpus;
    bool uefi, secure_boot, tpm;
    char **disks;        /* "vda /path" or "vda pool/volume" per disk, NULL-terminated */
    bool have_cd;
    char *cd;            /* its medium, NULL: empty */
    char *cd_dev, *cd_bus; /* its target ("sda", "sata") */
    char *graphics;      /* the first display's type ("vnc", "spice"), NULL: none */
    bool agent;          /* an org.qemu.guest_agent.0 channel */
    char *kernel, *initrd, *cmdline;
} LvDescription;

void lv_description_free(LvDescription *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvDescription, lv_description_free)

/* Read domain description @xml. VD_ERROR_PROTOCOL when it is not one. */
LvDescription *lv_describe(const char *xml, GError **error);
