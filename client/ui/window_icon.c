#include "ui/window_icon.h"

#include "common/log.h"

#include <png.h>
#include <string.h>

/* Generated from assets/icons/hicolor/64x64/apps/io.github.vmdesk.Vmdesk.png
 * (client/ui/CMakeLists.txt, cmake/bin2c.cmake). */
extern const unsigned char vmdesk_icon_png[];
extern const unsigned int vmdesk_icon_png_len;

void window_icon_set(SDL_Window *win)
{
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, vmdesk_icon_png, vmdesk_icon_png_len)) {
        vd_warn("vmdesk's window icon does not decode: %s", img.message);
        return;
    }
    /* BGRA bytes are SDL's ARGB8888 words on little-endian machines. */
    img.format = SDL_BYTEORDER == SDL_LIL_ENDIAN ? PNG_FORMAT_BGRA : PNG_FORMAT_ARGB;
    int stride = (int)PNG_IMAGE_ROW_STRIDE(img);
    g_autofree void *pixels = g_malloc(PNG_IMAGE_SIZE(img));
    if (!png_image_finish_read(&img, NULL, pixels, stride, NULL)) {
        vd_warn("vmdesk's window icon does not decode: %s", img.message);
        return;
    }
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormatFrom(pixels, (int)img.width, (int)img.height,
                                                        32, stride, SDL_PIXELFORMAT_ARGB8888);
    if (!s)
        return;
    SDL_SetWindowIcon(win, s);
    SDL_FreeSurface(s);
}
