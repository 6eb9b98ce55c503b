/* Which SDL video driver a window uses on a Wayland desktop, and what the
 * compositor offers. SDL 2.26 picks X11 (XWayland) whenever DISPLAY is set
 * and crashes in its Wayland initialisation on a compositor without a
 * wl_seat (weston's headless backend): vmdesk looks at the compositor's
 * globals first and chooses itself (docs/wayland.md):
 *   - the desktop window runs natively on Wayland (sharp at the output's
 *     scale, the keyboard grab through keyboard-shortcuts-inhibit);
 *   - RemoteApp windows go through XWayland when there is one: Wayland
 *     lets no client place its windows, and SDL 2.26 has no xdg_popup, so
 *     the server's menus would open as windows the compositor places;
 *   - SDL_VIDEODRIVER set by the user is followed, except "wayland" on a
 *     compositor without a seat (XWayland then, or a clear error).
 * No Wayland type leaves wayland.c. Main thread, before SDL_Init. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* What a window is for: the desktop window, or RemoteApp windows. */
typedef enum {
    WAYLAND_FOR_DESKTOP,
    WAYLAND_FOR_REMOTEAPP,
} WaylandUse;

/* The compositor's globals that matter to SDL 2.26 and vmdesk. */
typedef struct {
    bool reached;           /* WAYLAND_DISPLAY leads to a compositor */
    bool seat;              /* wl_seat (SDL 2.26 cannot start without one) */
    bool xdg_shell;         /* xdg_wm_base: windows SDL 2.26 can show */
    bool shortcuts_inhibit; /* zwp_keyboard_shortcuts_inhibit_manager_v1 */
    bool data_device;       /* wl_data_device_manager: the clipboard */
    int scale;              /* the largest wl_output scale (1 when none) */
} WaylandCompositor;

/* One output (monitor) as the compositor describes it through wl_output
 * (version 2): what SDL 2.26's displays lack, their own scale. */
typedef struct {
    int x, y;       /* wl_output.geometry: its place in the compositor's space */
    int px_w, px_h; /* its current mode in pixels, as shown (a 90/270 rotation
                     * swaps them) */
    int mm_w, mm_h; /* its physical size, as shown; 0: unknown */
    int scale;      /* wl_output.scale: an integer, at least 1 (a fractional
                     * desktop scale arrives rounded up) */
} WaylandOutput;

/* What the choice depends on (wayland_choose). */
typedef struct {
    const char *requested; /* SDL_VIDEODRIVER, or NULL */
    bool x_display;        /* DISPLAY is set (XWayland on a Wayland desktop) */
    WaylandCompositor wl;  /* wayland_probe's answer */
} WaylandSituation;

/* Read the globals of the compositor WAYLAND_DISPLAY (or the default
 * socket) names; *@out is all false (scale 1) when none answers. Opens and
 * closes a connection of its own. */
void wayland_probe(WaylandCompositor *out);

/* The compositor's outputs now into @out (at most @max), in the order it
 * announces them (SDL's display order): how many; 0 when no compositor
 * answers or it has no output. Opens and closes a connection of its own
 * (two round trips). Main thread. */
int wayland_list_outputs(WaylandOutput *out, int max);

/* Which of @o[0..@n) is the SDL display at @x,@y @w x @h (SDL 2.26's bounds
 * on Wayland: the output's place, and its size in its own logical units,
 * the pixels over the scale), skipping those @taken marks (may be NULL):
 * the output of exactly that place and size, else of that place, else the
 * one it overlaps most (its pixels over its scale), else the nearest; the
 * first of equals. -1 when none is left. Pure: unit-tested. */
int wayland_match_output(const WaylandOutput *o, int n, const bool *taken, int x, int y, int w,
                         int h);

/* The SDL video driver for @use in @in: "wayland", "x11", or NULL (leave it
 * to SDL: no Wayland compositor, or the user's SDL_VIDEODRIVER names some
 * other driver). NULL with @error set when no driver can work: "wayland"
 * asked for, or only Wayland there, on a compositor without a seat or
 * without xdg_wm_base. Pure: unit-tested. The string is static. */
const char *wayland_choose(const WaylandSituation *in, WaylandUse use, GError **error);

/* Probe, choose and tell SDL (SDL_HINT_VIDEODRIVER) before SDL_Init;
 * false with @error as wayland_choose. Remembers the probe for
 * wayland_has_shortcuts_inhibit. */
bool wayland_select_video_driver(WaylandUse use, GError **error);

/* Whether the compositor the window runs on honours SDL's keyboard grab
 * (keyboard-shortcuts-inhibit); true on X11, where SDL grabs the keyboard
 * itself. Call after wayland_select_video_driver and SDL_Init. */
bool wayland_has_shortcuts_inhibit(void);
