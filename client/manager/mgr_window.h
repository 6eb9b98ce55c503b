/* The manager's main window (template mgr_window.ui): the grid of VM cards
 * over an MgrVmList, and the window actions that change a VM's life, each
 * taking the VM's name ("win.start" 's'...): start, open (`vmdesk view NAME`
 * as a process of its own), pause, resume, shut down, force off, delete
 * (after a confirmation that says what goes). Operations run off the main
 * thread (mgr_ops.h); their errors appear in a dialog. Main thread only. */
#pragma once

#include "manager/mgr_vm_list.h"

#include <adwaita.h>

G_BEGIN_DECLS

#define MGR_TYPE_WINDOW (mgr_window_get_type())
G_DECLARE_FINAL_TYPE(MgrWindow, mgr_window, MGR, WINDOW, AdwApplicationWindow)

/* A window of @app over @list (a reference is taken). */
MgrWindow *mgr_window_new(AdwApplication *app, MgrVmList *list);

/* Show @message in a dialog titled @title (an error of an operation). */
void mgr_window_show_error(MgrWindow *win, const char *title, const char *message);

G_END_DECLS
