#include "qmp_client.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct QmpClient {
    int fd;
    GString *in;           /* bytes read, not yet a whole line */
    gsize scanned;         /* leading bytes of @in known to hold no newline */
    GQueue replies;        /* JsonObject* replies (return/error) not yet claimed */
    guint64 next_id;
    char *version;
    bool greeted;
    bool broken;           /* EOF or protocol error seen; further use fails */
    GError *broken_error;
    QmpEventFunc event_func;
    void *event_data;
};

QmpClient *qmp_client_new_fd(int fd)
{
    QmpClient *c = g_new0(QmpClient, 1);
    c->fd = fd;
    c->in = g_string_new(NULL);
    g_queue_init(&c->replies);
    c->next_id = 1;
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return c;
}

void qmp_client_destroy(QmpClient *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    g_string_free(c->in, TRUE);
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

static bool fail(QmpClient *c, GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Mark the client broken: a stream with a framing error cannot be resynced. */
static bool fail(QmpClient *c, GError **error, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!c->broken) {
        c->broken = true;
        c->broken_error = g_error_new_literal(VD_ERROR, code, msg);
    }
    g_set_error_literal(error, VD_ERROR, code, msg);
    return false;
}

/* Typed members of a message from outside: NULL (or 0) when absent or of
 * another type. json-glib's own getters emit a critical on a wrong type. */
static JsonObject *member_object(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static const char *member_string(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

static gint64 member_int(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64
               ? json_node_get_int(n)
               : 0;
}

static void parse_greeting(QmpClient *c, JsonObject *qmp)
{
    JsonObject *q = member_object(member_object(qmp, "version"), "qemu");
    if (q) {
        g_free(c->version);
        c->version = g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT,
                                     member_int(q, "major"), member_int(q, "minor"),
                                     member_int(q, "micro"));
    }
    c->greeted = true;
}

/* QEMU nests its JSON a few levels deep; its own parser stops at 1024. */
#define QMP_NESTING_MAX 1024

/* The value of the 4 hex digits at @s, or -1. */
static int hex4(const char *s)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int d = g_ascii_xdigit_value(s[k]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* json-glib 1.6 parses nested arrays and objects by recursion without a
 * limit (a line of "[[[[..." overflows the stack), and its lexer is laxer
 * than JSON: single-quoted strings, comments, and escapes such as a short
 * "\u12" that swallow the closing quote, and it ignores what follows the
 * first value. So before parsing, check the line in strict JSON terms,
 * which all QEMU sends: strings with valid escapes and paired surrogates,
 * no quote or slash outside strings, one value per line, and no deeper
 * nesting than QMP_NESTING_MAX. Returns why not, or NULL. */
static const char *check_json_line(const char *s, gsize len)
{
    int depth = 0;
    bool done = false; /* the first object or array ended */
    for (gsize i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (done && !g_ascii_isspace(ch))
            return "a line holds more than one message";
        if (ch == '[' || ch == '{') {
            if (++depth > QMP_NESTING_MAX)
                return "it is nested too deeply";
        } else if (ch == ']' || ch == '}') {
            done = --depth == 0;
        } else if (ch == '\'' || ch == '/' || ch == '\0') {
            return "it has a character outside a string that JSON does not allow there";
        } else if (ch == '"') {
            for (i++;; i++) {
                if (i >= len)
                    return "a string is not terminated";
                ch = (unsigned char)s[i];
                if (ch == '"')
                    break;
                if (ch < 0x20)
                    return "a string contains a control character";
                if (ch != '\\')
                    continue;
                if (++i >= len)
                    return "a string is not terminated";
                if (strchr("\"\\/bfnrt", s[i]) && s[i])
                    continue;
                int hi = s[i] == 'u' && len - i > 4 ? hex4(s + i + 1) : -1;
                if (hi < 0)
                    return "a string contains an invalid escape";
                i += 4;
                if (hi >= 0xdc00 && hi <= 0xdfff)
                    return "a string contains an unpaired surrogate";
                if (hi >= 0xd800 && hi <= 0xdbff) {
                    int lo = len - i > 6 && s[i + 1] == '\\' && s[i + 2] == 'u' ? hex4(s + i + 3)
                                                                                 : -1;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return "a string contains an unpaired surrogate";
                    i += 6;
                }
            }
        }
    }
    return NULL;
}

static bool handle_line(QmpClient *c, const char *line, gsize len, GError **error)
{
    while (len && (line[len - 1] == '\r' || g_ascii_isspace(line[len - 1])))
        len--;
    if (len == 0)
        return true;
    const char *why = check_json_line(line, len);
    if (why)
        return fail(c, error, VD_ERROR_PROTOCOL, "QMP sent malformed JSON: %s", why);
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) perr = NULL;
    if (!json_parser_load_from_data(parser, line, (gssize)len, &perr))
        return fail(c, error, VD_ERROR_PROTOCOL, "QMP sent malformed JSON: %s", perr->message);
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return fail(c, error, VD_ERROR_PROTOCOL, "QMP sent a message that is not an object");
    JsonObject *obj = json_node_get_object(root);

    if (json_object_has_member(obj, "QMP")) {
        JsonNode *qmp = json_object_get_member(obj, "QMP");
        if (!JSON_NODE_HOLDS_OBJECT(qmp))
            return fail(c, error, VD_ERROR_PROTOCOL, "QMP greeting is malformed");
        parse_greeting(c, json_node_get_object(qmp));
    } else if (json_object_has_member(obj, "event")) {
        JsonNode *ev = json_object_get_member(obj, "event");
        if (!JSON_NODE_HOLDS_VALUE(ev) || json_node_get_value_type(ev) != G_TYPE_STRING)
            return fail(c, error, VD_ERROR_PROTOCOL, "QMP event without a name");
        JsonObject *data = NULL;
        if (json_object_has_member(obj, "data")) {
            JsonNode *d = json_object_get_member(obj, "data");
            if (JSON_NODE_HOLDS_OBJECT(d))
                data = json_node_get_object(d);
        }
        if (c->event_func)
            c->event_func(json_node_get_string(ev), data, c->event_data);
    } else if (json_object_has_member(obj, "return") || json_object_has_member(obj, "error")) {
        g_queue_push_tail(&c->replies, json_object_ref(obj));
    } else {
        return fail(c, error, VD_ERROR_PROTOCOL, "QMP sent an unknown kind of message");
    }
    return true;
}

bool qmp_client_feed(QmpClient *c, const char *data, size_t len, GError **error)
{
    if (c->broken) {
        g_set_error_literal(error, VD_ERROR, c->broken_error->code, c->broken_error->message);
        return false;
    }
    g_string_append_len(c->in, data, (gssize)len);
    /* Search only the new bytes: a long line arriving in small reads must
     * not be rescanned from its start each time. */
    gsize start = 0, from = c->scanned;
    for (;;) {
        const char *nl = memchr(c->in->str + from, '\n', c->in->len - from);
        if (!nl)
            break;
        gsize end = (gsize)(nl - c->in->str);
        if (end - start > QMP_MESSAGE_MAX)
            return fail(c, error, VD_ERROR_PROTOCOL, "QMP message larger than %u bytes",
                        QMP_MESSAGE_MAX);
        if (!handle_line(c, c->in->str + start, end - start, error))
            return false;
        start = from = end + 1;
    }
    g_string_erase(c->in, 0, (gssize)start);
    c->scanned = c->in->len;
    if (c->in->len > QMP_MESSAGE_MAX)
        return fail(c, error, VD_ERROR_PROTOCOL, "QMP message larger than %u bytes",
                    QMP_MESSAGE_MAX);
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
    for (;;) {
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "QEMU did not answer %s in time",
                        what);
            return false;
        }
        struct pollfd p = {.fd = c->fd, .events = events};
        int r = poll(&p, 1, (int)MIN(left, G_MAXINT));
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return fail(c, error, VD_ERROR_PROTOCOL, "poll: %s", g_strerror(errno));
    }
}

static bool write_all(QmpClient *c, const char *data, gsize len, gint64 deadline, GError **error)
{
    while (len) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (gsize)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(c, POLLOUT, deadline, "a write", error))
                return false;
            continue;
        }
        return fail(c, error, VD_ERROR_PROTOCOL, "writing QMP: %s", g_strerror(errno));
    }
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
        if (!json_object_has_member(o, "id") || g_strcmp0(member_string(o, "id"), id) == 0) {
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
    if (!write_all(c, line, strlen(line), deadline, error))
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
        JsonObject *e = member_object(reply, "error");
        const char *cls = member_string(e, "class") ? member_string(e, "class") : "";
        const char *desc = member_string(e, "desc");
        g_set_error(error, VD_ERROR, map_error_class(cls), "QEMU refused %s: %s", command,
                    desc && *desc ? desc : cls);
        return NULL;
    }
    return json_node_copy(json_object_get_member(reply, "return"));
}
