#include "manager/mgr_vm_card.h"

#include "manager/mgr_tooltip.h"

struct _MgrVmCard {
    GtkBox parent;
    MgrVm *vm;
    GtkWidget *placeholder;
    GtkPicture *screen;
    GtkLabel *name_label, *state_label, *accel_label, *reason_label;
    GtkSpinner *spinner;
    GtkWidget *start_button, *open_button, *pause_button, *resume_button, *shutdown_button,
        *force_off_button, *details_button, *delete_button;
};

G_DEFINE_FINAL_TYPE(MgrVmCard, mgr_vm_card, GTK_TYPE_BOX)

static void update(MgrVmCard *card)
{
    MgrVm *vm = card->vm;
    MgrVmPhase p = mgr_vm_get_phase(vm);
    bool busy = mgr_vm_get_busy(vm);
    gtk_label_set_text(card->state_label, mgr_vm_get_state_text(vm));
    const char *accel = mgr_vm_get_accel(vm);
    gtk_label_set_text(card->accel_label, accel ? accel : "");
    gtk_widget_set_visible(GTK_WIDGET(card->accel_label), accel != NULL);
    const char *reason = mgr_vm_get_reason(vm);
    gtk_label_set_text(card->reason_label, reason ? reason : "");
    gtk_widget_set_visible(GTK_WIDGET(card->reason_label), reason && *reason);
    bool spin = busy || p == MGR_VM_STARTING || p == MGR_VM_BUSY;
    gtk_spinner_set_spinning(card->spinner, spin);
    gtk_widget_set_visible(GTK_WIDGET(card->spinner), spin);

    bool stopped = p == MGR_VM_STOPPED || p == MGR_VM_FAILED;
    bool up = p == MGR_VM_RUNNING || p == MGR_VM_PAUSED || p == MGR_VM_STARTING;
    gtk_widget_set_visible(card->start_button, stopped);
    gtk_widget_set_visible(card->open_button, up || stopped);
    gtk_widget_set_visible(card->pause_button, p == MGR_VM_RUNNING);
    gtk_widget_set_visible(card->resume_button, p == MGR_VM_PAUSED);
    gtk_widget_set_visible(card->shutdown_button, p == MGR_VM_RUNNING);
    gtk_widget_set_visible(card->force_off_button, up || p == MGR_VM_BUSY);
    gtk_widget_set_visible(card->delete_button, stopped);
    /* One operation at a time per VM from here. */
    GtkWidget *buttons[] = {card->start_button, card->pause_button, card->resume_button,
                            card->shutdown_button, card->delete_button};
    for (size_t i = 0; i < G_N_ELEMENTS(buttons); i++)
        gtk_widget_set_sensitive(buttons[i], !busy);

    GdkTexture *t = mgr_vm_get_screen(vm);
    gtk_picture_set_paintable(card->screen, GDK_PAINTABLE(t));
    /* Only the one shown is visible, to accessibility too. */
    gtk_widget_set_visible(GTK_WIDGET(card->screen), t != NULL);
    gtk_widget_set_visible(card->placeholder, t == NULL);
}

static void on_notify(GObject *obj, GParamSpec *pspec, gpointer data)
{
    update(data);
}

static void mgr_vm_card_dispose(GObject *obj)
{
    MgrVmCard *card = MGR_VM_CARD(obj);
    if (card->vm)
        g_signal_handlers_disconnect_by_data(card->vm, card);
    g_clear_object(&card->vm);
    gtk_widget_dispose_template(GTK_WIDGET(obj), MGR_TYPE_VM_CARD);
    G_OBJECT_CLASS(mgr_vm_card_parent_class)->dispose(obj);
}

static void mgr_vm_card_class_init(MgrVmCardClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = mgr_vm_card_dispose;
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/vmdesk/Manager/mgr_vm_card.ui");
    gtk_widget_class_bind_template_child(wc, MgrVmCard, placeholder);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, screen);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, name_label);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, state_label);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, accel_label);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, reason_label);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, spinner);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, start_button);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, open_button);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, pause_button);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, resume_button);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, shutdown_button);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, force_off_button);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, details_button);
    gtk_widget_class_bind_template_child(wc, MgrVmCard, delete_button);
}

static void mgr_vm_card_init(MgrVmCard *card)
{
    gtk_widget_init_template(GTK_WIDGET(card));
}

/* The button's target is the VM's name; its accessible name says what it
 * does to which VM, as its tooltip says it for sighted users. The tooltip
 * is set here, not in the template (mgr_tooltip.h says why). */
static void bind_button(GtkWidget *button, const char *verb, const char *name)
{
    gtk_actionable_set_action_target(GTK_ACTIONABLE(button), "s", name);
    mgr_tooltip_set_static(button, verb);
    g_autofree char *label = g_strdup_printf("%s %s", verb, name);
    gtk_accessible_update_property(GTK_ACCESSIBLE(button), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                   -1);
}

GtkWidget *mgr_vm_card_new(MgrVm *vm)
{
    MgrVmCard *card = g_object_new(MGR_TYPE_VM_CARD, NULL);
    card->vm = g_object_ref(vm);
    const char *name = mgr_vm_get_name(vm);
    gtk_label_set_text(card->name_label, name);
    g_autofree char *screen = g_strdup_printf("Screen of %s", name);
    gtk_accessible_update_property(GTK_ACCESSIBLE(card->screen), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   screen, -1);
    const struct {
        GtkWidget *button;
        const char *verb;
    } buttons[] = {
        {card->start_button, "Start"},         {card->open_button, "Open its window"},
        {card->pause_button, "Pause"},         {card->resume_button, "Resume"},
        {card->shutdown_button, "Shut down"},  {card->force_off_button, "Force off"},
        {card->details_button, "Details"},     {card->delete_button, "Delete"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(buttons); i++)
        bind_button(buttons[i].button, buttons[i].verb, name);
    g_signal_connect(vm, "notify", G_CALLBACK(on_notify), card);
    update(card);
    return GTK_WIDGET(card);
}
