/* The monitor layout an RDP server gets (rdp_monitors.h): scales, the
 * normalised layout, and moving rectangles between the server's desktop and
 * the host's. No FreeRDP here (rdp_display.c sends it). */
#include "session/rdp/rdp_monitors.h"

#include <glib.h>
#include <limits.h>
#include <math.h>

unsigned rdp_desktop_scale(int pct)
{
    return (unsigned)CLAMP(pct > 0 ? pct : 100, 100, 500);
}

unsigned rdp_device_scale(unsigned pct)
{
    /* Nearest of 100, 140, 180: the midpoints are 120 and 160. */
    return pct < 120 ? 100 : pct < 160 ? 140 : 180;
}

/* How far apart two rectangles are along each axis (negative: they overlap
 * by that much). */
static int sep(int a, int aw, int b, int bw)
{
    return MAX(a - (b + bw), b - (a + aw));
}

static bool overlap(const RdpMonitor *a, const RdpMonitor *b)
{
    return a->rx < b->rx + b->rw && b->rx < a->rx + a->rw && a->ry < b->ry + b->rh &&
           b->ry < a->ry + a->rh;
}

static int primary_of(const RdpMonitor *m, int n)
{
    for (int i = 0; i < n; i++)
        if (m[i].primary)
            return i;
    for (int i = 0; i < n; i++)
        if (m[i].x <= 0 && m[i].y <= 0 && m[i].x + m[i].w > 0 && m[i].y + m[i].h > 0)
            return i;
    return 0;
}

/* Put @u against @q on the side where it is on the host. */
static void place_against(RdpMonitor *m, int n, const bool *placed, int ui, int qi)
{
    RdpMonitor *u = &m[ui];
    const RdpMonitor *q = &m[qi];
    int sx = sep(u->x, u->w, q->x, q->w), sy = sep(u->y, u->h, q->y, q->h);
    bool horizontal = sx >= sy;
    /* Doubled centres, compared: right/below or left/above. */
    bool after = horizontal ? 2 * u->x + u->w >= 2 * q->x + q->w
                            : 2 * u->y + u->h >= 2 * q->y + q->h;
    if (horizontal) {
        /* The offset along the shared edge, in the neighbour's pixels, kept
         * to at least one pixel of edge in common. */
        long off = q->h ? (long)(u->y - q->y) * q->rh / q->h : 0;
        u->ry = q->ry + (int)CLAMP(off, 1L - u->rh, (long)q->rh - 1);
        u->rx = after ? q->rx + q->rw : q->rx - u->rw;
    } else {
        long off = q->w ? (long)(u->x - q->x) * q->rw / q->w : 0;
        u->rx = q->rx + (int)CLAMP(off, 1L - u->rw, (long)q->rw - 1);
        u->ry = after ? q->ry + q->rh : q->ry - u->rh;
    }
    /* Out of any monitor it would cover, further the same way: it then
     * shares an edge with the last one it was pushed past. Each push moves
     * it strictly, past a monitor, so this ends. */
    for (bool moved = true; moved;) {
        moved = false;
        for (int i = 0; i < n; i++) {
            if (!placed[i] || i == ui || !overlap(u, &m[i]))
                continue;
            if (horizontal)
                u->rx = after ? m[i].rx + m[i].rw : m[i].rx - u->rw;
            else
                u->ry = after ? m[i].ry + m[i].rh : m[i].ry - u->rh;
            moved = true;
        }
    }
}

void rdp_monitors_layout(RdpMonitor *m, int n)
{
    n = CLAMP(n, 0, RDP_MONITORS_MAX);
    if (n == 0)
        return;
    for (int i = 0; i < n; i++) {
        RdpMonitor *o = &m[i];
        o->w = MAX(o->w, 1);
        o->h = MAX(o->h, 1);
        o->rw = CLAMP(o->px_w > 0 ? o->px_w : o->w, 200, 8192) & ~1;
        o->rh = CLAMP(o->px_h > 0 ? o->px_h : o->h, 200, 8192);
        o->desktop_scale = rdp_desktop_scale(o->scale_pct);
        o->device_scale = rdp_device_scale(o->desktop_scale);
        /* Windows expects a physical size; without the monitor's own, the
         * one that makes it 96 dpi at its scale. */
        double mm_w = o->mm_w > 0 ? o->mm_w : o->rw * 25.4 / 96 * 100 / o->desktop_scale;
        double mm_h = o->mm_h > 0 ? o->mm_h : o->rh * 25.4 / 96 * 100 / o->desktop_scale;
        o->phys_w = (unsigned)CLAMP(mm_w, 10, 10000);
        o->phys_h = (unsigned)CLAMP(mm_h, 10, 10000);
        o->rprimary = false;
    }
    bool placed[RDP_MONITORS_MAX] = {0};
    int p = primary_of(m, n);
    m[p].rx = m[p].ry = 0;
    m[p].rprimary = true;
    placed[p] = true;
    /* Nearest first (Prim's order over the host's distances): each monitor
     * goes against the placed one it was nearest to; between equally near
     * ones, the one it shares the longest edge with (not a corner). */
    for (int k = 1; k < n; k++) {
        int best_u = -1, best_q = -1, best_d = INT_MAX, best_e = INT_MAX;
        for (int u = 0; u < n; u++) {
            if (placed[u])
                continue;
            for (int q = 0; q < n; q++) {
                if (!placed[q])
                    continue;
                int sx = sep(m[u].x, m[u].w, m[q].x, m[q].w);
                int sy = sep(m[u].y, m[u].h, m[q].y, m[q].h);
                int d = MAX(sx, sy), e = MIN(sx, sy);
                if (d < best_d || (d == best_d && e < best_e)) {
                    best_d = d;
                    best_e = e;
                    best_u = u;
                    best_q = q;
                }
            }
        }
        place_against(m, n, placed, best_u, best_q);
        placed[best_u] = true;
    }
}

static long area_in(int x, int y, int w, int h, int mx, int my, int mw, int mh)
{
    /* In long: @x, @w and friends may come from the server. */
    long ow = MIN((long)x + w, (long)mx + mw) - MAX((long)x, (long)mx);
    long oh = MIN((long)y + h, (long)my + mh) - MAX((long)y, (long)my);
    return ow > 0 && oh > 0 ? ow * oh : 0;
}

/* In double: the square of a server-given distance does not fit a long. */
static double dist2(int x, int y, int w, int h, int mx, int my, int mw, int mh)
{
    double dx = ((double)2 * x + w) - ((double)2 * mx + mw);
    double dy = ((double)2 * y + h) - ((double)2 * my + mh);
    return dx * dx + dy * dy;
}

static int find(const RdpMonitor *m, int n, bool remote, int x, int y, int w, int h)
{
    int best = 0;
    long best_area = 0;
    double best_dist = HUGE_VAL;
    w = MAX(w, 1);
    h = MAX(h, 1);
    for (int i = 0; i < n; i++) {
        int mx = remote ? m[i].rx : m[i].x, my = remote ? m[i].ry : m[i].y;
        int mw = remote ? m[i].rw : m[i].w, mh = remote ? m[i].rh : m[i].h;
        long a = area_in(x, y, w, h, mx, my, mw, mh);
        double d = dist2(x, y, w, h, mx, my, mw, mh);
        if (a > best_area || (best_area == 0 && a == 0 && d < best_dist)) {
            best = i;
            best_area = a;
            best_dist = d;
        }
    }
    return best;
}

int rdp_monitors_find_remote(const RdpMonitor *m, int n, int x, int y, int w, int h)
{
    return find(m, n, true, x, y, w, h);
}

int rdp_monitors_find_host(const RdpMonitor *m, int n, int x, int y, int w, int h)
{
    return find(m, n, false, x, y, w, h);
}

/* @v from one monitor's span (@from, @from_len) to the other's. */
static int along(int v, int from, int from_len, int to, int to_len)
{
    long r = to + ((long)v - from) * to_len / MAX(from_len, 1);
    return (int)CLAMP(r, (long)INT_MIN / 2, (long)INT_MAX / 2);
}

void rdp_monitors_to_host(const RdpMonitor *m, int n, int *x, int *y, int *w, int *h)
{
    if (n <= 0)
        return;
    const RdpMonitor *o = &m[rdp_monitors_find_remote(m, n, *x, *y, *w, *h)];
    *x = along(*x, o->rx, o->rw, o->x, o->w);
    *y = along(*y, o->ry, o->rh, o->y, o->h);
    *w = (int)((long)*w * o->w / MAX(o->rw, 1));
    *h = (int)((long)*h * o->h / MAX(o->rh, 1));
}

void rdp_monitors_to_remote(const RdpMonitor *m, int n, int *x, int *y, int *w, int *h)
{
    if (n <= 0)
        return;
    const RdpMonitor *o = &m[rdp_monitors_find_host(m, n, *x, *y, *w, *h)];
    *x = along(*x, o->x, o->w, o->rx, o->rw);
    *y = along(*y, o->y, o->h, o->ry, o->rh);
    *w = (int)((long)*w * o->rw / MAX(o->w, 1));
    *h = (int)((long)*h * o->rh / MAX(o->h, 1));
}

void rdp_monitors_bounds(const RdpMonitor *m, int n, int *x, int *y, int *w, int *h)
{
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    for (int i = 0; i < n; i++) {
        x0 = MIN(x0, m[i].rx);
        y0 = MIN(y0, m[i].ry);
        x1 = MAX(x1, m[i].rx + m[i].rw);
        y1 = MAX(y1, m[i].ry + m[i].rh);
    }
    *x = x0;
    *y = y0;
    *w = x1 - x0;
    *h = y1 - y0;
}
