#include "ui/png_writer.h"

#include "common/error.h"
#include "common/keyfile.h"

#include <png.h>
#include <string.h>

bool png_write_xrgb(const char *path, const uint32_t *pixels, int w, int h, int stride,
                    GError **error)
{
    if (w <= 0 || h <= 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "there is no picture to save (%dx%d)", w, h);
        return false;
    }
    g_autofree uint8_t *rgb = g_malloc((gsize)w * (gsize)h * 3);
    for (int y = 0; y < h; y++) {
        const uint32_t *src = (const uint32_t *)((const uint8_t *)pixels + (size_t)y * stride);
        uint8_t *dst = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            dst[3 * x] = (uint8_t)(src[x] >> 16);
            dst[3 * x + 1] = (uint8_t)(src[x] >> 8);
            dst[3 * x + 2] = (uint8_t)src[x];
        }
    }
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&img, NULL, &size, 0, rgb, 0, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "PNG encoding failed: %s", img.message);
        return false;
    }
    g_autofree uint8_t *buf = g_malloc(size);
    if (!png_image_write_to_memory(&img, buf, &size, 0, rgb, 0, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "PNG encoding failed: %s", img.message);
        return false;
    }
    return vd_file_write_atomic(path, (const char *)buf, (gssize)size, 0644, error);
}
