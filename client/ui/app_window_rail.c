/* The RemoteApp windows themselves (app_window.h): one SDL window per
 * window of the server's programs, at the position, size and stacking the
 * server gives, showing its rectangle of the server's desktop, with the
 * server's title and icon; the user's moves, resizes, minimize, maximize,
 * close and focus go back to the server. */
#include "common/log.h"
#include "ui/app_window_priv.h"
#include "ui/keymap.h"
#include "ui/sdl_util.h"

#include <SDL_syswm.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <string.h>

/* WM_CLASS per window (SDL sets one per process): the desktop entry's
 * StartupWMClass, so the window groups under the program's own icon. */
void app_window_set_wm_class(SDL_Window *win, const char *cls)
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

AppWin *app_window_of_sdl(Uint32 window_id)
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

void app_window_win_retitle(AppWin *aw)
{
    g_autofree char *t = aw->app->hang ? g_strdup_printf("%s — %s, input ignored", aw->title,
                                                         aw->app->hang)
                                       : NULL;
    SDL_SetWindowTitle(aw->win, t ? t : aw->title);
}

void app_window_win_render(AppWin *aw)
{
    SDL_SetRenderDrawColor(aw->ren, 0, 0, 0, 255);
    SDL_RenderClear(aw->ren);
    if (aw->tex) {
        /* A server that does not answer: its last picture, dimmed. */
        Uint8 c = aw->app->hang ? 110 : 255;
        SDL_SetTextureColorMod(aw->tex, c, c, c);
        SDL_RenderCopy(aw->ren, aw->tex, NULL, NULL);
    }
    SDL_RenderPresent(aw->ren);
    aw->redraw = false;
    if (!aw->presented && aw->tex) {
        aw->presented = true;
        App *a = aw->app;
        if (!a->first_shown) {
            a->first_shown = true;
            printf("%s: window \"%s\" shown, %" G_GINT64_FORMAT " ms after the launch\n",
                   a->opts->title, aw->title ? aw->title : "", app_window_elapsed_ms(a));
            fflush(stdout);
            app_window_status_close(a);
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
    app_window_set_wm_class(aw->win, a->next_class ? a->next_class : a->opts->wm_class);
    if (owner)
        SDL_SetWindowModalFor(aw->win, owner->win);
    aw->asked_x = aw->shown.x;
    aw->asked_y = aw->shown.y;
    if (a->hang)
        app_window_win_retitle(aw);
    make_texture(aw);
    apply_show(aw);
    aw->redraw = true;
    vd_debug("app: window 0x%x \"%s\" at %d,%d %dx%d%s", aw->id, aw->title, aw->x, aw->y, aw->w,
             aw->h, owner ? " (owned)" : "");
    return aw;
}

void app_window_win_destroy(gpointer p)
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

void app_window_rail_window(App *a, const SessionRailWindow *rw)
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
        app_window_win_retitle(aw);
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
void app_window_maybe_linger(App *a)
{
    if (g_hash_table_size(a->windows) == 0 && g_queue_is_empty(&a->launches) && !a->linger_at) {
        vd_debug("app: no window left; the connection ends in %d ms", a->opts->linger_ms);
        a->linger_at = SDL_GetTicks() + (Uint32)MAX(a->opts->linger_ms, 1);
    }
}

void app_window_rail_delete(App *a, uint32_t id)
{
    if (!g_hash_table_remove(a->windows, GUINT_TO_POINTER(id)))
        return;
    if (a->focused == id)
        a->focused = 0;
    app_window_maybe_linger(a);
}

void app_window_rail_icon(App *a, uint32_t id, uint32_t *argb, int w, int h)
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

void app_window_take_frame(App *a)
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

void app_window_send_pointer(App *a, AppWin *aw, int wx, int wy, unsigned extra)
{
    if (!a->session || !a->connected)
        return;
    int ww, wh, ow, oh;
    SDL_GetWindowSize(aw->win, &ww, &wh);
    SDL_GetRendererOutputSize(aw->ren, &ow, &oh);
    int x = aw->shown.x + (ww ? wx * ow / ww : wx), y = aw->shown.y + (wh ? wy * oh / wh : wy);
    session_pointer(a->session, x, y, a->buttons | extra);
}

void app_window_win_event(App *a, AppWin *aw, const SDL_WindowEvent *e)
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
        app_window_offer_clipboard(a);
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
