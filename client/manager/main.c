/* vmdesk-manager: the GTK 4 / libadwaita window over vmdesk's VMs
 * (ARCHITECTURE.md, client/manager). */
#include "manager/mgr_application.h"

int main(int argc, char **argv)
{
    /* Drawn with cairo, without OpenGL: a grid of small pictures and labels
     * needs no GPU, and setting up GL (EGL and GLX probed to choose the X
     * visual, the driver loaded, its shaders compiled or read back) was most
     * of the time to the first frame (bench/manager-launch). Before GTK reads
     * it; a GDK_DEBUG or GSK_RENDERER of the user's own is kept. */
    if (!g_getenv("GDK_DEBUG") && !g_getenv("GSK_RENDERER"))
        g_setenv("GDK_DEBUG", "gl-disable", FALSE);
    g_autoptr(MgrApplication) app = mgr_application_new();
    return g_application_run(G_APPLICATION(app), argc, argv);
}
