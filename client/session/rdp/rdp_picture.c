/* Pictures of the RDP session: FreeRDP's GDI draws the server's updates (and
 * its GFX surfaces, when the server offers the graphics pipeline) into its
 * own buffer; at the end of each paint the changed rectangles are copied into
 * the session's framebuffer. In the session helper the GDI draws straight
 * into the shared framebuffer (the memfd the window maps) and the changed
 * rectangles are only marked. Session thread. */
#include "session/rdp/rdp_session_priv.h"

#include <freerdp/gdi/gdi.h>
#include <freerdp/settings.h>

#include <string.h>

static BOOL on_begin_paint(rdpContext *ctx)
{
    HGDI_WND hwnd = ctx->gdi->primary->hdc->hwnd;
    hwnd->invalid->null = TRUE;
    hwnd->ninvalid = 0;
    return TRUE;
}

/* Copy what changed from FreeRDP's picture into the session's framebuffer:
 * only the invalid rectangles. */
static BOOL on_end_paint(rdpContext *ctx)
{
    Rdp *r = rdp_of(ctx);
    rdpGdi *gdi = ctx->gdi;
    HGDI_WND hwnd = gdi->primary->hdc->hwnd;
    if (hwnd->invalid->null || hwnd->ninvalid <= 0)
        return TRUE;
    SessionFramebuffer *fb = &r->s->fb;
    bool in_place = r->s->fb_shared;
    g_mutex_lock(&fb->lock);
    if (fb->width == (int)gdi->width && fb->height == (int)gdi->height) {
        for (int i = 0; i < hwnd->ninvalid; i++) {
            GDI_RGN *rg = &hwnd->cinvalid[i];
            int x0 = MAX(rg->x, 0), y0 = MAX(rg->y, 0);
            int x1 = MIN(rg->x + rg->w, fb->width), y1 = MIN(rg->y + rg->h, fb->height);
            if (x1 <= x0 || y1 <= y0)
                continue;
            for (int y = y0; !in_place && y < y1; y++)
                memcpy((uint8_t *)fb->pixels + (size_t)y * fb->stride + (size_t)x0 * 4,
                       gdi->primary_buffer + (size_t)y * gdi->stride + (size_t)x0 * 4,
                       (size_t)(x1 - x0) * 4);
            session_fb_damage(r->s, x0, y0, x1 - x0, y1 - y0);
        }
        session_fb_update_done(r->s);
    }
    g_mutex_unlock(&fb->lock);
    hwnd->invalid->null = TRUE;
    hwnd->ninvalid = 0;
    return TRUE;
}

/* FreeRDP 3 fills a new GDI picture with white (0xff bytes); the session's
 * pictures start black, as a screen does, until the server draws: a white
 * window would look like a finished picture to the session switch and to
 * the user (xrdp draws nothing until its session has started). */
static void clear_black(rdpGdi *gdi)
{
    memset(gdi->primary_buffer, 0, (size_t)gdi->stride * (size_t)gdi->height);
}

static BOOL on_desktop_resize(rdpContext *ctx)
{
    Rdp *r = rdp_of(ctx);
    UINT32 w = freerdp_settings_get_uint32(ctx->settings, FreeRDP_DesktopWidth);
    UINT32 h = freerdp_settings_get_uint32(ctx->settings, FreeRDP_DesktopHeight);
    bool same = (UINT32)ctx->gdi->width == w && (UINT32)ctx->gdi->height == h;
    if (r->s->fb_shared) {
        /* A new memfd (black) for the window to map, the GDI drawing into it. */
        if (!same) {
            session_fb_resize(r->s, (int)w, (int)h);
            if (!gdi_resize_ex(ctx->gdi, w, h, (UINT32)r->s->fb.stride, PIXEL_FORMAT_BGRX32,
                               (BYTE *)r->s->fb.pixels, NULL))
                return FALSE;
        }
        session_post(r->s, SESSION_EV_RESIZED, (int)w, (int)h, NULL, NULL);
        return TRUE;
    }
    if (!gdi_resize(ctx->gdi, w, h))
        return FALSE;
    if (!same)
        clear_black(ctx->gdi); /* a new picture; the same size keeps the old one */
    session_fb_resize(r->s, (int)w, (int)h);
    session_post(r->s, SESSION_EV_RESIZED, (int)w, (int)h, NULL, NULL);
    return TRUE;
}

bool rdp_picture_start(Rdp *r, int *width, int *height)
{
    rdpContext *ctx = r->ctx;
    if (!ctx->gdi && r->s->fb_shared) {
        int w = (int)freerdp_settings_get_uint32(ctx->settings, FreeRDP_DesktopWidth);
        int h = (int)freerdp_settings_get_uint32(ctx->settings, FreeRDP_DesktopHeight);
        session_fb_resize(r->s, w, h);
        if (!gdi_init_ex(ctx->instance, PIXEL_FORMAT_BGRX32, (UINT32)r->s->fb.stride,
                         (BYTE *)r->s->fb.pixels, NULL))
            return false;
        clear_black(ctx->gdi);
    } else if (!ctx->gdi) {
        if (!gdi_init(ctx->instance, PIXEL_FORMAT_BGRX32))
            return false;
        clear_black(ctx->gdi);
    }
    ctx->update->BeginPaint = on_begin_paint;
    ctx->update->EndPaint = on_end_paint;
    ctx->update->DesktopResize = on_desktop_resize;
    int w = (int)ctx->gdi->width, h = (int)ctx->gdi->height;
    *width = w;
    *height = h;
    if (r->s->fb_shared)
        return w == r->s->fb.width && h == r->s->fb.height;
    session_fb_resize(r->s, w, h);
    /* The first picture: everything FreeRDP has so far. */
    g_mutex_lock(&r->s->fb.lock);
    for (int y = 0; y < h; y++)
        memcpy((uint8_t *)r->s->fb.pixels + (size_t)y * r->s->fb.stride,
               ctx->gdi->primary_buffer + (size_t)y * ctx->gdi->stride, (size_t)w * 4);
    g_mutex_unlock(&r->s->fb.lock);
    return true;
}

void rdp_picture_stop(Rdp *r)
{
    gdi_free(r->ctx->instance);
}
