#include "manager/mgr_chooser.h"

static void chosen(GtkNativeDialog *d, int response, gpointer data)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
        g_autofree char *path = f ? g_file_get_path(f) : NULL;
        if (path)
            gtk_editable_set_text(GTK_EDITABLE(data), path);
    }
    g_object_unref(d);
}

void mgr_choose_path(GtkWindow *parent, const char *title, GtkFileChooserAction how,
                     GtkEditable *into)
{
    GtkFileChooserNative *d =
        gtk_file_chooser_native_new(title, parent, how, "Choose", "Cancel");
    if (how == GTK_FILE_CHOOSER_ACTION_OPEN) {
        GtkFileFilter *filter = gtk_file_filter_new();
        gtk_file_filter_set_name(filter, "CD images");
        gtk_file_filter_add_suffix(filter, "iso");
        gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), filter);
        g_object_unref(filter);
    }
    g_signal_connect(d, "response", G_CALLBACK(chosen), into);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}
