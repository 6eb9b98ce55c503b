/* Unix stream sockets named by a path: the one place that fills a
 * sockaddr_un. The QMP and guest-agent clients, the supervisor's lease
 * socket and the RemoteApp control socket use it. */
#pragma once

/* Connect to the socket at @path. @flags is 0 or SOCK_NONBLOCK: a
 * non-blocking connect to a peer that accepts no more (its backlog full)
 * fails with EAGAIN instead of waiting for ever; the returned descriptor is
 * then non-blocking too. Returns the connected descriptor (close-on-exec) or
 * -errno (-ENAMETOOLONG for a path that does not fit). */
int vd_unix_connect(const char *path, int flags);

/* Listen at @path with @backlog. The socket file is 0600 before it listens. A
 * socket file left by a process that died is replaced; one that a live
 * process still answers gives -EADDRINUSE. @flags is 0 or SOCK_NONBLOCK.
 * Returns the listening descriptor (close-on-exec) or -errno. */
int vd_unix_listen(const char *path, int backlog, int flags);
