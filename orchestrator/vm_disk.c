#include "vm_disk.h"

#include "error.h"
#include "size.h"
#include "spawn.h"
#include "vm_control.h"
#include "vm_state.h"
#include "vm_store.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

#define QEMU_IMG_TIMEOUT_MS 60000
#define QMP_TIMEOUT_MS 10000

static char *disk_path(const char *name, char **format, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return NULL;
    char *path = vm_store_disk_path(cfg);
    if (!path) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "VM \"%s\" has no disk", name);
        return NULL;
    }
    if (format)
        *format = g_strdup(cfg->disk_format);
    return path;
}

bool vm_disk_size(const char *name, uint64_t *bytes, GError **error)
{
    g_autofree char *format = NULL;
    g_autofree char *path = disk_path(name, &format, error);
    if (!path)
        return false;
    /* -U: QEMU may hold the image's lock; reading its header is safe. */
    const char *argv[] = {"qemu-img", "info", "-U", "--output=json", "-f", format, path, NULL};
    VdRunResult r = {0};
    if (!vd_run(argv, QEMU_IMG_TIMEOUT_MS, &r, error))
        return false;
    bool ok = false;
    g_autoptr(JsonParser) p = json_parser_new();
    if (WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 0 &&
        json_parser_load_from_data(p, r.output, -1, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        gint64 v = json_object_get_int_member_with_default(o, "virtual-size", -1);
        if (v >= 0) {
            *bytes = (uint64_t)v;
            ok = true;
        }
    }
    if (!ok)
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "qemu-img info %s failed: %s", path,
                    g_strstrip(r.output ? r.output : ""));
    vd_run_result_clear(&r);
    return ok;
}

bool vm_disk_resize(const char *name, const char *spec, bool *live, uint64_t *old_size,
                    uint64_t *new_size, GError **error)
{
    *live = false;
    g_autofree char *format = NULL;
    g_autofree char *path = disk_path(name, &format, error);
    if (!path)
        return false;
    bool grow_by = spec[0] == '+';
    uint64_t amount, current;
    if (!vd_size_parse(spec + (grow_by ? 1 : 0), 'G', &amount, error)) {
        g_prefix_error(error, "disk size %s: ", spec);
        return false;
    }
    if (!vm_disk_size(name, &current, error))
        return false;
    uint64_t target = grow_by ? current + amount : amount;
    g_autofree char *cur_s = vd_size_format(current), *target_s = vd_size_format(target);
    if (target < current) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the disk is %s; shrinking it to %s would cut off the end of the guest's "
                    "file systems, so vmdesk only grows disks (shrink the partitions inside the "
                    "guest first, then run qemu-img resize --shrink on the stopped VM's disk "
                    "yourself)",
                    cur_s, target_s);
        return false;
    }
    if (target == current) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the disk already is %s", cur_s);
        return false;
    }
    /* Images are sparse: growing writes only a little metadata. */
    g_autoptr(VmStatus) st = vm_status_get(name);
    if (vm_state_is_active(st->state)) {
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "node-name", "disk0");
        json_object_set_int_member(args, "size", (gint64)target);
        g_autoptr(JsonNode) ret = vm_qmp_run(name, "block_resize", args, QMP_TIMEOUT_MS, error);
        if (!ret)
            return false;
        *live = true;
    } else {
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, target);
        const char *argv[] = {"qemu-img", "resize", "-f", format, path, size, NULL};
        if (!vd_run_check(argv, QEMU_IMG_TIMEOUT_MS, "qemu-img resize", error))
            return false;
    }
    if (old_size)
        *old_size = current;
    if (new_size)
        *new_size = target;
    return true;
}
