#include "session/cert_pin.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/paths.h"
#include "session/session_words.h"

#include <errno.h>

static GKeyFile *load(const char *file, GError **error)
{
    GKeyFile *kf = g_key_file_new();
    g_autoptr(GError) err = NULL;
    if (!g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, &err) &&
        !g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s: %s", file, err->message);
        g_key_file_free(kf);
        return NULL;
    }
    return kf;
}

char *cert_pin_vm_path(const char *vm)
{
    g_autofree char *dir = vd_paths_vm_dir(vm);
    return g_build_filename(dir, CERT_PIN_VM_FILE, NULL);
}

char *cert_pin_get(const char *file, const char *group)
{
    g_autoptr(GKeyFile) kf = load(file, NULL);
    return kf ? g_key_file_get_string(kf, group, "sha256", NULL) : NULL;
}

static bool save(GKeyFile *kf, const char *file, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(file);
    return vd_mkdir_private(dir, error) && vd_keyfile_save(kf, file, error);
}

bool cert_pin_check(const char *file, const char *group, const char *where,
                    const char *fingerprint, const char *subject, const char *hint,
                    bool *first_use, GError **error)
{
    *first_use = false;
    g_autoptr(GKeyFile) kf = load(file, error);
    if (!kf)
        return false;
    g_autofree char *pinned = g_key_file_get_string(kf, group, "sha256", NULL);
    if (pinned) {
        if (!g_ascii_strcasecmp(pinned, fingerprint))
            return true;
        vd_error_set_worded(error, VD_ERROR_FAILED, NULL,
                            session_words_plain(SESSION_WORDS_RDP_CERT_CHANGED),
                            "the RDP certificate of %s changed: pinned SHA-256 %s, now %s. "
                            "Refusing to connect: someone may be in between. If the change is "
                            "expected (the guest was reinstalled or its RDP server renewed its "
                            "key), forget the old certificate with: %s",
                            where, pinned, fingerprint, hint);
        return false;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *when = g_date_time_format_iso8601(now);
    g_key_file_set_string(kf, group, "sha256", fingerprint);
    if (subject)
        g_key_file_set_string(kf, group, "subject", subject);
    g_key_file_set_string(kf, group, "first-seen", when);
    if (!save(kf, file, error))
        return false;
    *first_use = true;
    return true;
}

bool cert_pin_forget(const char *file, const char *group, bool *removed, GError **error)
{
    *removed = false;
    g_autoptr(GKeyFile) kf = load(file, error);
    if (!kf)
        return false;
    if (!g_key_file_has_group(kf, group))
        return true;
    g_key_file_remove_group(kf, group, NULL);
    *removed = true;
    return save(kf, file, error);
}
