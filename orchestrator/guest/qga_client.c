#include "guest/qga_client.h"
#include "guest/qga_client_priv.h"

#include "common/error.h"
#include "qemu/json_channel.h"
#include "qemu/json_lines.h"

#include <errno.h>
#include <string.h>

/* The agent writes this byte before its answer to guest-sync-delimited, and
 * we write it before the command so that the agent drops any half command
 * still in its parser. It never occurs in UTF-8 JSON. */
#define QGA_SYNC_BYTE 0xFF

struct QgaClient {
    JsonChannel *ch;       /* the socket, framing, broken state; NULL with an exchange */
    JsonLines *lines;      /* the channel's framing (borrowed), for resynchronizing */
    QgaExchangeFunc exchange; /* or someone else's transport (qga_client_new_exchange) */
    void *exchange_data;
    GDestroyNotify exchange_destroy;
    char *name;            /* "the guest agent" or "the guest agent on PATH" */
    GQueue replies;        /* JsonObject* answers not yet claimed */
    bool synced;           /* the next answer is for the next command */
    bool syncing;          /* waiting for the answer to sync_id */
    gint64 sync_id;
};

static bool handle_message(JsonObject *msg, void *user_data, GError **error);

QgaClient *qga_client_new_fd(int fd, const char *name)
{
    QgaClient *c = g_new0(QgaClient, 1);
    c->name = g_strdup(name ? name : "the guest agent");
    c->lines = json_lines_new("the guest agent", QGA_MESSAGE_MAX, handle_message, c);
    c->ch = json_channel_new(fd, c->name, c->lines);
    g_queue_init(&c->replies);
    return c;
}

QgaClient *qga_client_new_exchange(QgaExchangeFunc exchange, void *data, GDestroyNotify destroy,
                                   const char *name)
{
    QgaClient *c = g_new0(QgaClient, 1);
    c->name = g_strdup(name ? name : "the guest agent");
    c->exchange = exchange;
    c->exchange_data = data;
    c->exchange_destroy = destroy;
    c->synced = true; /* the exchanger synchronizes */
    g_queue_init(&c->replies);
    return c;
}

void qga_client_destroy(QgaClient *c)
{
    if (!c)
        return;
    json_channel_destroy(c->ch);
    if (c->exchange_destroy)
        c->exchange_destroy(c->exchange_data);
    g_queue_clear_full(&c->replies, (GDestroyNotify)json_object_unref);
    g_free(c->name);
    g_free(c);
}

QgaClient *qga_client_connect_unix(const char *path, GError **error)
{
    int fd = json_channel_connect_unix(path, 0);
    if (fd == -ENAMETOOLONG)
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "socket path too long: %s", path);
    else if (fd == -ENOENT)
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no guest agent: %s does not exist (is the VM running?)", path);
    else if (fd == -ECONNREFUSED)
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no guest agent: nothing listens on %s", path);
    else if (fd == -EAGAIN)
        /* QEMU serves one client at a time, and notices a client that left
         * only once the guest's agent reads its port. */
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                    "the guest agent socket %s takes no more clients now (another one "
                    "holds it, or the guest's agent is not running yet)", path);
    else if (fd < 0)
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "cannot connect to the guest agent socket %s: %s", path, g_strerror(-fd));
    if (fd < 0)
        return NULL;
    g_autofree char *name = g_strdup_printf("the guest agent on %s", path);
    return qga_client_new_fd(fd, name);
}

static bool handle_message(JsonObject *msg, void *user_data, GError **error)
{
    QgaClient *c = user_data;
    if (!json_object_has_member(msg, "return") && !json_object_has_member(msg, "error")) {
        /* The agent sends nothing else; an old or odd one may, harmlessly. */
        return true;
    }
    if (c->syncing) {
        gint64 id;
        if (json_member_int(msg, "return", &id) && id == c->sync_id) {
            c->syncing = false;
            c->synced = true;
        } else {
            /* A stale answer (to an earlier client's command or sync): wait
             * for the delimiter of ours. */
            json_lines_skip_to(c->lines, QGA_SYNC_BYTE);
        }
        return true;
    }
    g_queue_push_tail(&c->replies, json_object_ref(msg));
    return true;
}

static bool take_reply(JsonObject *msg, void *user_data, GError **error)
{
    GPtrArray *got = user_data;
    (void)error;
    g_ptr_array_add(got, json_object_ref(msg));
    return true;
}

JsonObject *qga_reply_parse(const char *text, gsize len, const char *command, const char *peer,
                            GError **error)
{
    if (len > QGA_MESSAGE_MAX) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "%s answered %s with %" G_GSIZE_FORMAT " bytes, more than the %u MiB "
                    "vmdesk takes",
                    peer, command, len, QGA_MESSAGE_MAX >> 20);
        return NULL;
    }
    g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    g_autoptr(JsonLines) lines = json_lines_new(peer, QGA_MESSAGE_MAX, take_reply, got);
    GError *local = NULL;
    if (!json_lines_feed(lines, text, len, &local) || !json_lines_feed(lines, "\n", 1, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "answering %s: %s", command,
                    local->message);
        g_error_free(local);
        return NULL;
    }
    JsonObject *r = got->len == 1 ? g_ptr_array_index(got, 0) : NULL;
    if (!r || (!json_object_has_member(r, "return") && !json_object_has_member(r, "error"))) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "%s answered %s with %s instead of one object with \"return\" or \"error\"",
                    peer, command, got->len > 1 ? "several messages" : got->len ? "another object" : "nothing");
        return NULL;
    }
    return json_object_ref(r);
}

/* @command's answer through the exchange, within @deadline. */
static JsonObject *exchange_reply(QgaClient *c, const char *command, JsonObject *args,
                                  gint64 deadline, GError **error)
{
    gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
    if (left_ms <= 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "%s did not answer %s in time", c->name,
                    command);
        return NULL;
    }
    g_autofree char *request = json_request_to_string(command, args, NULL);
    g_autofree char *text =
        c->exchange(c->exchange_data, request, (int)MIN(left_ms, G_MAXINT), error);
    if (!text)
        return NULL;
    return qga_reply_parse(text, strlen(text), command, c->name, error);
}

/* Send @command (@args borrowed), after the sync byte with @delimit. */
static bool send_command(QgaClient *c, const char *command, JsonObject *args, bool delimit,
                         gint64 deadline, GError **error)
{
    if (json_channel_send_request(c->ch, delimit ? "\xff" : NULL, command, args, NULL, deadline,
                                  error))
        return true;
    /* A part may have gone out before a timeout: the agent's parser needs
     * a reset. (Any other failure broke the channel for good.) */
    c->synced = false;
    return false;
}

static bool sync_by(QgaClient *c, gint64 deadline, int timeout_ms, GError **error)
{
    if (c->exchange) {
        /* The exchanger synchronizes by itself: a guest-ping shows that an
         * agent answers (even a refusal does). */
        g_autoptr(JsonObject) r = exchange_reply(c, "guest-ping", NULL, deadline, error);
        return r != NULL;
    }
    if (!json_channel_check(c->ch, error))
        return false;
    /* Whatever was buffered is from before the sync and can only be stale. */
    g_queue_clear_full(&c->replies, (GDestroyNotify)json_object_unref);
    c->synced = false;
    c->syncing = true;
    c->sync_id = g_random_int_range(1, G_MAXINT32);
    json_lines_skip_to(c->lines, QGA_SYNC_BYTE);
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_int_member(args, "id", c->sync_id);
    if (!send_command(c, "guest-sync-delimited", args, true, deadline, error))
        return false;
    while (!c->synced) {
        g_autoptr(GError) local = NULL;
        if (!json_channel_wait_read(c->ch, deadline, "guest-sync-delimited", &local)) {
            if (g_error_matches(local, VD_ERROR, VD_ERROR_TIMEOUT))
                g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                            "no guest agent answered within %d ms (%s: is qemu-guest-agent "
                            "installed and running in the guest?)",
                            timeout_ms, c->name);
            else
                g_set_error(error, VD_ERROR, local->code, "no guest agent: %s", local->message);
            return false;
        }
    }
    return true;
}

bool qga_client_sync(QgaClient *c, int timeout_ms, GError **error)
{
    return sync_by(c, g_get_monotonic_time() + (gint64)timeout_ms * 1000, timeout_ms, error);
}

/* Send @command and take its answer: the "return" member, or NULL with
 * *@refusal set to the agent's "error" object (no @error), or NULL with
 * @error set when there was no answer. */
/* @command's whole answer through the socket. */
static JsonObject *channel_reply(QgaClient *c, const char *command, JsonObject *args,
                                 gint64 deadline, int timeout_ms, GError **error)
{
    if (!json_channel_check(c->ch, error))
        return NULL;
    if (!c->synced && !sync_by(c, deadline, timeout_ms, error))
        return NULL;
    if (!send_command(c, command, args, false, deadline, error))
        return NULL;
    while (g_queue_is_empty(&c->replies)) {
        g_autoptr(GError) local = NULL;
        if (!json_channel_wait_read(c->ch, deadline, command, &local)) {
            /* A late answer must not be taken for the next command's. */
            if (g_error_matches(local, VD_ERROR, VD_ERROR_TIMEOUT))
                c->synced = false;
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
    }
    return g_queue_pop_head(&c->replies);
}

static JsonNode *execute_raw(QgaClient *c, const char *command, JsonObject *args,
                             gint64 deadline, int timeout_ms, JsonObject **refusal,
                             GError **error)
{
    *refusal = NULL;
    g_autoptr(JsonObject) reply = c->exchange
                                      ? exchange_reply(c, command, args, deadline, error)
                                      : channel_reply(c, command, args, deadline, timeout_ms, error);
    if (!reply)
        return NULL;
    if (json_object_has_member(reply, "error")) {
        JsonObject *e = json_member_object(reply, "error");
        *refusal = e ? json_object_ref(e) : json_object_new();
        return NULL;
    }
    return json_node_copy(json_object_get_member(reply, "return"));
}

static JsonNode *execute_by(QgaClient *c, const char *command, JsonObject *args,
                            gint64 deadline, int timeout_ms, GError **error)
{
    g_autoptr(JsonObject) refusal = NULL;
    JsonNode *r = execute_raw(c, command, args, deadline, timeout_ms, &refusal, error);
    if (refusal) {
        int code = !g_strcmp0(json_member_string(refusal, "class"), "CommandNotFound")
                       ? VD_ERROR_NOT_FOUND
                       : VD_ERROR_VM;
        g_set_error(error, VD_ERROR, code, "the guest agent refused %s: %s", command,
                    json_channel_refusal_reason(refusal));
    }
    return r;
}

JsonNode *qga_client_execute(QgaClient *c, const char *command, JsonObject *args,
                             int timeout_ms, GError **error)
{
    g_autoptr(JsonObject) owned = args;
    return execute_by(c, command, owned, g_get_monotonic_time() + (gint64)timeout_ms * 1000,
                      timeout_ms, error);
}

bool qga_client_ping(QgaClient *c, int timeout_ms, GError **error)
{
    g_autoptr(JsonNode) r = qga_client_execute(c, "guest-ping", NULL, timeout_ms, error);
    return r != NULL;
}

void qga_exec_result_clear(QgaExecResult *r)
{
    if (!r)
        return;
    g_free(r->out);
    g_free(r->err);
    memset(r, 0, sizeof(*r));
}

/* The base64 member @name of @o, decoded and NUL-terminated ("" if absent). */
static char *decode_member(JsonObject *o, const char *name, gsize *len)
{
    const char *b64 = json_member_string(o, name);
    gsize n = 0;
    g_autofree guchar *raw = b64 && *b64 ? g_base64_decode(b64, &n) : NULL;
    char *s = g_malloc(n + 1);
    if (n)
        memcpy(s, raw, n);
    s[n] = 0;
    *len = n;
    return s;
}

static bool not_finished(const char *path, int timeout_ms, gint64 pid, GError **error)
{
    g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                "%s did not finish in the guest within %d ms (it goes on running there, pid %"
                G_GINT64_FORMAT ")", path, timeout_ms, pid);
    return false;
}

bool qga_client_exec(QgaClient *c, const char *path, const char *const *argv, int timeout_ms,
                     QgaExecResult *result, GError **error)
{
    return qga_client_exec_input(c, path, argv, NULL, NULL, 0, timeout_ms, result, error);
}

bool qga_client_exec_input(QgaClient *c, const char *path, const char *const *argv,
                           const char *const *env, const void *input, gsize input_len,
                           int timeout_ms, QgaExecResult *result, GError **error)
{
    memset(result, 0, sizeof(*result));
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autoptr(JsonObject) args = json_object_new();
    json_object_set_string_member(args, "path", path);
    JsonArray *arg = json_array_new();
    for (const char *const *a = argv && *argv ? argv + 1 : NULL; a && *a; a++)
        json_array_add_string_element(arg, *a);
    json_object_set_array_member(args, "arg", arg);
    json_object_set_boolean_member(args, "capture-output", TRUE);
    if (env) {
        JsonArray *e = json_array_new();
        for (const char *const *kv = env; *kv; kv++)
            json_array_add_string_element(e, *kv);
        json_object_set_array_member(args, "env", e);
    }
    if (input) {
        /* Even empty: the program then reads EOF at once, not the agent's stdin. */
        g_autofree char *b64 = g_base64_encode(input, input_len);
        json_object_set_string_member(args, "input-data", b64);
    }
    g_autoptr(JsonObject) refusal = NULL;
    g_autoptr(JsonNode) started =
        execute_raw(c, "guest-exec", args, deadline, timeout_ms, &refusal, error);
    if (refusal) {
        /* The agent's words say why: "Failed to execute child process “x”
         * (No such file or directory)"; on Windows, CreateProcess's. */
        const char *why = json_channel_refusal_reason(refusal);
        bool missing = strstr(why, "No such file") || strstr(why, "cannot find the file");
        g_set_error(error, VD_ERROR, missing ? VD_ERROR_NOT_FOUND : VD_ERROR_VM,
                    "cannot run %s in the guest: %s", path, why);
        return false;
    }
    if (!started)
        return false;
    gint64 pid = 0;
    if (!JSON_NODE_HOLDS_OBJECT(started) ||
        !json_member_int(json_node_get_object(started), "pid", &pid)) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "the guest agent answered guest-exec without a pid");
        return false;
    }
    result->pid = pid;
    /* Poll fast first: most programs we run end within milliseconds. */
    gulong delay_us = 2000;
    for (;;) {
        g_autoptr(JsonObject) q = json_object_new();
        json_object_set_int_member(q, "pid", pid);
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonNode) st = execute_by(c, "guest-exec-status", q, deadline, timeout_ms,
                                            &local);
        if (!st) {
            if (g_error_matches(local, VD_ERROR, VD_ERROR_TIMEOUT))
                return not_finished(path, timeout_ms, pid, error);
            g_propagate_error(error, g_steal_pointer(&local));
            return false;
        }
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(st) ? json_node_get_object(st) : NULL;
        bool exited = false;
        if (!o || !json_member_bool(o, "exited", &exited)) {
            g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                        "the guest agent answered guest-exec-status without \"exited\"");
            return false;
        }
        if (exited) {
            gint64 code = -1, sig = 0;
            json_member_int(o, "exitcode", &code);
            json_member_int(o, "signal", &sig);
            result->exit_code = (int)code;
            result->signal = (int)sig;
            result->out = decode_member(o, "out-data", &result->out_len);
            result->err = decode_member(o, "err-data", &result->err_len);
            json_member_bool(o, "out-truncated", &result->out_truncated);
            json_member_bool(o, "err-truncated", &result->err_truncated);
            return true;
        }
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0)
            return not_finished(path, timeout_ms, pid, error);
        g_usleep((gulong)MIN((gint64)delay_us, left));
        delay_us = MIN(delay_us * 2, 100000);
    }
}
