#include "ui/window.h"

#include "common/error.h"
#include "common/log.h"
#include "common/size.h"
#include "guest/rdp_service.h"
#include "session/rdp/rdp_probe.h"
#include "storage/vm_overlay.h"
#include "ui/keymap.h"
#include "ui/sdl_util.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

#include <SDL.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define RECONNECT_DELAY_MS 1000
#define STATE_POLL_MS 500
#define PROBE_INTERVAL_MS 300
#define PROBE_TIMEOUT_MS 1000
/* After RDP failed or dropped: probe again after this long. */
#define PROBE_BACKOFF_MS 3000
/* The guest agent is asked less often: it runs a program in the guest. */
#define AGENT_INTERVAL_MS 3000
/* When the RDP picture replaces VNC: once it is complete, the server has
 * said the user's session runs (its logon notification; before it, the
 * picture is the server's login or progress screen), it is not all black
 * (an X session before its window manager paints) and it has been still
 * for SETTLE_MS. Servers that never send the notification are shown
 * NO_LOGON_MS after their first complete picture; nothing waits longer
 * than MAX_WAIT_MS after it. */
#define SETTLE_MS 300
#define CLIPBOARD_POLL_MS 1500
#define NO_LOGON_MS 5000
#define MAX_WAIT_MS 15000

typedef struct {
    const WindowOptions *opts;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int tex_w, tex_h;
    Uint32 wake_event;
    Session *session;        /* the one on screen */
    Session *pending;        /* RDP connecting behind VNC (auto mode) */
    bool connected;          /* the current session got CONNECTED */
    bool ever_connected;
    bool quit;
    bool redraw;
    char *status;            /* shown in the title: "connection lost, reconnecting" */
    bool status_stays;       /* why RDP went away: kept until RDP is back */
    Uint32 reconnect_at;     /* ticks; 0: none pending */
    Uint32 close_at;         /* ticks; 0: none pending */
    Uint32 next_state_poll;
    char *vm_state;
    SDL_Rect dst;            /* where the desktop is drawn, in renderer pixels */
    unsigned buttons;
    bool grabbed;
    GError *fatal;
    SDL_Cursor *cursor;      /* the server's pointer shape, or an invisible one */
    SessionEvent *pending_cursor; /* the pending session's last pointer shape */
    /* The host clipboard text last given to @clip_session. SDL 2.26 on X11
     * hears of other programs' copies only when it owned the clipboard, so
     * it is also looked at on focus and every CLIPBOARD_POLL_MS while the
     * window has the focus. */
    char *clip_offered;
    Session *clip_session;
    Uint32 next_clip_poll;
    /* The readiness probe (auto mode): a thread that asks the RDP port every
     * PROBE_INTERVAL_MS while probing is on, and wakes us when it answers. */
    GThread *probe_thread;
    gint probe_on;           /* atomic: probe now */
    gint probe_ready;        /* atomic: it answered */
    gint probe_quit;         /* atomic */
    gint agent_state;        /* atomic RdpServiceState the agent last told */
    RdpServiceState agent_shown;
    Uint32 probe_resume_at;  /* ticks; 0: not waiting to resume */
    gint64 rdp_ready_at;     /* monotonic us when the probe answered */
    bool pending_logon;      /* the pending session's server sent its logon notification */
    gint64 pending_complete_at; /* monotonic us of its first complete picture; 0: none */
} Win;

bool window_scale_parse(const char *s, WindowScale *out, GError **error)
{
    static const char *const names[] = {"auto", "fit", "1", "2"};
    for (int i = 0; i < 4; i++) {
        if (!g_ascii_strcasecmp(s, names[i])) {
            *out = (WindowScale)i;
            return true;
        }
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "--scale %s: use auto, fit, 1 or 2", s);
    return false;
}

/* Runs on the session thread: wake the main loop (SDL_PushEvent is thread-safe). */
static void notify(void *data)
{
    Win *w = data;
    SDL_Event ev = {.type = w->wake_event};
    SDL_PushEvent(&ev);
}

bool window_protocol_parse(const char *s, WindowProtocol *out, GError **error)
{
    static const char *const names[] = {"auto", "vnc", "rdp"};
    for (int i = 0; i < 3; i++) {
        if (!g_ascii_strcasecmp(s, names[i])) {
            *out = (WindowProtocol)i;
            return true;
        }
    }
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "--protocol %s: use auto, vnc or rdp", s);
    return false;
}

static bool is_rdp(Session *s)
{
    return s && !strcmp(s->impl->protocol, "rdp");
}

static void update_title(Win *w)
{
    const char *proto = !w->connected ? NULL : is_rdp(w->session) ? "RDP" : "VNC";
    g_autofree char *t = g_strdup_printf(
        "%s%s%s%s%s%s%s — vmdesk", w->opts->title, w->vm_state ? " — " : "",
        w->vm_state ? w->vm_state : "", proto ? " — " : "", proto ? proto : "",
        w->status ? " — " : "", w->status ? w->status : "");
    SDL_SetWindowTitle(w->win, t);
}

static void set_status(Win *w, const char *status)
{
    g_free(w->status);
    w->status = g_strdup(status);
    update_title(w);
}

/* The RDP desktop scale: the user's choice, else the display's. */
static int display_scale_pct(Win *w)
{
    return w->opts->rdp_scale_pct ? w->opts->rdp_scale_pct : sdl_util_scale_pct(w->win, w->ren);
}

static Session *new_rdp_session(Win *w)
{
    RdpTarget t = *w->opts->rdp;
    SDL_GetRendererOutputSize(w->ren, &t.width, &t.height);
    t.scale_pct = display_scale_pct(w);
    t.auto_reconnect = w->opts->protocol != WINDOW_PROTOCOL_AUTO;
    return rdp_session_create(&t, notify, w);
}

static bool start_session(Win *w, bool rdp, GError **error)
{
    w->session = rdp ? new_rdp_session(w) : vnc_session_create(w->opts->vnc, notify, w);
    w->connected = false;
    w->clip_session = NULL; /* a new session gets the clipboard anew */
    return session_connect(w->session, error);
}

static void probe_set(Win *w, bool on)
{
    if (w->probe_thread)
        g_atomic_int_set(&w->probe_on, on);
}

/* The probe thread: asks for an X.224 connection confirm on the RDP port
 * every PROBE_INTERVAL_MS while probing is on (a TCP connect alone proves
 * nothing under user networking). */
static gpointer probe_main(gpointer data)
{
    Win *w = data;
    const RdpTarget *t = w->opts->rdp;
    gint64 next_agent = 0;
    while (!g_atomic_int_get(&w->probe_quit)) {
        if (g_atomic_int_get(&w->probe_on) && w->opts->vm_name &&
            g_get_monotonic_time() >= next_agent) {
            /* A second opinion for the title: is the service up in the guest? */
            RdpServiceInfo si = {0};
            RdpServiceState st = rdp_service_running(w->opts->vm_name, 1000, &si);
            vd_debug("guest agent: %s", si.detail ? si.detail : "");
            rdp_service_info_clear(&si);
            if (g_atomic_int_get(&w->agent_state) != (gint)st) {
                g_atomic_int_set(&w->agent_state, (gint)st);
                notify(w);
            }
            next_agent = g_get_monotonic_time() + AGENT_INTERVAL_MS * 1000LL;
        }
        if (g_atomic_int_get(&w->probe_on)) {
            RdpProbeInfo info = {0};
            RdpProbeResult r = rdp_probe(t->host, t->port, RDP_PROBE_DEFAULT_PROTOCOLS,
                                         PROBE_TIMEOUT_MS, &info, NULL);
            vd_debug("rdp probe %s:%u: %s (%s)", t->host, t->port,
                     rdp_probe_result_to_string(r), info.detail ? info.detail : "");
            rdp_probe_info_clear(&info);
            if (r == RDP_PROBE_READY && g_atomic_int_compare_and_exchange(&w->probe_on, 1, 0)) {
                g_atomic_int_set(&w->probe_ready, 1);
                notify(w);
            }
        }
        g_usleep(PROBE_INTERVAL_MS * 1000);
    }
    return NULL;
}

/* Where the desktop goes in the window: aspect kept; integer factors when
 * they fit (crisp on HiDPI), else a smooth fit. */
static void layout(Win *w)
{
    int ow, oh;
    SDL_GetRendererOutputSize(w->ren, &ow, &oh);
    if (!w->tex_w || !w->tex_h) {
        w->dst = (SDL_Rect){0, 0, ow, oh};
        return;
    }
    double s;
    switch (w->opts->scale) {
    case WINDOW_SCALE_1:
        s = 1;
        break;
    case WINDOW_SCALE_2:
        s = 2;
        break;
    case WINDOW_SCALE_FIT:
        s = MIN((double)ow / w->tex_w, (double)oh / w->tex_h);
        break;
    case WINDOW_SCALE_AUTO:
    default:
        s = MIN((double)ow / w->tex_w, (double)oh / w->tex_h);
        if (s >= 1)
            s = (int)s; /* whole pixels when the window allows it */
        break;
    }
    w->dst.w = (int)(w->tex_w * s + 0.5);
    w->dst.h = (int)(w->tex_h * s + 0.5);
    w->dst.x = (ow - w->dst.w) / 2;
    w->dst.y = (oh - w->dst.h) / 2;
    bool integer = s == (int)s;
    SDL_SetTextureScaleMode(w->tex, integer ? SDL_ScaleModeNearest : SDL_ScaleModeLinear);
}

static void fit_window_to(Win *w, int fw, int fh)
{
    if (SDL_GetWindowFlags(w->win) & (SDL_WINDOW_FULLSCREEN | SDL_WINDOW_MAXIMIZED))
        return;
    /* Renderer pixels per window unit (2 on a HiDPI display). */
    int ww, wh, ow, oh;
    SDL_GetWindowSize(w->win, &ww, &wh);
    SDL_GetRendererOutputSize(w->ren, &ow, &oh);
    double dpi = ww ? (double)ow / ww : 1;
    int factor = w->opts->scale == WINDOW_SCALE_2 ? 2 : 1;
    SDL_Rect usable;
    int disp = SDL_GetWindowDisplayIndex(w->win);
    if (SDL_GetDisplayUsableBounds(disp < 0 ? 0 : disp, &usable) != 0)
        usable = (SDL_Rect){0, 0, 1920, 1080};
    int want_w = (int)(fw * factor / dpi), want_h = (int)(fh * factor / dpi);
    if (want_w > usable.w || want_h > usable.h) {
        double s = MIN((double)usable.w * 0.95 / want_w, (double)usable.h * 0.9 / want_h);
        want_w = (int)(want_w * s);
        want_h = (int)(want_h * s);
    }
    SDL_SetWindowSize(w->win, want_w, want_h);
}

static void make_texture(Win *w, int fw, int fh)
{
    if (w->tex)
        SDL_DestroyTexture(w->tex);
    w->tex = SDL_CreateTexture(w->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, fw, fh);
    w->tex_w = fw;
    w->tex_h = fh;
    /* Everything is new: upload the whole picture. */
    g_mutex_lock(&w->session->fb.lock);
    if (w->session->fb.width == fw && w->session->fb.height == fh)
        SDL_UpdateTexture(w->tex, NULL, w->session->fb.pixels, w->session->fb.stride);
    g_mutex_unlock(&w->session->fb.lock);
    fit_window_to(w, fw, fh);
    layout(w);
    w->redraw = true;
}

static void take_frame(Win *w)
{
    SessionFramebuffer *fb = &w->session->fb;
    int x, y, rw, rh;
    g_mutex_lock(&fb->lock);
    if (w->tex && fb->width == w->tex_w && fb->height == w->tex_h &&
        session_take_dirty(w->session, &x, &y, &rw, &rh)) {
        SDL_Rect r = {x, y, rw, rh};
        /* Only the dirty rectangle travels to the texture. */
        SDL_UpdateTexture(w->tex, &r, (const uint8_t *)fb->pixels + (size_t)y * fb->stride + x * 4,
                          fb->stride);
        w->redraw = true;
    } else {
        session_take_dirty(w->session, &x, &y, &rw, &rh);
    }
    g_mutex_unlock(&fb->lock);
}

/* One pointer on screen: the guest's shape when the server sends one,
 * else none of ours (a guest that draws its pointer into the picture). */
static void set_cursor(Win *w, uint32_t *argb, int cw, int ch, int hx, int hy)
{
    SDL_Cursor *c = sdl_util_cursor(argb, cw, ch, hx, hy);
    if (!c)
        return;
    SDL_SetCursor(c);
    if (w->cursor)
        SDL_FreeCursor(w->cursor);
    w->cursor = c;
}

static void render(Win *w)
{
    SDL_SetRenderDrawColor(w->ren, 0, 0, 0, 255);
    SDL_RenderClear(w->ren);
    if (w->tex) {
        /* A lost connection dims the last picture until it is back. */
        Uint8 c = w->connected ? 255 : 110;
        SDL_SetTextureColorMod(w->tex, c, c, c);
        SDL_RenderCopy(w->ren, w->tex, NULL, &w->dst);
    }
    SDL_RenderPresent(w->ren);
    w->redraw = false;
}

static void offer_clipboard(Win *w);

/* RDP on screen failed or dropped in auto mode: VNC again, and probe anew. */
static void fall_back_to_vnc(Win *w, const char *why)
{
    g_autofree char *msg = g_strdup_printf("RDP %s — showing VNC", why);
    vd_warn("%s", msg);
    set_status(w, msg);
    w->status_stays = true;
    g_autoptr(GError) err = NULL;
    if (!w->session && !start_session(w, false, &err)) {
        vd_warn("%s", err->message);
        w->reconnect_at = SDL_GetTicks() + RECONNECT_DELAY_MS;
    }
    w->probe_resume_at = SDL_GetTicks() + PROBE_BACKOFF_MS;
}

/* The pending RDP session has a complete picture: show it instead of VNC.
 * The texture is filled before anything is presented: no black frame. */
static void swap_to_pending(Win *w)
{
    Session *old = w->session;
    w->session = g_steal_pointer(&w->pending);
    w->clip_session = NULL;
    w->pending_logon = false;
    w->pending_complete_at = 0;
    w->connected = true;
    w->ever_connected = true;
    int fw, fh;
    g_mutex_lock(&w->session->fb.lock);
    fw = w->session->fb.width;
    fh = w->session->fb.height;
    g_mutex_unlock(&w->session->fb.lock);
    make_texture(w, fw, fh);
    render(w);
    if (w->pending_cursor) {
        SessionEvent *c = w->pending_cursor;
        set_cursor(w, c->pixels, c->w, c->h, c->x, c->y);
        g_clear_pointer(&w->pending_cursor, session_event_free);
    }
    gint64 ms = (g_get_monotonic_time() - w->rdp_ready_at) / 1000;
    printf("%s: showing RDP (%dx%d), %" G_GINT64_FORMAT " ms after the RDP service answered\n",
           w->opts->title, fw, fh, ms);
    fflush(stdout);
    w->status_stays = false;
    set_status(w, NULL);
    offer_clipboard(w);
    session_destroy_later(old); /* its thread ends and frees it: nothing waits */
    w->reconnect_at = 0;
}

/* Whether the pending RDP picture should replace VNC now (see SETTLE_MS). */
static bool pending_ready(Win *w)
{
    if (!w->pending || !w->pending_complete_at)
        return false;
    gint64 now = g_get_monotonic_time();
    gint64 waited = (now - w->pending_complete_at) / 1000;
    if (waited >= MAX_WAIT_MS)
        return true;
    /* A session whose shell is one program (vmdesk app on xrdp) has no
     * login screen to skip: its first still, not black picture is it. */
    if (!w->pending_logon && waited < NO_LOGON_MS && !w->opts->rdp->shell)
        return false;
    SessionFramebuffer *fb = &w->pending->fb;
    g_mutex_lock(&fb->lock);
    bool ready = (now - fb->last_damage) / 1000 >= SETTLE_MS && !session_fb_all_black(fb);
    g_mutex_unlock(&fb->lock);
    return ready;
}

static void handle_pending_events(Win *w)
{
    SessionEvent *ev;
    while (w->pending && (ev = session_next_event(w->pending))) {
        switch (ev->type) {
        case SESSION_EV_FRAME: {
            /* Taking the dirty rectangle re-arms FRAME events; the swap
             * uploads the whole picture anyway. */
            int dx, dy, dw, dh;
            g_mutex_lock(&w->pending->fb.lock);
            session_take_dirty(w->pending, &dx, &dy, &dw, &dh);
            if (w->pending->fb.frames > 0 && !w->pending_complete_at)
                w->pending_complete_at = g_get_monotonic_time();
            g_mutex_unlock(&w->pending->fb.lock);
            break;
        }
        case SESSION_EV_LOGON:
            w->pending_logon = true;
            break;
        case SESSION_EV_CURSOR:
            g_clear_pointer(&w->pending_cursor, session_event_free);
            w->pending_cursor = ev;
            continue;
        case SESSION_EV_CLIPBOARD:
            SDL_SetClipboardText(ev->text);
            break;
        case SESSION_EV_CLOSED: {
            g_autofree char *why = g_strdup_printf(
                "failed: %s", ev->error ? ev->error->message : "the connection closed");
            session_event_free(ev);
            session_destroy(w->pending);
            w->pending = NULL;
            w->pending_logon = false;
            w->pending_complete_at = 0;
            g_clear_pointer(&w->pending_cursor, session_event_free);
            fall_back_to_vnc(w, why);
            return;
        }
        default:
            break;
        }
        session_event_free(ev);
    }
}

static void handle_session_events(Win *w)
{
    SessionEvent *ev;
    while (w->session && (ev = session_next_event(w->session))) {
        switch (ev->type) {
        case SESSION_EV_CONNECTED:
            w->connected = true;
            w->ever_connected = true;
            if (!w->status_stays)
                set_status(w, NULL);
            else
                update_title(w);
            make_texture(w, ev->w, ev->h);
            offer_clipboard(w);
            break;
        case SESSION_EV_RESIZED:
            vd_debug("%s desktop resized to %dx%d", w->session->impl->protocol, ev->w, ev->h);
            make_texture(w, ev->w, ev->h);
            break;
        case SESSION_EV_FRAME:
            take_frame(w);
            break;
        case SESSION_EV_CLIPBOARD:
            SDL_SetClipboardText(ev->text);
            break;
        case SESSION_EV_CURSOR:
            set_cursor(w, ev->pixels, ev->w, ev->h, ev->x, ev->y);
            break;
        case SESSION_EV_STATUS:
            set_status(w, ev->text);
            break;
        case SESSION_EV_LOGON:
        case SESSION_EV_RAIL_WINDOW: /* desktop sessions have no RemoteApp windows */
        case SESSION_EV_RAIL_DELETE:
        case SESSION_EV_RAIL_ICON:
        case SESSION_EV_RAIL_ACTIVE:
        case SESSION_EV_RAIL_EXEC:
            break;
        case SESSION_EV_CLOSED: {
            bool rdp = is_rdp(w->session);
            bool auto_mode = w->opts->protocol == WINDOW_PROTOCOL_AUTO;
            /* A VM that shut down closes its sockets: that is said once, by
             * poll_vm_state, not as a lost connection too. */
            g_autoptr(VmStatus) st = w->opts->vm_name ? vm_status_get(w->opts->vm_name) : NULL;
            bool vm_going =
                st && (!vm_state_is_active(st->state) || st->state == VM_STATE_STOPPING);
            g_autofree char *why = g_strdup(ev->error ? ev->error->message : NULL);
            if (w->opts->close_on_end && !ev->error && w->ever_connected)
                w->quit = true; /* the session's program ended */
            if (!w->ever_connected && ev->error && !w->opts->vm_name) {
                /* The first connection failed (wrong password, no server). */
                w->fatal = g_steal_pointer(&ev->error);
                w->quit = true;
            }
            session_event_free(ev);
            session_destroy(w->session);
            w->session = NULL;
            w->connected = false;
            w->redraw = true;
            if (w->quit || vm_going || w->close_at) {
                update_title(w);
                continue;
            }
            if (rdp && auto_mode) {
                g_autofree char *msg =
                    g_strdup_printf("connection lost%s%s", why ? ": " : "", why ? why : "");
                fall_back_to_vnc(w, msg);
                continue;
            }
            g_autofree char *msg = g_strdup_printf("connection lost%s%s — reconnecting",
                                                   why ? ": " : "", why ? why : "");
            if (why)
                vd_warn("%s", why);
            set_status(w, msg);
            w->reconnect_at = SDL_GetTicks() + RECONNECT_DELAY_MS;
            continue;
        }
        }
        session_event_free(ev);
    }
}


static void send_key(Win *w, SDL_Scancode sc, SDL_Keycode sym, bool down)
{
    if (w->session && w->connected)
        session_key(w->session, keymap_sdl_to_qnum((int)sc), sdl_util_keysym(sym), down);
}

static void send_ctrl_alt_del(Win *w)
{
    send_key(w, SDL_SCANCODE_LCTRL, SDLK_LCTRL, true);
    send_key(w, SDL_SCANCODE_LALT, SDLK_LALT, true);
    send_key(w, SDL_SCANCODE_DELETE, SDLK_DELETE, true);
    send_key(w, SDL_SCANCODE_DELETE, SDLK_DELETE, false);
    send_key(w, SDL_SCANCODE_LALT, SDLK_LALT, false);
    send_key(w, SDL_SCANCODE_LCTRL, SDLK_LCTRL, false);
}

static void set_grab(Win *w, bool grab)
{
    w->grabbed = grab;
    SDL_SetWindowKeyboardGrab(w->win, grab ? SDL_TRUE : SDL_FALSE);
    update_title(w);
}

/* Ctrl+Alt+F full screen, Ctrl+Alt+G release the keyboard grab,
 * Ctrl+Alt+End sends Ctrl+Alt+Del. Returns true when the key was ours. */
static bool hotkey(Win *w, const SDL_KeyboardEvent *k)
{
    SDL_Keymod m = SDL_GetModState();
    if (!(m & KMOD_CTRL) || !(m & KMOD_ALT))
        return false;
    switch (k->keysym.scancode) {
    case SDL_SCANCODE_F:
        if (k->type == SDL_KEYDOWN) {
            bool fs = SDL_GetWindowFlags(w->win) & SDL_WINDOW_FULLSCREEN_DESKTOP;
            SDL_SetWindowFullscreen(w->win, fs ? 0 : SDL_WINDOW_FULLSCREEN_DESKTOP);
        }
        return true;
    case SDL_SCANCODE_G:
        if (k->type == SDL_KEYDOWN)
            set_grab(w, !w->grabbed);
        return true;
    case SDL_SCANCODE_END:
        if (k->type == SDL_KEYDOWN)
            send_ctrl_alt_del(w);
        return true;
    default:
        return false;
    }
}

/* Window coordinates -> desktop pixels. */
static bool to_desktop(Win *w, int wx, int wy, int *x, int *y)
{
    if (!w->tex || w->dst.w <= 0 || w->dst.h <= 0)
        return false;
    int ww, wh, ow, oh;
    SDL_GetWindowSize(w->win, &ww, &wh);
    SDL_GetRendererOutputSize(w->ren, &ow, &oh);
    double rx = ww ? (double)ow / ww : 1, ry = wh ? (double)oh / wh : 1;
    double px = wx * rx, py = wy * ry;
    *x = (int)((px - w->dst.x) * w->tex_w / w->dst.w);
    *y = (int)((py - w->dst.y) * w->tex_h / w->dst.h);
    *x = CLAMP(*x, 0, w->tex_w - 1);
    *y = CLAMP(*y, 0, w->tex_h - 1);
    return true;
}

static void send_pointer(Win *w, int wx, int wy, unsigned extra)
{
    int x, y;
    if (w->session && w->connected && to_desktop(w, wx, wy, &x, &y))
        session_pointer(w->session, x, y, w->buttons | extra);
}


/* Give the host's clipboard text to the session when it changed. */
static void offer_clipboard(Win *w)
{
    if (!w->session || !w->connected)
        return;
    if (sdl_util_offer_clipboard(w->session, &w->clip_offered, w->clip_session != w->session))
        w->clip_session = w->session;
}

static void handle_sdl_event(Win *w, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT:
        w->quit = true;
        break;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
            e->window.event == SDL_WINDOWEVENT_RESIZED) {
            layout(w);
            w->redraw = true;
            /* RDP follows the window: a new desktop size instead of scaling. */
            if (w->session && w->connected && session_can_resize(w->session)) {
                int ow, oh;
                SDL_GetRendererOutputSize(w->ren, &ow, &oh);
                session_resize(w->session, ow, oh, display_scale_pct(w));
            }
        } else if (e->window.event == SDL_WINDOWEVENT_EXPOSED) {
            w->redraw = true;
        } else if (e->window.event == SDL_WINDOWEVENT_FOCUS_GAINED) {
            /* SDL 2.26 on X11 hears of clipboard changes only when it owned
             * the clipboard: look when the user comes back to the window. */
            offer_clipboard(w);
        } else if (e->window.event == SDL_WINDOWEVENT_FOCUS_LOST && w->session && w->connected) {
            /* Keys held while focus leaves would stay down in the guest. */
            for (size_t i = 0; i < G_N_ELEMENTS(sdl_util_modifiers); i++)
                send_key(w, sdl_util_modifiers[i],
                         SDL_GetKeyFromScancode(sdl_util_modifiers[i]), false);
        }
        break;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        if (!hotkey(w, &e->key))
            send_key(w, e->key.keysym.scancode, e->key.keysym.sym, e->type == SDL_KEYDOWN);
        break;
    case SDL_MOUSEMOTION:
        send_pointer(w, e->motion.x, e->motion.y, 0);
        break;
    case SDL_MOUSEBUTTONDOWN:
        if (!w->grabbed)
            set_grab(w, true);
        w->buttons |= sdl_util_button_bit(e->button.button);
        send_pointer(w, e->button.x, e->button.y, 0);
        break;
    case SDL_MOUSEBUTTONUP:
        w->buttons &= ~sdl_util_button_bit(e->button.button);
        send_pointer(w, e->button.x, e->button.y, 0);
        break;
    case SDL_MOUSEWHEEL: {
        int mx, my;
        SDL_GetMouseState(&mx, &my);
        unsigned b = sdl_util_wheel_bits(&e->wheel);
        if (b)
            send_pointer(w, mx, my, b);
        break;
    }
    case SDL_CLIPBOARDUPDATE:
        offer_clipboard(w);
        break;
    default:
        break;
    }
}

/* What a SIGTERM or SIGINT during the overlay question says on its way out:
 * SDL's message box runs its own X event loop, which never sees the SDL_QUIT
 * SDL's signal handler queues, so the question would block the signal. */
static char ask_interrupted_msg[512];

/* Keeping is the answer that touches nothing: the process can just end, and
 * the question stays for `vmdesk overlay NAME status`. */
static void on_signal_while_asking(int sig)
{
    (void)sig;
    ssize_t r = write(STDOUT_FILENO, ask_interrupted_msg, strlen(ask_interrupted_msg));
    (void)r;
    _exit(0);
}

/* on-shutdown=ask: the guest shut down with changes in its overlay, and the
 * supervisor left the question for us (README, Disks). Enter commits them
 * into the base, Escape keeps them for later; nothing is lost either way. */
static void ask_overlay(Win *w)
{
    const char *name = w->opts->vm_name;
    if (!vm_overlay_decision_pending(name))
        return;
    g_autoptr(VmOverlayStatus) st = NULL;
    g_autoptr(GError) err = NULL;
    if (!vm_overlay_status(name, &st, &err))
        return;
    g_autofree char *changed = vd_size_format(st->changed_bytes);
    g_autofree char *text = g_strdup_printf(
        /* SDL's X11 dialog does not wrap lines */
        "The guest of %s shut down.\nIts overlay holds %s of changes%s.\n\n"
        "Commit them into the base image\n%s,\ndiscard them, or keep the overlay and decide "
        "later\n(vmdesk overlay %s commit | discard)?",
        name, changed,
        st->vars_changed || st->tpm_changed ? "\n(and new UEFI variables or TPM state)" : "",
        st->base, name);
    const SDL_MessageBoxButtonData buttons[] = {
        {SDL_MESSAGEBOX_BUTTON_ESCAPEKEY_DEFAULT, VM_OVERLAY_KEEP, "Keep for later"},
        {0, VM_OVERLAY_DISCARD, "Discard"},
        {SDL_MESSAGEBOX_BUTTON_RETURNKEY_DEFAULT, VM_OVERLAY_COMMIT, "Commit"},
    };
    g_autofree char *title = g_strdup_printf("%s: keep the changes? — vmdesk", name);
    const SDL_MessageBoxData box = {SDL_MESSAGEBOX_INFORMATION, w->win, title, text,
                                    (int)G_N_ELEMENTS(buttons), buttons, NULL};
    int choice = VM_OVERLAY_KEEP;
    g_snprintf(ask_interrupted_msg, sizeof ask_interrupted_msg,
               "%s: interrupted while asking; the overlay is kept (vmdesk overlay %s status)\n",
               name, name);
    fflush(stdout);
    struct sigaction ours = {.sa_handler = on_signal_while_asking}, old_term, old_int;
    sigemptyset(&ours.sa_mask);
    sigaction(SIGTERM, &ours, &old_term);
    sigaction(SIGINT, &ours, &old_int);
    int shown = SDL_ShowMessageBox(&box, &choice);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    if (shown != 0 || choice < 0)
        choice = VM_OVERLAY_KEEP;
    if (!vm_overlay_apply(name, (VmOverlayAction)choice, &err)) {
        vd_warn("%s: %s; the overlay is kept (vmdesk overlay %s status)", name, err->message,
                name);
        return;
    }
    printf("%s: the overlay's changes: %s\n", name,
           vm_overlay_action_to_string((VmOverlayAction)choice));
}

static void poll_vm_state(Win *w)
{
    g_autoptr(VmStatus) st = vm_status_get(w->opts->vm_name);
    const char *name = vm_state_to_string(st->state);
    if (g_strcmp0(name, w->vm_state)) {
        g_free(w->vm_state);
        w->vm_state = g_strdup(name);
        update_title(w);
    }
    if (!vm_state_is_active(st->state) && !w->close_at) {
        g_autofree char *msg =
            g_strdup_printf("the VM %s%s%s", st->state == VM_STATE_ERROR ? "failed" : "shut down",
                            st->reason ? ": " : "", st->reason ? st->reason : "");
        printf("%s: %s\n", w->opts->vm_name, msg);
        set_status(w, msg);
        if (st->state == VM_STATE_STOPPED)
            ask_overlay(w);
        w->close_at = SDL_GetTicks() + 1500;
        w->reconnect_at = 0;
    }
}


bool window_run(const WindowOptions *opts, GError **error)
{
    Win w = {.opts = opts};
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
    SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
    if (opts->wm_class) {
        g_setenv("SDL_VIDEO_X11_WMCLASS", opts->wm_class, TRUE);
        g_setenv("SDL_VIDEO_WAYLAND_WMCLASS", opts->wm_class, TRUE);
    }
    if (!sdl_util_init(error))
        return false;
    w.wake_event = SDL_RegisterEvents(1);
    Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
    if (opts->fullscreen)
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
    w.win = SDL_CreateWindow(opts->title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, 1024,
                             768, flags);
    if (w.win)
        w.ren = sdl_util_renderer(w.win);
    if (!w.win || !w.ren) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot create the window: %s",
                    SDL_GetError());
        if (w.win)
            SDL_DestroyWindow(w.win);
        SDL_Quit();
        return false;
    }
    SDL_EventState(SDL_CLIPBOARDUPDATE, SDL_ENABLE);
    set_cursor(&w, NULL, 0, 0, 0, 0);
    update_title(&w);
    if (opts->vm_name)
        poll_vm_state(&w);
    bool auto_mode = opts->protocol == WINDOW_PROTOCOL_AUTO;
    if (auto_mode) {
        w.probe_on = 1;
        w.probe_thread = g_thread_new("rdp-probe", probe_main, &w);
    }
    bool ok = start_session(&w, opts->protocol == WINDOW_PROTOCOL_RDP, error);
    while (ok && !w.quit) {
        SDL_Event e;
        if (SDL_WaitEventTimeout(&e, 100)) {
            do {
                if (e.type == w.wake_event) {
                    handle_session_events(&w);
                    handle_pending_events(&w);
                } else {
                    handle_sdl_event(&w, &e);
                }
            } while (!w.quit && SDL_PollEvent(&e));
        }
        handle_session_events(&w);
        handle_pending_events(&w);
        Uint32 now = SDL_GetTicks();
        if (opts->vm_name && SDL_TICKS_PASSED(now, w.next_state_poll)) {
            poll_vm_state(&w);
            w.next_state_poll = now + STATE_POLL_MS;
        }
        if (w.close_at && SDL_TICKS_PASSED(now, w.close_at))
            w.quit = true;
        if (auto_mode && g_atomic_int_compare_and_exchange(&w.probe_ready, 1, 0) && !w.close_at) {
            /* RDP answers: connect behind the VNC picture. */
            w.rdp_ready_at = g_get_monotonic_time();
            set_status(&w, "RDP ready — connecting");
            w.pending = new_rdp_session(&w);
            g_autoptr(GError) err = NULL;
            if (!session_connect(w.pending, &err)) {
                session_destroy(w.pending);
                w.pending = NULL;
                fall_back_to_vnc(&w, err->message);
            }
        }
        RdpServiceState agent = (RdpServiceState)g_atomic_int_get(&w.agent_state);
        if (auto_mode && agent != w.agent_shown && !w.pending && !is_rdp(w.session)) {
            w.agent_shown = agent;
            if (agent == RDP_SERVICE_RUNNING && !w.status)
                set_status(&w, "RDP service starting");
            else if (agent == RDP_SERVICE_STOPPED && !w.status)
                set_status(&w, "no RDP service running in the guest");
        }
        if (pending_ready(&w))
            swap_to_pending(&w);
        if (SDL_TICKS_PASSED(now, w.next_clip_poll) &&
            (SDL_GetWindowFlags(w.win) & SDL_WINDOW_INPUT_FOCUS)) {
            offer_clipboard(&w);
            w.next_clip_poll = now + CLIPBOARD_POLL_MS;
        }
        if (auto_mode && w.probe_resume_at && SDL_TICKS_PASSED(now, w.probe_resume_at)) {
            w.probe_resume_at = 0;
            probe_set(&w, true);
        }
        if (!w.session && w.reconnect_at && SDL_TICKS_PASSED(now, w.reconnect_at)) {
            w.reconnect_at = 0;
            g_autoptr(GError) err = NULL;
            if (!start_session(&w, opts->protocol == WINDOW_PROTOCOL_RDP, &err)) {
                vd_warn("%s", err->message);
                w.reconnect_at = now + RECONNECT_DELAY_MS;
            }
        }
        if (w.redraw)
            render(&w);
    }
    if (w.probe_thread) {
        g_atomic_int_set(&w.probe_quit, 1);
        g_thread_join(w.probe_thread);
    }
    Session *both[] = {w.pending, w.session};
    for (size_t i = 0; i < G_N_ELEMENTS(both); i++) {
        if (both[i]) {
            session_disconnect_start(both[i]);
            session_destroy(both[i]); /* joins the thread, which ends promptly */
        }
    }
    g_clear_pointer(&w.pending_cursor, session_event_free);
    if (ok && w.fatal) {
        g_propagate_error(error, w.fatal);
        ok = false;
    }
    if (w.tex)
        SDL_DestroyTexture(w.tex);
    if (w.cursor)
        SDL_FreeCursor(w.cursor);
    SDL_DestroyRenderer(w.ren);
    SDL_DestroyWindow(w.win);
    SDL_Quit();
    g_free(w.status);
    g_free(w.vm_state);
    g_free(w.clip_offered);
    return ok;
}
