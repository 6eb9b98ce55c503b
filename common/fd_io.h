/* Waiting on a non-blocking file descriptor against a deadline: the one
 * poll loop that the QMP client, the guest-agent client and the RDP probe
 * share. Deadlines are g_get_monotonic_time() values (microseconds). Any
 * thread; blocking for at most the time left. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* Make @fd non-blocking and close-on-exec. */
void vd_fd_set_nonblocking(int fd);

/* Wait until @fd has one of @events (POLLIN, POLLOUT) or the deadline passes.
 * Returns the revents (> 0; may be POLLERR or POLLHUP only), 0 when the
 * deadline passed, or -errno when poll failed. EINTR is retried. */
int vd_fd_wait(int fd, short events, gint64 deadline);

/* Send all of @data on the socket @fd (non-blocking, MSG_NOSIGNAL), waiting
 * for room until the deadline. Returns 0, ETIMEDOUT, or the errno of the
 * failed send or poll. */
int vd_fd_send_all(int fd, const void *data, size_t len, gint64 deadline);

/* Whether the peer of the connected socket @fd is on this host: a unix
 * socket connected to a named path, or TCP to 127.0.0.0/8, ::1 or a
 * v4-mapped loopback address. An unnamed unix peer (a socket pair, e.g.
 * `ssh -W` or a descriptor libvirt hands over) may lead anywhere: false,
 * as for every other address and on error. */
bool vd_fd_peer_is_local(int fd);
