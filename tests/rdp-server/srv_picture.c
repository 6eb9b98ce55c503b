/* The test picture: eight full-intensity colour bars over the top two thirds,
 * a grey ramp below, and the frame number in big black digits on white at the
 * bottom right. Frame N shifts bars and ramp left by 8*N pixels, so every
 * benchmark frame differs everywhere.
 *
 * Encoding follows what FreeRDP's servers send and its GDI decodes: RemoteFX
 * surface bits when the client announced RemoteFX (server/Sample), else
 * 64x64 planar-compressed tiles in bitmap updates, split to the client's
 * multifragment limit (server/shadow). */
#include "srv.h"

#include <string.h>

#include <freerdp/codec/color.h>
#include <freerdp/codec/planar.h>
#include <freerdp/codec/rfx.h>
#include <freerdp/constants.h>
#include <freerdp/update.h>
#include <winpr/stream.h>

#define TILE 64
#define TILE_BUF (TILE * TILE * 4 + 1024) /* planar output never exceeds this for one tile */

struct SrvPicture {
    unsigned w, h;                /* desktop size of the frame buffer */
    unsigned stride_px, rows;     /* padded to whole tiles */
    uint32_t *fb;                 /* BGRX32, little-endian 0xXXRRGGBB */
    BITMAP_PLANAR_CONTEXT *planar;
    BYTE *tile_out;               /* planar output, TILE_BUF per tile */
    BITMAP_DATA *tiles;
    RFX_CONTEXT *rfx;
    wStream *rfx_out;
};

static const uint32_t bar_colours[SRV_PICTURE_BARS] = {
    0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00, 0xFF00FF, 0xFF0000, 0x0000FF, 0x000000,
};

uint32_t srv_picture_bar_colour(unsigned index)
{
    return bar_colours[index % SRV_PICTURE_BARS];
}

/* 5x7 digits, one byte per row, bit 4 leftmost. */
static const uint8_t digit_font[10][7] = {
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
};

SrvPicture *srv_picture_create(void)
{
    return g_new0(SrvPicture, 1);
}

static void release_buffers(SrvPicture *p)
{
    g_free(p->fb);
    g_free(p->tile_out);
    g_free(p->tiles);
    p->fb = NULL;
    p->tile_out = NULL;
    p->tiles = NULL;
    freerdp_bitmap_planar_context_free(p->planar);
    p->planar = NULL;
    rfx_context_free(p->rfx);
    p->rfx = NULL;
}

void srv_picture_destroy(SrvPicture *p)
{
    if (!p)
        return;
    release_buffers(p);
    if (p->rfx_out)
        Stream_Free(p->rfx_out, TRUE);
    g_free(p);
}

static bool ensure_size(SrvPicture *p, unsigned w, unsigned h)
{
    if (p->fb && p->w == w && p->h == h)
        return true;
    release_buffers(p);
    p->w = w;
    p->h = h;
    p->stride_px = (w + TILE - 1) / TILE * TILE;
    p->rows = (h + TILE - 1) / TILE * TILE;
    size_t ntiles = (size_t)(p->stride_px / TILE) * (p->rows / TILE);
    p->fb = g_new0(uint32_t, (size_t)p->stride_px * p->rows);
    p->tile_out = g_malloc(ntiles * TILE_BUF);
    p->tiles = g_new0(BITMAP_DATA, ntiles);
    p->planar = freerdp_bitmap_planar_context_new(PLANAR_FORMAT_HEADER_NA |
                                                  PLANAR_FORMAT_HEADER_RLE, TILE, TILE);
    p->rfx = rfx_context_new(TRUE);
    if (!p->rfx_out)
        p->rfx_out = Stream_New(NULL, 1024 * 1024);
    if (!p->planar || !p->rfx || !p->rfx_out || !rfx_context_reset(p->rfx, w, h)) {
        srv_warn("cannot set up the picture encoders for %ux%u", w, h);
        release_buffers(p);
        return false;
    }
    rfx_context_set_mode(p->rfx, RLGR3);
    rfx_context_set_pixel_format(p->rfx, PIXEL_FORMAT_BGRX32);
    return true;
}

static void fill_rect(SrvPicture *p, unsigned x0, unsigned y0, unsigned w, unsigned h, uint32_t rgb)
{
    for (unsigned y = y0; y < y0 + h && y < p->h; y++)
        for (unsigned x = x0; x < x0 + w && x < p->w; x++)
            p->fb[(size_t)y * p->stride_px + x] = 0xFF000000u | rgb;
}

static void draw(SrvPicture *p, uint32_t frame_no)
{
    unsigned w = p->w, h = p->h;
    unsigned split = h * 2 / 3;
    unsigned shift = (unsigned)(((uint64_t)frame_no * 8) % w);
    for (unsigned y = 0; y < h; y++) {
        uint32_t *row = p->fb + (size_t)y * p->stride_px;
        for (unsigned x = 0; x < w; x++) {
            unsigned sx = (x + shift) % w;
            if (y < split) {
                row[x] = 0xFF000000u | bar_colours[(size_t)sx * SRV_PICTURE_BARS / w];
            } else {
                uint32_t v = (uint32_t)((size_t)sx * 255 / (w > 1 ? w - 1 : 1));
                row[x] = 0xFF000000u | v << 16 | v << 8 | v;
            }
        }
    }
    /* The counter: eight digits, scaled to the desktop. */
    char digits[16];
    g_snprintf(digits, sizeof(digits), "%08u", frame_no % 100000000u);
    unsigned n = (unsigned)strlen(digits);
    unsigned s = h / 96 ? h / 96 : 1;
    unsigned box_w = (n * 6 + 1) * s, box_h = 9 * s;
    if (box_w + 2 * s > w || box_h + split + 2 * s > h)
        return;
    unsigned bx = w - box_w - 2 * s, by = h - box_h - 2 * s;
    fill_rect(p, bx, by, box_w, box_h, 0xFFFFFF);
    for (unsigned i = 0; i < n; i++)
        for (unsigned r = 0; r < 7; r++)
            for (unsigned c = 0; c < 5; c++)
                if (digit_font[digits[i] - '0'][r] & (0x10 >> c))
                    fill_rect(p, bx + (i * 6 + 1 + c) * s, by + (r + 1) * s, s, s, 0x000000);
}

const char *srv_picture_codec(freerdp_peer *client)
{
    const rdpSettings *st = client->context->settings;
    /* The library turns RemoteFxCodec off when the client sent no codecs
     * capability; RemoteFX goes out as a stream surface bits command. */
    bool rfx = freerdp_settings_get_bool(st, FreeRDP_RemoteFxCodec) &&
               freerdp_settings_get_bool(st, FreeRDP_SurfaceCommandsEnabled);
    return rfx ? "rfx" : "planar";
}

static bool send_rfx(SrvPicture *p, freerdp_peer *client)
{
    const rdpSettings *st = client->context->settings;
    RFX_RECT rect = {0, 0, (UINT16)p->w, (UINT16)p->h};
    Stream_SetPosition(p->rfx_out, 0);
    if (!rfx_compose_message(p->rfx, p->rfx_out, &rect, 1, (const BYTE *)p->fb, p->w, p->h,
                             p->stride_px * 4)) {
        srv_warn("RemoteFX encoding failed");
        return false;
    }
    SURFACE_BITS_COMMAND cmd = {0};
    cmd.cmdType = CMDTYPE_STREAM_SURFACE_BITS;
    cmd.destRight = p->w;
    cmd.destBottom = p->h;
    cmd.bmp.bpp = 32;
    cmd.bmp.codecID = (UINT16)freerdp_settings_get_uint32(st, FreeRDP_RemoteFxCodecId);
    cmd.bmp.width = (UINT16)p->w;
    cmd.bmp.height = (UINT16)p->h;
    cmd.bmp.bitmapDataLength = (UINT32)Stream_GetPosition(p->rfx_out);
    cmd.bmp.bitmapData = Stream_Buffer(p->rfx_out);
    return client->context->update->SurfaceBits(client->context, &cmd);
}

static bool send_planar(SrvPicture *p, freerdp_peer *client)
{
    rdpUpdate *update = client->context->update;
    size_t k = 0;
    for (unsigned ty = 0; ty < p->h; ty += TILE) {
        for (unsigned tx = 0; tx < p->w; tx += TILE, k++) {
            BITMAP_DATA *b = &p->tiles[k];
            BYTE *out = p->tile_out + k * TILE_BUF;
            UINT32 size = TILE_BUF;
            const BYTE *src = (const BYTE *)(p->fb + (size_t)ty * p->stride_px + tx);
            if (!freerdp_bitmap_compress_planar(p->planar, src, PIXEL_FORMAT_BGRX32, TILE, TILE,
                                                p->stride_px * 4, out, &size)) {
                srv_warn("planar encoding failed");
                return false;
            }
            memset(b, 0, sizeof(*b));
            /* Whole tiles from the padded buffer; the destination clips. */
            b->destLeft = tx;
            b->destTop = ty;
            b->destRight = MIN(tx + TILE, p->w) - 1;
            b->destBottom = MIN(ty + TILE, p->h) - 1;
            b->width = TILE;
            b->height = TILE;
            b->bitsPerPixel = 32;
            b->compressed = TRUE; /* the library derives the flags (autoCalculateBitmapData) */
            b->bitmapDataStream = out;
            b->bitmapLength = size;
            b->cbCompMainBodySize = size;
            b->cbScanWidth = TILE * 4;
            b->cbUncompressedSize = TILE * TILE * 4;
        }
    }
    /* As many tiles per update as the client's reassembly buffer takes. */
    UINT32 limit =
        freerdp_settings_get_uint32(client->context->settings, FreeRDP_MultifragMaxRequestSize);
    size_t budget = limit > 4096 ? limit - 1024 : 3072;
    size_t first = 0;
    while (first < k) {
        size_t used = 64, last = first;
        while (last < k && (last == first || used + p->tiles[last].bitmapLength + 32 <= budget))
            used += p->tiles[last++].bitmapLength + 32;
        BITMAP_UPDATE bu = {0};
        bu.number = (UINT32)(last - first);
        bu.rectangles = &p->tiles[first];
        if (!update->BitmapUpdate(client->context, &bu))
            return false;
        first = last;
    }
    return true;
}

bool srv_picture_send(SrvPicture *p, freerdp_peer *client, uint32_t frame_no, uint32_t frame_id,
                      SrvPaintFn paint, void *paint_data)
{
    const rdpSettings *st = client->context->settings;
    if (!ensure_size(p, freerdp_settings_get_uint32(st, FreeRDP_DesktopWidth),
                     freerdp_settings_get_uint32(st, FreeRDP_DesktopHeight)))
        return false;
    if (paint)
        paint(paint_data, p->fb, p->stride_px, p->w, p->h);
    else
        draw(p, frame_no);
    rdpUpdate *update = client->context->update;
    bool markers = freerdp_settings_get_bool(st, FreeRDP_SurfaceFrameMarkerEnabled);
    SURFACE_FRAME_MARKER fm = {.frameAction = SURFACECMD_FRAMEACTION_BEGIN, .frameId = frame_id};
    if (markers && !update->SurfaceFrameMarker(client->context, &fm))
        return false;
    bool ok = strcmp(srv_picture_codec(client), "rfx") == 0 ? send_rfx(p, client)
                                                             : send_planar(p, client);
    fm.frameAction = SURFACECMD_FRAMEACTION_END;
    if (ok && markers && !update->SurfaceFrameMarker(client->context, &fm))
        return false;
    return ok;
}
