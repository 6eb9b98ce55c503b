#include "storage/vm_media.h"

#include "common/error.h"
#include "vm/vm_control.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define CD_ID "cd0"
#define QMP_TIMEOUT_MS 5000

void vm_cdrom_clear(VmCdrom *cd)
{
    g_free(cd->medium);
    memset(cd, 0, sizeof(*cd));
}

bool vm_cdrom_query(const char *name, VmCdrom *cd, GError **error)
{
    memset(cd, 0, sizeof(*cd));
    g_autoptr(JsonNode) ret = vm_qmp_run(name, "query-block", NULL, QMP_TIMEOUT_MS, error);
    if (!ret)
        return false;
    JsonArray *devices = JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    for (guint i = 0; devices && i < json_array_get_length(devices); i++) {
        JsonObject *d = json_array_get_object_element(devices, i);
        const char *qdev = d ? json_object_get_string_member_with_default(d, "qdev", "") : "";
        if (strcmp(qdev, CD_ID) && !g_str_has_suffix(qdev, "/" CD_ID))
            continue;
        cd->tray_open = json_object_get_boolean_member_with_default(d, "tray_open", FALSE);
        JsonObject *ins = json_object_has_member(d, "inserted")
                              ? json_object_get_object_member(d, "inserted")
                              : NULL;
        if (ins)
            cd->medium = g_strdup(json_object_get_string_member_with_default(ins, "file", ""));
        return true;
    }
    g_set_error(error, VD_ERROR, VD_ERROR_VM, "QEMU reports no CD drive \"%s\"", CD_ID);
    return false;
}

/* Run @command (@args taken) on the drive when the VM runs (*@live), then
 * record @iso (NULL: none) in the config, as `vmdesk set NAME iso=...`. */
static bool change_medium(const char *name, const char *command, JsonObject *args,
                          const char *iso, bool *live, GError **error)
{
    g_autoptr(VmStatus) st = vm_status_get(name);
    bool running = vm_state_is_active(st->state);
    *live = false;
    if (running) {
        g_autoptr(JsonNode) ret = vm_qmp_run(name, command, args, QMP_TIMEOUT_MS, error);
        if (!ret)
            return false;
        *live = true;
    } else {
        json_object_unref(args);
    }
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    g_autofree char *assign = g_strdup_printf("iso=%s", iso ? iso : "");
    return vm_config_set(cfg, assign, running, NULL, error) && vm_store_save(cfg, error);
}

bool vm_cdrom_insert(const char *name, const char *path, bool *live, GError **error)
{
    *live = false;
    if (!vm_store_exists(name)) {
        vm_config_free(vm_store_load(name, error)); /* for its "no such VM" */
        return false;
    }
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    if (!g_file_test(abs, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "%s is not a file (an ISO image)", path);
        return false;
    }
    if (access(abs, R_OK) != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "cannot read %s: %s", abs,
                    g_strerror(errno));
        return false;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", CD_ID);
    json_object_set_string_member(args, "filename", abs);
    json_object_set_string_member(args, "format", "raw");
    json_object_set_string_member(args, "read-only-mode", "read-only");
    return change_medium(name, "blockdev-change-medium", args, abs, live, error);
}

bool vm_cdrom_eject(const char *name, bool *live, GError **error)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", CD_ID);
    json_object_set_boolean_member(args, "force", TRUE);
    return change_medium(name, "eject", args, NULL, live, error);
}
