/* libvirt's screenshots as PPM: bytes from the remote host, hostile. */
#include "libvirt/lv_ppm.h"

#include "common/error.h"

#define SHOT_MAX_SIDE LV_PPM_MAX_SIDE

/* The next whitespace-separated decimal of a PPM header: whitespace first
 * ("P62 1 255" is no 2x1 picture). */
static bool ppm_number(const uint8_t *data, size_t len, size_t *pos, int *out)
{
    size_t space = *pos;
    while (*pos < len && g_ascii_isspace(data[*pos]))
        (*pos)++;
    if (*pos == space)
        return false;
    long v = 0;
    size_t start = *pos;
    while (*pos < len && g_ascii_isdigit(data[*pos]) && v <= SHOT_MAX_SIDE)
        v = v * 10 + (data[(*pos)++] - '0');
    *out = (int)v;
    return *pos > start && v <= SHOT_MAX_SIDE;
}

bool lv_ppm_parse(const uint8_t *data, size_t len, uint32_t **pixels, int *w, int *h,
                  GError **error)
{
    size_t pos = 2;
    int max = 0;
    if (len < 2 || data[0] != 'P' || data[1] != '6' || !ppm_number(data, len, &pos, w) ||
        !ppm_number(data, len, &pos, h) || !ppm_number(data, len, &pos, &max) || max != 255 ||
        *w <= 0 || *h <= 0 || pos >= len || !g_ascii_isspace(data[pos])) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "libvirt's screenshot is not a binary PPM of at most %dx%d with 8-bit "
                    "colours",
                    SHOT_MAX_SIDE, SHOT_MAX_SIDE);
        return false;
    }
    pos++;
    size_t n = (size_t)*w * (size_t)*h;
    if (len - pos < n * 3) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "libvirt's screenshot is cut short: %dx%d needs %zu bytes, it has %zu", *w,
                    *h, n * 3, len - pos);
        return false;
    }
    uint32_t *px = g_new(uint32_t, n);
    for (size_t i = 0; i < n; i++, pos += 3)
        px[i] = (uint32_t)data[pos] << 16 | (uint32_t)data[pos + 1] << 8 | data[pos + 2];
    *pixels = px;
    return true;
}
