/* Starting a session helper process (helper.h): the program, its
 * descriptors and its environment. */
#include "session/helper/helper.h"

#include "common/error.h"
#include "common/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* The helper's environment: the settings it reads (logging, the test
 * hooks, the unconfined control run) and the locale, nothing else (no
 * display, bus or agent addresses, no home). */
static char **helper_env(void)
{
    static const char *const keep[] = {"VMDESK_DEBUG=", "VMDESK_TEST_", "VMDESK_UNSAFE_NO_CONFINE=",
                                       "VMDESK_RDP_CODEC=", "WLOG_", "LANG=", "LC_",
                                       "G_MESSAGES_DEBUG="};
    GPtrArray *env = g_ptr_array_new();
    for (char **e = environ; *e; e++)
        for (size_t i = 0; i < G_N_ELEMENTS(keep); i++)
            if (g_str_has_prefix(*e, keep[i])) {
                g_ptr_array_add(env, g_strdup(*e));
                break;
            }
    g_ptr_array_add(env, NULL);
    return (char **)g_ptr_array_free(env, FALSE);
}

/* The helper program @name ("vmdesk-session-helper", "vmdesk-probe-helper"):
 * $VMDESK_SESSION_HELPER for the session helper, the probe's beside it (the
 * tests' own programs are not vmdesk); else the one beside the running
 * program (the build tree), else the installed one. */
static char *helper_path(const char *name)
{
    const char *env = g_getenv("VMDESK_SESSION_HELPER");
    bool session = !strcmp(name, HELPER_SESSION_PROGRAM);
    if (env && *env && session)
        return g_strdup(env);
    if (env && *env) {
        g_autofree char *dir = g_path_get_dirname(env);
        return g_build_filename(dir, name, NULL);
    }
    char *beside = vd_paths_beside_self(name);
    return beside ? beside : g_build_filename(VMDESK_HELPER_LIBEXEC, name, NULL);
}

pid_t helper_spawn(const char *program, const char *mode, int chan, int server, GError **error)
{
    const char *what = mode ? mode : "probe";
    /* Copies above the helper's numbers first: a descriptor that is already
     * 0, 1, 3 or 4 would otherwise be overwritten by the actions before it
     * is duplicated. */
    int chan_copy = fcntl(chan, F_DUPFD_CLOEXEC, HELPER_FD_SERVER + 1);
    int server_copy = server >= 0 ? fcntl(server, F_DUPFD_CLOEXEC, HELPER_FD_SERVER + 1) : -1;
    if (chan_copy < 0 || (server >= 0 && server_copy < 0)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot start the %s helper: %s", what,
                    g_strerror(errno));
        if (chan_copy >= 0)
            close(chan_copy);
        if (server_copy >= 0)
            close(server_copy);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, chan_copy, HELPER_FD_CHANNEL);
    if (server_copy >= 0)
        posix_spawn_file_actions_adddup2(&fa, server_copy, HELPER_FD_SERVER);
    g_autofree char *path = helper_path(program);
    char *argv[] = {(char *)program, (char *)mode, NULL};
    g_auto(GStrv) env = helper_env();
    pid_t pid;
    int r = posix_spawn(&pid, path, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(chan_copy);
    if (server_copy >= 0)
        close(server_copy);
    if (r != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "cannot start the %s helper %s: %s (is vmdesk installed whole?)", what,
                    path, g_strerror(r));
        return -1;
    }
    return pid;
}
