#include "apps/app_args.h"

#include "common/error.h"

#include <string.h>

/* One argument of a Windows command line (CommandLineToArgvW's rules):
 * quoted when it has spaces or quotes, backslashes doubled before a quote. */
static void append_windows_arg(GString *cmd, const char *arg)
{
    if (cmd->len)
        g_string_append_c(cmd, ' ');
    if (*arg && !strpbrk(arg, " \t\n\v\"")) {
        g_string_append(cmd, arg);
        return;
    }
    g_string_append_c(cmd, '"');
    for (const char *p = arg;; p++) {
        size_t bs = 0;
        while (*p == '\\') {
            bs++;
            p++;
        }
        if (!*p) {
            for (size_t i = 0; i < bs * 2; i++)
                g_string_append_c(cmd, '\\');
            break;
        }
        for (size_t i = 0; i < (*p == '"' ? bs * 2 + 1 : bs); i++)
            g_string_append_c(cmd, '\\');
        g_string_append_c(cmd, *p);
    }
    g_string_append_c(cmd, '"');
}

/* The guest's path of host file @path: through the redirected drive that
 * holds it (\\tsclient\NAME\... on Windows, ~/thinclient_drives/NAME/...
 * under xrdp). A file outside every share is not copied: the user is told
 * how to share its folder. */
char *app_guest_path(const char *vm, bool windows, char **drives, const char *user,
                     const char *path, GError **error)
{
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    if (!g_file_test(abs, G_FILE_TEST_EXISTS)) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "--file %s: no such file", path);
        return NULL;
    }
    for (char **d = drives; d && *d; d++) {
        const char *eq = strchr(*d, '=');
        if (!eq)
            continue;
        g_autofree char *name = g_strndup(*d, (gsize)(eq - *d));
        const char *dir = eq + 1;
        size_t n = strlen(dir);
        if (strncmp(abs, dir, n) != 0 || (abs[n] != '/' && abs[n] != '\0'))
            continue;
        const char *rest = abs[n] == '/' ? abs + n + 1 : "";
        if (windows) {
            g_autofree char *win = g_strdup(rest);
            g_strdelimit(win, "/", '\\');
            return g_strdup_printf("\\\\tsclient\\%s%s%s", name, *win ? "\\" : "", win);
        }
        return g_strdup_printf("/home/%s/thinclient_drives/%s%s%s", user ? user : "",
                               name, *rest ? "/" : "", rest);
    }
    g_autofree char *folder = g_path_get_dirname(abs);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                "--file %s: the file is not in a folder shared with %s, and vmdesk does not copy "
                "files into the guest; share its folder first: vmdesk share %s %s",
                path, vm, vm, folder);
    return NULL;
}

char *app_command_line(char **args, const char *extra)
{
    GString *cmd = g_string_new(NULL);
    for (char **a = args; a && *a; a++)
        append_windows_arg(cmd, *a);
    if (extra)
        append_windows_arg(cmd, extra);
    return cmd->len ? g_string_free(cmd, FALSE) : (g_string_free(cmd, TRUE), NULL);
}

