/* End to end on the demo guest (Debian 12 with xrdp, built from Debian
 * packages by tools/demo-guest): `vmdesk view` shows the boot over VNC and
 * switches to the RDP desktop by itself, with no black frame between; the RDP
 * desktop follows the window's size (disp); the clipboard works both ways;
 * stopping the guest's RDP server brings VNC back, starting it again RDP;
 * `vmdesk app` opens one program alone in its own window.
 * The guest side is checked through the QEMU guest agent. */
#include "harness.h"
#include "harness_demo.h"
#include "harness_x.h"

#include "vm/vm_store.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOOT_MS 240000
#define STEP_MS 30000
/* The presents checked after the swap: as long as vmdesk holds darkened
 * pictures back after a swap to xrdp (SWITCH_NO_LOGON_MS). */
#define AFTER_SWAP_MS 5000
/* The swap's picture: the demo desktop, lit all over. */
#define PRESENT_MIN_LIT 0.9
/* Each present after it: at least this share of its lit pixels ... */
#define PRESENT_KEEP_LIT 0.9
/* ... and no dark band this much wider (a share of the picture). */
#define PRESENT_BAND_GROWTH 0.1

static char *window_title(const char *display, const char *prefix)
{
    g_autofree char *title = NULL;
    g_autofree char *id = x_find_window(display, prefix, &title);
    return id ? g_steal_pointer(&title) : NULL;
}

/* The screen's picture: the window is all there is on it (no window
 * manager, a black root), so it is black exactly when the window is. */
static bool window_shot(const char *display, const char *win, const char *file, Image *im)
{
    (void)win;
    const char *argv[] = {"import", "-silent", "-window", "root", file, NULL};
    g_free(x_run(display, argv));
    return image_load_png(file, im);
}

static void copy_file(const char *from, const char *to)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (g_file_get_contents(from, &data, &len, NULL))
        g_file_set_contents(to, data, (gssize)len, NULL);
}

static bool all_black(const Image *im)
{
    for (int i = 0; i < im->w * im->h; i++)
        if (im->px[i])
            return false;
    return true;
}

/* A shell command in the user's xrdp X session (display :10). */
static char *guest_x(const char *agent, const char *user, const char *cmd)
{
    g_autofree char *script = g_strdup_printf(
        "export DISPLAY=:10 XAUTHORITY=/home/%s/.Xauthority; %s", user, cmd);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    return demo_guest_run(agent, argv, STEP_MS);
}

static char *wait_title(const char *display, const char *part, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        char *t = window_title(display, "demo");
        if (t && strstr(t, part))
            return t;
        g_free(t);
        g_usleep(100 * 1000);
    }
    return window_title(display, "demo");
}

/* One picture the window presented (a line of present_watch.c's trace). */
typedef struct {
    gint64 us;     /* CLOCK_MONOTONIC, as g_get_monotonic_time */
    int w, h;      /* the window's image */
    double lit;    /* share of it not black */
    double band;   /* the widest dark band across it (rows or columns), share */
} Present;

static GArray *read_presents(const char *path)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(Present));
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return out;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        unsigned long long ns;
        int x, y;
        unsigned pw, ph;
        double rows, cols;
        Present p;
        if (sscanf(lines[i], "%llu %d %d %d %d %u %u %lf %lf %lf", &ns, &p.w, &p.h, &x, &y, &pw,
                   &ph, &p.lit, &rows, &cols) != 10)
            continue;
        p.us = (gint64)(ns / 1000);
        p.band = MAX(rows, cols);
        g_array_append_val(out, p);
    }
    return out;
}

/* The share of the @dw x @dh desktop lit in @p: the window may be larger
 * than the desktop, and the letterbox around it is black. */
static double desktop_lit(const Present *p, int dw, int dh)
{
    return MIN(1.0, p->lit * p->w * p->h / ((double)dw * dh));
}

/* No black frame around the switch, checked on every present of the window
 * (present_watch.c): from RDP answering (@armed_us) to the swap (@swap_us,
 * vmdesk's debug log; the swap's present is the last one by then) the
 * window never goes all black; the swap's picture
 * is the lit desktop (the demo guest's is blue all over: less is xrdp's
 * black root or part of a repaint, which comes in strips of a sixth to a
 * quarter of the picture); and for AFTER_SWAP_MS after it, the time in
 * which xrdp's session goes black between its background and its desktop,
 * no present is less lit than PRESENT_KEEP_LIT of the swap's picture or has
 * a dark band PRESENT_BAND_GROWTH wider than it had. */
static void check_presents(const char *trace, const char *log, gint64 armed_us, gint64 swap_us,
                           int dw, int dh)
{
    g_autoptr(GArray) all = read_presents(trace);
    guint swap_i = 0;
    while (swap_i < all->len && g_array_index(all, Present, swap_i).us <= swap_us)
        swap_i++;
    if (!swap_i) {
        g_printerr("present_watch saw no present of the window (%u in all)\n", all->len);
        g_assert_cmpuint(swap_i, >, 0);
    }
    const Present *swap = &g_array_index(all, Present, --swap_i);
    int before = 0, after = 0;
    double worst = 1.0, worst_band = 0.0;
    GString *why = g_string_new(NULL);
    for (guint i = 0; i < swap_i; i++) {
        const Present *p = &g_array_index(all, Present, i);
        if (p->us <= armed_us)
            continue;
        before++;
        if (p->lit == 0.0)
            g_string_append_printf(why, "an all-black present %.0f ms before the swap\n",
                                   (swap_us - p->us) / 1000.0);
    }
    double swap_lit = desktop_lit(swap, dw, dh);
    g_test_message("the swap's present: %dx%d, %.1f %% of the %dx%d desktop lit, dark band %.1f %%",
                   swap->w, swap->h, swap_lit * 100, dw, dh, swap->band * 100);
    /* What the presents after it are measured against: the swap's picture,
     * or, when that was already too dark, the least it should have been. */
    double ref_lit = swap_lit, ref_band = swap->band;
    if (swap_lit < PRESENT_MIN_LIT) {
        g_string_append_printf(why, "the swap's picture is only %.1f %% lit\n", swap_lit * 100);
        ref_lit = PRESENT_MIN_LIT;
        ref_band = 0.0;
    }
    for (guint i = swap_i + 1; i < all->len; i++) {
        const Present *p = &g_array_index(all, Present, i);
        if (p->us > swap_us + (gint64)AFTER_SWAP_MS * 1000)
            break;
        after++;
        double lit = desktop_lit(p, dw, dh);
        double ratio = lit / ref_lit;
        worst = MIN(worst, ratio);
        worst_band = MAX(worst_band, p->band);
        g_test_message("present +%.0f ms: %dx%d, %.1f %% lit (%.2f of the swap's), dark band %.1f %%",
                       (p->us - swap_us) / 1000.0, p->w, p->h, lit * 100, ratio, p->band * 100);
        if (ratio < PRESENT_KEEP_LIT || p->band > ref_band + PRESENT_BAND_GROWTH)
            g_string_append_printf(why,
                                   "a darkened present %.0f ms after the swap: %.1f %% lit "
                                   "(%.2f of the swap's), dark band %.1f %%\n",
                                   (p->us - swap_us) / 1000.0, lit * 100, ratio, p->band * 100);
    }
    g_test_message("presents: %d from RDP answering to the swap, %d in the %d ms after it; "
                   "the least lit %.2f of the swap's, the widest dark band %.1f %%",
                   before, after, AFTER_SWAP_MS, worst, worst_band * 100);
    if (why->len) {
        g_autofree char *text = NULL;
        g_file_get_contents(log, &text, NULL, NULL);
        g_printerr("%sthe window's output:\n%s\n", why->str, text ? text : "");
    }
    g_assert_cmpuint(why->len, ==, 0);
    g_string_free(why, TRUE);
}

static void test_demo_view(void)
{
    Harness h;
    harness_init(&h);
    DemoGuest g;
    demo_guest_load(&g);
    g_free(harness_ok(&h, "create", "demo", "--os", "linux", "--memory", "1G", "--cpus", "2",
                      "--kernel", g.kernel, "--initrd", g.initrd, "--append", g.append,
                      "--import-disk", g.disk, NULL));
    g_free(harness_ok(&h, "credentials", "demo", "--user", g.user, "--password-file",
                      g.password_file, NULL));
    Xvfb x;
    xvfb_start(&x);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h.env), "DISPLAY", x.display, TRUE);
    /* The window's presents, seen from outside (present_watch.c), and its
     * debug log, which says when the swap's picture left. */
    g_autofree char *trace = g_build_filename(h.root, "presents.txt", NULL);
    g_auto(GStrv) view_env = g_environ_setenv(g_strdupv(env), "LD_PRELOAD",
                                              g_getenv("VMDESK_PRESENT_WATCH"), TRUE);
    view_env = g_environ_setenv(view_env, "VD_PRESENT_TRACE", trace, TRUE);
    view_env = g_environ_setenv(view_env, "VMDESK_DEBUG", "1", TRUE);
    g_autofree char *log = g_build_filename(h.root, "view.log", NULL);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "view", "demo", NULL};
    GPid view;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *)view_env,
                                                   G_SPAWN_DO_NOT_REAP_CHILD, harness_die_with_parent,
                                                   NULL, -1, fd, fd, NULL, NULL, 0, &view, NULL,
                                                   NULL, NULL, &err));
    g_assert_no_error(err);
    close(fd);

    /* VNC first: the boot. */
    g_autofree char *t1 = wait_title(x.display, "RUNNING — VNC", STEP_MS);
    g_assert_nonnull(t1);
    g_assert_nonnull(strstr(t1, "— VNC"));
    g_autofree char *win = x_find_window(x.display, "demo", NULL);
    g_autofree char *vnc_png = g_build_filename(h.root, "vnc.png", NULL);
    g_autofree char *rdp_png = g_build_filename(h.root, "rdp.png", NULL);

    /* Then RDP by itself, with no black frame: every picture the window
     * presents from the moment RDP answers ("RDP ready" in the title) is
     * checked (check_presents), not screenshots now and then. */
    gint64 deadline = g_get_monotonic_time() + (gint64)BOOT_MS * 1000;
    gint64 armed_us = 0;
    g_autofree char *text = NULL;
    while (g_get_monotonic_time() < deadline) {
        g_free(text);
        text = NULL;
        g_file_get_contents(log, &text, NULL, NULL);
        if (text && strstr(text, "showing RDP"))
            break;
        g_autofree char *t = window_title(x.display, "demo");
        if (!armed_us && t && strstr(t, "RDP ready")) {
            armed_us = g_get_monotonic_time();
            Image im = {0};
            g_assert_true(window_shot(x.display, win, vnc_png, &im)); /* VNC while RDP connects */
            image_clear(&im);
        }
        g_usleep(50 * 1000);
    }
    const char *line = text ? strstr(text, "showing RDP") : NULL;
    if (!line)
        g_printerr("no switch to RDP; the window's output:\n%s\n", text ? text : "");
    g_assert_nonnull(line);
    g_test_message("switch: %.*s", (int)strcspn(line, "\n"), line);
    int dw = 0, dh = 0;
    g_assert_cmpint(sscanf(line, "showing RDP (%dx%d)", &dw, &dh), ==, 2);
    const char *at = strstr(text, "swap presented at ");
    g_assert_nonnull(at);
    gint64 swap_us = g_ascii_strtoll(at + strlen("swap presented at "), NULL, 10);
    g_assert_cmpint(swap_us, >, 0);
    if (!armed_us) /* the title's "RDP ready" came and went between two looks */
        armed_us = swap_us;
    gint64 wait_us = swap_us + (gint64)AFTER_SWAP_MS * 1000 + 300000 - g_get_monotonic_time();
    if (wait_us > 0)
        g_usleep((gulong)wait_us);
    check_presents(trace, log, armed_us, swap_us, dw, dh);
    Image im = {0};
    g_assert_true(window_shot(x.display, win, rdp_png, &im));
    g_assert_false(all_black(&im));
    image_clear(&im);
    /* The desktop a little later, for people to look at (VMDESK_TEST_KEEP). */
    g_autofree char *rdp_later = g_build_filename(h.root, "rdp-later.png", NULL);
    /* VMDESK_TEST_KEEP=DIR keeps the pictures, to look at. */
    const char *keep = g_getenv("VMDESK_TEST_KEEP");
    if (keep) {
        g_autofree char *k1 = g_build_filename(keep, "demo-vnc.png", NULL);
        g_autofree char *k2 = g_build_filename(keep, "demo-rdp.png", NULL);
        g_autofree char *k3 = g_build_filename(keep, "demo-presents.txt", NULL);
        g_autofree char *k4 = g_build_filename(keep, "demo-view.log", NULL);
        copy_file(vnc_png, k1);
        copy_file(rdp_png, k2);
        copy_file(trace, k3);
        copy_file(log, k4);
    }

    g_autofree char *agent = demo_guest_agent_socket(&h, "demo");
    /* The desktop follows the window (disp): 1200x800 pixels. */
    const char *size[] = {"xdotool", "windowsize", win, "1200", "800", NULL};
    g_free(x_run(x.display, size));
    g_autofree char *dims = NULL;
    for (int i = 0; i < 100; i++) {
        g_free(dims);
        dims = guest_x(agent, g.user, "xdpyinfo | grep dimensions");
        if (strstr(dims, "1200x800"))
            break;
        g_usleep(200 * 1000);
    }
    g_test_message("guest display: %s", g_strstrip(dims));
    g_assert_nonnull(strstr(dims, "1200x800"));

    /* Clipboard, host to guest: the window's X clipboard, read in the guest. */
    const char *set[] = {"sh", "-c", "printf 'from the host 42' | xclip -selection clipboard >/dev/null 2>&1",
                         NULL}; /* xclip stays to serve the selection: not on our pipe */
    g_free(x_run(x.display, set));
    /* The user comes back to the window after copying elsewhere. */
    const char *focus[] = {"xdotool", "windowfocus", "--sync", win, NULL};
    g_free(x_run(x.display, focus));
    g_autofree char *in_guest = NULL;
    for (int i = 0; i < 20; i++) {
        g_free(in_guest);
        in_guest = guest_x(agent, g.user,
                           "timeout 5 xclip -o -selection clipboard 2>/dev/null; true");
        if (!strcmp(in_guest, "from the host 42"))
            break;
        g_usleep(200 * 1000);
    }
    g_assert_cmpstr(in_guest, ==, "from the host 42");
    /* ... and guest to host. */
    g_free(guest_x(agent, g.user,
                   "printf 'from the guest 43' | timeout 60 xclip -selection clipboard "
                   ">/dev/null 2>&1 &"));
    g_autofree char *on_host = NULL;
    for (int i = 0; i < 50; i++) {
        const char *get[] = {"xclip", "-o", "-selection", "clipboard", NULL};
        g_free(on_host);
        on_host = x_run(x.display, get);
        if (on_host && !strcmp(on_host, "from the guest 43"))
            break;
        g_usleep(200 * 1000);
    }
    g_assert_cmpstr(on_host, ==, "from the guest 43");

    g_assert_true(window_shot(x.display, win, rdp_later, &im));
    image_clear(&im);
    if (keep) {
        g_autofree char *k3 = g_build_filename(keep, "demo-rdp-later.png", NULL);
        copy_file(rdp_later, k3);
    }

    /* The guest's RDP server goes away: VNC comes back, with the reason. */
    const char *stop[] = {"/bin/systemctl", "stop", "xrdp", NULL};
    g_free(demo_guest_run(agent, stop, STEP_MS));
    g_autofree char *t3 = wait_title(x.display, "RUNNING — VNC", STEP_MS);
    g_test_message("after stopping xrdp: %s", t3);
    g_assert_nonnull(strstr(t3, "— VNC"));
    g_assert_nonnull(strstr(t3, "RDP connection lost"));
    /* ... and RDP again once it is back. */
    const char *start[] = {"/bin/systemctl", "start", "xrdp", NULL};
    g_free(demo_guest_run(agent, start, STEP_MS));
    g_autofree char *t4 = wait_title(x.display, "RUNNING — RDP", STEP_MS * 2);
    g_test_message("after starting xrdp: %s", t4);
    g_assert_nonnull(strstr(t4, "RUNNING — RDP"));

    /* One program alone in its own window: xrdp has no working RemoteApp,
     * so `vmdesk app` opens a session whose shell is the program (the demo
     * guest gives each connection its own session). */
    g_autofree char *app_log = g_build_filename(h.root, "app.log", NULL);
    int afd = open(app_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const char *app_argv[] = {g_getenv("VMDESK_BIN"), "app", "demo", "/usr/bin/xterm",
                              "--class", "vmdesk-demo-xterm", NULL};
    GPid app;
    g_assert_true(g_spawn_async_with_pipes_and_fds(NULL, app_argv, (const char *const *)env,
                                                   G_SPAWN_DO_NOT_REAP_CHILD, harness_die_with_parent,
                                                   NULL, -1, afd, afd, NULL, NULL, 0, &app, NULL,
                                                   NULL, NULL, &err));
    g_assert_no_error(err);
    close(afd);
    g_autofree char *app_win = NULL;
    g_autofree char *app_title = NULL;
    g_autofree char *app_png = g_build_filename(h.root, "app.png", NULL);
    bool white = false;
    deadline = g_get_monotonic_time() + (gint64)STEP_MS * 2 * 1000;
    while (!white && g_get_monotonic_time() < deadline) {
        g_usleep(300 * 1000);
        if (!app_win) {
            g_free(app_title);
            app_title = NULL;
            app_win = x_find_window(x.display, "xterm (demo)", &app_title);
            continue;
        }
        const char *grab[] = {"import", "-silent", "-window", app_win, app_png, NULL};
        g_free(x_run(x.display, grab));
        Image aim = {0};
        if (image_load_png(app_png, &aim)) {
            int n = 0; /* xterm's white background, nothing of IceWM */
            for (int i = 0; i < aim.w * aim.h; i++)
                n += (aim.px[i] & 0xffffff) == 0xffffff;
            white = n > aim.w * aim.h / 20;
        }
        image_clear(&aim);
    }
    if (!white) {
        g_autofree char *atext = NULL;
        g_file_get_contents(app_log, &atext, NULL, NULL);
        g_printerr("vmdesk app showed no xterm (window %s); its output:\n%s\n",
                   app_win ? app_win : "none", atext);
    }
    g_assert_true(white);
    g_test_message("app window: %s", app_title);
    const char *cls[] = {"xprop", "-id", app_win, "WM_CLASS", NULL};
    g_autofree char *wm_class = x_run(x.display, cls);
    g_assert_nonnull(strstr(wm_class, "\"vmdesk-demo-xterm\""));
    if (keep) {
        g_autofree char *k4 = g_build_filename(keep, "demo-app.png", NULL);
        copy_file(app_png, k4);
    }
    /* The program is alone: the desktop session's IceWM is the only one. */
    const char *ps[] = {"/bin/sh", "-c", "ps -u demo -o args= | grep -c '^icewm '; "
                        "ps -u demo -o args= | grep -c '^/usr/bin/xterm$'", NULL};
    g_autofree char *counts = demo_guest_run(agent, ps, STEP_MS);
    g_assert_cmpstr(counts, ==, "1\n1\n");
    /* The program ends: so does its window, with exit status 0. */
    const char *quit[] = {"/usr/bin/pkill", "-u", "demo", "-f", "^/usr/bin/xterm$", NULL};
    g_free(demo_guest_run(agent, quit, STEP_MS));
    int ast = 0, ar = 0;
    deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while ((ar = waitpid(app, &ast, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
        g_usleep(100 * 1000);
    g_assert_cmpint(ar, ==, app);
    g_assert_true(WIFEXITED(ast) && WEXITSTATUS(ast) == 0);

    /* The VM shuts down: the window says so and closes. */
    g_free(harness_ok(&h, "stop", "demo", "--timeout", "60", NULL));
    int status = 0, r = 0;
    deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while ((r = waitpid(view, &status, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
        g_usleep(100 * 1000);
    g_assert_cmpint(r, ==, view);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    xvfb_stop(&x);
    demo_guest_clear(&g);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/demo/view-vnc-then-rdp", test_demo_view);
    return g_test_run();
}
