#include "common/keyfile.h"

bool vd_file_write_atomic(const char *path, const char *data, gssize len, int mode,
                          GError **error)
{
    return g_file_set_contents_full(path, data, len,
                                    G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                    mode, error);
}

bool vd_keyfile_save(GKeyFile *kf, const char *path, GError **error)
{
    gsize len = 0;
    g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
    return vd_file_write_atomic(path, data, (gssize)len, 0600, error);
}
