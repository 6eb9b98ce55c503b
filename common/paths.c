#include "common/paths.h"

#include "common/error.h"
#include "common/text.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool vd_name_validate(const char *name, GError **error)
{
    if (!name || !*name) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "a VM name must not be empty");
        return false;
    }
    size_t len = strlen(name);
    if (len > 48) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "VM name is %zu bytes long; use at most 48 characters", len);
        return false;
    }
    g_autofree char *quoted = vd_text_quote(name, -1);
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (g_ascii_isalnum(c) || c == '_' || c == '-' || c == '.')
            continue;
        /* The whole character (or the one bad byte), never a part of one. */
        gsize n = vd_text_char_len(p, len - (gsize)(p - name));
        g_autofree char *what = vd_text_quote(p, (gssize)n);
        if (c == '/')
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "VM name %s contains a slash; use letters, digits, '.', '-' and '_'",
                        quoted);
        else if (c < 0x20 || c == 0x7f)
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "VM name %s contains a control character; use letters, digits, '.', '-' "
                        "and '_'",
                        quoted);
        else
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "VM name %s contains %s; use letters, digits, '.', '-' and '_'", quoted,
                        what);
        return false;
    }
    if (!g_ascii_isalnum(name[0]) || strstr(name, "..")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "VM name %s must start with a letter or digit and must not contain \"..\"",
                    quoted);
        return false;
    }
    return true;
}

char *vd_paths_data_root(void)
{
    return g_build_filename(g_get_user_data_dir(), "vmdesk", NULL);
}

char *vd_paths_vms_dir(void)
{
    return g_build_filename(g_get_user_data_dir(), "vmdesk", "vms", NULL);
}

char *vd_paths_vm_dir(const char *name)
{
    return g_build_filename(g_get_user_data_dir(), "vmdesk", "vms", name, NULL);
}

char *vd_paths_runtime_root(void)
{
    return g_build_filename(g_get_user_runtime_dir(), "vmdesk", NULL);
}

char *vd_paths_runtime_dir(const char *name)
{
    return g_build_filename(g_get_user_runtime_dir(), "vmdesk", name, NULL);
}

bool vd_mkdir_private(const char *path, GError **error)
{
    g_autofree char *parent = g_path_get_dirname(path);
    if (g_mkdir_with_parents(parent, 0700) < 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s",
                    parent, g_strerror(e));
        return false;
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s", path,
                    g_strerror(e));
        return false;
    }
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s is not a folder", path);
        return false;
    }
    if (st.st_uid != getuid()) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s belongs to another user (uid %u); remove it or set XDG_RUNTIME_DIR",
                    path, (unsigned)st.st_uid);
        return false;
    }
    if ((st.st_mode & 07777) != 0700 && chmod(path, 0700) < 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot chmod 0700 %s: %s",
                    path, g_strerror(e));
        return false;
    }
    return true;
}

char *vd_paths_beside_self(const char *name)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    if (!self)
        return NULL;
    g_autofree char *dir = g_path_get_dirname(self);
    char *beside = g_build_filename(dir, name, NULL);
    if (g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
        return beside;
    g_free(beside);
    return NULL;
}
