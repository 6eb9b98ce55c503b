#include "storage/vm_overlay.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/spawn.h"
#include "common/text.h"
#include "storage/disk_space.h"
#include "storage/vm_image.h"
#include "vm/vm_files.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#define INTENT_FILE "overlay.intent"
#define QEMU_IMG_TIMEOUT_MS (24 * 3600 * 1000)
#define MIB (1ull << 20)

static const char *const action_names[] = {"keep", "commit", "discard"};

const char *vm_overlay_action_to_string(VmOverlayAction a)
{
    return action_names[a];
}

void vm_overlay_status_free(VmOverlayStatus *st)
{
    if (!st)
        return;
    g_free(st->base);
    g_free(st->base_format);
    g_free(st->overlay);
    g_free(st->recovered);
    g_free(st);
}

static char *vm_file(const VmConfig *cfg, const char *a, const char *b)
{
    g_autofree char *dir = vd_paths_vm_dir(cfg->name);
    return g_build_filename(dir, a, b, NULL);
}

static JsonNode *qemu_img_json(const char *const *argv, GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *n = vm_image_run_json(argv, 10 * 60 * 1000, p, error);
    return n ? json_node_copy(n) : NULL;
}

/* A new empty overlay at @overlay on @cfg->base: made as @overlay.new,
 * fsynced, renamed over. The base's format is the recorded one, and -u with
 * the size keeps qemu-img from opening the base at all. */
static bool recreate_overlay(const VmConfig *cfg, const char *overlay, GError **error)
{
    uint64_t size = 0;
    if (!vm_image_base_format_check(cfg, error) ||
        !vm_image_virtual_size(cfg->base, cfg->base_format, &size, error))
        return false;
    g_autofree char *tmp = g_strconcat(overlay, ".new", NULL);
    g_autofree char *bytes = g_strdup_printf("%" G_GUINT64_FORMAT, size);
    g_unlink(tmp);
    const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", cfg->base,
                          "-F", cfg->base_format, tmp, bytes, NULL};
    if (!vm_store_run_qemu_img(argv, tmp, "creating the overlay", error)) {
        g_unlink(tmp);
        return false;
    }
    if (g_rename(tmp, overlay) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "rename %s: %s", tmp, g_strerror(errno));
        g_unlink(tmp);
        return false;
    }
    g_autofree char *dir = g_path_get_dirname(overlay);
    vm_files_sync_dir(dir);
    return true;
}

static bool sync_state(const VmConfig *cfg, bool to_base, GError **error);

bool vm_overlay_create_locked(VmConfig *cfg, const char *vm_dir, GError **error)
{
    g_autofree char *overlay = g_build_filename(vm_dir, VM_OVERLAY_FILE, NULL);
    g_free(cfg->base_format);
    cfg->base_format = NULL;
    if (!vm_image_probe_user_file(cfg->base, "the base", &cfg->base_format, error) ||
        !disk_space_check(vm_dir, MIB, "the overlay", error) ||
        !recreate_overlay(cfg, overlay, error))
        return false;
    g_free(cfg->disk);
    cfg->disk = g_strdup(VM_OVERLAY_FILE);
    g_free(cfg->disk_format);
    cfg->disk_format = g_strdup("qcow2");
    return sync_state(cfg, true, error);
}

/* Bring the committed copies (@to_base) or the live ones up to date. */
static bool sync_state(const VmConfig *cfg, bool to_base, GError **error)
{
    static const char *const items[] = {VM_UEFI_VARS_FILE, VM_TPM_DIR};
    g_autofree char *state = vm_file(cfg, VM_BASE_STATE_DIR, NULL);
    if (!vd_mkdir_private(state, error))
        return false;
    for (size_t i = 0; i < G_N_ELEMENTS(items); i++) {
        g_autofree char *live = vm_file(cfg, items[i], NULL);
        g_autofree char *saved = vm_file(cfg, VM_BASE_STATE_DIR, items[i]);
        /* A base-state without the item was made before the VM had it (a
         * TPM added later): the live one is the committed one then. */
        if (!to_base && !g_file_test(saved, G_FILE_TEST_EXISTS))
            continue;
        if (!vm_files_replace(to_base ? live : saved, to_base ? saved : live, error))
            return false;
    }
    return true;
}

static bool write_intent(const VmConfig *cfg, VmOverlayAction a, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, "intent", "action", vm_overlay_action_to_string(a));
    g_key_file_set_int64(kf, "intent", "started", g_get_real_time() / G_USEC_PER_SEC);
    g_autofree char *path = vm_file(cfg, INTENT_FILE, NULL);
    return vd_keyfile_save(kf, path, error);
}

static bool finish_intent(const VmConfig *cfg)
{
    g_autofree char *path = vm_file(cfg, INTENT_FILE, NULL);
    g_autofree char *pending = vm_file(cfg, VM_OVERLAY_PENDING_FILE, NULL);
    g_autofree char *dir = vd_paths_vm_dir(cfg->name);
    g_unlink(pending);
    bool ok = g_unlink(path) == 0 || errno == ENOENT;
    vm_files_sync_dir(dir);
    return ok;
}

/* The steps after the intent is on disk; each is safe to redo. @redo: an
 * interrupted attempt is being completed. */
static bool run_intent(const VmConfig *cfg, VmOverlayAction a, bool redo, GError **error)
{
    g_autofree char *overlay = vm_store_disk_path(cfg);
    if (a == VM_OVERLAY_COMMIT) {
        /* -d: leave the overlay as it is, so that a crash in the middle can
         * be redone from the same data.
         * The chain is named explicitly: the overlay's header does not choose
         * the base's format. */
        g_autofree char *chain = vm_image_chain_spec(cfg, overlay, error);
        const char *argv[] = {"qemu-img", "commit", "-q", "-d", chain, NULL};
        if (!chain || !vd_run_check(argv, QEMU_IMG_TIMEOUT_MS, "qemu-img commit", error))
            return false;
        /* A qcow2 base whose commit was killed may have leaked clusters:
         * harmless, but reclaim them. */
        if (redo && !strcmp(cfg->base_format, "qcow2")) {
            g_autofree char *base = vm_image_spec(cfg->base, "qcow2");
            const char *check[] = {"qemu-img", "check", "-q", "-r", "leaks", base, NULL};
            VdRunResult r = {0};
            if (vd_run(check, QEMU_IMG_TIMEOUT_MS, &r, NULL))
                vd_run_result_clear(&r);
        }
        if (!sync_state(cfg, true, error))
            return false;
    } else if (!sync_state(cfg, false, error)) {
        return false;
    }
    if (!recreate_overlay(cfg, overlay, error))
        return false;
    /* The overlay's internal snapshots went with it. */
    g_autofree char *snaps = vm_file(cfg, VM_SNAPSHOT_DIR, NULL);
    vm_files_remove_tree(snaps);
    if (!finish_intent(cfg)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot remove %s", INTENT_FILE);
        return false;
    }
    return true;
}

static bool need_overlay(const VmConfig *cfg, GError **error)
{
    if (cfg->base)
        return true;
    g_autofree char *plain = g_strdup_printf(
        "VM \"%s\" has no overlay: the guest writes into its disk (a VM made from a disk image "
        "kept as a base has one)",
        cfg->name);
    vd_error_set_worded(error, VD_ERROR_INVALID, NULL, plain,
                        "VM \"%s\" has no overlay; make one with vmdesk create NAME --base IMAGE "
                        "--overlay",
                        cfg->name);
    return false;
}

bool vm_overlay_recover_locked(const VmConfig *cfg, char **what, GError **error)
{
    if (what)
        *what = NULL;
    g_autofree char *path = vm_file(cfg, INTENT_FILE, NULL);
    if (!cfg->base || !g_file_test(path, G_FILE_TEST_EXISTS))
        return true;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *action = NULL;
    if (g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        action = g_key_file_get_string(kf, "intent", "action", NULL);
    VmOverlayAction a;
    if (!g_strcmp0(action, "commit"))
        a = VM_OVERLAY_COMMIT;
    else if (!g_strcmp0(action, "discard"))
        a = VM_OVERLAY_DISCARD;
    else {
        /* An intent is written atomically: an unreadable one is not ours. */
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is not a vmdesk intent file; look at it and remove it", path);
        return false;
    }
    vd_info("completing the %s of VM \"%s\"'s overlay that was interrupted", action, cfg->name);
    if (!run_intent(cfg, a, true, error)) {
        g_prefix_error(error, "completing the interrupted %s: ", action);
        return false;
    }
    if (what)
        *what = g_strdup(action);
    return true;
}

/* Other VMs whose config names the same base. */
static char *base_sharer(const VmConfig *cfg)
{
    g_auto(GStrv) names = vm_store_list(NULL);
    g_autofree char *want = g_canonicalize_filename(cfg->base, NULL);
    for (char **n = names; n && *n; n++) {
        if (!strcmp(*n, cfg->name))
            continue;
        g_autoptr(VmConfig) c = vm_store_load(*n, NULL);
        g_autofree char *b = c && c->base ? g_canonicalize_filename(c->base, NULL) : NULL;
        if (b && !strcmp(b, want))
            return g_strdup(*n);
    }
    return NULL;
}

/* Guest bytes the overlay itself holds: qemu-img map's depth-0 extents. */
static uint64_t changed_bytes(const VmConfig *cfg, const char *overlay)
{
    g_autofree char *chain = vm_image_chain_spec(cfg, overlay, NULL);
    const char *argv[] = {"qemu-img", "map", "-U", "--output=json", chain, NULL};
    g_autoptr(JsonNode) n = chain ? qemu_img_json(argv, NULL) : NULL;
    uint64_t total = 0;
    if (!n || !JSON_NODE_HOLDS_ARRAY(n))
        return 0;
    JsonArray *arr = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        if (o && json_object_get_int_member_with_default(o, "depth", -1) == 0 &&
            (json_object_get_boolean_member_with_default(o, "data", FALSE) ||
             json_object_get_boolean_member_with_default(o, "zero", FALSE)))
            total += (uint64_t)json_object_get_int_member_with_default(o, "length", 0);
    }
    return total;
}

static bool trees_differ(const char *a, const char *b)
{
    bool da = g_file_test(a, G_FILE_TEST_IS_DIR), db = g_file_test(b, G_FILE_TEST_IS_DIR);
    if (!g_file_test(a, G_FILE_TEST_EXISTS) || !g_file_test(b, G_FILE_TEST_EXISTS))
        return g_file_test(a, G_FILE_TEST_EXISTS) != g_file_test(b, G_FILE_TEST_EXISTS);
    if (da != db)
        return true;
    if (!da) {
        g_autofree char *x = NULL, *y = NULL;
        gsize lx = 0, ly = 0;
        if (!g_file_get_contents(a, &x, &lx, NULL) || !g_file_get_contents(b, &y, &ly, NULL))
            return true;
        return lx != ly || memcmp(x, y, lx) != 0;
    }
    g_autoptr(GDir) d = g_dir_open(a, 0, NULL);
    const char *e;
    guint na = 0;
    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *pa = g_build_filename(a, e, NULL);
        g_autofree char *pb = g_build_filename(b, e, NULL);
        na++;
        if (trees_differ(pa, pb))
            return true;
    }
    g_autoptr(GDir) d2 = g_dir_open(b, 0, NULL);
    guint nb = 0;
    while (d2 && g_dir_read_name(d2))
        nb++;
    return na != nb;
}

bool vm_overlay_decision_pending(const char *name)
{
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *path = g_build_filename(dir, VM_OVERLAY_PENDING_FILE, NULL);
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

bool vm_overlay_status(const char *name, VmOverlayStatus **out, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg || !need_overlay(cfg, error))
        return false;
    g_autoptr(VmOverlayStatus) st = g_new0(VmOverlayStatus, 1);
    int lock = vm_lock_acquire(name, NULL);
    if (lock >= 0) {
        bool ok = vm_overlay_recover_locked(cfg, &st->recovered, error);
        close(lock);
        if (!ok)
            return false;
    }
    st->base = g_strdup(cfg->base);
    st->base_format = g_strdup(cfg->base_format);
    st->base_allocated = disk_space_allocated(cfg->base, cfg->base_format);
    st->overlay = vm_store_disk_path(cfg);
    st->overlay_allocated = disk_space_allocated(st->overlay, "qcow2");
    st->changed_bytes = changed_bytes(cfg, st->overlay);
    if (!vm_image_virtual_size(st->overlay, "qcow2", &st->virtual_size, NULL))
        st->virtual_size = 0;
    g_autofree char *vars = vm_file(cfg, VM_UEFI_VARS_FILE, NULL);
    g_autofree char *vars0 = vm_file(cfg, VM_BASE_STATE_DIR, VM_UEFI_VARS_FILE);
    g_autofree char *tpm = vm_file(cfg, VM_TPM_DIR, NULL);
    g_autofree char *tpm0 = vm_file(cfg, VM_BASE_STATE_DIR, VM_TPM_DIR);
    st->vars_changed = g_file_test(vars0, G_FILE_TEST_EXISTS) && trees_differ(vars, vars0);
    st->tpm_changed = g_file_test(tpm0, G_FILE_TEST_EXISTS) && trees_differ(tpm, tpm0);
    st->policy = cfg->on_shutdown;
    g_autofree char *pending = vm_file(cfg, VM_OVERLAY_PENDING_FILE, NULL);
    GStatBuf sb;
    if (g_stat(pending, &sb) == 0) {
        st->pending = true;
        st->pending_since = (gint64)sb.st_mtime;
    }
    *out = g_steal_pointer(&st);
    return true;
}

bool vm_overlay_apply_locked(const VmConfig *cfg, VmOverlayAction action, GError **error)
{
    if (!need_overlay(cfg, error) || !vm_overlay_recover_locked(cfg, NULL, error))
        return false;
    if (action == VM_OVERLAY_KEEP) {
        g_autofree char *pending = vm_file(cfg, VM_OVERLAY_PENDING_FILE, NULL);
        g_unlink(pending);
        return true;
    }
    g_autofree char *dir = vd_paths_vm_dir(cfg->name);
    if (action == VM_OVERLAY_COMMIT) {
        g_autofree char *other = base_sharer(cfg);
        if (other) {
            g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                        "VM \"%s\" has an overlay on the same base %s; committing into it would "
                        "corrupt that VM's disk (discard instead, or delete that VM first)",
                        other, cfg->base);
            return false;
        }
        if (g_access(cfg->base, W_OK) < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "the base %s is not writable (%s), so the overlay cannot be committed "
                        "into it",
                        cfg->base, g_strerror(errno));
            return false;
        }
        g_autofree char *overlay = vm_store_disk_path(cfg);
        g_autofree char *base_dir = g_path_get_dirname(cfg->base);
        g_autofree char *vars = vm_file(cfg, VM_UEFI_VARS_FILE, NULL);
        g_autofree char *tpm = vm_file(cfg, VM_TPM_DIR, NULL);
        uint64_t data = changed_bytes(cfg, overlay);
        uint64_t state = disk_space_tree_size(vars) + disk_space_tree_size(tpm) + MIB;
        bool same_fs = disk_space_free(base_dir) == disk_space_free(dir);
        if (same_fs ? !disk_space_check(dir, data + state, "committing the overlay", error)
                    : !disk_space_check(base_dir, data, "committing the overlay", error) ||
                          !disk_space_check(dir, state, "committing the overlay", error))
            return false;
    } else if (!disk_space_check(dir, MIB, "a new empty overlay", error)) {
        return false;
    }
    return write_intent(cfg, action, error) && run_intent(cfg, action, false, error);
}

bool vm_overlay_apply(const char *name, VmOverlayAction action, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg || !need_overlay(cfg, error))
        return false;
    int lock = vm_lock_acquire(name, NULL);
    if (lock < 0) {
        g_autofree char *plain = g_strdup_printf(
            "VM \"%s\" is running; its overlay can be committed or discarded once it is stopped",
            name);
        vd_error_set_worded(error, VD_ERROR_STATE, NULL, plain, "%s (vmdesk stop %s)", plain,
                            name);
        return false;
    }
    bool ok = vm_overlay_apply_locked(cfg, action, error);
    close(lock);
    return ok;
}

bool vm_overlay_on_shutdown_locked(const VmConfig *cfg, char **done, char **done_plain,
                                   GError **error)
{
    if (done)
        *done = NULL;
    if (done_plain)
        *done_plain = NULL;
    if (!cfg->base)
        return true;
    switch (cfg->on_shutdown) {
    case VM_ON_SHUTDOWN_KEEP:
        return true;
    case VM_ON_SHUTDOWN_ASK: {
        g_autofree char *pending = vm_file(cfg, VM_OVERLAY_PENDING_FILE, NULL);
        g_autofree char *text = g_strdup_printf(
            "# The guest shut down; answer with vmdesk overlay %s commit | discard | keep\n",
            cfg->name);
        if (!vd_file_write_atomic(pending, text, -1, 0600, error))
            return false;
        if (done)
            *done = g_strdup("kept the overlay; the question waits in vmdesk overlay status");
        if (done_plain)
            *done_plain = g_strdup("kept the overlay; the question of what to do with its "
                                   "changes waits for an answer");
        return true;
    }
    case VM_ON_SHUTDOWN_COMMIT:
    case VM_ON_SHUTDOWN_DISCARD: {
        bool commit = cfg->on_shutdown == VM_ON_SHUTDOWN_COMMIT;
        if (!vm_overlay_apply_locked(cfg, commit ? VM_OVERLAY_COMMIT : VM_OVERLAY_DISCARD, error))
            return false;
        if (done)
            *done = g_strdup(commit ? "committed the overlay into the base"
                                    : "discarded the overlay");
        return true;
    }
    }
    return true;
}
