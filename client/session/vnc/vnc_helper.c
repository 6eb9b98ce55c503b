/* `vmdesk-session-helper vnc`: libvncclient confined, on the socket the
 * window connected (session/helper/helper.h). */
#include "session/vnc/vnc_priv.h"

#include "session/helper/helper.h"

#include "common/log.h"

int vnc_helper_main(void)
{
    HelperConfig cfg;
    g_autoptr(GError) err = NULL;
    if (!helper_begin(&cfg, &err)) {
        vd_err("VNC session helper: %s", err->message);
        helper_config_clear(&cfg);
        return 1;
    }
    Session *s = vnc_session_create_local(cfg.where, cfg.password, HELPER_FD_SERVER,
                                          helper_session_notify, NULL);
    helper_config_clear(&cfg);
    if (!session_connect(s, &err)) {
        vd_err("VNC session helper: %s", err->message);
        session_destroy(s);
        return 1;
    }
    return helper_serve(s);
}
