/* A libvirt domain's VNC display, reached through libvirt itself
 * (virDomainOpenGraphicsFD): QEMU gets one end of a socket pair, vmdesk the
 * other, so no port or socket is opened for it. Any thread (libvirt's
 * connections are thread-safe). */
#pragma once

#include "libvirt/lv_conn.h"

/* Which of domain description @xml's <graphics> is the first VNC one (its
 * index among them), or -1 when it has none. *@first_type (may be NULL):
 * the type of its first <graphics> of any kind, or NULL when it has none
 * (newly allocated). False with @error (VD_ERROR_PROTOCOL) when @xml is not
 * a domain description. */
bool lv_graphics_vnc_index(const char *xml, int *index, char **first_type, GError **error);

/* Whether domain @name has a VNC display vmdesk can reach: VD_ERROR_NOT_FOUND
 * (saying what it has instead) when it has none, VD_ERROR_FAILED on a
 * connection to another host (qemu+ssh://: no file descriptors through SSH). */
bool lv_domain_check_vnc(LvConn *c, const char *name, GError **error);

/* A connected socket to domain @name's VNC server, authentication already
 * skipped (caller closes it). Not running: VD_ERROR_STATE; no VNC display:
 * VD_ERROR_NOT_FOUND. */
int lv_domain_open_vnc(LvConn *c, const char *name, GError **error);
