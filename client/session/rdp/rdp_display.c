/* Display control in the RDP session (disp, MS-RDPEDISP): the window asks
 * for a desktop size and scale, and once the server has sent its display
 * control capabilities the latest request goes out, at most every
 * RESIZE_INTERVAL_MS. The server then resizes its desktop (rdp_picture.c
 * follows). Session thread, but for rdp_device_scale (any thread). */
#include "session/rdp/rdp_session_priv.h"

#include "common/log.h"

/* Resizes are sent at most this often; the last size wins. */
#define RESIZE_INTERVAL_MS 250

unsigned rdp_device_scale(unsigned pct)
{
    return pct < 120 ? 100 : pct < 160 ? 140 : 180;
}

static UINT disp_caps(DispClientContext *disp, UINT32 max_monitors, UINT32 a, UINT32 b)
{
    (void)max_monitors;
    (void)a;
    (void)b;
    Rdp *r = disp->custom;
    r->disp_ready = true;
    vd_debug("rdp: the server resizes its desktop on request (display control)");
    return CHANNEL_RC_OK;
}

void rdp_display_send(Rdp *r)
{
    if (!r->resize_w || !r->disp || !r->disp_ready)
        return;
    gint64 now = g_get_monotonic_time();
    if (now - r->last_resize < RESIZE_INTERVAL_MS * 1000)
        return;
    rdpSettings *st = r->ctx->settings;
    /* Even widths, within what the protocol allows. */
    UINT32 w = (UINT32)CLAMP(r->resize_w, 200, 8192) & ~1u;
    UINT32 h = (UINT32)CLAMP(r->resize_h, 200, 8192);
    unsigned scale = (unsigned)CLAMP(r->resize_scale ? r->resize_scale : 100, 100, 500);
    r->resize_w = r->resize_h = 0;
    if (w == freerdp_settings_get_uint32(st, FreeRDP_DesktopWidth) &&
        h == freerdp_settings_get_uint32(st, FreeRDP_DesktopHeight) &&
        scale == freerdp_settings_get_uint32(st, FreeRDP_DesktopScaleFactor))
        return;
    DISPLAY_CONTROL_MONITOR_LAYOUT layout = {
        .Flags = DISPLAY_CONTROL_MONITOR_PRIMARY,
        .Width = w,
        .Height = h,
        .Orientation = ORIENTATION_LANDSCAPE,
        .DesktopScaleFactor = scale,
        .DeviceScaleFactor = rdp_device_scale(scale),
    };
    /* Physical size in mm at 96 dpi scaled, as Windows expects. */
    layout.PhysicalWidth = (UINT32)(w * 25.4 / 96 * 100 / scale);
    layout.PhysicalHeight = (UINT32)(h * 25.4 / 96 * 100 / scale);
    freerdp_settings_set_uint32(st, FreeRDP_DesktopScaleFactor, scale);
    freerdp_settings_set_uint32(st, FreeRDP_DeviceScaleFactor, rdp_device_scale(scale));
    r->last_resize = now;
    vd_debug("rdp: asking for a %ux%u desktop at %u%%", w, h, scale);
    r->disp->SendMonitorLayout(r->disp, 1, &layout);
}

void rdp_display_request(Rdp *r, int w, int h, int scale_pct)
{
    r->resize_w = w;
    r->resize_h = h;
    r->resize_scale = scale_pct;
}

unsigned rdp_display_wait_ms(Rdp *r)
{
    return r->resize_w ? RESIZE_INTERVAL_MS : 1000;
}

void rdp_display_connected(Rdp *r, DispClientContext *disp)
{
    r->disp = disp;
    r->disp->custom = r;
    r->disp->DisplayControlCaps = disp_caps;
}

void rdp_display_disconnected(Rdp *r)
{
    r->disp = NULL;
    r->disp_ready = false;
}
