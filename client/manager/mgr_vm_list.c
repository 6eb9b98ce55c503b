#include "manager/mgr_vm_list.h"

#include "common/paths.h"
#include "manager/mgr_ops.h"
#include "storage/vm_overlay.h"
#include "vm/vm_store.h"

#include <string.h>

struct _MgrVmList {
    GObject parent;
    GListStore *vms;
    GFileMonitor *store_monitor;    /* .../vmdesk/vms: VM folders come and go */
    GFileMonitor *runtime_monitor;  /* $XDG_RUNTIME_DIR/vmdesk: a VM's first start */
    GHashTable *data_monitors;      /* name -> GFileMonitor of its folder (vm.conf) */
    GHashTable *state_monitors;     /* name -> GFileMonitor of its runtime folder (state) */
    GHashTable *screens_running;    /* names whose screendump is under way */
    GCancellable *cancel;
    guint screen_timer;
};

G_DEFINE_FINAL_TYPE(MgrVmList, mgr_vm_list, G_TYPE_OBJECT)

static void take_screen(MgrVmList *list, MgrVm *vm, bool saved_only);

static void mgr_vm_list_dispose(GObject *obj)
{
    MgrVmList *list = MGR_VM_LIST(obj);
    g_cancellable_cancel(list->cancel);
    g_clear_handle_id(&list->screen_timer, g_source_remove);
    g_clear_object(&list->store_monitor);
    g_clear_object(&list->runtime_monitor);
    g_clear_pointer(&list->data_monitors, g_hash_table_destroy);
    g_clear_pointer(&list->state_monitors, g_hash_table_destroy);
    g_clear_pointer(&list->screens_running, g_hash_table_destroy);
    g_clear_object(&list->vms);
    g_clear_object(&list->cancel);
    G_OBJECT_CLASS(mgr_vm_list_parent_class)->dispose(obj);
}

static void mgr_vm_list_class_init(MgrVmListClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = mgr_vm_list_dispose;
}

static void mgr_vm_list_init(MgrVmList *list)
{
    list->vms = g_list_store_new(MGR_TYPE_VM);
    list->cancel = g_cancellable_new();
    list->data_monitors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    list->state_monitors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    list->screens_running = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

GListModel *mgr_vm_list_get_model(MgrVmList *list)
{
    return G_LIST_MODEL(list->vms);
}

static bool find_index(MgrVmList *list, const char *name, guint *index)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(list->vms));
    for (guint i = 0; i < n; i++) {
        g_autoptr(MgrVm) vm = g_list_model_get_item(G_LIST_MODEL(list->vms), i);
        if (!strcmp(mgr_vm_get_name(vm), name)) {
            *index = i;
            return true;
        }
    }
    return false;
}

MgrVm *mgr_vm_list_find(MgrVmList *list, const char *name)
{
    guint i;
    if (!find_index(list, name, &i))
        return NULL;
    g_autoptr(MgrVm) vm = g_list_model_get_item(G_LIST_MODEL(list->vms), i);
    return vm; /* the store keeps its reference */
}

void mgr_vm_list_refresh(MgrVmList *list, const char *name)
{
    MgrVm *vm = mgr_vm_list_find(list, name);
    if (!vm)
        return;
    MgrVmPhase before = mgr_vm_get_phase(vm);
    MgrVmInfo info;
    mgr_ops_read_state(name, &info);
    mgr_vm_set_state(vm, info.phase, info.state_text, info.reason, info.accel);
    mgr_vm_set_overlay_pending(vm, info.overlay_pending);
    /* A picture at once when it starts to run or pauses (the last one then
     * holds), not only at the next tick. */
    if (list->screen_timer && info.phase != before &&
        (info.phase == MGR_VM_RUNNING || info.phase == MGR_VM_PAUSED))
        take_screen(list, vm, false);
    mgr_vm_info_clear(&info);
}

/* --- folder events --- */

static GFileMonitor *watch_dir(const char *path, GCallback on_event, MgrVmList *list)
{
    g_autoptr(GFile) f = g_file_new_for_path(path);
    GFileMonitor *m = g_file_monitor_directory(f, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
    if (m)
        g_signal_connect(m, "changed", on_event, list);
    return m;
}

/* The basename of the file an event concerns (for a rename, its new name). */
static char *event_name(GFile *file, GFile *other, GFileMonitorEvent ev)
{
    return g_file_get_basename(ev == G_FILE_MONITOR_EVENT_RENAMED && other ? other : file);
}

static void on_state_event(GFileMonitor *m, GFile *file, GFile *other, GFileMonitorEvent ev,
                           gpointer data)
{
    MgrVmList *list = data;
    g_autofree char *base = event_name(file, other, ev);
    if (strcmp(base, "state") && strcmp(base, "lock"))
        return;
    const char *name = g_object_get_data(G_OBJECT(m), "vm-name");
    mgr_vm_list_refresh(list, name);
}

/* Watch @dir, one of VM @name's folders, with @cb, once: the monitor is
 * kept in @table under the name, which it carries as "vm-name". */
static void watch_vm_dir(MgrVmList *list, GHashTable *table, const char *name, const char *dir,
                         GCallback cb)
{
    GFileMonitor *m = watch_dir(dir, cb, list);
    if (!m)
        return;
    g_object_set_data_full(G_OBJECT(m), "vm-name", g_strdup(name), g_free);
    g_hash_table_insert(table, g_strdup(name), m);
}

static void watch_state(MgrVmList *list, const char *name)
{
    if (g_hash_table_contains(list->state_monitors, name))
        return;
    g_autofree char *rt = vd_paths_runtime_dir(name);
    if (!g_file_test(rt, G_FILE_TEST_IS_DIR))
        return; /* never started: on_runtime_event adds it at the first start */
    watch_vm_dir(list, list->state_monitors, name, rt, G_CALLBACK(on_state_event));
}

static void on_runtime_event(GFileMonitor *m, GFile *file, GFile *other, GFileMonitorEvent ev,
                             gpointer data)
{
    MgrVmList *list = data;
    g_autofree char *name = event_name(file, other, ev);
    if (ev == G_FILE_MONITOR_EVENT_DELETED || ev == G_FILE_MONITOR_EVENT_MOVED_OUT) {
        g_hash_table_remove(list->state_monitors, name);
        return;
    }
    if (mgr_vm_list_find(list, name)) {
        watch_state(list, name);
        mgr_vm_list_refresh(list, name);
    }
}

static void on_data_event(GFileMonitor *m, GFile *file, GFile *other, GFileMonitorEvent ev,
                          gpointer data)
{
    g_autofree char *base = event_name(file, other, ev);
    if (!strcmp(base, VM_CONFIG_FILE))
        mgr_vm_list_rescan(data);
    else if (!strcmp(base, VM_OVERLAY_PENDING_FILE))
        mgr_vm_list_refresh(data, g_object_get_data(G_OBJECT(m), "vm-name"));
}

static void watch_data(MgrVmList *list, const char *name)
{
    if (g_hash_table_contains(list->data_monitors, name))
        return;
    g_autofree char *dir = vd_paths_vm_dir(name);
    watch_vm_dir(list, list->data_monitors, name, dir, G_CALLBACK(on_data_event));
}

static void on_store_event(GFileMonitor *m, GFile *file, GFile *other, GFileMonitorEvent ev,
                           gpointer data)
{
    MgrVmList *list = data;
    g_autofree char *name = event_name(file, other, ev);
    /* A VM being created has its folder before its config: watch the
     * folder, and the config's arrival adds the VM. */
    if (ev == G_FILE_MONITOR_EVENT_CREATED || ev == G_FILE_MONITOR_EVENT_MOVED_IN ||
        ev == G_FILE_MONITOR_EVENT_RENAMED)
        if (vd_name_validate(name, NULL))
            watch_data(list, name);
    mgr_vm_list_rescan(list);
}

/* --- the list --- */

static void add_vm(MgrVmList *list, const char *name, guint position)
{
    g_autoptr(MgrVm) vm = mgr_vm_new(name);
    g_list_store_insert(list->vms, position, vm);
    watch_data(list, name);
    watch_state(list, name);
    mgr_vm_list_refresh(list, name);
    if (list->screen_timer && mgr_vm_get_phase(vm) != MGR_VM_RUNNING &&
        mgr_vm_get_phase(vm) != MGR_VM_PAUSED)
        take_screen(list, vm, true);
}

void mgr_vm_list_rescan(MgrVmList *list)
{
    g_auto(GStrv) names = vm_store_list(NULL);
    /* Both sorted by name: walk them together. */
    guint i = 0;
    for (char **n = names; *n || i < g_list_model_get_n_items(G_LIST_MODEL(list->vms));) {
        g_autoptr(MgrVm) vm = i < g_list_model_get_n_items(G_LIST_MODEL(list->vms))
                                  ? g_list_model_get_item(G_LIST_MODEL(list->vms), i)
                                  : NULL;
        int c = !vm ? 1 : !*n ? -1 : strcmp(mgr_vm_get_name(vm), *n);
        if (c == 0) {
            i++;
            n++;
        } else if (c < 0) {
            g_hash_table_remove(list->data_monitors, mgr_vm_get_name(vm));
            g_hash_table_remove(list->state_monitors, mgr_vm_get_name(vm));
            g_list_store_remove(list->vms, i);
        } else {
            add_vm(list, *n, i);
            i++;
            n++;
        }
    }
}

/* --- screens --- */

typedef struct {
    MgrVmList *list;   /* a reference */
    char *name;
} ScreenJob;

static void screen_done(GObject *src, GAsyncResult *res, gpointer data)
{
    ScreenJob *job = data;
    g_autoptr(GError) err = NULL;
    g_autoptr(GdkTexture) t = mgr_ops_screen_finish(res, &err);
    if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_hash_table_remove(job->list->screens_running, job->name);
        MgrVm *vm = mgr_vm_list_find(job->list, job->name);
        if (vm && t)
            mgr_vm_set_screen(vm, t);
        else if (vm && err && mgr_vm_get_phase(vm) == MGR_VM_RUNNING)
            mgr_vm_list_refresh(job->list, job->name);
    }
    g_object_unref(job->list);
    g_free(job->name);
    g_free(job);
}

static void take_screen(MgrVmList *list, MgrVm *vm, bool saved_only)
{
    const char *name = mgr_vm_get_name(vm);
    if (g_hash_table_contains(list->screens_running, name))
        return;
    g_hash_table_add(list->screens_running, g_strdup(name));
    ScreenJob *job = g_new0(ScreenJob, 1);
    job->list = g_object_ref(list);
    job->name = g_strdup(name);
    mgr_ops_screen_async(name, saved_only, mgr_vm_get_screen(vm), list->cancel, screen_done,
                         job);
}

static gboolean on_screen_tick(gpointer data)
{
    MgrVmList *list = data;
    guint n = g_list_model_get_n_items(G_LIST_MODEL(list->vms));
    for (guint i = 0; i < n; i++) {
        g_autoptr(MgrVm) vm = g_list_model_get_item(G_LIST_MODEL(list->vms), i);
        if (mgr_vm_get_phase(vm) == MGR_VM_RUNNING)
            take_screen(list, vm, false);
    }
    return G_SOURCE_CONTINUE;
}

void mgr_vm_list_set_screens_shown(MgrVmList *list, bool shown)
{
    if (shown == (list->screen_timer != 0))
        return;
    if (!shown) {
        g_clear_handle_id(&list->screen_timer, g_source_remove);
        return;
    }
    list->screen_timer = g_timeout_add(MGR_SCREEN_INTERVAL_MS, on_screen_tick, list);
    /* Running VMs' screens now; for the others without a picture yet (all
     * of them the first time), a paused VM's screen, the saved picture of
     * the rest. */
    on_screen_tick(list);
    guint n = g_list_model_get_n_items(G_LIST_MODEL(list->vms));
    for (guint i = 0; i < n; i++) {
        g_autoptr(MgrVm) vm = g_list_model_get_item(G_LIST_MODEL(list->vms), i);
        MgrVmPhase p = mgr_vm_get_phase(vm);
        if (p != MGR_VM_RUNNING && !mgr_vm_get_screen(vm))
            take_screen(list, vm, p != MGR_VM_PAUSED);
    }
}

MgrVmList *mgr_vm_list_new(GError **error)
{
    g_autofree char *store = vd_paths_vms_dir();
    g_autofree char *runtime = vd_paths_runtime_root();
    if (!vd_mkdir_private(store, error) || !vd_mkdir_private(runtime, error))
        return NULL;
    MgrVmList *list = g_object_new(MGR_TYPE_VM_LIST, NULL);
    list->store_monitor = watch_dir(store, G_CALLBACK(on_store_event), list);
    list->runtime_monitor = watch_dir(runtime, G_CALLBACK(on_runtime_event), list);
    mgr_vm_list_rescan(list);
    return list;
}
