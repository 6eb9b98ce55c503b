/* Connecting to a VNC server, in the window process: the helper that runs
 * libvncclient gets the connected socket and can make none itself. */
#include "session/vnc/vnc_priv.h"

#include "common/error.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_S 10

static int connect_unix(const char *path, int *err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(a.sun_path)) {
        *err = ENAMETOOLONG;
        return -1;
    }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        *err = errno;
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int connect_tcp(const char *host, int port, int *err, GError **error)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    char service[16];
    g_snprintf(service, sizeof(service), "%d", port);
    int r = getaddrinfo(host, service, &hints, &res);
    if (r != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "cannot find the VNC server %s: %s",
                    host, gai_strerror(r));
        return -1;
    }
    int fd = -1;
    *err = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        /* connect() honours the send timeout. */
        struct timeval tv = {.tv_sec = CONNECT_TIMEOUT_S};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            *err = errno;
            close(fd);
            fd = -1;
            continue;
        }
        struct timeval none = {0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    freeaddrinfo(res);
    return fd;
}

int vnc_connect(const VncTarget *target, GError **error)
{
    if (target->open_fd)
        return target->open_fd(target->open_data, error);
    g_autofree char *where = vnc_target_where(target);
    int err = 0;
    int fd = target->socket_path ? connect_unix(target->socket_path, &err)
                                 : connect_tcp(target->host, target->port, &err, error);
    if (fd >= 0 || (error && *error))
        return fd;
    if (err == ECONNREFUSED || err == ENOENT)
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "nothing accepts VNC connections at %s; is the server running?", where);
    else
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot connect to the VNC server at %s: %s",
                    where, g_strerror(err));
    return -1;
}
