/* Reaching what a remote libvirt host has on its own side (a domain's VNC
 * listener, its guest's RDP port) through SSH with the same parameters as
 * libvirt's qemu+ssh:// transport: user, host, port, keyfile, known_hosts,
 * no_verify and no_tty from the URI. `ssh -W HOST:PORT` from an argv (never a
 * shell string), its standard input and output one end of a socket pair, so
 * nothing listens on this host for it; lv_relay gives RDP, which connects
 * by address, a listener on 127.0.0.1 that does that per connection. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Whether @uri reaches the libvirt of this host (no host, no transport but
 * unix): what it reports as an address is reachable from here. */
bool lv_uri_is_local(const char *uri);

/* Whether @uri reaches libvirt through SSH (qemu+ssh://, qemu+libssh://,
 * qemu+libssh2://) rather than this host's socket or TLS/TCP. */
bool lv_uri_is_ssh(const char *uri);

/* The argv of `ssh ... -W @target HOST` for libvirt URI @uri (newly
 * allocated), @target being "ADDR:PORT" as the remote host sees it. Fails
 * (VD_ERROR_INVALID) when @uri is not an SSH one, or its host or user could
 * be taken for an option. Pure; any thread. */
GStrv lv_ssh_argv(const char *uri, const char *target, GError **error);

/* A connected socket to @target on @uri's host through a new ssh process
 * (the caller closes it; ssh then ends and is reaped by a thread of ours).
 * ssh's own complaints (refused key, no route, "connect failed") go to our
 * standard error; the socket then just closes. Fails when ssh cannot be
 * started. Any thread. */
int lv_ssh_open(const char *uri, const char *target, GError **error);

/* A listener on 127.0.0.1 (an ephemeral port) that joins every connection
 * it accepts to @target on @uri's host through lv_ssh_open: for programs
 * that take an address, not a socket (FreeRDP, the RDP probe). Runs on its
 * own thread until freed. */
typedef struct LvRelay LvRelay;

LvRelay *lv_relay_new(const char *uri, const char *target, GError **error);
/* Its port on 127.0.0.1. */
unsigned lv_relay_port(const LvRelay *r);
/* Stop listening; connections already joined stay until either end closes.
 * Accepts NULL. */
void lv_relay_free(LvRelay *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvRelay, lv_relay_free)
