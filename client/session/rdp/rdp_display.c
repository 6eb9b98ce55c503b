/* Display control in the RDP session (disp, MS-RDPEDISP): the window asks
 * for a desktop size and scale, and once the server has sent its display
 * control capabilities the latest request goes out, at most every
 * RESIZE_INTERVAL_MS. The server then resizes its desktop (rdp_picture.c
 * follows). Several monitors go as one layout (rdp_monitors.c makes it):
 * at connect in the client's core data (rdp_display_configure), later
 * through display control. Session thread, but for rdp_session_set_monitors
 * (main thread). */
#include "session/rdp/rdp_session_priv.h"

#include "common/log.h"

#include <string.h>

/* Resizes are sent at most this often; the last size wins. */
#define RESIZE_INTERVAL_MS 250

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

static void put_monitor(DISPLAY_CONTROL_MONITOR_LAYOUT *l, const RdpMonitor *m)
{
    *l = (DISPLAY_CONTROL_MONITOR_LAYOUT){
        .Flags = m->rprimary ? DISPLAY_CONTROL_MONITOR_PRIMARY : 0,
        .Left = m->rx,
        .Top = m->ry,
        .Width = (UINT32)m->rw,
        .Height = (UINT32)m->rh,
        .PhysicalWidth = m->phys_w,
        .PhysicalHeight = m->phys_h,
        .Orientation = ORIENTATION_LANDSCAPE,
        .DesktopScaleFactor = m->desktop_scale,
        .DeviceScaleFactor = m->device_scale,
    };
}

/* The pending monitor layout, whole. */
static void send_monitors(Rdp *r)
{
    DISPLAY_CONTROL_MONITOR_LAYOUT layout[RDP_MONITORS_MAX];
    int n = r->n_monitors_pending;
    for (int i = 0; i < n; i++) {
        put_monitor(&layout[i], &r->monitors_pending[i]);
        vd_debug("rdp: monitor %d at %d,%d %dx%d, %u%% (device %u%%)%s", i, layout[i].Left,
                 layout[i].Top, layout[i].Width, layout[i].Height, layout[i].DesktopScaleFactor,
                 layout[i].DeviceScaleFactor, layout[i].Flags ? ", primary" : "");
    }
    r->n_monitors_pending = 0;
    memcpy(r->monitors, r->monitors_pending, (size_t)n * sizeof(RdpMonitor));
    r->n_monitors = n;
    r->disp->SendMonitorLayout(r->disp, (UINT32)n, layout);
    if (r->rail_started)
        rdp_rail_work_areas(r, r->monitors, n);
}

void rdp_display_send(Rdp *r)
{
    if ((!r->resize_w && !r->n_monitors_pending) || !r->disp || !r->disp_ready)
        return;
    gint64 now = g_get_monotonic_time();
    if (now - r->last_resize < RESIZE_INTERVAL_MS * 1000)
        return;
    if (r->n_monitors_pending) {
        r->resize_w = r->resize_h = 0;
        r->last_resize = now;
        send_monitors(r);
        return;
    }
    rdpSettings *st = r->ctx->settings;
    /* Even widths, within what the protocol allows. */
    UINT32 w = (UINT32)CLAMP(r->resize_w, 200, 8192) & ~1u;
    UINT32 h = (UINT32)CLAMP(r->resize_h, 200, 8192);
    unsigned scale = rdp_desktop_scale(r->resize_scale);
    r->resize_w = r->resize_h = 0;
    if (w == freerdp_settings_get_uint32(st, FreeRDP_DesktopWidth) &&
        h == freerdp_settings_get_uint32(st, FreeRDP_DesktopHeight) &&
        scale == freerdp_settings_get_uint32(st, FreeRDP_DesktopScaleFactor))
        return;
    RdpMonitor one = {.w = (int)w, .h = (int)h, .scale_pct = (int)scale, .primary = true};
    rdp_monitors_layout(&one, 1);
    DISPLAY_CONTROL_MONITOR_LAYOUT layout;
    put_monitor(&layout, &one);
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

void rdp_display_monitors(Rdp *r, GBytes *monitors)
{
    gsize len = 0;
    const RdpMonitor *m = g_bytes_get_data(monitors, &len);
    int n = (int)MIN(len / sizeof(RdpMonitor), RDP_MONITORS_MAX);
    if (n > 0)
        memcpy(r->monitors_pending, m, (size_t)n * sizeof(RdpMonitor));
    r->n_monitors_pending = n;
}

void rdp_session_set_monitors(Session *s, const RdpMonitor *m, int n)
{
    n = CLAMP(n, 0, RDP_MONITORS_MAX);
    RdpMonitor copy[RDP_MONITORS_MAX];
    if (n > 0)
        memcpy(copy, m, (size_t)n * sizeof(RdpMonitor));
    rdp_monitors_layout(copy, n);
    session_input_push(s, &(SessionInput){.type = RDP_INPUT_MONITORS,
                                          .bytes = g_bytes_new(copy, (gsize)n * sizeof(RdpMonitor))});
}

void rdp_display_configure(Rdp *r, rdpSettings *st)
{
    const RdpTarget *t = &r->target;
    if (t->n_monitors < 1)
        return;
    RdpMonitor m[RDP_MONITORS_MAX];
    int n = MIN(t->n_monitors, RDP_MONITORS_MAX);
    memcpy(m, t->monitors, (size_t)n * sizeof(RdpMonitor));
    rdp_monitors_layout(m, n);
    memcpy(r->monitors, m, (size_t)n * sizeof(RdpMonitor));
    r->n_monitors = n;
    int bx, by, bw, bh;
    rdp_monitors_bounds(m, n, &bx, &by, &bw, &bh);
    /* The desktop is the layout's bounding box; each monitor keeps its own
     * scale (TS_UD_CS_MONITOR_EX), the core data gets the primary's. */
    freerdp_settings_set_uint32(st, FreeRDP_DesktopWidth, (UINT32)bw);
    freerdp_settings_set_uint32(st, FreeRDP_DesktopHeight, (UINT32)bh);
    for (int i = 0; i < n; i++) {
        if (!m[i].rprimary)
            continue;
        freerdp_settings_set_uint32(st, FreeRDP_DesktopScaleFactor, m[i].desktop_scale);
        freerdp_settings_set_uint32(st, FreeRDP_DeviceScaleFactor, m[i].device_scale);
    }
    if (n < 2)
        return;
    freerdp_settings_set_bool(st, FreeRDP_UseMultimon, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_SupportMonitorLayoutPdu, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_HasMonitorAttributes, TRUE);
    if (!freerdp_settings_set_pointer_len(st, FreeRDP_MonitorDefArray, NULL, (size_t)n))
        return;
    for (int i = 0; i < n; i++) {
        rdpMonitor *d = freerdp_settings_get_pointer_array_writable(st, FreeRDP_MonitorDefArray,
                                                                   (size_t)i);
        *d = (rdpMonitor){
            .x = m[i].rx,
            .y = m[i].ry,
            .width = m[i].rw,
            .height = m[i].rh,
            .is_primary = m[i].rprimary,
            .orig_screen = (UINT32)i,
            .attributes = {.physicalWidth = m[i].phys_w,
                           .physicalHeight = m[i].phys_h,
                           .orientation = ORIENTATION_LANDSCAPE,
                           .desktopScaleFactor = m[i].desktop_scale,
                           .deviceScaleFactor = m[i].device_scale},
        };
        vd_debug("rdp: monitor %d at %d,%d %dx%d, %u%% (device %u%%)%s", i, d->x, d->y, d->width,
                 d->height, m[i].desktop_scale, m[i].device_scale, d->is_primary ? ", primary" : "");
    }
    freerdp_settings_set_uint32(st, FreeRDP_MonitorCount, (UINT32)n);
}

unsigned rdp_display_wait_ms(Rdp *r)
{
    return r->resize_w || r->n_monitors_pending ? RESIZE_INTERVAL_MS : 1000;
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
