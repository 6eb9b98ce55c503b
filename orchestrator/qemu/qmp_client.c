#include "qemu/qmp_client.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "qemu/json_lines.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct QmpClient {
    int fd;
    JsonLines *lines;      /* framing of what QEMU sends */
    GQueue replies;        /* JsonObject* replies (return/error) not yet claimed */
    guint64 next_id;
    char *version;
    bool greeted;
    bool broken;           /* EOF or protocol error seen; further use fails */
    GError *broken_error;
    QmpEventFunc event_func;
    void *event_data;
};

static bool handle_message(JsonObject *obj, void *user_data, GError **error);

QmpClient *qmp_client_new_fd(int fd)
{
    QmpClient *c = g_new0(QmpClient, 1);
    c->fd = fd;
    c->lines = json_lines_new("QMP", QMP_MESSAGE_MAX, handle_message, c);
    g_queue_init(&c->replies);
    c->next_id = 1;
    vd_fd_set_nonblocking(fd);
    return c;
}

void qmp_client_destroy(QmpClient *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    json_lines_destroy(c->lines);
    g_queue_clear_full(&c->replies, (GDestroyNotify)json_object_unref);
    g_free(c->version);
    g_clear_error(&c->broken_error);
    g_free(c);
}

QmpClient *qmp_client_connect_unix(const char *path, int timeout_ms, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "socket path too long: %s", path);
        return NULL;
    }
    strcpy(addr.sun_path, path);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "socket: %s", g_strerror(errno));
            return NULL;
        }
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            return qmp_client_new_fd(fd);
        int e = errno;
        close(fd);
        if ((e != ENOENT && e != ECONNREFUSED) || g_get_monotonic_time() >= deadline) {
            g_set_error(error, VD_ERROR, e == ENOENT ? VD_ERROR_NOT_FOUND : VD_ERROR_VM,
                        "cannot connect to QMP socket %s: %s", path, g_strerror(e));
            return NULL;
        }
        g_usleep(20 * 1000);
    }
}

void qmp_client_set_event_handler(QmpClient *c, QmpEventFunc func, void *user_data)
{
    c->event_func = func;
    c->event_data = user_data;
}

int qmp_client_get_fd(QmpClient *c)
{
    return c->fd;
}

const char *qmp_client_qemu_version(QmpClient *c)
{
    return c->version;
}

/* Mark the client broken with @e (taken): a stream with a framing error
 * cannot be resynced. */
static bool fail_with(QmpClient *c, GError **error, GError *e)
{
    if (!c->broken) {
        c->broken = true;
        c->broken_error = g_error_copy(e);
    }
    g_propagate_error(error, e);
    return false;
}

static bool fail(QmpClient *c, GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static bool fail(QmpClient *c, GError **error, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return fail_with(c, error, g_error_new_literal(VD_ERROR, code, msg));
}

static void parse_greeting(QmpClient *c, JsonObject *qmp)
{
    JsonObject *q = json_member_object(json_member_object(qmp, "version"), "qemu");
    if (q) {
        gint64 v[3] = {0, 0, 0};
        json_member_int(q, "major", &v[0]);
        json_member_int(q, "minor", &v[1]);
        json_member_int(q, "micro", &v[2]);
        g_free(c->version);
        c->version = g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT,
                                     v[0], v[1], v[2]);
    }
    c->greeted = true;
}

/* One message from QEMU (json_lines.h checked and parsed it). */
static bool handle_message(JsonObject *obj, void *user_data, GError **error)
{
    QmpClient *c = user_data;
    if (json_object_has_member(obj, "QMP")) {
        JsonObject *qmp = json_member_object(obj, "QMP");
        if (!qmp) {
            g_set_error_literal(error, VD_ERROR, VD_ERROR_PROTOCOL, "QMP greeting is malformed");
            return false;
        }
        parse_greeting(c, qmp);
    } else if (json_object_has_member(obj, "event")) {
        const char *ev = json_member_string(obj, "event");
        if (!ev) {
            g_set_error_literal(error, VD_ERROR, VD_ERROR_PROTOCOL, "QMP event without a name");
            return false;
        }
        if (c->event_func)
            c->event_func(ev, json_member_object(obj, "data"), c->event_data);
    } else if (json_object_has_member(obj, "return") || json_object_has_member(obj, "error")) {
        g_queue_push_tail(&c->replies, json_object_ref(obj));
    } else {
        g_set_error_literal(error, VD_ERROR, VD_ERROR_PROTOCOL,
                            "QMP sent an unknown kind of message");
        return false;
    }
    return true;
}

bool qmp_client_feed(QmpClient *c, const char *data, size_t len, GError **error)
{
    if (c->broken) {
        g_set_error_literal(error, VD_ERROR, c->broken_error->code, c->broken_error->message);
        return false;
    }
    GError *local = NULL;
    if (!json_lines_feed(c->lines, data, len, &local))
        return fail_with(c, error, local);
    return true;
}

/* Read once (after poll says readable, or opportunistically). Returns false on
 * EOF or error; true if nothing (more) is available. */
static bool read_some(QmpClient *c, GError **error)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n > 0) {
            if (!qmp_client_feed(c, buf, (size_t)n, error))
                return false;
            continue;
        }
        if (n == 0)
            return fail(c, error, VD_ERROR_PROTOCOL, "QEMU closed the QMP connection");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return true;
        return fail(c, error, VD_ERROR_PROTOCOL, "reading QMP: %s", g_strerror(errno));
    }
}

bool qmp_client_read_events(QmpClient *c, GError **error)
{
    return read_some(c, error);
}

static bool wait_fd(QmpClient *c, short events, gint64 deadline, const char *what, GError **error)
{
    int r = vd_fd_wait(c->fd, events, deadline);
    if (r > 0)
        return true;
    if (r == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "QEMU did not answer %s in time", what);
        return false;
    }
    return fail(c, error, VD_ERROR_PROTOCOL, "poll: %s", g_strerror(-r));
}

static bool write_all(QmpClient *c, const char *data, gsize len, gint64 deadline,
                      const char *what, GError **error)
{
    int e = vd_fd_send_all(c->fd, data, len, deadline);
    if (e == ETIMEDOUT) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "QEMU did not take %s in time", what);
        return false;
    }
    if (e)
        return fail(c, error, VD_ERROR_PROTOCOL, "writing QMP: %s", g_strerror(e));
    return true;
}

bool qmp_client_handshake(QmpClient *c, int timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!c->greeted) {
        if (!wait_fd(c, POLLIN, deadline, "the greeting", error) || !read_some(c, error))
            return false;
    }
    g_autoptr(JsonNode) r = qmp_client_execute(c, "qmp_capabilities", NULL, timeout_ms, error);
    return r != NULL;
}

static JsonObject *take_reply(QmpClient *c, const char *id)
{
    for (GList *l = c->replies.head; l; l = l->next) {
        JsonObject *o = l->data;
        /* QEMU answers a request it could not parse without an id: with one
         * request in flight, that answer is ours. An id that is not a
         * string is nobody's. */
        if (!json_object_has_member(o, "id") || g_strcmp0(json_member_string(o, "id"), id) == 0) {
            g_queue_delete_link(&c->replies, l);
            return o;
        }
    }
    return NULL;
}

static int map_error_class(const char *cls)
{
    if (!g_strcmp0(cls, "CommandNotFound") || !g_strcmp0(cls, "DeviceNotFound"))
        return VD_ERROR_NOT_FOUND;
    return VD_ERROR_VM;
}

JsonNode *qmp_client_execute(QmpClient *c, const char *command, JsonObject *args,
                             int timeout_ms, GError **error)
{
    g_autoptr(JsonObject) owned_args = args;
    if (c->broken) {
        g_set_error_literal(error, VD_ERROR, c->broken_error->code, c->broken_error->message);
        return NULL;
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autofree char *id = g_strdup_printf("vd-%" G_GUINT64_FORMAT, c->next_id++);
    g_autoptr(JsonObject) req = json_object_new();
    json_object_set_string_member(req, "execute", command);
    if (owned_args)
        json_object_set_object_member(req, "arguments", g_steal_pointer(&owned_args));
    json_object_set_string_member(req, "id", id);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), req);
    g_autofree char *text = json_to_string(node, FALSE);
    g_autofree char *line = g_strconcat(text, "\n", NULL);
    if (!write_all(c, line, strlen(line), deadline, command, error))
        return NULL;

    g_autoptr(JsonObject) reply = NULL;
    while (!(reply = take_reply(c, id))) {
        if (!wait_fd(c, POLLIN, deadline, command, error))
            return NULL;
        g_autoptr(GError) local = NULL;
        if (!read_some(c, &local)) {
            /* The reply may have come just before the end of the stream
             * (QEMU closes the monitor right after answering quit). */
            if ((reply = take_reply(c, id)))
                break;
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
    }
    if (json_object_has_member(reply, "error")) {
        JsonObject *e = json_member_object(reply, "error");
        const char *cls = json_member_string(e, "class") ? json_member_string(e, "class") : "";
        const char *desc = json_member_string(e, "desc");
        g_set_error(error, VD_ERROR, map_error_class(cls), "QEMU refused %s: %s", command,
                    desc && *desc ? desc : cls);
        return NULL;
    }
    return json_node_copy(json_object_get_member(reply, "return"));
}
