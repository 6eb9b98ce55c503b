/* RemoteApp windows (app_window.h): the run with its one RDP connection,
 * the status window shown until the first program window, the readiness
 * thread, launches, the session's events and the main loop. The program
 * windows themselves are app_window_rail.c's. */
#include "ui/app_window.h"

#include "common/error.h"
#include "common/log.h"
#include "ui/app_window_priv.h"
#include "ui/host_clipboard.h"
#include "ui/keymap.h"
#include "ui/sdl_util.h"
#include "ui/window_icon.h"

#include <stdio.h>
#include <string.h>

#define READY_POLL_MS 500
/* A server that answered the launch but never sent a window for it. */
#define FIRST_WINDOW_TIMEOUT_MS 60000
#define CLIPBOARD_POLL_MS 1500
#define STATUS_W 420
#define STATUS_H 96

static void notify(void *data)
{
    App *a = data;
    SDL_Event ev = {.type = a->wake_event};
    SDL_PushEvent(&ev);
}

gint64 app_window_elapsed_ms(App *a)
{
    return (g_get_monotonic_time() - a->t0) / 1000;
}

/* --- the status window (until the first program window shows) --- */

static void status_draw(App *a)
{
    if (!a->status_win)
        return;
    int w, h;
    SDL_GetRendererOutputSize(a->status_ren, &w, &h);
    SDL_SetRenderDrawColor(a->status_ren, 32, 36, 44, 255);
    SDL_RenderClear(a->status_ren);
    /* An indeterminate bar: a block sweeping left to right. */
    int bar_w = w - 40, bar_h = 12, bx = 20, by = h / 2 - bar_h / 2;
    SDL_SetRenderDrawColor(a->status_ren, 70, 76, 90, 255);
    SDL_RenderFillRect(a->status_ren, &(SDL_Rect){bx, by, bar_w, bar_h});
    int block = bar_w / 4;
    int pos = (int)((app_window_elapsed_ms(a) / 8) % (bar_w + block)) - block;
    SDL_Rect r = {bx + MAX(pos, 0), by, MIN(block + MIN(pos, 0), bar_w - MAX(pos, 0)), bar_h};
    SDL_SetRenderDrawColor(a->status_ren, 90, 160, 250, 255);
    if (r.w > 0)
        SDL_RenderFillRect(a->status_ren, &r);
    SDL_RenderPresent(a->status_ren);
}

static void set_status(App *a, const char *text)
{
    if (!g_strcmp0(text, a->status))
        return;
    g_free(a->status);
    a->status = g_strdup(text);
    printf("%s: %s\n", a->opts->title, text);
    fflush(stdout);
    if (a->status_win) {
        g_autofree char *t = g_strdup_printf("%s — %s", a->opts->rdp->remote_app, text);
        SDL_SetWindowTitle(a->status_win, t);
    }
}

void app_window_status_close(App *a)
{
    if (a->status_ren)
        SDL_DestroyRenderer(a->status_ren);
    if (a->status_win)
        SDL_DestroyWindow(a->status_win);
    a->status_ren = NULL;
    a->status_win = NULL;
}

/* --- the readiness thread --- */

static gpointer ready_main(gpointer data)
{
    App *a = data;
    gint64 deadline = a->t0 + (gint64)a->opts->ready_timeout_ms * 1000;
    while (!g_atomic_int_get(&a->ready_quit)) {
        char *status = NULL;
        GError *err = NULL;
        bool ok = a->opts->ready(a->opts->ready_data, &status, &err);
        g_mutex_lock(&a->lock);
        if (status) {
            g_free(a->ready_status);
            a->ready_status = status;
        }
        if (err)
            a->ready_error = err;
        g_mutex_unlock(&a->lock);
        if (ok || err) {
            g_atomic_int_set(&a->ready_state, ok ? 1 : 2);
            notify(a);
            return NULL;
        }
        if (g_get_monotonic_time() > deadline) {
            g_mutex_lock(&a->lock);
            /* The plain words, for the manager, without the command. */
            g_autofree char *plain = g_strdup_printf(
                "the guest's remote desktop (RDP) service did not answer within %d s: is it "
                "installed and running in the guest?",
                a->opts->ready_timeout_ms / 1000);
            vd_error_set_worded(
                &a->ready_error, VD_ERROR_TIMEOUT, NULL, plain,
                "%s: the guest's RDP service did not answer within %d s (%s); is it installed "
                "and running? (vmdesk probe %s tells more)",
                a->opts->title, a->opts->ready_timeout_ms / 1000,
                a->ready_status ? a->ready_status : "no answer", a->opts->title);
            g_mutex_unlock(&a->lock);
            g_atomic_int_set(&a->ready_state, 2);
            notify(a);
            return NULL;
        }
        notify(a);
        g_usleep(READY_POLL_MS * 1000);
    }
    return NULL;
}

/* --- launches --- */

static void launch(App *a, AppRequest *req)
{
    vd_debug("app: launching %s", req->program);
    g_free(a->next_class);
    a->next_class = g_strdup(req->wm_class);
    if (a->session && req->fd >= 0)
        rdp_session_rail_exec(a->session, req->program, req->args);
    g_queue_push_tail(&a->launches, req);
    a->linger_at = 0;
}

static void exec_answer(App *a, SessionEvent *ev)
{
    AppRequest *req = g_queue_pop_head(&a->launches);
    bool own = req && req->fd < 0;
    app_control_reply(req, ev->error);
    if (ev->error && own && g_hash_table_size(a->windows) == 0) {
        a->fatal = g_steal_pointer(&ev->error); /* said once, as the exit's reason */
        a->quit = true;
    } else if (ev->error) {
        vd_warn("%s", ev->error->message);
    } else if (!a->first_shown) {
        set_status(a, "started; waiting for its window");
    }
    /* A launch answered after the last window had closed (failed, or one
     * that opens no window): the connection is idle again. */
    if (a->ever_window)
        app_window_maybe_linger(a);
}

/* --- events --- */

static void connect_session(App *a)
{
    /* The server's desktop: every monitor of the host's, each its own. */
    app_window_monitors_init(a);
    RdpTarget t = *a->opts->rdp;
    memcpy(t.monitors, a->mons, sizeof(t.monitors));
    t.n_monitors = a->n_mons;
    t.confined = true; /* FreeRDP in the session helper, RemoteApp relayed */
    a->session = rdp_session_create(&t, notify, a);
    a->phase = WAIT_CONNECT;
    set_status(a, "connecting");
    GError *err = NULL;
    if (!session_connect(a->session, &err)) {
        g_clear_pointer(&a->session, session_destroy); /* never connected: no CLOSED */
        a->fatal = err;
        a->quit = true;
    }
    /* The first program is the session's own; later ones wait in the queue. */
    AppRequest *own = g_new0(AppRequest, 1);
    own->program = g_strdup(t.remote_app);
    own->wm_class = g_strdup(a->opts->wm_class);
    own->fd = -1;
    launch(a, own);
    AppRequest *req;
    while ((req = app_control_next(a->control)))
        launch(a, req);
}

void app_window_offer_clipboard(App *a)
{
    if (a->session && a->connected)
        sdl_util_offer_clipboard(a->session, &a->clip_offered, false);
}

static void retitle_all(App *a)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, a->windows);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        app_window_win_retitle(v);
        ((AppWin *)v)->redraw = true;
    }
}

static void session_events(App *a)
{
    SessionEvent *ev;
    while (a->session && (ev = session_next_event(a->session))) {
        switch (ev->type) {
        case SESSION_EV_CONNECTED:
            switch_watch_init(&a->wt, g_get_monotonic_time(), g_get_real_time());
            a->connected = true;
            a->phase = RUNNING;
            a->connected_at = g_get_monotonic_time();
            set_status(a, "connected; starting the program");
            app_window_offer_clipboard(a);
            break;
        case SESSION_EV_RESIZED:
        case SESSION_EV_LOGON:
            break;
        case SESSION_EV_FRAME:
            app_window_take_frame(a);
            break;
        case SESSION_EV_CLIPBOARD_PNG:
        case SESSION_EV_CLIPBOARD_FILES:
            sdl_util_clipboard_offer(ev->bytes, ev->paths);
            break;
        case SESSION_EV_CLIPBOARD:
            g_free(a->clip_offered);
            a->clip_offered = g_strdup(ev->text);
            host_clipboard_offer_text(ev->text);
            break;
        case SESSION_EV_CURSOR: {
            SDL_Cursor *c = sdl_util_cursor(ev->pixels, ev->w, ev->h, ev->x, ev->y);
            if (c) {
                SDL_SetCursor(c);
                if (a->cursor)
                    SDL_FreeCursor(a->cursor);
                a->cursor = c;
            }
            break;
        }
        case SESSION_EV_STATUS:
            if (ev->text)
                vd_warn("%s", ev->text);
            break;
        case SESSION_EV_CLIP_PROGRESS:
            if (g_strcmp0(a->copying, ev->text)) {
                g_free(a->copying);
                a->copying = g_strdup(ev->text);
                retitle_all(a);
            }
            break;
        case SESSION_EV_RAIL_WINDOW:
            app_window_rail_window(a, ev->rail);
            break;
        case SESSION_EV_RAIL_DELETE:
            app_window_rail_delete(a, ev->rail->id);
            break;
        case SESSION_EV_RAIL_ICON:
            app_window_rail_icon(a, ev->rail->id, ev->pixels, ev->w, ev->h);
            break;
        case SESSION_EV_RAIL_ACTIVE: {
            AppWin *aw = g_hash_table_lookup(a->windows, GUINT_TO_POINTER(ev->rail->id));
            if (aw && aw->id != a->focused && aw->show != SESSION_RAIL_MINIMIZED)
                SDL_RaiseWindow(aw->win);
            break;
        }
        case SESSION_EV_RAIL_EXEC:
            exec_answer(a, ev);
            break;
        case SESSION_EV_CLOSED:
            if (ev->error && (!a->ever_window || g_hash_table_size(a->windows) > 0)) {
                a->fatal = g_steal_pointer(&ev->error);
            }
            session_event_free(ev);
            session_destroy(a->session);
            a->session = NULL;
            a->connected = false;
            rdp_watch_off(a->watch);
            a->quit = true;
            continue;
        }
        session_event_free(ev);
    }
}

/* Keys and the pointer. */
static bool is_input(Uint32 type)
{
    return type == SDL_KEYDOWN || type == SDL_KEYUP || type == SDL_MOUSEMOTION ||
           type == SDL_MOUSEBUTTONDOWN || type == SDL_MOUSEBUTTONUP || type == SDL_MOUSEWHEEL;
}

static void sdl_event(App *a, const SDL_Event *e)
{
    AppWin *aw = NULL;
    if (a->hang && is_input(e->type))
        return; /* ignored, not queued for a server that may wake much later: the titles say so */
    if (a->hang && e->type == SDL_WINDOWEVENT && e->window.event == SDL_WINDOWEVENT_CLOSE) {
        /* Closing a window of a hung server: the user gives up on it. */
        printf("%s: closed while the RDP server was %s\n", a->opts->title, a->hang);
        a->quit = true;
        return;
    }
    switch (e->type) {
    case SDL_QUIT: /* a signal: the last window closing does not quit (hint below) */
        a->quit = true;
        return;
    case SDL_WINDOWEVENT:
        if ((aw = app_window_of_sdl(e->window.windowID)))
            app_window_win_event(a, aw, &e->window);
        else if (a->status_win && e->window.event == SDL_WINDOWEVENT_CLOSE &&
                 e->window.windowID == SDL_GetWindowID(a->status_win))
            a->quit = true; /* the user gave up waiting */
        return;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        if (a->session && a->connected && app_window_of_sdl(e->key.windowID) &&
            !sdl_util_copy_cancel_key(a->session, a->copying != NULL, &a->esc_eaten, &e->key))
            session_key(a->session, keymap_sdl_to_qnum((int)e->key.keysym.scancode),
                        sdl_util_keysym(e->key.keysym.sym), e->type == SDL_KEYDOWN);
        return;
    case SDL_MOUSEMOTION:
        if ((aw = app_window_of_sdl(e->motion.windowID)))
            app_window_send_pointer(a, aw, e->motion.x, e->motion.y, 0);
        return;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        if ((aw = app_window_of_sdl(e->button.windowID))) {
            unsigned bit = sdl_util_button_bit(e->button.button);
            if (e->type == SDL_MOUSEBUTTONDOWN)
                a->buttons |= bit;
            else
                a->buttons &= ~bit;
            /* Keep the pointer while a button is held: the server moves
             * the window under it during a drag by its title bar. */
            SDL_CaptureMouse(a->buttons ? SDL_TRUE : SDL_FALSE);
            app_window_send_pointer(a, aw, e->button.x, e->button.y, 0);
        }
        return;
    case SDL_MOUSEWHEEL:
        if ((aw = app_window_of_sdl(e->wheel.windowID))) {
            int mx, my, wx, wy;
            SDL_GetGlobalMouseState(&mx, &my);
            SDL_GetWindowPosition(aw->win, &wx, &wy);
            unsigned b = sdl_util_wheel_bits(&e->wheel);
            if (b)
                app_window_send_pointer(a, aw, mx - wx, my - wy, b);
        }
        return;
    case SDL_CLIPBOARDUPDATE:
        app_window_offer_clipboard(a);
        return;
    case SDL_DISPLAYEVENT:
        if (a->monitors)
            monitors_sdl_event(a->monitors);
        return;
    default:
        return;
    }
}

/* --- a hung server --- */


/* One step of the watch while connected: the server is asked to repaint
 * a window it shows (any area will do; one of a window surely has pixels). */
static void watch_step(App *a)
{
    int area[4] = {0, 0, 64, 64};
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, a->windows);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        AppWin *aw = v;
        if (aw->presented && aw->show != SESSION_RAIL_MINIMIZED) {
            area[0] = MAX(aw->shown.x, 0);
            area[1] = MAX(aw->shown.y, 0);
            area[2] = MIN(aw->shown.w, 64);
            area[3] = MIN(aw->shown.h, 64);
            break;
        }
    }
    switch (rdp_watch_step(a->watch, &a->wt, a->session, area)) {
    case SWITCH_WATCH_HUNG:
        a->hang = switch_watch_since(&a->wt);
        printf("%s: the RDP server is %s: its windows are dimmed and ignore input until it "
               "answers\n", a->opts->title, a->hang);
        fflush(stdout);
        if (a->status_win)
            set_status(a, a->hang);
        retitle_all(a);
        break;
    case SWITCH_WATCH_BACK:
        printf("%s: the RDP server answers again\n", a->opts->title);
        fflush(stdout);
        g_clear_pointer(&a->hang, g_free);
        retitle_all(a);
        break;
    case SWITCH_WATCH_NONE:
        break;
    }
    if (switch_watch_give_up(&a->wt, g_get_monotonic_time())) {
        a->fatal = g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                               "%s: the RDP server is %s (%d s): giving up. Its programs may "
                               "still run in the guest's session; starting one again connects "
                               "anew",
                               a->opts->title, a->hang,
                               (SWITCH_HANG_GIVE_UP_MS + SWITCH_HANG_MS) / 1000);
        a->quit = true;
    }
}

static void ready_check(App *a)
{
    int state = g_atomic_int_get(&a->ready_state);
    g_mutex_lock(&a->lock);
    g_autofree char *st = g_strdup(a->ready_status);
    GError *err = g_steal_pointer(&a->ready_error);
    g_mutex_unlock(&a->lock);
    if (st)
        set_status(a, st);
    if (state == 2) {
        a->fatal = err ? err : g_error_new(VD_ERROR, VD_ERROR_FAILED, "the guest is not ready");
        a->quit = true;
    } else if (state == 1) {
        g_clear_error(&err);
        connect_session(a);
    } else {
        g_clear_error(&err);
    }
}

static void app_loop(App *a)
{
    while (!a->quit) {
        SDL_Event e;
        if (SDL_WaitEventTimeout(&e, 40)) {
            do {
                if (e.type == a->wake_event) {
                    if (a->phase == WAIT_READY)
                        ready_check(a);
                    session_events(a);
                } else {
                    sdl_event(a, &e);
                }
            } while (!a->quit && SDL_PollEvent(&e));
        }
        session_events(a);
        app_window_monitors_step(a);
        if (a->session && a->connected)
            watch_step(a);
        host_clipboard_dispatch();
        AppRequest *req;
        while (a->phase != WAIT_READY && (req = app_control_next(a->control)))
            launch(a, req);
        Uint32 now = SDL_GetTicks();
        if (a->linger_at && SDL_TICKS_PASSED(now, a->linger_at))
            a->quit = true;
        if (a->connected && !a->ever_window &&
            g_get_monotonic_time() - a->connected_at > FIRST_WINDOW_TIMEOUT_MS * 1000ll) {
            g_autofree char *plain = g_strdup_printf(
                "the guest accepted the program's session but showed no window for it within "
                "%d s: its remote desktop service may not run single programs (xrdp 0.9 never "
                "does); open the VM's whole desktop instead",
                FIRST_WINDOW_TIMEOUT_MS / 1000);
            g_clear_error(&a->fatal); /* one error: this one */
            vd_error_set_worded(&a->fatal, VD_ERROR_TIMEOUT, NULL, plain,
                                "%s: the server accepted the RemoteApp session but sent no "
                                "window for %s within %d s; its RemoteApp support may be "
                                "missing or incomplete (xrdp 0.9 never starts it: for Linux "
                                "guests vmdesk app uses --mode desktop)",
                                a->opts->title, a->opts->rdp->remote_app,
                                FIRST_WINDOW_TIMEOUT_MS / 1000);
            a->quit = true;
        }
        if (a->focused && SDL_TICKS_PASSED(now, a->next_clip_poll)) {
            app_window_offer_clipboard(a);
            a->next_clip_poll = now + CLIPBOARD_POLL_MS;
        }
        status_draw(a);
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, a->windows);
        while (g_hash_table_iter_next(&it, NULL, &v))
            if (((AppWin *)v)->redraw)
                app_window_win_render(v);
    }
}

bool app_window_run(const AppWindowOptions *opts, GError **error)
{
    App a = {.opts = opts, .t0 = g_get_monotonic_time()};
    g_mutex_init(&a.lock);
    /* Closing the last window must not quit: the server closes them. */
    SDL_SetHint(SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE, "0");
    if (opts->wm_class) {
        /* Wayland has one app id per process: the first program's. */
        g_setenv("SDL_VIDEO_WAYLAND_WMCLASS", opts->wm_class, FALSE);
        g_setenv("SDL_VIDEO_X11_WMCLASS", opts->wm_class, FALSE);
    }
    if (!sdl_util_init(WAYLAND_FOR_REMOTEAPP, error)) {
        g_mutex_clear(&a.lock);
        return false;
    }
    a.wake_event = SDL_RegisterEvents(1);
    a.watch = rdp_watch_new(opts->rdp, notify, &a);
    a.windows = g_hash_table_new_full(NULL, NULL, NULL, app_window_win_destroy);
    SDL_EventState(SDL_CLIPBOARDUPDATE, SDL_ENABLE);
    a.status_win = SDL_CreateWindow(opts->rdp->remote_app, SDL_WINDOWPOS_CENTERED,
                                    SDL_WINDOWPOS_CENTERED, STATUS_W, STATUS_H,
                                    SDL_WINDOW_ALLOW_HIGHDPI | SDL_WINDOW_UTILITY);
    if (a.status_win) {
        window_icon_set(a.status_win);
        host_clipboard_use_window(a.status_win);
        app_window_set_wm_class(a.status_win, opts->wm_class);
        a.status_ren = sdl_util_renderer(a.status_win);
    }
    GError *err = NULL;
    if (opts->control_path)
        a.control = app_control_listen(opts->control_path, notify, &a, &err);
    if (err) {
        vd_warn("%s; later launches get their own connection", err->message);
        g_clear_error(&err);
    }
    if (opts->ready) {
        a.phase = WAIT_READY;
        set_status(&a, "waiting for the guest");
        a.ready_thread = g_thread_new("app-ready", ready_main, &a);
    } else {
        connect_session(&a);
    }
    app_loop(&a);
    if (a.ready_thread) {
        g_atomic_int_set(&a.ready_quit, 1);
        g_thread_join(a.ready_thread);
    }
    g_clear_pointer(&a.watch, rdp_watch_free);
    app_control_destroy(a.control);
    /* Destroyed once it reported CLOSED, never joined while it works. */
    sdl_util_close_sessions(&a.session, 1);
    AppRequest *req;
    GError *gone = g_error_new(VD_ERROR, VD_ERROR_FAILED, "the RemoteApp session ended");
    while ((req = g_queue_pop_head(&a.launches)))
        app_control_reply(req, gone);
    g_error_free(gone);
    g_hash_table_destroy(a.windows);
    monitors_destroy(a.monitors);
    app_window_status_close(&a);
    if (a.cursor)
        SDL_FreeCursor(a.cursor);
    SDL_Quit();
    g_free(a.status);
    g_free(a.ready_status);
    g_clear_error(&a.ready_error);
    g_free(a.next_class);
    g_free(a.clip_offered);
    g_free(a.hang);
    g_free(a.copying);
    g_mutex_clear(&a.lock);
    if (a.fatal) {
        g_propagate_error(error, a.fatal);
        return false;
    }
    return true;
}
