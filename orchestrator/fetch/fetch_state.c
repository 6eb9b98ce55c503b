/* Byte-range sets and the resume state file of a download (fetch_priv.h). */
#include "fetch/fetch_priv.h"

#include "common/error.h"
#include "common/json_build.h"
#include "common/json_check.h"
#include "common/keyfile.h"
#include "common/text.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

void fetch_ranges_add(GArray *ranges, uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    /* Insert in order, then merge neighbours that touch or overlap. */
    guint i = 0;
    while (i < ranges->len && g_array_index(ranges, FetchRange, i).start < start)
        i++;
    FetchRange r = {start, end};
    g_array_insert_val(ranges, i, r);
    GArray *merged = g_array_sized_new(FALSE, FALSE, sizeof(FetchRange), ranges->len);
    for (guint k = 0; k < ranges->len; k++) {
        FetchRange cur = g_array_index(ranges, FetchRange, k);
        if (merged->len) {
            FetchRange *last = &g_array_index(merged, FetchRange, merged->len - 1);
            if (cur.start <= last->end) {
                last->end = MAX(last->end, cur.end);
                continue;
            }
        }
        g_array_append_val(merged, cur);
    }
    g_array_set_size(ranges, 0);
    g_array_append_vals(ranges, merged->data, merged->len);
    g_array_unref(merged);
}

uint64_t fetch_ranges_total(const GArray *ranges)
{
    uint64_t n = 0;
    for (guint i = 0; ranges && i < ranges->len; i++) {
        const FetchRange *r = &g_array_index(ranges, FetchRange, i);
        n += r->end - r->start;
    }
    return n;
}

GArray *fetch_ranges_missing(const GArray *ranges, uint64_t size)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(FetchRange));
    uint64_t pos = 0;
    for (guint i = 0; ranges && i < ranges->len && pos < size; i++) {
        const FetchRange *r = &g_array_index(ranges, FetchRange, i);
        if (r->start > pos) {
            FetchRange gap = {pos, MIN(r->start, size)};
            g_array_append_val(out, gap);
        }
        pos = MAX(pos, r->end);
    }
    if (pos < size) {
        FetchRange gap = {pos, size};
        g_array_append_val(out, gap);
    }
    return out;
}

void fetch_state_init(FetchState *st)
{
    memset(st, 0, sizeof(*st));
    st->done = g_array_new(FALSE, FALSE, sizeof(FetchRange));
}

void fetch_state_clear(FetchState *st)
{
    g_clear_pointer(&st->url, g_free);
    g_clear_pointer(&st->etag, g_free);
    g_clear_pointer(&st->last_modified, g_free);
    g_clear_pointer(&st->done, g_array_unref);
    st->size = 0;
}

/* A state file is a few hundred bytes: the URL, the validators and the
 * finished ranges, which merge as the download proceeds. */
#define STATE_BYTES_MAX (1 << 20)
/* {"done": [[start, end], ...]} is three levels deep. */
#define STATE_NESTING_MAX 8

/* @o's string member @name into *@out; false when it is there but not a
 * string, or missing and not @optional (absent or null: *@out stays NULL). */
static bool get_string(JsonObject *o, const char *name, bool optional, char **out)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return optional;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return false;
    *out = g_strdup(json_node_get_string(n));
    return true;
}

/* A byte offset: a JSON integer from 0 to G_MAXINT64 (not a float, a string
 * or anything else json-glib would convert or complain about). */
static bool get_offset(JsonNode *n, uint64_t *out)
{
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) < 0)
        return false;
    *out = (uint64_t)json_node_get_int(n);
    return true;
}

/* Fill @st from the parsed @o. Returns why not (newly allocated), or NULL. */
static char *read_state(JsonObject *o, FetchState *st)
{
    const struct {
        const char *name;
        char **out;
        bool optional;
    } strings[] = {
        {"url", &st->url, false},
        {"etag", &st->etag, true},
        {"last-modified", &st->last_modified, true},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
        if (!get_string(o, strings[i].name, strings[i].optional, strings[i].out))
            return g_strdup_printf("\"%s\" is %s", strings[i].name,
                                   strings[i].optional ? "not a string"
                                                       : "missing or not a string");
    uint64_t done_bytes = 0;
    if (!get_offset(json_object_get_member(o, "size"), &st->size) ||
        (json_object_has_member(o, "done-bytes") &&
         !get_offset(json_object_get_member(o, "done-bytes"), &done_bytes)))
        return g_strdup("\"size\" or \"done-bytes\" is not a byte count");
    JsonNode *done = json_object_get_member(o, "done");
    if (!done || !JSON_NODE_HOLDS_ARRAY(done))
        return g_strdup("\"done\" is missing or not a list");
    JsonArray *a = json_node_get_array(done);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *e = json_array_get_element(a, i);
        JsonArray *pair = JSON_NODE_HOLDS_ARRAY(e) ? json_node_get_array(e) : NULL;
        uint64_t start, end;
        if (!pair || json_array_get_length(pair) != 2 ||
            !get_offset(json_array_get_element(pair, 0), &start) ||
            !get_offset(json_array_get_element(pair, 1), &end))
            return g_strdup_printf("finished range %u is not a pair of byte offsets", i);
        if (end < start || end > st->size)
            return g_strdup_printf("finished range %u lies outside the file", i);
        fetch_ranges_add(st->done, start, end);
    }
    return NULL;
}

bool fetch_state_parse(const char *data, gsize len, const char *origin, FetchState *st,
                       GError **error)
{
    /* json-glib recurses once per nesting level without a limit: the
     * strict check bounds the depth before it parses anything. */
    const char *check = len > STATE_BYTES_MAX ? "it is larger than 1 MiB"
                        : !g_utf8_validate_len(data, len, NULL)
                            ? "it is not UTF-8"
                            : vd_json_check_strict(data, len, STATE_NESTING_MAX);
    g_autofree char *why = check ? g_strdup(check) : NULL;
    g_autoptr(JsonParser) p = json_parser_new_immutable();
    g_autoptr(GError) err = NULL;
    if (!why && !json_parser_load_from_data(p, data, (gssize)len, &err)) {
        /* json-glib's message quotes the file's bytes, cut anywhere. */
        g_autofree char *q = vd_text_quote(err->message, -1);
        why = g_strdup_printf("it is not JSON: %s", q);
    }
    JsonNode *root = why ? NULL : json_parser_get_root(p);
    if (!why && (!root || !JSON_NODE_HOLDS_OBJECT(root)))
        why = g_strdup("it is not a JSON object");
    if (!why)
        why = read_state(json_node_get_object(root), st);
    if (why) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s is not a vmdesk download state: %s",
                    origin, why);
        fetch_state_clear(st);
        fetch_state_init(st);
        return false;
    }
    return true;
}

bool fetch_state_load(const char *path, FetchState *st, GError **error)
{
    GStatBuf sb;
    if (g_stat(path, &sb) < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == ENOENT ? VD_ERROR_NOT_FOUND : VD_ERROR_FAILED,
                    "cannot read %s: %s", path, g_strerror(e));
        return false;
    }
    if (sb.st_size > STATE_BYTES_MAX) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is not a vmdesk download state: it is larger than 1 MiB", path);
        return false;
    }
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s", err->message);
        return false;
    }
    return fetch_state_parse(data, len, path, st, error);
}

char *fetch_state_to_data(const FetchState *st, const GArray *extra)
{
    g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(FetchRange));
    for (guint i = 0; i < st->done->len; i++) {
        FetchRange r = g_array_index(st->done, FetchRange, i);
        fetch_ranges_add(all, r.start, r.end);
    }
    for (guint i = 0; extra && i < extra->len; i++) {
        FetchRange r = g_array_index(extra, FetchRange, i);
        fetch_ranges_add(all, r.start, r.end);
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    vd_json_add_string_or_null(b, "url", st->url);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, (gint64)st->size);
    vd_json_add_string_or_null(b, "etag", st->etag);
    vd_json_add_string_or_null(b, "last-modified", st->last_modified);
    json_builder_set_member_name(b, "done");
    json_builder_begin_array(b);
    for (guint i = 0; i < all->len; i++) {
        FetchRange r = g_array_index(all, FetchRange, i);
        json_builder_begin_array(b);
        json_builder_add_int_value(b, (gint64)r.start);
        json_builder_add_int_value(b, (gint64)r.end);
        json_builder_end_array(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "done-bytes");
    json_builder_add_int_value(b, (gint64)fetch_ranges_total(all));
    json_builder_end_object(b);
    return vd_json_builder_to_string(b);
}

bool fetch_state_save(const char *path, const FetchState *st, const GArray *extra,
                      GError **error)
{
    g_autofree char *text = fetch_state_to_data(st, extra);
    return vd_file_write_atomic(path, text, -1, 0644, error);
}
