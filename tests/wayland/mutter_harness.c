/* mutter 43 headless for the Wayland tests (mutter_harness.h). */
#include "mutter_harness.h"

#include "test_util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define RD_NAME "org.gnome.Mutter.RemoteDesktop"
#define RD_SESSION RD_NAME ".Session"
#define SC_NAME "org.gnome.Mutter.ScreenCast"
#define KEY_LEFTSHIFT 42 /* evdev */
#define BTN_LEFT 0x110

/* The virtual monitor mutter --virtual-monitor makes, at scale 2 (in
 * mutter's physical layout mode integer scales need no experimental
 * feature). */
static const char monitors_xml[] =
    "<monitors version=\"2\">\n"
    "  <configuration>\n"
    "    <logicalmonitor>\n"
    "      <x>0</x><y>0</y><scale>2</scale><primary>yes</primary>\n"
    "      <monitor>\n"
    "        <monitorspec><connector>Meta-0</connector><vendor>MetaVendor</vendor>"
    "<product>MetaVirtualMonitor</product><serial>0x00</serial></monitorspec>\n"
    "        <mode><width>2560</width><height>1600</height><rate>60.000</rate></mode>\n"
    "      </monitor>\n"
    "    </logicalmonitor>\n"
    "  </configuration>\n"
    "</monitors>\n";

static int serial;

G_GNUC_NORETURN static void fail(Mutter *m, const char *why)
{
    g_autofree char *text = rt_read_text(m->log);
    g_error("%s; mutter's log:\n%s", why, text);
}

static GVariant *call(Mutter *m, const char *name, const char *path, const char *iface,
                      const char *method, GVariant *args, const char *reply)
{
    g_autoptr(GError) err = NULL;
    GVariant *r = g_dbus_connection_call_sync(m->bus, name, path, iface, method, args,
                                              reply ? G_VARIANT_TYPE(reply) : NULL,
                                              G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &err);
    if (!r) {
        g_autofree char *why = g_strdup_printf("%s.%s: %s", iface, method, err->message);
        fail(m, why);
    }
    return r;
}

static void remote_call(Mutter *m, const char *method, GVariant *args)
{
    g_variant_unref(call(m, RD_NAME, m->remote, RD_SESSION, method, args, NULL));
}

static void on_stream_added(GDBusConnection *c, const char *sender, const char *path,
                            const char *iface, const char *signal, GVariant *params,
                            gpointer data)
{
    g_variant_get(params, "(u)", (guint32 *)data);
}

/* XDG_RUNTIME_DIR, XDG_CONFIG_HOME (monitors.xml) and settings of @m's own;
 * the world's session bus. */
static char **mutter_env(Mutter *m, const char *config)
{
    char **env = g_strdupv(rt_world.env);
    env = g_environ_setenv(env, "XDG_RUNTIME_DIR", m->run_dir, TRUE);
    env = g_environ_setenv(env, "XDG_CONFIG_HOME", config, TRUE);
    env = g_environ_setenv(env, "GSETTINGS_BACKEND", "memory", TRUE);
    const char *unset[] = {"DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "PULSE_SERVER"};
    for (size_t i = 0; i < G_N_ELEMENTS(unset); i++)
        env = g_environ_unsetenv(env, unset[i]);
    return env;
}

/* Up once it names its Wayland display (and XWayland's, when asked). */
static void wait_mutter(Mutter *m, bool xwayland)
{
    gint64 end = g_get_monotonic_time() + tu_timeout_ms(20000) * 1000LL;
    for (;;) {
        g_autofree char *text = rt_read_text(m->log);
        const char *x = strstr(text, "Using public X11 display ");
        if (x && !m->display) {
            x += strlen("Using public X11 display ");
            m->display = g_strndup(x, strcspn(x, ", \n"));
        }
        if (strstr(text, "Using Wayland display name") &&
            g_file_test(m->socket, G_FILE_TEST_EXISTS) && (!xwayland || m->display))
            break;
        if (g_get_monotonic_time() > end)
            fail(m, "mutter did not come up");
        g_usleep(50 * 1000);
    }
    if (!xwayland)
        return;
    g_autoptr(GDir) d = g_dir_open(m->run_dir, 0, NULL);
    for (const char *e; d && (e = g_dir_read_name(d));)
        if (g_str_has_prefix(e, ".mutter-Xwaylandauth."))
            m->xauth = g_build_filename(m->run_dir, e, NULL);
    g_assert_nonnull(m->xauth);
}

/* A RemoteDesktop session with a ScreenCast stream of the monitor, started:
 * the seat's virtual devices, and the stream's PipeWire node. */
static void remote_start(Mutter *m)
{
    const char *address = g_environ_getenv(rt_world.env, "DBUS_SESSION_BUS_ADDRESS");
    g_autoptr(GError) err = NULL;
    m->bus = g_dbus_connection_new_for_address_sync(
        address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &err);
    g_assert_no_error(err);
    /* mutter takes its names after it names its display. */
    for (int i = 0;; i++) {
        gboolean rd = FALSE, sc = FALSE;
        GVariant *has = call(m, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                             "org.freedesktop.DBus", "NameHasOwner",
                             g_variant_new("(s)", RD_NAME), "(b)");
        g_variant_get(has, "(b)", &rd);
        g_variant_unref(has);
        has = call(m, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                   "NameHasOwner", g_variant_new("(s)", SC_NAME), "(b)");
        g_variant_get(has, "(b)", &sc);
        g_variant_unref(has);
        if (rd && sc)
            break;
        if (i == tu_timeout_ms(10000) / 20)
            fail(m, "mutter never took its RemoteDesktop and ScreenCast names");
        g_usleep(20 * 1000);
    }
    GVariant *r = call(m, RD_NAME, "/org/gnome/Mutter/RemoteDesktop", RD_NAME, "CreateSession",
                       NULL, "(o)");
    g_variant_get(r, "(o)", &m->remote);
    g_variant_unref(r);
    r = call(m, RD_NAME, m->remote, "org.freedesktop.DBus.Properties", "Get",
             g_variant_new("(ss)", RD_SESSION, "SessionId"), "(v)");
    g_autoptr(GVariant) id = NULL;
    g_variant_get(r, "(v)", &id);
    g_variant_unref(r);
    GVariantBuilder props;
    g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&props, "{sv}", "remote-desktop-session-id", id);
    r = call(m, SC_NAME, "/org/gnome/Mutter/ScreenCast", SC_NAME, "CreateSession",
             g_variant_new("(a{sv})", &props), "(o)");
    g_autofree char *screen_cast = NULL;
    g_variant_get(r, "(o)", &screen_cast);
    g_variant_unref(r);
    r = call(m, SC_NAME, screen_cast, SC_NAME ".Session", "RecordMonitor",
             g_variant_new_parsed("('Meta-0', @a{sv} {})"), "(o)");
    g_variant_get(r, "(o)", &m->stream);
    g_variant_unref(r);
    guint sub = g_dbus_connection_signal_subscribe(m->bus, NULL, SC_NAME ".Stream",
                                                   "PipeWireStreamAdded", m->stream, NULL,
                                                   G_DBUS_SIGNAL_FLAGS_NONE, on_stream_added,
                                                   &m->node, NULL);
    remote_call(m, "Start", NULL);
    gint64 end = g_get_monotonic_time() + tu_timeout_ms(10000) * 1000LL;
    while (!m->node) {
        if (g_get_monotonic_time() > end)
            fail(m, "the screen cast stream got no PipeWire node");
        g_main_context_iteration(NULL, FALSE);
        g_usleep(10 * 1000);
    }
    g_dbus_connection_signal_unsubscribe(m->bus, sub);
    /* The seat shows its virtual devices once they are used. */
    mutter_tap_key(m);
    remote_call(m, "NotifyPointerMotionAbsolute",
                g_variant_new("(sdd)", m->stream, (double)MUTTER_W - 1, (double)MUTTER_H - 1));
    /* wl-paste says so while the seat has no keyboard. */
    for (int i = 0;; i++) {
        char **env = g_environ_setenv(g_get_environ(), "WAYLAND_DISPLAY", m->socket, TRUE);
        const char *argv[] = {"timeout", "5", "wl-paste", NULL};
        g_autofree char *out = NULL;
        rt_run_all(argv, env, &out);
        g_strfreev(env);
        if (!strstr(out, "no keyboard"))
            break;
        if (i == 100)
            fail(m, "the seat never got the virtual keyboard");
        g_usleep(50 * 1000);
    }
}

/* Its folders (XDG_RUNTIME_DIR, XDG_CONFIG_HOME with @xml as monitors.xml)
 * and log made, named after @tag; its environment returned. */
static char **mutter_world(Mutter *m, const char *tag, const char *xml)
{
    int n = ++serial;
    m->run_dir = g_strdup_printf("%s/%s-%d", rt_world.dir, tag, n);
    g_autofree char *config = g_strdup_printf("%s/%s-%d-config", rt_world.dir, tag, n);
    g_assert_cmpint(g_mkdir(m->run_dir, 0700), ==, 0);
    g_assert_cmpint(g_mkdir(config, 0700), ==, 0);
    g_autofree char *monitors = g_build_filename(config, "monitors.xml", NULL);
    tu_write_file(monitors, xml);
    m->socket = g_build_filename(m->run_dir, "wayland-test", NULL);
    m->log = g_strdup_printf("%s/%s-%d.log", rt_world.dir, tag, n);
    return mutter_env(m, config);
}

void mutter_start_monitors(Mutter *m, const char *tag, const char *xml,
                           const char *const *sizes)
{
    g_auto(GStrv) env = mutter_world(m, tag, xml);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *head[] = {"mutter", "--headless", "--wayland", "--no-x11", "--wayland-display",
                          "wayland-test"};
    for (size_t i = 0; i < G_N_ELEMENTS(head); i++)
        g_ptr_array_add(argv, (gpointer)head[i]);
    for (size_t i = 0; sizes[i]; i++) {
        g_ptr_array_add(argv, "--virtual-monitor");
        g_ptr_array_add(argv, (gpointer)sizes[i]);
    }
    g_ptr_array_add(argv, NULL);
    m->mutter = rt_spawn((const char *const *)argv->pdata, env, m->log, m->log);
    wait_mutter(m, false);
}

void mutter_start(Mutter *m, bool xwayland)
{
    g_auto(GStrv) env = mutter_world(m, "mutter", monitors_xml);
    int n = serial; /* the folders' number, for PipeWire's log */

    g_autofree char *pw_log = g_strdup_printf("%s/pipewire-%d.log", rt_world.dir, n);
    const char *pw[] = {"pipewire", NULL};
    m->pipewire = rt_spawn(pw, env, pw_log, pw_log);
    g_autofree char *pw_socket = g_build_filename(m->run_dir, "pipewire-0", NULL);
    for (int i = 0; !g_file_test(pw_socket, G_FILE_TEST_EXISTS); i++) {
        g_assert_cmpint(i, <, tu_timeout_ms(10000) / 20);
        g_usleep(20 * 1000);
    }
    const char *wp[] = {"wireplumber", NULL};
    m->wireplumber = rt_spawn(wp, env, pw_log, pw_log);

    const char *argv[] = {"mutter",          "--headless",   "--wayland",
                          "--virtual-monitor", "2560x1600",  "--wayland-display",
                          "wayland-test",    xwayland ? NULL : "--no-x11", NULL};
    m->mutter = rt_spawn(argv, env, m->log, m->log);
    wait_mutter(m, xwayland);
    remote_start(m);
}

void mutter_stop(Mutter *m)
{
    if (m->bus)
        g_dbus_connection_close_sync(m->bus, NULL, NULL); /* its sessions end */
    g_clear_object(&m->bus);
    /* Seen once: mutter 43 still running 10 s after SIGTERM (after a picture
     * copied with wl-copy); it is not what the tests test. */
    if (rt_stop(m->mutter, SIGTERM) == -1) {
        g_autofree char *text = rt_read_text(m->log);
        g_test_message("mutter did not end on SIGTERM (killed); its log:\n%s", text);
    }
    rt_stop(m->wireplumber, SIGTERM);
    rt_stop(m->pipewire, SIGTERM);
    g_clear_object(&m->mutter);
    g_clear_object(&m->wireplumber);
    g_clear_object(&m->pipewire);
    g_free(m->run_dir);
    g_free(m->socket);
    g_free(m->log);
    g_free(m->display);
    g_free(m->xauth);
    g_free(m->remote);
    g_free(m->stream);
}

WlShot mutter_screenshot(void *data)
{
    Mutter *m = data;
    g_autofree char *path = g_strdup_printf("%s/shot-%d.png", rt_world.dir, ++m->shots);
    g_autofree char *node = g_strdup_printf("path=%u", m->node);
    g_autofree char *location = g_strdup_printf("location=%s", path);
    /* A new consumer of the stream gets the monitor as it is now. */
    const char *argv[] = {"timeout", "20", "gst-launch-1.0", "-q", "pipewiresrc", node, "num-buffers=1", "!",
                          "videoconvert", "!", "pngenc", "compression-level=1", "!",
                          "filesink", location, NULL};
    char **env = g_environ_setenv(g_strdupv(rt_world.env), "XDG_RUNTIME_DIR", m->run_dir, TRUE);
    g_autofree char *out = NULL;
    int st = rt_run_all(argv, env, &out);
    g_strfreev(env);
    if (st != 0 || !g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_autofree char *why = g_strdup_printf("no screenshot from the stream: %s", out);
        fail(m, why);
    }
    return wl_shot_load(path);
}

void mutter_tap_key(Mutter *m)
{
    remote_call(m, "NotifyKeyboardKeycode", g_variant_new("(ub)", KEY_LEFTSHIFT, TRUE));
    remote_call(m, "NotifyKeyboardKeycode", g_variant_new("(ub)", KEY_LEFTSHIFT, FALSE));
}

void mutter_key(Mutter *m, guint32 code, bool down)
{
    remote_call(m, "NotifyKeyboardKeycode", g_variant_new("(ub)", code, down));
}

void mutter_click(Mutter *m, double x, double y)
{
    remote_call(m, "NotifyPointerMotionAbsolute", g_variant_new("(sdd)", m->stream, x, y));
    remote_call(m, "NotifyPointerButton", g_variant_new("(ib)", BTN_LEFT, TRUE));
    remote_call(m, "NotifyPointerButton", g_variant_new("(ib)", BTN_LEFT, FALSE));
}

bool mutter_has_xwayland(Mutter *m)
{
    pid_t parent = (pid_t)atoi(g_subprocess_get_identifier(m->mutter));
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    for (const char *e; d && (e = g_dir_read_name(d));) {
        g_autofree char *stat_path = g_strdup_printf("/proc/%s/stat", e);
        g_autofree char *stat = NULL;
        int ppid = 0;
        char state;
        const char *close_paren = NULL;
        if (!g_file_get_contents(stat_path, &stat, NULL, NULL) ||
            !(close_paren = strrchr(stat, ')')) ||
            sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2 || ppid != parent)
            continue;
        if (strstr(stat, "(Xwayland)"))
            return true;
    }
    return false;
}
