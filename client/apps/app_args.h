/* What `vmdesk app` sends the server: a Windows command line of the
 * program's arguments, and the guest's path of a host file. Pure functions;
 * any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* @args (NULL-terminated, may be NULL) and then @extra (may be NULL) as one
 * Windows command line, each quoted as CommandLineToArgvW reads it back;
 * NULL when there is nothing. Caller frees. */
char *app_command_line(char **args, const char *extra);

/* The guest's path of host file @path through the redirected drive that
 * holds it: @drives are "NAME=/abs/dir" (vmdesk share). Windows guests see
 * \\tsclient\NAME\..., xrdp guests /home/@user/thinclient_drives/NAME/...
 * A file outside every drive is refused (VD_ERROR_INVALID) with the
 * `vmdesk share VM DIR` command that would share its folder; files are
 * never copied. A missing file is VD_ERROR_NOT_FOUND. */
char *app_guest_path(const char *vm, bool windows, char **drives, const char *user,
                     const char *path, GError **error);
