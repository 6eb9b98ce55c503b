/* Saving pixels as PNG (libpng), written atomically. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Save @w x @h pixels of 0x00RRGGBB words (@stride bytes a row) to @path. */
bool png_write_xrgb(const char *path, const uint32_t *pixels, int w, int h, int stride,
                    GError **error);
