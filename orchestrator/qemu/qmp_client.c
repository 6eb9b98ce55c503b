#include "qemu/qmp_client.h"

#include "common/error.h"
#include "common/log.h"
#include "qemu/json_channel.h"

#include <errno.h>
#include <string.h>

struct QmpClient {
    JsonChannel *ch;
    GQueue replies;        /* JsonObject* replies (return/error) not yet claimed */
    guint64 next_id;
    char *version;
    bool greeted;
    const QmpEventHandler *events;
    void *event_data;
};

static bool handle_message(JsonObject *obj, void *user_data, GError **error);

QmpClient *qmp_client_new_fd(int fd)
{
    QmpClient *c = g_new0(QmpClient, 1);
    /* "QEMU did not answer query-status in time", "QMP sent malformed JSON". */
    c->ch = json_channel_new(fd, "QEMU",
                             json_lines_new("QMP", QMP_MESSAGE_MAX, handle_message, c));
    g_queue_init(&c->replies);
    c->next_id = 1;
    return c;
}

void qmp_client_destroy(QmpClient *c)
{
    if (!c)
        return;
    json_channel_destroy(c->ch);
    g_queue_clear_full(&c->replies, (GDestroyNotify)json_object_unref);
    g_free(c->version);
    g_free(c);
}

QmpClient *qmp_client_connect_unix(const char *path, int timeout_ms, GError **error)
{
    int fd = json_channel_connect_unix(path, timeout_ms);
    if (fd == -ENAMETOOLONG) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "socket path too long: %s", path);
        return NULL;
    }
    if (fd < 0) {
        g_set_error(error, VD_ERROR, fd == -ENOENT ? VD_ERROR_NOT_FOUND : VD_ERROR_VM,
                    "cannot connect to QMP socket %s: %s", path, g_strerror(-fd));
        return NULL;
    }
    return qmp_client_new_fd(fd);
}

void qmp_client_set_event_table(QmpClient *c, const QmpEventHandler *table, void *user_data)
{
    c->events = table;
    c->event_data = user_data;
}

int qmp_client_get_fd(QmpClient *c)
{
    return json_channel_get_fd(c->ch);
}

const char *qmp_client_qemu_version(QmpClient *c)
{
    return c->version;
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

/* The table's handler for @event: its row, else the closing row's. */
static void dispatch_event(QmpClient *c, const char *event, JsonObject *data)
{
    vd_debug("QMP event %s", event);
    const QmpEventHandler *h = c->events;
    while (h && h->name && strcmp(h->name, event))
        h++;
    if (h && h->func)
        h->func(event, data, c->event_data);
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
        dispatch_event(c, ev, json_member_object(obj, "data"));
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
    return json_channel_feed(c->ch, data, len, error);
}

bool qmp_client_read_events(QmpClient *c, GError **error)
{
    return json_channel_read(c->ch, error);
}

bool qmp_client_handshake(QmpClient *c, int timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!c->greeted) {
        if (!json_channel_wait_read(c->ch, deadline, "the greeting", error))
            return false;
    }
    g_autoptr(JsonObject) refusal = NULL;
    g_autoptr(JsonNode) r = qmp_client_call(c, "qmp_capabilities", NULL, timeout_ms, &refusal,
                                            error);
    if (refusal)
        g_set_error(error, VD_ERROR, VD_ERROR_VM, "QEMU refused qmp_capabilities: %s",
                    json_channel_refusal_reason(refusal));
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

JsonNode *qmp_client_call(QmpClient *c, const char *command, JsonObject *args, int timeout_ms,
                          JsonObject **refusal, GError **error)
{
    g_autoptr(JsonObject) owned_args = args;
    *refusal = NULL;
    if (!json_channel_check(c->ch, error))
        return NULL;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autofree char *id = g_strdup_printf("vd-%" G_GUINT64_FORMAT, c->next_id++);
    if (!json_channel_send_request(c->ch, NULL, command, owned_args, id, deadline, error))
        return NULL;

    g_autoptr(JsonObject) reply = NULL;
    while (!(reply = take_reply(c, id))) {
        g_autoptr(GError) local = NULL;
        if (!json_channel_wait_read(c->ch, deadline, command, &local)) {
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
        *refusal = e ? json_object_ref(e) : json_object_new();
        return NULL;
    }
    return json_node_copy(json_object_get_member(reply, "return"));
}
