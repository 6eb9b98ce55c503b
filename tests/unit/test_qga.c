/* unit-qga: the guest-agent client (orchestrator/guest/qga_client.c) and the RDP
 * service question (orchestrator/guest/rdp_service.c) against a scripted fake
 * agent on a socket pair: synchronization past stale bytes and answers,
 * commands, guest-exec, timeouts and resynchronization, a silent channel (no
 * agent in the guest) and EOF; the same client over an exchange (what
 * libvirt's virDomainQemuAgentCommand gives: libvirt/lv_agent.c) with hostile
 * answers: too large, malformed, several, of the wrong types. The real
 * qemu-ga is in
 * tests/integration/test_qga.c. */
#include "common/error.h"
#include "guest/guest_apps.h"
#include "guest/qga_client.h"
#include "guest/qga_client_priv.h"
#include "guest/rdp_service_priv.h"
#include "test_util.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* --- the fake agent --- */

typedef struct {
    const char *execute;   /* the command expected next */
    const char *reply;     /* written after it; "%ID%" becomes the sync id; NULL: none */
} Step;

typedef struct {
    int fd;
    const Step *steps;
    GThread *thread;
    GPtrArray *requests;   /* each request line as received (without the newline) */
    char *failure;         /* what went wrong in the thread, or NULL */
    gint64 last_sync_id;
    bool sync_byte_seen;   /* a sync request came after a 0xFF byte */
} Agent;

static char *read_line(int fd)
{
    GString *s = g_string_new(NULL);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        char ch;
        if (read(fd, &ch, 1) != 1)
            break;
        if (ch == '\n')
            return g_string_free(s, FALSE);
        g_string_append_c(s, ch);
    }
    g_string_free(s, TRUE);
    return NULL;
}

static gpointer agent_main(gpointer data)
{
    Agent *a = data;
    for (const Step *st = a->steps; st->execute; st++) {
        char *line = read_line(a->fd);
        if (!line) {
            a->failure = g_strdup_printf("no request where %s was expected", st->execute);
            return NULL;
        }
        g_ptr_array_add(a->requests, line);
        const char *json = line;
        bool delimited = false;
        while (*json == '\xff') {
            json++;
            delimited = true;
        }
        g_autoptr(JsonParser) p = json_parser_new();
        if (!json_parser_load_from_data(p, json, -1, NULL) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
            a->failure = g_strdup_printf("request is not JSON: %s", json);
            return NULL;
        }
        JsonObject *req = json_node_get_object(json_parser_get_root(p));
        const char *ex = json_object_get_string_member_with_default(req, "execute", "");
        if (strcmp(ex, st->execute)) {
            a->failure = g_strdup_printf("got %s where %s was expected", ex, st->execute);
            return NULL;
        }
        if (!strcmp(ex, "guest-sync-delimited")) {
            a->sync_byte_seen = delimited;
            a->last_sync_id =
                json_object_get_int_member(json_object_get_object_member(req, "arguments"), "id");
        }
        if (!st->reply)
            continue;
        g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, a->last_sync_id);
        g_auto(GStrv) parts = g_strsplit(st->reply, "%ID%", -1);
        g_autofree char *reply = g_strjoinv(id, parts);
        size_t len = strlen(reply);
        if (send(a->fd, reply, len, MSG_NOSIGNAL) != (ssize_t)len) {
            a->failure = g_strdup("cannot write the reply");
            return NULL;
        }
    }
    return NULL;
}

/* A client and the fake agent running @steps on the other end. */
static QgaClient *agent_start(Agent *a, const Step *steps)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    memset(a, 0, sizeof(*a));
    a->fd = sv[1];
    a->steps = steps;
    a->requests = g_ptr_array_new_with_free_func(g_free);
    a->thread = g_thread_new("fake-agent", agent_main, a);
    return qga_client_new_fd(sv[0], NULL);
}

/* Join the agent (after the client is done or destroyed) and check it saw
 * the whole script. */
static void agent_finish(Agent *a)
{
    g_thread_join(a->thread);
    if (a->failure)
        g_error("fake agent: %s", a->failure);
    close(a->fd);
    g_ptr_array_unref(a->requests);
}

#define SYNC_OK "\xff{\"return\": %ID%}\n"

static void test_sync_skips_stale(void)
{
    static const Step steps[] = {
        /* An earlier client's answer, junk, a stale sync answer, then ours. */
        {"guest-sync-delimited", "{\"return\": {}}\n\x01\x02 junk {\"retu"
                                 "\xff{\"return\": 999}\n"
                                 "{\"return\": {\"stale\": true}}\n" SYNC_OK},
        {"guest-ping", "{\"return\": {}}\n"},
        {"guest-sync-delimited", SYNC_OK},
        {"guest-info", "{\"return\": {\"version\": \"7.2.22\"}}\n"},
        {NULL, NULL},
    };
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    g_autoptr(GError) err = NULL;
    g_assert_true(qga_client_sync(c, 2000, &err));
    g_assert_no_error(err);
    g_assert_true(a.sync_byte_seen);
    gint64 first_id = a.last_sync_id;
    g_assert_cmpint(first_id, >, 0);
    g_assert_true(qga_client_ping(c, 2000, &err));
    g_assert_no_error(err);
    g_assert_true(qga_client_sync(c, 2000, &err));
    g_assert_cmpint(a.last_sync_id, !=, first_id);
    g_autoptr(JsonNode) info = qga_client_execute(c, "guest-info", NULL, 2000, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(info), "version"), ==,
                    "7.2.22");
    g_clear_pointer(&c, qga_client_destroy);
    agent_finish(&a);
}

/* The first command synchronizes by itself. */
static void test_implicit_sync(void)
{
    static const Step steps[] = {
        {"guest-sync-delimited", SYNC_OK},
        {"guest-ping", "{\"return\": {}}\n"},
        {NULL, NULL},
    };
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    g_assert_true(qga_client_ping(c, 2000, NULL));
    g_clear_pointer(&c, qga_client_destroy);
    agent_finish(&a);
}

static void test_exec(void)
{
    static const Step steps[] = {
        {"guest-sync-delimited", SYNC_OK},
        {"guest-exec", "{\"return\": {\"pid\": 4242}}\n"},
        {"guest-exec-status", "{\"return\": {\"exited\": false}}\n"},
        {"guest-exec-status", "{\"return\": {\"exited\": true, \"exitcode\": 3, \"out-data\": "
                              "\"aGkK\", \"err-data\": \"b29wcw==\", \"out-truncated\": true}}\n"},
        {"guest-exec", "{\"return\": {\"pid\": 4243}}\n"},
        {"guest-exec-status", "{\"return\": {\"exited\": true, \"signal\": 9}}\n"},
        {NULL, NULL},
    };
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    g_autoptr(GError) err = NULL;
    QgaExecResult r;
    const char *argv[] = {"sh", "-c", "echo hi; echo oops >&2; exit 3", NULL};
    g_assert_true(qga_client_exec(c, "/bin/sh", argv, 5000, &r, &err));
    g_assert_no_error(err);
    g_assert_cmpint(r.pid, ==, 4242);
    g_assert_cmpint(r.exit_code, ==, 3);
    g_assert_cmpint(r.signal, ==, 0);
    g_assert_cmpstr(r.out, ==, "hi\n");
    g_assert_cmpuint(r.out_len, ==, 3);
    g_assert_true(r.out_truncated);
    g_assert_cmpstr(r.err, ==, "oops");
    g_assert_false(r.err_truncated);
    qga_exec_result_clear(&r);
    g_assert_true(qga_client_exec(c, "/bin/true", NULL, 5000, &r, &err));
    g_assert_cmpint(r.exit_code, ==, -1);
    g_assert_cmpint(r.signal, ==, 9);
    g_assert_cmpstr(r.out, ==, "");
    qga_exec_result_clear(&r);
    g_clear_pointer(&c, qga_client_destroy);

    /* What the client asked for: path, args, captured output. */
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, g_ptr_array_index(a.requests, 1), -1, NULL));
    JsonObject *args =
        json_object_get_object_member(json_node_get_object(json_parser_get_root(p)), "arguments");
    g_assert_cmpstr(json_object_get_string_member(args, "path"), ==, "/bin/sh");
    g_assert_true(json_object_get_boolean_member(args, "capture-output"));
    JsonArray *arg = json_object_get_array_member(args, "arg");
    g_assert_cmpuint(json_array_get_length(arg), ==, 2);
    g_assert_cmpstr(json_array_get_string_element(arg, 1), ==, "echo hi; echo oops >&2; exit 3");
    /* Without input and env (qga_client_exec), neither member is sent. */
    g_assert_null(strstr(g_ptr_array_index(a.requests, 1), "input-data"));
    g_assert_null(strstr(g_ptr_array_index(a.requests, 1), "\"env\""));
    agent_finish(&a);
}

/* guest-exec with standard input and an environment: input-data in base64,
 * env as "KEY=VALUE" strings. */
static void test_exec_input(void)
{
    static const Step steps[] = {
        {"guest-sync-delimited", SYNC_OK},
        {"guest-exec", "{\"return\": {\"pid\": 5}}\n"},
        {"guest-exec-status", "{\"return\": {\"exited\": true, \"exitcode\": 0, \"out-data\": "
                              "\"b2s=\"}}\n"},
        {NULL, NULL},
    };
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    g_autoptr(GError) err = NULL;
    QgaExecResult r;
    const char *argv[] = {"sh", "-s", "--", "demo", NULL};
    const char *env[] = {"LC_ALL=C", "PATH=/usr/bin:/bin", NULL};
    static const char script[] = "echo ok\n\0tail";
    g_assert_true(qga_client_exec_input(c, "/bin/sh", argv, env, script, sizeof(script) - 1,
                                        5000, &r, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(r.out, ==, "ok");
    qga_exec_result_clear(&r);
    g_clear_pointer(&c, qga_client_destroy);

    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, g_ptr_array_index(a.requests, 1), -1, NULL));
    JsonObject *args =
        json_object_get_object_member(json_node_get_object(json_parser_get_root(p)), "arguments");
    gsize n = 0;
    g_autofree guchar *in = g_base64_decode(json_object_get_string_member(args, "input-data"), &n);
    g_assert_cmpmem(in, n, script, sizeof(script) - 1);
    JsonArray *e = json_object_get_array_member(args, "env");
    g_assert_cmpuint(json_array_get_length(e), ==, 2);
    g_assert_cmpstr(json_array_get_string_element(e, 0), ==, "LC_ALL=C");
    g_assert_cmpstr(json_array_get_string_element(e, 1), ==, "PATH=/usr/bin:/bin");
    JsonArray *arg = json_object_get_array_member(args, "arg");
    g_assert_cmpuint(json_array_get_length(arg), ==, 3);
    g_assert_cmpstr(json_array_get_string_element(arg, 0), ==, "-s");
    agent_finish(&a);
}

static void test_refusals(void)
{
    static const Step steps[] = {
        {"guest-sync-delimited", SYNC_OK},
        {"guest-exec", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Guest agent "
                       "command failed, error was 'Failed to execute child process \xe2\x80\x9c"
                       "/no/such\xe2\x80\x9d (No such file or directory)'\"}}\n"},
        {"guest-frobnicate", "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
                             "command guest-frobnicate has not been found\"}}\n"},
        {"guest-exec", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"guest-exec has "
                       "been disabled\"}}\n"},
        {NULL, NULL},
    };
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    g_autoptr(GError) err = NULL;
    QgaExecResult r;
    g_assert_false(qga_client_exec(c, "/no/such", NULL, 2000, &r, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_true(g_str_has_prefix(err->message, "cannot run /no/such in the guest: "));
    g_assert_nonnull(strstr(err->message, "No such file or directory"));
    g_clear_error(&err);
    g_assert_null(qga_client_execute(c, "guest-frobnicate", NULL, 2000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_cmpstr(err->message, ==, "the guest agent refused guest-frobnicate: The command "
                                      "guest-frobnicate has not been found");
    g_clear_error(&err);
    g_assert_false(qga_client_exec(c, "/bin/true", NULL, 2000, &r, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_VM);
    g_assert_cmpstr(err->message, ==, "cannot run /bin/true in the guest: guest-exec has been "
                                      "disabled");
    g_clear_pointer(&c, qga_client_destroy);
    agent_finish(&a);
}

/* A command that times out leaves its answer on the way: the next command
 * resynchronizes first and never takes that answer for its own. */
static void test_timeout_then_resync(void)
{
    static const Step steps[] = {
        {"guest-sync-delimited", SYNC_OK},
        {"guest-info", NULL}, /* no answer in time */
        {"guest-sync-delimited", "{\"return\": {\"late\": \"guest-info\"}}\n" SYNC_OK},
        {"guest-ping", "{\"return\": {\"pong\": 1}}\n"},
        {NULL, NULL},
    };
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_null(qga_client_execute(c, "guest-info", NULL, 200, &err));
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_cmpint(ms, >=, 190);
    g_assert_cmpint(ms, <, 1000);
    g_clear_error(&err);
    g_autoptr(JsonNode) r = qga_client_execute(c, "guest-ping", NULL, 2000, &err);
    g_assert_no_error(err);
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(r), "pong"), ==, 1);
    g_clear_pointer(&c, qga_client_destroy);
    agent_finish(&a);
}

/* QEMU's end of the channel accepts whether or not an agent runs in the
 * guest: silence is "no guest agent", within the deadline. */
static void test_no_agent_silence(void)
{
    static const Step steps[] = {{"guest-sync-delimited", NULL}, {NULL, NULL}};
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_false(qga_client_sync(c, 300, &err));
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_true(g_str_has_prefix(err->message, "no guest agent answered within 300 ms"));
    g_assert_cmpint(ms, >=, 290);
    g_assert_cmpint(ms, <, 600);
    g_clear_pointer(&c, qga_client_destroy);
    agent_finish(&a);
}

static void test_eof(void)
{
    static const Step steps[] = {{"guest-sync-delimited", SYNC_OK}, {NULL, NULL}};
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    g_autoptr(GError) err = NULL;
    g_assert_true(qga_client_sync(c, 2000, &err));
    g_thread_join(a.thread);
    a.thread = NULL;
    shutdown(a.fd, SHUT_WR);
    g_assert_false(qga_client_ping(c, 2000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_nonnull(strstr(err->message, "closed the connection"));
    g_clear_error(&err);
    /* Broken for good, at once. */
    gint64 t0 = g_get_monotonic_time();
    g_assert_false(qga_client_sync(c, 2000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 100 * 1000);
    close(a.fd);
    g_ptr_array_unref(a.requests);
}

static void test_malformed(void)
{
    static const Step steps[] = {
        {"guest-sync-delimited", SYNC_OK},
        {"guest-ping", "{'return': {}}\n"},
        {NULL, NULL},
    };
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    g_autoptr(GError) err = NULL;
    g_assert_false(qga_client_ping(c, 2000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_true(g_str_has_prefix(err->message, "the guest agent sent malformed JSON"));
    g_clear_pointer(&c, qga_client_destroy);
    agent_finish(&a);
}

static void test_connect_unix(void)
{
    g_autoptr(GError) err = NULL;
    g_assert_null(qga_client_connect_unix("/nonexistent/vmdesk/qga.sock", &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_cmpstr(err->message, ==, "no guest agent: /nonexistent/vmdesk/qga.sock does not "
                                      "exist (is the VM running?)");
    g_clear_error(&err);

    /* A socket file with nothing behind it (its server is gone). */
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *path = g_build_filename(dir, "qga.sock", NULL);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    close(fd);
    g_assert_null(qga_client_connect_unix(path, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_true(g_str_has_prefix(err->message, "no guest agent: nothing listens on "));
    g_clear_error(&err);

    g_autofree char *longp = g_strnfill(200, 'x');
    g_assert_null(qga_client_connect_unix(longp, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    tu_rm_rf(dir);
}

/* --- the RDP service question --- */

static void test_parse_systemctl(void)
{
    const char *const *units = rdp_service_linux_units;
    const char *which = NULL;
    g_assert_cmpint(rdp_service_parse_systemctl("active\ninactive\n", units, &which), ==,
                    RDP_SERVICE_RUNNING);
    g_assert_cmpstr(which, ==, "xrdp");
    g_assert_cmpint(rdp_service_parse_systemctl("inactive\nactive\n", units, &which), ==,
                    RDP_SERVICE_RUNNING);
    g_assert_cmpstr(which, ==, "gnome-remote-desktop");
    g_assert_cmpint(rdp_service_parse_systemctl("inactive\ninactive\n", units, NULL), ==,
                    RDP_SERVICE_STOPPED);
    g_assert_cmpint(rdp_service_parse_systemctl("failed\nactivating\n", units, NULL), ==,
                    RDP_SERVICE_STOPPED);
    g_assert_cmpint(rdp_service_parse_systemctl("", units, NULL), ==, RDP_SERVICE_UNKNOWN);
    g_assert_cmpint(rdp_service_parse_systemctl(NULL, units, NULL), ==, RDP_SERVICE_UNKNOWN);
    g_assert_cmpint(rdp_service_parse_systemctl("System has not been booted with systemd as "
                                                "init system (PID 1). Can't operate.\n",
                                                units, NULL),
                    ==, RDP_SERVICE_UNKNOWN);
}

/* What sc.exe query TermService prints, around its STATE line. */
#define SC_HEAD                                                                                   \
    "\r\nSERVICE_NAME: TermService\r\n"                                                          \
    "        TYPE               : 20  WIN32_SHARE_PROCESS\r\n"
#define SC_TAIL                                                                                   \
    "                                (NOT_STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)\r\n"          \
    "        WIN32_EXIT_CODE    : 0  (0x0)\r\n"                                                    \
    "        SERVICE_EXIT_CODE  : 0  (0x0)\r\n"                                                    \
    "        CHECKPOINT         : 0x0\r\n"                                                         \
    "        WAIT_HINT          : 0x0\r\n"

static void test_parse_sc_query(void)
{
    g_assert_cmpint(rdp_service_parse_sc_query(SC_HEAD "        STATE              : 4  RUNNING "
                                               "\r\n" SC_TAIL),
                    ==, RDP_SERVICE_RUNNING);
    g_assert_cmpint(rdp_service_parse_sc_query(SC_HEAD "        STATE              : 1  STOPPED "
                                               "\r\n" SC_TAIL),
                    ==, RDP_SERVICE_STOPPED);
    g_assert_cmpint(rdp_service_parse_sc_query(SC_HEAD "        STATE              : 2  "
                                               "START_PENDING \r\n" SC_TAIL),
                    ==, RDP_SERVICE_STOPPED);
    g_assert_cmpint(rdp_service_parse_sc_query("[SC] EnumQueryServicesStatus:OpenService FAILED "
                                               "1060:\r\n\r\nThe specified service does not "
                                               "exist as an installed service.\r\n"),
                    ==, RDP_SERVICE_UNKNOWN);
    g_assert_cmpint(rdp_service_parse_sc_query(""), ==, RDP_SERVICE_UNKNOWN);
}

static void test_query_windows(void)
{
    g_autofree char *out = g_base64_encode(
        (const guchar *)SC_HEAD "        STATE              : 4  RUNNING \r\n" SC_TAIL,
        strlen(SC_HEAD "        STATE              : 4  RUNNING \r\n" SC_TAIL));
    g_autofree char *status = g_strdup_printf("{\"return\": {\"exited\": true, \"exitcode\": 0, "
                                              "\"out-data\": \"%s\"}}\n",
                                              out);
    const Step steps[] = {
        {"guest-sync-delimited", SYNC_OK},
        {"guest-exec", "{\"return\": {\"pid\": 7}}\n"},
        {"guest-exec-status", status},
        {NULL, NULL},
    };
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    RdpServiceInfo info = {0};
    g_assert_cmpint(rdp_service_query(c, VM_OS_WINDOWS, 2000, &info), ==, RDP_SERVICE_RUNNING);
    g_assert_cmpstr(info.service, ==, "TermService");
    g_assert_cmpstr(info.detail, ==, "TermService is running");
    g_assert_cmpstr(rdp_service_state_to_string(info.state), ==, "running");
    rdp_service_info_clear(&info);
    g_clear_pointer(&c, qga_client_destroy);
    g_assert_nonnull(strstr(g_ptr_array_index(a.requests, 1), "\"path\":\"sc.exe\""));
    g_assert_nonnull(strstr(g_ptr_array_index(a.requests, 1), "[\"query\",\"TermService\"]"));
    agent_finish(&a);
}

/* No systemd in the guest: systemctl cannot tell, pidof can. */
static void test_query_linux_fallback(void)
{
    static const Step steps[] = {
        {"guest-sync-delimited", SYNC_OK},
        {"guest-exec", "{\"return\": {\"pid\": 7}}\n"},
        /* "System has not been booted with systemd..." on stderr, status 1 */
        {"guest-exec-status", "{\"return\": {\"exited\": true, \"exitcode\": 1, \"err-data\": "
                              "\"U3lzdGVtIGhhcyBub3QgYmVlbiBib290ZWQgd2l0aCBzeXN0ZW1kCg==\"}}\n"},
        {"guest-exec", "{\"return\": {\"pid\": 8}}\n"},
        {"guest-exec-status", "{\"return\": {\"exited\": true, \"exitcode\": 1}}\n"},
        {NULL, NULL},
    };
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    RdpServiceInfo info = {0};
    g_assert_cmpint(rdp_service_query(c, VM_OS_LINUX, 2000, &info), ==, RDP_SERVICE_STOPPED);
    g_assert_cmpstr(info.detail, ==, "no xrdp process runs");
    g_assert_null(info.service);
    rdp_service_info_clear(&info);
    g_clear_pointer(&c, qga_client_destroy);
    g_assert_nonnull(strstr(g_ptr_array_index(a.requests, 1),
                            "\"arg\":[\"is-active\",\"xrdp\",\"gnome-remote-desktop\"]"));
    g_assert_nonnull(strstr(g_ptr_array_index(a.requests, 3), "\"path\":\"pidof\""));
    agent_finish(&a);
}

static void test_query_no_agent(void)
{
    static const Step steps[] = {{"guest-sync-delimited", NULL}, {NULL, NULL}};
    Agent a;
    g_autoptr(QgaClient) c = agent_start(&a, steps);
    RdpServiceInfo info = {0};
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(rdp_service_query(c, VM_OS_LINUX, 300, &info), ==, RDP_SERVICE_UNKNOWN);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 600 * 1000);
    g_assert_true(g_str_has_prefix(info.detail, "no guest agent"));
    rdp_service_info_clear(&info);
    g_clear_pointer(&c, qga_client_destroy);
    agent_finish(&a);
}

/* --- over an exchange (libvirt's transport) --- */

static void expect_parse_error(const char *text, gsize len, const char *words)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonObject) o = qga_reply_parse(text, len, "guest-ping", "the agent", &err);
    g_assert_null(o);
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    if (!strstr(err->message, words))
        g_error("answer %.60s: \"%s\" lacks \"%s\"", text, err->message, words);
}

static void test_reply_parse(void)
{
    g_autoptr(GError) err = NULL;
    const char *ok[] = {"{\"return\":{}}", "{\"return\": 7}\n",
                        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"no\"}}",
                        /* a bare "error" of another type: still a refusal */
                        "{\"error\":5}", NULL};
    for (const char **t = ok; *t; t++) {
        g_autoptr(JsonObject) o = qga_reply_parse(*t, strlen(*t), "guest-ping", "the agent", &err);
        g_assert_no_error(err);
        g_assert_nonnull(o);
    }
    expect_parse_error("", 0, "with nothing");
    expect_parse_error("{\"return\":1}\n{\"return\":2}", 25, "several messages");
    expect_parse_error("{\"QMP\":{}}", 10, "another object");
    expect_parse_error("[1,2]", 5, "not an object");
    expect_parse_error("{\"return\":", 10, "malformed JSON");
    expect_parse_error("{\"return\":1} x", 14, "malformed JSON");
    expect_parse_error("{\"return\":\"\xff\xfe\"}", 15, "malformed JSON");
    expect_parse_error("{\"return\":NaN}", 14, "malformed JSON");
    expect_parse_error("{\"return\":1}\0{\"x\":1}", 20, "malformed JSON");
    g_autofree char *deep = tu_deep_json("{\"return\":", 100000, "}");
    expect_parse_error(deep, strlen(deep), "malformed JSON");
    /* Too large: refused before any parsing. */
    gsize big = QGA_MESSAGE_MAX + 1;
    char *huge = g_malloc(big);
    memset(huge, ' ', big);
    expect_parse_error(huge, big, "more than the 24 MiB");
    g_free(huge);
}

/* Answers handed out in order, one per command; a NULL answer is a
 * timeout. Each request is kept. */
typedef struct {
    const char *const *answers;
    guint next;
    GPtrArray *requests;
} Exchange;

static char *scripted(void *data, const char *request, int timeout_ms, GError **error)
{
    Exchange *x = data;
    g_assert_cmpint(timeout_ms, >, 0);
    g_ptr_array_add(x->requests, g_strdup(request));
    const char *a = x->answers[x->next++];
    if (!a) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "no guest agent answered in time");
        return NULL;
    }
    return g_strdup(a);
}

static QgaClient *exchange_client(Exchange *x, const char *const *answers)
{
    x->answers = answers;
    x->next = 0;
    x->requests = g_ptr_array_new_with_free_func(g_free);
    return qga_client_new_exchange(scripted, x, NULL, "the exchange");
}

/* exec's answers of the wrong types, each a clear protocol error. */
static void test_exchange_hostile(void)
{
    struct {
        const char *exec, *status, *words;
        int code;
    } cases[] = {
        {"{\"return\":\"7\"}", NULL, "without a pid", VD_ERROR_PROTOCOL},
        {"{\"return\":[7]}", NULL, "without a pid", VD_ERROR_PROTOCOL},
        {"{\"return\":{\"pid\":7}}", "{\"return\":{\"exited\":\"yes\"}}", "without \"exited\"",
         VD_ERROR_PROTOCOL},
        {"{\"return\":{\"pid\":7}}", "{\"return\":null}", "without \"exited\"",
         VD_ERROR_PROTOCOL},
        {"{\"return\":{\"pid\":7}}", "{\"return\":{\"exited\":true}} {", "malformed JSON",
         VD_ERROR_PROTOCOL},
        {"{\"error\":{\"class\":\"GenericError\",\"desc\":\"Failed to execute child process "
         "\\u201cnope\\u201d (No such file or directory)\"}}",
         NULL, "cannot run nope in the guest: Failed", VD_ERROR_NOT_FOUND},
        {"{\"error\":{\"desc\":[1]}}", NULL, "cannot run nope in the guest: no reason given",
         VD_ERROR_VM},
        {"{\"return\":{\"pid\":7}}", NULL, "did not finish in the guest", VD_ERROR_TIMEOUT},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *answers[] = {cases[i].exec, cases[i].status, NULL};
        Exchange x;
        g_autoptr(QgaClient) c = exchange_client(&x, answers);
        QgaExecResult r;
        g_autoptr(GError) err = NULL;
        const char *argv[] = {"nope", NULL};
        g_assert_false(qga_client_exec(c, "nope", argv, 2000, &r, &err));
        g_assert_nonnull(err);
        if (err->code != cases[i].code || !strstr(err->message, cases[i].words))
            g_error("case %u: %d \"%s\", want %d \"%s\"", i, err->code, err->message,
                    cases[i].code, cases[i].words);
        g_ptr_array_unref(x.requests);
    }
}

/* The application listing itself, unchanged, over an exchange: a ping (the
 * sync), the OS from guest-get-osinfo (a wrong type: Linux), the script. */
static void test_exchange_apps(void)
{
    const char *listing = "{\"vmdesk-list-apps\":1,\"os\":\"linux\"}\n"
                          "{\"id\":\"xterm.desktop\",\"name\":\"XTerm\",\"program\":\"/usr/bin/"
                          "xterm\"}\n{\"end\":1}\n";
    g_autofree char *b64 = g_base64_encode((const guchar *)listing, strlen(listing));
    g_autofree char *status = g_strdup_printf(
        "{\"return\":{\"exited\":true,\"exitcode\":0,\"out-data\":\"%s\",\"err-data\":5}}", b64);
    const char *answers[] = {"{\"return\":{}}", "{\"return\":{\"id\":5,\"kernel-name\":[]}}",
                             "{\"return\":{\"pid\":9}}", status, NULL};
    Exchange x;
    g_autoptr(QgaClient) c = exchange_client(&x, answers);
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) apps = guest_apps_list_client(c, NULL, NULL, 5000, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(apps->len, ==, 1);
    GuestApp *app = g_ptr_array_index(apps, 0);
    g_assert_cmpstr(app->program, ==, "/usr/bin/xterm");
    g_assert_true(g_str_has_prefix(g_ptr_array_index(x.requests, 0), "{\"execute\":\"guest-ping\""));
    g_assert_true(g_str_has_prefix(g_ptr_array_index(x.requests, 1),
                                   "{\"execute\":\"guest-get-osinfo\""));
    g_assert_nonnull(strstr(g_ptr_array_index(x.requests, 2), "\"path\":\"/bin/sh\""));
    g_ptr_array_unref(x.requests);

    /* Windows by the agent's word: the PowerShell script. */
    const char *win[] = {"{\"return\":{}}", "{\"return\":{\"id\":\"mswindows\"}}",
                         "{\"error\":{\"desc\":\"not here\"}}", NULL};
    Exchange y;
    g_autoptr(QgaClient) w = exchange_client(&y, win);
    g_autoptr(GPtrArray) none = guest_apps_list_client(w, NULL, NULL, 5000, &err);
    g_assert_null(none);
    g_assert_error(err, VD_ERROR, VD_ERROR_VM);
    g_assert_nonnull(strstr(g_ptr_array_index(y.requests, 2), "\"path\":\"powershell.exe\""));
    g_ptr_array_unref(y.requests);
    g_clear_error(&err);

    /* No agent: the error names the guest tools to install. */
    const char *silent[] = {NULL};
    Exchange z;
    g_autoptr(QgaClient) s = exchange_client(&z, silent);
    g_assert_null(guest_apps_list_client(s, NULL, NULL, 5000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(err->message, "qemu-guest-agent"));
    g_ptr_array_unref(z.requests);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qga/sync-skips-stale", test_sync_skips_stale);
    g_test_add_func("/qga/implicit-sync", test_implicit_sync);
    g_test_add_func("/qga/exec", test_exec);
    g_test_add_func("/qga/exec-input", test_exec_input);
    g_test_add_func("/qga/refusals", test_refusals);
    g_test_add_func("/qga/timeout-then-resync", test_timeout_then_resync);
    g_test_add_func("/qga/no-agent-silence", test_no_agent_silence);
    g_test_add_func("/qga/eof", test_eof);
    g_test_add_func("/qga/malformed", test_malformed);
    g_test_add_func("/qga/connect-unix", test_connect_unix);
    g_test_add_func("/qga/reply-parse", test_reply_parse);
    g_test_add_func("/qga/exchange-hostile", test_exchange_hostile);
    g_test_add_func("/qga/exchange-apps", test_exchange_apps);
    g_test_add_func("/rdp-service/parse-systemctl", test_parse_systemctl);
    g_test_add_func("/rdp-service/parse-sc-query", test_parse_sc_query);
    g_test_add_func("/rdp-service/query-windows", test_query_windows);
    g_test_add_func("/rdp-service/query-linux-fallback", test_query_linux_fallback);
    g_test_add_func("/rdp-service/query-no-agent", test_query_no_agent);
    return g_test_run();
}
