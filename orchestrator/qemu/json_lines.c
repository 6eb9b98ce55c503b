#include "qemu/json_lines.h"

#include "common/error.h"
#include "common/json_check.h"
#include "common/text.h"

#include <string.h>

struct JsonLines {
    char *peer;
    gsize max;
    JsonLinesFunc func;
    void *user_data;
    GString *in;           /* bytes fed, not yet a whole line */
    gsize scanned;         /* leading bytes of @in known to hold no newline */
    int skip;              /* drop input through this byte; -1: not skipping */
};

JsonLines *json_lines_new(const char *peer, gsize max_bytes, JsonLinesFunc func,
                          void *user_data)
{
    JsonLines *j = g_new0(JsonLines, 1);
    j->peer = g_strdup(peer);
    j->max = max_bytes;
    j->func = func;
    j->user_data = user_data;
    j->in = g_string_new(NULL);
    j->skip = -1;
    return j;
}

void json_lines_destroy(JsonLines *j)
{
    if (!j)
        return;
    g_string_free(j->in, TRUE);
    g_free(j->peer);
    g_free(j);
}

void json_lines_skip_to(JsonLines *j, guchar delim)
{
    j->skip = delim;
}

void json_lines_reset(JsonLines *j)
{
    g_string_truncate(j->in, 0);
    j->scanned = 0;
    j->skip = -1;
}

JsonObject *json_member_object(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

JsonArray *json_member_array(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

const char *json_member_string(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

bool json_member_int(JsonObject *o, const char *name, gint64 *value)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return false;
    *value = json_node_get_int(n);
    return true;
}

bool json_member_bool(JsonObject *o, const char *name, bool *value)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
        return false;
    *value = json_node_get_boolean(n);
    return true;
}

/* QEMU nests its JSON a few levels deep; its own parser stops at 1024. */
#define JSON_NESTING_MAX 1024

static bool handle_line(JsonLines *j, const char *line, gsize len, GError **error)
{
    while (len && g_ascii_isspace(line[len - 1]))
        len--;
    if (len == 0)
        return true;
    const char *why = vd_json_check_strict(line, len, JSON_NESTING_MAX);
    if (why) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "%s sent malformed JSON: %s", j->peer,
                    why);
        return false;
    }
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) perr = NULL;
    if (!json_parser_load_from_data(parser, line, (gssize)len, &perr)) {
        /* json-glib's message quotes the peer's bytes, cut anywhere. */
        g_autofree char *message = vd_text_quote(perr->message, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "%s sent malformed JSON: %s", j->peer,
                    message);
        return false;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "%s sent a message that is not an object",
                    j->peer);
        return false;
    }
    return j->func(json_node_get_object(root), j->user_data, error);
}

static bool too_large(JsonLines *j, GError **error)
{
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "%s message larger than %" G_GSIZE_FORMAT
                " bytes", j->peer, j->max);
    return false;
}

bool json_lines_feed(JsonLines *j, const char *data, gsize len, GError **error)
{
    g_string_append_len(j->in, data, (gssize)len);
    /* Lines are handled in place and erased once at the end; only new bytes
     * are searched for a newline, so a long line arriving in small reads is
     * not rescanned from its start each time. */
    gsize start = 0;
    for (;;) {
        if (j->skip >= 0) {
            const char *d = memchr(j->in->str + start, j->skip, j->in->len - start);
            if (!d) {
                start = j->in->len;
                break;
            }
            start = j->scanned = (gsize)(d - j->in->str) + 1;
            j->skip = -1;
        }
        gsize from = MAX(j->scanned, start);
        const char *nl = memchr(j->in->str + from, '\n', j->in->len - from);
        if (!nl)
            break;
        gsize end = (gsize)(nl - j->in->str);
        if (end - start > j->max)
            return too_large(j, error);
        if (!handle_line(j, j->in->str + start, end - start, error))
            return false;
        start = j->scanned = end + 1;
    }
    g_string_erase(j->in, 0, (gssize)start);
    j->scanned = j->in->len;
    if (j->skip < 0 && j->in->len > j->max)
        return too_large(j, error);
    return true;
}
