#include "manager/mgr_new_vm.h"

#include "manager/mgr_chooser.h"
#include "manager/mgr_ops.h"

struct _MgrNewVm {
    AdwWindow parent;
    GCancellable *cancel;
    AdwEntryRow *name_row, *iso_row;
    AdwComboRow *os_row;
    GtkSpinButton *memory_spin, *cpus_spin, *disk_spin;
    GtkLabel *accel_label, *error_label;
    GtkWidget *create_button;
};

G_DEFINE_FINAL_TYPE(MgrNewVm, mgr_new_vm, ADW_TYPE_WINDOW)

static void show_error(MgrNewVm *self, const char *message)
{
    gtk_label_set_text(self->error_label, message ? message : "");
    gtk_widget_set_visible(GTK_WIDGET(self->error_label), message != NULL);
}

static void create_done(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) err = NULL;
    bool ok = mgr_ops_create_finish(res, &err);
    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* the dialog is gone */
    MgrNewVm *self = data;
    gtk_widget_set_sensitive(self->create_button, TRUE);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "new-vm.create", TRUE);
    if (!ok) {
        show_error(self, err->message);
        return;
    }
    gtk_window_close(GTK_WINDOW(self));
}

static void act_create(GtkWidget *w, const char *action, GVariant *param)
{
    MgrNewVm *self = MGR_NEW_VM(w);
    static const char *const oses[] = {"linux", "windows", "other"};
    guint os = adw_combo_row_get_selected(self->os_row);
    const char *iso = gtk_editable_get_text(GTK_EDITABLE(self->iso_row));
    MgrNewVmSpec *spec = g_new0(MgrNewVmSpec, 1);
    spec->name = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(self->name_row))));
    spec->os = g_strdup(oses[os < G_N_ELEMENTS(oses) ? os : 0]);
    spec->iso = *iso ? g_strdup(iso) : NULL;
    spec->memory_gib = (guint)gtk_spin_button_get_value_as_int(self->memory_spin);
    spec->cpus = (guint)gtk_spin_button_get_value_as_int(self->cpus_spin);
    spec->disk_gib = (guint)gtk_spin_button_get_value_as_int(self->disk_spin);
    show_error(self, NULL);
    gtk_widget_action_set_enabled(w, "new-vm.create", FALSE);
    mgr_ops_create_async(spec, self->cancel, create_done, self);
}

static void act_choose_iso(GtkWidget *w, const char *action, GVariant *param)
{
    mgr_choose_path(GTK_WINDOW(w), "Choose the CD image", GTK_FILE_CHOOSER_ACTION_OPEN,
                    GTK_EDITABLE(MGR_NEW_VM(w)->iso_row));
}

static void accel_done(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autofree char *text = mgr_ops_accel_text_finish(res);
    if (text) /* NULL: cancelled, the dialog is gone */
        gtk_label_set_text(MGR_NEW_VM(data)->accel_label, text);
}

static void mgr_new_vm_dispose(GObject *obj)
{
    MgrNewVm *self = MGR_NEW_VM(obj);
    g_cancellable_cancel(self->cancel);
    g_clear_object(&self->cancel);
    gtk_widget_dispose_template(GTK_WIDGET(obj), MGR_TYPE_NEW_VM);
    G_OBJECT_CLASS(mgr_new_vm_parent_class)->dispose(obj);
}

static void mgr_new_vm_class_init(MgrNewVmClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = mgr_new_vm_dispose;
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/vmdesk/Manager/mgr_new_vm.ui");
    gtk_widget_class_bind_template_child(wc, MgrNewVm, name_row);
    gtk_widget_class_bind_template_child(wc, MgrNewVm, iso_row);
    gtk_widget_class_bind_template_child(wc, MgrNewVm, os_row);
    gtk_widget_class_bind_template_child(wc, MgrNewVm, memory_spin);
    gtk_widget_class_bind_template_child(wc, MgrNewVm, cpus_spin);
    gtk_widget_class_bind_template_child(wc, MgrNewVm, disk_spin);
    gtk_widget_class_bind_template_child(wc, MgrNewVm, accel_label);
    gtk_widget_class_bind_template_child(wc, MgrNewVm, error_label);
    gtk_widget_class_bind_template_child(wc, MgrNewVm, create_button);
    gtk_widget_class_install_action(wc, "new-vm.create", NULL, act_create);
    gtk_widget_class_install_action(wc, "new-vm.choose-iso", NULL, act_choose_iso);
}

static void mgr_new_vm_init(MgrNewVm *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancel = g_cancellable_new();
    guint mem, cpus, disk;
    mgr_ops_host_limits(&mem, &cpus, &disk);
    /* Up to all the host has; the defaults leave it some. */
    gtk_spin_button_set_range(self->memory_spin, 1, mem);
    gtk_spin_button_set_value(self->memory_spin, MIN(4, MAX(1, mem / 2)));
    gtk_spin_button_set_range(self->cpus_spin, 1, cpus);
    gtk_spin_button_set_value(self->cpus_spin, MIN(2, cpus));
    /* A new disk must fit in the free space (vm_create checks it again). */
    gtk_spin_button_set_range(self->disk_spin, 1, MAX(1, disk));
    gtk_spin_button_set_value(self->disk_spin, MIN(64, MAX(1, disk)));
    mgr_ops_accel_text_async(self->cancel, accel_done, self);
}

MgrNewVm *mgr_new_vm_new(GtkWindow *parent)
{
    return g_object_new(MGR_TYPE_NEW_VM, "transient-for", parent, NULL);
}
