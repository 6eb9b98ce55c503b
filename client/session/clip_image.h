/* Clipboard pictures: Windows device-independent bitmaps (CF_DIB, a
 * BITMAPINFOHEADER; CF_DIBV5, a BITMAPV5HEADER; each followed by masks,
 * palette and pixels) and PNG (libpng, in memory), both to and from one
 * in-memory form. Pure: no FreeRDP type, no X call; any thread.
 *
 * A picture from a server is hostile: its header is checked against the
 * bytes that came (sizes in 64 bits), its sides against CLIP_IMAGE_MAX_SIDE
 * and its pixel count against CLIP_IMAGE_MAX_PIXELS before anything is
 * allocated. A refusal is a VD_ERROR_INVALID error saying what was wrong. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define CLIP_IMAGE_MAX_SIDE 16384
#define CLIP_IMAGE_MAX_PIXELS (64u * 1024 * 1024) /* 256 MiB of RGBA */

typedef struct {
    uint32_t width, height;
    uint8_t *rgba; /* width * height * 4 bytes, rows top down, straight alpha */
} ClipImage;

/* A CF_DIB or CF_DIBV5 (the header's size tells which) into @out (caller
 * clears it). Bit depths 1, 4, 8 (palette), 16, 24 and 32; BI_RGB and
 * BI_BITFIELDS; rows bottom up or top down. */
bool clip_image_from_dib(const uint8_t *data, size_t len, ClipImage *out, GError **error);

/* @img as CF_DIB (32 bits, BI_RGB, bottom up; @v5 false) or as CF_DIBV5
 * (32 bits, BI_BITFIELDS with an alpha mask, sRGB): a new buffer of *@len
 * bytes (caller frees). */
uint8_t *clip_image_to_dib(const ClipImage *img, bool v5, size_t *len);

/* A PNG file in memory into @out (caller clears it). */
bool clip_image_from_png(const uint8_t *data, size_t len, ClipImage *out, GError **error);

/* @img as a PNG file: a new buffer of *@len bytes (caller frees), or NULL
 * with an error. */
uint8_t *clip_image_to_png(const ClipImage *img, size_t *len, GError **error);

void clip_image_clear(ClipImage *img);
