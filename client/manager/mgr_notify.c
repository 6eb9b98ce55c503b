#define G_LOG_DOMAIN "vmdesk-manager"

#include "manager/mgr_notify.h"

#include "manager/mgr_ops.h"

#include <string.h>

typedef struct {
    GApplication *app;   /* borrowed: the application owns this */
    MgrVmList *list;     /* a reference */
    GHashTable *asked;   /* names whose question is shown (each holds the app) */
} Notifier;

static void notifier_free(gpointer p)
{
    Notifier *n = p;
    g_clear_object(&n->list);
    g_clear_pointer(&n->asked, g_hash_table_destroy);
    g_free(n);
}

static Notifier *notifier_of(GApplication *app)
{
    return g_object_get_data(G_OBJECT(app), "mgr-notifier");
}

char *mgr_notify_overlay_id(const char *name)
{
    return g_strconcat("overlay-", name, NULL);
}

static void add_answer(GNotification *n, const char *label, const char *name, const char *answer)
{
    g_notification_add_button_with_target(n, label, "app.overlay-answer", "(ss)", name, answer);
}

/* Ask (again, with @problem when the last answer failed). */
static void ask(Notifier *nt, const char *name, const char *problem)
{
    g_autofree char *title =
        problem ? g_strdup_printf("Could not apply the answer for %s", name)
                : g_strdup_printf("%s has shut down: keep the changes it made?", name);
    g_autofree char *body = g_strdup_printf(
        "%s%sCommit writes them into its base image; Discard throws them away; Keep leaves "
        "them in its overlay for later (its Details, Disk Overlay).",
        problem ? problem : "", problem ? "\n" : "");
    g_autoptr(GNotification) n = g_notification_new(title);
    g_notification_set_body(n, body);
    g_notification_set_priority(n, G_NOTIFICATION_PRIORITY_URGENT);
    add_answer(n, "Commit", name, "commit");
    add_answer(n, "Discard", name, "discard");
    add_answer(n, "Keep", name, "keep");
    g_autofree char *id = mgr_notify_overlay_id(name);
    g_application_send_notification(nt->app, id, n);
    g_debug("asked about the overlay of %s%s%s", name, problem ? ": " : "", problem ? problem : "");
    if (g_hash_table_add(nt->asked, g_strdup(name)))
        g_application_hold(nt->app);
}

static void answered(Notifier *nt, const char *name)
{
    if (!g_hash_table_remove(nt->asked, name))
        return;
    g_autofree char *id = mgr_notify_overlay_id(name);
    g_application_withdraw_notification(nt->app, id);
    g_application_release(nt->app);
}

static void on_overlay_pending(MgrVm *vm, GParamSpec *pspec, gpointer app)
{
    Notifier *nt = notifier_of(app);
    if (mgr_vm_get_overlay_pending(vm))
        ask(nt, mgr_vm_get_name(vm), NULL);
    else
        answered(nt, mgr_vm_get_name(vm));
}

static bool active(MgrVmPhase p)
{
    return p == MGR_VM_STARTING || p == MGR_VM_RUNNING || p == MGR_VM_PAUSED || p == MGR_VM_BUSY;
}

static void on_phase(MgrVm *vm, GParamSpec *pspec, gpointer app)
{
    Notifier *nt = notifier_of(app);
    MgrVmPhase was = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(vm), "mgr-notify-phase"));
    MgrVmPhase now = mgr_vm_get_phase(vm);
    g_object_set_data(G_OBJECT(vm), "mgr-notify-phase", GINT_TO_POINTER(now));
    /* What this manager asked for, its window reports; what happened by
     * itself (the guest powered off, QEMU died) is notified. */
    if (!active(was) || active(now) || mgr_vm_get_busy(vm))
        return;
    const char *name = mgr_vm_get_name(vm);
    g_autofree char *title = g_strdup_printf(now == MGR_VM_FAILED ? "%s failed" : "%s stopped",
                                             name);
    g_autoptr(GNotification) n = g_notification_new(title);
    if (mgr_vm_get_reason(vm))
        g_notification_set_body(n, mgr_vm_get_reason(vm));
    g_autofree char *id = g_strconcat("state-", name, NULL);
    g_application_send_notification(nt->app, id, n);
    g_debug("notified: %s", title);
}

static void follow_vm(Notifier *nt, MgrVm *vm)
{
    g_object_set_data(G_OBJECT(vm), "mgr-notify-phase", GINT_TO_POINTER(mgr_vm_get_phase(vm)));
    g_signal_connect_object(vm, "notify::overlay-pending", G_CALLBACK(on_overlay_pending),
                            nt->app, 0);
    g_signal_connect_object(vm, "notify::phase", G_CALLBACK(on_phase), nt->app, 0);
    if (mgr_vm_get_overlay_pending(vm))
        ask(nt, mgr_vm_get_name(vm), NULL);
}

static void on_items_changed(GListModel *model, guint pos, guint removed, guint added,
                             gpointer data)
{
    Notifier *nt = notifier_of(data);
    for (guint i = pos; i < pos + added; i++) {
        g_autoptr(MgrVm) vm = g_list_model_get_item(model, i);
        follow_vm(nt, vm);
    }
    if (!removed)
        return;
    /* A deleted VM's question goes with it. */
    g_autofree char **names = (char **)g_hash_table_get_keys_as_array(nt->asked, NULL);
    for (char **n = names; *n; n++)
        if (!mgr_vm_list_find(nt->list, *n))
            answered(nt, *n);
}

void mgr_notify_follow(GApplication *app, MgrVmList *list)
{
    Notifier *nt = g_new0(Notifier, 1);
    nt->app = app;
    nt->list = g_object_ref(list);
    nt->asked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_object_set_data_full(G_OBJECT(app), "mgr-notifier", nt, notifier_free);
    GListModel *model = mgr_vm_list_get_model(list);
    /* The signal handlers get the application, which outlives the VMs'
     * handlers (g_signal_connect_object) and finds the notifier. */
    g_signal_connect_object(model, "items-changed", G_CALLBACK(on_items_changed), app, 0);
    on_items_changed(model, 0, 0, g_list_model_get_n_items(model), app);
}

/* --- the answer --- */

typedef struct {
    GApplication *app;   /* a reference; held until the answer is applied */
    char *name;
} Answer;

static void answer_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Answer *a = data;
    g_autoptr(GError) err = NULL;
    Notifier *nt = notifier_of(a->app);
    bool ok = mgr_ops_run_finish(res, &err);
    g_debug("overlay answer for %s: %s", a->name, ok ? "done" : err->message);
    if (!ok && nt) {
        g_autofree char *text = mgr_error_text(err);
        ask(nt, a->name, text);
    }
    else if (nt)
        mgr_vm_list_refresh(nt->list, a->name); /* the question is gone: answered() */
    g_application_release(a->app);
    g_object_unref(a->app);
    g_free(a->name);
    g_free(a);
}

static void on_overlay_answer(GSimpleAction *action, GVariant *param, gpointer data)
{
    GApplication *app = data;
    const char *name, *answer;
    g_variant_get(param, "(&s&s)", &name, &answer);
    MgrOp op;
    if (!strcmp(answer, "commit"))
        op = MGR_OP_OVERLAY_COMMIT;
    else if (!strcmp(answer, "discard"))
        op = MGR_OP_OVERLAY_DISCARD;
    else if (!strcmp(answer, "keep"))
        op = MGR_OP_OVERLAY_KEEP;
    else
        return; /* not one of our buttons */
    g_debug("overlay answer for %s: %s", name, answer);
    Answer *a = g_new0(Answer, 1);
    a->app = g_object_ref(app);
    a->name = g_strdup(name);
    g_application_hold(app);
    mgr_ops_run_async(op, name, NULL, answer_done, a);
}

void mgr_notify_add_actions(GApplication *app)
{
    const GActionEntry entries[] = {
        {.name = "overlay-answer", .activate = on_overlay_answer, .parameter_type = "(ss)"},
    };
    g_action_map_add_action_entries(G_ACTION_MAP(app), entries, G_N_ELEMENTS(entries), app);
}

void mgr_notify_download(GApplication *app, const char *name, const GError *error)
{
    if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    g_autofree char *title = error ? g_strdup_printf("%s could not be made", name)
                                   : g_strdup_printf("%s is ready", name);
    g_autoptr(GNotification) n = g_notification_new(title);
    g_autofree char *text = error ? mgr_error_text(error) : NULL;
    g_notification_set_body(n, text ? text
                                    : "Its download finished and was checked; the VM is made.");
    g_autofree char *id = g_strconcat("download-", name, NULL);
    g_application_send_notification(app, id, n);
    g_debug("notified: %s", title);
}
