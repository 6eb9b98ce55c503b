#include "vm/vm_lease.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "common/unix_socket.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ANSWER_MAX 1024

static int connect_control(const char *name, GError **error)
{
    g_autofree char *path = vm_runtime_path(name, VM_LEASE_SOCKET);
    int fd = vd_unix_connect(path, 0);
    if (fd == -ENAMETOOLONG) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the socket path %s is too long", path);
        return -1;
    }
    if (fd < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "VM \"%s\" has no supervisor to talk to (%s: %s); is it running?", name, path,
                    g_strerror(-fd));
        return -1;
    }
    vd_fd_set_nonblocking(fd);
    return fd;
}

/* Send @line, read the one-line answer. */
static bool exchange(int fd, const char *name, const char *line, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)VM_LEASE_TIMEOUT_MS * 1000;
    int e = vd_fd_send_all(fd, line, strlen(line), deadline);
    if (e) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "cannot talk to the supervisor of VM \"%s\": %s", name, g_strerror(e));
        return false;
    }
    char buf[ANSWER_MAX];
    size_t n = 0;
    while (n < sizeof(buf) - 1 && !memchr(buf, '\n', n)) {
        if (vd_fd_wait(fd, POLLIN, deadline) <= 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                        "the supervisor of VM \"%s\" did not answer within %d s", name,
                        VM_LEASE_TIMEOUT_MS / 1000);
            return false;
        }
        ssize_t got = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                        "the supervisor of VM \"%s\" closed the connection (it is stopping)",
                        name);
            return false;
        }
        n += (size_t)got;
    }
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    if (!strcmp(buf, "ok"))
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_VM, "the supervisor of VM \"%s\": %s", name,
                g_str_has_prefix(buf, "error ") ? buf + 6 : buf);
    return false;
}

static int lease(const char *name, const char *kind, const char *who, GError **error)
{
    int fd = connect_control(name, error);
    if (fd < 0)
        return -1;
    /* WHO is ours, but keep the line one line whatever a caller passes. */
    g_autofree char *w = g_strdup(who);
    g_strcanon(w, "abcdefghijklmnopqrstuvwxyz0123456789-_ ", '_');
    g_autofree char *line = g_strdup_printf("%s %s\n", kind, w);
    if (!exchange(fd, name, line, error)) {
        close(fd);
        return -1;
    }
    return fd;
}

int vm_lease_use(const char *name, const char *who, GError **error)
{
    return lease(name, "use", who, error);
}

int vm_lease_hold(const char *name, const char *who, GError **error)
{
    return lease(name, "hold", who, error);
}

bool vm_lease_reload(const char *name, GError **error)
{
    int fd = connect_control(name, error);
    if (fd < 0)
        return false;
    bool ok = exchange(fd, name, "reload\n", error);
    close(fd);
    return ok;
}
