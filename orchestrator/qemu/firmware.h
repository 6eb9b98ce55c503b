/* Locating the UEFI firmware (OVMF) that Debian's ovmf package installs. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Find the code image and the variable-store template. With @secure_boot,
 * the Secure Boot build and the template with Microsoft's keys enrolled.
 * $VMDESK_OVMF_DIR, when set, is searched first. Caller frees both. */
bool firmware_find_ovmf(bool secure_boot, char **code, char **vars_template, GError **error);
