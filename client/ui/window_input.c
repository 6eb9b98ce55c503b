/* The user's side of the desktop window: keys (with the window's own
 * hotkeys), the pointer mapped onto the desktop, the host clipboard, and
 * SDL's window events. */
#include "common/log.h"
#include "ui/keymap.h"
#include "ui/sdl_util.h"
#include "ui/wayland.h"
#include "ui/window_priv.h"

static void send_key(Win *w, SDL_Scancode sc, SDL_Keycode sym, bool down)
{
    /* A hung server's session ignores input (its title says so). */
    if (w->session && w->connected && !w->hung)
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
    if (grab && !wayland_has_shortcuts_inhibit())
        vd_debug("the compositor has no keyboard-shortcuts-inhibit: its own shortcuts stay its own");
    window_update_title(w);
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
    if (window_monitors_point(w, wx, wy, x, y))
        return true;
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
    if (w->session && w->connected && !w->hung && to_desktop(w, wx, wy, &x, &y))
        session_pointer(w->session, x, y, w->buttons | extra);
}

void window_offer_clipboard(Win *w)
{
    if (!w->session || !w->connected)
        return;
    if (sdl_util_offer_clipboard(w->session, &w->clip_offered, w->clip_session != w->session))
        w->clip_session = w->session;
}

void window_handle_sdl_event(Win *w, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT:
        w->quit = true;
        break;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
            e->window.event == SDL_WINDOWEVENT_RESIZED) {
            window_layout(w);
            w->redraw = true;
            /* RDP follows the window: a new desktop size instead of scaling. */
            if (w->session && w->connected && session_can_resize(w->session) && !w->n_mons) {
                int ow, oh;
                SDL_GetRendererOutputSize(w->ren, &ow, &oh);
                session_resize(w->session, ow, oh, window_display_scale_pct(w));
            }
        } else if (e->window.event == SDL_WINDOWEVENT_EXPOSED) {
            w->redraw = true;
        } else if (e->window.event == SDL_WINDOWEVENT_FOCUS_GAINED) {
            /* SDL 2.26 on X11 hears of clipboard changes only when it owned
             * the clipboard: look when the user comes back to the window. */
            window_offer_clipboard(w);
        } else if (e->window.event == SDL_WINDOWEVENT_FOCUS_LOST && w->session && w->connected) {
            /* Keys held while focus leaves would stay down in the guest. */
            for (size_t i = 0; i < G_N_ELEMENTS(sdl_util_modifiers); i++)
                send_key(w, sdl_util_modifiers[i],
                         SDL_GetKeyFromScancode(sdl_util_modifiers[i]), false);
        }
        break;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        if (sdl_util_copy_cancel_key(w->session, w->copying && w->copying == w->session,
                                     &w->esc_eaten, &e->key))
            break;
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
        window_offer_clipboard(w);
        break;
    default:
        break;
    }
}
