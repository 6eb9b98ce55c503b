#include "common/unix_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_addr(const char *path, struct sockaddr_un *a)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(a->sun_path))
        return -ENAMETOOLONG;
    memcpy(a->sun_path, path, n + 1);
    return 0;
}

int vd_unix_connect(const char *path, int flags)
{
    struct sockaddr_un a;
    int e = fill_addr(path, &a);
    if (e)
        return e;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (flags & SOCK_NONBLOCK), 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int vd_unix_listen(const char *path, int backlog, int flags)
{
    struct sockaddr_un a;
    int e = fill_addr(path, &a);
    if (e)
        return e;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (flags & SOCK_NONBLOCK), 0);
    if (fd < 0)
        return -errno;
    int rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
    if (rc < 0 && errno == EADDRINUSE) {
        int other = vd_unix_connect(path, SOCK_NONBLOCK);
        if (other >= 0 || other == -EAGAIN) { /* a live process holds it */
            if (other >= 0)
                close(other);
            close(fd);
            return -EADDRINUSE;
        }
        unlink(path); /* left by a process that died */
        rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
    }
    /* 0600 before it listens, so nobody else ever connects; chmod rather
     * than umask, which would change the mode of what other threads make. */
    if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, backlog) < 0) {
        e = errno;
        close(fd);
        return -e;
    }
    return fd;
}
