/* The RDP session: FreeRDP 3.10 as a library (GDI rendering, GFX when the
 * server offers it, H.264 by the rule in rdp_codec.c), keyboard by scancode,
 * absolute mouse and wheel, clipboard text (cliprdr), dynamic resolution
 * (disp), sound out and in (rdpsnd, audin through PulseAudio), redirected
 * drives (rdpdr), RemoteApp (rail, HiDef when the server offers it), NLA
 * (OpenSSL's legacy provider loaded in-process) and trust on first use for
 * the server's certificate. See
 * session/session.h for the life cycle, threads and teardown; the files and
 * what each is for are listed in session/rdp/rdp_session_priv.h. */
#pragma once

#include "session/rdp/rdp_monitors.h"
#include "session/rdp/rdp_probe.h"
#include "session/session.h"

typedef struct {
    char *host;
    unsigned port;             /* default 3389 */
    /* A tunnel to @host:@port (`ssh -W HOST:PORT ...`, NULL-terminated
     * argv): each connection and probe starts it with its standard input
     * and output one end of a socket pair and takes the other end
     * (vd_spawn_tunnel), so nothing listens here; @host and @port are then
     * as the tunnel's far end sees them. NULL: connect to @host:@port. */
    char **tunnel;
    char *username;            /* NULL: the server asks (xrdp shows its login) */
    char *password;            /* never logged, never in argv; wiped on clear */
    char *domain;
    /* Trust on first use: the server's SHA-256 fingerprint is pinned in
     * @pin_file (a keyfile) under group @pin_group; a different one later
     * is refused. */
    char *pin_file;
    char *pin_group;
    char *pin_hint;            /* how to forget the pin, for the error message */
    char **drives;             /* "NAME=PATH" redirected folders, NULL-terminated */
    bool audio;                /* rdpsnd + audin (skipped with a warning without a sound server) */
    bool auto_reconnect;       /* FreeRDP's reconnect after a network blip */
    int width, height;         /* first desktop size; 0: 1024x768 */
    int scale_pct;             /* desktop scale factor, 100..500; 0: 100 */
    /* Several monitors: the host's (the server's half is filled when the
     * session is made, rdp_monitors_layout), sent as the client's monitor
     * layout instead of @width x @height and @scale_pct; 0: one monitor. */
    RdpMonitor monitors[RDP_MONITORS_MAX];
    int n_monitors;
    /* RemoteApp: launch this program (a path, an App Paths alias or a
     * "||alias" published program) with @remote_app_args instead of a
     * desktop; its windows come as SESSION_EV_RAIL_* events, and the
     * framebuffer (@width x @height) is the server's virtual desktop. */
    char *remote_app;
    char *remote_app_args;
    /* A desktop session whose shell is this program instead of the
     * server's desktop (xrdp, which has no working RemoteApp, runs only it);
     * when it exits the session ends without an error. */
    char *shell;
    /* Run FreeRDP confined, in the session helper (session/helper/helper.h):
     * the window connects the socket and checks the certificate, relays the
     * clipboard (text, pictures, files), sound and RemoteApp's windows, and
     * gives the helper @drives as its read-write folders. false: FreeRDP
     * runs in this process. */
    bool confined;
    /* The keyboard layout (a KBD_* id); 0: this host's. */
    unsigned keyboard_layout;
    /* The server never sends the logon notification (xrdp, the RDP server
     * of --os linux guests): only read by the desktop window's switch. */
    bool no_logon_notice;
} RdpTarget;

/* Free what @t holds (the password wiped first) and zero it. Any thread. */
void rdp_target_clear(RdpTarget *t);

/* A connected socket to @t's server: through its tunnel when it has one,
 * else TCP to @host:@port within @timeout_s. The caller closes it. Any
 * thread. */
int rdp_target_connect(const RdpTarget *t, int timeout_s, GError **error);

/* rdp_probe of @t's server (RDP_PROBE_DEFAULT_PROTOCOLS), through its tunnel
 * when it has one (rdp_probe_tunnel). Any thread. */
RdpProbeResult rdp_target_probe(const RdpTarget *t, int timeout_ms, RdpProbeInfo *info);

/* `vmdesk-session-helper rdp`: FreeRDP confined, on the socket the window
 * connected (rdp_helper.c). Returns the exit status. */
int rdp_helper_main(void);

/* Parse "rdp://[USER@]HOST[:PORT]" ([IPv6] in brackets, "DOMAIN\USER" allowed)
 * into @t, which the caller clears. False with @error (VD_ERROR_INVALID) on a
 * malformed address or a password in it; @t then holds nothing. Any thread. */
bool rdp_target_parse(const char *url, RdpTarget *t, GError **error);

/* A session for @target (copied: the caller keeps and clears its own), in
 * the session helper when @target->confined. Does
 * not connect yet (session_connect); never fails. @notify (may be NULL) is
 * called with @data on the session thread after each event. Main thread. */
Session *rdp_session_create(const RdpTarget *target, SessionNotifyFunc notify, void *data);

/* The host's monitors changed: send @n (at most RDP_MONITORS_MAX) of @m as
 * the new layout (copied; the server's half filled here), through display
 * control once the server takes it. Main thread. */
void rdp_session_set_monitors(Session *s, const RdpMonitor *m, int n);

/* --- RemoteApp (main thread; the session was created with remote_app) ---
 * Each call queues its request for the session thread and never waits; the
 * strings are copied. Nothing is sent before the rail handshake. */

/* Window commands (MS-RDPERP Client System Command). */
typedef enum {
    RDP_RAIL_CLOSE = 0xF060,
    RDP_RAIL_MINIMIZE = 0xF020,
    RDP_RAIL_MAXIMIZE = 0xF030,
    RDP_RAIL_RESTORE = 0xF120,
} RdpRailCommand;

/* Launch another program in the same session (after the first one's
 * handshake; queued until then). The answer comes as SESSION_EV_RAIL_EXEC. */
void rdp_session_rail_exec(Session *s, const char *program, const char *args);
/* Ask the server to close, minimize, maximize or restore window @id. */
void rdp_session_rail_command(Session *s, uint32_t id, RdpRailCommand cmd);
/* The user moved or resized window @id here: its new rectangle on the
 * server's desktop. */
void rdp_session_rail_move(Session *s, uint32_t id, int x, int y, int w, int h);
/* Window @id got (or lost) the keyboard focus here. */
void rdp_session_rail_activate(Session *s, uint32_t id, bool active);
