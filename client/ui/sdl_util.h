/* What the SDL windows of the client share: window.c (one desktop session)
 * and app_window.c (RemoteApp windows). SDL types appear only in these
 * files. Main thread only. */
#pragma once

#include "ui/wayland.h"

#include <SDL.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct Session Session;

/* SDL's video and events for windows of kind @use, on the video driver
 * wayland.h chooses, refusing the invisible drivers (offscreen, dummy)
 * unless SDL_VIDEODRIVER names one. */
bool sdl_util_init(WaylandUse use, GError **error);

/* A renderer for @win: SDL's accelerated one, unless OpenGL runs on a
 * software rasterizer under X11 (llvmpipe costs about three times SDL's own
 * software renderer per frame, bench/rdp-frames); then the software one.
 * On Wayland the accelerated one always (SDL 2.26's software renderer there
 * draws through it). NULL with SDL_GetError() on failure. */
SDL_Renderer *sdl_util_renderer(SDL_Window *win);

/* The X keysym of @sym as the host's modifiers make it (Shift, Caps Lock,
 * Num Lock), for servers without scancode input; 0 when there is none. */
uint32_t sdl_util_keysym(SDL_Keycode sym);

/* Escape while a copy of the server's files runs (@copying, shown in the
 * title): the copy is cancelled (session_clip_cancel) and the key, down and
 * up, is ours, not the guest's; @eaten remembers the down. Returns true when
 * the key was ours. Main thread. */
bool sdl_util_copy_cancel_key(Session *s, bool copying, bool *eaten, const SDL_KeyboardEvent *k);

/* A pointer from @w x @h ARGB words with hot spot @hx,@hy; NULL @argb:
 * invisible, or the system's arrow when @w < 0. NULL on failure. */
SDL_Cursor *sdl_util_cursor(const uint32_t *argb, int w, int h, int hx, int hy);

/* SESSION_BUTTON_* of an SDL mouse button, and SESSION_WHEEL_* of a wheel
 * event (0 when it did not move). */
unsigned sdl_util_button_bit(Uint8 button);
unsigned sdl_util_wheel_bits(const SDL_MouseWheelEvent *e);

/* The display's scale in percent for @win: renderer pixels per window unit
 * (HiDPI under Wayland), else GDK_SCALE x GDK_DPI_SCALE (X11 desktops), else
 * 100; 100..500. */
int sdl_util_scale_pct(SDL_Window *win, SDL_Renderer *ren);

/* Give the host's clipboard text to session @s when it differs from
 * *@offered (or always when @force), remembering it in *@offered; true
 * when it was given. SDL 2.26 on X11 hears of other programs' copies only
 * when it owned the clipboard, so callers also look on focus and now and
 * then; the text is read by host_clipboard.c, which never takes the
 * clipboard (an owner slower than 100 ms: its text comes at a later call). */
bool sdl_util_offer_clipboard(Session *s, char **offered, bool force);

/* The server's picture (@png, image/png) or files (@paths) offered on the
 * host's clipboard (host_clipboard.h); both borrowed, one of them NULL. */
void sdl_util_clipboard_offer(GBytes *png, char **paths);

/* Drop the events session @s (asked to end) queued; true once one of them
 * was SESSION_EV_CLOSED: destroy @s then. Main thread; never blocks. */
bool sdl_util_session_closed(Session *s);

/* Ask each of the @n sessions in @sessions (NULL entries are skipped) to
 * end, wait until each reported SESSION_EV_CLOSED and destroy it, setting
 * its entry to NULL: session.h's teardown, for a window that is closing.
 * Their other events, and SDL's events meanwhile, are dropped. Every
 * session must have been connected (one that never was cannot report
 * CLOSED: destroy it directly). Main thread; returns once their threads
 * ended. */
void sdl_util_close_sessions(Session **sessions, size_t n);

/* The modifier keys, to release them in the guest when the focus leaves
 * (keys held then would stay down there). */
extern const SDL_Scancode sdl_util_modifiers[8];
