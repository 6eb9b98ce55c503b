#include "qemu/json_lines.h"

#include "common/error.h"

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

/* The value of the 4 hex digits at @s, or -1. */
static int hex4(const char *s)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int d = g_ascii_xdigit_value(s[k]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* json-glib 1.6 parses nested arrays and objects by recursion without a
 * limit (a line of "[[[[..." overflows the stack), and its lexer is laxer
 * than JSON: single-quoted strings, comments, and escapes such as a short
 * "\u12" that swallow the closing quote, and it ignores what follows the
 * first value. So before parsing, check the line in strict JSON terms,
 * which all QEMU sends: strings with valid escapes and paired surrogates,
 * no quote or slash outside strings, one value per line, and no deeper
 * nesting than JSON_NESTING_MAX. Returns why not, or NULL. */
static const char *check_json_line(const char *s, gsize len)
{
    int depth = 0;
    bool done = false; /* the first object or array ended */
    for (gsize i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (done && !g_ascii_isspace(ch))
            return "a line holds more than one message";
        if (ch == '[' || ch == '{') {
            if (++depth > JSON_NESTING_MAX)
                return "it is nested too deeply";
        } else if (ch == ']' || ch == '}') {
            done = --depth == 0;
        } else if (ch == '\'' || ch == '/' || ch == '\0') {
            return "it has a character outside a string that JSON does not allow there";
        } else if (ch == '"') {
            for (i++;; i++) {
                if (i >= len)
                    return "a string is not terminated";
                ch = (unsigned char)s[i];
                if (ch == '"')
                    break;
                if (ch < 0x20)
                    return "a string contains a control character";
                if (ch != '\\')
                    continue;
                if (++i >= len)
                    return "a string is not terminated";
                if (strchr("\"\\/bfnrt", s[i]) && s[i])
                    continue;
                int hi = s[i] == 'u' && len - i > 4 ? hex4(s + i + 1) : -1;
                if (hi < 0)
                    return "a string contains an invalid escape";
                i += 4;
                if (hi >= 0xdc00 && hi <= 0xdfff)
                    return "a string contains an unpaired surrogate";
                if (hi >= 0xd800 && hi <= 0xdbff) {
                    int lo = len - i > 6 && s[i + 1] == '\\' && s[i + 2] == 'u' ? hex4(s + i + 3)
                                                                                 : -1;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return "a string contains an unpaired surrogate";
                    i += 6;
                }
            }
        }
    }
    return NULL;
}

static bool handle_line(JsonLines *j, const char *line, gsize len, GError **error)
{
    while (len && g_ascii_isspace(line[len - 1]))
        len--;
    if (len == 0)
        return true;
    const char *why = check_json_line(line, len);
    if (why) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "%s sent malformed JSON: %s", j->peer,
                    why);
        return false;
    }
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) perr = NULL;
    if (!json_parser_load_from_data(parser, line, (gssize)len, &perr)) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "%s sent malformed JSON: %s", j->peer,
                    perr->message);
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
