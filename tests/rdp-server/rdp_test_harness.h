/* What the tests of vmdesk-test-rdp-server share, whichever client they run
 * (xfreerdp or vmdesk): one world per test process (a folder, our own Xvfb, a
 * private PulseAudio whose only sink is a null sink, a certificate), the
 * server and its log lines, the client's window on the X screen and the
 * colour bars in it, and the tone recorded from the sink's monitor.
 *
 * Test code only; single-threaded callers. Every process started here gets
 * SIGKILL when the test process dies (tu_launcher_new), so a failed check
 * leaves nothing running. Failures abort the test with the server's and the
 * client's logs. Every wait below, whether it takes a timeout or says how
 * long it waits, lasts tu_timeout_ms() of that (VMDESK_TEST_TIME_SCALE). */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>

#define RT_PREFIX "VMDESK-SRV "
#define RT_RATE 44100

typedef struct {
    char *dir;          /* everything goes in here; removed at the end */
    char *run_dir;      /* XDG_RUNTIME_DIR (0700): PulseAudio's socket in pulse/native */
    char *display;
    GSubprocess *xvfb;  /* 1280x1024: larger than the desktops the tests use */
    const char *screen; /* Xvfb's screen instead (WxHxD), set before rt_world_start */
    GSubprocess *pulse;
    GSubprocess *bus;   /* the session bus xfreerdp3 finds (it would start one of its own) */
    char **env;         /* X clients and xfreerdp3: DISPLAY, HOME, XDG_RUNTIME_DIR,
                           PULSE_SERVER, DBUS_SESSION_BUS_ADDRESS */
    char *cert, *key;   /* PEM pair for the servers */
} RtWorld;

extern RtWorld rt_world;

/* Starts (or aborts) and ends the world. */
void rt_world_start(void);
void rt_world_finish(void);

/* --- processes --- */

/* Starts @argv (PATH searched) with @env (NULL: ours), stdin /dev/null,
 * stdout and stderr to the files (NULL: inherited). Aborts on failure. */
GSubprocess *rt_spawn(const char *const *argv, char **env, const char *out_path,
                      const char *err_path);
/* Runs @argv to completion with @env (NULL: ours): its exit status (-1:
 * killed), its stdout and stderr together in *@out (the caller frees). */
int rt_run_all(const char *const *argv, char **env, char **out);
/* Runs @argv to completion; its stdout when it exited 0, else NULL. */
char *rt_run(const char *const *argv, char **env);
/* Sends @sig and waits (SIGKILL after 10 s); the exit status, or -1 when it
 * was killed or did not exit by itself. NULL-safe. */
int rt_stop(GSubprocess *p, int sig);
/* A file's contents; "" when it cannot be read. */
char *rt_read_text(const char *path);

/* vmdesk's environment: our display; a private XDG_DATA_HOME (@name-data in
 * the world's folder: VMs, pinned certificates, credentials); @run_dir as
 * XDG_RUNTIME_DIR (rt_world.run_dir: PulseAudio found there as on a
 * desktop), or with NULL a private @name-run without a sound server; no
 * PULSE_SERVER, no session bus (credentials go to their 0600 file), no
 * scale, no SDL driver forced; VMDESK_DEBUG=1 when @debug. Both folders
 * 0700. The caller frees it (g_strfreev). */
char **rt_vmdesk_env(const char *name, const char *run_dir, bool debug);

/* --- one server and one client at a time --- */

typedef struct {
    GSubprocess *server;
    char *log;               /* the server's stdout */
    unsigned port;
    GSubprocess *client;
    char *client_log;        /* the client's stdout and stderr */
    const char *client_name; /* "xfreerdp3", "vmdesk": for messages */
    /* vmdesk runs FreeRDP in its session helper (every desktop and
     * RemoteApp session): the first sign of a connected session (an
     * expected "client-connected", "remoteapp-requested" or "rail ..."
     * line, or a RemoteApp window of the client's found) checks that it
     * does. */
    bool expect_helper;
    bool helper_checked;
    bool app;                /* the client runs RemoteApp (--app) */
} RtSession;

/* Starts `vmdesk connect rdp://127.0.0.1:PORT ARGS...` (@args
 * NULL-terminated; VMDESK_BIN) with @env (rt_vmdesk_env) in the background
 * as the session's client; its output goes to a log named @name. A desktop
 * without sound (--no-audio, no --app) must run FreeRDP confined: once the
 * server sees the client, the client has a `vmdesk-session-helper rdp`
 * child (rt_expect_line, rt_expect_next). */
void rt_vmdesk_start(RtSession *s, const char *name, char **env, const char *const *args);
/* Start vmdesk with the whole @argv (NULL-terminated) as the session's
 * client, its output in s->client_log; it must run FreeRDP in its helper. */
void rt_vmdesk_spawn(RtSession *s, const char *const *argv, char **env);

/* Starts the server on a free port with @args (NULL-terminated) and waits
 * for its listening line; @name names its log files. */
void rt_server_start(RtSession *s, const char *name, const char *const *args);

/* The first line of @log that starts with RT_PREFIX @what (* and ? in
 * @what match any text and any character), without the prefix, for the
 * caller to free; NULL if none. */
char *rt_find_line(const char *log, const char *what);
/* Waits up to @timeout_ms for such a line (the caller frees it); aborts
 * with both logs if none. */
char *rt_expect_line(RtSession *s, const char *what, int timeout_ms);
/* The log's current end, for rt_expect_next. */
gsize rt_log_mark(RtSession *s);
/* Like rt_expect_line, but only lines after *@mark count; moves *@mark past
 * the line found, so successive calls check the order of events. */
char *rt_expect_next(RtSession *s, gsize *mark, const char *what, int timeout_ms);

/* Starts `xfreerdp3 /v:127.0.0.1:PORT /cert:ignore ARGS...` (@args
 * NULL-terminated) on our display, with the world's session bus; its output
 * goes to a log named @name. */
void rt_xfreerdp_start(RtSession *s, const char *name, const char *const *args);

/* Writes one command line (printf-style, without the newline) to the
 * server's stdin: the --rail window commands. Aborts if it cannot. */
void rt_server_command(RtSession *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Ends the client with SIGTERM; its exit status, or -1 (killed, or none). */
int rt_client_stop(RtSession *s);
/* Ends the client, then the server with SIGTERM: the server must log the end
 * of the session and exit 0. */
void rt_session_finish(RtSession *s);

/* --- the X side --- */

/* Runs `xdotool ARGS...` (NULL-terminated) on our display; aborts if it fails. */
void rt_xdo(const char *arg0, ...) G_GNUC_NULL_TERMINATED;
/* Runs any X client to completion on our display; aborts if it fails. */
void rt_x(const char *program, ...) G_GNUC_NULL_TERMINATED;
/* The id ("0x...", for the caller to free) of the top-level window whose
 * title starts with @title_prefix and holds @title_part (NULL: any), waiting
 * up to @timeout_ms; aborts with the session's logs if none. (xwininfo:
 * xdotool search misses UTF-8 titles.) */
char *rt_wait_window(RtSession *s, const char *title_prefix, const char *title_part,
                     int timeout_ms);
/* Waits up to @timeout_ms for @win to be mapped and viewable: from then on
 * a window manager has read its hints. (rt_wait_window also finds windows
 * not yet mapped, whose properties may still be being set.) Aborts with the
 * logs if it stays unmapped. */
void rt_wait_window_viewable(RtSession *s, const char *win, int timeout_ms);
/* Waits up to @timeout_ms for @win not to be viewable (unmapped: hidden, or
 * iconified by a window manager; or gone). Aborts with the logs if it stays. */
void rt_wait_window_unmapped(RtSession *s, const char *win, int timeout_ms);
/* Where @win is on the screen and its size. */
bool rt_window_geometry(const char *win, int *x, int *y, int *w, int *h);
/* Waits up to @timeout_ms for @win to be at @x,@y and @w x @h; aborts
 * with the logs and the geometry it has if not. */
void rt_expect_geometry(RtSession *s, const char *win, int x, int y, int w, int h,
                        int timeout_ms);
/* Waits up to @timeout_ms until no top-level window's title starts with
 * @title_prefix; aborts with the logs if one stays. */
void rt_wait_window_gone(RtSession *s, const char *title_prefix, int timeout_ms);
/* What a window manager does for its close button: a WM_DELETE_WINDOW
 * client message to @win (xdotool has none). Aborts if X fails. */
void rt_x_close_window(const char *win);
/* The screen's pixel at @x,@y (0xRRGGBB), grabbed with `import`. */
bool rt_pixel_at(int x, int y, guint32 *rgb);
/* Waits up to 10 s for the pixel at @x,@y to be @want within @tolerance
 * per channel; aborts saying what it is if not. */
void rt_expect_pixel(int x, int y, guint32 want, int tolerance);

/* Window @win is @w x @h and shows the eight bars of frame @frame_no
 * (lossy codecs: @tolerance per channel), grabbed from the screen
 * (`import -window root`, cropped to the window). Retries for 10 s while
 * the picture is on its way, then aborts saying what is wrong. */
void rt_expect_bars(const char *win, unsigned w, unsigned h, unsigned frame_no, int tolerance);
/* The same for a PNG file. */
void rt_expect_bars_in_png(const char *png, unsigned w, unsigned h, unsigned frame_no,
                           int tolerance);

/* --- sound --- */

/* parec recording the null sink's monitor (s16le stereo at RT_RATE) into
 * @path; returns once it records. The caller owns it (rt_stop with SIGINT). */
GSubprocess *rt_recorder_start(const char *path);
/* Waits until the recording has had a tone and 500 ms of quiet after it,
 * or @timeout_ms passed. */
void rt_wait_tone_over(const char *path, int timeout_ms);
/* The recording holds the tone: loud for @ms (-20 % to +10 %), at @hz near
 * half scale and at least 100 times weaker at 0.75 @hz, 1.5 @hz and
 * 1000 Hz. Reports the numbers with g_test_message. */
void rt_expect_tone(const char *path, int hz, int ms);
/* The sound travelled through vmdesk's session helper: vmdesk (@s's
 * client) runs a `vmdesk-session-helper` child, and the sound server lists
 * (`pactl list @list`: "sink-inputs" or "source-outputs") a stream named
 * @stream that vmdesk's own process holds (the helper can reach no sound
 * server), within @timeout_ms. Aborts saying what it saw otherwise. */
void rt_expect_relayed_sound(RtSession *s, const char *list, const char *stream, int timeout_ms);
/* A server started with --sound-tone @hz:@ms: it offered formats, the
 * client chose 44.1 kHz 16-bit stereo, and the tone played, heard in the
 * recording at @rec (@recorder is stopped here). */
void rt_expect_sound(RtSession *s, GSubprocess *recorder, const char *rec, int hz, int ms);

/* --- cases in other files, registered by test_rdp_server.c's main --- */

/* /rdp-server/xfreerdp-rail: RemoteApp (--rail) against xfreerdp /app
 * (test_rdp_rail.c). */
void rt_add_rail_tests(void);
/* /rdp-server/vmdesk/rail: RemoteApp (--rail) against vmdesk connect --app
 * (test_rdp_rail_vmdesk.c). */
void rt_add_vmdesk_rail_tests(void);
/* /rdp-server/xfreerdp/clipboard, /rdp-server/vmdesk/clipboard and
 * /rdp-server/vmdesk/rail-clipboard: the clipboard both ways
 * (test_rdp_clip.c). */
void rt_add_clip_tests(void);
/* The user goes to another window (the root) and back to @win, where vmdesk
 * looks at the host's clipboard (test_rdp_clip.c). */
void rt_clip_refocus(const char *win);
/* The SHA-256 of a PNG's RGBA rows (what the test server logs for a
 * picture), and its size. */
char *rt_png_sum(GBytes *png, unsigned *w, unsigned *h);
/* Clipboard pictures and files (test_rdp_clip_rich.c). */
void rt_add_clip_rich_tests(void);
/* /rdp-server/xfreerdp/microphone, /rdp-server/vmdesk/microphone and
 * /rdp-server/vmdesk/rail-microphone: a sine source recorded by the client
 * and heard by the server over audin (test_rdp_audin.c). */
void rt_add_audin_tests(void);
/* /rdp-server/vmdesk/rail-hang and desktop-hang: the server frozen with
 * SIGSTOP and woken under vmdesk connect --app and vmdesk connect
 * (test_rdp_hang.c). */
void rt_add_hang_tests(void);
