/* The manager's notifications (GNotification): a VM that stopped or failed
 * without being asked to from this manager (with the reason), and the
 * overlay question a VM's shutdown left open (on-shutdown=ask) with Commit,
 * Discard and Keep buttons, and the end of a new VM's download. The overlay
 * question's buttons are the application's action
 * app.overlay-answer, so they work with the manager's window closed: the
 * application holds itself (g_application_hold) while a question waits.
 * Main thread only. */
#pragma once

#include "manager/mgr_vm_list.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* Add app.overlay-answer (parameter (ss): the VM's name and "commit",
 * "discard" or "keep") to @app. Call once, at startup. */
void mgr_notify_add_actions(GApplication *app);

/* Follow the VMs of @list (a reference is kept) and notify @app's user of
 * their changes; questions already open are asked at once. Call once. */
void mgr_notify_follow(GApplication *app, MgrVmList *list);

/* The end of a new VM's download (the assistant's catalog or virtio-win
 * download): @error NULL says the download finished and VM @name was made,
 * else why it failed. A Stop is no news: not notified. */
void mgr_notify_download(GApplication *app, const char *name, const GError *error);

/* The notification's id for VM @name's overlay question (caller frees). */
char *mgr_notify_overlay_id(const char *name);

G_END_DECLS
