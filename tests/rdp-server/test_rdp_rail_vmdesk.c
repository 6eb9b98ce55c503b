/* RemoteApp in vmdesk: `vmdesk connect rdp://... --app PROGRAM` against
 * vmdesk-test-rdp-server --rail (the server xfreerdp /app accepts, see
 * test_rdp_rail.c). Each server window becomes a window of its own at the
 * server's place and size, with its title, picture and icon; the server's
 * moves and titles are followed, the user's moves, focus, keys, clicks and
 * close button go back; a second launch joins the running connection
 * through the control socket, its owned dialog stays with its owner; a
 * shared folder and sound are there as in the desktop; failed
 * launches say why; the connection ends a while after the last window.
 * Under a window manager (rail-wm), minimize and restore go both ways. */
#include "rdp_test_harness.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define CONNECT_MS 20000
#define RED 0xD04040u   /* the server's colour for window 0x1001 */
#define GREEN 0x40B040u /* ... 0x1002 */
#define TOLERANCE 40
#define TONE_HZ 660
#define TONE_MS 1200

static GPtrArray *app_argv_with(RtSession *s, const char *program, const char *drive,
                                bool audio)
{
    const char *bin = g_getenv("VMDESK_BIN");
    g_assert_nonnull(bin);
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(bin));
    g_ptr_array_add(argv, g_strdup("connect"));
    g_ptr_array_add(argv, g_strdup_printf("rdp://127.0.0.1:%u", s->port));
    if (!audio)
        g_ptr_array_add(argv, g_strdup("--no-audio"));
    g_ptr_array_add(argv, g_strdup("--linger"));
    g_ptr_array_add(argv, g_strdup("3"));
    if (drive) {
        g_ptr_array_add(argv, g_strdup("--drive"));
        g_ptr_array_add(argv, g_strdup(drive));
    }
    g_ptr_array_add(argv, g_strdup("--app"));
    g_ptr_array_add(argv, g_strdup(program));
    g_ptr_array_add(argv, NULL);
    return argv;
}

static GPtrArray *app_argv(RtSession *s, const char *program, const char *drive)
{
    return app_argv_with(s, program, drive, false);
}

/* `vmdesk connect ... --app PROGRAM` to completion: exit status, output. */
static int app_run(RtSession *s, char **env, const char *program, char **out)
{
    g_autoptr(GPtrArray) argv = app_argv(s, program, NULL);
    return rt_run_all((const char *const *)argv->pdata, env, out);
}

static void expect_colour(int x, int y, int w, int h, guint32 rgb)
{
    rt_expect_pixel(x + w / 2, y + h / 2, rgb, TOLERANCE);
    rt_expect_pixel(x + w / 2, y + 12, (rgb >> 1) & 0x7F7F7F, TOLERANCE);
}

static char *xprop(const char *win, const char *prop)
{
    const char *argv[] = {"xprop", "-id", win, prop, NULL};
    char *out = rt_run(argv, rt_world.env);
    return out ? out : g_strdup("");
}

static void test_vmdesk_rail(void)
{
    RtSession s = {0};
    /* A shared folder works in RemoteApp as in the desktop. */
    g_autofree char *share = g_build_filename(rt_world.dir, "rail-share", NULL);
    g_assert_cmpint(g_mkdir(share, 0700), ==, 0);
    g_autofree char *hello = g_build_filename(share, "hello.txt", NULL);
    tu_write_file(hello, "hello from the host\n");
    g_autofree char *drive = g_strdup_printf("share=%s", share);
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--rail",
                          "--drive-read", "share/hello.txt", NULL};
    rt_server_start(&s, "vmdesk-rail", args);
    g_auto(GStrv) env = rt_vmdesk_env("app", NULL, true);
    gsize mark = 0;

    /* notepad: one window where the server put it, its picture and icon. */
    s.client_name = "vmdesk";
    s.client_log = g_strdup_printf("%s/vmdesk-rail-vmdesk.log", rt_world.dir);
    g_autoptr(GPtrArray) argv = app_argv(&s, "notepad", drive);
    rt_vmdesk_spawn(&s, (const char *const *)argv->pdata, env);
    const char *lines[] = {"remoteapp-requested", "rail client-handshake ", "rail exec notepad",
                           "rail exec-result notepad ok",
                           "rail window-create 0x1001 owner 0x0 rect 120 90 640 400 "};
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
        g_free(rt_expect_next(&s, &mark, lines[i], CONNECT_MS));
    g_autofree char *win = rt_wait_window(&s, "notepad - vmdesk test", NULL, 10000);
    rt_expect_geometry(&s, win, 120, 90, 640, 400, 10000);
    expect_colour(120, 90, 640, 400, RED);
    rt_wait_window_viewable(&s, win, 10000);
    g_autofree char *icon = xprop(win, "_NET_WM_ICON");
    g_assert_nonnull(strstr(icon, "32 x 32")); /* xprop's summary of the icon */
    /* The progress window is gone once the program's window shows. */
    rt_wait_window_gone(&s, "notepad — ", 10000);
    g_free(rt_expect_line(&s, "rdpdr read share/hello.txt: hello from the host", 10000));
    g_autofree char *log = rt_read_text(s.client_log);
    g_assert_nonnull(strstr(log, "window \"notepad - vmdesk test\" shown, "));

    /* The server moves and renames it. */
    rt_server_command(&s, "move 0x1001 200 150 500 300");
    rt_expect_geometry(&s, win, 200, 150, 500, 300, 10000);
    expect_colour(200, 150, 500, 300, RED);
    rt_server_command(&s, "title 0x1001 renamed by the server");
    g_autofree char *renamed = rt_wait_window(&s, "renamed by the server", NULL, 10000);
    g_assert_cmpstr(renamed, ==, win);

    /* The user: focus, a move (as a window manager makes it), a click and a key. */
    rt_xdo("windowfocus", win, NULL);
    g_free(rt_expect_next(&s, &mark, "rail activate 0x1001 1", 5000));
    rt_xdo("windowmove", win, "300", "200", NULL);
    g_free(rt_expect_next(&s, &mark, "rail window-move 0x1001 300 200 500 300", 5000));
    g_free(rt_expect_next(&s, &mark, "rail window-update 0x1001 rect 300 200 500 300", 5000));
    rt_expect_geometry(&s, win, 300, 200, 500, 300, 10000);
    rt_xdo("mousemove", "--window", win, "50", "60", NULL);
    rt_xdo("click", "1", NULL);
    g_free(rt_expect_next(&s, &mark, "input mouse 350 260 0x9000", 5000));
    rt_xdo("key", "--window", win, "a", NULL);
    g_free(rt_expect_next(&s, &mark, "input key 0x1e down", 5000));

    /* A second program joins the same connection through the control
     * socket: a window and a dialog it owns, which stays with it. */
    g_autofree char *out = NULL;
    int status = app_run(&s, env, "dialog", &out);
    g_test_message("second launch: %s", out);
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(strstr(out, "started in the running RemoteApp session"));
    g_free(rt_expect_next(&s, &mark, "rail exec dialog", 5000));
    g_free(rt_expect_next(&s, &mark, "rail window-create 0x1002 owner 0x0 ", 5000));
    g_autofree char *popup_line =
        rt_expect_next(&s, &mark, "rail window-create 0x1003 owner 0x1002 ", 5000);
    g_autofree char *server_log = rt_read_text(s.log);
    g_assert_null(strstr(strstr(server_log, "client-connected") + 1, "client-connected"));
    g_autofree char *main_win = rt_wait_window(&s, "dialog - vmdesk test", NULL, 10000);
    g_autofree char *popup_title = g_strdup(strstr(popup_line, "title ") + 6);
    g_autofree char *popup = rt_wait_window(&s, popup_title, NULL, 10000);
    rt_wait_window_viewable(&s, popup, 10000); /* its hints are all set before it maps */
    g_autofree char *transient = xprop(popup, "WM_TRANSIENT_FOR");
    if (!strstr(transient, main_win + 2)) /* "window id # 0x..." */
        g_error("the dialog %s is not transient for its owner %s: %s", popup, main_win, transient);
    /* Its close button: SC_CLOSE; the server deletes both windows. */
    rt_x_close_window(main_win);
    g_free(rt_expect_next(&s, &mark, "rail syscommand 0x1002 close", 5000));
    g_free(rt_expect_next(&s, &mark, "rail window-delete 0x1002", 5000));
    rt_wait_window_gone(&s, "dialog - vmdesk test", 10000);
    rt_wait_window_gone(&s, popup_title, 10000);

    /* A window with Windows 10's invisible borders: only its visible part
     * is a window here, and moving it moves the whole window there. */
    g_clear_pointer(&out, g_free);
    status = app_run(&s, env, "framed", &out);
    g_assert_cmpint(status, ==, 0);
    g_free(rt_expect_next(&s, &mark, "rail window-visible 0x1004 8 0 632 392", 5000));
    g_autofree char *framed_line =
        rt_expect_next(&s, &mark, "rail window-create 0x1004 owner 0x0 ", 5000);
    int fx = 0, fy = 0;
    g_assert_cmpint(sscanf(strstr(framed_line, "rect ") + 5, "%d %d", &fx, &fy), ==, 2);
    g_autofree char *framed = rt_wait_window(&s, "framed - vmdesk test", NULL, 10000);
    rt_expect_geometry(&s, framed, fx + 8, fy, 624, 392, 10000);
    rt_expect_pixel(fx + 8, fy + 200, 0xA050C0, TOLERANCE); /* its colour, not #ff00ff */
    rt_xdo("windowmove", framed, "400", "300", NULL);
    g_free(rt_expect_next(&s, &mark, "rail window-move 0x1004 392 300 640 400", 5000));
    rt_expect_geometry(&s, framed, 400, 300, 624, 392, 10000);
    rt_server_command(&s, "close 0x1004");
    rt_wait_window_gone(&s, "framed - vmdesk test", 10000);

    /* A launch the server refuses: the reason, and the exit status. */
    g_clear_pointer(&out, g_free);
    status = app_run(&s, env, "missing", &out);
    g_test_message("missing: %s", out);
    g_assert_cmpint(status, ==, 3);
    g_assert_nonnull(strstr(out, "not found in the guest"));

    /* The last window closes: the connection ends --linger (3 s) later, by itself. */
    rt_x_close_window(win);
    g_free(rt_expect_next(&s, &mark, "rail syscommand 0x1001 close", 5000));
    g_free(rt_expect_next(&s, &mark, "rail last-window-closed", 5000));
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(tu_subprocess_wait(s.client, 20000));
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_test_message("vmdesk ended %" G_GINT64_FORMAT " ms after the last window closed", ms);
    g_assert_cmpint(ms, >=, 2500);
    g_assert_cmpint(g_subprocess_get_exit_status(s.client), ==, 0);
    g_clear_object(&s.client);
    g_free(rt_expect_next(&s, &mark, "disconnected", 10000));

    /* A first launch the server refuses ends that process with the reason.
     * (On a HiDPI display: the scale goes to the server as in the desktop.) */
    g_clear_pointer(&out, g_free);
    g_auto(GStrv) hidpi = g_environ_setenv(g_strdupv(env), "GDK_SCALE", "2", TRUE);
    status = app_run(&s, hidpi, "forbidden", &out);
    g_free(rt_expect_next(&s, &mark, "client-scale 200 device 180", 5000));
    g_test_message("forbidden: %s", out);
    g_assert_cmpint(status, ==, 1);
    g_assert_nonnull(strstr(out, "allow list"));
    rt_session_finish(&s);
}

/* Sound in RemoteApp as in the desktop: while notepad's window is open,
 * the server's tone reaches the user's PulseAudio (found through
 * XDG_RUNTIME_DIR as on a desktop). */
static void test_vmdesk_rail_sound(void)
{
    g_autofree char *tone = g_strdup_printf("%d:%d", TONE_HZ, TONE_MS);
    RtSession s = {0};
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--rail",
                          "--sound-tone", tone, NULL};
    rt_server_start(&s, "vmdesk-rail-sound", args);
    g_autofree char *rec = g_build_filename(rt_world.dir, "vmdesk-rail-tone.raw", NULL);
    g_autoptr(GSubprocess) recorder = rt_recorder_start(rec);
    g_auto(GStrv) env = rt_vmdesk_env("app", rt_world.run_dir, true);
    s.client_name = "vmdesk";
    s.client_log = g_strdup_printf("%s/vmdesk-rail-sound.log", rt_world.dir);
    g_autoptr(GPtrArray) argv = app_argv_with(&s, "notepad", NULL, true);
    rt_vmdesk_spawn(&s, (const char *const *)argv->pdata, env);
    g_autofree char *win = rt_wait_window(&s, "notepad - vmdesk test", NULL, CONNECT_MS);
    rt_expect_sound(&s, recorder, rec, TONE_HZ, TONE_MS);
    g_autofree char *log = rt_read_text(s.client_log);
    g_assert_null(strstr(log, "no sound server"));
    rt_x_close_window(win);
    g_assert_true(tu_subprocess_wait(s.client, 20000));
    g_assert_cmpint(g_subprocess_get_exit_status(s.client), ==, 0);
    g_clear_object(&s.client);
    rt_session_finish(&s);
}

/* Waits until a window manager runs on our display (wmctrl -m answers). */
static void wait_for_wm(GSubprocess *wm)
{
    for (int i = 0, n = tu_timeout_ms(10000) / 100; i < n; i++) {
        const char *argv[] = {"wmctrl", "-m", NULL};
        g_autofree char *out = rt_run(argv, rt_world.env);
        if (out && strstr(out, "Name: Openbox"))
            return;
        g_assert_nonnull(g_subprocess_get_identifier(wm)); /* still running */
        g_usleep(100 * 1000);
    }
    g_error("openbox did not come up within %d ms", tu_timeout_ms(10000));
}

/* The server's "rail window-update ID show STATE rect X Y W H" line that
 * follows *@mark; its rectangle. */
static void expect_show(RtSession *s, gsize *mark, const char *id, const char *state, int *x,
                        int *y, int *w, int *h)
{
    g_autofree char *what = g_strdup_printf("rail window-update %s show %s rect ", id, state);
    g_autofree char *line = rt_expect_next(s, mark, what, 5000);
    g_assert_cmpint(sscanf(strstr(line, " rect ") + 6, "%d %d %d %d", x, y, w, h), ==, 4);
}

/* Under a window manager (openbox; the other cases run on a bare Xvfb): the
 * user's minimize and restore (a taskbar's activate) go to the server as
 * SysCommands, and the window follows the state the server answers with;
 * the server's own minimize, restore and maximize iconify, bring back and
 * resize the window without echoing a SysCommand. */
static void test_vmdesk_rail_wm(void)
{
    RtSession s = {0};
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--rail", NULL};
    rt_server_start(&s, "vmdesk-rail-wm", args);
    g_autofree char *wm_log = g_build_filename(rt_world.dir, "openbox.log", NULL);
    const char *wm_argv[] = {"openbox", "--sm-disable", NULL};
    g_autoptr(GSubprocess) wm = rt_spawn(wm_argv, rt_world.env, wm_log, wm_log);
    wait_for_wm(wm);
    g_auto(GStrv) env = rt_vmdesk_env("app", NULL, true);
    s.client_name = "vmdesk";
    s.client_log = g_strdup_printf("%s/vmdesk-rail-wm.log", rt_world.dir);
    g_autoptr(GPtrArray) argv = app_argv(&s, "notepad", NULL);
    rt_vmdesk_spawn(&s, (const char *const *)argv->pdata, env);
    gsize mark = 0;
    g_free(rt_expect_next(&s, &mark, "rail window-create 0x1001 owner 0x0 rect 120 90 640 400 ",
                          CONNECT_MS));
    g_autofree char *win = rt_wait_window(&s, "notepad - vmdesk test", NULL, 10000);
    rt_wait_window_viewable(&s, win, 10000);
    rt_expect_geometry(&s, win, 120, 90, 640, 400, 10000);
    int x, y, w, h;

    /* The user minimizes it, and brings it back from the taskbar. */
    rt_xdo("windowminimize", "--sync", win, NULL);
    g_free(rt_expect_next(&s, &mark, "rail syscommand 0x1001 minimize", 5000));
    expect_show(&s, &mark, "0x1001", "minimized", &x, &y, &w, &h);
    rt_wait_window_unmapped(&s, win, 5000);
    rt_x("wmctrl", "-i", "-a", win, NULL);
    g_free(rt_expect_next(&s, &mark, "rail syscommand 0x1001 restore", 5000));
    expect_show(&s, &mark, "0x1001", "normal", &x, &y, &w, &h);
    rt_wait_window_viewable(&s, win, 5000);
    rt_expect_geometry(&s, win, 120, 90, 640, 400, 10000);
    expect_colour(120, 90, 640, 400, RED);

    /* The server minimizes, restores and maximizes it (a borderless window
     * is maximized by the program's own title bar, drawn by the server; the
     * window manager cannot resize it): no SysCommand comes back. */
    gsize server_from = mark;
    rt_server_command(&s, "minimize 0x1001");
    rt_wait_window_unmapped(&s, win, 5000);
    rt_server_command(&s, "restore 0x1001");
    rt_wait_window_viewable(&s, win, 5000);
    expect_colour(120, 90, 640, 400, RED);
    rt_server_command(&s, "maximize 0x1001");
    expect_show(&s, &mark, "0x1001", "maximized", &x, &y, &w, &h);
    /* The work area vmdesk gave: the host's one monitor (Xvfb's 1280x1024),
     * which the server's desktop covers. */
    g_assert_cmpint(w, ==, 1280);
    rt_expect_geometry(&s, win, x, y, w, h, 10000);
    expect_colour(x, y, w, h, RED);
    rt_server_command(&s, "restore 0x1001");
    expect_show(&s, &mark, "0x1001", "normal", &x, &y, &w, &h);
    rt_expect_geometry(&s, win, 120, 90, 640, 400, 10000);
    g_autofree char *server_log = rt_read_text(s.log);
    g_autofree char *last = g_strdup(server_log + server_from);
    g_assert_nonnull(strstr(last, "show minimized"));
    g_assert_null(strstr(last, "rail syscommand"));

    rt_x_close_window(win);
    g_free(rt_expect_next(&s, &mark, "rail syscommand 0x1001 close", 5000));
    g_assert_true(tu_subprocess_wait(s.client, 20000));
    g_assert_cmpint(g_subprocess_get_exit_status(s.client), ==, 0);
    g_clear_object(&s.client);
    rt_stop(wm, SIGTERM);
    rt_session_finish(&s);
}

void rt_add_vmdesk_rail_tests(void)
{
    g_test_add_func("/rdp-server/vmdesk/rail", test_vmdesk_rail);
    g_test_add_func("/rdp-server/vmdesk/rail-sound", test_vmdesk_rail_sound);
    g_test_add_func("/rdp-server/vmdesk/rail-wm", test_vmdesk_rail_wm);
}
