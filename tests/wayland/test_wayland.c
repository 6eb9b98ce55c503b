/* vmdesk on Wayland, under a real compositor: weston 10's headless backend
 * (pixman renderer, output scale 2), with and without XWayland, with and
 * without a seat (weston-test-seat.so adds one; the headless backend has
 * none). Screenshots come from weston's own screenshooter (weston --debug,
 * weston-screenshooter), the clipboard from wl-clipboard (wl-copy,
 * wl-paste), the VNC desktop from TigerVNC's Xvnc showing a one-pixel
 * checkerboard (a picture drawn at scale 1 and enlarged by the compositor
 * has 2x2 blocks instead), RemoteApp from vmdesk-test-rdp-server --rail.
 *
 * /wayland/no-seat          no seat, no XWayland: a clear error, no crash
 * /wayland/no-seat-xwayland no seat, XWayland: the window goes to XWayland
 * /wayland/desktop          seat and XWayland: the desktop window native
 *                           and sharp at scale 2, clipboard text both ways,
 *                           RemoteApp windows through XWayland where the
 *                           server puts them
 * /wayland/no-xwayland      seat, no XWayland: desktop and RemoteApp native,
 *                           clipboard text both ways through wl_data_device
 *                           (WAYLAND_DEBUG's log), weston's missing
 *                           keyboard-shortcuts-inhibit reported by vmdesk
 * /wayland/clipboard-files  the native desktop window on RDP: the server's
 *                           files pasted with wl-paste (text/uri-list,
 *                           x-special/gnome-copied-files), contents compared
 * /wayland/clipboard-pictures  the server's picture pasted as image/png,
 *                           pixels compared
 * /wayland/clipboard-hostile   the server's bad file names (.., absolute,
 *                           256 characters, a NUL inside) refused or cut,
 *                           nothing written outside the staging folder
 *
 * Uses the RDP tests' world (rdp_test_harness.h: a folder, the server, its
 * certificate; its Xvfb is not given to vmdesk here) and what the Wayland
 * tests share (wl_harness.h). */
#include "test_util.h"
#include "wl_harness.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define SCALE 2
#define CONNECT_MS WL_CONNECT_MS
#define RED 0xD04040u /* the RDP test server's colour for window 0x1001 */

typedef struct {
    GSubprocess *proc;
    char *run_dir;  /* XDG_RUNTIME_DIR of weston (its socket) */
    char *socket;   /* absolute path: clients' WAYLAND_DISPLAY */
    char *log;
    char *display;  /* XWayland's ":N", or NULL */
    char *shot_dir; /* weston-screenshooter writes here */
} Weston;

static int serial;

/* Start weston headless at scale 2, with a seat and XWayland as asked. */
static void weston_start(Weston *w, bool seat, bool xwayland)
{
    int n = ++serial;
    w->run_dir = g_strdup_printf("%s/weston-%d", rt_world.dir, n);
    w->shot_dir = g_strdup_printf("%s/shots-%d", rt_world.dir, n);
    g_assert_cmpint(g_mkdir(w->run_dir, 0700), ==, 0);
    g_assert_cmpint(g_mkdir(w->shot_dir, 0700), ==, 0);
    w->socket = g_build_filename(w->run_dir, "wayland-test", NULL);
    w->log = g_strdup_printf("%s/weston-%d.log", rt_world.dir, n);
    g_autofree char *log_opt = g_strdup_printf("--log=%s", w->log);
    g_autofree char *seat_opt = g_strdup_printf("--modules=%s", g_getenv("VMDESK_WESTON_SEAT"));
    GPtrArray *argv = g_ptr_array_new();
    const char *base[] = {"weston", "--backend=headless-backend.so", "--use-pixman",
                          "--width=1280", "--height=800", "--scale=2", "--socket=wayland-test",
                          "--idle-time=0", "--debug", "--no-config", log_opt};
    for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
        g_ptr_array_add(argv, (char *)base[i]);
    if (seat)
        g_ptr_array_add(argv, seat_opt);
    if (xwayland)
        g_ptr_array_add(argv, "--xwayland");
    g_ptr_array_add(argv, NULL);
    g_assert_nonnull(g_getenv("VMDESK_WESTON_SEAT"));
    char **env = g_environ_setenv(g_get_environ(), "XDG_RUNTIME_DIR", w->run_dir, TRUE);
    env = g_environ_unsetenv(env, "DISPLAY");
    env = g_environ_unsetenv(env, "WAYLAND_DISPLAY");
    w->proc = rt_spawn((const char *const *)argv->pdata, env, NULL, NULL);
    g_strfreev(env);
    g_ptr_array_free(argv, TRUE);
    /* Up once its shell runs; XWayland once it says where it listens. */
    gint64 end = g_get_monotonic_time() + tu_timeout_ms(15000) * 1000LL;
    for (;;) {
        g_autofree char *text = rt_read_text(w->log);
        bool up = strstr(text, "launching '") && g_file_test(w->socket, G_FILE_TEST_EXISTS);
        const char *x = strstr(text, "xserver listening on display ");
        if (up && x && !w->display) {
            x += strlen("xserver listening on display ");
            w->display = g_strndup(x, strcspn(x, "\n "));
        }
        if (up && (!xwayland || w->display))
            break;
        if (g_get_monotonic_time() > end)
            g_error("weston did not come up; its log:\n%s", text);
        g_usleep(50 * 1000);
    }
}

static void weston_stop(Weston *w)
{
    g_assert_cmpint(rt_stop(w->proc, SIGTERM), !=, -1);
    g_clear_object(&w->proc);
    g_free(w->run_dir);
    g_free(w->socket);
    g_free(w->log);
    g_free(w->display);
    g_free(w->shot_dir);
}

/* --- the picture --- */

/* A screenshot of weston's output (its pixels: 2x the logical size). */
static WlShot screenshot(Weston *w)
{
    g_autoptr(GDir) before = g_dir_open(w->shot_dir, 0, NULL);
    while (g_dir_read_name(before))
        ; /* nothing to keep: each shot has its own second in its name */
    char **env = g_environ_setenv(g_get_environ(), "WAYLAND_DISPLAY", w->socket, TRUE);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_environ(l, env);
    g_subprocess_launcher_set_cwd(l, w->shot_dir);
    g_strfreev(env);
    const char *argv[] = {"weston-screenshooter", NULL};
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, argv, &err);
    g_assert_no_error(err);
    g_assert_true(tu_subprocess_wait(p, 10000));
    g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
    /* The newest file it wrote. */
    g_autoptr(GDir) d = g_dir_open(w->shot_dir, 0, NULL);
    g_autofree char *path = NULL;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *full = g_build_filename(w->shot_dir, name, NULL);
        if (!path || strcmp(full, path) > 0) {
            g_free(path);
            path = g_steal_pointer(&full);
        }
    }
    g_assert_nonnull(path);
    return wl_shot_load(path);
}

static WlShot screenshot_of(void *w)
{
    return screenshot(w);
}

/* --- files and pictures: the desktop window on vmdesk-test-rdp-server --- */

/* The server's folder vmdesk-clip (2 files of 300 kB) pasted on the
 * Wayland host, as text/uri-list and as x-special/gnome-copied-files. The
 * other way is not tested here: weston 10 lets a client read only the newest
 * offer of a selection, which is SDL's data device's (docs/wayland.md);
 * test_mutter.c tests it under mutter, which answers every offer. */
static void test_clipboard_files(void)
{
    Weston w = {0};
    weston_start(&w, true, false);
    RtSession s = {0};
    wl_rich_start(w.socket, &s, "wl-clip-files", "files:2:300000");
    g_autofree char *dir = wl_expect_server_files(w.socket, &s);
    g_autofree char *files_dir = g_path_get_dirname(dir);
    g_autofree char *stage = g_path_get_dirname(files_dir);
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    /* The session's staging folder went with it. */
    g_assert_false(g_file_test(stage, G_FILE_TEST_EXISTS));
    weston_stop(&w);
}

/* The server's 97x61 picture pasted with wl-paste (image/png, its pixels
 * those the server logged). The other way: as for files. */
static void test_clipboard_pictures(void)
{
    Weston w = {0};
    weston_start(&w, true, false);
    RtSession s = {0};
    wl_rich_start(w.socket, &s, "wl-clip-picture", "picture:97x61");
    g_bytes_unref(wl_expect_server_picture(w.socket, &s));

    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    weston_stop(&w);
}

/* How many files named @name are under @dir. */
static int count_named(const char *dir, const char *name)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    int n = 0;
    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *full = g_build_filename(dir, e, NULL);
        n += !strcmp(e, name);
        if (g_file_test(full, G_FILE_TEST_IS_DIR) && !g_file_test(full, G_FILE_TEST_IS_SYMLINK))
            n += count_named(full, name);
    }
    return n;
}

/* The server's hostile file lists: refused with a log line (nothing of
 * vmdesk's on the clipboard), or, for a name with a NUL inside, cut at the
 * NUL; nothing written outside the staging folder. */
static void test_clipboard_hostile(void)
{
    Weston w = {0};
    weston_start(&w, true, false);
    const char *kinds[] = {"dotdot", "absolute", "long", "nul"};
    const char *says[] = {"'..'", "absolute", "longer than 255", NULL};
    g_autofree char *long_name = g_strnfill(256, 'x');
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        RtSession s = {0};
        g_autofree char *name = g_strdup_printf("wl-clip-hostile-%s", kinds[i]);
        g_autofree char *offer = g_strdup_printf("hostile:%s", kinds[i]);
        wl_rich_start(w.socket, &s, name, offer);
        g_free(rt_expect_line(&s, "clipboard offered-hostile *", CONNECT_MS));
        if (says[i]) {
            gint64 end = g_get_monotonic_time() + tu_timeout_ms(15000) * 1000LL;
            for (;;) {
                g_autofree char *cli = rt_read_text(s.client_log);
                if ((strstr(cli, "refused") || strstr(cli, "are not copied")) &&
                    strstr(cli, says[i]))
                    break;
                if (g_get_monotonic_time() > end)
                    g_error("%s: vmdesk logged no refusal saying %s:\n%s", kinds[i], says[i],
                            cli);
                g_usleep(200 * 1000);
            }
            g_autoptr(GBytes) uris = wl_paste_type(w.socket, "text/uri-list");
            g_assert_null(uris);
        } else {
            /* The name ends at the NUL: "nul.txt", in the staging folder. */
            g_autoptr(GBytes) uris = wl_wait_paste(w.socket, &s, "text/uri-list");
            g_auto(GStrv) paths = wl_uri_paths(uris);
            g_assert_cmpuint(g_strv_length(paths), ==, 1);
            g_test_message("nul: pasted %s", paths[0]);
            g_assert_true(g_str_has_suffix(paths[0], "/files/nul.txt"));
            g_assert_true(g_str_has_prefix(paths[0], rt_world.dir));
            gsize len = 0;
            g_free(wl_file_sum(paths[0], &len));
            g_assert_cmpuint(len, ==, 100);
        }
        g_assert_cmpint(rt_client_stop(&s), ==, 0);
        rt_session_finish(&s);
        g_assert_cmpint(count_named(rt_world.dir, "escaped.txt"), ==, 0);
        g_assert_cmpint(count_named(rt_world.dir, long_name), ==, 0);
        g_autofree char *escaped = g_build_filename(g_get_tmp_dir(), "escaped.txt", NULL);
        g_assert_false(g_file_test(escaped, G_FILE_TEST_EXISTS));
    }
    weston_stop(&w);
}

/* --- RemoteApp --- */

static GSubprocess *vmdesk_app(RtSession *s, char **env, const char *log)
{
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", s->port);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "connect", url, "--no-audio", "--app",
                          "notepad", NULL};
    return rt_spawn(argv, env, log, log);
}

/* The RDP tests' X helpers (rt_wait_window, rt_window_geometry...) look at
 * rt_world's display: point them at XWayland's @display for a while. */
typedef struct {
    char **env;
    char *display;
} XSwap;

static XSwap x_use(const char *display)
{
    XSwap old = {rt_world.env, rt_world.display};
    rt_world.env = g_environ_setenv(g_strdupv(old.env), "DISPLAY", display, TRUE);
    rt_world.display = g_strdup(display);
    return old;
}

static void x_restore(XSwap old)
{
    g_strfreev(rt_world.env);
    g_free(rt_world.display);
    rt_world.env = old.env;
    rt_world.display = old.display;
}

/* --- the cases --- */

/* No seat, no XWayland: SDL 2.26 would crash; vmdesk says why. */
static void test_no_seat(void)
{
    Weston w = {0};
    weston_start(&w, false, false);
    WlXvnc x = {0};
    wl_xvnc_start(&x);
    g_auto(GStrv) env = wl_env(w.socket, NULL, "no-seat");
    for (int asked = 0; asked < 2; asked++) {
        char **e = asked ? g_environ_setenv(g_strdupv(env), "SDL_VIDEODRIVER", "wayland", TRUE)
                         : g_strdupv(env);
        g_autofree char *url = g_strdup_printf("vnc://127.0.0.1:%u", x.port);
        const char *argv[] = {g_getenv("VMDESK_BIN"), "connect", url, NULL};
        g_autofree char *out = NULL;
        int st = rt_run_all(argv, e, &out);
        g_strfreev(e);
        g_test_message("vmdesk: %s", out);
        g_assert_cmpint(st, ==, 1);
        g_assert_nonnull(strstr(out, "offers no seat"));
    }
    wl_xvnc_stop(&x);
    weston_stop(&w);
}

/* No seat, XWayland there: the window goes to X11 (XWayland). */
static void test_no_seat_xwayland(void)
{
    Weston w = {0};
    weston_start(&w, false, true);
    WlXvnc x = {0};
    wl_xvnc_start(&x);
    char **env = wl_env(w.socket, w.display, "no-seat-x");
    env = g_environ_setenv(env, "SDL_VIDEODRIVER", "wayland", TRUE);
    g_autofree char *log = g_strdup_printf("%s/no-seat-x-vmdesk.log", rt_world.dir);
    GSubprocess *v = wl_vmdesk_vnc(&x, env, log);
    g_strfreev(env);
    wl_expect_in_log(log, "video driver: x11", 10000);
    /* The window is on XWayland's screen. */
    XSwap saved = x_use(w.display);
    RtSession s = {.client_log = log, .client_name = "vmdesk", .log = (char *)log};
    g_autofree char *win = rt_wait_window(&s, "vnc://", NULL, 15000);
    g_test_message("the window on XWayland: %s", win);
    x_restore(saved);
    g_assert_cmpint(rt_stop(v, SIGTERM), ==, 0);
    g_object_unref(v);
    wl_xvnc_stop(&x);
    weston_stop(&w);
}

/* RemoteApp on @w: where the server's window 0x1001 (120,90 640x400) is,
 * and where it is after the server's move (measured: weston decides). */
static void remoteapp(Weston *w, bool via_xwayland, const char *name)
{
    RtSession s = {0};
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--rail", NULL};
    rt_server_start(&s, name, args);
    char **env = wl_env(w->socket, via_xwayland ? w->display : NULL, name);
    s.client_name = "vmdesk";
    s.client_log = g_strdup_printf("%s/%s-vmdesk.log", rt_world.dir, name);
    s.client = vmdesk_app(&s, env, s.client_log);
    g_strfreev(env);
    g_free(rt_expect_line(&s, "rail window-create 0x1001 owner 0x0 rect 120 90 640 400 ",
                          CONNECT_MS));
    wl_expect_in_log(s.client_log, via_xwayland ? "video driver: x11" : "video driver: wayland",
                  5000);
    wl_expect_in_log(s.client_log, "window \"notepad - vmdesk test\" shown", 10000);
    if (via_xwayland) {
        /* Exactly where the server put it, in XWayland's (logical) pixels. */
        XSwap saved = x_use(w->display);
        g_autofree char *win = rt_wait_window(&s, "notepad - vmdesk test", NULL, 10000);
        rt_wait_window_viewable(&s, win, 10000);
        /* weston's X window manager keeps a frame (32 pixels of margin)
         * around the window, at the server's place. In 3 of 7 runs it
         * was viewable at a place of weston's first (64,64) and at the
         * server's ~110 ms later (not understood: weston's placement, or
         * vmdesk's later SDL_SetWindowPosition putting it right): the
         * place is read until it is the server's (5 s), the first said. */
        int x0 = 0, y0 = 0, w0 = 0, h0 = 0;
        gint64 t0 = g_get_monotonic_time();
        g_assert_true(rt_window_geometry(win, &x0, &y0, &w0, &h0));
        g_test_message("XWayland: 0x1001 asked at 120,90 640x400, first seen at %d,%d %dx%d", x0,
                       y0, w0, h0);
        for (int i = 0; i < 50 && !(x0 - 120 == y0 - 90 && x0 >= 120 && x0 <= 152); i++) {
            g_usleep(100 * 1000);
            g_assert_true(rt_window_geometry(win, &x0, &y0, &w0, &h0));
        }
        g_test_message("XWayland: then at %d,%d %dx%d (%d ms after the first look)", x0, y0, w0,
                       h0, (int)((g_get_monotonic_time() - t0) / 1000));
        g_assert_cmpint(w0, ==, 640);
        g_assert_cmpint(h0, ==, 400);
        g_assert_cmpint(x0 - 120, ==, y0 - 90);
        g_assert_cmpint(x0 - 120, >=, 0);
        g_assert_cmpint(x0 - 120, <=, 32);
        /* weston's X window manager takes a client's new size but keeps
         * the place (mutter and KWin follow a client's moves). */
        rt_server_command(&s, "move 0x1001 200 150 500 300");
        int x1 = 0, y1 = 0, w1 = 0, h1 = 0;
        for (int i = 0; i < 100 && w1 != 500; i++) {
            g_usleep(100 * 1000);
            g_assert_true(rt_window_geometry(win, &x1, &y1, &w1, &h1));
        }
        g_test_message("XWayland: after the server's move to 200,150 500x300 it is at %d,%d "
                       "%dx%d", x1, y1, w1, h1);
        g_assert_cmpint(w1, ==, 500);
        g_assert_cmpint(h1, ==, 300);
        x_restore(saved);
    }
    /* On screen: the window's colour, where the compositor shows it. */
    int x = 0, y = 0, ww = 0, hh = 0;
    bool seen = false;
    for (int i = 0; i < 40 && !seen; i++) {
        WlShot shot = screenshot(w);
        /* Through XWayland the server has resized it to 500x300 by now:
         * wait for that picture. */
        seen = wl_find_colour(&shot, RED, &x, &y, &ww, &hh) && ww > 200 && hh > 100 &&
               (!via_xwayland || abs(ww / SCALE - 500) <= 4);
        /* Natively a server's pixel is a screen pixel: the server has the
         * output's pixels at its scale (ui/monitors.c), so its 640 are 320
         * logical, drawn at scale 2 (the colour's height is less than the
         * window's: the test server draws a title strip in another). */
        seen &= via_xwayland || abs(ww - 640) <= 4;
        g_free(shot.px);
        if (!seen)
            g_usleep(250 * 1000);
    }
    if (!seen)
        g_test_message("the colour last covered %d,%d %dx%d", x, y, ww, hh);
    g_assert_true(seen);
    g_test_message("%s: the server placed 0x1001 at 120,90 640x400 (logical); on screen its "
                   "colour covers %d,%d %dx%d (pixels at scale 2 = logical %d,%d %dx%d)",
                   via_xwayland ? "XWayland" : "native Wayland", x, y, ww, hh, x / SCALE,
                   y / SCALE, ww / SCALE, hh / SCALE);
    if (!via_xwayland) {
        /* A native window takes the server's size; its place is the
         * compositor's: measured, not expected. */
        rt_server_command(&s, "move 0x1001 200 150 500 300");
        int x1 = 0, y1 = 0, w1 = 0, h1 = 0;
        bool moved = false;
        for (int i = 0; i < 40 && !moved; i++) {
            WlShot shot = screenshot(w);
            moved = wl_find_colour(&shot, RED, &x1, &y1, &w1, &h1) && abs(w1 - 500) <= 4;
            g_free(shot.px);
            if (!moved)
                g_usleep(250 * 1000);
        }
        g_assert_true(moved);
        g_test_message("native Wayland: after the server's move to 200,150 500x300 its colour "
                       "covers logical %d,%d %dx%d",
                       x1 / SCALE, y1 / SCALE, w1 / SCALE, h1 / SCALE);
    }
    rt_session_finish(&s);
    g_free(s.client_log);
}

/* The desktop window (`vmdesk connect vnc://` to a new Xvnc @x) on @w,
 * native on Wayland (even with XWayland's DISPLAY set, @with_display) and
 * sharp at scale 2 in weston's screenshot. With @wl_debug, libwayland logs
 * every request and event of vmdesk's (WAYLAND_DEBUG=client) into @log. */
static GSubprocess *desktop_start(Weston *w, WlXvnc *x, const char *name, bool with_display,
                                  bool wl_debug, char **log)
{
    wl_xvnc_start(x);
    g_auto(GStrv) env = wl_env(w->socket, with_display ? w->display : NULL, name);
    if (wl_debug)
        env = g_environ_setenv(env, "WAYLAND_DEBUG", "client", TRUE);
    *log = g_strdup_printf("%s/%s-vmdesk.log", rt_world.dir, name);
    GSubprocess *v = wl_vmdesk_vnc(x, env, *log);
    wl_expect_in_log(*log, "video driver: wayland", 10000);
    wl_expect_sharp_desktop(screenshot_of, w, 1280 * SCALE);
    return v;
}

static void desktop_stop(GSubprocess *v, WlXvnc *x)
{
    g_assert_cmpint(rt_stop(v, SIGTERM), ==, 0);
    g_object_unref(v);
    wl_xvnc_stop(x);
}

/* What the user does before copying in the guest: a click into the window
 * that has the keyboard focus (weston-test-seat.so clicks on SIGUSR2). */
static void click(Weston *w)
{
    g_assert_cmpint(kill((pid_t)atoi(g_subprocess_get_identifier(w->proc)), SIGUSR2), ==, 0);
}

/* Clipboard text both ways between the Wayland host @w and the VNC server
 * @x, through the desktop window (weston gives a new window the keyboard
 * focus, as a desktop does). */
static void desktop_clipboard_text(Weston *w, WlXvnc *x)
{
    /* Host -> guest: a Wayland program copies, vmdesk (focused) passes it on. */
    GSubprocess *copier = wl_copy(w->socket, NULL, "from the Wayland host", NULL);
    wl_expect_text(wl_get_xvnc, x, "from the Wayland host", "the VNC server's clipboard");
    /* Guest -> host: the user clicked into the window once (as a user
     * would; vmdesk's own data device claims the selection with the latest
     * input serial, the keyboard's enter being enough). */
    click(w);
    wl_xvnc_copy(x, "from the guest");
    wl_expect_text(wl_get_paste, w->socket, "from the guest", "wl-paste");
    rt_stop(copier, SIGTERM); /* it lost the clipboard to vmdesk: gone already */
    g_object_unref(copier);
}

/* The first line of @text (WAYLAND_DEBUG's log) matching @pattern, or NULL. */
static char *find_line(const char *text, const char *pattern)
{
    g_autoptr(GRegex) re = g_regex_new(pattern, G_REGEX_MULTILINE, 0, NULL);
    g_assert_nonnull(re);
    g_autoptr(GMatchInfo) m = NULL;
    return g_regex_match(re, text, 0, &m) ? g_match_info_fetch(m, 0) : NULL;
}

/* Fails unless a line of @text matches @pattern; says which. */
static void expect_line(const char *text, const char *pattern, const char *what)
{
    g_autofree char *line = find_line(text, pattern);
    if (!line)
        g_error("WAYLAND_DEBUG shows no %s (%s)", what, pattern);
    g_test_message("%s: %s", what, line);
}

/* Seat and XWayland: the desktop window native and sharp at scale 2, the
 * clipboard both ways, RemoteApp windows on XWayland at their place. */
static void test_desktop(void)
{
    Weston w = {0};
    weston_start(&w, true, true);
    WlXvnc x = {0};
    g_autofree char *log = NULL;
    GSubprocess *v = desktop_start(&w, &x, "desktop", true, false, &log);
    desktop_clipboard_text(&w, &x);
    desktop_stop(v, &x);
    remoteapp(&w, true, "rail-xwayland");
    weston_stop(&w);
}

/* Seat, no XWayland (no DISPLAY: no X connection can carry anything): the
 * desktop window native with the clipboard both ways through Wayland's
 * wl_data_device (seen in WAYLAND_DEBUG's log), its keyboard grab without
 * keyboard-shortcuts-inhibit (weston 10 has none: vmdesk says so), and
 * RemoteApp windows native. */
static void test_no_xwayland(void)
{
    Weston w = {0};
    weston_start(&w, true, false);
    WlXvnc x = {0};
    g_autofree char *log = NULL;
    GSubprocess *v = desktop_start(&w, &x, "native", false, true, &log);
    desktop_clipboard_text(&w, &x);
    /* The click took the keyboard grab: weston 10 offers no
     * zwp_keyboard_shortcuts_inhibit_manager_v1, vmdesk says so and the
     * window works on (the guest's copy above crossed after the click). */
    wl_expect_in_log(log, "the compositor has no keyboard-shortcuts-inhibit", 5000);
    g_autofree char *text = rt_read_text(log);
    expect_line(text, "^.*wl_registry@[0-9]+\\.global\\([0-9]+, \"xdg_wm_base\".*$",
                "weston's globals");
    g_assert_null(find_line(text, "zwp_keyboard_shortcuts_inhibit_manager_v1"));
    /* Host -> guest: the host's text read from an offer (weston serves it
     * to SDL's device only, so vmdesk falls back to SDL's getter there);
     * guest -> host: vmdesk's source claimed the selection with an input
     * serial and wl-paste took the text from it. */
    expect_line(text, "^.*-> wl_data_offer@[0-9]+\\.receive\\(\"text/plain;charset=utf-8\", "
                      "fd [0-9]+\\)$",
                "the host's text read");
    g_autofree char *claim = find_line(text, "^.*-> wl_data_device@[0-9]+\\.set_selection\\("
                                             "wl_data_source@[0-9]+, [1-9][0-9]*\\)$");
    g_assert_nonnull(claim);
    g_test_message("the clipboard claimed: %s", claim);
    g_autofree char *source = g_strndup(strstr(claim, "wl_data_source@"),
                                        strcspn(strstr(claim, "wl_data_source@"), ","));
    g_autofree char *given = g_strdup_printf("^.*%s\\.send\\(\"text/plain;charset=utf-8\", "
                                             "fd [0-9]+\\)$",
                                             source);
    expect_line(text, given, "the guest's text given by that source");
    desktop_stop(v, &x);
    remoteapp(&w, false, "rail-native");
    weston_stop(&w);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    rt_world_start();
    g_test_add_func("/wayland/no-seat", test_no_seat);
    g_test_add_func("/wayland/no-seat-xwayland", test_no_seat_xwayland);
    g_test_add_func("/wayland/desktop", test_desktop);
    g_test_add_func("/wayland/no-xwayland", test_no_xwayland);
    g_test_add_func("/wayland/clipboard-files", test_clipboard_files);
    g_test_add_func("/wayland/clipboard-pictures", test_clipboard_pictures);
    g_test_add_func("/wayland/clipboard-hostile", test_clipboard_hostile);
    int rc = g_test_run();
    rt_world_finish();
    return rc;
}
