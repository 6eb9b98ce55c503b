#include "storage/vm_media.h"

#include "common/error.h"
#include "qemu/qmp_cmd.h"
#include "vm/vm_control.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <gio/gio.h>
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
    g_autoptr(QmpClient) q = vm_qmp_connect(name, error);
    QmpDrive drive;
    if (!q || !qmp_cmd_query_drive(q, CD_ID, QMP_TIMEOUT_MS, &drive, error))
        return false;
    if (!drive.found) {
        g_set_error(error, VD_ERROR, VD_ERROR_VM, "QEMU reports no CD drive \"%s\"", CD_ID);
        return false;
    }
    cd->tray_open = drive.tray_open;
    cd->medium = g_steal_pointer(&drive.file);
    qmp_cmd_drive_clear(&drive);
    return true;
}

/* Put @iso (NULL: eject) into the drive when the VM runs (*@live), then
 * record it in the config, as `vmdesk set NAME iso=...`. */
static bool change_medium(const char *name, const char *iso, bool *live, GError **error)
{
    g_autoptr(VmStatus) st = vm_status_get(name);
    bool running = vm_state_is_active(st->state);
    *live = false;
    if (running) {
        g_autoptr(QmpClient) q = vm_qmp_connect(name, error);
        if (!q)
            return false;
        if (iso ? !qmp_cmd_change_medium(q, CD_ID, iso, false, QMP_TIMEOUT_MS, error)
                : !qmp_cmd_eject(q, CD_ID, true, QMP_TIMEOUT_MS, error))
            return false;
        *live = true;
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
    return change_medium(name, abs, live, error);
}

bool vm_cdrom_eject(const char *name, bool *live, GError **error)
{
    return change_medium(name, NULL, live, error);
}

bool vm_media_check_iso(const char *path, GError **error)
{
    g_autoptr(GFile) f = g_file_new_for_path(path);
    g_autoptr(GError) e = NULL;
    g_autoptr(GFileInputStream) in = g_file_read(f, NULL, &e);
    if (!in) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "the CD image %s cannot be read: %s",
                    path, e->message);
        return false;
    }
    char id[5] = {0};
    gsize got = 0;
    /* The first volume descriptor sits at sector 16 (2048-byte sectors);
     * its identifier follows its type byte. */
    if (!g_seekable_seek(G_SEEKABLE(in), 16 * 2048 + 1, G_SEEK_SET, NULL, NULL) ||
        !g_input_stream_read_all(G_INPUT_STREAM(in), id, sizeof(id), &got, NULL, NULL) ||
        got != sizeof(id) ||
        (memcmp(id, "CD001", sizeof(id)) && memcmp(id, "BEA01", sizeof(id)))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is not a CD image (no ISO 9660 or UDF volume descriptor); choose the "
                    "installer's .iso file",
                    path);
        return false;
    }
    return true;
}
