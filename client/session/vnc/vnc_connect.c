/* Connecting to a VNC server, in the window process: the helper that runs
 * libvncclient gets the connected socket and can make none itself. */
#include "session/vnc/vnc_priv.h"

#include "common/error.h"
#include "session/helper/helper.h"

#include <errno.h>
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

int vnc_connect(const VncTarget *target, GError **error)
{
    if (target->open_fd)
        return target->open_fd(target->open_data, error);
    g_autofree char *where = vnc_target_where(target);
    int err = 0;
    int fd = target->socket_path ? connect_unix(target->socket_path, &err)
                                 : helper_connect_tcp(target->host, target->port, CONNECT_TIMEOUT_S,
                                                    "VNC server", &err, error);
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
