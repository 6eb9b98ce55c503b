/* The vmdesk-manager application (io.github.vmdesk.Manager): one window over
 * the VM store, app.about, app.quit and the notifications' actions
 * (mgr_notify.h). A second start presents the first
 * one's window (GApplication uniqueness on the session bus). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MGR_APPLICATION_ID "io.github.vmdesk.Manager"

#define MGR_TYPE_APPLICATION (mgr_application_get_type())
G_DECLARE_FINAL_TYPE(MgrApplication, mgr_application, MGR, APPLICATION, AdwApplication)

MgrApplication *mgr_application_new(void);

G_END_DECLS
