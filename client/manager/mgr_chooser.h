/* A file or folder chooser whose choice fills an entry (the assistant's
 * and a VM's page's path rows). Main thread only. */
#pragma once

#include <gtk/gtk.h>

/* Open a chooser over @parent titled @title: a CD image (ISO) to open with
 * GTK_FILE_CHOOSER_ACTION_OPEN, a folder with ..._SELECT_FOLDER; the path
 * chosen replaces @into's text (which must outlive the chooser: a widget of
 * @parent). */
void mgr_choose_path(GtkWindow *parent, const char *title, GtkFileChooserAction how,
                     GtkEditable *into);
