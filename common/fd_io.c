#include "common/fd_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int vd_fd_wait(int fd, short events, gint64 deadline)
{
    for (;;) {
        gint64 now = g_get_monotonic_time();
        if (now >= deadline)
            return 0;
        /* Round up: a wait of 0.4 ms must not become a busy poll(0). */
        gint64 left_ms = (deadline - now + 999) / 1000;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)MIN(left_ms, G_MAXINT));
        if (r > 0)
            return p.revents;
        if (r < 0 && errno != EINTR)
            return -errno;
    }
}

int vd_fd_send_all(int fd, const void *data, size_t len, gint64 deadline)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = vd_fd_wait(fd, POLLOUT, deadline);
            if (r == 0)
                return ETIMEDOUT;
            if (r < 0)
                return -r;
            continue;
        }
        return n < 0 ? errno : EIO;
    }
    return 0;
}

void vd_fd_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK))
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

bool vd_fd_peer_is_local(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return false;
    switch (ss.ss_family) {
    case AF_UNIX:
        /* A peer bound to a name (a path, or an abstract name): a listener
         * on this host. A socket pair's peer has none. */
        return len > offsetof(struct sockaddr_un, sun_path);
    case AF_INET: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    case AF_INET6: {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    default:
        return false;
    }
}
