#include "manager/mgr_page_ops.h"

#include "manager/mgr_ops.h"

#include "apps/desktop_entry.h"
#include "common/error.h"
#include "common/paths.h"
#include "common/size.h"
#include "guest/guest_apps.h"
#include "guest/guest_tools.h"
#include "secrets/credentials.h"
#include "session/cert_pin.h"
#include "storage/vm_media.h"
#include "storage/vm_overlay.h"
#include "storage/vm_snapshot.h"
#include "vm/vm_config.h"
#include "vm/vm_host.h"
#include "vm/vm_lease.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOOLS_TIMEOUT_MS 3000
#define LOG_TAIL_MAX (256 * 1024)

const char *const mgr_page_perf_names[3] = {"standard", "powersave", "turbo"};
const char *const mgr_page_policy_names[4] = {"keep", "commit", "discard", "ask"};

static void share_free(gpointer p)
{
    MgrShare *s = p;
    g_free(s->path);
    g_free(s->text);
    g_free(s);
}

static void snapshot_free(gpointer p)
{
    MgrSnapshot *s = p;
    g_free(s->tag);
    g_free(s->text);
    g_free(s);
}

void mgr_page_info_free(MgrPageInfo *info)
{
    if (!info)
        return;
    g_free(info->name);
    g_free(info->memory);
    g_free(info->qemu_args);
    g_clear_pointer(&info->shares, g_ptr_array_unref);
    g_free(info->cd);
    g_clear_pointer(&info->snapshots, g_ptr_array_unref);
    g_free(info->snapshot_error);
    g_free(info->overlay_text);
    g_strfreev(info->logs);
    g_free(info->certificate);
    g_free(info->account_user);
    g_free(info->certificate_error);
    g_free(info);
}

/* --- reading --- */

static GPtrArray *read_shares(const VmConfig *cfg)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(share_free);
    g_autoptr(GPtrArray) exports = vm_config_share_exports(cfg);
    for (guint i = 0; i < exports->len; i++) {
        const VmShareExport *e = g_ptr_array_index(exports, i);
        MgrShare *s = g_new0(MgrShare, 1);
        s->letter = e->share.letter;
        s->read_only = e->share.read_only;
        s->path = g_strdup(e->share.path);
        g_autofree char *drive = e->share.read_only
                                     ? g_strdup("read-only")
                                     : g_strdup_printf("RDP drive %c:", e->share.letter);
        s->text = e->tag ? g_strdup_printf("%s, 9p tag %s", drive, e->tag) : g_steal_pointer(&drive);
        g_ptr_array_add(out, s);
    }
    return out;
}

static void read_snapshots(MgrPageInfo *info)
{
    info->snapshots = g_ptr_array_new_with_free_func(snapshot_free);
    g_autoptr(GError) e = NULL;
    g_autoptr(GPtrArray) list = vm_snapshot_list(info->name, &e);
    if (!list) {
        info->snapshot_error = mgr_error_text(e);
        return;
    }
    for (guint i = 0; i < list->len; i++) {
        const VmSnapshot *s = g_ptr_array_index(list, i);
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(s->date);
        g_autofree char *when = t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S") : g_strdup("?");
        g_autofree char *mem = g_format_size_full(s->vm_state_size, G_FORMAT_SIZE_IEC_UNITS);
        MgrSnapshot *m = g_new0(MgrSnapshot, 1);
        m->tag = g_strdup(s->tag);
        m->text = s->vm_state_size
                      ? g_strdup_printf("%s, with the running VM's memory (%s)", when, mem)
                      : g_strdup_printf("%s, disk only", when);
        g_ptr_array_add(info->snapshots, m);
    }
}

static void read_overlay(MgrPageInfo *info)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(VmOverlayStatus) st = NULL;
    if (!vm_overlay_status(info->name, &st, &e)) {
        info->overlay_text = mgr_error_text(e);
        return;
    }
    info->has_overlay = true;
    info->overlay_pending = st->pending;
    g_autofree char *changed = g_format_size_full(st->changed_bytes, G_FORMAT_SIZE_IEC_UNITS);
    g_autofree char *size = g_format_size_full(st->overlay_allocated, G_FORMAT_SIZE_IEC_UNITS);
    info->overlay_text = g_strdup_printf(
        "On %s: %s changed since the last commit (the overlay takes %s)%s%s%s", st->base,
        changed, size, st->vars_changed ? "; UEFI variables changed" : "",
        st->tpm_changed ? "; TPM state changed" : "",
        st->pending ? ". Its last shutdown asks: commit or discard?" : "");
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **read_logs(const char *name)
{
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *logs = g_build_filename(dir, "logs", NULL);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_autoptr(GDir) d = g_dir_open(logs, 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d)))
        g_strv_builder_add(b, e);
    char **names = g_strv_builder_end(b);
    qsort(names, g_strv_length(names), sizeof(char *), cmp_strp);
    return names;
}

/* Why @file, a VM's pin file, cannot be read, or NULL (read, or no file).
 * cert_pin_get says only "no pin"; the connection's cert_pin_check reads the
 * file the same way and refuses to connect when this fails. */
static char *pin_file_error(const char *file)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) err = NULL;
    if (g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, &err) ||
        g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return NULL;
    return g_strdup_printf("%s: %s", file, err->message);
}

static MgrPageInfo *read_info(const char *name, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return NULL;
    g_autoptr(VmStatus) st = vm_status_get(name);
    MgrPageInfo *info = g_new0(MgrPageInfo, 1);
    info->name = g_strdup(name);
    info->running = vm_state_is_active(st->state);
    info->windows = cfg->os == VM_OS_WINDOWS;
    info->memory = vd_size_format(cfg->memory);
    info->cpus = cfg->cpus;
    info->performance = cfg->performance;
    GString *args = g_string_new(NULL);
    for (char **a = cfg->qemu_args; a && *a; a++) {
        g_autofree char *q = g_shell_quote(*a);
        g_string_append_printf(args, "%s%s", args->len ? " " : "", q);
    }
    info->qemu_args = g_string_free(args, FALSE);
    info->shares = read_shares(cfg);
    VmCdrom cd = {0};
    if (info->running && vm_cdrom_query(name, &cd, NULL))
        info->cd = g_steal_pointer(&cd.medium);
    else
        info->cd = g_strdup(cfg->iso);
    vm_cdrom_clear(&cd);
    read_snapshots(info);
    read_overlay(info);
    info->on_shutdown = cfg->on_shutdown;
    info->logs = read_logs(name);
    g_autofree char *pin_file = cert_pin_vm_path(name);
    info->certificate = cert_pin_get(pin_file, CERT_PIN_VM_GROUP);
    if (!info->certificate)
        info->certificate_error = pin_file_error(pin_file);
    info->account_user = credentials_user(name);
    VmHostLimits host;
    vm_host_limits(&host);
    info->memory_max = host.memory_max;
    info->cpus_max = host.cpus;
    return info;
}

/* --- changes --- */

/* The settings within this host's ranges (vmdesk doctor), which `vmdesk
 * set` leaves to the user's judgement and the page keeps to. */
static bool within_host(const VmConfig *cfg, GError **error)
{
    VmHostLimits host;
    vm_host_limits(&host);
    if (cfg->memory > host.memory_max) {
        g_autofree char *mem = vd_size_format(cfg->memory);
        g_autofree char *max = vd_size_format(host.memory_max);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "Memory: %s is more than this host can give a VM (64M to %s)", mem, max);
        return false;
    }
    if (cfg->cpus > host.cpus) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "Processors: %u is more than this host has (1 to %u)", cfg->cpus, host.cpus);
        return false;
    }
    return true;
}

/* Every assignment is checked before anything is saved: one bad value
 * changes nothing. */
static bool set_all(const char *name, const char *const *args, char **done, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    g_autoptr(VmStatus) st = vm_status_get(name);
    bool running = vm_state_is_active(st->state), later = false;
    for (const char *const *a = args; a && *a; a++) {
        bool next = false;
        if (!vm_store_set(cfg, *a, running, &next, error))
            return false;
        later |= next;
    }
    if (!within_host(cfg, error) || !vm_store_save(cfg, error))
        return false;
    *done = g_strdup(later ? "Saved: the VM is running, the change applies at its next start"
                           : "Saved");
    return true;
}

static bool edit_shares(const char *name, MgrPageOp op, const char *arg, bool read_only,
                        char **done, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    char letter = 'Z';
    if (op == MGR_PAGE_SHARE_REMOVE) {
        letter = arg[0];
        if (!vm_config_share_remove(cfg, letter, error))
            return false;
    } else {
        /* The first letter from Z down that shares nothing yet. */
        for (; letter >= 'D'; letter--) {
            bool used = false;
            for (char **s = cfg->shares; s && *s && !used; s++)
                used = g_ascii_toupper((*s)[0]) == letter;
            if (!used)
                break;
        }
        if (letter < 'D') {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "%s shares a folder on every drive letter from D: to Z:", name);
            return false;
        }
        if (!vm_config_share_add(cfg, letter, arg, read_only, error))
            return false;
    }
    if (!vm_store_save(cfg, error))
        return false;
    *done = op == MGR_PAGE_SHARE_REMOVE
                ? g_strdup_printf("%c: is no longer shared", letter)
                : g_strdup_printf("Shared %s as %c:", arg, letter);
    return true;
}

static bool cd_change(const char *name, const char *path, char **done, GError **error)
{
    /* As the assistant: a file that is no CD image is refused (vmdesk cdrom
     * hands QEMU any file). */
    if (path && !vm_media_check_iso(path, error))
        return false;
    bool live = false;
    /* No idle pause while the medium changes. */
    int hold = vm_lease_hold(name, "manager", NULL);
    bool ok = path ? vm_cdrom_insert(name, path, &live, error) : vm_cdrom_eject(name, &live, error);
    if (hold >= 0)
        close(hold);
    if (ok)
        *done = g_strdup_printf("%s%s", path ? "Inserted the CD image" : "Ejected the CD",
                                live ? "" : " (from the next start)");
    return ok;
}

static bool account_save(const char *name, const char *user, char *password, char **done,
                         GError **error)
{
    g_autofree char *domain = NULL;
    const char *sep = strchr(user, '\\');
    if (sep) {
        domain = g_strndup(user, sep - user);
        user = sep + 1;
    }
    if (!*user || (domain && !*domain)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the user name is empty: give it as user or DOMAIN\\user");
        return false;
    }
    if (!password || !*password) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the password is empty");
        return false;
    }
    /* The VM must exist: credentials of no VM would make a folder for it. */
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    Credentials c = {.user = (char *)user, .password = password, .domain = domain};
    CredentialsStore where = CREDENTIALS_IN_FILE;
    if (!credentials_save(name, &c, &where, error))
        return false;
    g_autofree char *place = credentials_password_location(name, where);
    *done = g_strdup_printf("Stored the account of user %s: the password in %s", user, place);
    return true;
}

static bool run_op(MgrPageOp op, const char *name, const char *arg, const char *const *args,
                   bool flag, char **done, GError **error)
{
    bool live = false;
    switch (op) {
    case MGR_PAGE_LOAD: return true;
    case MGR_PAGE_SET: return set_all(name, args, done, error);
    case MGR_PAGE_SHARE_ADD:
    case MGR_PAGE_SHARE_REMOVE: return edit_shares(name, op, arg, flag, done, error);
    case MGR_PAGE_CD_INSERT: return cd_change(name, arg, done, error);
    case MGR_PAGE_CD_EJECT: return cd_change(name, NULL, done, error);
    case MGR_PAGE_SNAPSHOT_SAVE:
        if (!vm_snapshot_save(name, arg, &live, error))
            return false;
        *done = g_strdup_printf("Saved snapshot %s%s", arg, live ? " with the VM's memory" : "");
        return true;
    case MGR_PAGE_SNAPSHOT_RESTORE:
        if (!vm_snapshot_restore(name, arg, true, &live, error))
            return false;
        *done = g_strdup_printf("Restored snapshot %s", arg);
        return true;
    case MGR_PAGE_SNAPSHOT_DELETE:
        if (!vm_snapshot_delete(name, arg, &live, error))
            return false;
        *done = g_strdup_printf("Deleted snapshot %s", arg);
        return true;
    case MGR_PAGE_OVERLAY_COMMIT:
    case MGR_PAGE_OVERLAY_DISCARD: {
        bool commit = op == MGR_PAGE_OVERLAY_COMMIT;
        if (!vm_overlay_apply(name, commit ? VM_OVERLAY_COMMIT : VM_OVERLAY_DISCARD, error))
            return false;
        *done = g_strdup(commit ? "Committed the changes into the base image"
                                : "Discarded the changes since the last commit");
        return true;
    }
    case MGR_PAGE_CERT_FORGET: {
        g_autofree char *file = cert_pin_vm_path(name);
        bool removed = false;
        if (!cert_pin_forget(file, CERT_PIN_VM_GROUP, &removed, error))
            return false;
        *done = g_strdup(removed ? "Forgot the certificate: the next connection pins the one "
                                   "it sees"
                                 : "No certificate was pinned");
        return true;
    }
    case MGR_PAGE_ACCOUNT_SAVE:
        return account_save(name, arg, args && args[0] ? (char *)args[0] : NULL, done, error);
    case MGR_PAGE_ACCOUNT_FORGET: {
        bool removed = false;
        if (!credentials_forget(name, &removed, error))
            return false;
        *done = g_strdup(removed ? "Forgot the account" : "No account was stored");
        return true;
    }
    }
    return false;
}

typedef struct {
    MgrPageOp op;
    char *name, *arg;
    char **args;
    bool flag;
    char *done;
    GError *error;
} PageTask;

static void page_task_free(gpointer p)
{
    PageTask *t = p;
    g_free(t->name);
    g_free(t->arg);
    /* The account's password is wiped before it goes back to the heap. */
    for (char **a = t->args; t->op == MGR_PAGE_ACCOUNT_SAVE && a && *a; a++)
        explicit_bzero(*a, strlen(*a));
    g_strfreev(t->args);
    g_free(t->done);
    g_clear_error(&t->error);
    g_free(t);
}

static void page_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    PageTask *t = data;
    run_op(t->op, t->name, t->arg, (const char *const *)t->args, t->flag, &t->done, &t->error);
    GError *err = NULL;
    MgrPageInfo *info = read_info(t->name, &err);
    if (info)
        g_task_return_pointer(task, info, (GDestroyNotify)mgr_page_info_free);
    else
        g_task_return_error(task, err);
}

void mgr_page_ops_run_async(MgrPageOp op, const char *name, const char *arg,
                            const char *const *args, bool flag, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    PageTask *t = g_new0(PageTask, 1);
    t->op = op;
    t->name = g_strdup(name);
    t->arg = g_strdup(arg);
    t->args = g_strdupv((char **)args);
    t->flag = flag;
    g_task_set_task_data(task, t, page_task_free);
    g_task_run_in_thread(task, page_thread);
}

MgrPageInfo *mgr_page_ops_run_finish(GAsyncResult *res, char **done, GError **error)
{
    PageTask *t = g_task_get_task_data(G_TASK(res));
    MgrPageInfo *info = g_task_propagate_pointer(G_TASK(res), error);
    if (!info)
        return NULL;
    if (t->error)
        g_propagate_error(error, g_steal_pointer(&t->error));
    else
        *done = g_steal_pointer(&t->done);
    return info;
}

/* --- programs --- */

static void app_free(gpointer p)
{
    MgrApp *a = p;
    g_free(a->name);
    g_free(a->program);
    g_clear_pointer(&a->icon, g_bytes_unref);
    g_free(a->app_id);
    guest_app_free(a->guest);
    g_free(a);
}

static bool in_menu(const char *vm, const char *app_id)
{
    g_autofree char *safe = desktop_entry_sanitize(vm);
    g_autofree char *id = g_strdup_printf("vmdesk-%s-%s", safe, app_id);
    const char *which[] = {id, NULL};
    g_auto(GStrv) found = desktop_entry_find(vm, NULL, which);
    return found && *found;
}

static void apps_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    const char *name = data;
    GError *err = NULL;
    /* A use of the VM: no idle pause while the guest answers. */
    int lease = vm_lease_use(name, "manager", NULL);
    g_autoptr(GPtrArray) guest = guest_apps_list(name, GUEST_APPS_TIMEOUT_MS, &err);
    if (lease >= 0)
        close(lease);
    if (!guest) {
        g_task_return_error(task, err);
        return;
    }
    g_auto(GStrv) ids = desktop_entry_assign_ids(guest);
    GPtrArray *out = g_ptr_array_new_with_free_func(app_free);
    g_ptr_array_set_free_func(guest, NULL);
    for (guint i = 0; i < guest->len; i++) {
        GuestApp *g = g_ptr_array_index(guest, i);
        MgrApp *a = g_new0(MgrApp, 1);
        a->name = g_strdup(g->name);
        a->program = g_strdup(g->program);
        a->icon = g->icon_data ? g_bytes_ref(g->icon_data) : NULL;
        a->app_id = g_strdup(ids[i]);
        a->in_menu = in_menu(name, ids[i]);
        a->guest = g;
        g_ptr_array_add(out, a);
    }
    g_task_return_pointer(task, out, (GDestroyNotify)g_ptr_array_unref);
}

void mgr_page_apps_async(const char *name, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    g_task_set_task_data(task, g_strdup(name), g_free);
    g_task_run_in_thread(task, apps_thread);
}

GPtrArray *mgr_page_apps_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_pointer(G_TASK(res), error);
}

typedef struct {
    char *name;
    GPtrArray *apps;
    guint index;
    bool add;
} MenuTask;

static void menu_task_free(gpointer p)
{
    MenuTask *t = p;
    g_free(t->name);
    g_ptr_array_unref(t->apps);
    g_free(t);
}

static bool menu_change(const MenuTask *t, GError **error)
{
    MgrApp *a = g_ptr_array_index(t->apps, t->index);
    if (t->add) {
        g_autofree char *self = mgr_ops_vmdesk_path();
        g_autofree char *warning = NULL;
        if (!desktop_entry_install(t->name, NULL, a->guest, a->app_id, self, NULL, &warning, error))
            return false;
        if (warning)
            g_warning("%s", warning);
    } else {
        g_autofree char *safe = desktop_entry_sanitize(t->name);
        g_autofree char *id = g_strdup_printf("vmdesk-%s-%s", safe, a->app_id);
        const char *which[] = {id, NULL};
        g_auto(GStrv) paths = desktop_entry_find(t->name, NULL, which);
        for (char **p = paths; p && *p; p++)
            if (!desktop_entry_remove_file(*p, error))
                return false;
    }
    return true;
}

static void menu_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    const MenuTask *t = data;
    GError *err = NULL;
    bool ok = menu_change(t, &err);
    desktop_entry_refresh_caches();
    if (ok)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, err);
}

void mgr_page_app_menu_async(const char *name, GPtrArray *apps, guint index, bool add,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    MenuTask *t = g_new0(MenuTask, 1);
    t->name = g_strdup(name);
    t->apps = g_ptr_array_ref(apps);
    t->index = index;
    t->add = add;
    g_task_set_task_data(task, t, menu_task_free);
    g_task_run_in_thread(task, menu_thread);
}

bool mgr_page_app_menu_finish(GAsyncResult *res, GError **error)
{
    if (!g_task_propagate_boolean(G_TASK(res), error))
        return false;
    const MenuTask *t = g_task_get_task_data(G_TASK(res));
    MgrApp *a = g_ptr_array_index(t->apps, t->index);
    a->in_menu = t->add;
    return true;
}

/* --- guest tools --- */

static char *tools_text(const char *name)
{
    g_autoptr(VmStatus) st = vm_status_get(name);
    if (!vm_state_is_active(st->state))
        return g_strdup("The VM is not running: start it to ask its guest agent.");
    GuestToolsStatus gt = {0};
    g_autoptr(GError) e = NULL;
    if (!guest_tools_status(name, TOOLS_TIMEOUT_MS, &gt, &e)) {
        g_autofree char *text = mgr_error_text(e);
        return g_strdup_printf("Could not ask the guest: %s", text);
    }
    GString *s = g_string_new(NULL);
    if (gt.agent)
        g_string_append_printf(s, "Guest agent %s answers", gt.agent_version ? gt.agent_version
                                                                              : "(no version)");
    else
        g_string_append_printf(s, "No guest agent answers (%s)",
                               gt.agent_detail ? gt.agent_detail : "no reason given");
    if (gt.os_pretty_name)
        g_string_append_printf(s, "; %s", gt.os_pretty_name);
    g_string_append(s, ". ");
    if (gt.tools == 1)
        g_string_append_printf(s, "The vmdesk guest tools are installed%s%s.",
                               gt.tools_marker ? ": " : "", gt.tools_marker ? gt.tools_marker : "");
    else if (gt.tools == 0)
        g_string_append_printf(s,
                               "The vmdesk guest tools are not installed%s%s (vmdesk's tools "
                               "command installs them).",
                               gt.tools_detail ? ": " : "", gt.tools_detail ? gt.tools_detail : "");
    else
        g_string_append(s, "Whether the vmdesk guest tools are installed is unknown.");
    guest_tools_status_clear(&gt);
    /* The guest's words are hostile: valid UTF-8 for the label at least. */
    g_autofree char *raw = g_string_free(s, FALSE);
    return g_utf8_make_valid(raw, -1);
}

static void tools_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    g_task_return_pointer(task, tools_text(data), g_free);
}

void mgr_page_tools_async(const char *name, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    g_task_set_task_data(task, g_strdup(name), g_free);
    g_task_run_in_thread(task, tools_thread);
}

char *mgr_page_tools_finish(GAsyncResult *res)
{
    return g_task_propagate_pointer(G_TASK(res), NULL);
}

/* --- logs --- */

static char *log_tail(const char *name, const char *file, GError **error)
{
    if (strchr(file, '/') || !strcmp(file, "..") || !strcmp(file, ".")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s is no log file name", file);
        return NULL;
    }
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *path = g_build_filename(dir, "logs", file, NULL);
    g_autoptr(GMappedFile) m = g_mapped_file_new(path, FALSE, error);
    if (!m)
        return NULL;
    gsize len = g_mapped_file_get_length(m);
    const char *data = g_mapped_file_get_contents(m);
    if (!data || !len)
        return g_strdup("");
    gsize from = len > LOG_TAIL_MAX ? len - LOG_TAIL_MAX : 0;
    /* Whole lines only, when cut. */
    while (from && from < len && data[from - 1] != '\n')
        from++;
    return g_utf8_make_valid(data + from, (gssize)(len - from));
}

static void log_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    char **nf = data;
    GError *err = NULL;
    char *text = log_tail(nf[0], nf[1], &err);
    if (text)
        g_task_return_pointer(task, text, g_free);
    else
        g_task_return_error(task, err);
}

void mgr_page_log_async(const char *name, const char *file, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    char **nf = g_new0(char *, 3);
    nf[0] = g_strdup(name);
    nf[1] = g_strdup(file);
    g_task_set_task_data(task, nf, (GDestroyNotify)g_strfreev);
    g_task_run_in_thread(task, log_thread);
}

char *mgr_page_log_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_pointer(G_TASK(res), error);
}
