/* The session switch (ARCHITECTURE.md, "The session switch") as decisions:
 * when the desktop window in auto mode connects RDP behind the VNC picture,
 * when that RDP picture replaces VNC, what the title says meanwhile, and what
 * happens when RDP fails or drops (VNC again, the probe later). Pure logic on
 * the events the window reports and on g_get_monotonic_time() timestamps
 * (@now, microseconds): no SDL, no session, no thread. The window
 * (window_switch.c) drives it from its main loop, which is the only thread
 * that may call these functions on one Switch. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* After RDP failed or dropped: probe again after this long. */
#define SWITCH_PROBE_BACKOFF_MS 3000
/* When the RDP picture replaces VNC: once it is complete, the server has
 * said the user's session runs (its logon notification; before it, the
 * picture is the server's login or progress screen), it is not all black
 * (an X session before its window manager paints) and it has been still
 * for SWITCH_SETTLE_MS. Servers that never send the notification are shown
 * SWITCH_NO_LOGON_MS after their first complete picture; nothing waits
 * longer than SWITCH_MAX_WAIT_MS after it. */
#define SWITCH_SETTLE_MS 300
/* On a server that never sends the notification (xrdp), a picture that is
 * lit (SWITCH_SETTLE_LIT_SHARE of it not black: a painted desktop, not a
 * black root or a repaint that lacks a strip: xrdp's strips are a sixth to
 * a quarter of the picture) need only be still this long: xrdp paints in
 * strips a few tens of ms apart, and a black moment after the swap is held
 * back anyway (switch_hold_black). */
#define SWITCH_SETTLE_LIT_MS 100
#define SWITCH_SETTLE_LIT_SHARE 0.97
#define SWITCH_NO_LOGON_MS 5000
#define SWITCH_MAX_WAIT_MS 15000
/* What the guest agent says of the guest's RDP service. */
typedef enum {
    SWITCH_RDP_SERVICE_UNKNOWN, /* no agent, or it could not tell */
    SWITCH_RDP_SERVICE_RUNNING,
    SWITCH_RDP_SERVICE_STOPPED,
} SwitchRdpService;

/* Embedded in the window; set up by switch_init, nothing to free. Fields are
 * switch.c's: read them through the functions below. */
typedef struct {
    bool shell;                 /* the RDP session's shell is one program */
    bool no_logon_notice;       /* the server never sends the logon notification */
    gint64 hold_black_until;    /* darkened pictures of the new session are not shown
                                 * until then; 0: shown */
    bool pending;               /* an RDP session connects behind the picture */
    bool pending_logon;         /* its server sent its logon notification */
    gint64 pending_complete_at; /* its first complete picture; 0: none yet */
    gint64 rdp_ready_at;        /* when the probe said RDP answers */
    bool status_stays;          /* why RDP went away: kept in the title until RDP is back */
    gint64 probe_resume_at;     /* probe again then; 0: not waiting */
    gint64 hung_since;          /* the pending session is the RDP session that hung then,
                                 * kept behind VNC until it answers; 0: it is not */
    SwitchRdpService agent_shown;
} Switch;

/* The pending session's picture, read under its framebuffer's lock. */
typedef struct {
    gint64 last_damage; /* when it last changed */
    bool all_black;
    double lit;         /* the share of it not black (sampled) */
} SwitchPicture;

/* Fills @out with the pending picture's state; called by
 * switch_pending_ready only when the picture decides (looking costs a scan
 * of a black picture). */
typedef void (*SwitchLookFunc)(void *data, SwitchPicture *out);

/* Nothing pending. @shell: the RDP session's shell is one program (vmdesk
 * app on xrdp): it has no login screen to wait past, so its first still,
 * not black picture is shown without waiting for a logon notification.
 * @no_logon_notice: the server never sends one (xrdp on a Linux guest,
 * which gets the login from the window): the same, and for
 * SWITCH_NO_LOGON_MS after the swap darkened pictures are not shown (xrdp
 * sessions go black again between the background and the desktop). */
void switch_init(Switch *sw, bool shell, bool no_logon_notice);

/* The probe says RDP answers. Returns true when the window should connect
 * RDP behind the picture now (then it is pending), false while the window
 * is closing (@closing). */
bool switch_rdp_answered(Switch *sw, bool closing, gint64 now);

/* The pending session's picture changed; @complete: every pixel of it has
 * arrived (its framebuffer counts frames). */
void switch_pending_picture(Switch *sw, bool complete, gint64 now);

/* The pending session's server sent its logon notification. */
void switch_pending_logon(Switch *sw);

/* Whether the pending picture should replace the one on screen now: a
 * complete picture, still for SWITCH_SETTLE_MS and not all black, of a
 * session that is up (logon notification, a shell session, or
 * SWITCH_NO_LOGON_MS since the first complete picture); or anything
 * SWITCH_MAX_WAIT_MS after that. A hung session kept behind VNC
 * (switch_rdp_hung) is ready once it sent pixels after it hung and they
 * were still for SWITCH_SETTLE_MS, not all black. @look tells the
 * picture's state (@data is passed to it). False when nothing is pending. */
bool switch_pending_ready(const Switch *sw, gint64 now, SwitchLookFunc look, void *data);

/* How long the pending picture @pic must still stay as it is before
 * switch_pending_ready can take it, in ms (0: now); -1 when nothing is
 * pending or it waits for something else than stillness. The window's main
 * loop sleeps no longer than this, so that the swap follows the stillness
 * at once. */
int switch_pending_settle_left(const Switch *sw, gint64 now, const SwitchPicture *pic);

/* The pending session is on screen now. Returns how long after the probe
 * said RDP answers, in ms. */
gint64 switch_swapped(Switch *sw, gint64 now);

/* Whether a darkened picture of the session on screen (less of it lit than
 * SWITCH_HOLD_LIT of the picture swapped to) is kept off the screen now,
 * the last picture staying: SWITCH_NO_LOGON_MS after a swap without a logon
 * notification on a server that never sends one. */
#define SWITCH_HOLD_LIT 0.9
bool switch_hold_black(const Switch *sw, gint64 now);

/* The pending session could not start (@error says why), or ended before
 * it was shown (switch_pending_closed; @error NULL: the server closed the
 * connection). Nothing is pending then; the probe resumes
 * SWITCH_PROBE_BACKOFF_MS from @now. Returns the title's status, which stays
 * until RDP is back (caller frees). */
char *switch_pending_failed(Switch *sw, const char *error, gint64 now);
char *switch_pending_closed(Switch *sw, const char *error, gint64 now);

/* The RDP session on screen closed (@error: why, or NULL): the window shows
 * VNC again and the probe resumes SWITCH_PROBE_BACKOFF_MS from @now. Returns
 * the title's status, as above (caller frees). */
char *switch_rdp_lost(Switch *sw, const char *error, gint64 now);

/* Whether a status set by the three functions above still stands (the title
 * keeps it when VNC connects again). */
bool switch_status_stays(const Switch *sw);

/* Whether the probe should start again now; true once per fall-back. */
bool switch_probe_due(Switch *sw, gint64 now);

/* The guest agent's latest answer, while VNC is on screen (@rdp_shown
 * false). Returns the title's status for a new answer when the title has
 * none (@has_status false), else NULL (static string). */
const char *switch_agent_status(Switch *sw, SwitchRdpService agent, bool rdp_shown,
                                bool has_status);

/* --- a hung RDP server (ARCHITECTURE.md, "A hung RDP server") ---
 * While an RDP session is on screen (the desktop window in auto mode, and
 * RemoteApp windows) the window watches its server. A still desktop sends
 * nothing for as long as it stays still, so silence alone proves nothing:
 * the window asks twice for something only a working server sends. Once the
 * session has been silent SWITCH_WATCH_QUIET_MS, it asks the session to
 * repaint a small area (RDP Refresh Rect, answered with its pixels), again
 * every SWITCH_WATCH_QUIET_MS; and the readiness probe asks for an X.224
 * Connection Confirm on a new connection every SWITCH_WATCH_PROBE_MS, each
 * with SWITCH_WATCH_PROBE_TIMEOUT_MS to answer. TCP-level checks (keepalive,
 * unacknowledged bytes) cannot tell: under QEMU's user networking the
 * connection ends in QEMU's slirp on the host, which acknowledges for a
 * guest that no longer reads.
 *
 * The server is hung when neither question is answered: nothing arrived
 * on the session for SWITCH_HANG_MS though it was asked to repaint, and
 * the last SWITCH_HANG_PROBES probes got no answer in time. Any answer ends
 * it: pixels on the session, or any reply of the probe (a Connection
 * Confirm, a refusal, a closed connection), so neither a server that
 * ignores Refresh Rect nor one that takes one client at a time is taken for
 * hung while the other question is answered. */
#define SWITCH_WATCH_QUIET_MS 2000
#define SWITCH_WATCH_PROBE_MS 1000
#define SWITCH_WATCH_PROBE_TIMEOUT_MS 2000
#define SWITCH_HANG_MS 5000
#define SWITCH_HANG_PROBES 2
/* A hung server is given up after this long: RemoteApp windows (no VNC to
 * show instead) end, the desktop window drops the session it kept. */
#define SWITCH_HANG_GIVE_UP_MS 120000

/* The watch's state; set up by switch_watch_init, nothing to free. Read it
 * through the functions below. Timestamps are g_get_monotonic_time(); the
 * _wall ones g_get_real_time(), for the title. */
typedef struct {
    gint64 heard;        /* the server's last sign of life */
    gint64 heard_wall;
    gint64 asked;        /* the session was last asked to repaint; 0: not since @heard */
    int silent_probes;   /* probes in a row, started after @heard, without an answer */
    gint64 hung_at;      /* found hung then; 0: it is not */
} SwitchWatch;

typedef enum {
    SWITCH_WATCH_NONE, /* nothing changed */
    SWITCH_WATCH_HUNG, /* it stopped answering (said once) */
    SWITCH_WATCH_BACK, /* it answers again after a hang (said once) */
} SwitchWatchChange;

/* Start watching at @now (the session just went on screen: that counts as
 * a sign of life). */
void switch_watch_init(SwitchWatch *wt, gint64 now, gint64 wall);

/* A sign of life at @when (@wall): pixels arrived on the session, or the
 * probe got a reply. Older news than the last is ignored. Returns BACK when
 * the server was hung. */
SwitchWatchChange switch_watch_heard(SwitchWatch *wt, gint64 when, gint64 wall);

/* A probe started at @started got no answer in time. */
void switch_watch_probe_silent(SwitchWatch *wt, gint64 started);

/* Whether the session should be asked to repaint now (then it counts as
 * asked): silent SWITCH_WATCH_QUIET_MS, and not asked in that time. */
bool switch_watch_ask(SwitchWatch *wt, gint64 now);

/* Whether the probe should be asking: the session is silent
 * SWITCH_WATCH_QUIET_MS, or the server is hung (to see it come back). */
bool switch_watch_probing(const SwitchWatch *wt, gint64 now);

/* HUNG once the server is hung (see above), else NONE. */
SwitchWatchChange switch_watch_check(SwitchWatch *wt, gint64 now);

bool switch_watch_hung(const SwitchWatch *wt);

/* "not answering since 12:03:10" (local time of the last sign of life);
 * caller frees. */
char *switch_watch_since(const SwitchWatch *wt);

/* Whether a hung server has been hung SWITCH_HANG_GIVE_UP_MS. */
bool switch_watch_give_up(const SwitchWatch *wt, gint64 now);

/* The desktop window's RDP session hangs (@wt says since when): the window
 * shows VNC and keeps the session, as the pending one, connected behind the
 * picture; it goes on screen again once it answers (switch_pending_ready),
 * its state on the server intact (an xrdp that gives each connection its
 * own session would otherwise start a new one). The probe stays off
 * meanwhile. Returns the title's status, which stays until RDP is back
 * (caller frees). */
char *switch_rdp_hung(Switch *sw, const SwitchWatch *wt, gint64 now);

/* Whether the pending session is a hung one kept behind VNC. */
bool switch_hung_kept(const Switch *sw);

/* Whether a kept hung session has been hung SWITCH_HANG_GIVE_UP_MS: then
 * the window drops it (switch_pending_failed) and connects anew once the
 * probe says RDP answers. */
bool switch_hung_give_up(const Switch *sw, gint64 now);
