/* Connecting to a VNC server, in the window process: the helper that runs
 * libvncclient gets the connected socket and can make none itself. */
#include "session/vnc/vnc_priv.h"

#include "common/error.h"
#include "common/unix_socket.h"
#include "session/helper/helper.h"

#include <errno.h>

#define CONNECT_TIMEOUT_S 10

int vnc_connect(const VncTarget *target, GError **error)
{
    if (target->open_fd)
        return target->open_fd(target->open_data, error);
    g_autofree char *where = vnc_target_where(target);
    int err = 0;
    int fd = target->socket_path ? vd_unix_connect(target->socket_path, 0)
                                 : helper_connect_tcp(target->host, target->port, CONNECT_TIMEOUT_S,
                                                    "VNC server", &err, error);
    if (target->socket_path && fd < 0) {
        err = -fd;
        fd = -1;
    }
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
