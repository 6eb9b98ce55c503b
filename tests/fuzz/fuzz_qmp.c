/* libFuzzer harness for the QMP client's input side: the bytes QEMU sends.
 *
 *  1. qmp_client_feed() with the input in one piece, then in small pieces:
 *     the framing must not depend on how reads split the stream (same
 *     events, same outcome).
 *  2. The input as a server's whole answer on a socketpair: handshake, then
 *     commands until the stream breaks, which exercises reply matching and
 *     error mapping (qmp_cmd.c).
 *
 * Any GLib critical or warning aborts (a wrong-typed member must never reach
 * json-glib's checked getters). Built as a fuzzer with VMDESK_FUZZ=ON and
 * clang; replayed over tests/fuzz/corpus by unit-fuzz-replay. */
#include "common/error.h"
#include "fuzz_common.h"
#include "qemu/qmp_client.h"
#include "qemu/qmp_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return fuzz_common_initialize();
}

/* What the handler saw, as "NAME/members;" per event. */
static void on_event(const char *event, JsonObject *data, void *user_data)
{
    GString *log = user_data;
    if (!event || !g_utf8_validate(event, -1, NULL))
        abort();
    g_string_append_printf(log, "%s/%u;", event, data ? json_object_get_size(data) : 0u);
}

/* Every event to on_event, through a table as the supervisor's. */
static const QmpEventHandler events[] = {{NULL, on_event}};

static bool feed_all(const uint8_t *data, size_t size, size_t chunk, GString *log,
                     char **version)
{
    QmpClient *c = qmp_client_new_fd(-1);
    qmp_client_set_event_table(c, events, log);
    bool ok = true;
    for (size_t off = 0; ok && off < size; off += chunk) {
        GError *err = NULL;
        ok = qmp_client_feed(c, (const char *)data + off, MIN(chunk, size - off), &err);
        if (ok != (err == NULL))
            abort(); /* failure, and only failure, sets the error */
        if (err && !g_error_matches(err, VD_ERROR, VD_ERROR_PROTOCOL))
            abort();
        g_clear_error(&err);
    }
    *version = g_strdup(qmp_client_qemu_version(c));
    qmp_client_destroy(c);
    return ok;
}

static void fuzz_feed(const uint8_t *data, size_t size)
{
    GString *whole = g_string_new(NULL), *pieces = g_string_new(NULL);
    char *v1 = NULL, *v2 = NULL;
    bool ok1 = feed_all(data, size, size ? size : 1, whole, &v1);
    /* Piece size from the input itself, so the fuzzer can vary it. */
    size_t chunk = size ? 1 + data[size - 1] % 7 : 1;
    bool ok2 = feed_all(data, size, chunk, pieces, &v2);
    if (ok1 != ok2 || strcmp(whole->str, pieces->str) || g_strcmp0(v1, v2))
        abort();
    g_free(v1);
    g_free(v2);
    g_string_free(whole, TRUE);
    g_string_free(pieces, TRUE);
}

static void fuzz_socket(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    /* The server's whole answer, as much as the socket holds, then EOF. */
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(sv[1], SHUT_WR);
    QmpClient *c = qmp_client_new_fd(sv[0]);
    GString *log = g_string_new(NULL);
    qmp_client_set_event_table(c, events, log);
    GError *err = NULL;
    if (qmp_client_handshake(c, 1000, &err)) {
        static const char *const cmds[] = {"query-status", "stop", "quit", "query-name"};
        for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
            JsonObject *args = NULL;
            if (i == 1) {
                args = json_object_new();
                json_object_set_string_member(args, "x", "y");
            }
            JsonNode *r = qmp_cmd_execute(c, cmds[i], args, 1000, &err);
            if (!r != (err != NULL))
                abort();
            if (r)
                json_node_unref(r);
            if (err && err->domain != VD_ERROR)
                abort();
            if (g_error_matches(err, VD_ERROR, VD_ERROR_PROTOCOL)) { /* the stream is over */
                g_clear_error(&err);
                break;
            }
            g_clear_error(&err);
        }
        qmp_client_read_events(c, NULL);
    } else if (!err) {
        abort();
    }
    g_clear_error(&err);
    qmp_client_destroy(c);
    close(sv[1]);
    g_string_free(log, TRUE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_feed(data, size);
    fuzz_socket(data, size);
    return 0;
}
