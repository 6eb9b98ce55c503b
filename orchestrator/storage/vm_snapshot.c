#include "storage/vm_snapshot.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/spawn.h"
#include "qemu/qmp_cmd.h"
#include "storage/disk_space.h"
#include "storage/vm_image.h"
#include "vm/vm_control.h"
#include "vm/vm_files.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLEAN_FILE "clean"            /* in VM_SNAPSHOT_DIR: what the last save/restore saw */
#define RESTORE_INTENT "restore.intent"
#define QMP_TIMEOUT_MS 10000
#define JOB_TIMEOUT_MS (30 * 60 * 1000)
#define QEMU_IMG_TIMEOUT_MS (60 * 60 * 1000)
#define MIB (1ull << 20)

void vm_snapshot_free(VmSnapshot *s)
{
    if (!s)
        return;
    g_free(s->tag);
    g_free(s->id);
    g_free(s);
}

typedef struct {
    VmConfig *cfg;
    char *dir;    /* VM folder */
    char *disk;   /* absolute */
    char *snaps;  /* VM_SNAPSHOT_DIR */
    char *chain;  /* the disk with its backing named explicitly (vm_image.h) */
} Ctx;

static void ctx_clear(Ctx *c)
{
    vm_config_free(c->cfg);
    g_free(c->dir);
    g_free(c->disk);
    g_free(c->snaps);
    g_free(c->chain);
}

static bool ctx_init(Ctx *c, const char *name, GError **error)
{
    memset(c, 0, sizeof(*c));
    c->cfg = vm_store_load(name, error);
    if (!c->cfg)
        return false;
    c->dir = vd_paths_vm_dir(name);
    c->disk = vm_store_disk_path(c->cfg);
    c->snaps = g_build_filename(c->dir, VM_SNAPSHOT_DIR, NULL);
    if (!c->disk || g_strcmp0(c->cfg->disk_format, "qcow2")) {
        g_autofree char *plain = g_strdup_printf("VM \"%s\" has %s; snapshots need a qcow2 disk",
                                                 name, c->disk ? "a raw disk" : "no disk");
        vd_error_set_worded(error, VD_ERROR_INVALID, NULL, plain,
                            "%s (vmdesk disk %s import converts one)", plain, name);
        return false;
    }
    c->chain = vm_image_chain_spec(c->cfg, c->disk, error);
    return c->chain != NULL;
}

static bool tag_validate(const char *tag, GError **error)
{
    size_t n = strlen(tag);
    bool ok = n >= 1 && n <= 48 && g_ascii_isalnum(tag[0]) && !strstr(tag, "..");
    for (size_t i = 0; ok && i < n; i++)
        ok = g_ascii_isalnum(tag[i]) || strchr("._-", tag[i]);
    if (!ok) {
        /* The manager calls a tag the snapshot's name. */
        static const char rule[] =
            "use 1-48 letters, digits, '.', '-', '_', starting with a letter or digit";
        g_autofree char *plain = g_strdup_printf("snapshot name \"%s\": %s", tag, rule);
        vd_error_set_worded(error, VD_ERROR_INVALID, NULL, plain, "snapshot tag \"%s\": %s", tag,
                            rule);
    }
    return ok;
}

static GPtrArray *list_disk(const char *disk, GError **error)
{
    const char *argv[] = {"qemu-img", "info", "-U", "--output=json", "-f", "qcow2", disk, NULL};
    VdRunResult r = {0};
    if (!vd_run(argv, 60000, &r, error))
        return NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    if (!WIFEXITED(r.wait_status) || WEXITSTATUS(r.wait_status) != 0 ||
        !json_parser_load_from_data(p, r.output, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "qemu-img info %s failed: %s", disk,
                    g_strstrip(r.output ? r.output : ""));
        vd_run_result_clear(&r);
        return NULL;
    }
    vd_run_result_clear(&r);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vm_snapshot_free);
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    JsonArray *a = json_object_has_member(o, "snapshots")
                       ? json_object_get_array_member(o, "snapshots")
                       : NULL;
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *s = json_array_get_object_element(a, i);
        if (!s)
            continue;
        VmSnapshot *v = g_new0(VmSnapshot, 1);
        v->tag = g_strdup(json_object_get_string_member_with_default(s, "name", ""));
        v->id = g_strdup(json_object_get_string_member_with_default(s, "id", ""));
        v->date = json_object_get_int_member_with_default(s, "date-sec", 0);
        v->vm_state_size = (uint64_t)json_object_get_int_member_with_default(s, "vm-state-size", 0);
        v->vm_clock_ms =
            (uint64_t)json_object_get_int_member_with_default(s, "vm-clock-sec", 0) * 1000 +
            (uint64_t)json_object_get_int_member_with_default(s, "vm-clock-nsec", 0) / 1000000;
        g_ptr_array_add(out, v);
    }
    return out;
}

static VmSnapshot *find(GPtrArray *list, const char *tag)
{
    for (guint i = 0; i < list->len; i++) {
        VmSnapshot *s = g_ptr_array_index(list, i);
        if (!strcmp(s->tag, tag))
            return s;
    }
    return NULL;
}

GPtrArray *vm_snapshot_list(const char *name, GError **error)
{
    Ctx c;
    GPtrArray *list = NULL;
    if (ctx_init(&c, name, error) && (list = list_disk(c.disk, error))) {
        for (guint i = 0; i < list->len; i++) {
            VmSnapshot *s = g_ptr_array_index(list, i);
            g_autofree char *side = g_build_filename(c.snaps, s->tag, NULL);
            g_autofree char *vars = g_build_filename(side, VM_UEFI_VARS_FILE, NULL);
            g_autofree char *tpm = g_build_filename(side, VM_TPM_DIR, NULL);
            s->has_vars = g_file_test(vars, G_FILE_TEST_EXISTS);
            s->has_tpm = g_file_test(tpm, G_FILE_TEST_EXISTS);
            s->side_size = disk_space_tree_size(vars) + disk_space_tree_size(tpm);
        }
    }
    ctx_clear(&c);
    return list;
}

/* --- the "clean" record: what the disk and vars looked like after the last
 * snapshot save or restore --- */

static char *fingerprint(const char *path)
{
    GStatBuf st;
    if (g_stat(path, &st) < 0)
        return g_strdup("absent");
    return g_strdup_printf("%" G_GINT64_FORMAT ".%09ld %" G_GINT64_FORMAT, (gint64)st.st_mtime,
                           (long)st.st_mtim.tv_nsec, (gint64)st.st_size);
}

static void record_clean(Ctx *c)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *vars = g_build_filename(c->dir, VM_UEFI_VARS_FILE, NULL);
    g_autofree char *fd = fingerprint(c->disk), *fv = fingerprint(vars);
    g_key_file_set_string(kf, "clean", "disk", fd);
    g_key_file_set_string(kf, "clean", "uefi-vars", fv);
    g_autofree char *path = g_build_filename(c->snaps, CLEAN_FILE, NULL);
    if (vd_mkdir_private(c->snaps, NULL))
        vd_keyfile_save(kf, path, NULL);
}

static bool changed_since_clean(Ctx *c, char **why)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *path = g_build_filename(c->snaps, CLEAN_FILE, NULL);
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
        if (why)
            *why = g_strdup("no snapshot was saved or restored since the VM was made");
        return true;
    }
    g_autofree char *vars = g_build_filename(c->dir, VM_UEFI_VARS_FILE, NULL);
    g_autofree char *fd = fingerprint(c->disk), *fv = fingerprint(vars);
    g_autofree char *rd = g_key_file_get_string(kf, "clean", "disk", NULL);
    g_autofree char *rv = g_key_file_get_string(kf, "clean", "uefi-vars", NULL);
    if (g_strcmp0(rd, fd)) {
        if (why)
            *why = g_strdup("the disk was written after the last snapshot save or restore");
        return true;
    }
    if (g_strcmp0(rv, fv)) {
        if (why)
            *why = g_strdup("the UEFI variables changed after the last snapshot save or restore");
        return true;
    }
    return false;
}

bool vm_snapshot_unsaved_changes(const char *name, char **why)
{
    Ctx c;
    bool changed = false;
    if (ctx_init(&c, name, NULL))
        changed = changed_since_clean(&c, why);
    ctx_clear(&c);
    return changed;
}

/* --- side copies --- */

static bool save_side(Ctx *c, const char *tag, GError **error)
{
    g_autofree char *side = g_build_filename(c->snaps, tag, NULL);
    g_autofree char *tmp = g_strconcat(side, ".new", NULL);
    vm_files_remove_tree(tmp);
    if (!vd_mkdir_private(c->snaps, error) || !vd_mkdir_private(tmp, error))
        return false;
    g_autofree char *vars = g_build_filename(c->dir, VM_UEFI_VARS_FILE, NULL);
    g_autofree char *tpm = g_build_filename(c->dir, VM_TPM_DIR, NULL);
    g_autofree char *vars_t = g_build_filename(tmp, VM_UEFI_VARS_FILE, NULL);
    g_autofree char *tpm_t = g_build_filename(tmp, VM_TPM_DIR, NULL);
    if (!vm_files_replace(vars, vars_t, error) || !vm_files_replace(tpm, tpm_t, error))
        return false;
    vm_files_remove_tree(side);
    if (g_rename(tmp, side) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "rename %s: %s", tmp, g_strerror(errno));
        return false;
    }
    vm_files_sync_dir(c->snaps);
    return true;
}

static bool restore_side(Ctx *c, const char *tag, GError **error)
{
    g_autofree char *side = g_build_filename(c->snaps, tag, NULL);
    static const char *const items[] = {VM_UEFI_VARS_FILE, VM_TPM_DIR};
    for (size_t i = 0; i < G_N_ELEMENTS(items); i++) {
        g_autofree char *saved = g_build_filename(side, items[i], NULL);
        g_autofree char *live = g_build_filename(c->dir, items[i], NULL);
        if (g_file_test(saved, G_FILE_TEST_EXISTS) && !vm_files_replace(saved, live, error))
            return false;
    }
    return true;
}

/* --- live: QMP jobs --- */

/* Run snapshot job @op ("save", "load", "delete") on the VM's disk to its
 * end. Job ids start with VM_SNAPSHOT_JOB_PREFIX: the supervisor publishes
 * SNAPSHOTTING while such a job runs. */
static bool run_job(QmpClient *q, QmpSnapshotOp op, const char *what, const char *tag,
                    GError **error)
{
    static const char *const disks[] = {"disk0", NULL};
    g_autofree char *id = g_strconcat(VM_SNAPSHOT_JOB_PREFIX, what, NULL);
    QmpSnapshotJob job = {
        .op = op,
        .job_id = id,
        .tag = tag,
        .vmstate = op == QMP_SNAPSHOT_DELETE ? NULL : "disk0",
        .devices = disks,
    };
    return qmp_cmd_snapshot_start(q, &job, QMP_TIMEOUT_MS, error) &&
           qmp_cmd_job_wait(q, id, QMP_TIMEOUT_MS, JOB_TIMEOUT_MS, error);
}

static bool qmp_running(QmpClient *q, bool *running, GError **error)
{
    QmpStatus st;
    if (!qmp_cmd_query_status(q, QMP_TIMEOUT_MS, &st, error))
        return false;
    *running = st.running;
    return true;
}

static bool refuse_disposable(Ctx *c, GError **error)
{
    g_autofree char *d = g_build_filename(c->dir, VM_DISPOSABLE_DIR, NULL);
    if (!g_file_test(d, G_FILE_TEST_IS_DIR))
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                "VM \"%s\" runs disposable: its disk is thrown away at shutdown, so it takes no "
                "snapshots",
                c->cfg->name);
    return false;
}

/* --- the commands --- */

typedef enum { OP_SAVE, OP_RESTORE, OP_DELETE } Op;

static bool live_op(Ctx *c, Op op, const char *tag, GError **error)
{
    if (!refuse_disposable(c, error))
        return false;
    g_autoptr(QmpClient) q = vm_qmp_connect(c->cfg->name, error);
    bool was_running = false;
    if (!q || !qmp_running(q, &was_running, error))
        return false;
    bool ok;
    if (op == OP_DELETE) {
        ok = run_job(q, QMP_SNAPSHOT_DELETE, "delete", tag, error);
    } else {
        /* Paused, so the UEFI variables and TPM state copied now belong to
         * the same moment as the VM state. */
        if (was_running && !qmp_cmd_stop(q, QMP_TIMEOUT_MS, error))
            return false;
        if (op == OP_SAVE)
            ok = save_side(c, tag, error) && run_job(q, QMP_SNAPSHOT_SAVE, "save", tag, error);
        else
            ok = run_job(q, QMP_SNAPSHOT_LOAD, "load", tag, error);
        if (!ok && op == OP_SAVE) {
            g_autofree char *side = g_build_filename(c->snaps, tag, NULL);
            vm_files_remove_tree(side);
        }
        bool now = false;
        if (was_running && qmp_running(q, &now, NULL) && !now)
            qmp_cmd_cont(q, QMP_TIMEOUT_MS, ok ? error : NULL);
    }
    if (ok && op == OP_DELETE) {
        g_autofree char *side = g_build_filename(c->snaps, tag, NULL);
        vm_files_remove_tree(side);
    }
    return ok;
}

static bool write_restore_intent(Ctx *c, const char *tag, GError **error)
{
    g_autofree char *path = g_build_filename(c->snaps, RESTORE_INTENT, NULL);
    return vd_file_write_atomic(path, tag, -1, 0600, error);
}

static bool offline_restore(Ctx *c, const char *tag, GError **error)
{
    const char *argv[] = {"qemu-img", "snapshot", "-a", tag, c->chain, NULL};
    if (!restore_side(c, tag, error) ||
        !vm_store_run_qemu_img(argv, c->disk, "qemu-img snapshot -a", error))
        return false;
    g_autofree char *path = g_build_filename(c->snaps, RESTORE_INTENT, NULL);
    g_unlink(path);
    record_clean(c);
    return true;
}

static bool offline_op(Ctx *c, Op op, const char *tag, GError **error)
{
    const char *flag = op == OP_SAVE ? "-c" : op == OP_RESTORE ? "-a" : "-d";
    const char *argv[] = {"qemu-img", "snapshot", flag, tag, c->chain, NULL};
    g_autofree char *side = g_build_filename(c->snaps, tag, NULL);
    switch (op) {
    case OP_SAVE:
        if (!save_side(c, tag, error))
            return false;
        if (!vm_store_run_qemu_img(argv, c->disk, "qemu-img snapshot -c", error)) {
            vm_files_remove_tree(side);
            return false;
        }
        record_clean(c);
        return true;
    case OP_RESTORE:
        /* The copies and the disk both change: an intent makes the pair
         * complete even if we die in between (redone before the next start). */
        return vd_mkdir_private(c->snaps, error) && write_restore_intent(c, tag, error) &&
               offline_restore(c, tag, error);
    case OP_DELETE:
        if (!vm_store_run_qemu_img(argv, c->disk, "qemu-img snapshot -d", error))
            return false;
        vm_files_remove_tree(side);
        return true;
    }
    return false;
}

bool vm_snapshot_recover_locked(const char *name, GError **error)
{
    Ctx c;
    bool ok = true;
    if (ctx_init(&c, name, NULL)) {
        g_autofree char *path = g_build_filename(c.snaps, RESTORE_INTENT, NULL);
        g_autofree char *tag = NULL;
        if (g_file_get_contents(path, &tag, NULL, NULL)) {
            vd_info("completing the interrupted restore of snapshot %s", tag);
            ok = offline_restore(&c, g_strstrip(tag), error);
        }
    }
    ctx_clear(&c);
    return ok;
}

static bool run_op(const char *name, Op op, const char *tag, bool force, bool *live,
                   GError **error)
{
    *live = false;
    /* Cleared here: a bad tag returns before ctx_init has run. */
    Ctx c = {0};
    if (!tag_validate(tag, error) || !ctx_init(&c, name, error)) {
        ctx_clear(&c);
        return false;
    }
    bool ok = false;
    int lock = vm_lock_acquire(name, NULL);
    g_autoptr(GPtrArray) list = NULL;
    if (lock >= 0 && !vm_snapshot_recover_locked(name, error))
        goto out;
    list = list_disk(c.disk, error);
    if (!list)
        goto out;
    VmSnapshot *found = find(list, tag);
    if (op == OP_SAVE && found) {
        g_autofree char *plain = g_strdup_printf(
            "VM \"%s\" has a snapshot \"%s\" already; delete it first or pick another name",
            name, tag);
        vd_error_set_worded(error, VD_ERROR_EXISTS, NULL, plain,
                            "VM \"%s\" has a snapshot \"%s\" already; delete it first (vmdesk "
                            "snapshot %s delete %s) or pick another tag",
                            name, tag, name, tag);
        goto out;
    }
    if (op != OP_SAVE && !found) {
        g_autofree char *plain = g_strdup_printf("VM \"%s\" has no snapshot \"%s\"", name, tag);
        vd_error_set_worded(error, VD_ERROR_NOT_FOUND, NULL, plain,
                            "%s; see vmdesk snapshot %s list", plain, name);
        goto out;
    }
    if (op == OP_SAVE) {
        g_autofree char *vars = g_build_filename(c.dir, VM_UEFI_VARS_FILE, NULL);
        g_autofree char *tpm = g_build_filename(c.dir, VM_TPM_DIR, NULL);
        /* The copies go to the VM folder; the snapshot's metadata and, for
         * a live one, the VM state (at most about the RAM) into the disk. */
        uint64_t copies = disk_space_tree_size(vars) + disk_space_tree_size(tpm) + MIB;
        uint64_t in_disk = 16 * MIB + (lock < 0 ? c.cfg->memory : 0);
        g_autofree char *disk_dir = g_path_get_dirname(c.disk);
        bool same_fs = disk_space_free(disk_dir) == disk_space_free(c.dir);
        if (same_fs ? !disk_space_check(c.dir, copies + in_disk, "the snapshot", error)
                    : !disk_space_check(c.dir, copies, "the snapshot", error) ||
                          !disk_space_check(disk_dir, in_disk, "the snapshot", error))
            goto out;
    }
    if (op == OP_RESTORE && !force) {
        g_autofree char *why = NULL;
        if (lock < 0)
            why = g_strdup("the VM is running: its memory and disk state since the last "
                           "snapshot would be lost");
        else if (!changed_since_clean(&c, &why))
            g_clear_pointer(&why, g_free);
        if (why) {
            g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                        "restoring \"%s\" would destroy unsaved state: %s; save it first "
                        "(vmdesk snapshot %s save TAG) or add --force",
                        tag, why, name);
            goto out;
        }
    }
    if (lock < 0) {
        if (op == OP_RESTORE && found->vm_state_size == 0) {
            g_autofree char *plain = g_strdup_printf(
                "\"%s\" was taken while the VM was stopped (disk only); stop the VM to "
                "restore it",
                tag);
            vd_error_set_worded(error, VD_ERROR_STATE, NULL, plain,
                                "\"%s\" was taken while the VM was stopped (disk only); stop "
                                "the VM (vmdesk stop %s) to restore it",
                                tag, name);
            goto out;
        }
        ok = live_op(&c, op, tag, error);
        *live = ok;
    } else {
        ok = offline_op(&c, op, tag, error);
    }
out:
    if (lock >= 0)
        close(lock);
    ctx_clear(&c);
    return ok;
}

bool vm_snapshot_save(const char *name, const char *tag, bool *live, GError **error)
{
    return run_op(name, OP_SAVE, tag, false, live, error);
}

bool vm_snapshot_restore(const char *name, const char *tag, bool force, bool *live,
                         GError **error)
{
    return run_op(name, OP_RESTORE, tag, force, live, error);
}

bool vm_snapshot_delete(const char *name, const char *tag, bool *live, GError **error)
{
    return run_op(name, OP_DELETE, tag, false, live, error);
}
