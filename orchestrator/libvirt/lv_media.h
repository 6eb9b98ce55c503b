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

