/* Line-delimited JSON as QEMU speaks it on its QMP monitor and its guest
 * agent: one JSON object per line, checked in strict JSON terms before
 * json-glib parses it, with a size cap. Shared by qmp_client.c and
 * guest/qga_client.c. Pure: bytes in, messages out, no I/O. Not thread-safe: one
 * thread owns a JsonLines.
 *
 * The guest agent's guest-sync-delimited answers with a 0xFF byte before its
 * reply so that a client can drop whatever stale bytes came before;
 * json_lines_skip_to() does that. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

typedef struct JsonLines JsonLines;

/* Called for each complete message, in order; @msg is borrowed for the call.
 * Return false with @error set to stop: json_lines_feed() then fails with
 * that error. The handler may call json_lines_skip_to() on its JsonLines. */
typedef bool (*JsonLinesFunc)(JsonObject *msg, void *user_data, GError **error);

/* @peer names the sender in error messages ("QMP", "the guest agent").
 * A message (a line, or a partial line) longer than @max_bytes is an error. */
JsonLines *json_lines_new(const char *peer, gsize max_bytes, JsonLinesFunc func,
                          void *user_data);
void json_lines_destroy(JsonLines *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JsonLines, json_lines_destroy)

/* Append bytes read from the peer and hand every complete line to the
 * handler. Fails with VD_ERROR_PROTOCOL ("PEER sent malformed JSON: why",
 * "PEER message larger than N bytes", "... not an object") or the handler's
 * error. After a failure the stream cannot be trusted: the caller stops
 * using it (or resynchronizes with json_lines_skip_to()). The split of the
 * stream into feeds never changes the outcome. */
bool json_lines_feed(JsonLines *j, const char *data, gsize len, GError **error);

/* Drop all input, buffered or yet to come, up to and including the next
 * @delim byte. Input after it is parsed as usual. */
void json_lines_skip_to(JsonLines *j, guchar delim);

/* Forget buffered input and any pending skip. */
void json_lines_reset(JsonLines *j);

/* Typed members of a message from outside: NULL (or 0 / false) when absent
 * or of another type. json-glib's own getters emit a critical on a wrong type,
 * so code reading a peer's message uses these. @o may be NULL. */
JsonObject *json_member_object(JsonObject *o, const char *name);
JsonArray *json_member_array(JsonObject *o, const char *name);
const char *json_member_string(JsonObject *o, const char *name);
/* An integer member; false (and *@value untouched) when absent or not an integer. */
bool json_member_int(JsonObject *o, const char *name, gint64 *value);
/* A boolean member; false (and *@value untouched) when absent or not a boolean. */
bool json_member_bool(JsonObject *o, const char *name, bool *value);
