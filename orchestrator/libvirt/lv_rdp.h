/* Where a libvirt domain's RDP service answers, as seen from the host
 * libvirt runs on: a user-mode port forward to the guest's port 3389 in the
 * domain's qemu:commandline (hostfwd=tcp:ADDR:PORT-:3389), else the address
 * of a DHCP lease of libvirt's own networks (virDomainInterfaceAddresses,
 * SRC_LEASE), else the address the guest agent reports (SRC_AGENT), port
 * 3389; an address from the guest is hostile (lv_rdp_guest_address). On another host it is reached through SSH (lv_ssh.h). Main thread
 * (or any thread: libvirt's connections are thread-safe). */
#pragma once

#include "libvirt/lv_conn.h"

#define LV_RDP_GUEST_PORT 3389

/* The first user-mode forward to guest port @guest_port among domain
 * description @xml's <qemu:commandline> arguments: its host address
 * (*@host, newly allocated; an empty or wildcard one is 127.0.0.1) and
 * port. False when there is none or @xml is not XML. Pure. */
bool lv_rdp_hostfwd(const char *xml, unsigned guest_port, char **host, unsigned *port);

/* @text as the canonical dotted form of a unicast IPv4 address that is not
 * "this host" (0/8), loopback (127/8), link-local (169.254/16), multicast or
 * reserved (224/3, with broadcast), newly allocated; else NULL. Names,
 * IPv6, paths ("/..." is a unix socket to FreeRDP), "|fd" and any other
 * text are refused. Pure. */
char *lv_rdp_guest_address(const char *text);

/* Domain @name's RDP address on its host (*@host newly allocated, *@port)
 * and how it was found (*@how: "hostfwd", "DHCP lease", "guest agent";
 * static). Not running: VD_ERROR_STATE; none found: VD_ERROR_NOT_FOUND
 * saying what was tried. */
bool lv_domain_rdp_address(LvConn *c, const char *name, char **host, unsigned *port,
                           const char **how, GError **error);

/* Domain @name's UUID (newly allocated), or NULL with @error. */
char *lv_domain_uuid(LvConn *c, const char *name, GError **error);

/* The host part of libvirt URI @uri, "localhost" when it has none (newly
 * allocated). */
char *lv_uri_host(const char *uri);

/* Which host @uri reaches, for keys (certificate pins, socket names):
 * lv_uri_host with the URI's port after a colon ("[ADDR]:PORT" for IPv6)
 * unless it has none or names SSH's 22, so two hosts behind one address on
 * different ports are told apart. Newly allocated. */
char *lv_uri_host_key(const char *uri);

/* "@prefix-HASH.sock": a socket file name for domain @uuid of @uri's host
 * (HASH: 24 hex digits of the SHA-256 of lv_uri_host_key and @uuid), short
 * whatever the host name's length. Newly allocated; pure. */
char *lv_domain_socket_name(const char *prefix, const char *uri, const char *uuid);
