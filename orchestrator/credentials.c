#include "credentials.h"

#include "error.h"
#include "keyfile.h"
#include "paths.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define GROUP "rdp"

static void wipe(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    g_free(s);
}

void credentials_clear(Credentials *c)
{
    g_free(c->user);
    wipe(c->password);
    g_free(c->domain);
    memset(c, 0, sizeof(*c));
}

char *credentials_path(const char *vm)
{
    g_autofree char *dir = vd_paths_vm_dir(vm);
    return g_build_filename(dir, "credentials", NULL);
}

bool credentials_load(const char *vm, Credentials *c, GError **error)
{
    memset(c, 0, sizeof(*c));
    g_autofree char *path = credentials_path(vm);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return true;
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s", err->message);
        return false;
    }
    g_autoptr(GKeyFile) kf = g_key_file_new();
    bool ok = g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &err);
    memset(data, 0, len);
    if (!ok || !(c->user = g_key_file_get_string(kf, GROUP, "user", NULL))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is malformed%s%s; set the credentials again with vmdesk credentials %s",
                    path, err ? ": " : "", err ? err->message : "", vm);
        credentials_clear(c);
        return false;
    }
    c->password = g_key_file_get_string(kf, GROUP, "password", NULL);
    c->domain = g_key_file_get_string(kf, GROUP, "domain", NULL);
    return true;
}

bool credentials_save(const char *vm, const Credentials *c, GError **error)
{
    g_autofree char *path = credentials_path(vm);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, GROUP, "user", c->user);
    if (c->password)
        g_key_file_set_string(kf, GROUP, "password", c->password);
    if (c->domain)
        g_key_file_set_string(kf, GROUP, "domain", c->domain);
    gsize len = 0;
    char *data = g_key_file_to_data(kf, &len, NULL);
    bool ok = vd_file_write_atomic(path, data, (gssize)len, 0600, error);
    memset(data, 0, len);
    g_free(data);
    return ok;
}

bool credentials_forget(const char *vm, bool *removed, GError **error)
{
    g_autofree char *path = credentials_path(vm);
    *removed = false;
    if (g_unlink(path) == 0) {
        *removed = true;
        return true;
    }
    if (errno == ENOENT)
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot remove %s: %s", path, g_strerror(errno));
    return false;
}
