/* vmdesk on Wayland under GNOME's compositor: mutter 43 headless at scale 2
 * (mutter_harness.h: its input and screenshots through its RemoteDesktop
 * and ScreenCast D-Bus APIs), the clipboard through wl-clipboard's wl-copy
 * and wl-paste. Unlike weston 10, mutter answers every wl_data_offer of a
 * selection (its offers read the compositor's MetaSelection), so files and
 * pictures copied on the desktop reach the server through vmdesk's second
 * data device.
 *
 * /wayland/mutter-desktop   XWayland there (DISPLAY set): the desktop window
 *                           native and sharp at scale 2 (Xvnc's checkerboard,
 *                           as under weston); clipboard text both ways with
 *                           Xvnc, twice, no key or click in the window
 * /wayland/mutter-clipboard-text  the same clipboard text without XWayland,
 *                           and the guest's copy made while another window
 *                           has the focus pasted once vmdesk's has it again;
 *                           then a click takes the keyboard grab: mutter
 *                           grants vmdesk's keyboard-shortcuts-inhibit
 *                           (WAYLAND_DEBUG's log, mutter's own), and Super+Up,
 *                           mutter's maximize before the click, reaches
 *                           Xvnc after it
 * /wayland/mutter-files     no XWayland (--no-x11, none runs): the desktop
 *                           window on the RDP test server, desktop scale 200;
 *                           the server's files pasted with wl-paste; files
 *                           copied with wl-copy as text/uri-list and as
 *                           x-special/gnome-copied-files reach the server,
 *                           and text copied with wl-copy
 * /wayland/mutter-pictures  the server's picture pasted as image/png, and a
 *                           PNG copied with wl-copy reaching the server */
#include "mutter_harness.h"
#include "test_util.h"

#include <signal.h>
#include <string.h>

#define KEY_X 45 /* evdev */
#define KEY_UP 103
#define KEY_LEFTMETA 125

/* Clipboard text both ways between the desktop (wl-copy, wl-paste) and the
 * VNC server (xclip on Xvnc), with no key or click in vmdesk's window: its
 * keyboard focus is all (mutter serves only vmdesk's newest data device,
 * and SDL 2.26 alone would wait for a typed character or a click). */
static void vnc_text_both_ways(Mutter *m, WlXvnc *x)
{
    /* wl-copy takes the focus with a surface of its own, then gives it back. */
    GSubprocess *copier = wl_copy(m->socket, NULL, "from GNOME", NULL);
    wl_expect_text(wl_get_xvnc, x, "from GNOME", "the VNC server's clipboard");
    wl_xvnc_copy(x, "from the guest");
    wl_expect_text(wl_get_paste, m->socket, "from the guest", "wl-paste");
    rt_stop(copier, SIGTERM); /* it lost the clipboard to vmdesk: gone already */
    g_object_unref(copier);
    /* The desktop copies again over vmdesk's own offer. */
    copier = wl_copy(m->socket, NULL, "again from GNOME", NULL);
    wl_expect_text(wl_get_xvnc, x, "again from GNOME", "the VNC server's clipboard");
    wl_xvnc_copy(x, "again from the guest");
    wl_expect_text(wl_get_paste, m->socket, "again from the guest", "wl-paste");
    rt_stop(copier, SIGTERM);
    g_object_unref(copier);
}

/* The guest copies while another window (weston-flower) has the focus:
 * mutter refuses vmdesk's claim then, and vmdesk offers the copy once its
 * window has the focus again (the flower gone), as SDL 2.26 did. */
static void guest_copies_unfocused(Mutter *m, WlXvnc *x, const char *log)
{
    char **env = g_environ_setenv(g_get_environ(), "WAYLAND_DISPLAY", m->socket, TRUE);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_subprocess_launcher_set_environ(l, env);
    g_strfreev(env);
    g_autoptr(GError) err = NULL;
    const char *argv[] = {"weston-flower", NULL};
    GSubprocess *other = g_subprocess_launcher_spawnv(l, argv, &err);
    g_assert_no_error(err);
    g_usleep(2 * G_USEC_PER_SEC); /* mapped and focused */
    wl_xvnc_copy(x, "copied unfocused");
    wl_expect_in_log(log, "it is offered when the window gets the focus", 10000);
    rt_stop(other, SIGTERM);
    g_object_unref(other);
    wl_expect_in_log(log, "the window has the focus; the server's copy is offered now", 10000);
    wl_expect_text(wl_get_paste, m->socket, "copied unfocused", "wl-paste");
}

/* The desktop window on Xvnc's checkerboard, native though DISPLAY names
 * XWayland, sharp at scale 2. */
static void test_desktop(void)
{
    Mutter m = {0};
    mutter_start(&m, true);
    g_assert_true(mutter_has_xwayland(&m));
    WlXvnc x = {0};
    wl_xvnc_start(&x);
    char **env = wl_env(m.socket, m.display, "mutter-desktop");
    env = g_environ_setenv(env, "XAUTHORITY", m.xauth, TRUE);
    g_autofree char *log = g_strdup_printf("%s/mutter-desktop-vmdesk.log", rt_world.dir);
    GSubprocess *v = wl_vmdesk_vnc(&x, env, log);
    g_strfreev(env);
    wl_expect_in_log(log, "video driver: wayland", 10000);
    wl_expect_sharp_desktop(mutter_screenshot, &m, MUTTER_W * MUTTER_SCALE);

    vnc_text_both_ways(&m, &x);
    g_assert_cmpint(rt_stop(v, SIGTERM), ==, 0);
    g_object_unref(v);
    wl_xvnc_stop(&x);
    mutter_stop(&m);
}

/* The first line of @text matching @pattern (a GRegex), or NULL. */
static char *find_line(const char *text, const char *pattern)
{
    g_autoptr(GRegex) re = g_regex_new(pattern, G_REGEX_MULTILINE, 0, NULL);
    g_assert_nonnull(re);
    g_autoptr(GMatchInfo) mi = NULL;
    return g_regex_match(re, text, 0, &mi) ? g_match_info_fetch(mi, 0) : NULL;
}

/* X key presses in xev's log @text. */
static int x_presses(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, "(keysym 0x78, x)")); p++)
        n++;
    return n / 2; /* its KeyPress and its KeyRelease */
}

/* Super+Up on the virtual keyboard, then X: once Xvnc's key log (@keys,
 * xev's) shows that X (the (@n + 1)th, @n updated), whatever of Super+Up
 * crossed has too. Returns the log. */
static char *super_up(Mutter *m, const char *keys, int *n)
{
    mutter_key(m, KEY_LEFTMETA, true);
    mutter_key(m, KEY_UP, true);
    mutter_key(m, KEY_UP, false);
    mutter_key(m, KEY_LEFTMETA, false);
    mutter_key(m, KEY_X, true);
    mutter_key(m, KEY_X, false);
    gint64 end = g_get_monotonic_time() + tu_timeout_ms(10000) * 1000LL;
    for (;;) {
        char *text = rt_read_text(keys);
        if (x_presses(text) > *n) {
            *n = x_presses(text);
            return text;
        }
        if (g_get_monotonic_time() > end)
            g_error("X never reached Xvnc; its keys:\n%s", text);
        g_free(text);
        g_usleep(50 * 1000);
    }
}

/* vmdesk's keyboard grab under mutter 43, which has keyboard-shortcuts-
 * inhibit (weston 10 has not: /wayland/no-xwayland). Before any click,
 * Super+Up is mutter's (maximize) and never reaches Xvnc; the click takes
 * the grab: vmdesk (WAYLAND_DEBUG=client in @log) asks mutter to inhibit
 * its shortcuts on the window's surface, mutter allows it (no GNOME Shell
 * to ask the user: its default dialog allows, and says so in its log), and
 * Super+Up then crosses to Xvnc. vmdesk has the keyboard focus already
 * (SDL asks only then). */
static void keyboard_grab(Mutter *m, WlXvnc *x, const char *log)
{
    g_autofree char *keys = g_strdup_printf("%s/mutter-xvnc-keys.log", rt_world.dir);
    const char *argv[] = {"xev", "-root", "-event", "keyboard", NULL};
    GSubprocess *xev = rt_spawn(argv, x->env, keys, keys);
    /* xev listens once an X it is sent shows (then any late X too). */
    int xs = 0;
    for (int i = 1; !xs; i++) {
        mutter_key(m, KEY_X, true);
        mutter_key(m, KEY_X, false);
        for (int j = 0; j < 40 && !xs; j++) {
            g_usleep(50 * 1000);
            g_autofree char *text = rt_read_text(keys);
            xs = x_presses(text);
        }
        if (i == 10 && !xs) {
            g_autofree char *text = rt_read_text(keys);
            g_error("no key typed reached Xvnc; xev says:\n%s", text);
        }
    }
    g_usleep(500 * 1000);
    g_autofree char *ready = rt_read_text(keys);
    xs = x_presses(ready);
    g_autofree char *before = super_up(m, keys, &xs);
    g_assert_null(strstr(before, "(keysym 0xff52, Up)"));
    g_autofree char *vlog = rt_read_text(log);
    g_assert_null(strstr(vlog, "inhibit_shortcuts("));

    /* mutter centred the window (and Super+Up maximised it): the middle is its. */
    mutter_click(m, MUTTER_W / 2.0, MUTTER_H / 2.0);
    wl_expect_in_log(log, "inhibit_shortcuts(new id zwp_keyboard_shortcuts_inhibitor_v1@", 5000);
    wl_expect_in_log(m->log, "No MetaInhibitShortcutDialog implementation, falling back on "
                             "allowing", 5000);
    g_free(vlog);
    vlog = rt_read_text(log);
    g_assert_null(strstr(vlog, "the compositor has no keyboard-shortcuts-inhibit"));
    g_autofree char *global = find_line(
        vlog, "^.*wl_registry@[0-9]+\\.global\\([0-9]+, "
              "\"zwp_keyboard_shortcuts_inhibit_manager_v1\", [0-9]+\\)$");
    g_assert_nonnull(global);
    g_autofree char *inhibit = find_line(
        vlog, "^.*-> zwp_keyboard_shortcuts_inhibit_manager_v1@[0-9]+\\.inhibit_shortcuts\\("
              "new id zwp_keyboard_shortcuts_inhibitor_v1@[0-9]+, (wl_surface@[0-9]+), "
              "wl_seat@[0-9]+\\)$");
    g_assert_nonnull(inhibit);
    g_test_message("the grab: %s", inhibit);
    /* On the window's own surface, the one its xdg_surface has. */
    const char *surface = strstr(inhibit, "wl_surface@");
    g_autofree char *id = g_strndup(surface, strcspn(surface, ","));
    g_autofree char *window = g_strdup_printf(
        "^.*-> xdg_wm_base@[0-9]+\\.get_xdg_surface\\(new id xdg_surface@[0-9]+, %s\\)$", id);
    g_autofree char *toplevel = find_line(vlog, window);
    if (!toplevel)
        g_error("%s is no xdg_surface's: %s", id, inhibit);

    g_autofree char *after = super_up(m, keys, &xs);
    g_assert_nonnull(strstr(after, "(keysym 0xff52, Up)"));
    rt_stop(xev, SIGTERM);
    g_object_unref(xev);
}

/* No XWayland: the VNC desktop window's clipboard text both ways, then its
 * keyboard grab. */
static void test_clipboard_text(void)
{
    Mutter m = {0};
    mutter_start(&m, false);
    g_assert_false(mutter_has_xwayland(&m));
    WlXvnc x = {0};
    wl_xvnc_start(&x);
    char **env = wl_env(m.socket, NULL, "mutter-clipboard-text");
    env = g_environ_setenv(env, "WAYLAND_DEBUG", "client", TRUE);
    g_autofree char *log = g_strdup_printf("%s/mutter-clipboard-text-vmdesk.log", rt_world.dir);
    GSubprocess *v = wl_vmdesk_vnc(&x, env, log);
    g_strfreev(env);
    wl_expect_in_log(log, "video driver: wayland", 10000);
    wl_expect_in_log(log, "clipboard: files and pictures through a data device", 10000);
    wl_expect_sharp_desktop(mutter_screenshot, &m, MUTTER_W * MUTTER_SCALE);
    vnc_text_both_ways(&m, &x);
    guest_copies_unfocused(&m, &x, log);
    keyboard_grab(&m, &x, log);
    g_assert_cmpint(rt_stop(v, SIGTERM), ==, 0);
    g_object_unref(v);
    wl_xvnc_stop(&x);
    mutter_stop(&m);
}

/* mutter without XWayland, vmdesk's desktop window on the test server
 * offering @offer: the window native, the server told the desktop's scale. */
static void rdp_start(Mutter *m, RtSession *s, const char *name, const char *offer)
{
    mutter_start(m, false);
    g_assert_false(mutter_has_xwayland(m));
    wl_rich_start(m->socket, s, name, offer);
    g_free(rt_expect_line(s, "client-scale 200 device 180", 1000));
}

/* The desktop copies @file as @type (@list: its text), wl-copy serving it;
 * the server fetches it and logs its SHA-256. */
static void desktop_file_reaches_server(Mutter *m, RtSession *s, const char *type,
                                        const char *src, const char *list)
{
    gsize len = 0;
    g_autofree char *sum = wl_file_sum(src, &len);
    g_autofree char *base = g_path_get_basename(src);
    gsize mark = rt_log_mark(s);
    GSubprocess *copier = wl_copy(m->socket, type, list, NULL);
    g_autofree char *pattern = g_strdup_printf("clipboard from-client-file %s %" G_GSIZE_FORMAT
                                               " %s", base, len, sum);
    g_free(rt_expect_next(s, &mark, pattern, 15000));
    rt_stop(copier, SIGTERM);
    g_object_unref(copier);
}

static char *host_file(const char *name, gsize size)
{
    char *path = g_strdup_printf("%s/%s", rt_world.dir, name);
    g_autofree guint8 *bytes = g_malloc(size);
    for (gsize i = 0; i < size; i++)
        bytes[i] = (guint8)(i * 31 + (i >> 10));
    g_assert_true(g_file_set_contents(path, (const char *)bytes, (gssize)size, NULL));
    return path;
}

static void test_files(void)
{
    Mutter m = {0};
    RtSession s = {0};
    rdp_start(&m, &s, "mutter-files", "files:2:300000");
    g_free(wl_expect_server_files(m.socket, &s));

    /* The other way, which weston 10 cannot do: a file manager's copy. */
    g_autofree char *one = host_file("from-gnome-1.bin", 1500000);
    g_autofree char *uri = g_filename_to_uri(one, NULL, NULL);
    g_autofree char *uri_list = g_strdup_printf("%s\r\n", uri);
    desktop_file_reaches_server(&m, &s, "text/uri-list", one, uri_list);
    /* Nautilus's own type alone. */
    g_autofree char *two = host_file("from-gnome-2.bin", 700000);
    g_autofree char *uri2 = g_filename_to_uri(two, NULL, NULL);
    g_autofree char *gnome = g_strdup_printf("copy\n%s", uri2);
    desktop_file_reaches_server(&m, &s, "x-special/gnome-copied-files", two, gnome);
    /* Plain text, read through vmdesk's data device (SDL's hears nothing
     * under mutter). */
    gsize mark = rt_log_mark(&s);
    GSubprocess *copier = wl_copy(m.socket, NULL, "text from GNOME 44", NULL);
    g_free(rt_expect_next(&s, &mark, "clipboard from-client text from GNOME 44", 15000));
    rt_stop(copier, SIGTERM);
    g_object_unref(copier);

    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    mutter_stop(&m);
}

static void test_pictures(void)
{
    Mutter m = {0};
    RtSession s = {0};
    rdp_start(&m, &s, "mutter-pictures", "picture:97x61");
    g_autoptr(GBytes) png = wl_expect_server_picture(m.socket, &s);
    g_autofree char *want_line = rt_find_line(s.log, "clipboard offered-picture 97x61 ");
    const char *want = strrchr(want_line, ' ') + 1;

    /* The same PNG copied on the desktop goes back. */
    g_autofree char *file = g_strdup_printf("%s/mutter-picture.png", rt_world.dir);
    g_assert_true(g_file_set_contents(file, g_bytes_get_data(png, NULL),
                                      (gssize)g_bytes_get_size(png), NULL));
    gsize mark = rt_log_mark(&s);
    GSubprocess *copier = wl_copy(m.socket, "image/png", NULL, file);
    g_autofree char *pattern = g_strdup_printf("clipboard from-client-picture 97x61 %s", want);
    g_free(rt_expect_next(&s, &mark, pattern, 15000));
    rt_stop(copier, SIGTERM);
    g_object_unref(copier);

    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    mutter_stop(&m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    rt_world_start();
    g_test_add_func("/wayland/mutter-desktop", test_desktop);
    g_test_add_func("/wayland/mutter-files", test_files);
    g_test_add_func("/wayland/mutter-pictures", test_pictures);
    g_test_add_func("/wayland/mutter-clipboard-text", test_clipboard_text);
    int rc = g_test_run();
    rt_world_finish();
    return rc;
}
