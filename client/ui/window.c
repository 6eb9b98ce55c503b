/* The desktop window (window.h): its life and main loop, the session on
 * screen and what it draws. The session switch, input and the VM behind the
 * window have files of their own (window_priv.h lists them). */
#include "ui/window.h"

#include "common/app_id.h"
#include "common/error.h"
#include "common/log.h"
#include "common/text.h"
#include "ui/host_clipboard.h"
#include "ui/sdl_util.h"
#include "ui/window_icon.h"
#include "ui/window_priv.h"

#include <string.h>

#define STATE_POLL_MS 500
#define CLIPBOARD_POLL_MS 1500

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

/* Runs on a session's thread or the probe's: wake the main loop
 * (SDL_PushEvent is thread-safe). */
void window_notify(void *data)
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

bool window_is_rdp(Session *s)
{
    return s && !strcmp(s->impl->protocol, "rdp");
}

void window_update_title(Win *w)
{
    const char *proto = !w->connected ? NULL : window_is_rdp(w->session) ? "RDP" : "VNC";
    g_autofree char *t = g_strdup_printf(
        "%s%s%s%s%s%s%s — vmdesk", w->opts->title, w->vm_state ? " — " : "",
        w->vm_state ? w->vm_state : "", proto ? " — " : "", proto ? proto : "",
        w->status ? " — " : "", w->status ? w->status : "");
    SDL_SetWindowTitle(w->win, t);
}

void window_set_status(Win *w, const char *status)
{
    g_free(w->status);
    w->status = g_strdup(status);
    window_update_title(w);
}

int window_display_scale_pct(Win *w)
{
    return w->opts->rdp_scale_pct ? w->opts->rdp_scale_pct : sdl_util_scale_pct(w->win, w->ren);
}

Session *window_new_rdp_session(Win *w)
{
    RdpTarget t = *w->opts->rdp;
    SDL_GetRendererOutputSize(w->ren, &t.width, &t.height);
    t.scale_pct = window_display_scale_pct(w);
    memcpy(t.monitors, w->mons, sizeof(t.monitors));
    t.n_monitors = w->n_mons;
    t.auto_reconnect = w->opts->protocol != WINDOW_PROTOCOL_AUTO;
    t.confined = true; /* FreeRDP in the session helper, where it can go */
    return rdp_session_create(&t, window_notify, w);
}

bool window_start_session(Win *w, bool rdp, GError **error)
{
    w->session = rdp ? window_new_rdp_session(w) : vnc_session_create(w->opts->vnc, window_notify, w);
    w->connected = false;
    w->clip_session = NULL; /* a new session gets the clipboard anew */
    if (session_connect(w->session, error))
        return true;
    /* Never connected: it reports no CLOSED, and none is on screen. */
    g_clear_pointer(&w->session, session_destroy);
    return false;
}

/* Where the desktop goes in the window: aspect kept; integer factors when
 * they fit (crisp on HiDPI), else a smooth fit. */
void window_layout(Win *w)
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
    if (w->n_mons || SDL_GetWindowFlags(w->win) & (SDL_WINDOW_FULLSCREEN | SDL_WINDOW_MAXIMIZED))
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

void window_make_texture(Win *w, int fw, int fh)
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
    window_layout(w);
    w->redraw = true;
}

/* After a swap to an xrdp session, its black moment between the background
 * and the desktop stays off the screen (switch_hold_black): while less of
 * the picture is lit than SWITCH_HOLD_LIT of what was at the swap (the black
 * comes in strips), the last picture stays, until the session has drawn. */
static bool hold_black(Win *w, const SessionFramebuffer *fb)
{
    if (!window_is_rdp(w->session) || !switch_hold_black(&w->sw, g_get_monotonic_time()) ||
        session_fb_lit_share(fb) >= w->swap_lit * SWITCH_HOLD_LIT)
        return false;
    if (!w->held_black)
        vd_debug("a darkened RDP picture kept off the screen");
    w->held_black = true;
    return true;
}

static void take_frame(Win *w)
{
    SessionFramebuffer *fb = &w->session->fb;
    int x, y, rw, rh;
    g_mutex_lock(&fb->lock);
    if (w->tex && fb->width == w->tex_w && fb->height == w->tex_h &&
        session_take_dirty(w->session, &x, &y, &rw, &rh) && !hold_black(w, fb)) {
        if (w->held_black) { /* what was held back goes too */
            x = y = 0;
            rw = fb->width;
            rh = fb->height;
            w->held_black = false;
        }
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
void window_set_cursor(Win *w, uint32_t *argb, int cw, int ch, int hx, int hy)
{
    SDL_Cursor *c = sdl_util_cursor(argb, cw, ch, hx, hy);
    if (!c)
        return;
    SDL_SetCursor(c);
    if (w->cursor)
        SDL_FreeCursor(w->cursor);
    w->cursor = c;
}

void window_release_held(Win *w)
{
    if (!w->held_black || switch_hold_black(&w->sw, g_get_monotonic_time()))
        return;
    w->held_black = false;
    if (!w->session) /* RDP went away meanwhile: its successor draws anew */
        return;
    SessionFramebuffer *fb = &w->session->fb;
    g_mutex_lock(&fb->lock);
    if (w->tex && fb->width == w->tex_w && fb->height == w->tex_h) {
        SDL_UpdateTexture(w->tex, NULL, fb->pixels, fb->stride);
        w->redraw = true;
    }
    g_mutex_unlock(&fb->lock);
}

void window_render(Win *w)
{
    SDL_SetRenderDrawColor(w->ren, 0, 0, 0, 255);
    SDL_RenderClear(w->ren);
    if (w->tex) {
        /* A lost connection or a hung server dims the last picture until
         * it is back. */
        Uint8 c = w->connected && !w->hung ? 255 : 110;
        SDL_SetTextureColorMod(w->tex, c, c, c);
        if (!window_monitors_render(w))
            SDL_RenderCopy(w->ren, w->tex, NULL, &w->dst);
    }
    SDL_RenderPresent(w->ren);
    w->redraw = false;
}

static void handle_session_events(Win *w)
{
    SessionEvent *ev;
    while (w->session && (ev = session_next_event(w->session))) {
        switch (ev->type) {
        case SESSION_EV_CONNECTED:
            w->connected = true;
            w->ever_connected = true;
            if (!switch_status_stays(&w->sw))
                window_set_status(w, NULL);
            else
                window_update_title(w);
            window_make_texture(w, ev->w, ev->h);
            window_offer_clipboard(w);
            break;
        case SESSION_EV_RESIZED:
            vd_debug("%s desktop resized to %dx%d", w->session->impl->protocol, ev->w, ev->h);
            window_make_texture(w, ev->w, ev->h);
            break;
        case SESSION_EV_FRAME:
            take_frame(w);
            break;
        case SESSION_EV_CLIPBOARD_PNG:
        case SESSION_EV_CLIPBOARD_FILES:
            sdl_util_clipboard_offer(ev->bytes, ev->paths);
            break;
        case SESSION_EV_CLIPBOARD:
            host_clipboard_offer_text(ev->text);
            break;
        case SESSION_EV_CURSOR:
            window_set_cursor(w, ev->pixels, ev->w, ev->h, ev->x, ev->y);
            break;
        case SESSION_EV_STATUS:
            window_set_status(w, ev->text);
            break;
        case SESSION_EV_CLIP_PROGRESS:
            w->copying = ev->text ? w->session : NULL;
            window_set_status(w, ev->text);
            break;
        case SESSION_EV_LOGON:
        case SESSION_EV_RAIL_WINDOW: /* desktop sessions have no RemoteApp windows */
        case SESSION_EV_RAIL_DELETE:
        case SESSION_EV_RAIL_ICON:
        case SESSION_EV_RAIL_ACTIVE:
        case SESSION_EV_RAIL_EXEC:
            break;
        case SESSION_EV_CLOSED: {
            w->copying = NULL; /* its copy, if any, ended with it */
            bool rdp = window_is_rdp(w->session);
            bool auto_mode = w->opts->protocol == WINDOW_PROTOCOL_AUTO;
            /* A VM that shut down closes its sockets: that is said once, by
             * window_vm_poll, not as a lost connection too. */
            bool vm_going = w->opts->vm_name && window_vm_going(w);
            g_autofree char *why = g_strdup(ev->error ? ev->error->message : NULL);
            /* One line in the log and the status, whatever the session said. */
            for (char *c = why; c && (c = (char *)vd_text_find_control(c));)
                *c = ' ';
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
                window_update_title(w);
                continue;
            }
            if (rdp && auto_mode) {
                window_switch_rdp_lost(w, why);
                continue;
            }
            g_autofree char *msg = g_strdup_printf("connection lost%s%s — reconnecting",
                                                   why ? ": " : "", why ? why : "");
            if (why)
                vd_warn("%s", why);
            window_set_status(w, msg);
            w->reconnect_at = SDL_GetTicks() + RECONNECT_DELAY_MS;
            continue;
        }
        }
        session_event_free(ev);
    }
}

/* On Wayland the compositor places the window once, at its first size, and
 * knows no work area to tell us: a first window larger than the output (a
 * small or 2x screen) is put at the output's corner, its title bar under the
 * panel, and stays there when the window then shrinks to the desktop's size.
 * There the first size is kept within 3/4 of the output, 4:3 as before.
 * (X11 window managers place it on their own, knowing their panels.) */
static void initial_size_fit(SDL_Rect *at)
{
    SDL_Rect b;
    const char *driver = SDL_GetCurrentVideoDriver();
    if (!driver || strcmp(driver, "wayland") || SDL_GetDisplayUsableBounds(0, &b) || b.w <= 0 ||
        b.h <= 0)
        return;
    int w = MIN(at->w, b.w * 3 / 4), h = MIN(at->h, b.h * 3 / 4);
    w = MIN(w, h * 4 / 3);
    at->w = MAX(w, 320);
    at->h = MAX(w * 3 / 4, 240);
}

bool window_run(const WindowOptions *opts, GError **error)
{
    g_return_val_if_fail(!opts->vm_name || opts->vm, false);
    Win w = {.opts = opts, .switch_wait_ms = -1};
    switch_init(&w.sw, opts->rdp && opts->rdp->shell, opts->rdp && opts->rdp->no_logon_notice);
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
    SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
    /* VM windows group under vmdesk's desktop entry unless told otherwise. */
    const char *wm_class = opts->wm_class ? opts->wm_class : VMDESK_APP_ID;
    g_setenv("SDL_VIDEO_X11_WMCLASS", wm_class, TRUE);
    g_setenv("SDL_VIDEO_WAYLAND_WMCLASS", wm_class, TRUE);
    if (!sdl_util_init(WAYLAND_FOR_DESKTOP, error))
        return false;
    w.wake_event = SDL_RegisterEvents(1);
    Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
    if (opts->fullscreen)
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
    SDL_Rect at = {SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, 1024, 768};
    initial_size_fit(&at);
    /* Over several monitors: one borderless window covering them (SDL 2's
     * full screen covers one). */
    if (!window_monitors_init(&w, &at, error)) {
        SDL_Quit();
        return false;
    }
    if (w.n_mons)
        flags = SDL_WINDOW_BORDERLESS | SDL_WINDOW_ALLOW_HIGHDPI;
    w.win = SDL_CreateWindow(opts->title, at.x, at.y, at.w, at.h, flags);
    if (w.win) {
        window_monitors_shape(&w);
        window_icon_set(w.win);
        w.ren = sdl_util_renderer(w.win);
        host_clipboard_use_window(w.win);
    }
    if (!w.win || !w.ren) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot create the window: %s",
                    SDL_GetError());
        if (w.win)
            SDL_DestroyWindow(w.win);
        SDL_Quit();
        return false;
    }
    w.closing = g_ptr_array_new();
    SDL_EventState(SDL_CLIPBOARDUPDATE, SDL_ENABLE);
    window_set_cursor(&w, NULL, 0, 0, 0, 0);
    window_update_title(&w);
    if (opts->vm_name)
        window_vm_poll(&w);
    bool auto_mode = opts->protocol == WINDOW_PROTOCOL_AUTO;
    if (auto_mode)
        window_switch_start(&w);
    else if (opts->protocol == WINDOW_PROTOCOL_RDP)
        w.watch = rdp_watch_new(opts->rdp, window_notify, &w);
    bool ok = window_start_session(&w, opts->protocol == WINDOW_PROTOCOL_RDP, error);
    while (ok && !w.quit) {
        SDL_Event e;
        /* At most 100 ms, less when the switch waits for a picture to settle. */
        int wait_ms = w.switch_wait_ms >= 0 ? CLAMP(w.switch_wait_ms, 1, 100) : 100;
        if (SDL_WaitEventTimeout(&e, wait_ms)) {
            do {
                if (e.type == w.wake_event) {
                    handle_session_events(&w);
                    window_switch_events(&w);
                } else {
                    window_handle_sdl_event(&w, &e);
                }
            } while (!w.quit && SDL_PollEvent(&e));
        }
        handle_session_events(&w);
        window_switch_events(&w);
        host_clipboard_dispatch();
        Uint32 now = SDL_GetTicks();
        if (opts->vm_name && SDL_TICKS_PASSED(now, w.next_state_poll)) {
            window_vm_poll(&w);
            w.next_state_poll = now + STATE_POLL_MS;
        }
        if (w.close_at && SDL_TICKS_PASSED(now, w.close_at))
            w.quit = true;
        if (auto_mode)
            window_switch_step(&w);
        else
            window_watch_rdp(&w);
        if (SDL_TICKS_PASSED(now, w.next_clip_poll) &&
            (SDL_GetWindowFlags(w.win) & SDL_WINDOW_INPUT_FOCUS)) {
            window_offer_clipboard(&w);
            w.next_clip_poll = now + CLIPBOARD_POLL_MS;
        }
        if (!w.session && w.reconnect_at && SDL_TICKS_PASSED(now, w.reconnect_at)) {
            w.reconnect_at = 0;
            g_autoptr(GError) err = NULL;
            if (!window_start_session(&w, opts->protocol == WINDOW_PROTOCOL_RDP, &err)) {
                vd_warn("%s", err->message);
                w.reconnect_at = now + RECONNECT_DELAY_MS;
            }
        }
        if (w.redraw)
            window_render(&w);
    }
    window_switch_stop(&w);
    /* Every session left ends as session.h says: destroyed once it
     * reported CLOSED, never joined while its thread still works. */
    if (w.pending)
        g_ptr_array_add(w.closing, g_steal_pointer(&w.pending));
    if (w.session)
        g_ptr_array_add(w.closing, g_steal_pointer(&w.session));
    sdl_util_close_sessions((Session **)w.closing->pdata, w.closing->len);
    g_ptr_array_unref(w.closing);
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
