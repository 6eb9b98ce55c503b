/* A JSON-lines channel over a stream socket: what the QMP client
 * (qmp_client.c) and the guest-agent client (guest/qga_client.c) share.
 * It owns the socket and the framing (json_lines.h, with its size cap),
 * sends requests, reads with deadlines, and turns for good into a broken
 * state on EOF, a read or write error or a framing error: the stream cannot
 * be resynchronized then, and every later call fails with the same error.
 * A timeout leaves the channel intact.
 *
 * Blocking with deadlines (g_get_monotonic_time() values, microseconds).
 * Not thread-safe: the thread that owns the client owns its channel.
 * Errors are VD_ERROR_PROTOCOL (the channel is then broken) and
 * VD_ERROR_TIMEOUT ("PEER did not answer WHAT in time"). */
#pragma once

#include "qemu/json_lines.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

typedef struct JsonChannel JsonChannel;

/* Connect a stream socket to the unix socket at @path. While the socket
 * does not exist yet or nobody accepts on it (ENOENT, ECONNREFUSED: its
 * server is still starting; EAGAIN: its backlog is full, it serves another
 * client), try again every 20 ms until @retry_ms passed; 0 tries once.
 * Never blocks longer. Returns the connected socket (close-on-exec,
 * non-blocking), or -errno:
 * -ENAMETOOLONG when @path does not fit a socket address, else socket()'s
 * or the last connect()'s. The caller words the error in its own terms.
 * Any thread. */
int json_channel_connect_unix(const char *path, int retry_ms);

/* A channel on the connected stream socket @fd (-1: none, for bytes fed by
 * json_channel_feed()) framed by @lines (whose handler gets every message).
 * Takes ownership of @fd and @lines; @lines stays valid for the caller
 * (json_lines_skip_to()) as long as the channel lives. @peer names the other
 * end in messages ("QEMU", "the guest agent on PATH"). Makes @fd
 * non-blocking. Never fails. */
JsonChannel *json_channel_new(int fd, const char *peer, JsonLines *lines);
/* Close the socket and free the channel. Accepts NULL. */
void json_channel_destroy(JsonChannel *ch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JsonChannel, json_channel_destroy)

/* The socket, for a main loop to watch (-1 when there is none); still owned
 * by the channel. */
int json_channel_get_fd(JsonChannel *ch);

/* True while the channel is usable; else false with @error set to a copy of
 * the error that broke it. */
bool json_channel_check(JsonChannel *ch, GError **error);

/* Feed bytes as if read from the socket: framing, the size cap, the
 * handler. False with @error set, the channel then broken, on a framing
 * error or the handler's error; at once when already broken. */
bool json_channel_feed(JsonChannel *ch, const char *data, gsize len, GError **error);

/* Read what the socket holds now, without blocking, and feed it. True when
 * nothing (more) is there; false with @error set, the channel then broken,
 * on EOF ("PEER closed the connection"), a read error or a framing error. */
bool json_channel_read(JsonChannel *ch, GError **error);

/* Wait until the socket is readable or @deadline passed, then read as
 * json_channel_read() does. VD_ERROR_TIMEOUT "PEER did not answer @what in
 * time" leaves the channel intact; any other failure breaks it. */
bool json_channel_wait_read(JsonChannel *ch, gint64 deadline, const char *what, GError **error);

/* {"execute": @command, "arguments": @args, "id": @id} as compact JSON text
 * (no newline), @args and @id borrowed and left out when NULL. Newly
 * allocated; pure. */
char *json_request_to_string(const char *command, JsonObject *args, const char *id);

/* Send one request line, {"execute": @command, "arguments": @args,
 * "id": @id}, preceded by the bytes of @lead (NULL: none; the guest agent's
 * 0xFF delimiter). @args and @id are borrowed and left out when NULL.
 * VD_ERROR_TIMEOUT "PEER did not take @command in time" when the socket
 * stays full until @deadline (a part may have gone out; the channel is not
 * broken); VD_ERROR_PROTOCOL on a write error (broken). */
bool json_channel_send_request(JsonChannel *ch, const char *lead, const char *command,
                               JsonObject *args, const char *id, gint64 deadline,
                               GError **error);

/* Why a peer refused a command, from the "error" member of its reply (QMP
 * and the guest agent word it alike): its "desc", else its "class", else
 * "no reason given". @refusal is borrowed; so is the string returned. */
const char *json_channel_refusal_reason(JsonObject *refusal);
