/* The compositor's globals and the video driver choice (wayland.h). */
#include "ui/wayland.h"

#include "common/error.h"
#include "common/log.h"

#include <SDL.h>
#include <string.h>
#include <wayland-client.h>

/* What the last wayland_select_video_driver found, for the window's
 * questions later on (main thread only). */
static WaylandCompositor probed;

static void output_geometry(void *data, struct wl_output *o, int32_t x, int32_t y, int32_t pw,
                            int32_t ph, int32_t subpixel, const char *make, const char *model,
                            int32_t transform)
{
}

static void output_mode(void *data, struct wl_output *o, uint32_t flags, int32_t w, int32_t h,
                        int32_t refresh)
{
}

static void output_done(void *data, struct wl_output *o)
{
}

static void output_scale(void *data, struct wl_output *o, int32_t factor)
{
    WaylandCompositor *c = data;
    if (factor > c->scale)
        c->scale = factor;
}

static const struct wl_output_listener output_listener = {
    .geometry = output_geometry,
    .mode = output_mode,
    .done = output_done,
    .scale = output_scale,
};

typedef struct {
    WaylandCompositor *c;
    GPtrArray *outputs; /* struct wl_output *, bound for their scale */
} Probe;

static void global(void *data, struct wl_registry *reg, uint32_t name, const char *iface,
                   uint32_t version)
{
    Probe *p = data;
    if (!strcmp(iface, "wl_seat")) {
        p->c->seat = true;
    } else if (!strcmp(iface, "xdg_wm_base")) {
        p->c->xdg_shell = true;
    } else if (!strcmp(iface, "zwp_keyboard_shortcuts_inhibit_manager_v1")) {
        p->c->shortcuts_inhibit = true;
    } else if (!strcmp(iface, "wl_data_device_manager")) {
        p->c->data_device = true;
    } else if (!strcmp(iface, "wl_output") && version >= 2) {
        struct wl_output *o = wl_registry_bind(reg, name, &wl_output_interface, 2);
        wl_output_add_listener(o, &output_listener, p->c);
        g_ptr_array_add(p->outputs, o);
    }
}

static void global_remove(void *data, struct wl_registry *reg, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = global,
    .global_remove = global_remove,
};

void wayland_probe(WaylandCompositor *out)
{
    memset(out, 0, sizeof(*out));
    out->scale = 1;
    struct wl_display *d = wl_display_connect(NULL);
    if (!d)
        return;
    Probe p = {.c = out,
               .outputs = g_ptr_array_new_with_free_func((GDestroyNotify)wl_output_destroy)};
    struct wl_registry *reg = wl_display_get_registry(d);
    wl_registry_add_listener(reg, &registry_listener, &p);
    /* The globals, then the outputs' events. */
    out->reached = wl_display_roundtrip(d) >= 0 && wl_display_roundtrip(d) >= 0;
    g_ptr_array_unref(p.outputs);
    wl_registry_destroy(reg);
    wl_display_disconnect(d);
}

static const char *compositor_name(void)
{
    const char *n = g_getenv("WAYLAND_DISPLAY");
    return n && *n ? n : "wayland-0";
}

/* --- the outputs, each with its own scale --- */

typedef struct {
    WaylandOutput o;
    int transform;
    bool mode; /* a current mode came */
} Output;

static void list_geometry(void *data, struct wl_output *wo, int32_t x, int32_t y, int32_t pw,
                          int32_t ph, int32_t subpixel, const char *make, const char *model,
                          int32_t transform)
{
    Output *out = data;
    out->o.x = x;
    out->o.y = y;
    /* From the compositor: sizes only taken when sane. */
    out->o.mm_w = pw > 0 && pw < 100000 ? pw : 0;
    out->o.mm_h = ph > 0 && ph < 100000 ? ph : 0;
    out->transform = transform;
}

static void list_mode(void *data, struct wl_output *wo, uint32_t flags, int32_t w, int32_t h,
                      int32_t refresh)
{
    Output *out = data;
    if (!(flags & WL_OUTPUT_MODE_CURRENT) || w <= 0 || h <= 0)
        return;
    out->o.px_w = MIN(w, 65536);
    out->o.px_h = MIN(h, 65536);
    out->mode = true;
}

static void list_scale(void *data, struct wl_output *wo, int32_t factor)
{
    Output *out = data;
    out->o.scale = CLAMP(factor, 1, 16);
}

static const struct wl_output_listener list_listener = {
    .geometry = list_geometry,
    .mode = list_mode,
    .done = output_done,
    .scale = list_scale,
};

typedef struct {
    struct wl_registry *reg;
    GPtrArray *proxies; /* struct wl_output * */
    Output *outputs;
    int max, n;
} Lister;

static void list_global(void *data, struct wl_registry *reg, uint32_t name, const char *iface,
                        uint32_t version)
{
    Lister *l = data;
    if (strcmp(iface, "wl_output") != 0 || version < 2 || l->n == l->max)
        return;
    Output *out = &l->outputs[l->n++];
    *out = (Output){.o.scale = 1};
    struct wl_output *o = wl_registry_bind(reg, name, &wl_output_interface, 2);
    wl_output_add_listener(o, &list_listener, out);
    g_ptr_array_add(l->proxies, o);
}

static const struct wl_registry_listener list_registry_listener = {
    .global = list_global,
    .global_remove = global_remove,
};

int wayland_list_outputs(WaylandOutput *out, int max)
{
    struct wl_display *d = max > 0 ? wl_display_connect(NULL) : NULL;
    if (!d)
        return 0;
    Lister l = {.proxies = g_ptr_array_new_with_free_func((GDestroyNotify)wl_output_destroy),
                .outputs = g_new0(Output, max),
                .max = max};
    l.reg = wl_display_get_registry(d);
    wl_registry_add_listener(l.reg, &list_registry_listener, &l);
    /* The globals, then the outputs' events. */
    bool ok = wl_display_roundtrip(d) >= 0 && wl_display_roundtrip(d) >= 0;
    int k = 0;
    for (int i = 0; ok && i < l.n; i++) {
        Output *o = &l.outputs[i];
        if (!o->mode)
            continue;
        if (o->transform & 1) { /* WL_OUTPUT_TRANSFORM_90, 270 and their flips */
            int t = o->o.px_w;
            o->o.px_w = o->o.px_h;
            o->o.px_h = t;
            t = o->o.mm_w;
            o->o.mm_w = o->o.mm_h;
            o->o.mm_h = t;
        }
        out[k++] = o->o;
    }
    g_ptr_array_unref(l.proxies);
    g_free(l.outputs);
    wl_registry_destroy(l.reg);
    wl_display_disconnect(d);
    return k;
}

/* How well @o fits the display @x,@y @w x @h: lower is better. */
static gint64 misfit(const WaylandOutput *o, int x, int y, int w, int h)
{
    int s = MAX(o->scale, 1);
    gint64 ow = o->px_w / s, oh = o->px_h / s;
    if (o->x == x && o->y == y)
        return ow == w && oh == h ? 0 : 1;
    gint64 iw = MIN((gint64)x + w, (gint64)o->x + ow) - MAX((gint64)x, (gint64)o->x);
    gint64 ih = MIN((gint64)y + h, (gint64)o->y + oh) - MAX((gint64)y, (gint64)o->y);
    /* Overlapping ones by their common area, the most first... */
    const gint64 apart = (gint64)1 << 50;
    if (iw > 0 && ih > 0)
        return apart - iw * ih;
    /* ... then the others by how far their corners are. */
    return apart + ABS((gint64)o->x - x) + ABS((gint64)o->y - y);
}

int wayland_match_output(const WaylandOutput *o, int n, const bool *taken, int x, int y, int w,
                         int h)
{
    int best = -1;
    gint64 best_fit = 0;
    for (int i = 0; i < n; i++) {
        if (taken && taken[i])
            continue;
        gint64 f = misfit(&o[i], x, y, w, h);
        if (best < 0 || f < best_fit) {
            best = i;
            best_fit = f;
        }
    }
    return best;
}

/* Why SDL cannot run on the compositor, or NULL when it can. */
static const char *unusable(const WaylandCompositor *c)
{
    if (!c->seat)
        return "offers no seat (no keyboard, no pointer), on which SDL 2.26 cannot start";
    if (!c->xdg_shell)
        return "offers no xdg_wm_base, so SDL 2.26 cannot show a window on it";
    return NULL;
}

const char *wayland_choose(const WaylandSituation *in, WaylandUse use, GError **error)
{
    const char *req = in->requested && *in->requested ? in->requested : NULL;
    bool asked_wayland = req && !g_ascii_strcasecmp(req, "wayland");
    if (req && !asked_wayland)
        return NULL; /* x11, offscreen, dummy...: the user's choice */
    if (!in->wl.reached) {
        if (asked_wayland)
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                        "SDL_VIDEODRIVER=wayland, but no Wayland compositor answers at "
                        "WAYLAND_DISPLAY=%s",
                        compositor_name());
        return NULL;
    }
    const char *why = unusable(&in->wl);
    if (why) {
        if (in->x_display) {
            vd_debug("the Wayland compositor %s %s; using X11 (XWayland)", compositor_name(), why);
            return "x11";
        }
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "cannot open a window: the Wayland compositor %s %s; run vmdesk with "
                    "XWayland (DISPLAY) or on a compositor with a seat",
                    compositor_name(), why);
        return NULL;
    }
    if (asked_wayland || use == WAYLAND_FOR_DESKTOP || !in->x_display)
        return "wayland";
    /* RemoteApp windows: XWayland places them where the server says. */
    return "x11";
}

bool wayland_select_video_driver(WaylandUse use, GError **error)
{
    WaylandSituation in = {
        .requested = g_getenv("SDL_VIDEODRIVER"),
        .x_display = g_getenv("DISPLAY") && *g_getenv("DISPLAY"),
    };
    /* No compositor is asked when the session has none. */
    bool wayland_session = g_getenv("WAYLAND_DISPLAY") ||
                           (in.requested && !g_ascii_strcasecmp(in.requested, "wayland"));
    if (wayland_session)
        wayland_probe(&in.wl);
    else
        in.wl.scale = 1;
    probed = in.wl;
    GError *err = NULL;
    const char *driver = wayland_choose(&in, use, &err);
    if (err) {
        g_propagate_error(error, err);
        return false;
    }
    if (driver) {
        vd_debug("video driver: %s", driver);
        SDL_SetHintWithPriority(SDL_HINT_VIDEODRIVER, driver, SDL_HINT_OVERRIDE);
    }
    return true;
}

bool wayland_has_shortcuts_inhibit(void)
{
    const char *d = SDL_GetCurrentVideoDriver();
    return !d || strcmp(d, "wayland") != 0 || probed.shortcuts_inhibit;
}
