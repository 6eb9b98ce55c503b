#include "ui/app_window.h"

#include "apps/app_control.h"
#include "common/error.h"
#include "common/log.h"
#include "ui/keymap.h"
#include "ui/sdl_util.h"

#include <SDL.h>
#include <SDL_syswm.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdio.h>
#include <string.h>

#define READY_POLL_MS 500
/* A server that answered the launch but never sent a window for it. */
#define FIRST_WINDOW_TIMEOUT_MS 60000
#define CLIPBOARD_POLL_MS 1500
#define STATUS_W 420
#define STATUS_H 96

/* Windows window styles (MS-RDPERP carries them as they are). */
#define WS_POPUP_BIT 0x80000000u
#define WS_CAPTION_BITS 0x00C00000u
#define WS_EX_TOOLWINDOW_BIT 0x00000080u
/* xrdp's extension: the client draws the frame (X programs have none). */
#define WS_EX_DECORATIONS_BIT 0x40000000u

typedef struct App App;

typedef struct {
    App *app;
    uint32_t id, owner;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int x, y, w, h;            /* the server's rectangle */
    bool has_vis;              /* the server said what of it is visible: */
    int vis_x, vis_y, vis_box[4]; /* (SessionRailWindow) */
    SDL_Rect shown;            /* the part shown here, on the desktop */
    int tex_w, tex_h;
    int show;
    uint32_t style, ex_style;
    char *title;
    bool decorated;
    bool presented;            /* a picture was shown */
    bool redraw;
    int asked_x, asked_y;      /* where we last put it: the WM's moves differ */
} AppWin;

typedef enum { WAIT_READY, WAIT_CONNECT, RUNNING } Phase;

struct App {
    const AppWindowOptions *opts;
    Phase phase;
    Session *session;
    bool connected;
    GHashTable *windows;       /* id -> AppWin* */
    Uint32 wake_event;
    AppControl *control;
    GQueue launches;           /* AppRequest* waiting for the server's answer */
    char *next_class;          /* StartupWMClass for the next top-level window */
    SDL_Cursor *cursor;
    unsigned buttons;
    uint32_t focused;          /* the window with our keyboard focus */
    SDL_Window *status_win;
    SDL_Renderer *status_ren;
    char *status;
    gint64 t0;
    gint64 connected_at;
    /* the readiness thread */
    GThread *ready_thread;
    GMutex lock;
    char *ready_status;        /* under lock */
    GError *ready_error;       /* under lock */
    gint ready_state;          /* atomic: 0 waiting, 1 ready, 2 failed */
    gint ready_quit;           /* atomic */
    Uint32 linger_at;          /* ticks; 0: not lingering */
    bool ever_window;
    bool first_shown;
    bool quit;
    GError *fatal;
    char *clip_offered;
    Uint32 next_clip_poll;
};

static void notify(void *data)
{
    App *a = data;
    SDL_Event ev = {.type = a->wake_event};
    SDL_PushEvent(&ev);
}

static gint64 elapsed_ms(App *a)
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
    int pos = (int)((elapsed_ms(a) / 8) % (bar_w + block)) - block;
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

static void status_close(App *a)
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
            a->ready_error = g_error_new(
                VD_ERROR, VD_ERROR_TIMEOUT,
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

/* --- windows --- */

/* The whole screen (all displays): the server's virtual desktop. */
static void screen_bounds(SDL_Rect *all)
{
    *all = (SDL_Rect){0, 0, 0, 0};
    int n = SDL_GetNumVideoDisplays();
    for (int i = 0; i < n; i++) {
        SDL_Rect r;
        if (SDL_GetDisplayBounds(i, &r) == 0)
            SDL_UnionRect(all, &r, all);
    }
    if (all->w <= 0 || all->h <= 0)
        *all = (SDL_Rect){0, 0, 1920, 1080};
}

/* WM_CLASS per window (SDL sets one per process): the desktop entry's
 * StartupWMClass, so the window groups under the program's own icon. */
static void set_wm_class(SDL_Window *win, const char *cls)
{
    if (!cls)
        return;
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    if (!SDL_GetWindowWMInfo(win, &info) || info.subsystem != SDL_SYSWM_X11)
        return;
    XClassHint hint = {.res_name = (char *)cls, .res_class = (char *)cls};
    XSetClassHint(info.info.x11.display, info.info.x11.window, &hint);
}

static AppWin *win_of_sdl(Uint32 window_id)
{
    SDL_Window *sw = SDL_GetWindowFromID(window_id);
    return sw ? SDL_GetWindowData(sw, "vmdesk-app") : NULL;
}

/* What of the window is shown here: its rectangle, cut to the bounding
 * box of what the server says is visible (Windows 10 and 11 surround their
 * windows with invisible resize borders, which would show as black frames). */
static void update_shown(AppWin *aw)
{
    SDL_Rect r = {aw->x, aw->y, MAX(aw->w, 1), MAX(aw->h, 1)};
    if (aw->has_vis) {
        SDL_Rect v = {aw->vis_x + aw->vis_box[0], aw->vis_y + aw->vis_box[1],
                      aw->vis_box[2] - aw->vis_box[0], aw->vis_box[3] - aw->vis_box[1]};
        SDL_Rect cut;
        if (SDL_IntersectRect(&r, &v, &cut))
            r = cut;
    }
    aw->shown = r;
}

/* Copy the window's part of the desktop picture into its texture. */
static void copy_area(AppWin *aw, int dx, int dy, int dw, int dh)
{
    SessionFramebuffer *fb = &aw->app->session->fb;
    const SDL_Rect *sh = &aw->shown;
    /* @dx.. are desktop coordinates; clip to what is shown and the desktop */
    int x0 = MAX(dx, MAX(sh->x, 0)), y0 = MAX(dy, MAX(sh->y, 0));
    int x1 = MIN(dx + dw, MIN(sh->x + aw->tex_w, fb->width));
    int y1 = MIN(dy + dh, MIN(sh->y + aw->tex_h, fb->height));
    if (!aw->tex || x1 <= x0 || y1 <= y0)
        return;
    SDL_Rect r = {x0 - sh->x, y0 - sh->y, x1 - x0, y1 - y0};
    SDL_UpdateTexture(aw->tex, &r, (const uint8_t *)fb->pixels + (size_t)y0 * fb->stride + x0 * 4,
                      fb->stride);
    aw->redraw = true;
}

static void make_texture(AppWin *aw)
{
    int w = aw->shown.w, h = aw->shown.h;
    if (aw->tex && aw->tex_w == w && aw->tex_h == h) {
        SessionFramebuffer *fb = &aw->app->session->fb;
        g_mutex_lock(&fb->lock);
        copy_area(aw, aw->shown.x, aw->shown.y, w, h); /* moved: what is there now */
        g_mutex_unlock(&fb->lock);
        return;
    }
    if (aw->tex)
        SDL_DestroyTexture(aw->tex);
    aw->tex = SDL_CreateTexture(aw->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, w, h);
    aw->tex_w = w;
    aw->tex_h = h;
    if (aw->tex) {
        /* Black first, then what the desktop has. */
        void *px;
        int pitch;
        if (SDL_LockTexture(aw->tex, NULL, &px, &pitch) == 0) {
            memset(px, 0, (size_t)pitch * h);
            SDL_UnlockTexture(aw->tex);
        }
        SessionFramebuffer *fb = &aw->app->session->fb;
        g_mutex_lock(&fb->lock);
        copy_area(aw, aw->shown.x, aw->shown.y, w, h);
        g_mutex_unlock(&fb->lock);
    }
}

static void win_render(AppWin *aw)
{
    SDL_SetRenderDrawColor(aw->ren, 0, 0, 0, 255);
    SDL_RenderClear(aw->ren);
    if (aw->tex)
        SDL_RenderCopy(aw->ren, aw->tex, NULL, NULL);
    SDL_RenderPresent(aw->ren);
    aw->redraw = false;
    if (!aw->presented && aw->tex) {
        aw->presented = true;
        App *a = aw->app;
        if (!a->first_shown) {
            a->first_shown = true;
            printf("%s: window \"%s\" shown, %" G_GINT64_FORMAT " ms after the launch\n",
                   a->opts->title, aw->title ? aw->title : "", elapsed_ms(a));
            fflush(stdout);
            status_close(a);
        }
    }
}

static void place(AppWin *aw)
{
    update_shown(aw);
    aw->asked_x = aw->shown.x;
    aw->asked_y = aw->shown.y;
    SDL_SetWindowPosition(aw->win, aw->shown.x, aw->shown.y);
    int cw, ch;
    SDL_GetWindowSize(aw->win, &cw, &ch);
    if (cw != aw->shown.w || ch != aw->shown.h)
        SDL_SetWindowSize(aw->win, aw->shown.w, aw->shown.h);
    make_texture(aw);
}

/* The server's visibility fields of @rw, kept (they may come alone). */
static bool take_visibility(AppWin *aw, const SessionRailWindow *rw)
{
    if (rw->fields & SESSION_RAIL_VIS_OFFSET) {
        aw->vis_x = rw->vis_x;
        aw->vis_y = rw->vis_y;
    }
    if (rw->fields & SESSION_RAIL_VISIBILITY) {
        memcpy(aw->vis_box, rw->vis_box, sizeof(aw->vis_box));
        aw->has_vis = true;
    }
    return rw->fields & (SESSION_RAIL_VIS_OFFSET | SESSION_RAIL_VISIBILITY);
}

static void apply_show(AppWin *aw)
{
    Uint32 f = SDL_GetWindowFlags(aw->win);
    switch (aw->show) {
    case SESSION_RAIL_HIDDEN:
        SDL_HideWindow(aw->win);
        break;
    case SESSION_RAIL_MINIMIZED:
        if (!(f & SDL_WINDOW_MINIMIZED))
            SDL_MinimizeWindow(aw->win);
        break;
    default: /* shown or maximized: the server's rectangle says where */
        if (f & SDL_WINDOW_HIDDEN)
            SDL_ShowWindow(aw->win);
        if (f & SDL_WINDOW_MINIMIZED)
            SDL_RestoreWindow(aw->win);
        break;
    }
}

static AppWin *win_create(App *a, const SessionRailWindow *rw)
{
    AppWin *aw = g_new0(AppWin, 1);
    aw->app = a;
    aw->id = rw->id;
    aw->owner = rw->owner;
    aw->x = rw->x == INT32_MIN ? 0 : rw->x;
    aw->y = rw->y == INT32_MIN ? 0 : rw->y;
    aw->w = rw->w > 0 ? rw->w : 1;
    aw->h = rw->h > 0 ? rw->h : 1;
    aw->show = rw->fields & SESSION_RAIL_SHOW ? rw->show : SESSION_RAIL_SHOWN;
    aw->style = rw->style;
    aw->ex_style = rw->ex_style;
    aw->title = g_strdup(rw->title ? rw->title : "");
    aw->decorated = (rw->ex_style & WS_EX_DECORATIONS_BIT) != 0;
    AppWin *owner = aw->owner ? g_hash_table_lookup(a->windows, GUINT_TO_POINTER(aw->owner)) : NULL;
    bool popup = (aw->style & WS_POPUP_BIT) && (aw->style & WS_CAPTION_BITS) != WS_CAPTION_BITS;
    Uint32 flags = SDL_WINDOW_HIDDEN | SDL_WINDOW_ALLOW_HIGHDPI;
    if (aw->decorated)
        flags |= SDL_WINDOW_RESIZABLE;
    else
        flags |= SDL_WINDOW_BORDERLESS;
    if (popup && owner)
        flags |= SDL_WINDOW_POPUP_MENU | SDL_WINDOW_SKIP_TASKBAR; /* menus, tooltips: exact place */
    else if (aw->ex_style & WS_EX_TOOLWINDOW_BIT)
        flags |= SDL_WINDOW_UTILITY | SDL_WINDOW_SKIP_TASKBAR;
    take_visibility(aw, rw);
    update_shown(aw);
    aw->win = SDL_CreateWindow(aw->title, aw->shown.x, aw->shown.y, aw->shown.w, aw->shown.h,
                               flags);
    if (aw->win)
        aw->ren = sdl_util_renderer(aw->win);
    if (!aw->win || !aw->ren) {
        vd_warn("cannot create a window for \"%s\": %s", aw->title, SDL_GetError());
        if (aw->win)
            SDL_DestroyWindow(aw->win);
        g_free(aw->title);
        g_free(aw);
        return NULL;
    }
    SDL_SetWindowData(aw->win, "vmdesk-app", aw);
    set_wm_class(aw->win, a->next_class ? a->next_class : a->opts->wm_class);
    if (owner)
        SDL_SetWindowModalFor(aw->win, owner->win);
    aw->asked_x = aw->shown.x;
    aw->asked_y = aw->shown.y;
    make_texture(aw);
    apply_show(aw);
    aw->redraw = true;
    vd_debug("app: window 0x%x \"%s\" at %d,%d %dx%d%s", aw->id, aw->title, aw->x, aw->y, aw->w,
             aw->h, owner ? " (owned)" : "");
    return aw;
}

static void win_destroy(gpointer p)
{
    AppWin *aw = p;
    if (aw->tex)
        SDL_DestroyTexture(aw->tex);
    if (aw->ren)
        SDL_DestroyRenderer(aw->ren);
    if (aw->win)
        SDL_DestroyWindow(aw->win);
    g_free(aw->title);
    g_free(aw);
}

static void rail_window(App *a, const SessionRailWindow *rw)
{
    AppWin *aw = g_hash_table_lookup(a->windows, GUINT_TO_POINTER(rw->id));
    if (!aw) {
        if (!(aw = win_create(a, rw)))
            return;
        g_hash_table_insert(a->windows, GUINT_TO_POINTER(rw->id), aw);
        a->ever_window = true;
        a->linger_at = 0;
        return;
    }
    if (rw->fields & SESSION_RAIL_TITLE) {
        g_free(aw->title);
        aw->title = g_strdup(rw->title);
        SDL_SetWindowTitle(aw->win, aw->title);
    }
    if (rw->fields & SESSION_RAIL_STYLE) {
        aw->style = rw->style;
        aw->ex_style = rw->ex_style;
    }
    bool vis = take_visibility(aw, rw);
    if (rw->fields & SESSION_RAIL_RECT) {
        if (rw->x != INT32_MIN) {
            aw->x = rw->x;
            aw->y = rw->y;
        }
        if (rw->w > 0) {
            aw->w = rw->w;
            aw->h = rw->h;
        }
    }
    if (rw->fields & SESSION_RAIL_RECT || vis) {
        /* A minimized Windows window moves far off the screen: leave ours. */
        if (aw->show != SESSION_RAIL_MINIMIZED)
            place(aw);
    }
    if (rw->fields & SESSION_RAIL_SHOW) {
        aw->show = rw->show;
        apply_show(aw);
    }
}

/* No window left and no launch under way: the connection ends @linger_ms
 * from now unless a program starts again. */
static void maybe_linger(App *a)
{
    if (g_hash_table_size(a->windows) == 0 && g_queue_is_empty(&a->launches) && !a->linger_at) {
        vd_debug("app: no window left; the connection ends in %d ms", a->opts->linger_ms);
        a->linger_at = SDL_GetTicks() + (Uint32)MAX(a->opts->linger_ms, 1);
    }
}

static void rail_delete(App *a, uint32_t id)
{
    if (!g_hash_table_remove(a->windows, GUINT_TO_POINTER(id)))
        return;
    if (a->focused == id)
        a->focused = 0;
    maybe_linger(a);
}

static void rail_icon(App *a, uint32_t id, uint32_t *argb, int w, int h)
{
    AppWin *aw = g_hash_table_lookup(a->windows, GUINT_TO_POINTER(id));
    if (!aw || !argb)
        return;
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormatFrom(argb, w, h, 32, w * 4,
                                                        SDL_PIXELFORMAT_ARGB8888);
    if (s) {
        SDL_SetWindowIcon(aw->win, s);
        SDL_FreeSurface(s);
    }
}

static void take_frame(App *a)
{
    SessionFramebuffer *fb = &a->session->fb;
    int x, y, w, h;
    g_mutex_lock(&fb->lock);
    if (session_take_dirty(a->session, &x, &y, &w, &h)) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, a->windows);
        while (g_hash_table_iter_next(&it, NULL, &v))
            copy_area(v, x, y, w, h);
    }
    g_mutex_unlock(&fb->lock);
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
        maybe_linger(a);
}

/* --- events --- */

static void connect_session(App *a)
{
    SDL_Rect all;
    screen_bounds(&all);
    RdpTarget t = *a->opts->rdp;
    t.width = all.x + all.w;
    t.height = all.y + all.h;
    if (!t.scale_pct && a->status_win)
        t.scale_pct = sdl_util_scale_pct(a->status_win, a->status_ren);
    a->session = rdp_session_create(&t, notify, a);
    a->phase = WAIT_CONNECT;
    set_status(a, "connecting");
    GError *err = NULL;
    if (!session_connect(a->session, &err)) {
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

static void offer_clipboard(App *a)
{
    if (a->session && a->connected)
        sdl_util_offer_clipboard(a->session, &a->clip_offered, false);
}

static void session_events(App *a)
{
    SessionEvent *ev;
    while (a->session && (ev = session_next_event(a->session))) {
        switch (ev->type) {
        case SESSION_EV_CONNECTED:
            a->connected = true;
            a->phase = RUNNING;
            a->connected_at = g_get_monotonic_time();
            set_status(a, "connected; starting the program");
            offer_clipboard(a);
            break;
        case SESSION_EV_RESIZED:
        case SESSION_EV_LOGON:
            break;
        case SESSION_EV_FRAME:
            take_frame(a);
            break;
        case SESSION_EV_CLIPBOARD:
            g_free(a->clip_offered);
            a->clip_offered = g_strdup(ev->text);
            SDL_SetClipboardText(ev->text);
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
        case SESSION_EV_RAIL_WINDOW:
            rail_window(a, ev->rail);
            break;
        case SESSION_EV_RAIL_DELETE:
            rail_delete(a, ev->rail->id);
            break;
        case SESSION_EV_RAIL_ICON:
            rail_icon(a, ev->rail->id, ev->pixels, ev->w, ev->h);
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
            a->quit = true;
            continue;
        }
        session_event_free(ev);
    }
}

static void send_pointer(App *a, AppWin *aw, int wx, int wy, unsigned extra)
{
    if (!a->session || !a->connected)
        return;
    int ww, wh, ow, oh;
    SDL_GetWindowSize(aw->win, &ww, &wh);
    SDL_GetRendererOutputSize(aw->ren, &ow, &oh);
    int x = aw->shown.x + (ww ? wx * ow / ww : wx), y = aw->shown.y + (wh ? wy * oh / wh : wy);
    session_pointer(a->session, x, y, a->buttons | extra);
}

static void window_event(App *a, AppWin *aw, const SDL_WindowEvent *e)
{
    Session *s = a->session;
    switch (e->event) {
    case SDL_WINDOWEVENT_CLOSE:
        if (s)
            rdp_session_rail_command(s, aw->id, RDP_RAIL_CLOSE);
        break;
    case SDL_WINDOWEVENT_EXPOSED:
        aw->redraw = true;
        break;
    case SDL_WINDOWEVENT_MOVED:
        /* The desktop's window manager moved it (not us): tell the server. */
        if ((e->data1 != aw->asked_x || e->data2 != aw->asked_y) && s &&
            aw->show != SESSION_RAIL_MINIMIZED) {
            int dx = e->data1 - aw->asked_x, dy = e->data2 - aw->asked_y;
            aw->x += dx;
            aw->y += dy;
            aw->vis_x += dx;
            aw->vis_y += dy;
            update_shown(aw);
            aw->asked_x = e->data1;
            aw->asked_y = e->data2;
            rdp_session_rail_move(s, aw->id, aw->x, aw->y, aw->w, aw->h);
        }
        break;
    case SDL_WINDOWEVENT_SIZE_CHANGED: {
        int ow, oh;
        SDL_GetRendererOutputSize(aw->ren, &ow, &oh);
        if ((ow != aw->shown.w || oh != aw->shown.h) && s && aw->decorated) {
            aw->w += ow - aw->shown.w;
            aw->h += oh - aw->shown.h;
            if (aw->has_vis) {
                aw->vis_box[2] += ow - aw->shown.w;
                aw->vis_box[3] += oh - aw->shown.h;
            }
            update_shown(aw);
            rdp_session_rail_move(s, aw->id, aw->x, aw->y, aw->w, aw->h);
            make_texture(aw);
        }
        aw->redraw = true;
        break;
    }
    case SDL_WINDOWEVENT_MINIMIZED:
        if (aw->show != SESSION_RAIL_MINIMIZED && s)
            rdp_session_rail_command(s, aw->id, RDP_RAIL_MINIMIZE);
        break;
    case SDL_WINDOWEVENT_MAXIMIZED:
        if (aw->show != SESSION_RAIL_MAXIMIZED && s)
            rdp_session_rail_command(s, aw->id, RDP_RAIL_MAXIMIZE);
        break;
    case SDL_WINDOWEVENT_RESTORED:
        if ((aw->show == SESSION_RAIL_MINIMIZED || aw->show == SESSION_RAIL_MAXIMIZED) && s)
            rdp_session_rail_command(s, aw->id, RDP_RAIL_RESTORE);
        aw->redraw = true;
        break;
    case SDL_WINDOWEVENT_FOCUS_GAINED:
        a->focused = aw->id;
        if (s)
            rdp_session_rail_activate(s, aw->id, true);
        offer_clipboard(a);
        break;
    case SDL_WINDOWEVENT_FOCUS_LOST:
        if (s && a->connected) {
            for (size_t i = 0; i < G_N_ELEMENTS(sdl_util_modifiers); i++)
                session_key(s, keymap_sdl_to_qnum((int)sdl_util_modifiers[i]), 0, false);
            rdp_session_rail_activate(s, aw->id, false);
        }
        if (a->focused == aw->id)
            a->focused = 0;
        break;
    default:
        break;
    }
}

static void sdl_event(App *a, const SDL_Event *e)
{
    AppWin *aw = NULL;
    switch (e->type) {
    case SDL_QUIT: /* a signal: the last window closing does not quit (hint below) */
        a->quit = true;
        return;
    case SDL_WINDOWEVENT:
        if ((aw = win_of_sdl(e->window.windowID)))
            window_event(a, aw, &e->window);
        else if (a->status_win && e->window.event == SDL_WINDOWEVENT_CLOSE &&
                 e->window.windowID == SDL_GetWindowID(a->status_win))
            a->quit = true; /* the user gave up waiting */
        return;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        if (a->session && a->connected && win_of_sdl(e->key.windowID))
            session_key(a->session, keymap_sdl_to_qnum((int)e->key.keysym.scancode),
                        sdl_util_keysym(e->key.keysym.sym), e->type == SDL_KEYDOWN);
        return;
    case SDL_MOUSEMOTION:
        if ((aw = win_of_sdl(e->motion.windowID)))
            send_pointer(a, aw, e->motion.x, e->motion.y, 0);
        return;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        if ((aw = win_of_sdl(e->button.windowID))) {
            unsigned bit = sdl_util_button_bit(e->button.button);
            if (e->type == SDL_MOUSEBUTTONDOWN)
                a->buttons |= bit;
            else
                a->buttons &= ~bit;
            /* Keep the pointer while a button is held: the server moves
             * the window under it during a drag by its title bar. */
            SDL_CaptureMouse(a->buttons ? SDL_TRUE : SDL_FALSE);
            send_pointer(a, aw, e->button.x, e->button.y, 0);
        }
        return;
    case SDL_MOUSEWHEEL:
        if ((aw = win_of_sdl(e->wheel.windowID))) {
            int mx, my, wx, wy;
            SDL_GetGlobalMouseState(&mx, &my);
            SDL_GetWindowPosition(aw->win, &wx, &wy);
            unsigned b = sdl_util_wheel_bits(&e->wheel);
            if (b)
                send_pointer(a, aw, mx - wx, my - wy, b);
        }
        return;
    case SDL_CLIPBOARDUPDATE:
        offer_clipboard(a);
        return;
    default:
        return;
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
        AppRequest *req;
        while (a->phase != WAIT_READY && (req = app_control_next(a->control)))
            launch(a, req);
        Uint32 now = SDL_GetTicks();
        if (a->linger_at && SDL_TICKS_PASSED(now, a->linger_at))
            a->quit = true;
        if (a->connected && !a->ever_window &&
            g_get_monotonic_time() - a->connected_at > FIRST_WINDOW_TIMEOUT_MS * 1000ll) {
            a->fatal = g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                                   "%s: the server accepted the RemoteApp session but sent no "
                                   "window for %s within %d s; its RemoteApp support may be "
                                   "missing or incomplete (xrdp 0.9 never starts it: for Linux "
                                   "guests vmdesk app uses --mode desktop)",
                                   a->opts->title, a->opts->rdp->remote_app,
                                   FIRST_WINDOW_TIMEOUT_MS / 1000);
            a->quit = true;
        }
        if (a->focused && SDL_TICKS_PASSED(now, a->next_clip_poll)) {
            offer_clipboard(a);
            a->next_clip_poll = now + CLIPBOARD_POLL_MS;
        }
        status_draw(a);
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, a->windows);
        while (g_hash_table_iter_next(&it, NULL, &v))
            if (((AppWin *)v)->redraw)
                win_render(v);
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
    if (!sdl_util_init(error)) {
        g_mutex_clear(&a.lock);
        return false;
    }
    a.wake_event = SDL_RegisterEvents(1);
    a.windows = g_hash_table_new_full(NULL, NULL, NULL, win_destroy);
    SDL_EventState(SDL_CLIPBOARDUPDATE, SDL_ENABLE);
    a.status_win = SDL_CreateWindow(opts->rdp->remote_app, SDL_WINDOWPOS_CENTERED,
                                    SDL_WINDOWPOS_CENTERED, STATUS_W, STATUS_H,
                                    SDL_WINDOW_ALLOW_HIGHDPI | SDL_WINDOW_UTILITY);
    if (a.status_win) {
        set_wm_class(a.status_win, opts->wm_class);
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
    app_control_destroy(a.control);
    if (a.session) {
        session_disconnect_start(a.session);
        session_destroy(a.session);
    }
    AppRequest *req;
    GError *gone = g_error_new(VD_ERROR, VD_ERROR_FAILED, "the RemoteApp session ended");
    while ((req = g_queue_pop_head(&a.launches)))
        app_control_reply(req, gone);
    g_error_free(gone);
    g_hash_table_destroy(a.windows);
    status_close(&a);
    if (a.cursor)
        SDL_FreeCursor(a.cursor);
    SDL_Quit();
    g_free(a.status);
    g_free(a.ready_status);
    g_clear_error(&a.ready_error);
    g_free(a.next_class);
    g_free(a.clip_offered);
    g_mutex_clear(&a.lock);
    if (a.fatal) {
        g_propagate_error(error, a.fatal);
        return false;
    }
    return true;
}
