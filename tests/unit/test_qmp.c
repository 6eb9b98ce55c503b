/* unit-qmp: the QMP client (orchestrator/qemu/qmp_client.c) and the mapping
 * of QEMU's refusals (qemu/qmp_cmd.c), against the real QEMU (-machine none,
 * as QEMU's own tests/qtest/qmp-test.c does) and against a fake server on a
 * socketpair whose bytes the test writes. The typed commands against the
 * real QEMU are in test_qmp_cmd.c, the other half of unit-qmp. */
#include "common/error.h"
#include "qemu/qmp_client.h"
#include "qemu/qmp_cmd.h"
#include "test_qmp.h"
#include "test_util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GREETING                                                                              \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "        \
    "\"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define CAPS_REPLY "{\"return\": {}, \"id\": \"vd-1\"}\r\n"

/* Events seen by the handler: "NAME" or "NAME:reason" when data has one. */
typedef struct {
    GPtrArray *names;
    int with_data;
} Events;

static void on_event(const char *event, JsonObject *data, void *user_data)
{
    Events *ev = user_data;
    const char *reason = NULL;
    if (data) {
        ev->with_data++;
        JsonNode *r = json_object_get_member(data, "reason");
        if (r && JSON_NODE_HOLDS_VALUE(r) && json_node_get_value_type(r) == G_TYPE_STRING)
            reason = json_node_get_string(r);
    }
    g_ptr_array_add(ev->names, reason ? g_strdup_printf("%s:%s", event, reason)
                                      : g_strdup(event));
}

/* Every event to on_event. */
static const QmpEventHandler record_all[] = {{NULL, on_event}};

static void events_init(Events *ev)
{
    ev->names = g_ptr_array_new_with_free_func(g_free);
    ev->with_data = 0;
}

static void events_clear(Events *ev)
{
    g_ptr_array_unref(ev->names);
}

static bool events_have(Events *ev, const char *name)
{
    for (guint i = 0; i < ev->names->len; i++)
        if (!strcmp(g_ptr_array_index(ev->names, i), name))
            return true;
    return false;
}

/* --- the real QEMU --- */

/* Read events until @name arrived or 5 s passed. */
static bool wait_event(QmpClient *c, Events *ev, const char *name)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!events_have(ev, name) && g_get_monotonic_time() < deadline) {
        if (!qmp_client_read_events(c, NULL))
            break;
        g_usleep(2000);
    }
    return events_have(ev, name);
}

static void test_real_qemu(void)
{
    TqQemu q;
    tq_qemu_init(&q);
    tq_qemu_start(&q, NULL);
    QmpClient *c = q.c;
    g_autoptr(GError) err = NULL;
    g_assert_null(qmp_client_qemu_version(c));
    g_assert_true(qmp_client_handshake(c, 10000, &err));
    g_assert_no_error(err);
    g_assert_true(g_str_has_prefix(qmp_client_qemu_version(c), "7."));
    g_assert_cmpint(qmp_client_get_fd(c), >=, 0);

    Events ev;
    events_init(&ev);
    qmp_client_set_event_table(c, record_all, &ev);

    bool running = false;
    g_autofree char *st = tq_status(c, &running);
    g_assert_cmpstr(st, ==, "running");
    g_assert_true(running);

    /* A command QEMU does not have: NOT_FOUND, with QEMU's own words. */
    g_assert_null(qmp_cmd_execute(c, "no-such-command", NULL, 5000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, "The command no-such-command has not been found"));
    g_clear_error(&err);

    /* Bad arguments: QEMU's GenericError maps to VD_ERROR_VM. */
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "bogus", 1);
    g_assert_null(qmp_cmd_execute(c, "query-status", args, 5000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_VM);
    g_assert_nonnull(strstr(err->message, "bogus"));
    g_clear_error(&err);

    /* Arguments reach QEMU intact. */
    args = json_object_new();
    json_object_set_string_member(args, "command-line", "info version");
    g_autoptr(JsonNode) hmp = qmp_cmd_execute(c, "human-monitor-command", args, 5000, &err);
    g_assert_no_error(err);
    g_assert_true(g_str_has_prefix(json_node_get_string(hmp), "7."));

    g_assert_true(qmp_cmd_stop(c, 5000, &err));
    g_assert_no_error(err);
    g_assert_true(wait_event(c, &ev, "STOP"));
    g_autofree char *paused = tq_status(c, &running);
    g_assert_cmpstr(paused, ==, "paused");
    g_assert_false(running);
    g_assert_true(qmp_cmd_cont(c, 5000, &err));
    g_assert_no_error(err);
    g_assert_true(wait_event(c, &ev, "RESUME"));
    g_autofree char *resumed = tq_status(c, NULL);
    g_assert_cmpstr(resumed, ==, "running");
    g_assert_true(qmp_cmd_system_powerdown(c, 5000, &err));
    g_assert_no_error(err);
    g_assert_true(wait_event(c, &ev, "POWERDOWN"));
    g_assert_cmpuint(ev.names->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(ev.names, 0), ==, "STOP");
    g_assert_cmpstr(g_ptr_array_index(ev.names, 1), ==, "RESUME");
    g_assert_cmpstr(g_ptr_array_index(ev.names, 2), ==, "POWERDOWN");

    g_assert_true(qmp_cmd_quit(c, 5000, &err));
    g_assert_no_error(err);
    /* QEMU then reports why it shuts down and closes the monitor. */
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    bool open = true;
    while (open && g_get_monotonic_time() < deadline) {
        g_autoptr(GError) e = NULL;
        open = qmp_client_read_events(c, &e);
        if (!open)
            g_assert_error(e, VD_ERROR, VD_ERROR_PROTOCOL);
        g_usleep(2000);
    }
    g_assert_false(open);
    g_assert_true(events_have(&ev, "SHUTDOWN:host-qmp-quit"));
    /* Broken for good: no wait for a timeout. */
    QmpStatus after;
    g_assert_false(qmp_cmd_query_status(c, 5000, &after, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    tq_qemu_assert_ended(&q);
    events_clear(&ev);
    tq_qemu_clear(&q);
}

static void test_connect_missing(void)
{
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_null(qmp_client_connect_unix("/nonexistent/vmdesk/qmp.sock", 200, &err));
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_cmpint(ms, >=, 190);
    g_assert_cmpint(ms, <, 2000);
    g_clear_error(&err);
    g_autofree char *longp = g_strnfill(200, 'x');
    g_assert_null(qmp_client_connect_unix(longp, 100, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
}

/* --- a fake server --- */

typedef struct {
    QmpClient *c;
    int srv; /* the server's end */
} Fake;

static void fake_init(Fake *f)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    f->c = qmp_client_new_fd(sv[0]);
    f->srv = sv[1];
}

static void fake_clear(Fake *f)
{
    qmp_client_destroy(f->c);
    if (f->srv >= 0)
        close(f->srv);
}

static void srv_write(Fake *f, const char *text)
{
    size_t len = strlen(text);
    while (len) {
        ssize_t n = send(f->srv, text, len, MSG_NOSIGNAL);
        g_assert_cmpint(n, >, 0);
        text += n;
        len -= (size_t)n;
    }
}

/* The next request the client sent, parsed. */
static JsonObject *srv_read_request(Fake *f)
{
    GString *line = g_string_new(NULL);
    char ch;
    while (read(f->srv, &ch, 1) == 1 && ch != '\n')
        g_string_append_c(line, ch);
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    g_assert_true(json_parser_load_from_data(p, line->str, (gssize)line->len, &err));
    g_string_free(line, TRUE);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)));
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

static void fake_handshake(Fake *f)
{
    srv_write(f, GREETING CAPS_REPLY);
    g_autoptr(GError) err = NULL;
    g_assert_true(qmp_client_handshake(f->c, 2000, &err));
    g_assert_no_error(err);
    g_autoptr(JsonObject) req = srv_read_request(f);
    g_assert_cmpstr(json_object_get_string_member(req, "execute"), ==, "qmp_capabilities");
    g_assert_cmpstr(json_object_get_string_member(req, "id"), ==, "vd-1");
}

static void test_fake_handshake(void)
{
    Fake f;
    fake_init(&f);
    g_assert_null(qmp_client_qemu_version(f.c));
    fake_handshake(&f);
    g_assert_cmpstr(qmp_client_qemu_version(f.c), ==, "7.2.22");

    /* A request is one line of JSON: execute, arguments, id. */
    srv_write(&f, "{\"return\": \"done\", \"id\": \"vd-2\"}\n");
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "command-line", "info \"quoted\"\n,x");
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) r = qmp_cmd_execute(f.c, "human-monitor-command", args, 2000, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(json_node_get_string(r), ==, "done");
    g_autoptr(JsonObject) req = srv_read_request(&f);
    g_assert_cmpstr(json_object_get_string_member(req, "execute"), ==, "human-monitor-command");
    g_assert_cmpstr(json_object_get_string_member(req, "id"), ==, "vd-2");
    JsonObject *a = json_object_get_object_member(req, "arguments");
    g_assert_cmpstr(json_object_get_string_member(a, "command-line"), ==, "info \"quoted\"\n,x");
    fake_clear(&f);
}

typedef struct {
    int fd;
    const char *data;
    size_t len;
    size_t chunk;
    int delay_us;
    gint written; /* bytes sent so far; atomic */
} Writer;

/* Write @data in @chunk-sized pieces until done or the peer went away. */
static gpointer writer_thread(gpointer data)
{
    Writer *w = data;
    for (;;) {
        size_t done = (size_t)g_atomic_int_get(&w->written);
        if (done >= w->len)
            break;
        size_t n = MIN(w->chunk, w->len - done);
        ssize_t r = send(w->fd, w->data + done, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        g_atomic_int_add(&w->written, (gint)r);
        if (w->delay_us)
            g_usleep((gulong)w->delay_us);
    }
    return NULL;
}

static void test_fake_tiny_writes(void)
{
    Fake f;
    fake_init(&f);
    static const char text[] = GREETING CAPS_REPLY;
    Writer w = {.fd = f.srv, .data = text, .len = sizeof(text) - 1, .chunk = 1, .delay_us = 50};
    GThread *t = g_thread_new("writer", writer_thread, &w);
    Events ev;
    events_init(&ev);
    qmp_client_set_event_table(f.c, record_all, &ev);
    g_autoptr(GError) err = NULL;
    g_assert_true(qmp_client_handshake(f.c, 5000, &err));
    g_assert_no_error(err);
    g_thread_join(t);
    g_assert_cmpint(w.written, ==, sizeof(text) - 1);
    g_assert_cmpstr(qmp_client_qemu_version(f.c), ==, "7.2.22");

    /* A reply and events, each byte its own write. */
    static const char more[] = "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, "
                               "\"microseconds\": 2}}\r\n{\"return\": {\"status\": \"paused\"}, "
                               "\"id\": \"vd-2\"}\r\n";
    Writer w2 = {.fd = f.srv, .data = more, .len = sizeof(more) - 1, .chunk = 1, .delay_us = 20};
    t = g_thread_new("writer", writer_thread, &w2);
    g_autoptr(JsonNode) r = qmp_cmd_execute(f.c, "stop", NULL, 5000, &err);
    g_thread_join(t);
    g_assert_no_error(err);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(r), "status"), ==,
                    "paused");
    g_assert_cmpuint(ev.names->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(ev.names, 0), ==, "STOP");
    events_clear(&ev);
    fake_clear(&f);
}

static void test_fake_events_before_reply(void)
{
    Fake f;
    fake_init(&f);
    fake_handshake(&f);
    Events ev;
    events_init(&ev);
    qmp_client_set_event_table(f.c, record_all, &ev);
    srv_write(&f, "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\n"
                  "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": "
                  "\"guest-shutdown\"}, \"timestamp\": {\"seconds\": 2, \"microseconds\": 0}}\n"
                  "\n"
                  "{\"event\": \"ODD\", \"data\": [1, 2]}\n"
                  "{\"return\": {}, \"id\": \"vd-2\"}\n"
                  "{\"event\": \"AFTER\"}\n");
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) r = qmp_cmd_execute(f.c, "system_powerdown", NULL, 2000, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(r));
    /* Everything read so far was dispatched, in order; data only when an object. */
    g_assert_cmpuint(ev.names->len, ==, 4);
    g_assert_cmpstr(g_ptr_array_index(ev.names, 0), ==, "STOP");
    g_assert_cmpstr(g_ptr_array_index(ev.names, 1), ==, "SHUTDOWN:guest-shutdown");
    g_assert_cmpstr(g_ptr_array_index(ev.names, 2), ==, "ODD");
    g_assert_cmpstr(g_ptr_array_index(ev.names, 3), ==, "AFTER");
    g_assert_cmpint(ev.with_data, ==, 1);
    /* Without a handler, events are dropped quietly. */
    qmp_client_set_event_table(f.c, NULL, NULL);
    srv_write(&f, "{\"event\": \"RESUME\"}\n");
    g_assert_true(qmp_client_read_events(f.c, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(ev.names->len, ==, 4);
    events_clear(&ev);
    fake_clear(&f);
}

static void test_fake_id_mismatch(void)
{
    Fake f;
    fake_init(&f);
    fake_handshake(&f);
    /* A stray reply, a late one for an earlier id, then ours. */
    srv_write(&f, "{\"return\": {\"who\": \"stranger\"}, \"id\": \"other\"}\n"
                  "{\"return\": {\"who\": \"late\"}, \"id\": \"vd-1\"}\n"
                  "{\"return\": {\"who\": \"me\"}, \"id\": \"vd-2\"}\n");
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) r = qmp_cmd_execute(f.c, "query-name", NULL, 2000, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(r), "who"), ==, "me");

    /* Only stray replies: no answer for us. */
    srv_write(&f, "{\"return\": {}, \"id\": \"vd-99\"}\n");
    gint64 t0 = g_get_monotonic_time();
    g_assert_null(qmp_cmd_execute(f.c, "query-name", NULL, 200, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, <, 1000);
    g_clear_error(&err);

    /* An answer without an id (QEMU could not parse the request) is ours. */
    srv_write(&f, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
                  "invalid keyword\"}}\n");
    g_assert_null(qmp_cmd_execute(f.c, "query-name", NULL, 2000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_VM);
    g_assert_cmpstr(err->message, ==, "QEMU refused query-name: JSON parse error, invalid keyword");
    fake_clear(&f);
}

static void test_fake_error_classes(void)
{
    static const struct {
        const char *error; /* the "error" member */
        int code;
        const char *message;
    } t[] = {
        {"{\"class\": \"CommandNotFound\", \"desc\": \"The command x has not been found\"}",
         VD_ERROR_NOT_FOUND, "QEMU refused cmd: The command x has not been found"},
        {"{\"class\": \"DeviceNotFound\", \"desc\": \"Device 'net9' not found\"}",
         VD_ERROR_NOT_FOUND, "QEMU refused cmd: Device 'net9' not found"},
        {"{\"class\": \"GenericError\", \"desc\": \"boom\"}", VD_ERROR_VM,
         "QEMU refused cmd: boom"},
        {"{\"class\": \"KVMMissingCap\"}", VD_ERROR_VM, "QEMU refused cmd: KVMMissingCap"},
        {"\"not an object\"", VD_ERROR_VM, "QEMU refused cmd: no reason given"},
        {"{\"class\": 7, \"desc\": [\"x\"]}", VD_ERROR_VM,
         "QEMU refused cmd: no reason given"},
        {"{\"class\": {\"a\": 1}, \"desc\": null}", VD_ERROR_VM,
         "QEMU refused cmd: no reason given"},
    };
    Fake f;
    fake_init(&f);
    fake_handshake(&f);
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
        g_autofree char *reply =
            g_strdup_printf("{\"error\": %s, \"id\": \"vd-%zu\"}\n", t[i].error, i + 2);
        srv_write(&f, reply);
        g_autoptr(GError) err = NULL;
        g_assert_null(qmp_cmd_execute(f.c, "cmd", NULL, 2000, &err));
        g_assert_error(err, VD_ERROR, t[i].code);
        g_assert_cmpstr(err->message, ==, t[i].message);
    }
    fake_clear(&f);
}

static void test_fake_malformed(void)
{
    static const char *const bad[] = {
        "{\"return\": {}, \"id\": \"vd-2\"\n",    /* unterminated */
        "{'return': {}}\n",                      /* not JSON quotes */
        "[1, 2, 3]\n",                           /* not an object */
        "42\n",
        "\"just a string\"\n",
        "null\n",
        "{\"event\": 5}\n",                      /* event without a name */
        "{\"event\": null}\n",
        "{\"QMP\": []}\n",                       /* greeting not an object */
        "{\"unexpected\": true}\n",              /* no known kind */
        "{\"return\": {}}{\"return\": {}}\n",    /* two objects on a line */
        "\xff\xfe{}\n",                          /* not UTF-8 */
        "{\"a\": \"nul\\u0000\"}x\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        Fake f;
        fake_init(&f);
        fake_handshake(&f);
        srv_write(&f, bad[i]);
        g_autoptr(GError) err = NULL;
        gint64 t0 = g_get_monotonic_time();
        if (qmp_cmd_execute(f.c, "query-status", NULL, 2000, &err))
            g_error("malformed message #%zu was accepted", i);
        g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
        g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, <, 1000);
        g_clear_error(&err);
        /* The stream cannot be resynchronized: every later call fails at
         * once with the same error, even if good bytes follow. */
        srv_write(&f, "{\"return\": {}, \"id\": \"vd-3\"}\n");
        g_assert_null(qmp_cmd_execute(f.c, "query-status", NULL, 2000, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
        g_clear_error(&err);
        g_assert_false(qmp_client_feed(f.c, "{}\n", 3, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
        g_clear_error(&err);
        g_assert_false(qmp_client_read_events(f.c, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
        fake_clear(&f);
    }
}

/* Members of unexpected types are not trusted blindly (no crash, no
 * GLib critical, which the test framework makes fatal). */
static void test_fake_odd_types(void)
{
    static const char *const greetings[] = {
        "{\"QMP\": {\"version\": 5}}\n",
        "{\"QMP\": {\"version\": {\"qemu\": [7, 2, 0]}}}\n",
        ("{\"QMP\": {\"version\": {\"qemu\": {\"major\": \"seven\", \"minor\": {}, "
         "\"micro\": null}}}}\n"),
        "{\"QMP\": {}}\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(greetings); i++) {
        Fake f;
        fake_init(&f);
        g_autofree char *text = g_strconcat(greetings[i], CAPS_REPLY, NULL);
        srv_write(&f, text);
        g_autoptr(GError) err = NULL;
        g_assert_true(qmp_client_handshake(f.c, 2000, &err));
        g_assert_no_error(err);
        fake_clear(&f);
    }
    Fake f;
    fake_init(&f);
    fake_handshake(&f);
    srv_write(&f, "{\"return\": {}, \"id\": 2}\n"
                  "{\"return\": {}, \"id\": {\"x\": 1}}\n"
                  "{\"return\": {}, \"id\": [\"vd-2\"]}\n"
                  "{\"return\": \"mine\", \"id\": \"vd-2\"}\n");
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) r = qmp_cmd_execute(f.c, "x", NULL, 2000, &err);
    g_assert_no_error(err);
    /* Odd ids are nobody's; the string one is ours. */
    g_assert_cmpstr(json_node_get_string(r), ==, "mine");
    fake_clear(&f);
}

static void test_fake_eof(void)
{
    /* EOF in the middle of the reply. */
    Fake f;
    fake_init(&f);
    fake_handshake(&f);
    srv_write(&f, "{\"return\": {}, \"i");
    shutdown(f.srv, SHUT_WR); /* QEMU's side ends; our request still goes out */
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_null(qmp_cmd_execute(f.c, "query-status", NULL, 5000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_nonnull(strstr(err->message, "closed"));
    g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, <, 1000);
    g_clear_error(&err);
    fake_clear(&f);

    /* EOF right after the reply (what `quit` does): the reply counts. */
    fake_init(&f);
    fake_handshake(&f);
    srv_write(&f, "{\"return\": {}, \"id\": \"vd-2\"}\r\n{\"event\": \"SHUTDOWN\"}\r\n");
    shutdown(f.srv, SHUT_WR);
    g_autoptr(JsonNode) r = qmp_cmd_execute(f.c, "quit", NULL, 5000, &err);
    g_assert_no_error(err);
    g_assert_nonnull(r);
    g_assert_false(qmp_client_read_events(f.c, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    fake_clear(&f);

    /* EOF before the greeting. */
    fake_init(&f);
    close(f.srv);
    f.srv = -1;
    g_clear_error(&err);
    g_assert_false(qmp_client_handshake(f.c, 5000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    fake_clear(&f);
}

static void test_fake_timeout(void)
{
    Fake f;
    fake_init(&f);
    /* No greeting. */
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_false(qmp_client_handshake(f.c, 300, &err));
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_cmpint(ms, >=, 290);
    g_assert_cmpint(ms, <, 1500);
    g_clear_error(&err);
    fake_clear(&f);

    fake_init(&f);
    fake_handshake(&f);
    t0 = g_get_monotonic_time();
    g_assert_null(qmp_cmd_execute(f.c, "query-status", NULL, 300, &err));
    ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(err->message, "query-status"));
    g_assert_cmpint(ms, >=, 290);
    g_assert_cmpint(ms, <, 1500);
    g_clear_error(&err);
    /* A timeout is not a broken stream: the next command works. */
    srv_write(&f, "{\"return\": {}, \"id\": \"vd-2\"}\n{\"return\": 3, \"id\": \"vd-3\"}\n");
    g_autoptr(JsonNode) r = qmp_cmd_execute(f.c, "query-status", NULL, 2000, &err);
    g_assert_no_error(err);
    g_assert_cmpint(json_node_get_int(r), ==, 3);
    fake_clear(&f);
}

/* The server keeps sending one endless message; the client must give up
 * after QMP_MESSAGE_MAX bytes, not buffer without bound. */
static void oversized_over_socket(bool newline_at_end)
{
    Fake f;
    fake_init(&f);
    fake_handshake(&f);
    size_t len = 64u << 20;
    char *big = g_malloc(len);
    static const char head[] = "{\"event\": \"BIG\", \"data\": {\"pad\": \"";
    memcpy(big, head, sizeof(head) - 1);
    memset(big + sizeof(head) - 1, 'a', len - (sizeof(head) - 1));
    if (newline_at_end) {
        len = QMP_MESSAGE_MAX + (1u << 20);
        memcpy(big + len - 4, "\"}}\n", 4);
    }
    Writer w = {.fd = f.srv, .data = big, .len = len, .chunk = 1u << 16};
    GThread *t = g_thread_new("writer", writer_thread, &w);
    g_autoptr(GError) err = NULL;
    g_assert_null(qmp_cmd_execute(f.c, "query-status", NULL, 10000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_nonnull(strstr(err->message, "larger than"));
    size_t at_failure = (size_t)g_atomic_int_get(&w.written);
    /* Closing our end ends the writer with EPIPE. */
    qmp_client_destroy(f.c);
    f.c = NULL;
    g_thread_join(t);
    g_test_message("the server wrote %zu bytes before the client gave up", at_failure);
    g_assert_cmpuint(at_failure, <, QMP_MESSAGE_MAX + (1u << 20));
    if (!newline_at_end)
        g_assert_cmpuint((size_t)w.written, <, len);
    g_free(big);
    fake_clear(&f);
}

static void test_fake_oversized(void)
{
    oversized_over_socket(false);
    oversized_over_socket(true);
}

/* --- qmp_client_feed: framing without a socket --- */

static QmpClient *feed_client(Events *ev)
{
    QmpClient *c = qmp_client_new_fd(-1);
    events_init(ev);
    qmp_client_set_event_table(c, record_all, ev);
    return c;
}

static void test_feed_split_everywhere(void)
{
    static const char msg[] = "{\"event\": \"RESET\", \"data\": {\"guest\": true, \"reason\": "
                              "\"guest-reset\"}}\r\n";
    size_t n = sizeof(msg) - 1;
    for (size_t i = 0; i <= n; i++) {
        Events ev;
        g_autoptr(QmpClient) c = feed_client(&ev);
        g_autoptr(GError) err = NULL;
        g_assert_true(qmp_client_feed(c, msg, i, &err));
        g_assert_cmpuint(ev.names->len, ==, i == n ? 1 : 0);
        g_assert_true(qmp_client_feed(c, msg + i, n - i, &err));
        g_assert_no_error(err);
        g_assert_cmpuint(ev.names->len, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(ev.names, 0), ==, "RESET:guest-reset");
        events_clear(&ev);
    }
    /* Several messages in one feed, blank lines, LF or CRLF. */
    Events ev;
    g_autoptr(QmpClient) c = feed_client(&ev);
    static const char many[] = "{\"event\":\"A\"}\n\r\n\n{\"event\":\"B\"}\r\n  \n{\"event\":\"C\"}\n{\"ev";
    g_assert_true(qmp_client_feed(c, many, sizeof(many) - 1, NULL));
    g_assert_cmpuint(ev.names->len, ==, 3);
    g_assert_true(qmp_client_feed(c, "ent\":\"D\"}\n", 10, NULL));
    g_assert_cmpuint(ev.names->len, ==, 4);
    g_assert_cmpstr(g_ptr_array_index(ev.names, 3), ==, "D");
    /* A greeting fed in sets the version. */
    g_assert_null(qmp_client_qemu_version(c));
    g_assert_true(qmp_client_feed(c, GREETING, strlen(GREETING), NULL));
    g_assert_cmpstr(qmp_client_qemu_version(c), ==, "7.2.22");
    events_clear(&ev);
}

static void test_feed_size_cap(void)
{
    /* Exactly QMP_MESSAGE_MAX bytes of a message: fine, with or without
     * its newline yet; one byte more: a protocol error. */
    static const char head[] = "{\"event\": \"BIG\", \"data\": {\"pad\": \"";
    static const char tail[] = "\"}}";
    gsize max = QMP_MESSAGE_MAX;
    char *msg = g_malloc(max + 2);
    memcpy(msg, head, sizeof(head) - 1);
    memset(msg + sizeof(head) - 1, 'x', max - (sizeof(head) - 1) - (sizeof(tail) - 1));
    memcpy(msg + max - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    msg[max] = '\n';

    Events ev;
    QmpClient *c = feed_client(&ev);
    g_autoptr(GError) err = NULL;
    /* In 64 KiB pieces, as read() would deliver it. */
    for (gsize off = 0; off < max; off += 65536)
        g_assert_true(qmp_client_feed(c, msg + off, MIN(65536, max - off), &err));
    g_assert_no_error(err);
    g_assert_true(qmp_client_feed(c, "\n", 1, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(ev.names->len, ==, 1);
    /* And all at once with its newline. */
    g_assert_true(qmp_client_feed(c, msg, max + 1, &err));
    g_assert_cmpuint(ev.names->len, ==, 2);
    qmp_client_destroy(c);
    events_clear(&ev);

    /* One byte over, without a newline: refused as soon as it is buffered. */
    c = feed_client(&ev);
    g_assert_true(qmp_client_feed(c, msg, max, &err));
    g_assert_false(qmp_client_feed(c, "x", 1, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_clear_error(&err);
    qmp_client_destroy(c);
    events_clear(&ev);

    /* One byte over, with its newline, in one piece. */
    memmove(msg + 1, msg, max + 1);
    msg[0] = ' ';
    c = feed_client(&ev);
    g_assert_false(qmp_client_feed(c, msg, max + 2, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_cmpuint(ev.names->len, ==, 0);
    qmp_client_destroy(c);
    events_clear(&ev);
    g_free(msg);
}

/* JSON nested deeper than any QMP message: refused, not parsed recursively
 * into a stack overflow. */
static void test_feed_deep_nesting(void)
{
    static const int depths[] = {100000, 4000000};
    for (size_t i = 0; i < G_N_ELEMENTS(depths); i++) {
        int depth = depths[i];
        GString *s = g_string_new("{\"event\": \"DEEP\", \"data\": {\"x\": ");
        for (int d = 0; d < depth && s->len < QMP_MESSAGE_MAX - 16; d++)
            g_string_append_c(s, '[');
        g_string_append_c(s, '\n');
        Events ev;
        QmpClient *c = feed_client(&ev);
        g_autoptr(GError) err = NULL;
        g_assert_false(qmp_client_feed(c, s->str, s->len, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
        g_assert_cmpuint(ev.names->len, ==, 0);
        qmp_client_destroy(c);
        events_clear(&ev);
        g_string_free(s, TRUE);
    }
    /* Ordinary nesting, and brackets inside strings, are fine. */
    Events ev;
    QmpClient *c = feed_client(&ev);
    GString *s = g_string_new("{\"event\": \"NESTED\", \"data\": {\"s\": \"[[[[{{{{\\\"\", \"x\": ");
    for (int d = 0; d < 64; d++)
        g_string_append_c(s, '[');
    for (int d = 0; d < 64; d++)
        g_string_append_c(s, ']');
    g_string_append(s, "}}\n");
    g_autoptr(GError) err = NULL;
    g_assert_true(qmp_client_feed(c, s->str, s->len, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(ev.names->len, ==, 1);
    qmp_client_destroy(c);
    events_clear(&ev);
    g_string_free(s, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/real-qemu", test_real_qemu);
    g_test_add_func("/qmp/connect-missing", test_connect_missing);
    g_test_add_func("/qmp/fake/handshake", test_fake_handshake);
    g_test_add_func("/qmp/fake/tiny-writes", test_fake_tiny_writes);
    g_test_add_func("/qmp/fake/events-before-reply", test_fake_events_before_reply);
    g_test_add_func("/qmp/fake/id-mismatch", test_fake_id_mismatch);
    g_test_add_func("/qmp/fake/error-classes", test_fake_error_classes);
    g_test_add_func("/qmp/fake/malformed", test_fake_malformed);
    g_test_add_func("/qmp/fake/odd-types", test_fake_odd_types);
    g_test_add_func("/qmp/fake/eof", test_fake_eof);
    g_test_add_func("/qmp/fake/timeout", test_fake_timeout);
    g_test_add_func("/qmp/fake/oversized", test_fake_oversized);
    g_test_add_func("/qmp/feed/split-everywhere", test_feed_split_everywhere);
    g_test_add_func("/qmp/feed/size-cap", test_feed_size_cap);
    g_test_add_func("/qmp/feed/deep-nesting", test_feed_deep_nesting);
    tq_add_cmd_tests();
    return g_test_run();
}
