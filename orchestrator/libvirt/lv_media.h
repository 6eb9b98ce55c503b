/* A libvirt domain's CD drive and its picture, through libvirt's own calls:
 * virDomainUpdateDeviceFlags changes the medium (at once while the domain
 * runs, and in its definition), virDomainScreenshot streams QEMU's
 * screendump. Main thread; @c is borrowed. */
#pragma once

#include "libvirt/lv_conn.h"
#include "libvirt/lv_describe.h"

#include <stdint.h>

/* What domain @name is, as its XML (the live one while it runs) says
 * (caller frees), or NULL with @error. */
LvDescription *lv_domain_describe(LvConn *c, const char *name, GError **error);

/* Put image @path (a file on the daemon's host; absolute) in domain @name's
 * first CD drive, or take the medium out (@path NULL). *@live: the running
 * domain changed at once (else from its next start). No CD drive:
 * VD_ERROR_NOT_FOUND. */
bool lv_cdrom_change(LvConn *c, const char *name, const char *path, bool *live, GError **error);

/* @name's first screen as libvirt streams it (QEMU's screendump): *@data
 * and its type *@mime ("image/png" or "image/x-portable-pixmap"; newly
 * allocated). Not running: VD_ERROR_STATE; more than 64 MiB:
 * VD_ERROR_PROTOCOL. */
bool lv_screenshot(LvConn *c, const char *name, GBytes **data, char **mime, GError **error);

/* Parse binary PPM @data (P6, maxval 255) into *@pixels (0x00RRGGBB,
 * row-major, g_free) of *@w x *@h. VD_ERROR_PROTOCOL when it is not one, is
 * cut short, or is larger than 16384 x 16384. */
bool lv_ppm_parse(const uint8_t *data, size_t len, uint32_t **pixels, int *w, int *h,
                  GError **error);
