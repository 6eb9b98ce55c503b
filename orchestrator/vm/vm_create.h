/* vmdesk create: makes a new VM in the store. It sits above the store and
 * the overlay code (a VM made on a base gets its overlay here), so the store
 * itself never calls storage/. Blocking (runs qemu-img); any thread. */
#pragma once

#include "vm/vm_config.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t disk_size;        /* 0: no disk */
    const char *import_disk;   /* convert this image into the VM's disk instead */
    const char *base;          /* absolute: the VM's disk is copied from this image, or with
                                  @overlay is a qcow2 overlay on it (the base stays read-only) */
    bool overlay;
    bool overcommit;           /* a new disk may be larger than the free space (sparse); else
                                  VD_ERROR_NO_SPACE (exit 7) with the numbers */
} VmCreateOptions;

/* Create the VM: folder, disk (new qcow2 or imported), UEFI vars copy, TPM
 * folder, a free RDP port, then the config. On failure nothing is left
 * behind. @cfg->rdp_port 0 means pick one; @cfg is updated. */
bool vm_create(VmConfig *cfg, const VmCreateOptions *opts, GError **error);
