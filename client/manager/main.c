/* vmdesk-manager: the GTK 4 / libadwaita window over vmdesk's VMs
 * (ARCHITECTURE.md, client/manager). */
#include "manager/mgr_application.h"

int main(int argc, char **argv)
{
    g_autoptr(MgrApplication) app = mgr_application_new();
    return g_application_run(G_APPLICATION(app), argc, argv);
}
