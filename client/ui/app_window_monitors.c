/* RemoteApp across the host's monitors (app_window_priv.h): the server gets
 * every monitor as its own (its work areas, its scale), windows are placed
 * through the layout so each stays on its monitor, and a monitor added or
 * removed while connected sends the new layout. */
#include "common/log.h"
#include "session/rdp/rdp_session.h"
#include "ui/app_window_priv.h"
#include "ui/sdl_util.h"

#include <stdio.h>
#include <string.h>

static int desktop_scale(App *a)
{
    return a->status_win ? sdl_util_scale_pct(a->status_win, a->status_ren) : 100;
}

/* Lists and lays out the host's monitors into @m: how many. */
static int current(App *a, RdpMonitor *m)
{
    int n = monitors_list(a->monitors, m, a->opts->rdp->scale_pct, desktop_scale(a));
    rdp_monitors_layout(m, n);
    return n;
}

static void take(App *a, const RdpMonitor *m, int n)
{
    memcpy(a->mons, m, (size_t)n * sizeof(RdpMonitor));
    a->n_mons = n;
    int w, h;
    rdp_monitors_bounds(m, n, &a->fb_x, &a->fb_y, &w, &h);
}

/* Field by field: the structs' padding is not ours to compare. */
static bool same(const RdpMonitor *m, int n, const RdpMonitor *k, int nk)
{
    if (n != nk)
        return false;
    for (int i = 0; i < n; i++)
        if (m[i].x != k[i].x || m[i].y != k[i].y || m[i].w != k[i].w || m[i].h != k[i].h ||
            m[i].rx != k[i].rx || m[i].ry != k[i].ry || m[i].rw != k[i].rw ||
            m[i].rh != k[i].rh || m[i].desktop_scale != k[i].desktop_scale ||
            m[i].phys_w != k[i].phys_w || m[i].phys_h != k[i].phys_h ||
            m[i].rprimary != k[i].rprimary)
            return false;
    return true;
}

void app_window_monitors_init(App *a)
{
    if (!a->monitors)
        a->monitors = monitors_create();
    RdpMonitor m[RDP_MONITORS_MAX];
    take(a, m, current(a, m));
}

void app_window_monitors_step(App *a)
{
    if (!a->monitors || !monitors_changed(a->monitors))
        return;
    RdpMonitor m[RDP_MONITORS_MAX];
    int n = current(a, m);
    if (same(m, n, a->mons, a->n_mons))
        return;
    printf("%s: the host's monitors changed: %d now\n", a->opts->title, n);
    fflush(stdout);
    take(a, m, n);
    if (a->session && a->connected)
        rdp_session_set_monitors(a->session, m, n);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, a->windows);
    while (g_hash_table_iter_next(&it, NULL, &v))
        app_window_win_place(v);
}

SDL_Rect app_window_to_host(const App *a, SDL_Rect r)
{
    rdp_monitors_to_host(a->mons, a->n_mons, &r.x, &r.y, &r.w, &r.h);
    return r;
}

SDL_Rect app_window_to_remote(const App *a, SDL_Rect r)
{
    rdp_monitors_to_remote(a->mons, a->n_mons, &r.x, &r.y, &r.w, &r.h);
    return r;
}
