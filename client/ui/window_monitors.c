/* The desktop window across several monitors (--monitors): a borderless
 * window over the chosen host monitors, the RDP session given them as its
 * monitor layout (session/rdp/rdp_monitors.h), and each monitor's part of
 * the server's desktop drawn on that monitor, so gaps and overlaps the
 * layout closed on the server's side stay where they are here. Until the
 * RDP picture has the layout's size (VNC, or RDP before it took it), the
 * picture is fitted to the window as usual. On X11 the window is shaped
 * to the chosen monitors: one it spans but was not chosen (the middle of
 * --monitors 1,3) stays the desktop's, for what it shows and for the
 * pointer. */
#include "common/log.h"
#include "ui/monitors.h"
#include "ui/sdl_util.h"
#include "ui/window_priv.h"

#include <SDL_syswm.h>
#include <X11/Xlib.h>
#include <X11/extensions/shape.h>

bool window_monitors_init(Win *w, SDL_Rect *bounds, GError **error)
{
    w->n_mons = 0;
    if (!w->opts->monitors)
        return true;
    Monitors *mon = monitors_create();
    int n = monitors_list(mon, w->mons, w->opts->rdp_scale_pct, 0);
    monitors_destroy(mon);
    n = monitors_select(w->mons, n, w->opts->monitors, error);
    if (n < 0)
        return false;
    rdp_monitors_layout(w->mons, n);
    w->n_mons = n;
    *bounds = (SDL_Rect){w->mons[0].x, w->mons[0].y, w->mons[0].w, w->mons[0].h};
    for (int i = 1; i < n; i++)
        SDL_UnionRect(bounds, &(SDL_Rect){w->mons[i].x, w->mons[i].y, w->mons[i].w, w->mons[i].h},
                      bounds);
    w->mon_origin_x = bounds->x;
    w->mon_origin_y = bounds->y;
    vd_debug("window: over %d monitor(s), %d,%d %dx%d", n, bounds->x, bounds->y, bounds->w,
             bounds->h);
    return true;
}

void window_monitors_shape(Win *w)
{
    if (w->n_mons < 2)
        return;
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    int event, error;
    if (!SDL_GetWindowWMInfo(w->win, &info) || info.subsystem != SDL_SYSWM_X11 ||
        !XShapeQueryExtension(info.info.x11.display, &event, &error))
        return;
    XRectangle r[RDP_MONITORS_MAX];
    for (int i = 0; i < w->n_mons; i++)
        r[i] = (XRectangle){(short)(w->mons[i].x - w->mon_origin_x),
                            (short)(w->mons[i].y - w->mon_origin_y), (unsigned short)w->mons[i].w,
                            (unsigned short)w->mons[i].h};
    /* What it shows, and where it takes the pointer. */
    XShapeCombineRectangles(info.info.x11.display, info.info.x11.window, ShapeBounding, 0, 0, r,
                            w->n_mons, ShapeSet, Unsorted);
    XShapeCombineRectangles(info.info.x11.display, info.info.x11.window, ShapeInput, 0, 0, r,
                            w->n_mons, ShapeSet, Unsorted);
    XFlush(info.info.x11.display);
}

/* Whether the picture is the server's desktop laid out as w->mons. */
static bool laid_out(Win *w, int *fx, int *fy)
{
    if (!w->n_mons || !w->tex)
        return false;
    int bw, bh;
    rdp_monitors_bounds(w->mons, w->n_mons, fx, fy, &bw, &bh);
    return bw == w->tex_w && bh == w->tex_h;
}

/* Renderer pixels per window unit. */
static void ratio(Win *w, double *rx, double *ry)
{
    int ww, wh, ow, oh;
    SDL_GetWindowSize(w->win, &ww, &wh);
    SDL_GetRendererOutputSize(w->ren, &ow, &oh);
    *rx = ww ? (double)ow / ww : 1;
    *ry = wh ? (double)oh / wh : 1;
}

bool window_monitors_render(Win *w)
{
    int fx, fy;
    if (!laid_out(w, &fx, &fy))
        return false;
    double rx, ry;
    ratio(w, &rx, &ry);
    for (int i = 0; i < w->n_mons; i++) {
        const RdpMonitor *m = &w->mons[i];
        SDL_Rect src = {m->rx - fx, m->ry - fy, m->rw, m->rh};
        SDL_Rect dst = {(int)((m->x - w->mon_origin_x) * rx), (int)((m->y - w->mon_origin_y) * ry),
                        (int)(m->w * rx), (int)(m->h * ry)};
        SDL_RenderCopy(w->ren, w->tex, &src, &dst);
    }
    return true;
}

bool window_monitors_point(Win *w, int wx, int wy, int *x, int *y)
{
    int fx, fy;
    if (!laid_out(w, &fx, &fy))
        return false;
    int hx = wx + w->mon_origin_x, hy = wy + w->mon_origin_y, one = 1;
    rdp_monitors_to_remote(w->mons, w->n_mons, &hx, &hy, &one, &one);
    *x = CLAMP(hx - fx, 0, w->tex_w - 1);
    *y = CLAMP(hy - fy, 0, w->tex_h - 1);
    return true;
}
