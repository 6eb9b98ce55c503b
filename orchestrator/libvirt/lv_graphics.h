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

/* Where a running domain's first VNC display listens, as its description
 * says: a TCP @address and @port (-1: none yet, or no VNC display), a unix
 * @socket, or @none (<listen type='none'/>: only libvirt hands out
 * connections). */
typedef struct {
    char *address;
    int port;
    char *socket;
    bool none;
} LvVncEndpoint;

void lv_vnc_endpoint_clear(LvVncEndpoint *ep);
/* Fills @ep (the caller clears it) from domain description @xml; no VNC
 * display leaves it empty (port -1). Fails as lv_graphics_vnc_index does. */
bool lv_graphics_vnc_endpoint(const char *xml, LvVncEndpoint *ep, GError **error);

/* The "ADDR:PORT" that reaches @ep's TCP listener from the host it runs on
 * (a wildcard address is that host's loopback; [IPv6] in brackets), or NULL
 * with @error (VD_ERROR_NOT_FOUND) saying why SSH cannot reach it. */
char *lv_vnc_endpoint_target(const LvVncEndpoint *ep, const char *name, const char *uri,
                             GError **error);

/* Whether domain @name has a VNC display vmdesk can reach: VD_ERROR_NOT_FOUND
 * (saying what it has instead) when it has none. On this host, through
 * libvirt's file descriptor; on another (qemu+ssh://, which cannot carry
 * one), through an SSH tunnel of the same connection (lv_ssh.h) to its TCP
 * listener, which is read once the domain runs (lv_domain_open_vnc). */
bool lv_domain_check_vnc(LvConn *c, const char *name, GError **error);

/* A connected socket to domain @name's VNC server (caller closes it): on
 * this host authentication is skipped by libvirt; through SSH it is the
 * display's own (vmdesk offers none: a VNC password is refused). Not
 * running: VD_ERROR_STATE; no VNC display, or none SSH can reach (a unix
 * socket: OpenSSH 9.2's -W takes only HOST:PORT): VD_ERROR_NOT_FOUND. */
int lv_domain_open_vnc(LvConn *c, const char *name, GError **error);
