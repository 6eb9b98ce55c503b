#include "common/fd_io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

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
