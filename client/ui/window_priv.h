/* What the desktop window's files share (window.h is the public part):
 *   window.c         its life and main loop, the session on screen, drawing
 *   window_input.c   keyboard, pointer, hotkeys, clipboard, SDL's events
 *   window_switch.c  the session switch in auto mode: probe thread, the
 *                    pending RDP session, swap and fall-back, watching the
 *                    RDP server on screen (decided by switch.c)
 *   window_vm.c      the VM behind the window, through WindowVmHooks: state
 *                    in the title, close on shutdown, the overlay question
 * Main thread only, except where a field says otherwise. */
#pragma once

#include "session/session.h"
#include "ui/rdp_watch.h"
#include "ui/switch.h"
#include "ui/window.h"

#include <SDL.h>
#include <glib.h>
#include <stdbool.h>

#define RECONNECT_DELAY_MS 1000

typedef struct {
    const WindowOptions *opts;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int tex_w, tex_h;
    Uint32 wake_event;
    Session *session;        /* the one on screen */
    Session *pending;        /* RDP connecting behind VNC (auto mode) */
    GPtrArray *closing;      /* Session*: asked to end, destroyed once they report CLOSED */
    bool connected;          /* the current session got CONNECTED */
    bool ever_connected;
    bool quit;
    bool redraw;
    char *status;            /* shown in the title: "connection lost, reconnecting" */
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
    GThread *agent_thread;   /* asks the guest agent while probing (VMs only) */
    gint probe_on;           /* atomic: probe now */
    gint probe_ready;        /* atomic: it answered */
    gint probe_quit;         /* atomic */
    gint agent_state;        /* atomic SwitchRdpService the agent last told */
    Switch sw;               /* the switch's state (switch.h) */
    int switch_wait_ms;      /* the pending picture may be shown in this many ms; -1: no
                              * such wait (switch_pending_settle_left) */
    bool vnc_resting;        /* VNC reads no updates while the pending RDP session starts */
    /* Watching the RDP server while its session is on screen, or kept
     * behind VNC after it hung (auto mode), or dimmed (RDP mode; rdp_watch.h). */
    RdpWatch *watch;
    SwitchWatch wt;
    bool watching;
    bool hung;               /* RDP mode: the server hangs; input is ignored */
    bool held_black;         /* a darkened picture kept off the screen (switch_hold_black) */
    double swap_lit;         /* session_fb_lit_share of the picture swapped to */
    /* --monitors (window_monitors.c): the chosen host monitors, laid out
     * for the server; 0: none (one window's size). */
    RdpMonitor mons[RDP_MONITORS_MAX];
    int n_mons;
    int mon_origin_x, mon_origin_y; /* the window's place: the monitors' top left */
    Session *copying;        /* the session whose copy of the server's files runs (its
                                progress is @status); NULL: none */
    bool esc_eaten;          /* Escape went down to cancel it: its release is ours too */
} Win;

/* window.c */
/* Wake the main loop; any thread (a session's or the probe's). */
void window_notify(void *data);
/* Whether @s (may be NULL) is an RDP session. */
bool window_is_rdp(Session *s);
void window_update_title(Win *w);
void window_set_status(Win *w, const char *status);
/* The RDP desktop scale: the user's choice, else the display's. */
int window_display_scale_pct(Win *w);
/* A new RDP session (not connected) sized to the window. */
Session *window_new_rdp_session(Win *w);
/* Connect a new session as the one on screen; on failure none is. */
bool window_start_session(Win *w, bool rdp, GError **error);
/* Where the desktop goes in the window (after a resize). */
void window_layout(Win *w);
/* A @fw x @fh texture filled from the session on screen. */
void window_make_texture(Win *w, int fw, int fh);
void window_render(Win *w);
/* A picture kept off the screen by switch_hold_black goes on it now, whole,
 * once the hold has ended. Main thread. */
void window_release_held(Win *w);
/* The guest's pointer shape (NULL @argb: none of ours). */
void window_set_cursor(Win *w, uint32_t *argb, int cw, int ch, int hx, int hy);

/* window_monitors.c */
/* --monitors: the chosen monitors into w->mons, laid out (w->n_mons; 0
 * without --monitors); *@bounds gets where the window goes. False with
 * @error when the selection names a monitor the host does not have. */
bool window_monitors_init(Win *w, SDL_Rect *bounds, GError **error);
/* On X11, the window's shape (drawn and input) becomes the chosen monitors
 * alone, so monitors between them are left to the desktop. After the
 * window's creation; nothing for one monitor or elsewhere. */
void window_monitors_shape(Win *w);
/* Draw each monitor's part of the picture on its monitor: false (nothing
 * drawn) until the picture has the layout's size. */
bool window_monitors_render(Win *w);
/* Window coordinates -> desktop pixels through the monitor under them;
 * false as above. */
bool window_monitors_point(Win *w, int wx, int wy, int *x, int *y);

/* window_input.c */
void window_handle_sdl_event(Win *w, const SDL_Event *e);
/* Give the host's clipboard text to the session when it changed. */
void window_offer_clipboard(Win *w);

/* window_switch.c */
/* Auto mode: start probing (the probe thread). */
void window_switch_start(Win *w);
/* The pending and closing sessions' events. */
void window_switch_events(Win *w);
/* Act on what the probe, the agent and the pending picture say now. */
void window_switch_step(Win *w);
/* The RDP session on screen closed (@why: its error, or NULL): VNC again. */
void window_switch_rdp_lost(Win *w, const char *why);
/* End the probe and watch threads (waits up to one probe and one agent
 * question). */
void window_switch_stop(Win *w);
/* RDP mode (no VNC to show instead): watch the server of the session on
 * screen; while it hangs, dim the picture, say so in the title and ignore
 * input; after SWITCH_HANG_GIVE_UP_MS drop it and reconnect. */
void window_watch_rdp(Win *w);

/* window_vm.c */
/* Follow the VM's state: the title, and closing the window (asking the
 * overlay question first) when it shut down. */
void window_vm_poll(Win *w);
/* Whether the VM is shutting down or off: its sessions' ends say nothing new. */
bool window_vm_going(Win *w);
