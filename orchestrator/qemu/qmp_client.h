/* A QMP (QEMU Machine Protocol) client: JSON objects over a stream socket,
 * one per line (a qemu/json_channel.h channel, as for the guest agent).
 * Commands are synchronous with a timeout; replies are matched
 * by id; asynchronous events go to one handler. Messages larger than
 * QMP_MESSAGE_MAX are a protocol error. Not thread-safe: one thread owns a
 * client. Errors are VD_ERROR_PROTOCOL (framing, EOF), VD_ERROR_TIMEOUT, or
 * the mapped QMP error class (VD_ERROR_NOT_FOUND for CommandNotFound and
 * DeviceNotFound, VD_ERROR_VM otherwise). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#define QMP_MESSAGE_MAX (4u << 20)

typedef struct QmpClient QmpClient;

/* @data is borrowed for the call. The handler must not call back into @c. */
typedef void (*QmpEventFunc)(const char *event, JsonObject *data, void *user_data);

/* Wrap a connected stream socket; takes ownership of @fd (-1: none, for
 * qmp_client_feed()). */
QmpClient *qmp_client_new_fd(int fd);
/* Connect to a unix socket, retrying until @timeout_ms while it does not exist
 * yet or refuses (QEMU is still starting). */
QmpClient *qmp_client_connect_unix(const char *path, int timeout_ms, GError **error);
void qmp_client_destroy(QmpClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_client_destroy)

/* Read the greeting and negotiate capabilities. Must precede everything else. */
bool qmp_client_handshake(QmpClient *c, int timeout_ms, GError **error);

/* QEMU's version from the greeting, "7.2.22"; NULL before the handshake. */
const char *qmp_client_qemu_version(QmpClient *c);

void qmp_client_set_event_handler(QmpClient *c, QmpEventFunc func, void *user_data);

/* Run @command with @args (ownership taken; NULL for none). Returns the
 * "return" member (caller unrefs) or NULL with @error set. Events arriving
 * meanwhile are dispatched to the handler. */
JsonNode *qmp_client_execute(QmpClient *c, const char *command, JsonObject *args,
                             int timeout_ms, GError **error);

/* For a main loop: the socket to watch for input. */
int qmp_client_get_fd(QmpClient *c);
/* Read what is available without blocking and dispatch events. Returns false
 * on EOF (QEMU closed the monitor) or a protocol error. */
bool qmp_client_read_events(QmpClient *c, GError **error);

/* Feed raw bytes as if read from the socket (fuzzing and framing tests):
 * splits lines, enforces the size cap, dispatches events. */
bool qmp_client_feed(QmpClient *c, const char *data, size_t len, GError **error);
