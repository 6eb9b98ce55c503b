#include "manager/mgr_application.h"

#include "common/app_id.h"

#include "manager/mgr_notify.h"
#include "manager/mgr_vm_list.h"
#include "manager/mgr_window.h"

struct _MgrApplication {
    AdwApplication parent;
    MgrVmList *list;
};

G_DEFINE_FINAL_TYPE(MgrApplication, mgr_application, ADW_TYPE_APPLICATION)

static void on_about(GSimpleAction *a, GVariant *p, gpointer data)
{
    GtkWindow *win = gtk_application_get_active_window(GTK_APPLICATION(data));
    adw_show_about_window(win, "application-name", "vmdesk Manager", "application-icon",
                          VMDESK_APP_ID, "version", VMDESK_VERSION, "license-type",
                          GTK_LICENSE_GPL_2_0, "comments",
                          "Run, watch and manage the virtual machines of vmdesk", NULL);
}

static void on_quit(GSimpleAction *a, GVariant *p, gpointer data)
{
    g_application_quit(G_APPLICATION(data));
}

static void mgr_application_activate(GApplication *gapp)
{
    MgrApplication *app = MGR_APPLICATION(gapp);
    GtkWindow *win = gtk_application_get_active_window(GTK_APPLICATION(app));
    if (win) {
        gtk_window_present(win);
        return;
    }
    g_autoptr(GError) err = NULL;
    if (!app->list) {
        app->list = mgr_vm_list_new(&err);
        if (app->list)
            mgr_notify_follow(gapp, app->list);
    }
    if (!app->list) {
        /* Nothing to show without the store: say why in a window of its own. */
        GtkWidget *d = adw_message_dialog_new(NULL, "Cannot read the virtual machines",
                                              err->message);
        adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(d), "close", "Close");
        gtk_window_set_application(GTK_WINDOW(d), GTK_APPLICATION(app));
        gtk_window_present(GTK_WINDOW(d));
        return;
    }
    gtk_window_present(GTK_WINDOW(mgr_window_new(ADW_APPLICATION(app), app->list)));
}

static void mgr_application_startup(GApplication *gapp)
{
    G_APPLICATION_CLASS(mgr_application_parent_class)->startup(gapp);
    const GActionEntry entries[] = {
        {.name = "about", .activate = on_about},
        {.name = "quit", .activate = on_quit},
    };
    g_action_map_add_action_entries(G_ACTION_MAP(gapp), entries, G_N_ELEMENTS(entries), gapp);
    const char *quit[] = {"<Control>q", NULL};
    gtk_application_set_accels_for_action(GTK_APPLICATION(gapp), "app.quit", quit);
    mgr_notify_add_actions(gapp);
    /* vmdesk's icon: the manager has an id of its own (its desktop entry
     * is shown in menus, vmdesk's is not) but no icon of its own. */
    gtk_window_set_default_icon_name(VMDESK_APP_ID);
}

static void mgr_application_dispose(GObject *obj)
{
    g_clear_object(&MGR_APPLICATION(obj)->list);
    G_OBJECT_CLASS(mgr_application_parent_class)->dispose(obj);
}

static void mgr_application_class_init(MgrApplicationClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = mgr_application_dispose;
    G_APPLICATION_CLASS(klass)->activate = mgr_application_activate;
    G_APPLICATION_CLASS(klass)->startup = mgr_application_startup;
}

static void mgr_application_init(MgrApplication *app)
{
}

MgrApplication *mgr_application_new(void)
{
    return g_object_new(MGR_TYPE_APPLICATION, "application-id", MGR_APPLICATION_ID, "flags",
                        G_APPLICATION_DEFAULT_FLAGS, NULL);
}
