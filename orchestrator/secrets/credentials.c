#include "secrets/credentials.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/paths.h"
#include "secrets/keyring.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define GROUP "rdp"
/* password-in=secret-service: the password is in the secret service. */
#define KEY_PASSWORD_IN "password-in"
#define IN_SECRET_SERVICE "secret-service"
/* The plain text's advice (common/error.h): the manager has no place to
 * store a VM's account, so it names the command without its syntax. */
#define STORE_AGAIN_PLAIN "store the VM's account again with vmdesk's credentials command"

static void wipe(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
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

char *credentials_password_location(const char *vm, CredentialsStore where)
{
    if (where == CREDENTIALS_IN_SECRET_SERVICE)
        return g_strdup("the secret service (" KEYRING_SERVICE_NAME ")");
    return credentials_path(vm);
}

/* @vm's file as a key file (wiped of the raw bytes), or NULL: *@error set,
 * or not set when there is no file. */
static GKeyFile *read_file(const char *vm, GError **error)
{
    g_autofree char *path = credentials_path(vm);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        if (!g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s", err->message);
        return NULL;
    }
    g_autoptr(GKeyFile) kf = g_key_file_new();
    bool ok = g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &err);
    explicit_bzero(data, len);
    if (!ok || !g_key_file_has_key(kf, GROUP, "user", NULL)) {
        /* GLib's parse error quotes the offending line word for word, and
         * that line may be a password: say only what is wrong in general. */
        const char *why = ok ? "it has no user" : "it is not a key file";
        g_autofree char *plain = g_strdup_printf("%s is malformed (%s); " STORE_AGAIN_PLAIN,
                                                 path, why);
        vd_error_set_worded(error, VD_ERROR_INVALID, NULL, plain,
                            "%s is malformed (%s); set the credentials again with vmdesk "
                            "credentials %s",
                            path, why, vm);
        return NULL;
    }
    return g_steal_pointer(&kf);
}

/* A time-out stays one (exit status 5); the rest is a failure. */
static int same_or_failed(const GError *err)
{
    return err->code == VD_ERROR_TIMEOUT ? VD_ERROR_TIMEOUT : VD_ERROR_FAILED;
}

/* Does @kf say the password is in the secret service? */
static bool in_secret_service(GKeyFile *kf, const char *vm, bool *yes, GError **error)
{
    g_autofree char *in = g_key_file_get_string(kf, GROUP, KEY_PASSWORD_IN, NULL);
    *yes = in && strcmp(in, IN_SECRET_SERVICE) == 0;
    if (in && !*yes) {
        g_autofree char *path = credentials_path(vm);
        g_autofree char *plain =
            g_strdup_printf("%s is malformed: %s=%s is not a place vmdesk knows; " STORE_AGAIN_PLAIN,
                            path, KEY_PASSWORD_IN, in);
        vd_error_set_worded(error, VD_ERROR_INVALID, NULL, plain,
                            "%s is malformed: %s=%s is not a place vmdesk knows; set the "
                            "credentials again with vmdesk credentials %s",
                            path, KEY_PASSWORD_IN, in, vm);
        return false;
    }
    return true;
}

char *credentials_user(const char *vm)
{
    g_autoptr(GKeyFile) kf = read_file(vm, NULL);
    return kf ? g_key_file_get_string(kf, GROUP, "user", NULL) : NULL;
}

bool credentials_load(const char *vm, Credentials *c, GError **error)
{
    memset(c, 0, sizeof(*c));
    GError *err = NULL;
    g_autoptr(GKeyFile) kf = read_file(vm, &err);
    if (!kf) {
        if (!err)
            return true;
        g_propagate_error(error, err);
        return false;
    }
    bool keyring;
    if (!in_secret_service(kf, vm, &keyring, error))
        return false;
    c->user = g_key_file_get_string(kf, GROUP, "user", NULL);
    c->domain = g_key_file_get_string(kf, GROUP, "domain", NULL);
    if (!keyring) {
        c->password = g_key_file_get_string(kf, GROUP, "password", NULL);
        c->password_in = CREDENTIALS_IN_FILE;
        return true;
    }
    c->password_in = CREDENTIALS_IN_SECRET_SERVICE;
    g_autofree char *folder = vd_paths_vm_dir(vm);
    if (!keyring_lookup(vm, folder, c->user, &c->password, &err)) {
        g_autofree char *plain = g_strdup_printf(
            "the password of VM %s is in the desktop's secret service, which cannot give it "
            "now: %s; unlock the desktop's keyring and try again",
            vm, err->message);
        vd_error_set_worded(error, same_or_failed(err), NULL, plain,
                            "the password of VM %s is in the desktop's secret service, which "
                            "cannot give it now: %s; run vmdesk in the desktop session with its "
                            "keyring unlocked, or set the password again with vmdesk "
                            "credentials %s",
                            vm, err->message, vm);
        g_error_free(err);
        credentials_clear(c);
        return false;
    }
    if (!c->password) {
        g_autofree char *plain = g_strdup_printf(
            "the password of VM %s is not in the secret service any more; " STORE_AGAIN_PLAIN,
            vm);
        vd_error_set_worded(error, VD_ERROR_NOT_FOUND, NULL, plain,
                            "the password of VM %s is not in the secret service any more; set "
                            "it again with vmdesk credentials %s",
                            vm, vm);
        credentials_clear(c);
        return false;
    }
    return true;
}

bool credentials_save(const char *vm, const Credentials *c, CredentialsStore *stored_in,
                      GError **error)
{
    g_autofree char *path = credentials_path(vm);
    CredentialsStore where = CREDENTIALS_IN_FILE;
    if (c->password) {
        g_autofree char *folder = vd_paths_vm_dir(vm);
        g_autoptr(GError) err = NULL;
        if (keyring_store(vm, folder, c->user, c->password, &err))
            where = CREDENTIALS_IN_SECRET_SERVICE;
        else if (err->code == VD_ERROR_NOT_FOUND)
            vd_debug("%s; the password of VM %s goes to %s", err->message, vm, path);
        else
            vd_warn("%s; keeping the password of VM %s in %s (mode 0600) instead", err->message,
                    vm, path);
    }
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, GROUP, "user", c->user);
    if (c->domain)
        g_key_file_set_string(kf, GROUP, "domain", c->domain);
    if (where == CREDENTIALS_IN_SECRET_SERVICE)
        g_key_file_set_string(kf, GROUP, KEY_PASSWORD_IN, IN_SECRET_SERVICE);
    else if (c->password)
        g_key_file_set_string(kf, GROUP, "password", c->password);
    gsize len = 0;
    char *data = g_key_file_to_data(kf, &len, NULL);
    bool ok = vd_file_write_atomic(path, data, (gssize)len, 0600, error);
    explicit_bzero(data, len);
    g_free(data);
    if (ok && stored_in)
        *stored_in = where;
    return ok;
}

bool credentials_forget(const char *vm, bool *removed, GError **error)
{
    g_autofree char *path = credentials_path(vm);
    *removed = false;
    /* The secret service first: while it holds the password, the file that
     * says so stays, so forgetting can be tried again. */
    GError *err = NULL;
    g_autoptr(GKeyFile) kf = read_file(vm, &err);
    bool keyring = false;
    if (kf)
        (void)in_secret_service(kf, vm, &keyring, NULL);
    g_clear_error(&err);   /* a malformed file is removed all the same */

    g_autofree char *folder = vd_paths_vm_dir(vm);
    bool in_keyring = false;
    if (!keyring_clear(vm, folder, &in_keyring, &err)) {
        if (keyring) {
            g_set_error(error, VD_ERROR, same_or_failed(err),
                        "cannot remove the password of VM %s from the desktop's secret service: "
                        "%s; the credentials are kept: run this again in the desktop session "
                        "with its keyring unlocked (or delete %s to forget only the user)",
                        vm, err->message, path);
            g_error_free(err);
            return false;
        }
        /* Nothing of ours should be there; a left-over would be harmless. */
        vd_debug("%s", err->message);
        g_clear_error(&err);
    }
    *removed = in_keyring;
    if (g_unlink(path) == 0) {
        *removed = true;
        return true;
    }
    if (errno == ENOENT)
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot remove %s: %s", path, g_strerror(errno));
    return false;
}
