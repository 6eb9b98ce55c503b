/* Watching the RDP server of the session on screen (switch.h, "a hung RDP
 * server"): the probe's side, a thread that asks the server's port for an
 * X.224 Connection Confirm on a new connection every SWITCH_WATCH_PROBE_MS
 * while it is on, and the window's side, one step of the watch on the main
 * loop (feed what arrived, ask the session to repaint, turn the probe on or
 * off, decide). The desktop window (window_switch.c) and RemoteApp windows
 * (app_window.c) share it; what each does about a hang is its own. */
#pragma once

#include "session/rdp/rdp_session.h"
#include "session/session.h"
#include "ui/switch.h"

#include <stdbool.h>

typedef struct RdpWatch RdpWatch;

/* Start the thread for @t's server (its host, port and tunnel copied), off. @notify(@data) is called
 * on that thread after each probe, to wake the main loop. Never fails.
 * Main thread. */
RdpWatch *rdp_watch_new(const RdpTarget *t, void (*notify)(void *), void *data);

/* End the thread (waits for a probe under way: up to
 * SWITCH_WATCH_PROBE_TIMEOUT_MS) and free @w. Accepts NULL. Main thread. */
void rdp_watch_free(RdpWatch *w);

/* Turn the probe off (the session left the screen). Main thread. */
void rdp_watch_off(RdpWatch *w);

/* One step of watching @s, the session on screen, with @wt (started with
 * switch_watch_init when @s went on screen): its pixels and the probe's
 * answers since the last step are signs of life; @s is asked to repaint
 * the @area (x, y, w, h) when switch_watch_ask says so; the probe runs
 * while switch_watch_probing says so. Returns what changed (HUNG or BACK
 * once each). Main thread. */
SwitchWatchChange rdp_watch_step(RdpWatch *w, SwitchWatch *wt, Session *s, const int area[4]);
