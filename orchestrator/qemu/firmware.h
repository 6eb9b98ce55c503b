/* Locating the UEFI firmware Debian installs for each architecture: OVMF
 * (package ovmf) for x86_64, AAVMF (package qemu-efi-aarch64) for aarch64.
 * The file names and folders are in the architecture table (qemu_arch.c). */
#pragma once

#include "vm/vm_config.h"

#include <glib.h>
#include <stdbool.h>

/* Find @arch's code image and variable-store template. With @secure_boot,
 * the Secure Boot build and the template with Microsoft's keys enrolled.
 * The folder the table's environment variable names ($VMDESK_OVMF_DIR,
 * $VMDESK_AAVMF_DIR), when set, is searched first. Caller frees both. */
bool firmware_find_uefi(VmArch arch, bool secure_boot, char **code, char **vars_template,
                        GError **error);
