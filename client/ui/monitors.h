/* The host's monitors, for RDP's monitor layout (session/rdp/rdp_monitors.h):
 * where each is, its size in pixels, its physical size and its scale, and
 * when they change. On X11 they come from RandR 1.5's monitor list (what
 * `xrandr --listmonitors` shows: a desktop's monitors, and those defined with
 * `xrandr --setmonitor`, which SDL 2.26 does not see: it lists outputs);
 * elsewhere from SDL's displays, on Wayland each given its output's own
 * scale and pixels (wl_output, which SDL 2.26 keeps to itself). Main
 * thread. */
#pragma once

#include "session/rdp/rdp_monitors.h"
#include "ui/wayland.h"

#include <glib.h>
#include <stdbool.h>

typedef struct Monitors Monitors;

/* Start following the host's monitors (on X11 its own connection, asking
 * for RandR's change notices). Never fails: without X it asks SDL, whose
 * video must be initialised. */
Monitors *monitors_create(void);
void monitors_destroy(Monitors *mon);

/* The host's monitors now into @out (at most RDP_MONITORS_MAX): how many (at
 * least 1; a 1920x1080 one when none can be found). Each gets its scale by
 * the rule of monitors_scale_pct with @user_pct (0: none) and
 * @desktop_pct; on Wayland a monitor's own output scale stands for
 * @desktop_pct and no density is guessed (monitors_from_outputs). */
int monitors_list(Monitors *mon, RdpMonitor *out, int user_pct, int desktop_pct);

/* Whether the monitors changed since the last call (reads RandR's notices
 * on X11; SDL's display events the caller passes to monitors_sdl_event; on
 * X11 and Wayland the list is also read again once a second: SDL 2.26
 * sends no event for a Wayland output's new scale or mode). */
bool monitors_changed(Monitors *mon);
/* An SDL_DISPLAYEVENT arrived (Wayland and X11 outputs). */
void monitors_sdl_event(Monitors *mon);

/* The scale rule (docs/devices.md, "Scales"): @user_pct when the user gave
 * one; else the desktop's own (@desktop_pct: the window's pixels per unit,
 * or GDK_SCALE x GDK_DPI_SCALE on X11) when above 100; else, X11 having no
 * per-monitor scale, the monitor's density as Windows picks a scale:
 * its dots per inch (@px_w pixels over @mm_w mm) over 96, rounded down to
 * a 25 % step, within 100..500; 100 without a physical size. Pure. */
int monitors_scale_pct(int user_pct, int desktop_pct, int px_w, int mm_w);

/* Wayland: give each of SDL's displays @m[0..@n) (place and size in the
 * desktop's logical units) the output of @o[0..@n_out) it is
 * (wayland_match_output, each output once): its size in pixels (px_w,
 * px_h), its physical size, and in @own_pct[i] its own scale in percent
 * (wl_output.scale x 100), 0 for a display no output is left for. Pure. */
void monitors_from_outputs(RdpMonitor *m, int n, const WaylandOutput *o, int n_out,
                           int *own_pct);

/* --monitors: "all" or a list of monitor numbers from 1, in the order
 * monitors_list gives ("1,3"), each named once. *@mask gets bit N-1 for
 * monitor N (all bits for "all"). False with @error (VD_ERROR_INVALID) on
 * anything else. Pure. */
bool monitors_parse_selection(const char *spec, guint32 *mask, GError **error);
/* Keep the monitors of @m[0..@n) that @mask selects, in order: how many
 * remain (a mask of none keeps them all). -1 with @error (VD_ERROR_INVALID)
 * when @mask names a monitor beyond @n: a selection must not silently fall
 * back to other monitors. When the primary is dropped, the first kept one
 * becomes primary. Pure. */
int monitors_select(RdpMonitor *m, int n, guint32 mask, GError **error);
