/* Internals of orchestrator/libvirt shared by its files. */
#pragma once

#include "libvirt/lv_conn.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

struct LvConn {
    virConnectPtr conn;
    char *uri;
};

/* Set @error from libvirt's last error on this thread, prefixed by @what
 * ("cannot start domain \"x\""), mapping libvirt's codes to vmdesk's (no
 * domain -> NOT_FOUND, invalid operation -> STATE, else FAILED). */
void lv_set_error(GError **error, const char *what, ...) G_GNUC_PRINTF(2, 3);

/* Domain @name of @c (caller frees it with virDomainFree), or NULL with
 * @error: "no domain" (VD_ERROR_NOT_FOUND) or why libvirt could not tell. */
virDomainPtr lv_lookup(LvConn *c, const char *name, GError **error);
