#include "vm_media.h"

#include "error.h"
#include "vm_control.h"
#include "vm_state.h"
#include "vm_store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define QMP_TIMEOUT_MS 5000
#define CD_ID "cd0"

void vm_cdrom_clear(VmCdrom *cd)
{
    g_free(cd->medium);
    memset(cd, 0, sizeof(*cd));
}

static bool is_running(const char *name)
{
    g_autoptr(VmStatus) st = vm_status_get(name);
    return vm_state_is_active(st->state);
}

bool vm_cdrom_query(const char *name, VmCdrom *cd, GError **error)
{
    memset(cd, 0, sizeof(*cd));
    g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
    if (!c)
        return false;
    g_autoptr(JsonNode) ret = qmp_client_execute(c, "query-block", NULL, QMP_TIMEOUT_MS, error);
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

/* Record @iso (NULL: none) in the config, as `vmdesk set NAME iso=...`. */
static bool save_iso(const char *name, const char *iso, bool running, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    g_autofree char *assign = g_strdup_printf("iso=%s", iso ? iso : "");
    return vm_config_set(cfg, assign, running, NULL, error) && vm_store_save(cfg, error);
}

bool vm_cdrom_insert(const char *name, const char *path, bool *live, GError **error)
{
    *live = false;
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
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
    bool running = is_running(name);
    if (running) {
        g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
        if (!c)
            return false;
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", CD_ID);
        json_object_set_string_member(args, "filename", abs);
        json_object_set_string_member(args, "format", "raw");
        json_object_set_string_member(args, "read-only-mode", "read-only");
        g_autoptr(JsonNode) ret =
            qmp_client_execute(c, "blockdev-change-medium", args, QMP_TIMEOUT_MS, error);
        if (!ret)
            return false;
        *live = true;
    }
    return save_iso(name, abs, running, error);
}

bool vm_cdrom_eject(const char *name, bool *live, GError **error)
{
    *live = false;
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    bool running = is_running(name);
    if (running) {
        g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
        if (!c)
            return false;
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", CD_ID);
        json_object_set_boolean_member(args, "force", TRUE);
        g_autoptr(JsonNode) ret = qmp_client_execute(c, "eject", args, QMP_TIMEOUT_MS, error);
        if (!ret)
            return false;
        *live = true;
    }
    return save_iso(name, NULL, running, error);
}
