/* Byte-range sets and the resume state file of a download (fetch_priv.h). */
#include "fetch/fetch_priv.h"

#include "common/error.h"
#include "common/json_build.h"
#include "common/keyfile.h"

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

static char *opt_string(JsonObject *o, const char *member)
{
    JsonNode *n = json_object_get_member(o, member);
    if (!n || JSON_NODE_HOLDS_NULL(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return g_strdup(json_node_get_string(n));
}

bool fetch_state_load(const char *path, FetchState *st, GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    if (!json_parser_load_from_file(p, path, &err)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: %s", path, err->message);
        return false;
    }
    JsonNode *root = json_parser_get_root(p);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    JsonNode *size = o ? json_object_get_member(o, "size") : NULL;
    JsonNode *done = o ? json_object_get_member(o, "done") : NULL;
    if (!o || !size || json_node_get_value_type(size) != G_TYPE_INT64 ||
        json_node_get_int(size) < 0 || !done || !JSON_NODE_HOLDS_ARRAY(done)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s is not a vmdesk download state",
                    path);
        return false;
    }
    st->url = opt_string(o, "url");
    st->size = (uint64_t)json_node_get_int(size);
    st->etag = opt_string(o, "etag");
    st->last_modified = opt_string(o, "last-modified");
    JsonArray *a = json_node_get_array(done);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *e = json_array_get_element(a, i);
        JsonArray *pair = JSON_NODE_HOLDS_ARRAY(e) ? json_node_get_array(e) : NULL;
        gint64 s = pair && json_array_get_length(pair) == 2 ? json_array_get_int_element(pair, 0)
                                                            : -1;
        gint64 t = pair && json_array_get_length(pair) == 2 ? json_array_get_int_element(pair, 1)
                                                            : -1;
        if (s < 0 || t < s || (uint64_t)t > st->size) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "%s: byte range %u is outside the file", path, i);
            return false;
        }
        fetch_ranges_add(st->done, (uint64_t)s, (uint64_t)t);
    }
    if (!st->url) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s names no URL", path);
        return false;
    }
    return true;
}

bool fetch_state_save(const char *path, const FetchState *st, const GArray *extra,
                      GError **error)
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
    g_autofree char *text = vd_json_builder_to_string(b);
    return vd_file_write_atomic(path, text, -1, 0644, error);
}
