#include "storage/vm_image.h"

#include "common/error.h"
#include "common/json_build.h"
#include "common/spawn.h"
#include "common/text.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

#define INFO_TIMEOUT_MS (60 * 1000)

bool vm_image_format_known(const char *format)
{
    return format && (!strcmp(format, "raw") || !strcmp(format, "qcow2"));
}

/* {"driver": FORMAT, "file": {"driver": "file", "filename": PATH}, "backing": ...}
 * with "backing" only for qcow2: @backing, or null. Takes ownership of @backing. */
static JsonNode *layer(const char *path, const char *format, JsonNode *backing)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "driver");
    json_builder_add_string_value(b, format);
    json_builder_set_member_name(b, "file");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "driver");
    json_builder_add_string_value(b, "file");
    json_builder_set_member_name(b, "filename");
    json_builder_add_string_value(b, path);
    json_builder_end_object(b);
    if (!strcmp(format, "qcow2")) {
        json_builder_set_member_name(b, "backing");
        if (backing)
            json_builder_add_value(b, g_steal_pointer(&backing));
        else
            json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
    if (backing)
        json_node_unref(backing);
    return json_builder_get_root(b);
}

/* "json:" and @root's text; takes ownership of @root. */
static char *to_spec(JsonNode *root)
{
    g_autofree char *text = vd_json_node_to_string(root, FALSE);
    json_node_unref(root);
    return g_strconcat("json:", text, NULL);
}

char *vm_image_spec(const char *path, const char *format)
{
    return to_spec(layer(path, format, NULL));
}

bool vm_image_base_format_check(const VmConfig *cfg, GError **error)
{
    if (vm_image_format_known(cfg->base_format))
        return true;
    g_autofree char *plain = g_strdup_printf(
        "VM \"%s\"'s settings do not say the format of its base image %s; set its base "
        "format to raw or qcow2, as you made that image",
        cfg->name, cfg->base);
    vd_error_set_worded(error, VD_ERROR_INVALID, NULL, plain,
                        "VM \"%s\"'s config does not say the format of its base %s; set it with "
                        "vmdesk set %s base-format=raw (or qcow2), as you made that image",
                        cfg->name, cfg->base, cfg->name);
    return false;
}

char *vm_image_chain_spec(const VmConfig *cfg, const char *disk, GError **error)
{
    if (!disk || !vm_image_format_known(cfg->disk_format)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "VM \"%s\" has no disk", cfg->name);
        return NULL;
    }
    if (cfg->base && !vm_image_base_format_check(cfg, error))
        return NULL;
    JsonNode *base = cfg->base ? layer(cfg->base, cfg->base_format, NULL) : NULL;
    return to_spec(layer(disk, cfg->disk_format, base));
}

JsonNode *vm_image_run_json(const char *const *argv, int timeout_ms, JsonParser *p,
                            GError **error)
{
    VdRunResult r = {0};
    if (!vd_run(argv, timeout_ms, &r, error))
        return NULL;
    JsonNode *root = NULL;
    if (WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 0 &&
        json_parser_load_from_data(p, r.output, -1, NULL))
        root = json_parser_get_root(p);
    else {
        /* qemu-img may echo what a guest wrote (a backing file name). */
        g_autofree char *said = vd_text_quote(r.output ? g_strstrip(r.output) : "", -1);
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s %s failed: %s", argv[0], argv[1],
                    said);
    }
    vd_run_result_clear(&r);
    return root;
}

/* qemu-img info of @path (as @format; NULL: probed) as a JSON object, which
 * stays valid as long as @p. */
static JsonObject *info(const char *path, const char *format, JsonParser *p, GError **error)
{
    const char *argv[] = {"qemu-img", "info", "-U", "--output=json", format ? "-f" : path,
                          format, format ? path : NULL, NULL};
    JsonNode *n = vm_image_run_json(argv, INFO_TIMEOUT_MS, p, error);
    if (n && !JSON_NODE_HOLDS_OBJECT(n)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "qemu-img info %s printed no object", path);
        return NULL;
    }
    return n ? json_node_get_object(n) : NULL;
}

bool vm_image_virtual_size(const char *path, const char *format, uint64_t *bytes,
                           GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = info(path, format, p, error);
    gint64 v = o ? json_object_get_int_member_with_default(o, "virtual-size", -1) : -1;
    if (o && v < 0)
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "qemu-img info %s gave no size", path);
    if (v < 0)
        return false;
    *bytes = (uint64_t)v;
    return true;
}

/* @o's member @name when it is an object, else NULL. */
static JsonObject *object_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

bool vm_image_probe_user_file(const char *path, const char *what, char **format,
                              GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = info(path, NULL, p, error);
    if (!o)
        return false;
    const char *f = json_object_get_string_member_with_default(o, "format", NULL);
    const char *backing = json_object_get_string_member_with_default(o, "backing-filename", NULL);
    if (!vm_image_format_known(f)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s %s is a %s image; use a raw or qcow2 one (qemu-img convert -O qcow2 "
                    "converts it)",
                    what, path, f ? f : "unknown");
        return false;
    }
    JsonObject *spec = object_member(o, "format-specific");
    JsonObject *spec_data = spec ? object_member(spec, "data") : NULL;
    if (spec_data && json_object_has_member(spec_data, "data-file")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s %s keeps its data in another file (a qcow2 data-file); make it stand "
                    "alone first: qemu-img convert -O qcow2 %s NEW.qcow2",
                    what, path, path);
        return false;
    }
    if (backing) {
        /* The name is the image's bytes: anything. */
        g_autofree char *q = vd_text_quote(backing, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s %s has a backing file of its own (%s); make it stand alone first: "
                    "qemu-img convert -O qcow2 %s NEW.qcow2",
                    what, path, q, path);
        return false;
    }
    *format = g_strdup(f);
    return true;
}

char *vm_image_legacy_base_format(const char *overlay, const char *base)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = info(overlay, "qcow2", p, NULL);
    const char *f =
        o ? json_object_get_string_member_with_default(o, "backing-filename-format", NULL) : NULL;
    if (!vm_image_format_known(f))
        return NULL;
    if (!strcmp(f, "qcow2")) {
        g_autoptr(JsonParser) pb = json_parser_new();
        JsonObject *b = info(base, "qcow2", pb, NULL);
        if (!b || json_object_has_member(b, "backing-filename"))
            return NULL;
    }
    return g_strdup(f);
}
