/* The helpers' confinement policy (helper.h): what every helper may still
 * read (and, for a session, write), applied through confine.h; and the
 * start of the RDP probe's helper, which needs nothing else of a session's
 * helper (this file keeps vmdesk-probe-helper small). */
#include "session/helper/helper.h"

#include "session/helper/confine.h"

#include "common/error.h"
#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

bool helper_begin_probe(GError **error)
{
    close_range(HELPER_FD_CHANNEL + 1, ~0U, 0);
    if (fcntl(HELPER_FD_CHANNEL, F_GETFD) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "vmdesk-probe-helper is started by vmdesk itself, with its channel");
        return false;
    }
    fcntl(HELPER_FD_CHANNEL, F_SETFD, FD_CLOEXEC);
    /* No PR_SET_PDEATHSIG: the helper serves any thread of the window, and
     * that signal comes when the thread that started it ends. It leaves
     * when the channel closes, which the window's exit does. */
    return helper_confine(NULL, NULL, error);
}

bool helper_confine(const char *const *read_only, const char *const *read_write, GError **error)
{
    if (g_strcmp0(g_getenv("VMDESK_UNSAFE_NO_CONFINE"), "1") == 0) {
        vd_warn("the session helper runs UNCONFINED (VMDESK_UNSAFE_NO_CONFINE=1)");
        return true;
    }
    /* Read-only: what glibc and GLib load late (iconv modules, locales),
     * and what the protocol library names. Read-write: the shares. */
    const char *ro[16] = {"/usr", "/etc/localtime"};
    size_t n = 2;
    for (const char *const *p = read_only; p && *p && n < G_N_ELEMENTS(ro) - 1; p++)
        ro[n++] = *p;
    ConfinePolicy policy = {.read_only = ro, .read_write = read_write};
    ConfineReport report;
    if (!confine_apply(&policy, &report, error))
        return false;
    g_autofree char *what = confine_describe(&report);
    if (report.landlock_abi)
        vd_debug("session helper confined: %s", what);
    else
        vd_warn("session helper confined: %s", what);
    return true;
}
