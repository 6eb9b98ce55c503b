#include "session/clip_image.h"
#include "session/clip_le.h"

#include "common/error.h"

#include <png.h>
#include <string.h>

#define BI_RGB 0
#define BI_BITFIELDS 3
#define BI_ALPHABITFIELDS 6
#define DIB_HEADER 40
#define DIBV5_HEADER 124
#define LCS_SRGB 0x73524742 /* 'sRGB' */
#define LCS_GM_IMAGES 4


void clip_image_clear(ClipImage *img)
{
    g_clear_pointer(&img->rgba, g_free);
    img->width = img->height = 0;
}

static bool refuse(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool refuse(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the picture is refused: %s", why);
    return false;
}

static bool check_sides(uint64_t w, uint64_t h, GError **error)
{
    if (w == 0 || h == 0 || w > CLIP_IMAGE_MAX_SIDE || h > CLIP_IMAGE_MAX_SIDE ||
        w * h > CLIP_IMAGE_MAX_PIXELS)
        return refuse(error,
                      "it is %" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT
                      " pixels (at most %d on a side and %u pixels)",
                      w, h, CLIP_IMAGE_MAX_SIDE, CLIP_IMAGE_MAX_PIXELS);
    return true;
}

/* One colour channel: where a mask's bits start and how many there are. */
typedef struct {
    uint32_t mask;
    int shift, bits;
} Channel;

static bool channel_init(Channel *c, uint32_t mask, int bpp)
{
    c->mask = mask;
    c->shift = c->bits = 0;
    if (!mask)
        return true;
    if (bpp < 32 && mask >> bpp)
        return false;
    while (!((mask >> c->shift) & 1))
        c->shift++;
    uint32_t m = mask >> c->shift;
    while (m & 1) {
        c->bits++;
        m >>= 1;
    }
    return m == 0; /* contiguous */
}

static uint8_t channel_get(const Channel *c, uint32_t v)
{
    if (!c->bits)
        return 0;
    uint32_t x = (v & c->mask) >> c->shift;
    uint32_t max = c->bits >= 32 ? UINT32_MAX : (1u << c->bits) - 1;
    return (uint8_t)((uint64_t)x * 255 / max);
}

typedef struct {
    uint32_t w, h;
    bool bottom_up;
    int bpp;
    Channel r, g, b, a;
    const uint8_t *palette; /* 4 bytes an entry: B, G, R, reserved */
    uint32_t palette_n;
    const uint8_t *pixels;
    uint64_t stride;
} Dib;

static void dib_decode(const Dib *d, uint8_t *out)
{
    bool any_alpha = false;
    for (uint32_t y = 0; y < d->h; y++) {
        const uint8_t *row = d->pixels + d->stride * (d->bottom_up ? d->h - 1 - y : y);
        uint8_t *o = out + (size_t)y * d->w * 4;
        for (uint32_t x = 0; x < d->w; x++, o += 4) {
            if (d->bpp <= 8) {
                uint32_t bit = x * (uint32_t)d->bpp;
                uint32_t idx = (row[bit / 8] >> (8 - d->bpp - bit % 8)) & ((1u << d->bpp) - 1);
                const uint8_t *p = idx < d->palette_n ? d->palette + 4 * idx : NULL;
                o[0] = p ? p[2] : 0;
                o[1] = p ? p[1] : 0;
                o[2] = p ? p[0] : 0;
                o[3] = 255;
                continue;
            }
            uint32_t v;
            if (d->bpp == 16)
                v = (uint32_t)row[2 * x] | (uint32_t)row[2 * x + 1] << 8;
            else if (d->bpp == 24)
                v = (uint32_t)row[3 * x] | (uint32_t)row[3 * x + 1] << 8 |
                    (uint32_t)row[3 * x + 2] << 16;
            else
                v = clip_le32(row + 4 * (size_t)x);
            o[0] = channel_get(&d->r, v);
            o[1] = channel_get(&d->g, v);
            o[2] = channel_get(&d->b, v);
            o[3] = d->a.bits ? channel_get(&d->a, v) : 255;
            any_alpha |= o[3] != 0;
        }
    }
    /* An alpha channel that is zero everywhere is a writer that left it
     * unset, not a picture nobody can see. */
    if (d->bpp > 8 && d->a.bits && !any_alpha)
        for (size_t i = 3; i < (size_t)d->w * d->h * 4; i += 4)
            out[i] = 255;
}

bool clip_image_from_dib(const uint8_t *data, size_t len, ClipImage *out, GError **error)
{
    memset(out, 0, sizeof(*out));
    if (len < DIB_HEADER)
        return refuse(error, "its bitmap is %zu bytes long", len);
    uint32_t hsize = clip_le32(data);
    if (hsize != DIB_HEADER && hsize != 52 && hsize != 56 && hsize != 108 && hsize != DIBV5_HEADER)
        return refuse(error, "its bitmap header size %" G_GUINT32_FORMAT " is unknown", hsize);
    if (len < hsize)
        return refuse(error, "its bitmap header is cut short");
    int32_t sw = (int32_t)clip_le32(data + 4), sh = (int32_t)clip_le32(data + 8);
    uint32_t planes = data[12] | data[13] << 8, bpp = data[14] | data[15] << 8;
    uint32_t compression = clip_le32(data + 16), colors = clip_le32(data + 32);
    if (sw <= 0 || sh == 0 || sh == INT32_MIN)
        return refuse(error, "its size is %" G_GINT32_FORMAT " x %" G_GINT32_FORMAT, sw, sh);
    Dib d = {.w = (uint32_t)sw, .h = (uint32_t)(sh < 0 ? -sh : sh), .bottom_up = sh > 0,
             .bpp = (int)bpp};
    if (!check_sides(d.w, d.h, error))
        return false;
    if (planes != 1)
        return refuse(error, "it has %" G_GUINT32_FORMAT " planes", planes);
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
        return refuse(error, "its depth of %" G_GUINT32_FORMAT " bits is not one of 1, 4, 8, 16, 24, 32", bpp);
    bool fields = compression == BI_BITFIELDS || compression == BI_ALPHABITFIELDS;
    if (compression != BI_RGB && !(fields && (bpp == 16 || bpp == 32)))
        return refuse(error, "its compression %" G_GUINT32_FORMAT " at %" G_GUINT32_FORMAT " bits is not taken", compression, bpp);

    size_t off = hsize;
    uint32_t masks[4] = {0};
    if (fields) {
        int n = compression == BI_ALPHABITFIELDS ? 4 : 3;
        const uint8_t *m = data + DIB_HEADER;
        if (hsize == DIB_HEADER) { /* the masks follow a BITMAPINFOHEADER */
            if (len - off < (size_t)n * 4)
                return refuse(error, "its colour masks are cut short");
            off += (size_t)n * 4;
        } else {
            n = hsize >= 56 ? 4 : 3; /* in the header: only what it holds */
        }
        for (int i = 0; i < n; i++)
            masks[i] = clip_le32(m + 4 * i);
    } else if (bpp == 16) {
        masks[0] = 0x7c00, masks[1] = 0x03e0, masks[2] = 0x001f;
    } else if (bpp > 16) {
        masks[0] = 0xff0000, masks[1] = 0xff00, masks[2] = 0xff;
    }
    if (bpp > 8) {
        if (!channel_init(&d.r, masks[0], d.bpp) || !channel_init(&d.g, masks[1], d.bpp) ||
            !channel_init(&d.b, masks[2], d.bpp) || !channel_init(&d.a, masks[3], d.bpp) ||
            !masks[0] || !masks[1] || !masks[2] ||
            (masks[0] & masks[1]) || (masks[0] & masks[2]) || (masks[1] & masks[2]) ||
            ((masks[0] | masks[1] | masks[2]) & masks[3]))
            return refuse(error, "its colour masks %08x %08x %08x %08x are not usable", masks[0],
                          masks[1], masks[2], masks[3]);
    }

    /* The colour table: the palette, or an optional one beside true colour. */
    uint32_t max_colors = bpp <= 8 ? 1u << bpp : 256;
    if (colors > max_colors)
        return refuse(error, "its colour table has %" G_GUINT32_FORMAT " entries", colors);
    uint32_t table = bpp <= 8 && !colors ? max_colors : colors;
    if (len - off < (size_t)table * 4)
        return refuse(error, "its colour table is cut short");
    d.palette = data + off;
    d.palette_n = table;
    off += (size_t)table * 4;

    d.stride = ((uint64_t)d.w * bpp + 31) / 32 * 4;
    uint64_t need = d.stride * d.h;
    /* Some writers repeat the masks after a larger header. */
    if (fields && hsize > DIB_HEADER && len - off >= need + 12 &&
        !memcmp(data + off, data + DIB_HEADER, 12))
        off += 12;
    if (len - off < need)
        return refuse(error,
                      "%" G_GUINT32_FORMAT " x %" G_GUINT32_FORMAT " pixels at %d bits need %" G_GUINT64_FORMAT
                      " bytes; %zu came",
                      d.w, d.h, d.bpp, need, len - off);
    d.pixels = data + off;
    out->rgba = g_try_malloc((size_t)d.w * d.h * 4);
    if (!out->rgba)
        return refuse(error, "no memory for %" G_GUINT32_FORMAT " x %" G_GUINT32_FORMAT " pixels", d.w, d.h);
    out->width = d.w;
    out->height = d.h;
    dib_decode(&d, out->rgba);
    return true;
}

uint8_t *clip_image_to_dib(const ClipImage *img, bool v5, size_t *len)
{
    size_t hsize = v5 ? DIBV5_HEADER : DIB_HEADER;
    size_t pixels = (size_t)img->width * img->height * 4;
    *len = hsize + pixels;
    uint8_t *buf = g_malloc0(*len);
    clip_put_le32(buf, (uint32_t)hsize);
    clip_put_le32(buf + 4, img->width);
    clip_put_le32(buf + 8, img->height); /* bottom up */
    buf[12] = 1;
    buf[14] = 32;
    clip_put_le32(buf + 16, v5 ? BI_BITFIELDS : BI_RGB);
    clip_put_le32(buf + 20, (uint32_t)pixels);
    clip_put_le32(buf + 24, 2835); /* 72 dpi */
    clip_put_le32(buf + 28, 2835);
    if (v5) {
        clip_put_le32(buf + 40, 0x00ff0000);
        clip_put_le32(buf + 44, 0x0000ff00);
        clip_put_le32(buf + 48, 0x000000ff);
        clip_put_le32(buf + 52, 0xff000000);
        clip_put_le32(buf + 56, LCS_SRGB);
        clip_put_le32(buf + 108, LCS_GM_IMAGES);
    }
    uint8_t *o = buf + hsize;
    for (uint32_t y = 0; y < img->height; y++) {
        const uint8_t *row = img->rgba + (size_t)(img->height - 1 - y) * img->width * 4;
        for (uint32_t x = 0; x < img->width; x++, o += 4, row += 4) {
            o[0] = row[2];
            o[1] = row[1];
            o[2] = row[0];
            o[3] = row[3];
        }
    }
    return buf;
}

bool clip_image_from_png(const uint8_t *data, size_t len, ClipImage *out, GError **error)
{
    memset(out, 0, sizeof(*out));
    png_image im = {.version = PNG_IMAGE_VERSION};
    if (!png_image_begin_read_from_memory(&im, data, len))
        return refuse(error, "it is not a PNG file libpng reads (%s)", im.message);
    if (!check_sides(im.width, im.height, error)) {
        png_image_free(&im);
        return false;
    }
    im.format = PNG_FORMAT_RGBA;
    out->rgba = g_try_malloc(PNG_IMAGE_SIZE(im));
    if (!out->rgba) {
        png_image_free(&im);
        return refuse(error, "no memory for %u x %u pixels", im.width, im.height);
    }
    if (!png_image_finish_read(&im, NULL, out->rgba, 0, NULL)) {
        clip_image_clear(out);
        return refuse(error, "its PNG data is broken (%s)", im.message);
    }
    out->width = im.width;
    out->height = im.height;
    return true;
}

uint8_t *clip_image_to_png(const ClipImage *img, size_t *len, GError **error)
{
    png_image im = {.version = PNG_IMAGE_VERSION,
                    .width = img->width,
                    .height = img->height,
                    .format = PNG_FORMAT_RGBA};
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&im, NULL, &size, 0, img->rgba, 0, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot write the picture as PNG: %s",
                    im.message);
        return NULL;
    }
    uint8_t *buf = g_malloc(size);
    if (!png_image_write_to_memory(&im, buf, &size, 0, img->rgba, 0, NULL)) {
        g_free(buf);
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot write the picture as PNG: %s",
                    im.message);
        return NULL;
    }
    *len = size;
    return buf;
}
