/* A QMP (QEMU Machine Protocol) client: the session on a JSON channel
 * (qemu/json_channel.h): the greeting and capability negotiation, requests
 * with ids and their replies matched by id, and asynchronous events
 * dispatched from a table by name. Messages larger than QMP_MESSAGE_MAX are
 * a protocol error. Commands themselves, with their arguments, results and
 * QEMU's error classes mapped to our codes, are in qemu/qmp_cmd.h.
 *
 * Not thread-safe: one thread owns a client. Errors are VD_ERROR_PROTOCOL
 * (framing, EOF: the client is then broken and every later call fails the
 * same way at once), VD_ERROR_TIMEOUT (the client stays usable), and for
 * connecting VD_ERROR_INVALID and VD_ERROR_NOT_FOUND / VD_ERROR_VM. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#define QMP_MESSAGE_MAX (4u << 20)

typedef struct QmpClient QmpClient;

/* An event: its name, and its "data" member when that is an object, else
 * NULL; both borrowed for the call. The handler must not call back into the
 * client. */
typedef void (*QmpEventFunc)(const char *event, JsonObject *data, void *user_data);

/* A row of an event table: events named @name go to @func. The row whose
 * @name is NULL ends the table; its @func (NULL: none) gets every event
 * that no row names. */
typedef struct {
    const char *name;
    QmpEventFunc func;
} QmpEventHandler;

/* Wrap a connected stream socket; takes ownership of @fd (-1: none, for
 * qmp_client_feed()). Never fails. */
QmpClient *qmp_client_new_fd(int fd);
/* Connect to QEMU's QMP unix socket at @path, retrying until @timeout_ms
 * while it does not exist yet or refuses (QEMU is still starting).
 * VD_ERROR_INVALID for a path too long for a socket, VD_ERROR_NOT_FOUND when
 * it never appeared, VD_ERROR_VM otherwise. Does not negotiate yet. */
QmpClient *qmp_client_connect_unix(const char *path, int timeout_ms, GError **error);
/* Close the connection and free the client. Accepts NULL. */
void qmp_client_destroy(QmpClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_client_destroy)

/* Read the greeting and negotiate capabilities (qmp_capabilities). Must
 * precede every command. VD_ERROR_VM when QEMU refuses the negotiation. */
bool qmp_client_handshake(QmpClient *c, int timeout_ms, GError **error);

/* QEMU's version from the greeting, "7.2.22" (owned by the client); NULL
 * before the handshake. */
const char *qmp_client_qemu_version(QmpClient *c);

/* Dispatch events from now on through @table (borrowed: it must outlive its
 * use, usually a static const array), each handler getting @user_data.
 * NULL drops events. Events are dispatched while the client reads: during
 * commands and qmp_client_read_events(). */
void qmp_client_set_event_table(QmpClient *c, const QmpEventHandler *table, void *user_data);

/* Send @command with @args (ownership taken; NULL for none) and wait up to
 * @timeout_ms for its reply. Returns the reply's "return" member (caller
 * unrefs). When QEMU refused, returns NULL with *@refusal set to its "error"
 * member (caller unrefs; an empty object when that was no object) and
 * @error untouched. When no reply came, returns NULL with *@refusal NULL and
 * @error set. Events arriving meanwhile are dispatched. The typed calls of
 * qemu/qmp_cmd.h are built on this. */
JsonNode *qmp_client_call(QmpClient *c, const char *command, JsonObject *args, int timeout_ms,
                          JsonObject **refusal, GError **error);

/* For a main loop: the socket to watch for input (owned by the client). */
int qmp_client_get_fd(QmpClient *c);
/* Read what is available without blocking and dispatch events. Returns false
 * on EOF (QEMU closed the monitor) or a protocol error. */
bool qmp_client_read_events(QmpClient *c, GError **error);

/* Feed raw bytes as if read from the socket (fuzzing and framing tests):
 * splits lines, enforces the size cap, dispatches events. */
bool qmp_client_feed(QmpClient *c, const char *data, size_t len, GError **error);
