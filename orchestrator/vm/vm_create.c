/* vmdesk create: a new VM's folder, disk, firmware variables, TPM folder and
 * config, above the store (vm_store.c) and the overlay code
 * (storage/vm_overlay.c), so that neither calls the other. */
#include "vm/vm_create.h"

#include "common/error.h"
#include "common/paths.h"
#include "common/spawn.h"
#include "qemu/firmware.h"
#include "storage/disk_space.h"
#include "storage/vm_image.h"
#include "storage/vm_overlay.h"
#include "vm/vm_files.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static bool check_file(const char *what, const char *path, GError **error)
{
    if (!path)
        return true;
    if (g_access(path, R_OK) < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == ENOENT ? VD_ERROR_NOT_FOUND : VD_ERROR_INVALID,
                    "the %s %s cannot be read: %s", what, path, g_strerror(e));
        return false;
    }
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR) && strcmp(what, "disk image") != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the %s %s is not a file", what, path);
        return false;
    }
    return true;
}

/* Room for a new disk in @dir; without @overcommit the command line's message
 * names --sparse, and the plain text does not. */
static bool new_disk_fits(const char *dir, uint64_t room, bool overcommit, GError **error)
{
    if (overcommit)
        return disk_space_check(dir, room, "the new disk", error);
    g_autoptr(GError) plain = NULL, cli = NULL;
    if (disk_space_check(dir, room, "the new disk", &plain))
        return true;
    disk_space_check(dir, room, "the new disk (--sparse allows a larger one)", &cli);
    vd_error_set_worded(error, cli ? cli->code : plain->code, NULL, plain->message, "%s",
                        cli ? cli->message : plain->message);
    return false;
}

bool vm_create(VmConfig *cfg, const VmCreateOptions *opts, GError **error)
{
    if (!vm_config_validate(cfg, error))
        return false;
    if (vm_store_exists(cfg->name)) {
        g_autofree char *plain =
            g_strdup_printf("a VM named \"%s\" exists already; pick another name", cfg->name);
        vd_error_set_worded(error, VD_ERROR_EXISTS, NULL, plain, "%s or vmdesk delete %s", plain,
                            cfg->name);
        return false;
    }
    if (!check_file("ISO", cfg->iso, error) || !check_file("kernel", cfg->kernel, error) ||
        !check_file("initrd", cfg->initrd, error) ||
        !check_file("disk image", opts->import_disk, error) ||
        !check_file("disk image", opts->base, error))
        return false;

    g_autofree char *code = NULL, *vars = NULL;
    if (cfg->firmware == VM_FIRMWARE_UEFI &&
        !firmware_find_uefi(cfg->arch, cfg->secure_boot, &code, &vars, error))
        return false;
    if (cfg->tpm && !g_find_program_in_path("swtpm")) {
        vd_error_set_worded(error, VD_ERROR_NOT_FOUND, "tpm",
                            "it needs swtpm, which is not installed; sudo apt install swtpm, or "
                            "create the VM without a TPM",
                            "a TPM needs swtpm, which is not installed; sudo apt install swtpm, "
                            "or create the VM without --tpm");
        return false;
    }
    if (!cfg->rdp_port && !vm_store_pick_port(cfg->name, &cfg->rdp_port, error))
        return false;

    g_autofree char *dir = vd_paths_vm_dir(cfg->name);
    g_autofree char *vms = vd_paths_vms_dir();
    g_autofree char *disk = g_build_filename(dir, VM_DISK_FILE, NULL);
    bool made_dir = !g_file_test(dir, G_FILE_TEST_EXISTS);
    if (!made_dir && g_file_test(disk, G_FILE_TEST_EXISTS)) {
        g_autofree char *plain = g_strdup_printf(
            "%s is left from a deleted VM; move it away, or import it as the new VM's disk", disk);
        vd_error_set_worded(error, VD_ERROR_EXISTS, NULL, plain,
                            "%s is left from a deleted VM; move it away, or import it with "
                            "--import-disk",
                            disk);
        return false;
    }
    if (!vd_mkdir_private(vms, error) || !vd_mkdir_private(dir, error))
        return false;
    g_autofree char *logs = g_build_filename(dir, "logs", NULL);
    g_autofree char *tpm = g_build_filename(dir, "tpm", NULL);
    g_autofree char *vars_copy = g_build_filename(dir, VM_UEFI_VARS_FILE, NULL);
    if (!vd_mkdir_private(logs, error))
        goto fail;

    const char *copy_from = opts->import_disk ? opts->import_disk
                            : opts->base && !opts->overlay ? opts->base
                                                             : NULL;
    uint64_t need = 0;
    if (copy_from) {
        /* The user's file, probed once: raw or qcow2 and standing alone (a
         * crafted image's backing or data file would pull another of the
         * user's files into the guest's disk); read as that format only. */
        g_autofree char *from_format = NULL;
        if (!vm_image_probe_user_file(copy_from, "the disk image", &from_format, error) ||
            !disk_space_measure(copy_from, from_format, "qcow2", &need, error) ||
            !disk_space_check(dir, need, "the imported disk", error))
            goto fail;
        g_autofree char *tmp = g_strconcat(disk, ".part", NULL);
        const char *argv[] = {"qemu-img", "convert", "-f", from_format, "-O", "qcow2",
                              copy_from, tmp, NULL};
        if (!vm_store_run_qemu_img(argv, tmp, "importing the disk", error)) {
            g_unlink(tmp);
            goto fail;
        }
        if (g_rename(tmp, disk) < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "rename %s: %s", tmp, g_strerror(errno));
            g_unlink(tmp);
            goto fail;
        }
    } else if (opts->disk_size && !opts->base) {
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, opts->disk_size);
        const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", disk, size, NULL};
        /* The image is sparse, but a guest that fills a disk larger than the
         * host's free space pauses on a full host disk: only on request. */
        uint64_t room = opts->overcommit ? 1 << 20 : opts->disk_size;
        if (!new_disk_fits(dir, room, opts->overcommit, error) ||
            !vd_run_check(argv, 60 * 1000, "creating the disk", error))
            goto fail;
    }
    if (copy_from || (opts->disk_size && !opts->base)) {
        g_free(cfg->disk);
        cfg->disk = g_strdup(VM_DISK_FILE);
        g_free(cfg->disk_format);
        cfg->disk_format = g_strdup("qcow2");
    }
    if (code && !vm_store_copy_uefi_vars(vars, vars_copy, error))
        goto fail;
    if (cfg->tpm && !vd_mkdir_private(tpm, error))
        goto fail;
    if (opts->base && opts->overlay) {
        g_free(cfg->base);
        cfg->base = g_canonicalize_filename(opts->base, NULL);
        if (!vm_overlay_create_locked(cfg, dir, error))
            goto fail;
    }
    if (!vm_store_save(cfg, error))
        goto fail;
    return true;

fail:
    if (made_dir)
        vm_files_remove_tree(dir);
    return false;
}
