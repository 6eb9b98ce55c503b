/* Sizes as users type them: "4G", "512M", "64GiB", "1T", "1048576" (bytes). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Parse @text into bytes (binary units: K=1024). A bare number is bytes unless
 * @default_unit ('M' or 'G', 0 for bytes) says otherwise. */
bool vd_size_parse(const char *text, char default_unit, uint64_t *bytes, GError **error);

/* "4G", "1536M", "512K", "100" (bytes): the largest exact unit. Caller frees. */
char *vd_size_format(uint64_t bytes);
