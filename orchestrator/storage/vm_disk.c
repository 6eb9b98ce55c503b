#include "storage/vm_disk.h"

#include "common/error.h"
#include "common/paths.h"
#include "common/size.h"
#include "common/spawn.h"
#include "qemu/qmp_cmd.h"
#include "storage/disk_space.h"
#include "storage/vm_image.h"
#include "vm/vm_control.h"
#include "vm/vm_files.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

#include <string.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define QEMU_IMG_TIMEOUT_MS 60000
#define QMP_TIMEOUT_MS 10000

/* The VM's disk: its path and format, and @chain (when not NULL) the
 * json: image name that names its whole chain explicitly (vm_image.h). */
static char *disk_path(const char *name, char **format, char **chain, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return NULL;
    g_autofree char *path = vm_store_disk_path(cfg);
    if (!path) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "VM \"%s\" has no disk", name);
        return NULL;
    }
    if (chain && !(*chain = vm_image_chain_spec(cfg, path, error)))
        return NULL;
    if (format)
        *format = g_strdup(cfg->disk_format);
    return g_steal_pointer(&path);
}

bool vm_disk_size(const char *name, uint64_t *bytes, GError **error)
{
    g_autofree char *format = NULL;
    g_autofree char *path = disk_path(name, &format, NULL, error);
    /* -U inside: QEMU may hold the image's lock; reading its header is safe. */
    return path && vm_image_virtual_size(path, format, bytes, error);
}

bool vm_disk_resize(const char *name, const char *spec, bool *live, uint64_t *old_size,
                    uint64_t *new_size, GError **error)
{
    *live = false;
    g_autofree char *chain = NULL;
    g_autofree char *path = disk_path(name, NULL, &chain, error);
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
        g_autoptr(QmpClient) q = vm_qmp_connect(name, error);
        if (!q || !qmp_cmd_block_resize(q, "disk0", target, QMP_TIMEOUT_MS, error))
            return false;
        *live = true;
    } else {
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, target);
        const char *argv[] = {"qemu-img", "resize", chain, size, NULL};
        g_autofree char *dir = g_path_get_dirname(path);
        /* Growing a qcow2 image writes a larger L1 table and refcounts only. */
        if (!disk_space_check(dir, (target - current) / 8192 + (1u << 20), "growing the disk",
                              error) ||
            !vd_run_check(argv, QEMU_IMG_TIMEOUT_MS, "qemu-img resize", error))
            return false;
    }
    if (old_size)
        *old_size = current;
    if (new_size)
        *new_size = target;
    return true;
}

static int lock_stopped(const char *name, const char *what, GError **error)
{
    int lock = vm_lock_acquire(name, NULL);
    if (lock < 0)
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "VM \"%s\" is running; %s needs it stopped (vmdesk stop %s)", name, what,
                    name);
    return lock;
}

bool vm_disk_import(const char *name, const char *path, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    if (cfg->base) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "VM \"%s\"'s disk is an overlay on %s; importing would cut it off its base "
                    "(create a new VM with --import-disk instead)",
                    name, cfg->base);
        return false;
    }
    g_autofree char *src = g_canonicalize_filename(path, NULL);
    uint64_t need = 0;
    if (!disk_space_measure(src, NULL, "qcow2", &need, error))
        return false;
    int lock = lock_stopped(name, "importing a disk", error);
    if (lock < 0)
        return false;
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *disk = cfg->disk ? vm_store_disk_path(cfg)
                                      : g_build_filename(dir, VM_DISK_FILE, NULL);
    g_autofree char *disk_dir = g_path_get_dirname(disk);
    g_autofree char *tmp = g_strconcat(disk, ".part", NULL);
    const char *argv[] = {"qemu-img", "convert", "-O", "qcow2", src, tmp, NULL};
    bool ok = disk_space_check(disk_dir, need, "the imported disk", error);
    if (ok && !(ok = vm_store_run_qemu_img(argv, tmp, "importing the disk", error)))
        g_unlink(tmp);
    if (ok && g_rename(tmp, disk) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "rename %s: %s", tmp, g_strerror(errno));
        g_unlink(tmp);
        ok = false;
    }
    if (ok) {
        vm_files_sync_dir(disk_dir);
        g_autofree char *snaps = g_build_filename(dir, VM_SNAPSHOT_DIR, NULL);
        vm_files_remove_tree(snaps);
        if (!cfg->disk)
            cfg->disk = g_strdup(VM_DISK_FILE);
        g_free(cfg->disk_format);
        cfg->disk_format = g_strdup("qcow2");
        ok = vm_store_save(cfg, error);
    }
    close(lock);
    return ok;
}

bool vm_disk_export(const char *name, const char *path, const char *format, GError **error)
{
    static const char *const formats[] = {"qcow2", "raw", "vmdk", "vhdx", NULL};
    if (!g_strv_contains(formats, format)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "--format %s: export writes qcow2, raw, vmdk or vhdx", format);
        return false;
    }
    g_autofree char *chain = NULL;
    g_autofree char *disk = disk_path(name, NULL, &chain, error);
    if (!disk)
        return false;
    g_autofree char *dst = g_canonicalize_filename(path, NULL);
    g_autofree char *dst_dir = g_path_get_dirname(dst);
    if (g_file_test(dst, G_FILE_TEST_EXISTS)) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS, "%s exists; remove it or pick another name",
                    dst);
        return false;
    }
    if (!g_file_test(dst_dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "there is no folder %s", dst_dir);
        return false;
    }
    int lock = lock_stopped(name, "exporting the disk", error);
    if (lock < 0)
        return false;
    uint64_t need = 0;
    g_autofree char *base = g_path_get_basename(dst);
    g_autofree char *tmp_name = g_strdup_printf(".%s.vmdesk-part", base);
    g_autofree char *tmp = g_build_filename(dst_dir, tmp_name, NULL);
    const char *argv[] = {"qemu-img", "convert", "-O", format, chain, tmp, NULL};
    bool ok = disk_space_measure(chain, NULL, format, &need, error) &&
              disk_space_check(dst_dir, need, "the exported disk", error);
    if (ok && !(ok = vm_store_run_qemu_img(argv, tmp, "exporting the disk", error)))
        g_unlink(tmp);
    if (ok && g_rename(tmp, dst) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "rename %s: %s", tmp, g_strerror(errno));
        g_unlink(tmp);
        ok = false;
    }
    if (ok)
        vm_files_sync_dir(dst_dir);
    close(lock);
    return ok;
}
