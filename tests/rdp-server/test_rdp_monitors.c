/* vmdesk's RemoteApp across several monitors, against
 * vmdesk-test-rdp-server --rail, under an Xvfb whose monitors are defined
 * with `xrandr --setmonitor` (what a desktop's RandR monitor list shows):
 * the server logs the monitor layout it gets (TS_UD_CS_MONITOR and _EX at
 * connect, display control later), the work areas and the window moves;
 * they must match the host's monitors, normalised (client/session/rdp/
 * rdp_monitors.c): a gap closed, each monitor's scale from its density (one
 * at 2x). Windows stay on their monitor both ways, and a monitor removed
 * or added mid-session sends the new layout. The desktop window covers
 * all monitors or the chosen ones (--monitors 1,3: shaped to them), and a
 * selection that cannot be met fails before connecting. */
#include "rdp_test_harness.h"
#include "test_util.h"

#include <signal.h>
#include <string.h>

#define CONNECT_MS 20000

/* xrandr --setmonitor NAME W/MMWxH/MMH+X+Y OUTPUT ("none" after the first:
 * a monitor without an output of its own, as Xvfb has one). */
static void set_monitor(const char *name, const char *geometry, bool first)
{
    rt_x("xrandr", "--setmonitor", name, geometry, first ? "screen" : "none", NULL);
}

/* The server (--rail --size client) and `vmdesk connect --app notepad` on
 * the monitors set; the server's lines @lines (NULL-terminated) in order, the
 * last one the window's creation: its X window (the caller frees). */
static char *start_app(RtSession *s, const char *name, gsize *mark, const char *const *lines)
{
    const char *srv_args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--rail",
                              "--size", "client", NULL};
    rt_server_start(s, name, srv_args);
    g_auto(GStrv) env = rt_vmdesk_env(name, NULL, true);
    g_autofree char *client_name = g_strconcat("vmdesk-", name, NULL);
    const char *args[] = {"--no-audio", "--linger", "3", "--app", "notepad", NULL};
    rt_vmdesk_start(s, client_name, env, args);
    for (size_t i = 0; lines[i]; i++)
        g_free(rt_expect_next(s, mark, lines[i], CONNECT_MS));
    return rt_wait_window(s, "notepad - vmdesk test", NULL, 10000);
}

/* The session ends; the monitors go. */
static void finish(RtSession *s, const char *const *monitors)
{
    rt_client_stop(s);
    rt_session_finish(s);
    for (size_t i = 0; monitors[i]; i++)
        rt_x("xrandr", "--delmonitor", monitors[i], NULL);
}

/* Two monitors side by side, the second at 2x (192 dpi: 1920 px in 254 mm). */
static void test_two(void)
{
    set_monitor("A", "1920/508x1080/286+0+0", true);
    set_monitor("B", "1920/254x1080/143+1920+0", false);
    RtSession s = {0};
    gsize mark = 0;
    const char *lines[] = {
        "client-connected 3840x1080",
        "client-scale 100 device 100",
        "client-monitor 0 0 0 1920x1080 scale 100 device 100 mm 508x286 primary",
        "client-monitor 1 1920 0 1920x1080 scale 200 device 180 mm 254x143",
        "rail sysparam work-area 0 0 1920 1080",
        "rail sysparam work-area 1920 0 3840 1080",
        "rail window-create 0x1001 ",
        NULL,
    };
    g_autofree char *win = start_app(&s, "monitors-two", &mark, lines);
    rt_expect_geometry(&s, win, 120, 90, 640, 400, 10000);
    /* The server puts it on the second monitor; the user moves it back. */
    rt_server_command(&s, "move 0x1001 2100 200 640 400");
    rt_expect_geometry(&s, win, 2100, 200, 640, 400, 10000);
    rt_xdo("windowmove", win, "300", "100", NULL);
    g_free(rt_expect_next(&s, &mark, "rail window-move 0x1001 300 100 640 400", 5000));
    finish(&s, (const char *const[]){"A", "B", NULL});
}

/* Three monitors with a gap of 100 px between the first two, the middle
 * one at 2x, the third right of it; then the third is removed. */
static void test_three_gap_removed(void)
{
    set_monitor("A", "1920/508x1080/286+0+0", true);
    set_monitor("B", "1280/169x1024/135+2020+0", false);
    set_monitor("C", "1920/508x1080/286+3300+0", false);
    RtSession s = {0};
    gsize mark = 0;
    /* The gap closes: B at 1920, C at 3200 (against B, as on the host). */
    const char *lines[] = {
        "client-connected 5120x1080",
        "client-monitor 0 0 0 1920x1080 scale 100 device 100 mm 508x286 primary",
        "client-monitor 1 1920 0 1280x1024 scale 200 device 180 mm 169x135",
        "client-monitor 2 3200 0 1920x1080 scale 100 device 100 mm 508x286",
        "rail sysparam work-area 3200 0 5120 1080",
        "rail window-create 0x1001 ",
        NULL,
    };
    g_autofree char *win = start_app(&s, "monitors-three", &mark, lines);
    /* A window on the server's third monitor is on the host's third. */
    rt_server_command(&s, "move 0x1001 3300 100 500 300");
    rt_expect_geometry(&s, win, 3400, 100, 500, 300, 10000);
    /* ... on the second, the same place on the host's second. */
    rt_server_command(&s, "move 0x1001 2000 50 500 300");
    rt_expect_geometry(&s, win, 2100, 50, 500, 300, 10000);
    /* The user moves it on the host's third: the server's third. */
    rt_xdo("windowmove", win, "3500", "200", NULL);
    g_free(rt_expect_next(&s, &mark, "rail window-move 0x1001 3400 200 500 300", 5000));
    /* The third monitor goes away: the new layout, and the work areas. */
    g_free(rt_expect_line(&s, "disp ready", 10000)); /* any time since the connection */
    gsize removed = mark;
    rt_x("xrandr", "--delmonitor", "C", NULL);
    g_free(rt_expect_next(&s, &mark, "disp layout 2 monitors, primary 1920x1080 scale 100 device 100",
                          10000));
    g_free(rt_expect_next(&s, &mark, "disp monitor 0 0 0 1920x1080 scale 100 device 100 mm 508x286 primary",
                          1000));
    g_free(rt_expect_next(&s, &mark, "disp monitor 1 1920 0 1280x1024 scale 200 device 180 mm 169x135",
                          1000));
    /* The new work areas race the layout and the server's resize: they
     * may come before either. */
    gsize after = removed;
    g_free(rt_expect_next(&s, &after, "rail sysparam work-area 1920 0 3200 1024", 5000));
    after = mark;
    g_free(rt_expect_next(&s, &after, "resize 3200x1080", 5000));
    g_free(rt_expect_next(&s, &after, "activated 3200x1080 ", 5000));
    g_autofree char *log = rt_read_text(s.client_log);
    g_assert_nonnull(strstr(log, "the host's monitors changed: 2 now"));
    /* The third comes back (a monitor plugged in): three again, as at the
     * start, and windows go to it again. */
    gsize added = mark;
    set_monitor("C", "1920/508x1080/286+3300+0", false);
    g_free(rt_expect_next(&s, &mark, "disp layout 3 monitors, primary 1920x1080 scale 100 device 100",
                          10000));
    g_free(rt_expect_next(&s, &mark, "disp monitor 0 0 0 1920x1080 scale 100 device 100 mm 508x286 primary",
                          1000));
    g_free(rt_expect_next(&s, &mark, "disp monitor 1 1920 0 1280x1024 scale 200 device 180 mm 169x135",
                          1000));
    g_free(rt_expect_next(&s, &mark, "disp monitor 2 3200 0 1920x1080 scale 100 device 100 mm 508x286",
                          1000));
    after = added;
    g_free(rt_expect_next(&s, &after, "rail sysparam work-area 3200 0 5120 1080", 5000));
    after = mark;
    g_free(rt_expect_next(&s, &after, "resize 5120x1080", 5000));
    g_free(rt_expect_next(&s, &after, "activated 5120x1080 ", 5000));
    rt_server_command(&s, "move 0x1001 3300 100 500 300");
    rt_expect_geometry(&s, win, 3400, 100, 500, 300, 10000);
    g_free(log);
    log = rt_read_text(s.client_log);
    g_assert_nonnull(strstr(log, "the host's monitors changed: 3 now"));
    finish(&s, (const char *const[]){"A", "B", "C", NULL});
}

/* A desktop session over @monitors (--monitors) on a server named @name:
 * the two monitors it gets are 1920x1080 side by side, the first at 100 %,
 * the second at 200 %. Returns the mark after the server's activation. */
static gsize desktop_connect(RtSession *s, const char *name, const char *monitors)
{
    const char *srv_args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--size", "client",
                              NULL};
    rt_server_start(s, name, srv_args);
    g_auto(GStrv) env = rt_vmdesk_env(name, NULL, true);
    g_autofree char *client = g_strdup_printf("vmdesk-%s", name);
    const char *args[] = {"--no-audio", "--monitors", monitors, NULL};
    rt_vmdesk_start(s, client, env, args);
    gsize mark = 0;
    const char *lines[] = {
        "client-connected 3840x1080",
        "client-monitor 0 0 0 1920x1080 scale 100 device 100 mm 508x286 primary",
        "client-monitor 1 1920 0 1920x1080 scale 200 device 180 mm 254x143",
        "activated 3840x1080 ",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
        g_free(rt_expect_next(s, &mark, lines[i], CONNECT_MS));
    return mark;
}

/* The desktop window with --monitors all over two monitors 100 px apart:
 * one window over both, the server's layout has the gap closed, and a
 * click on the second monitor lands on the server's second monitor. */
static void test_desktop(void)
{
    set_monitor("A", "1920/508x1080/286+0+0", true);
    set_monitor("B", "1920/254x1080/143+2020+0", false);
    RtSession s = {0};
    gsize mark = desktop_connect(&s, "monitors-desktop", "all");
    g_autofree char *win = rt_wait_window(&s, "rdp://127.0.0.1", NULL, 10000);
    rt_expect_geometry(&s, win, 0, 0, 3940, 1080, 10000);
    /* The picture is drawn per monitor once it has the layout's size. */
    g_usleep(1000 * 1000);
    rt_xdo("mousemove", "2120", "50", NULL);
    rt_xdo("click", "1", NULL);
    g_free(rt_expect_next(&s, &mark, "input mouse 2020 50 0x9000", 5000));
    finish(&s, (const char *const[]){"A", "B", NULL});
}

/* The window under the pointer at @x,@y ("0x..." like rt_wait_window's;
 * the caller frees it). */
static char *window_at(int x, int y)
{
    g_autofree char *sx = g_strdup_printf("%d", x), *sy = g_strdup_printf("%d", y);
    rt_xdo("mousemove", sx, sy, NULL);
    const char *argv[] = {"xdotool", "getmouselocation", "--shell", NULL};
    g_autofree char *out = rt_run(argv, rt_world.env);
    g_assert_nonnull(out);
    const char *w = strstr(out, "WINDOW=");
    g_assert_nonnull(w);
    guint64 id = g_ascii_strtoull(w + 7, NULL, 10);
    return g_strdup_printf("0x%" G_GINT64_MODIFIER "x", id);
}

/* Three monitors, the desktop window on the first and the third only
 * (--monitors 1,3): the server gets those two side by side, the second
 * (and the gap before it) closed; the window spans the three but is shaped
 * to the two chosen, so the second still shows the desktop and takes its
 * own clicks. */
static void test_desktop_subset(void)
{
    set_monitor("A", "1920/508x1080/286+0+0", true);
    set_monitor("B", "1280/169x1024/135+2020+0", false);
    set_monitor("C", "1920/254x1080/143+3300+0", false);
    /* The root's colour, to tell the desktop from the window's black. */
    rt_x("xsetroot", "-solid", "#2050a0", NULL);
    RtSession s = {0};
    gsize mark = desktop_connect(&s, "monitors-subset", "1,3");
    g_autofree char *log = rt_read_text(s.log);
    g_assert_null(strstr(log, "client-monitor 2 "));
    g_autofree char *win = rt_wait_window(&s, "rdp://127.0.0.1", NULL, 10000);
    /* Its rectangle runs from A's left to C's right ... */
    rt_expect_geometry(&s, win, 0, 0, 5220, 1080, 10000);
    /* ... but B shows the desktop and takes the pointer; A and C are ours. */
    rt_expect_pixel(2500, 500, 0x2050a0, 8);
    g_autofree char *on_b = window_at(2500, 500);
    g_assert_cmpstr(on_b, !=, win);
    g_autofree char *on_a = window_at(100, 500);
    g_assert_cmpstr(on_a, ==, win);
    g_autofree char *on_c = window_at(3400, 50);
    g_assert_cmpstr(on_c, ==, win);
    /* A click on C lands on the server's second monitor. */
    g_usleep(1000 * 1000); /* the picture drawn per monitor (test_desktop) */
    rt_xdo("click", "1", NULL);
    g_free(rt_expect_next(&s, &mark, "input mouse 2020 50 0x9000", 5000));
    finish(&s, (const char *const[]){"A", "B", "C", NULL});
}

/* Selections that cannot be met fail before any connection, saying why:
 * a monitor the host does not have (4 of 3), one named twice, no number. */
static void test_bad_selection(void)
{
    set_monitor("A", "1920/508x1080/286+0+0", true);
    set_monitor("B", "1280/169x1024/135+2020+0", false);
    set_monitor("C", "1920/254x1080/143+3300+0", false);
    RtSession s = {0};
    const char *srv_args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--size", "client",
                              NULL};
    rt_server_start(&s, "monitors-bad", srv_args);
    g_auto(GStrv) env = rt_vmdesk_env("monitors-bad", NULL, false);
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", s.port);
    const struct {
        const char *spec, *says;
    } cases[] = {
        {"4", "--monitors: there is no monitor 4; this desktop has 3 (numbered from 1 to 3"},
        {"1,4", "--monitors: there is no monitor 4; this desktop has 3"},
        {"1,1", "--monitors 1,1: monitor 1 is named twice"},
        {"x", "--monitors x: write all, or monitor numbers from 1 to 16"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        /* timeout: a vmdesk that connected anyway would stay. */
        const char *argv[] = {"timeout", "30", g_getenv("VMDESK_BIN"), "connect", url,
                              "--no-audio", "--monitors", cases[i].spec, NULL};
        g_autofree char *out = NULL;
        int rc = rt_run_all(argv, env, &out);
        g_test_message("--monitors %s: exit %d: %s", cases[i].spec, rc, out);
        g_assert_cmpint(rc, ==, 2);
        g_assert_nonnull(strstr(out, cases[i].says));
    }
    /* The server saw no client. */
    g_autofree char *log = rt_read_text(s.log);
    g_assert_null(strstr(log, RT_PREFIX "client-connected"));
    g_assert_null(strstr(log, RT_PREFIX "disconnected"));
    g_assert_cmpint(rt_stop(s.server, SIGTERM), ==, 0);
    g_clear_object(&s.server);
    g_free(s.log);
    for (const char *const *m = (const char *const[]){"A", "B", "C", NULL}; *m; m++)
        rt_x("xrandr", "--delmonitor", *m, NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* Room for three monitors side by side. */
    rt_world.screen = "5120x1440x24";
    rt_world_start();
    g_test_add_func("/rdp-monitors/two", test_two);
    g_test_add_func("/rdp-monitors/three-gap-removed", test_three_gap_removed);
    g_test_add_func("/rdp-monitors/desktop", test_desktop);
    g_test_add_func("/rdp-monitors/desktop-subset", test_desktop_subset);
    g_test_add_func("/rdp-monitors/bad-selection", test_bad_selection);
    int rc = g_test_run();
    rt_world_finish();
    return rc;
}
