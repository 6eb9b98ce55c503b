/* A hung RDP server under RemoteApp windows and the desktop window without
 * VNC (issue 20; `vmdesk view` is integration-view-hang): `vmdesk connect
 * --app notepad` against vmdesk-test-rdp-server --rail, then the server is
 * frozen with SIGSTOP (its connections stay open, new ones sit unanswered
 * in the listen backlog), then woken with SIGCONT. The window must say
 * "not answering since" in its title within seconds, dim its picture and
 * ignore keys (none reaches the server after it wakes); once the server
 * answers again the title, the picture and the keys are back; frozen
 * again, closing the window ends vmdesk at once. The numbers (time to
 * notice, time to recover) go to the test's messages. */
#include "rdp_test_harness.h"
#include "test_util.h"

#include <signal.h>
#include <string.h>

#define CONNECT_MS 20000
#define RED 0xD04040u /* the server's colour for window 0x1001 */
#define DIM 110       /* the window's dimming: 110/255 of each channel */
#define TOLERANCE 40
/* The watch's bound (switch.h): about SWITCH_HANG_MS plus two probes, with
 * room for a busy machine. */
#define NOTICE_MS 20000

static char *title_of(const char *win)
{
    const char *argv[] = {"xprop", "-id", win, "_NET_WM_NAME", NULL};
    char *out = rt_run(argv, rt_world.env);
    return out ? out : g_strdup("");
}

/* Waits up to NOTICE_MS for @win's title to hold @part (or, @has false,
 * not to) @after what; returns how long that took in ms. */
static gint64 wait_title(const char *win, const char *part, bool has, const char *after)
{
    gint64 t0 = g_get_monotonic_time();
    gint64 deadline = t0 + (gint64)tu_timeout_ms(NOTICE_MS) * 1000;
    while (g_get_monotonic_time() < deadline) {
        g_autofree char *t = title_of(win);
        if ((strstr(t, part) != NULL) == has)
            return (g_get_monotonic_time() - t0) / 1000;
        g_usleep(100 * 1000);
    }
    g_error("the window's title %s \"%s\" %d ms after %s: %s", has ? "lacks" : "still has", part,
            NOTICE_MS, after, title_of(win));
}

static guint32 dimmed(guint32 rgb)
{
    return ((rgb >> 16 & 0xFF) * DIM / 255) << 16 | ((rgb >> 8 & 0xFF) * DIM / 255) << 8 |
           (rgb & 0xFF) * DIM / 255;
}

/* The checks both windows share, on @win showing @rgb at @px,@py: a still
 * picture on a working server is no hang (the window asks it to repaint,
 * and it does); frozen, the window notices, says so in its title and its
 * output (@said_hung), dims and ignores keys; woken, the title, the
 * picture and the keys come back (@said_back), and the key pressed while
 * it hung never reaches the server. */
static void hang_and_wake(RtSession *s, gsize *mark, const char *win, int px, int py,
                          guint32 rgb, const char *said_hung, const char *said_back)
{
    g_usleep(tu_timeout_ms(8000) * 1000LL);
    g_autofree char *calm = title_of(win);
    g_assert_null(strstr(calm, "not answering"));

    g_subprocess_send_signal(s->server, SIGSTOP);
    gint64 notice = wait_title(win, "not answering since", true, "SIGSTOP");
    g_test_message("time to notice the hang: %" G_GINT64_FORMAT " ms", notice);
    g_autofree char *hung = title_of(win);
    g_test_message("title: %s", g_strstrip(hung));
    g_assert_nonnull(strstr(hung, "input ignored"));
    rt_expect_pixel(px, py, dimmed(rgb), TOLERANCE / 2);
    rt_xdo("key", "--window", win, "b", NULL);
    gsize before_wake = rt_log_mark(s);

    g_subprocess_send_signal(s->server, SIGCONT);
    gint64 recover = wait_title(win, "not answering", false, "SIGCONT");
    g_test_message("time to recover: %" G_GINT64_FORMAT " ms", recover);
    rt_expect_pixel(px, py, rgb, TOLERANCE);
    g_autofree char *log = rt_read_text(s->client_log);
    g_assert_nonnull(strstr(log, said_hung));
    g_assert_nonnull(strstr(log, said_back));
    rt_xdo("key", "--window", win, "a", NULL);
    g_free(rt_expect_next(s, mark, "input key 0x1e down", 5000));
    g_autofree char *server_log = rt_read_text(s->log);
    g_assert_null(strstr(server_log + before_wake, "input key 0x30 "));
}

static void test_vmdesk_rail_hang(void)
{
    RtSession s = {0};
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--rail", NULL};
    rt_server_start(&s, "vmdesk-rail-hang", args);
    g_auto(GStrv) env = rt_vmdesk_env("app-hang", NULL, true);
    gsize mark = 0;
    s.client_name = "vmdesk";
    s.client_log = g_strdup_printf("%s/vmdesk-rail-hang-vmdesk.log", rt_world.dir);
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", s.port);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "connect", url, "--no-audio", "--linger", "3",
                          "--app", "notepad", NULL};
    g_assert_nonnull(argv[0]);
    rt_vmdesk_spawn(&s, argv, env);
    g_free(rt_expect_next(&s, &mark, "rail window-create 0x1001 owner 0x0 rect 120 90 640 400 ",
                          CONNECT_MS));
    g_autofree char *win = rt_wait_window(&s, "notepad - vmdesk test", NULL, 10000);
    rt_wait_window_viewable(&s, win, 10000);
    rt_expect_pixel(120 + 320, 90 + 200, RED, TOLERANCE);
    hang_and_wake(&s, &mark, win, 120 + 320, 90 + 200, RED,
                  "the RDP server is not answering since", "the RDP server answers again");

    /* Frozen again, the user closes the window: that ends the run at once
     * (nothing waits for the frozen server), exit status 0. */
    g_subprocess_send_signal(s.server, SIGSTOP);
    wait_title(win, "not answering since", true, "the second SIGSTOP");
    gint64 t0 = g_get_monotonic_time();
    rt_x_close_window(win);
    g_assert_true(tu_subprocess_wait(s.client, 10000));
    g_test_message("closed while hung: vmdesk ended %" G_GINT64_FORMAT " ms later",
                   (g_get_monotonic_time() - t0) / 1000);
    g_assert_cmpint(g_subprocess_get_exit_status(s.client), ==, 0);
    g_autofree char *end_log = rt_read_text(s.client_log);
    g_assert_nonnull(strstr(end_log, "closed while the RDP server was not answering since"));
    g_clear_object(&s.client);
    g_subprocess_send_signal(s.server, SIGCONT);
    rt_session_finish(&s);
}

/* The desktop window without VNC (vmdesk connect rdp://, and vmdesk app in
 * desktop mode): the same, on the session's whole picture. */
static void test_vmdesk_desktop_hang(void)
{
    RtSession s = {0};
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, NULL};
    rt_server_start(&s, "vmdesk-desktop-hang", args);
    g_auto(GStrv) env = rt_vmdesk_env("desktop-hang", NULL, true);
    const char *vargs[] = {"--no-audio", NULL};
    rt_vmdesk_start(&s, "vmdesk-desktop-hang", env, vargs);
    gsize mark = 0;
    g_free(rt_expect_next(&s, &mark, "activated ", CONNECT_MS));
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u ", s.port);
    g_autofree char *win = rt_wait_window(&s, url, "RDP", CONNECT_MS);
    int x, y, w, h;
    g_assert_true(rt_window_geometry(win, &x, &y, &w, &h));
    rt_expect_pixel(x + 10, y + 10, 0xFFFFFFu, TOLERANCE); /* the white bar */
    hang_and_wake(&s, &mark, win, x + 10, y + 10, 0xFFFFFFu, "RDP not answering since",
                  "RDP answers again");
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
}

void rt_add_hang_tests(void)
{
    g_test_add_func("/rdp-server/vmdesk/rail-hang", test_vmdesk_rail_hang);
    g_test_add_func("/rdp-server/vmdesk/desktop-hang", test_vmdesk_desktop_hang);
}
