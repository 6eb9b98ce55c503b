/* Atomic, durable file writes: a reader sees the old file or the new one,
 * never a mix, even if the machine dies in between. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Write @len bytes to @path through a temporary file, fsync and rename. The
 * file gets @mode (0600 for anything private). */
bool vd_file_write_atomic(const char *path, const char *data, gssize len, int mode,
                          GError **error);

/* Save @kf to @path atomically with mode 0600. */
bool vd_keyfile_save(GKeyFile *kf, const char *path, GError **error);
