/* RemoteApp: vmdesk-test-rdp-server --rail against xfreerdp /app, the
 * reference RAIL client. Proves the server is a real RAIL peer: the exec and
 * its result, window orders that become X windows where the server put them
 * showing the server's pixels, the icon, server-side moves and titles, the
 * client's moves and close button coming back as RAIL PDUs, maximise and
 * restore, a window opened later, an owned dialog, two failed execs, a slow
 * one, and the server ending the session.
 *
 * What xfreerdp 2.11 does that this relies on (see README.md):
 * - without a window manager it dies (BadAtom) on the first popup unless the
 *   root window says _NET_WM_STATE is supported, so the test says so;
 * - it turns WM_DELETE_WINDOW into SC_CLOSE (xdotool cannot send that: its
 *   windowclose destroys the window), and a ConfigureNotify of a focused
 *   window into a WindowMove;
 * - it marks a WS_POPUP window _NET_WM_WINDOW_TYPE_DIALOG but does not set
 *   WM_TRANSIENT_FOR: ownership is checked in the server's log;
 * - it ends the connection when an exec fails. */
#include "rdp_test_harness.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CONNECT_MS 20000
#define RED 0xD04040u   /* the server's colour for window 0x1001 */
#define GREEN 0x40B040u /* ... and 0x1002 */
#define RFX_TOLERANCE 40

/* The ids and values xfreerdp needs to survive popups without a window
 * manager; removed at the end so the other cases see a bare X server. */
static void pretend_ewmh(bool on)
{
    if (on) {
        rt_x("xprop", "-root", "-f", "_NET_SUPPORTED", "32a", "-set", "_NET_SUPPORTED",
             "_NET_WM_STATE", NULL);
        rt_x("xprop", "-root", "-f", "_NET_SUPPORTING_WM_CHECK", "32c", "-set",
             "_NET_SUPPORTING_WM_CHECK", "0", NULL);
    } else {
        rt_x("xprop", "-root", "-remove", "_NET_SUPPORTED", NULL);
        rt_x("xprop", "-root", "-remove", "_NET_SUPPORTING_WM_CHECK", NULL);
    }
}

/* The X property @prop of @win as xprop prints it ("" if unset). */
static char *xprop(const char *win, const char *prop, const char *format)
{
    const char *argv[] = {"xprop", "-id", win, "-f", prop, format, " = $0+\n", prop, NULL};
    char *out = rt_run(argv, rt_world.env);
    return out ? out : g_strdup("");
}

/* The window's centre shows @rgb, its title bar (the top 24 rows) half that. */
static void expect_window_colour(int x, int y, int w, int h, guint32 rgb)
{
    rt_expect_pixel(x + w / 2, y + h / 2, rgb, RFX_TOLERANCE);
    rt_expect_pixel(x + w / 2, y + 12, (rgb >> 1) & 0x7F7F7F, RFX_TOLERANCE);
}

/* The client is gone and the server says so. */
static void end_client(RtSession *s, gsize *mark)
{
    rt_client_stop(s);
    g_free(rt_expect_next(s, mark, "disconnected", 10000));
}

/* notepad: the handshake, the exec, one window, its picture and icon;
 * the server moves and renames it, the client moves it, then closes it. */
static void rail_notepad(RtSession *s, gsize *mark)
{
    rt_xfreerdp_start(s, "rail-notepad", KEYS("/app:program:notepad", "/u:x", "/p:x"));
    const char *lines[] = {
        "remoteapp-requested", "rail channel-open", "rail-hidef yes", "rail handshake-sent ex 0x",
        "rail client-handshake ", "rail client-status 0x", "rail sysparam work-area 0 0 1024 768",
        "rail exec notepad", "rail exec-result notepad ok", "rail desktop hooked",
        ("rail window-create 0x1001 owner 0x0 rect 120 90 640 400 colour #d04040 "
         "title notepad - vmdesk test"),
        "rail window-icon 0x1001 32x32 cache 0:", "rail desktop active 0x1001 zorder 0x1001"};
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
        g_free(rt_expect_next(s, mark, lines[i], i < 4 ? CONNECT_MS : 10000));

    g_autofree char *win = rt_wait_window(s, "notepad - vmdesk test", NULL, 10000);
    rt_expect_geometry(s, win, 120, 90, 640, 400, 10000);
    expect_window_colour(120, 90, 640, 400, RED);
    /* 32x32, the window's colour inside a white frame, opaque (ARGB) */
    g_autofree char *icon = xprop(win, "_NET_WM_ICON", "32c");
    g_auto(GStrv) px = g_strsplit(strchr(icon, '=') ? strchr(icon, '=') + 1 : "", ",", -1);
    g_assert_cmpuint(g_strv_length(px), ==, 2 + 32 * 32);
    g_assert_cmpint(atoi(px[0]), ==, 32);
    g_assert_cmpint(atoi(px[1]), ==, 32);
    g_assert_cmpuint(g_ascii_strtoull(px[2 + 16 * 32 + 16], NULL, 10), ==, 0xFF000000u | RED);
    g_assert_cmpuint(g_ascii_strtoull(px[2], NULL, 10), ==, 0xFFFFFFFFu);

    /* The server moves it, and renames it. */
    rt_server_command(s, "move 0x1001 200 150 500 300");
    g_free(rt_expect_next(s, mark, "rail window-update 0x1001 rect 200 150 500 300", 5000));
    rt_expect_geometry(s, win, 200, 150, 500, 300, 10000);
    expect_window_colour(200, 150, 500, 300, RED);
    rt_server_command(s, "title 0x1001 renamed by the server");
    g_free(rt_expect_next(s, mark, "rail window-update 0x1001 title renamed by the server", 5000));
    g_autofree char *renamed = rt_wait_window(s, "renamed by the server", NULL, 10000);
    g_assert_cmpstr(renamed, ==, win);
    rt_server_command(s, "title 0x9999 nobody");
    g_free(rt_expect_next(s, mark, "rail command-failed title 0x9999 nobody: no such window",
                          5000));

    /* The client moves it: xfreerdp reports a focused window's new place. */
    rt_xdo("windowfocus", win, NULL);
    g_free(rt_expect_next(s, mark, "rail activate 0x1001 1", 5000));
    rt_xdo("windowmove", win, "300", "200", NULL);
    g_free(rt_expect_next(s, mark, "rail window-move 0x1001 300 200 500 300", 5000));
    g_free(rt_expect_next(s, mark, "rail window-update 0x1001 rect 300 200 500 300", 5000));
    expect_window_colour(300, 200, 500, 300, RED);

    /* Maximised to the client's work area, and back. */
    rt_server_command(s, "maximize 0x1001");
    g_free(rt_expect_next(s, mark, "rail window-update 0x1001 show maximized rect 0 0 1024 768",
                          5000));
    rt_expect_geometry(s, win, 0, 0, 1024, 768, 10000);
    rt_server_command(s, "restore 0x1001");
    g_free(rt_expect_next(s, mark, "rail window-update 0x1001 show normal rect 300 200 500 300",
                          5000));
    rt_expect_geometry(s, win, 300, 200, 500, 300, 10000);

    /* A window the program opens later: on top, the next colour. */
    rt_server_command(s, "newwindow second window 40 50 200 100");
    g_free(rt_expect_next(s, mark, ("rail window-create 0x1002 owner 0x0 rect 40 50 200 100 "
                                    "colour #40b040 title second window"), 5000));
    g_free(rt_expect_next(s, mark, "rail desktop active 0x1002 zorder 0x1002 0x1001", 5000));
    g_autofree char *second = rt_wait_window(s, "second window", NULL, 10000);
    rt_expect_geometry(s, second, 40, 50, 200, 100, 10000);
    expect_window_colour(40, 50, 200, 100, GREEN);
    rt_server_command(s, "close 0x1002");
    g_free(rt_expect_next(s, mark, "rail window-delete 0x1002", 5000));
    g_free(rt_expect_next(s, mark, "rail desktop active 0x1001 zorder 0x1001", 5000));
    rt_wait_window_gone(s, "second window", 10000);

    /* Its close button: SC_CLOSE, the window goes. */
    rt_x_close_window(win);
    g_free(rt_expect_next(s, mark, "rail syscommand 0x1001 close", 5000));
    g_free(rt_expect_next(s, mark, "rail window-delete 0x1001", 5000));
    g_free(rt_expect_next(s, mark, "rail last-window-closed", 5000));
    rt_wait_window_gone(s, "renamed by the server", 10000);
    end_client(s, mark);
}

/* dialog: a main window and a popup it owns (arguments reach the server);
 * closing the owner closes both. */
static void rail_dialog(RtSession *s, gsize *mark)
{
    rt_xfreerdp_start(s, "rail-dialog", KEYS("/app:program:dialog,cmd:one two", "/u:x", "/p:x"));
    const char *lines[] = {
        "rail exec dialog", "rail exec-args one two", "rail exec-result dialog ok",
        ("rail window-create 0x1001 owner 0x0 rect 120 90 640 400 colour #d04040 "
         "title dialog - vmdesk test"),
        ("rail window-create 0x1002 owner 0x1001 rect 280 210 320 200 colour #40b040 "
         "title dialog box - vmdesk test"),
        "rail window-cached-icon 0x1002 cache 0:", "rail desktop active 0x1002 zorder 0x1002 0x1001"};
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
        g_free(rt_expect_next(s, mark, lines[i], i == 0 ? CONNECT_MS : 10000));
    g_autofree char *main_win = rt_wait_window(s, "dialog - vmdesk test", NULL, 10000);
    g_autofree char *dlg = rt_wait_window(s, "dialog box - vmdesk test", NULL, 10000);
    rt_expect_geometry(s, main_win, 120, 90, 640, 400, 10000);
    rt_expect_geometry(s, dlg, 280, 210, 320, 200, 10000);
    /* The popup is on top of its owner on the server's desktop too. */
    expect_window_colour(280, 210, 320, 200, GREEN);
    rt_expect_pixel(120 + 80, 90 + 300, RED, RFX_TOLERANCE);
    g_autofree char *type = xprop(dlg, "_NET_WM_WINDOW_TYPE", "32a");
    g_assert_nonnull(strstr(type, "_NET_WM_WINDOW_TYPE_DIALOG"));
    g_autofree char *main_type = xprop(main_win, "_NET_WM_WINDOW_TYPE", "32a");
    g_assert_nonnull(strstr(main_type, "_NET_WM_WINDOW_TYPE_NORMAL"));

    rt_server_command(s, "close 0x1001");
    g_free(rt_expect_next(s, mark, "rail window-delete 0x1002", 5000));
    g_free(rt_expect_next(s, mark, "rail window-delete 0x1001", 5000));
    g_free(rt_expect_next(s, mark, "rail last-window-closed", 5000));
    rt_wait_window_gone(s, "dialog", 10000);
    end_client(s, mark);
}

/* missing and forbidden: the exec fails; xfreerdp says why (its names are
 * off by one from 5 on: FILE_NOT_FOUND prints as E_FAIL) and quits. */
static void rail_failed_exec(RtSession *s, gsize *mark, const char *program, const char *result,
                             const char *xfreerdp_says)
{
    g_autofree char *app = g_strdup_printf("/app:program:%s", program);
    g_autofree char *name = g_strdup_printf("rail-%s", program);
    rt_xfreerdp_start(s, name, KEYS(app, "/u:x", "/p:x"));
    g_autofree char *exec = g_strdup_printf("rail exec %s", program);
    g_autofree char *res = g_strdup_printf("rail exec-result %s %s", program, result);
    g_free(rt_expect_next(s, mark, exec, CONNECT_MS));
    g_free(rt_expect_next(s, mark, res, 5000));
    /* It quits by itself. (Its exit status is 0 or not depending on whether
     * the server's disconnect or its own abort comes first: not checked.) */
    g_assert_true(tu_subprocess_wait(s->client, 20000));
    g_clear_object(&s->client);
    g_free(rt_expect_next(s, mark, "disconnected", 10000));
    g_autofree char *log = rt_read_text(s->client_log);
    if (!strstr(log, xfreerdp_says))
        g_error("xfreerdp did not say \"%s\"; its log:\n%s", xfreerdp_says, log);
}

/* slowstart: the exec succeeds at once, the window comes 2 s later. */
static void rail_slowstart(RtSession *s, gsize *mark)
{
    rt_xfreerdp_start(s, "rail-slow", KEYS("/app:program:slowstart", "/u:x", "/p:x"));
    g_free(rt_expect_next(s, mark, "rail exec-result slowstart ok", CONNECT_MS));
    gint64 t0 = g_get_monotonic_time();
    g_free(rt_expect_next(s, mark, "rail window-create 0x1001 owner 0x0 rect 120 90 640 400 ",
                          10000));
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_test_message("slowstart's window came %" G_GINT64_FORMAT " ms after the exec result", ms);
    g_assert_cmpint(ms, >=, 1800);
    g_autofree char *win = rt_wait_window(s, "slowstart - vmdesk test", NULL, 10000);
    rt_expect_geometry(s, win, 120, 90, 640, 400, 10000);
    /* The server ends the session; xfreerdp goes with it. */
    rt_server_command(s, "disconnect");
    g_free(rt_expect_next(s, mark, "rail disconnecting", 5000));
    g_free(rt_expect_next(s, mark, "disconnected", 10000));
    g_assert_true(tu_subprocess_wait(s->client, 20000));
    g_clear_object(&s->client);
}

static void test_xfreerdp_rail(void)
{
    RtSession s = {0};
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--rail", NULL};
    rt_server_start(&s, "rail", args);
    pretend_ewmh(true);
    gsize mark = 0;
    rail_notepad(&s, &mark);
    rail_dialog(&s, &mark);
    rail_failed_exec(&s, &mark, "missing", "file-not-found",
                     "RAIL exec error: execResult=RAIL_EXEC_E_FAIL NtError=0x2");
    rail_failed_exec(&s, &mark, "forbidden", "not-in-allowlist",
                     "RAIL exec error: execResult=RAIL_EXEC_E_NOT_IN_ALLOWLIST NtError=0x0");
    rail_slowstart(&s, &mark);
    pretend_ewmh(false);
    rt_session_finish(&s);
}

void rt_add_rail_tests(void)
{
    g_test_add_func("/rdp-server/xfreerdp-rail", test_xfreerdp_rail);
}
