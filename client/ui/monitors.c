/* The host's monitors (monitors.h): RandR 1.5 monitors on X11, SDL's
 * displays elsewhere, the scale rule and --monitors. */
#include "ui/monitors.h"

#include "common/error.h"
#include "common/log.h"
#include "ui/sdl_util.h"

#include <SDL.h>
#include <X11/Xlib.h>
#include <X11/extensions/Xrandr.h>
#include <string.h>

/* RandR's list is also read this often: a monitor defined or deleted with
 * `xrandr --setmonitor` or `--delmonitor` changes no output and no screen
 * size, and X servers notify nothing for it. Wayland's outputs too
 * (poll_wayland). */
#define POLL_US (1000 * 1000)

struct Monitors {
    Display *dpy;     /* our own X connection, or NULL (SDL's displays) */
    int rr_event;     /* RandR's first event number */
    bool changed;
    gint64 polled_at;
    XRRMonitorInfo *last; /* the list read last (RandR's, freed with XRRFreeMonitors) */
    int n_last;
    bool wayland; /* SDL runs on Wayland: its outputs are followed too */
    WaylandOutput wl_last[RDP_MONITORS_MAX];
    int n_wl_last;
};

/* Whether the Wayland outputs differ from the ones read last. SDL 2.26
 * reports no display event when an output's scale or mode changes (its
 * event is the orientation's, sent only when that changed), so the
 * outputs are read again every POLL_US, as RandR's list is. */
static bool poll_wayland(Monitors *mon)
{
    WaylandOutput o[RDP_MONITORS_MAX];
    int n = wayland_list_outputs(o, RDP_MONITORS_MAX);
    bool same = n == mon->n_wl_last;
    for (int i = 0; same && i < n; i++) {
        const WaylandOutput *a = &o[i], *b = &mon->wl_last[i];
        same = a->x == b->x && a->y == b->y && a->px_w == b->px_w && a->px_h == b->px_h &&
               a->mm_w == b->mm_w && a->mm_h == b->mm_h && a->scale == b->scale;
    }
    memcpy(mon->wl_last, o, (size_t)n * sizeof(*o));
    mon->n_wl_last = n;
    return !same;
}

/* Whether RandR's monitor list differs from the one read last. */
static bool poll_randr(Monitors *mon)
{
    int n = 0;
    XRRMonitorInfo *info = XRRGetMonitors(mon->dpy, DefaultRootWindow(mon->dpy), True, &n);
    bool same = info && mon->last && n == mon->n_last;
    for (int i = 0; same && i < n; i++) {
        const XRRMonitorInfo *a = &info[i], *b = &mon->last[i];
        same = a->name == b->name && a->primary == b->primary && a->x == b->x && a->y == b->y &&
               a->width == b->width && a->height == b->height && a->mwidth == b->mwidth &&
               a->mheight == b->mheight;
    }
    if (mon->last)
        XRRFreeMonitors(mon->last);
    mon->last = info;
    mon->n_last = info ? n : 0;
    return !same;
}

Monitors *monitors_create(void)
{
    Monitors *mon = g_new0(Monitors, 1);
    const char *driver = SDL_GetCurrentVideoDriver();
    if (driver && !strcmp(driver, "wayland")) {
        mon->wayland = true;
        poll_wayland(mon);
        mon->polled_at = g_get_monotonic_time();
    }
    if (driver && strcmp(driver, "x11") != 0)
        return mon;
    mon->dpy = XOpenDisplay(NULL);
    int err, major = 0, minor = 0;
    if (mon->dpy && (!XRRQueryExtension(mon->dpy, &mon->rr_event, &err) ||
                     !XRRQueryVersion(mon->dpy, &major, &minor) || major * 100 + minor < 105)) {
        vd_debug("monitors: no RandR 1.5 on this X server; SDL's displays");
        XCloseDisplay(mon->dpy);
        mon->dpy = NULL;
    }
    if (mon->dpy) {
        /* Monitors set or deleted, outputs on or off, the screen resized. */
        XRRSelectInput(mon->dpy, DefaultRootWindow(mon->dpy),
                       RRScreenChangeNotifyMask | RROutputChangeNotifyMask |
                           RRCrtcChangeNotifyMask);
        XFlush(mon->dpy);
        poll_randr(mon);
        mon->polled_at = g_get_monotonic_time();
    }
    return mon;
}

void monitors_destroy(Monitors *mon)
{
    if (!mon)
        return;
    if (mon->last)
        XRRFreeMonitors(mon->last);
    if (mon->dpy)
        XCloseDisplay(mon->dpy);
    g_free(mon);
}

int monitors_scale_pct(int user_pct, int desktop_pct, int px_w, int mm_w)
{
    if (user_pct > 0)
        return CLAMP(user_pct, 100, 500);
    if (desktop_pct > 100)
        return MIN(desktop_pct, 500);
    if (px_w <= 0 || mm_w <= 0)
        return 100;
    double dpi = px_w * 25.4 / mm_w;
    int pct = (int)(dpi / 96 * 100 + 0.5) / 25 * 25;
    return CLAMP(pct, 100, 500);
}

static int list_randr(Monitors *mon, RdpMonitor *out)
{
    int n = 0;
    XRRMonitorInfo *info = XRRGetMonitors(mon->dpy, DefaultRootWindow(mon->dpy), True, &n);
    if (!info)
        return 0;
    int k = 0;
    for (int i = 0; i < n && k < RDP_MONITORS_MAX; i++) {
        if (info[i].width <= 0 || info[i].height <= 0)
            continue;
        out[k++] = (RdpMonitor){.x = info[i].x,
                                .y = info[i].y,
                                .w = info[i].width,
                                .h = info[i].height,
                                .mm_w = info[i].mwidth,
                                .mm_h = info[i].mheight,
                                .primary = info[i].primary};
    }
    XRRFreeMonitors(info);
    return k;
}

static int list_sdl(RdpMonitor *out)
{
    int n = MIN(SDL_GetNumVideoDisplays(), RDP_MONITORS_MAX), k = 0;
    for (int i = 0; i < n; i++) {
        SDL_Rect r;
        if (SDL_GetDisplayBounds(i, &r) != 0 || r.w <= 0 || r.h <= 0)
            continue;
        /* SDL's first display is the desktop's primary one. */
        out[k++] = (RdpMonitor){.x = r.x, .y = r.y, .w = r.w, .h = r.h, .primary = i == 0};
    }
    return k;
}

void monitors_from_outputs(RdpMonitor *m, int n, const WaylandOutput *o, int n_out,
                           int *own_pct)
{
    bool taken[RDP_MONITORS_MAX] = {0};
    n_out = MIN(n_out, RDP_MONITORS_MAX);
    for (int i = 0; i < n; i++) {
        int k = wayland_match_output(o, n_out, taken, m[i].x, m[i].y, m[i].w, m[i].h);
        own_pct[i] = 0;
        if (k < 0)
            continue;
        taken[k] = true;
        m[i].px_w = o[k].px_w;
        m[i].px_h = o[k].px_h;
        m[i].mm_w = o[k].mm_w;
        m[i].mm_h = o[k].mm_h;
        own_pct[i] = MAX(o[k].scale, 1) * 100;
    }
}

int monitors_list(Monitors *mon, RdpMonitor *out, int user_pct, int desktop_pct)
{
    int n = mon->dpy ? list_randr(mon, out) : 0;
    int own_pct[RDP_MONITORS_MAX] = {0};
    if (n == 0) {
        n = list_sdl(out);
        const char *driver = SDL_GetCurrentVideoDriver();
        if (n > 0 && driver && !strcmp(driver, "wayland")) {
            WaylandOutput o[RDP_MONITORS_MAX];
            int n_out = wayland_list_outputs(o, RDP_MONITORS_MAX);
            monitors_from_outputs(out, n, o, n_out, own_pct);
        }
    }
    if (n == 0) {
        out[0] = (RdpMonitor){.w = 1920, .h = 1080, .primary = true};
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        /* A Wayland output's own scale is the desktop's for it, 100 % too:
         * the density is guessed only where the desktop says nothing. */
        out[i].scale_pct = own_pct[i] ? monitors_scale_pct(user_pct, own_pct[i], 0, 0)
                                      : monitors_scale_pct(user_pct, desktop_pct, out[i].w,
                                                           out[i].mm_w);
        vd_debug("monitors: %d at %d,%d %dx%d (%dx%d px, %dx%d mm) %d%%%s%s", i + 1, out[i].x,
                 out[i].y, out[i].w, out[i].h, out[i].px_w ? out[i].px_w : out[i].w,
                 out[i].px_h ? out[i].px_h : out[i].h, out[i].mm_w, out[i].mm_h,
                 out[i].scale_pct, own_pct[i] ? ", its output's scale" : "",
                 out[i].primary ? ", primary" : "");
    }
    return n;
}

bool monitors_changed(Monitors *mon)
{
    if (mon->dpy) {
        while (XPending(mon->dpy)) {
            XEvent ev;
            XNextEvent(mon->dpy, &ev);
            XRRUpdateConfiguration(&ev);
            if (ev.type == mon->rr_event + RRScreenChangeNotify ||
                ev.type == mon->rr_event + RRNotify)
                mon->changed = true;
        }
        gint64 now = g_get_monotonic_time();
        if (now - mon->polled_at >= POLL_US) {
            mon->polled_at = now;
            mon->changed |= poll_randr(mon);
        }
    }
    if (mon->wayland) {
        gint64 now = g_get_monotonic_time();
        if (now - mon->polled_at >= POLL_US) {
            mon->polled_at = now;
            mon->changed |= poll_wayland(mon);
        }
    }
    bool c = mon->changed;
    mon->changed = false;
    return c;
}

void monitors_sdl_event(Monitors *mon)
{
    mon->changed = true;
}

bool monitors_parse_selection(const char *spec, guint32 *mask, GError **error)
{
    if (!g_strcmp0(spec, "all")) {
        *mask = G_MAXUINT32;
        return true;
    }
    *mask = 0;
    g_auto(GStrv) parts = g_strsplit(spec ? spec : "", ",", -1);
    for (int i = 0; !parts[0] || parts[i]; i++) {
        guint64 v = 0;
        if (!parts[i] || !g_ascii_string_to_unsigned(g_strstrip(parts[i]), 10, 1,
                                                     RDP_MONITORS_MAX, &v, NULL)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "--monitors %s: write all, or monitor numbers from 1 to %d separated by "
                        "commas (VMDESK_DEBUG=1 logs the monitors found)",
                        spec ? spec : "", RDP_MONITORS_MAX);
            return false;
        }
        if (*mask & (1u << (v - 1))) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "--monitors %s: monitor %u is named twice; name each monitor once",
                        spec, (unsigned)v);
            return false;
        }
        *mask |= 1u << (v - 1);
    }
    return true;
}

int monitors_select(RdpMonitor *m, int n, guint32 mask, GError **error)
{
    n = MIN(n, RDP_MONITORS_MAX);
    /* "all" sets every bit; a list only those it names. */
    if (mask != G_MAXUINT32 && mask >> n) {
        int missing = n;
        while (!(mask & (1u << missing)))
            missing++;
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "--monitors: there is no monitor %d; this desktop has %d (numbered from 1 to "
                    "%d in the order of xrandr --listmonitors)",
                    missing + 1, n, n);
        return -1;
    }
    RdpMonitor kept[RDP_MONITORS_MAX];
    int k = 0;
    bool primary = false;
    for (int i = 0; i < n; i++) {
        if (!(mask & (1u << i)))
            continue;
        kept[k] = m[i];
        primary |= kept[k].primary;
        k++;
    }
    if (k == 0)
        return n;
    if (!primary)
        kept[0].primary = true;
    memcpy(m, kept, (size_t)k * sizeof(RdpMonitor));
    return k;
}
