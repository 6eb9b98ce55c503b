/* The VNC side of the client against real servers: QEMU's own VNC server
 * showing the test guest (unix socket and TCP), and TigerVNC's Xvnc with
 * password authentication. The window runs under its own Xvfb; keys come
 * from xdotool (XTEST), as from a real keyboard. */
#include "harness.h"
#include "harness_vnc.h"
#include "harness_x.h"

#include "session/vnc/vnc_session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <png.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOOT_MS 60000

/* Create and start test-guest VM @name, and connect a session to its VNC
 * socket at once (so it sees the firmware's mode first). */
static Session *start_vm_session(Harness *h, const char *name)
{
    harness_create_guest(h, name, NULL, NULL);
    g_free(harness_ok(h, "start", name, NULL));
    return vnc_connect_vm(h, name);
}

static void test_qemu_unix_and_resize(void)
{
    Harness h;
    harness_init(&h);
    /* SeaBIOS's text mode first, then the kernel's 1280x800. */
    Session *s = start_vm_session(&h, "screen");
    g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(int));
    vnc_wait_settled(s, 1280, 800, sizes, BOOT_MS);
    g_assert_cmpuint(sizes->len, >=, 4); /* connected at one size, resized to another */
    g_test_message("sizes seen: %dx%d first, %dx%d last", g_array_index(sizes, int, 0),
                   g_array_index(sizes, int, 1), g_array_index(sizes, int, sizes->len - 2),
                   g_array_index(sizes, int, sizes->len - 1));
    g_assert_cmpint(g_array_index(sizes, int, 0), !=, 1280);
    vnc_assert_matches_screendump(&h, "screen", s);

    /* `vmdesk screenshot NAME` saves the same picture. */
    g_autofree char *shot = g_build_filename(h.root, "shot.png", NULL);
    g_free(harness_ok(&h, "screenshot", "screen", shot, NULL));
    Image im = {0};
    g_assert_true(image_load_png(shot, &im));
    int bw, bh;
    g_mutex_lock(&s->fb.lock);
    int n = vnc_image_diff(&im, s->fb.pixels, &bw, &bh);
    g_mutex_unlock(&s->fb.lock);
    g_assert_cmpint(bw, <=, 8);
    g_assert_cmpint(bh, <=, 16);
    g_test_message("screenshot vs session: %d pixels differ", n);
    image_clear(&im);

    /* A VM that goes away closes the session with a reason. */
    g_free(harness_ok(&h, "stop", "screen", "--force", NULL));
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    bool closed = false;
    while (!closed && g_get_monotonic_time() < deadline) {
        SessionEvent *ev = session_next_event(s);
        if (ev && ev->type == SESSION_EV_CLOSED) {
            closed = true;
            g_assert_nonnull(ev->error);
            g_assert_nonnull(strstr(ev->error->message, "lost"));
        }
        session_event_free(ev);
        if (!ev)
            g_usleep(20 * 1000);
    }
    g_assert_true(closed);
    session_destroy(s);
    harness_finish(&h);
}

/* Wait for @needle in the VM's serial log; true if it came. */
static bool serial_has(Harness *h, const char *vm, const char *needle, int timeout_ms)
{
    g_autofree char *path = g_build_filename(h->root, "data", "vmdesk", "vms", vm, "logs",
                                             "serial.log", NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    do {
        g_autofree char *log = NULL;
        if (g_file_get_contents(path, &log, NULL, NULL) && strstr(log, needle))
            return true;
        g_usleep(100 * 1000);
    } while (g_get_monotonic_time() < deadline);
    return false;
}

/* Clicks land where we click: the guest's tablet reports the position
 * (the test guest prints it on the serial console). QEMU scales VNC
 * coordinates to its 0..32767 absolute range: x * 32767 / width. */
static void test_qemu_pointer(void)
{
    Harness h;
    harness_init(&h);
    Session *s = start_vm_session(&h, "mouse");
    vnc_wait_settled(s, 1280, 800, NULL, BOOT_MS);
    g_assert_true(serial_has(&h, "mouse", "VMDESK-POINTER-READY", BOOT_MS));
    const int clicks[][2] = {{640, 400}, {100, 700}, {1279, 0}};
    for (size_t i = 0; i < G_N_ELEMENTS(clicks); i++) {
        int x = clicks[i][0], y = clicks[i][1];
        session_pointer(s, x, y, 0);
        session_pointer(s, x, y, SESSION_BUTTON_LEFT);
        session_pointer(s, x, y, 0);
        g_autofree char *want = g_strdup_printf("VMDESK-POINTER %d %d\r", x * 32767 / 1280,
                                                y * 32767 / 800);
        g_test_message("click at %d,%d: expecting \"%.*s\"", x, y, (int)strlen(want) - 1,
                       want);
        g_assert_true(serial_has(&h, "mouse", want, 10000));
    }
    session_destroy(s);
    g_free(harness_ok(&h, "stop", "mouse", "--force", NULL));
    harness_finish(&h);
}

static void test_qemu_tcp(void)
{
    Harness h;
    harness_init(&h);
    unsigned port = free_tcp_port();
    /* A second VNC server of QEMU's, on TCP (loopback only). */
    g_autofree char *vnc = g_strdup_printf("127.0.0.1:%u,id=tcp", port - 5900);
    const char *extra[] = {"--qemu-arg", "-vnc", "--qemu-arg", vnc, NULL};
    g_assert_cmpuint(port, >, 5900);
    harness_create_guest(&h, "tcp", NULL, extra);
    g_free(harness_ok(&h, "start", "tcp", NULL));
    g_autoptr(JsonObject) show = harness_show(&h, "tcp");
    g_autofree char *banner = harness_read_banner(
        (unsigned)json_object_get_int_member(json_object_get_object_member(show, "rdp"), "port"),
        BOOT_MS);
    g_assert_nonnull(banner);
    VncTarget t = {.host = g_strdup("127.0.0.1"), .port = (int)port};
    Session *s = vnc_session_create(&t, NULL, NULL);
    vnc_target_clear(&t);
    g_autoptr(GError) err = NULL;
    g_assert_true(session_connect(s, &err));
    vnc_wait_settled(s, 1280, 800, NULL, BOOT_MS);
    vnc_assert_matches_screendump(&h, "tcp", s);
    session_destroy(s);
    /* The URL form through the command line. */
    g_autofree char *url = g_strdup_printf("vnc://127.0.0.1:%u", port);
    g_autofree char *shot = g_build_filename(h.root, "tcp.png", NULL);
    g_free(harness_ok(&h, "screenshot", url, shot, NULL));
    Image im = {0};
    g_assert_true(image_load_png(shot, &im));
    g_assert_cmpint(im.w, ==, 1280);
    image_clear(&im);
    g_free(harness_ok(&h, "stop", "tcp", "--force", NULL));
    harness_finish(&h);
}

static void test_window_typing(void)
{
    Harness h;
    harness_init(&h);
    Xvfb x;
    xvfb_start(&x);
    harness_create_guest(&h, "keys", NULL, NULL);
    /* `view` starts the VM itself. */
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h.env), "DISPLAY", x.display, TRUE);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "view", "keys", NULL};
    GPid view;
    g_autoptr(GError) err = NULL;
    /* The window's output goes to a file, shown if the window never comes. */
    g_autofree char *view_log = g_build_filename(h.root, "view.log", NULL);
    int log_fd = open(view_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(log_fd, >=, 0);
    g_assert_true(g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *)env,
                                                   G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, -1,
                                                   log_fd, log_fd, NULL, NULL, 0, &view, NULL,
                                                   NULL, NULL, &err));
    close(log_fd);
    g_assert_no_error(err);
    g_autofree char *win = wait_window(x.display, "keys", "RUNNING — VNC", BOOT_MS);
    if (!win) {
        g_autofree char *text = NULL, *title = NULL;
        g_file_get_contents(view_log, &text, NULL, NULL);
        g_autofree char *any = x_find_window(x.display, "keys", &title);
        const char *tree_argv[] = {"xwininfo", "-root", "-tree", NULL};
        g_autofree char *tree = x_run(x.display, tree_argv);
        g_printerr("the window %s never showed RUNNING — VNC on %s; its title: %s\nits "
                   "output:\n%s\nwindows:\n%s\n",
                   any ? any : "", x.display, title ? title : "(no window)", text ? text : "",
                   tree ? tree : "(xwininfo failed)");
    }
    g_assert_nonnull(win);
    g_autoptr(JsonObject) show = harness_show(&h, "keys");
    g_autofree char *banner = harness_read_banner(
        (unsigned)json_object_get_int_member(json_object_get_object_member(show, "rdp"), "port"),
        BOOT_MS);
    g_assert_nonnull(banner);
    g_usleep(1000 * 1000); /* the shell on tty1 prints its prompt after READY */

    /* Shifted letters, digits, symbols: the guest types what we typed. */
    const char *focus[] = {"xdotool", "windowfocus", "--sync", win, NULL};
    g_free(x_run(x.display, focus));
    const char *type[] = {"xdotool", "type", "--delay", "40",
                          "echo Typed-$((6*7))_OK > /dev/ttyS0", NULL};
    g_free(x_run(x.display, type));
    const char *ret[] = {"xdotool", "key", "Return", NULL};
    g_free(x_run(x.display, ret));
    g_autofree char *serial = g_build_filename(h.root, "data", "vmdesk", "vms", "keys", "logs",
                                               "serial.log", NULL);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        g_autofree char *log = NULL;
        g_file_get_contents(serial, &log, NULL, NULL);
        seen = log && strstr(log, "Typed-42_OK");
        if (!seen)
            g_usleep(100 * 1000);
    }
    g_assert_true(seen);

    /* Closing the window leaves the VM running. */
    kill(view, SIGTERM);
    int status = 0;
    waitpid(view, &status, 0);
    g_autoptr(JsonObject) after = harness_show(&h, "keys");
    g_assert_cmpstr(json_object_get_string_member(after, "state"), ==, "RUNNING");

    /* When the VM shuts down, the window says so and closes. */
    g_assert_true(g_spawn_async(NULL, (char **)argv, env, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &view, &err));
    g_autofree char *win2 = wait_window(x.display, "keys", "VNC", 20000);
    g_assert_nonnull(win2);
    g_free(harness_ok(&h, "stop", "keys", NULL));
    gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    int r = 0;
    while ((r = waitpid(view, &status, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
        g_usleep(100 * 1000);
    g_assert_cmpint(r, ==, view);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        g_printerr("view ended with wait status 0x%x\n", status);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    xvfb_stop(&x);
    harness_finish(&h);
}

/* Clipboard text both ways, with a server that supports it (QEMU 7.2's VNC
 * server needs a clipboard agent in the guest). */
static void test_xvnc_clipboard(void)
{
    Harness h;
    harness_init(&h);
    Xvnc x;
    xvnc_start(&h, &x, "None", NULL, 0);
    VncTarget t = {.host = g_strdup("127.0.0.1"), .port = (int)x.port};
    Session *s = vnc_session_create(&t, NULL, NULL);
    vnc_target_clear(&t);
    g_autoptr(GError) err = NULL;
    g_assert_true(session_connect(s, &err));
    vnc_wait_settled(s, 800, 600, NULL, 20000);

    /* Server -> us: an X program in the server's display copies text. */
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h.env), "DISPLAY", x.display, TRUE);
    const char *copy[] = {"sh", "-c",
                          "printf %s 'from the server: Gruesse' | xclip -selection clipboard -i",
                          NULL};
    int st = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)copy, env, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &st, &err));
    g_assert_no_error(err);
    char *got = NULL;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!got && g_get_monotonic_time() < deadline) {
        SessionEvent *ev = session_next_event(s);
        if (ev && ev->type == SESSION_EV_CLIPBOARD)
            got = g_strdup(ev->text);
        session_event_free(ev);
        if (!ev)
            g_usleep(20 * 1000);
    }
    g_assert_cmpstr(got, ==, "from the server: Gruesse");
    g_free(got);

    /* Us -> server: what a program there pastes (RFB carries Latin-1). */
    session_clipboard(s, "from vmdesk: \xc3\x86r\xc3\xb8");
    const char *paste[] = {"xclip", "-selection", "clipboard", "-o", NULL};
    char *out = NULL;
    for (int i = 0; i < 50; i++) {
        g_free(out);
        out = NULL;
        g_spawn_sync(NULL, (char **)paste, env, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &st, NULL);
        if (out && !strcmp(out, "from vmdesk: \xc3\x86r\xc3\xb8"))
            break;
        g_usleep(100 * 1000);
    }
    g_assert_cmpstr(out, ==, "from vmdesk: \xc3\x86r\xc3\xb8");
    g_free(out);
    session_destroy(s);
    xvnc_stop(&x);
    harness_finish(&h);
}

/* The pixel at @x,@y of the session's picture (XRGB). */
static uint32_t vnc_pixel(Session *s, int x, int y)
{
    g_mutex_lock(&s->fb.lock);
    uint32_t p = s->fb.pixels ? s->fb.pixels[(size_t)y * (size_t)(s->fb.stride / 4) + (size_t)x] : 0;
    g_mutex_unlock(&s->fb.lock);
    return p;
}

/* Takes the session's events until @deadline (monotonic us) or until the
 * pixel at 10,10 is @want. */
static bool vnc_wait_pixel(Session *s, uint32_t want, gint64 deadline)
{
    while (g_get_monotonic_time() < deadline) {
        SessionEvent *ev;
        while ((ev = session_next_event(s))) {
            g_assert_cmpint(ev->type, !=, SESSION_EV_CLOSED);
            session_event_free(ev);
        }
        if ((vnc_pixel(s, 10, 10) & 0xffffff) == want)
            return true;
        g_usleep(20 * 1000);
    }
    return false;
}

/* vnc_session_pause (the window's switch rests VNC while RDP starts): the
 * picture keeps what it had while the server's screen changes, inputs still
 * go out, and resumed, the change arrives. Through the session helper. */
static void test_xvnc_pause(void)
{
    Harness h;
    harness_init(&h);
    Xvnc x;
    xvnc_start(&h, &x, "None", NULL, 0);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h.env), "DISPLAY", x.display, TRUE);
    const char *red[] = {"xsetroot", "-solid", "#ff0000", NULL};
    const char *blue[] = {"xsetroot", "-solid", "#0000ff", NULL};
    g_autoptr(GError) err = NULL;
    int st = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)red, env, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &st, &err));
    VncTarget t = {.host = g_strdup("127.0.0.1"), .port = (int)x.port};
    Session *s = vnc_session_create(&t, NULL, NULL);
    vnc_target_clear(&t);
    g_assert_true(session_connect(s, &err));
    vnc_wait_settled(s, 800, 600, NULL, 20000);
    g_assert_true(vnc_wait_pixel(s, 0xff0000, g_get_monotonic_time() + 10 * G_USEC_PER_SEC));

    vnc_session_pause(s, true);
    g_usleep(300 * 1000); /* the pause reached the helper */
    g_assert_true(g_spawn_sync(NULL, (char **)blue, env, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &st, &err));
    /* Paused: the picture stays red (the server's screen is blue). */
    g_assert_false(vnc_wait_pixel(s, 0x0000ff, g_get_monotonic_time() + 2 * G_USEC_PER_SEC));
    g_assert_cmphex(vnc_pixel(s, 10, 10) & 0xffffff, ==, 0xff0000);
    /* Inputs still go out: a pointer move reaches the server. */
    session_pointer(s, 123, 45, 0);
    const char *where[] = {"xdotool", "getmouselocation", NULL};
    g_autofree char *loc = NULL;
    for (int i = 0; i < 50 && !(loc && strstr(loc, "x:123 y:45")); i++) {
        g_clear_pointer(&loc, g_free);
        g_spawn_sync(NULL, (char **)where, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &loc, NULL, &st,
                     NULL);
        g_usleep(100 * 1000);
    }
    g_assert_nonnull(strstr(loc, "x:123 y:45"));

    /* Resumed: the blue arrives. */
    vnc_session_pause(s, false);
    g_assert_true(vnc_wait_pixel(s, 0x0000ff, g_get_monotonic_time() + 10 * G_USEC_PER_SEC));
    session_destroy(s);
    xvnc_stop(&x);
    harness_finish(&h);
}

/* A server that goes away: the window stays, says so, and reconnects when
 * the server is back. The window has vmdesk's icon and class. */
static void test_window_reconnect(void)
{
    Harness h;
    harness_init(&h);
    Xvfb xv;
    xvfb_start(&xv);
    Xvnc x;
    xvnc_start(&h, &x, "None", NULL, 0);
    g_autofree char *w1 = NULL;
    GPid view = vnc_window_start(&h, &xv, x.port, &w1);
    /* vmdesk's own icon and window class: the taskbar groups the window
     * under vmdesk's desktop entry (io.github.vmdesk.Vmdesk.desktop). */
    const char *props[] = {"xprop", "-id", w1, "WM_CLASS", "_NET_WM_ICON", NULL};
    g_autofree char *prop = x_run(xv.display, props);
    g_assert_nonnull(strstr(prop, "WM_CLASS(STRING) = \"io.github.vmdesk.Vmdesk\""));
    g_assert_nonnull(strstr(prop, "Icon (64 x 64)"));

    unsigned port = x.port;
    xvnc_stop(&x);
    g_autofree char *w2 = wait_window(xv.display, "vnc://", "connection lost", 20000);
    g_assert_nonnull(w2);
    g_assert_cmpint(waitpid(view, NULL, WNOHANG), ==, 0); /* still open */

    /* Same port again: the window comes back by itself. */
    Xvnc again;
    xvnc_start(&h, &again, "None", NULL, port);
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    bool back = false;
    while (!back && g_get_monotonic_time() < deadline) {
        g_autofree char *title = NULL;
        g_autofree char *id = x_find_window(xv.display, "vnc://", &title);
        back = id && title && strstr(title, "— VNC — vmdesk") && !strstr(title, "connection lost");
        if (!back)
            g_usleep(100 * 1000);
    }
    g_assert_true(back);
    kill(view, SIGTERM);
    waitpid(view, NULL, 0);
    xvnc_stop(&again);
    xvfb_stop(&xv);
    harness_finish(&h);
}

/* The open_fd of a server reached through a socket pair, as `ssh -W` or
 * libvirt hand one over: nc relays it to Xvnc's port. */
typedef struct {
    unsigned port;
    GPid nc;
} PairRelay;

static int open_pair_relay(void *data, GError **error)
{
    PairRelay *r = data;
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_autofree char *port = g_strdup_printf("%u", r->port);
    const char *argv[] = {"nc", "127.0.0.1", port, NULL};
    bool ok = g_spawn_async_with_fds(NULL, (char **)argv, NULL,
                                     G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                     &r->nc, sv[1], sv[1], -1, error);
    close(sv[1]);
    if (!ok) {
        close(sv[0]);
        return -1;
    }
    return sv[0];
}

/* Xvnc's report of connection @n (1-based), which it writes when that
 * client leaves: the encodings it sent, by class ("Raw:", "Tight:", ...). */
static char *xvnc_connection_report(const char *log, int n)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    do {
        g_autofree char *text = NULL;
        g_file_get_contents(log, &text, NULL, NULL);
        g_auto(GStrv) parts = g_strsplit(text ? text : "", "Connections: closed", -1);
        if ((int)g_strv_length(parts) > n) {
            const char *report = strstr(parts[n - 1], "EncodeManager:");
            return g_strdup(report ? report : "");
        }
        g_usleep(100 * 1000);
    } while (g_get_monotonic_time() < deadline);
    g_assert_not_reached();
}

/* A server on this host gets asked for raw pixels only (nothing to
 * compress or JPEG-code); one behind a socket pair (maybe another host)
 * for Tight and the other compressed encodings. Xvnc says which it sent. */
static void test_xvnc_encodings_by_locality(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *log = g_build_filename(h.root, "xvnc.log", NULL);
    Xvnc x;
    xvnc_start_logged(&h, &x, "None", NULL, 0, log);

    VncTarget local = {.host = g_strdup("127.0.0.1"), .port = (int)x.port};
    PairRelay relay = {.port = x.port};
    VncTarget pair = {.open_fd = open_pair_relay, .open_data = &relay,
                      .label = g_strdup("a socket pair")};
    VncTarget *targets[] = {&local, &pair};
    for (int i = 0; i < 2; i++) {
        Session *s = vnc_session_create(targets[i], NULL, NULL);
        vnc_target_clear(targets[i]);
        g_autoptr(GError) err = NULL;
        g_assert_true(session_connect(s, &err));
        vnc_wait_settled(s, 800, 600, NULL, 20000);
        session_destroy(s);
        if (i == 1) {
            kill(relay.nc, SIGTERM);
            waitpid(relay.nc, NULL, 0);
        }
        /* Connection 1 was xvnc_start's check that Xvnc listens. */
        g_autofree char *report = xvnc_connection_report(log, i + 2);
        g_test_message("Xvnc on connection %d:%s", i + 2, report);
        if (i == 0) {
            g_assert_nonnull(strstr(report, "EncodeManager:   Raw:"));
            g_assert_null(strstr(report, "Tight"));
        } else {
            g_assert_nonnull(strstr(report, "EncodeManager:   Tight:"));
        }
    }
    xvnc_stop(&x);
    harness_finish(&h);
}

/* TigerVNC's Xvnc with VNC password authentication. */
static void test_xvnc_password(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *pwfile = g_build_filename(h.root, "passwd", NULL);
    g_autofree char *right = g_build_filename(h.root, "right", NULL);
    g_autofree char *wrong = g_build_filename(h.root, "wrong", NULL);
    g_assert_true(g_file_set_contents(right, "s3cret-pw\n", -1, NULL));
    g_assert_true(g_file_set_contents(wrong, "not-it\n", -1, NULL));
    /* vncpasswd -f turns the password on stdin into the obfuscated file. */
    const char *mk[] = {"sh", "-c", "vncpasswd -f < \"$1\" > \"$2\"", "sh", right, pwfile, NULL};
    int st = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)mk, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &st, NULL));
    g_assert_cmpint(st, ==, 0);
    Xvnc x;
    xvnc_start(&h, &x, "VncAuth", pwfile, 0);
    unsigned port = x.port;
    g_autofree char *url = g_strdup_printf("vnc://127.0.0.1:%u", port);
    g_autofree char *shot = g_build_filename(h.root, "xvnc.png", NULL);
    g_free(harness_ok(&h, "screenshot", url, shot, "--password-file", right, NULL));
    Image im = {0};
    g_assert_true(image_load_png(shot, &im));
    g_assert_cmpint(im.w, ==, 800);
    g_assert_cmpint(im.h, ==, 600);
    image_clear(&im);

    RunResult r = harness_vmdesk(&h, "screenshot", url, shot, "--password-file", wrong, NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "wrong password"));
    g_assert_null(strstr(r.err, "not-it")); /* never the password itself */
    run_result_clear(&r);
    RunResult none = harness_vmdesk(&h, "screenshot", "vnc://127.0.0.1:1", shot, NULL);
    g_assert_cmpint(none.status, !=, 0);
    g_assert_nonnull(strstr(none.err, "nothing accepts VNC connections at 127.0.0.1:5901"));
    run_result_clear(&none);
    xvnc_stop(&x);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnc/qemu-unix-socket-and-resolution-changes", test_qemu_unix_and_resize);
    g_test_add_func("/vnc/qemu-tcp", test_qemu_tcp);
    g_test_add_func("/vnc/qemu-pointer", test_qemu_pointer);
    g_test_add_func("/vnc/window-typing-and-vm-shutdown", test_window_typing);
    g_test_add_func("/vnc/xvnc-password", test_xvnc_password);
    g_test_add_func("/vnc/xvnc-clipboard", test_xvnc_clipboard);
    g_test_add_func("/vnc/xvnc-pause-and-resume", test_xvnc_pause);
    g_test_add_func("/vnc/xvnc-encodings-by-locality", test_xvnc_encodings_by_locality);
    g_test_add_func("/vnc/window-reconnects", test_window_reconnect);
    return g_test_run();
}
