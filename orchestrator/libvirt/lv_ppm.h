/* The screenshots libvirt streams as binary PPM (QEMU's screendump): a
 * parser of bytes from the domain's host, fuzzed (tests/fuzz/fuzz_lv_ppm.c).
 * Pure; no libvirt here. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LV_PPM_MAX_SIDE 16384

/* Parse binary PPM @data (P6, maxval 255) into *@pixels (0x00RRGGBB,
 * row-major, g_free) of *@w x *@h. VD_ERROR_PROTOCOL when it is not one, is
 * cut short, or is larger than LV_PPM_MAX_SIDE x LV_PPM_MAX_SIDE. */
bool lv_ppm_parse(const uint8_t *data, size_t len, uint32_t **pixels, int *w, int *h,
                  GError **error);
