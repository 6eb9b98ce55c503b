#include "manager/mgr_window.h"

#include "manager/mgr_new_vm.h"
#include "manager/mgr_ops.h"
#include "manager/mgr_page.h"
#include "manager/mgr_tooltip.h"
#include "manager/mgr_vm_card.h"

struct _MgrWindow {
    AdwApplicationWindow parent;
    MgrVmList *list;
    GCancellable *cancel;
    AdwToastOverlay *toasts;
    GtkStack *stack;
    GtkFlowBox *grid;
    bool painted;   /* its first frame is drawn */
    GtkWidget *new_vm_button, *menu_button;
    AdwStatusPage *empty_page;
};

G_DEFINE_FINAL_TYPE(MgrWindow, mgr_window, ADW_TYPE_APPLICATION_WINDOW)

void mgr_window_show_error(MgrWindow *win, const char *title, const char *message)
{
    GtkWidget *d = adw_message_dialog_new(GTK_WINDOW(win), title, message);
    adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(d), "close", "Close");
    gtk_window_present(GTK_WINDOW(d));
}

/* --- operations --- */

typedef struct {
    MgrWindow *win;    /* a reference */
    MgrOp op;
    char *name;
} OpCall;

static void op_done(GObject *src, GAsyncResult *res, gpointer data)
{
    OpCall *call = data;
    g_autoptr(GError) err = NULL;
    bool ok = mgr_ops_run_finish(res, &err);
    MgrWindow *win = call->win;
    if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        /* The state this operation led to is read while the VM still
         * counts as busy: it is no news for the notifications. */
        if (call->op == MGR_OP_DELETE)
            mgr_vm_list_rescan(win->list);
        else
            mgr_vm_list_refresh(win->list, call->name);
        MgrVm *vm = mgr_vm_list_find(win->list, call->name);
        if (vm)
            mgr_vm_set_busy(vm, false);
        if (!ok) {
            g_autofree char *title =
                g_strdup_printf("Could not %s %s", mgr_op_verb(call->op), call->name);
            g_autofree char *text = mgr_error_text(err);
            mgr_window_show_error(win, title, text);
        } else if (call->op == MGR_OP_DELETE) {
            g_autofree char *t = g_markup_printf_escaped("Deleted %s", call->name);
            adw_toast_overlay_add_toast(win->toasts, adw_toast_new(t));
        }
    }
    g_object_unref(call->win);
    g_free(call->name);
    g_free(call);
}

static void run_op(MgrWindow *win, MgrOp op, const char *name)
{
    MgrVm *vm = mgr_vm_list_find(win->list, name);
    if (!vm || mgr_vm_get_busy(vm))
        return;
    mgr_vm_set_busy(vm, true);
    OpCall *call = g_new0(OpCall, 1);
    call->win = g_object_ref(win);
    call->op = op;
    call->name = g_strdup(name);
    mgr_ops_run_async(op, name, win->cancel, op_done, call);
}

static void act_start(GtkWidget *w, const char *action, GVariant *param)
{
    run_op(MGR_WINDOW(w), MGR_OP_START, g_variant_get_string(param, NULL));
}

static void act_pause(GtkWidget *w, const char *action, GVariant *param)
{
    run_op(MGR_WINDOW(w), MGR_OP_PAUSE, g_variant_get_string(param, NULL));
}

static void act_resume(GtkWidget *w, const char *action, GVariant *param)
{
    run_op(MGR_WINDOW(w), MGR_OP_RESUME, g_variant_get_string(param, NULL));
}

static void act_shutdown(GtkWidget *w, const char *action, GVariant *param)
{
    run_op(MGR_WINDOW(w), MGR_OP_SHUTDOWN, g_variant_get_string(param, NULL));
}

static void act_force_off(GtkWidget *w, const char *action, GVariant *param)
{
    run_op(MGR_WINDOW(w), MGR_OP_FORCE_OFF, g_variant_get_string(param, NULL));
}

/* --- open: vmdesk view NAME, a process of its own --- */

typedef struct {
    MgrWindow *win;   /* a reference */
    char *name;
} ViewCall;

static void view_done(GObject *src, GAsyncResult *res, gpointer data)
{
    ViewCall *call = data;
    g_autofree char *text = mgr_ops_vmdesk_finish(res);
    if (text) {
        g_autofree char *title = g_strdup_printf("The window of %s closed with an error",
                                                 call->name);
        mgr_window_show_error(call->win, title, text);
    }
    g_object_unref(call->win);
    g_free(call->name);
    g_free(call);
}

static void act_open(GtkWidget *w, const char *action, GVariant *param)
{
    MgrWindow *win = MGR_WINDOW(w);
    const char *name = g_variant_get_string(param, NULL);
    const char *args[] = {"view", name, NULL};
    g_autoptr(GError) err = NULL;
    ViewCall *call = g_new0(ViewCall, 1);
    call->win = g_object_ref(win);
    call->name = g_strdup(name);
    if (!mgr_ops_vmdesk_async(args, "the VM's window ended without saying why", view_done, call,
                              &err)) {
        g_object_unref(call->win);
        g_free(call->name);
        g_free(call);
        g_autofree char *title = g_strdup_printf("Could not open %s", name);
        mgr_window_show_error(win, title, err->message);
    }
}

/* --- delete, after saying what goes --- */

static void on_delete_response(AdwMessageDialog *d, const char *response, gpointer data)
{
    MgrWindow *win = data;
    if (!g_strcmp0(response, "delete"))
        run_op(win, MGR_OP_DELETE, g_object_get_data(G_OBJECT(d), "vm-name"));
}

static void act_delete(GtkWidget *w, const char *action, GVariant *param)
{
    MgrWindow *win = MGR_WINDOW(w);
    const char *name = g_variant_get_string(param, NULL);
    g_autofree char *title = g_strdup_printf("Delete %s?", name);
    g_autofree char *body = mgr_ops_describe_delete(name);
    GtkWidget *d = adw_message_dialog_new(GTK_WINDOW(win), title, body);
    AdwMessageDialog *md = ADW_MESSAGE_DIALOG(d);
    adw_message_dialog_add_responses(md, "cancel", "Cancel", "delete", "Delete", NULL);
    adw_message_dialog_set_response_appearance(md, "delete", ADW_RESPONSE_DESTRUCTIVE);
    adw_message_dialog_set_default_response(md, "cancel");
    adw_message_dialog_set_close_response(md, "cancel");
    g_object_set_data_full(G_OBJECT(d), "vm-name", g_strdup(name), g_free);
    g_signal_connect_object(d, "response", G_CALLBACK(on_delete_response), win, 0);
    gtk_window_present(GTK_WINDOW(d));
}

static void act_details(GtkWidget *w, const char *action, GVariant *param)
{
    MgrVm *vm = mgr_vm_list_find(MGR_WINDOW(w)->list, g_variant_get_string(param, NULL));
    if (vm)
        gtk_window_present(GTK_WINDOW(mgr_page_new(GTK_WINDOW(w), vm)));
}

static void act_new_vm(GtkWidget *w, const char *action, GVariant *param)
{
    gtk_window_present(GTK_WINDOW(mgr_new_vm_new(GTK_WINDOW(w))));
}

/* --- the grid --- */

static GtkWidget *create_card(gpointer item, gpointer data)
{
    return mgr_vm_card_new(MGR_VM(item));
}

static void on_items_changed(GListModel *model, guint pos, guint removed, guint added,
                             gpointer data)
{
    MgrWindow *win = data;
    bool empty = !g_list_model_get_n_items(model);
    /* The icon only once the page is shown: GTK loads it even while the page
     * is hidden, and this one is an SVG: librsvg and ICU before the first
     * frame of a window that shows VMs. */
    if (empty)
        adw_status_page_set_icon_name(win->empty_page, "io.github.vmdesk.Vmdesk-symbolic");
    gtk_stack_set_visible_child_name(win->stack, empty ? "empty" : "vms");
}

/* --- pictures only while the window is seen --- */

static void update_screens_shown(MgrWindow *win)
{
    if (!win->list)
        return;
    GdkSurface *s = gtk_native_get_surface(GTK_NATIVE(win));
    bool minimized = s && GDK_IS_TOPLEVEL(s) &&
                     (gdk_toplevel_get_state(GDK_TOPLEVEL(s)) & GDK_TOPLEVEL_STATE_MINIMIZED);
    mgr_vm_list_set_screens_shown(win->list, win->painted &&
                                                 gtk_widget_get_mapped(GTK_WIDGET(win)) &&
                                                 !minimized);
}

static void on_surface_state(GObject *surface, GParamSpec *pspec, gpointer data)
{
    update_screens_shown(data);
}

/* The pictures only after the first frame: the cards' layout does not
 * depend on them (the screen's box has a fixed size), and reading, decoding
 * and taking them (QMP screendumps) in worker threads competes for the CPU
 * with the first frame (bench/manager-launch). */
static void on_after_paint(GdkFrameClock *clock, gpointer data)
{
    MgrWindow *win = data;
    g_signal_handlers_disconnect_by_func(clock, on_after_paint, win);
    win->painted = true;
    update_screens_shown(win);
}

static void mgr_window_realize(GtkWidget *w)
{
    GTK_WIDGET_CLASS(mgr_window_parent_class)->realize(w);
    g_signal_connect_object(gtk_native_get_surface(GTK_NATIVE(w)), "notify::state",
                            G_CALLBACK(on_surface_state), w, 0);
    if (!MGR_WINDOW(w)->painted)
        g_signal_connect_object(gtk_widget_get_frame_clock(w), "after-paint",
                                G_CALLBACK(on_after_paint), w, 0);
}

static void mgr_window_map(GtkWidget *w)
{
    GTK_WIDGET_CLASS(mgr_window_parent_class)->map(w);
    update_screens_shown(MGR_WINDOW(w));
}

static void mgr_window_unmap(GtkWidget *w)
{
    GTK_WIDGET_CLASS(mgr_window_parent_class)->unmap(w);
    update_screens_shown(MGR_WINDOW(w));
}

static void mgr_window_dispose(GObject *obj)
{
    MgrWindow *win = MGR_WINDOW(obj);
    g_cancellable_cancel(win->cancel);
    if (win->list)
        g_signal_handlers_disconnect_by_data(mgr_vm_list_get_model(win->list), win);
    g_clear_object(&win->list);
    g_clear_object(&win->cancel);
    gtk_widget_dispose_template(GTK_WIDGET(obj), MGR_TYPE_WINDOW);
    G_OBJECT_CLASS(mgr_window_parent_class)->dispose(obj);
}

static void mgr_window_class_init(MgrWindowClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = mgr_window_dispose;
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    wc->realize = mgr_window_realize;
    wc->map = mgr_window_map;
    wc->unmap = mgr_window_unmap;
    gtk_widget_class_set_template_from_resource(wc, "/io/github/vmdesk/Manager/mgr_window.ui");
    gtk_widget_class_bind_template_child(wc, MgrWindow, toasts);
    gtk_widget_class_bind_template_child(wc, MgrWindow, stack);
    gtk_widget_class_bind_template_child(wc, MgrWindow, grid);
    gtk_widget_class_bind_template_child(wc, MgrWindow, new_vm_button);
    gtk_widget_class_bind_template_child(wc, MgrWindow, menu_button);
    gtk_widget_class_bind_template_child(wc, MgrWindow, empty_page);
    gtk_widget_class_install_action(wc, "win.new-vm", NULL, act_new_vm);
    gtk_widget_class_install_action(wc, "win.start", "s", act_start);
    gtk_widget_class_install_action(wc, "win.open", "s", act_open);
    gtk_widget_class_install_action(wc, "win.pause", "s", act_pause);
    gtk_widget_class_install_action(wc, "win.resume", "s", act_resume);
    gtk_widget_class_install_action(wc, "win.shutdown", "s", act_shutdown);
    gtk_widget_class_install_action(wc, "win.force-off", "s", act_force_off);
    gtk_widget_class_install_action(wc, "win.details", "s", act_details);
    gtk_widget_class_install_action(wc, "win.delete", "s", act_delete);
}

static void mgr_window_init(MgrWindow *win)
{
    gtk_widget_init_template(GTK_WIDGET(win));
    /* Not in the template: mgr_tooltip.h says why. */
    mgr_tooltip_set_static(win->new_vm_button, "New virtual machine");
    mgr_tooltip_set_static(win->menu_button, "Main menu");
    win->cancel = g_cancellable_new();
}

MgrWindow *mgr_window_new(AdwApplication *app, MgrVmList *list)
{
    MgrWindow *win = g_object_new(MGR_TYPE_WINDOW, "application", app, NULL);
    win->list = g_object_ref(list);
    GListModel *model = mgr_vm_list_get_model(list);
    gtk_flow_box_bind_model(win->grid, model, create_card, NULL, NULL);
    g_signal_connect(model, "items-changed", G_CALLBACK(on_items_changed), win);
    on_items_changed(model, 0, 0, 0, win);
    return win;
}
