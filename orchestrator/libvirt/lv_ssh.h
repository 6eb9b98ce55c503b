/* Reaching what a remote libvirt host has on its own side (a domain's VNC
 * listener, its guest's RDP port) through SSH with the same parameters as
 * libvirt's qemu+ssh:// transport: user, host, port, keyfile, known_hosts,
 * no_verify and no_tty from the URI. `ssh -W HOST:PORT` from an argv (never a
 * shell string), its standard input and output one end of a socket pair
 * whose other end goes to the program (VNC, FreeRDP through its TCPConnect
 * callback, the RDP probe), so nothing listens on this host for it. The
 * tunnels to one user, host and port share one SSH login (OpenSSH's
 * ControlMaster, its socket in vmdesk's 0700 runtime folder), which lasts
 * LV_SSH_PERSIST_S seconds after the last tunnel ends. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define LV_SSH_PERSIST_S 10
/* Hex digits of the SHA-256 of USER@HOST:PORT in a ControlPath. */
#define LV_SSH_HASH_LEN 16

/* Whether @uri reaches the libvirt of this host (no host, no transport but
 * unix): what it reports as an address is reachable from here. */
bool lv_uri_is_local(const char *uri);

/* Whether @uri reaches libvirt through SSH (qemu+ssh://, qemu+libssh://,
 * qemu+libssh2://) rather than this host's socket or TLS/TCP. */
bool lv_uri_is_ssh(const char *uri);

/* The ControlPath of @uri's shared SSH login in folder @dir:
 * "@dir/ssh-HASH" (HASH: LV_SSH_HASH_LEN hex digits of the SHA-256 of
 * USER@HOST:PORT, port 22 when the URI has none), newly allocated; NULL when
 * @dir is NULL or the path (and ssh's temporary name beside it) would not
 * fit a unix socket address. Pure. */
char *lv_ssh_control_path(const char *uri, const char *dir);

/* The argv of `ssh ... -W @target HOST` for libvirt URI @uri (newly
 * allocated), @target being "ADDR:PORT" as the remote host sees it; the login
 * shared through lv_ssh_control_path(@uri, @share_dir) unless that is NULL.
 * Fails (VD_ERROR_INVALID) when @uri is not an SSH one, or its host or user
 * could be taken for an option. Pure; any thread. */
GStrv lv_ssh_argv(const char *uri, const char *target, const char *share_dir, GError **error);

/* lv_ssh_argv sharing the login in vmdesk's runtime folder (created here;
 * without sharing when it cannot be). Any thread. */
GStrv lv_ssh_tunnel_argv(const char *uri, const char *target, GError **error);

/* A connected socket to @target on @uri's host through a new ssh process
 * (vd_spawn_tunnel: the caller closes it; ssh then ends). ssh's own
 * complaints (refused key, no route, "connect failed") go to our standard
 * error; the socket then just closes. Fails when ssh cannot be started. Any
 * thread. */
int lv_ssh_open(const char *uri, const char *target, GError **error);
