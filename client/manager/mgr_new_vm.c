#include "manager/mgr_new_vm.h"

#include "manager/mgr_chooser.h"
#include "manager/mgr_notify.h"
#include "manager/mgr_ops.h"


struct _MgrNewVm {
    AdwWindow parent;
    GCancellable *cancel; /* the dialog's life */
    GCancellable *job;    /* the running create (a child of @cancel's life), or NULL */
    char *downloading;    /* the running create's VM when it downloads (notified), or NULL */
    AdwEntryRow *name_row, *iso_row, *image_row, *virtio_row;
    AdwEntryRow *user_row, *password_row, *locale_row, *keyboard_row, *timezone_row;
    GtkToggleButton *os_linux, *os_windows, *os_other;
    GtkToggleButton *src_iso, *src_download, *src_disk;
    GtkWidget *source_row, *catalog_group, *image_group, *windows_group, *disk_row;
    GtkBox *catalog_box;
    GtkSwitch *overlay_switch, *virtio_fetch_switch, *unattended_switch;
    GtkSwitch *tpm_switch, *secure_boot_switch;
    GtkSpinButton *memory_spin, *cpus_spin, *disk_spin;
    GtkLabel *accel_label, *error_label, *status_label;
    GtkProgressBar *progress_bar;
    GtkWidget *create_button, *stop_button;
    GPtrArray *catalog;         /* MgrCatalogItem*, as mgr_ops_catalog_installers gave */
    GPtrArray *catalog_buttons; /* GtkToggleButton, one for each of @catalog */
};

G_DEFINE_FINAL_TYPE(MgrNewVm, mgr_new_vm, ADW_TYPE_WINDOW)

static void show_error(MgrNewVm *self, const char *message)
{
    gtk_label_set_text(self->error_label, message ? message : "");
    gtk_widget_set_visible(GTK_WIDGET(self->error_label), message != NULL);
}

static const char *text_of(AdwEntryRow *row)
{
    return gtk_editable_get_text(GTK_EDITABLE(row));
}

/* The row's text, stripped, or NULL when empty. */
static char *value_of(AdwEntryRow *row)
{
    char *s = g_strstrip(g_strdup(text_of(row)));
    if (!*s)
        g_clear_pointer(&s, g_free);
    return s;
}

static bool windows(MgrNewVm *self)
{
    return gtk_toggle_button_get_active(self->os_windows);
}

/* What the chosen system and source show. */
static void update_rows(MgrNewVm *self)
{
    bool win = windows(self);
    bool download = !win && gtk_toggle_button_get_active(self->src_download);
    bool image = !win && gtk_toggle_button_get_active(self->src_disk);
    gtk_widget_set_visible(self->source_row, !win);
    gtk_widget_set_visible(GTK_WIDGET(self->iso_row), win || (!download && !image));
    gtk_widget_set_visible(self->catalog_group, download);
    gtk_widget_set_visible(self->image_group, image);
    gtk_widget_set_visible(self->windows_group, win);
    /* An image keeps its size. */
    gtk_widget_set_visible(self->disk_row, !image);
    bool hands_off = gtk_switch_get_active(self->unattended_switch);
    AdwEntryRow *account[] = {self->user_row, self->password_row, self->locale_row,
                              self->keyboard_row, self->timezone_row};
    for (size_t i = 0; i < G_N_ELEMENTS(account); i++)
        gtk_widget_set_sensitive(GTK_WIDGET(account[i]), hands_off);
    gtk_widget_set_sensitive(GTK_WIDGET(self->virtio_row),
                             !gtk_switch_get_active(self->virtio_fetch_switch));
}

static void on_os_toggled(GtkToggleButton *b, gpointer data)
{
    MgrNewVm *self = data;
    if (!gtk_toggle_button_get_active(b))
        return;
    /* Windows 11 needs a TPM 2.0 and Secure Boot; others start without. */
    bool win = b == self->os_windows;
    gtk_switch_set_active(self->tpm_switch, win);
    gtk_switch_set_active(self->secure_boot_switch, win);
    update_rows(self);
}

static void on_changed(GObject *obj, GParamSpec *pspec, gpointer data)
{
    update_rows(data);
}

static void on_toggled(GtkToggleButton *b, gpointer data)
{
    update_rows(data);
}

static void set_working(MgrNewVm *self, bool working)
{
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "new-vm.create", !working);
    gtk_widget_set_visible(self->stop_button, working);
    gtk_widget_set_visible(self->create_button, !working);
    if (!working)
        gtk_widget_set_visible(GTK_WIDGET(self->progress_bar), FALSE);
}

static void on_progress(const char *status, double fraction, const char *bar, gpointer data)
{
    MgrNewVm *self = data;
    if (status) {
        gtk_label_set_text(self->status_label, status);
        gtk_widget_set_visible(GTK_WIDGET(self->status_label), TRUE);
    }
    gtk_widget_set_visible(GTK_WIDGET(self->progress_bar), fraction >= 0);
    if (fraction >= 0) {
        gtk_progress_bar_set_fraction(self->progress_bar, MIN(1.0, fraction));
        gtk_progress_bar_set_text(self->progress_bar, bar);
    }
}

static void create_done(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) err = NULL;
    bool ok = mgr_ops_create_finish(res, &err);
    g_autoptr(MgrNewVm) self = data; /* the reference act_create took */
    if (!self->cancel)
        return; /* the dialog was closed meanwhile (disposed) */
    g_clear_object(&self->job);
    set_working(self, false);
    if (self->downloading) {
        /* The assistant may be behind other windows for the download's
         * minutes: its end is notified too. */
        mgr_notify_download(g_application_get_default(), self->downloading, err);
        g_clear_pointer(&self->downloading, g_free);
    }
    if (!ok) {
        g_autofree char *text = mgr_error_text(err);
        show_error(self, text);
        return;
    }
    gtk_window_close(GTK_WINDOW(self));
}

static const char *chosen_catalog_id(MgrNewVm *self)
{
    for (guint i = 0; i < self->catalog_buttons->len; i++) {
        GtkToggleButton *b = self->catalog_buttons->pdata[i];
        if (gtk_toggle_button_get_active(b))
            return ((MgrCatalogItem *)self->catalog->pdata[i])->id;
    }
    return NULL;
}

static void act_create(GtkWidget *w, const char *action, GVariant *param)
{
    MgrNewVm *self = MGR_NEW_VM(w);
    bool win = windows(self);
    MgrNewVmSpec *spec = g_new0(MgrNewVmSpec, 1);
    spec->name = g_strstrip(g_strdup(text_of(self->name_row)));
    spec->os = g_strdup(win                                           ? "windows"
                        : gtk_toggle_button_get_active(self->os_other) ? "other"
                                                                       : "linux");
    spec->source = win                                                  ? MGR_FROM_ISO
                   : gtk_toggle_button_get_active(self->src_download) ? MGR_FROM_CATALOG
                   : gtk_toggle_button_get_active(self->src_disk)     ? MGR_FROM_IMAGE
                                                                      : MGR_FROM_ISO;
    spec->iso = value_of(self->iso_row);
    spec->catalog_id = g_strdup(chosen_catalog_id(self));
    spec->image = value_of(self->image_row);
    spec->image_overlay = gtk_switch_get_active(self->overlay_switch);
    spec->memory_gib = (guint)gtk_spin_button_get_value_as_int(self->memory_spin);
    spec->cpus = (guint)gtk_spin_button_get_value_as_int(self->cpus_spin);
    spec->disk_gib = (guint)gtk_spin_button_get_value_as_int(self->disk_spin);
    spec->tpm = gtk_switch_get_active(self->tpm_switch);
    spec->secure_boot = gtk_switch_get_active(self->secure_boot_switch);
    if (win) {
        spec->virtio_fetch = gtk_switch_get_active(self->virtio_fetch_switch);
        spec->virtio_iso = spec->virtio_fetch ? NULL : value_of(self->virtio_row);
        spec->unattended = gtk_switch_get_active(self->unattended_switch);
    }
    if (spec->unattended) {
        UnattendSetup *u = &spec->unattend;
        u->user = value_of(self->user_row);
        /* The password goes from the entry to the credentials store only. */
        u->password = g_strdup(text_of(self->password_row));
        u->locale = value_of(self->locale_row);
        u->keyboard = value_of(self->keyboard_row);
        u->timezone = value_of(self->timezone_row);
    }
    g_free(self->downloading);
    self->downloading = spec->source == MGR_FROM_CATALOG || spec->virtio_fetch
                            ? g_strdup(spec->name)
                            : NULL;
    spec->progress = on_progress;
    spec->progress_data = self;
    show_error(self, NULL);
    gtk_widget_set_visible(GTK_WIDGET(self->status_label), FALSE);
    set_working(self, true);
    g_clear_object(&self->job);
    self->job = g_cancellable_new();
    mgr_ops_create_async(spec, self->job, create_done, g_object_ref(self));
}

static void act_stop(GtkWidget *w, const char *action, GVariant *param)
{
    MgrNewVm *self = MGR_NEW_VM(w);
    if (self->job)
        g_cancellable_cancel(self->job);
}

static void act_choose_iso(GtkWidget *w, const char *action, GVariant *param)
{
    mgr_choose_path(GTK_WINDOW(w), "Choose the CD image", GTK_FILE_CHOOSER_ACTION_OPEN,
                    GTK_EDITABLE(MGR_NEW_VM(w)->iso_row));
}

static void act_choose_image(GtkWidget *w, const char *action, GVariant *param)
{
    mgr_choose_path(GTK_WINDOW(w), "Choose the disk image", GTK_FILE_CHOOSER_ACTION_OPEN,
                    GTK_EDITABLE(MGR_NEW_VM(w)->image_row));
}

static void act_choose_virtio(GtkWidget *w, const char *action, GVariant *param)
{
    mgr_choose_path(GTK_WINDOW(w), "Choose the virtio-win ISO", GTK_FILE_CHOOSER_ACTION_OPEN,
                    GTK_EDITABLE(MGR_NEW_VM(w)->virtio_row));
}

static void accel_done(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autofree char *text = mgr_ops_accel_text_finish(res);
    if (text) /* NULL: cancelled, the dialog is gone */
        gtk_label_set_text(MGR_NEW_VM(data)->accel_label, text);
}

/* One toggle button per downloadable installer of this host's architecture. */
static void fill_catalog(MgrNewVm *self)
{
    self->catalog = mgr_ops_catalog_installers();
    GtkToggleButton *first = NULL;
    for (guint i = 0; i < self->catalog->len; i++) {
        const MgrCatalogItem *it = self->catalog->pdata[i];
        GtkWidget *label = gtk_label_new(it->label);
        gtk_label_set_xalign(GTK_LABEL(label), 0);
        gtk_label_set_wrap(GTK_LABEL(label), TRUE);
        GtkWidget *b = gtk_toggle_button_new();
        gtk_button_set_child(GTK_BUTTON(b), label);
        gtk_widget_set_tooltip_text(b, it->note);
        gtk_accessible_update_property(GTK_ACCESSIBLE(b), GTK_ACCESSIBLE_PROPERTY_LABEL, it->name,
                                       -1);
        if (first)
            gtk_toggle_button_set_group(GTK_TOGGLE_BUTTON(b), first);
        else
            first = GTK_TOGGLE_BUTTON(b);
        gtk_box_append(self->catalog_box, b);
        g_ptr_array_add(self->catalog_buttons, b);
    }
    if (first)
        gtk_toggle_button_set_active(first, TRUE);
}

static void mgr_new_vm_dispose(GObject *obj)
{
    MgrNewVm *self = MGR_NEW_VM(obj);
    if (self->job)
        g_cancellable_cancel(self->job);
    g_clear_object(&self->job);
    g_clear_pointer(&self->downloading, g_free);
    g_cancellable_cancel(self->cancel);
    g_clear_object(&self->cancel);
    g_clear_pointer(&self->catalog_buttons, g_ptr_array_unref);
    g_clear_pointer(&self->catalog, g_ptr_array_unref);
    gtk_widget_dispose_template(GTK_WIDGET(obj), MGR_TYPE_NEW_VM);
    G_OBJECT_CLASS(mgr_new_vm_parent_class)->dispose(obj);
}

#define CHILD(n) gtk_widget_class_bind_template_child(wc, MgrNewVm, n)

static void mgr_new_vm_class_init(MgrNewVmClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = mgr_new_vm_dispose;
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/vmdesk/Manager/mgr_new_vm.ui");
    CHILD(name_row);
    CHILD(iso_row);
    CHILD(image_row);
    CHILD(virtio_row);
    CHILD(user_row);
    CHILD(password_row);
    CHILD(locale_row);
    CHILD(keyboard_row);
    CHILD(timezone_row);
    CHILD(os_linux);
    CHILD(os_windows);
    CHILD(os_other);
    CHILD(src_iso);
    CHILD(src_download);
    CHILD(src_disk);
    CHILD(source_row);
    CHILD(catalog_group);
    CHILD(image_group);
    CHILD(windows_group);
    CHILD(disk_row);
    CHILD(catalog_box);
    CHILD(overlay_switch);
    CHILD(virtio_fetch_switch);
    CHILD(unattended_switch);
    CHILD(tpm_switch);
    CHILD(secure_boot_switch);
    CHILD(memory_spin);
    CHILD(cpus_spin);
    CHILD(disk_spin);
    CHILD(accel_label);
    CHILD(error_label);
    CHILD(status_label);
    CHILD(progress_bar);
    CHILD(create_button);
    CHILD(stop_button);
    gtk_widget_class_install_action(wc, "new-vm.create", NULL, act_create);
    gtk_widget_class_install_action(wc, "new-vm.stop", NULL, act_stop);
    gtk_widget_class_install_action(wc, "new-vm.choose-iso", NULL, act_choose_iso);
    gtk_widget_class_install_action(wc, "new-vm.choose-image", NULL, act_choose_image);
    gtk_widget_class_install_action(wc, "new-vm.choose-virtio", NULL, act_choose_virtio);
}

static void mgr_new_vm_init(MgrNewVm *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancel = g_cancellable_new();
    self->catalog_buttons = g_ptr_array_new();
    guint mem, cpus, disk;
    mgr_ops_host_limits(&mem, &cpus, &disk);
    /* Within what this host allows (vmdesk doctor's ranges); the defaults
     * leave it some. */
    gtk_spin_button_set_range(self->memory_spin, 1, mem);
    gtk_spin_button_set_value(self->memory_spin, MIN(4, MAX(1, mem / 2)));
    gtk_spin_button_set_range(self->cpus_spin, 1, cpus);
    gtk_spin_button_set_value(self->cpus_spin, MIN(2, cpus));
    /* A new disk must fit in the free space (checked again before writing). */
    gtk_spin_button_set_range(self->disk_spin, 1, MAX(1, disk));
    gtk_spin_button_set_value(self->disk_spin, MIN(64, MAX(1, disk)));
    /* The hands-off installation's defaults: this host's settings. */
    const char *me = g_get_user_name();
    gtk_editable_set_text(GTK_EDITABLE(self->user_row), me ? me : "");
    g_autofree char *locale = NULL, *tz = NULL;
    mgr_ops_host_windows_settings(&locale, &tz);
    gtk_editable_set_text(GTK_EDITABLE(self->locale_row), locale);
    gtk_editable_set_text(GTK_EDITABLE(self->keyboard_row), locale);
    gtk_editable_set_text(GTK_EDITABLE(self->timezone_row), tz);
    gtk_switch_set_active(self->unattended_switch, TRUE);
    fill_catalog(self);
    gtk_toggle_button_set_active(self->os_linux, TRUE);
    gtk_toggle_button_set_active(self->src_iso, TRUE);
    GtkToggleButton *os[] = {self->os_linux, self->os_windows, self->os_other};
    for (size_t i = 0; i < G_N_ELEMENTS(os); i++)
        g_signal_connect(os[i], "toggled", G_CALLBACK(on_os_toggled), self);
    GtkToggleButton *src[] = {self->src_iso, self->src_download, self->src_disk};
    for (size_t i = 0; i < G_N_ELEMENTS(src); i++)
        g_signal_connect(src[i], "toggled", G_CALLBACK(on_toggled), self);
    g_signal_connect(self->unattended_switch, "notify::active", G_CALLBACK(on_changed), self);
    g_signal_connect(self->virtio_fetch_switch, "notify::active", G_CALLBACK(on_changed), self);
    update_rows(self);
    mgr_ops_accel_text_async(self->cancel, accel_done, self);
}

MgrNewVm *mgr_new_vm_new(GtkWindow *parent)
{
    return g_object_new(MGR_TYPE_NEW_VM, "transient-for", parent, NULL);
}
