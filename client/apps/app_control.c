#include "apps/app_control.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "common/json_build.h"
#include "common/log.h"
#include "common/unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE 65536
#define READ_TIMEOUT_US (5 * G_USEC_PER_SEC)

struct AppControl {
    char *path;
    int listen_fd;
    int wake[2];            /* a pipe: stop the thread */
    GThread *thread;
    GAsyncQueue *requests;  /* AppRequest* */
    AppControlNotify notify;
    void *notify_data;
};

static void request_free(AppRequest *r)
{
    if (!r)
        return;
    g_free(r->program);
    g_free(r->args);
    g_free(r->wm_class);
    g_free(r);
}

/* Read one line (without its newline) before @deadline. */
static char *read_line(int fd, gint64 deadline)
{
    GString *s = g_string_new(NULL);
    for (;;) {
        int ev = vd_fd_wait(fd, POLLIN, deadline);
        if (ev <= 0)
            break;
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            break;
        g_string_append_len(s, buf, n);
        char *nl = memchr(s->str, '\n', s->len);
        if (nl) {
            g_string_truncate(s, (gsize)(nl - s->str));
            return g_string_free(s, FALSE);
        }
        if (s->len > MAX_LINE)
            break;
    }
    g_string_free(s, TRUE);
    return NULL;
}

static const char *member_string(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

static AppRequest *parse_request(const char *line)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, line, -1, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return NULL;
    JsonObject *o = json_node_get_object(root);
    const char *program = member_string(o, "program");
    if (!program || !*program)
        return NULL;
    AppRequest *r = g_new0(AppRequest, 1);
    r->program = g_strdup(program);
    r->args = g_strdup(member_string(o, "args"));
    r->wm_class = g_strdup(member_string(o, "class"));
    return r;
}

static void send_json(int fd, JsonBuilder *b)
{
    g_autofree char *text = vd_json_builder_to_string(b);
    g_autofree char *line = g_strconcat(text, "\n", NULL);
    vd_fd_send_all(fd, line, strlen(line), g_get_monotonic_time() + READ_TIMEOUT_US);
}

static gpointer listen_main(gpointer data)
{
    AppControl *c = data;
    for (;;) {
        struct pollfd p[2] = {{.fd = c->listen_fd, .events = POLLIN},
                              {.fd = c->wake[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            continue;
        g_autofree char *line = read_line(fd, g_get_monotonic_time() + READ_TIMEOUT_US);
        AppRequest *r = line ? parse_request(line) : NULL;
        if (!r) {
            GError *e = g_error_new(VD_ERROR, VD_ERROR_INVALID, "malformed launch request");
            AppRequest bad = {.fd = fd};
            app_control_reply(g_memdup2(&bad, sizeof(bad)), e);
            g_error_free(e);
            continue;
        }
        r->fd = fd;
        vd_debug("app: launch request for %s", r->program);
        g_async_queue_push(c->requests, r);
        if (c->notify)
            c->notify(c->notify_data);
    }
    return NULL;
}

static int try_connect(const char *path)
{
    int fd = vd_unix_connect(path, 0);
    if (fd >= 0)
        vd_fd_set_nonblocking(fd);
    return fd;
}

AppControl *app_control_listen(const char *path, AppControlNotify notify, void *data,
                               GError **error)
{
    int fd = vd_unix_listen(path, 8, 0);
    if (fd == -EADDRINUSE) /* a live session holds it */
        return NULL;
    if (fd < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot listen on %s: %s", path,
                    fd == -ENAMETOOLONG ? "the path is too long" : g_strerror(-fd));
        return NULL;
    }
    AppControl *c = g_new0(AppControl, 1);
    c->path = g_strdup(path);
    c->listen_fd = fd;
    if (pipe2(c->wake, O_CLOEXEC) < 0) {
        close(fd);
        unlink(path);
        g_free(c->path);
        g_free(c);
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "pipe: %s", g_strerror(errno));
        return NULL;
    }
    c->requests = g_async_queue_new();
    c->notify = notify;
    c->notify_data = data;
    c->thread = g_thread_new("app-control", listen_main, c);
    return c;
}

AppRequest *app_control_next(AppControl *c)
{
    return c ? g_async_queue_try_pop(c->requests) : NULL;
}

void app_control_reply(AppRequest *req, const GError *error)
{
    if (!req)
        return;
    if (req->fd >= 0) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        if (error) {
            json_builder_set_member_name(b, "error");
            json_builder_add_string_value(b, error->message);
            json_builder_set_member_name(b, "code");
            json_builder_add_int_value(b, error->domain == VD_ERROR ? error->code : VD_ERROR_FAILED);
        } else {
            json_builder_set_member_name(b, "ok");
            json_builder_add_boolean_value(b, TRUE);
        }
        json_builder_end_object(b);
        send_json(req->fd, b);
        close(req->fd);
    }
    request_free(req);
}

void app_control_destroy(AppControl *c)
{
    if (!c)
        return;
    if (write(c->wake[1], "x", 1) < 0)
        vd_debug("app: cannot wake the listener: %s", g_strerror(errno));
    g_thread_join(c->thread);
    close(c->wake[0]);
    close(c->wake[1]);
    close(c->listen_fd);
    unlink(c->path);
    AppRequest *r;
    GError *e = g_error_new(VD_ERROR, VD_ERROR_FAILED, "the RemoteApp session ended");
    while ((r = g_async_queue_try_pop(c->requests)))
        app_control_reply(r, e);
    g_error_free(e);
    g_async_queue_unref(c->requests);
    g_free(c->path);
    g_free(c);
}

bool app_control_send(const char *path, const AppRequest *req, int timeout_ms, bool *delivered,
                      GError **error)
{
    *delivered = false;
    int fd = try_connect(path);
    if (fd < 0)
        return false;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "program");
    json_builder_add_string_value(b, req->program);
    if (req->args) {
        json_builder_set_member_name(b, "args");
        json_builder_add_string_value(b, req->args);
    }
    if (req->wm_class) {
        json_builder_set_member_name(b, "class");
        json_builder_add_string_value(b, req->wm_class);
    }
    json_builder_end_object(b);
    send_json(fd, b);
    *delivered = true;
    g_autofree char *line = read_line(fd, g_get_monotonic_time() + (gint64)timeout_ms * 1000);
    close(fd);
    if (!line) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                    "the RemoteApp session did not answer the launch of %s within %d s",
                    req->program, timeout_ms / 1000);
        return false;
    }
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *root = json_parser_load_from_data(p, line, -1, NULL) ? json_parser_get_root(p) : NULL;
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    if (o && json_object_get_boolean_member_with_default(o, "ok", FALSE))
        return true;
    const char *msg = o ? member_string(o, "error") : NULL;
    int code = o ? (int)json_object_get_int_member_with_default(o, "code", VD_ERROR_FAILED)
                 : VD_ERROR_FAILED;
    if (code < VD_ERROR_FAILED || code > VD_ERROR_NO_SPACE)
        code = VD_ERROR_FAILED;
    g_set_error(error, VD_ERROR, code, "%s", msg ? msg : "the RemoteApp session gave no answer");
    return false;
}
