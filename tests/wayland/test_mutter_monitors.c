/* Several monitors of different scales on Wayland, under GNOME's
 * compositor: mutter 43 headless with two virtual monitors, a 2560x1600
 * one at scale 2 (a laptop panel) and a 1920x1080 one at scale 1 right of
 * it, set by a monitors.xml of the test's own in mutter's physical layout
 * mode (GNOME's default: places in pixels, so SDL 2.26's displays, whose
 * sizes are logical, leave a gap: 0,0 1280x800 and 2560,0 1920x1080).
 * vmdesk's desktop window with --monitors all, natively on Wayland (no
 * XWayland), on vmdesk-test-rdp-server: the server logs the monitor layout
 * it gets, each monitor with its own pixels and scale (wl_output.scale,
 * matched to SDL's displays: client/ui/monitors.c), the gap closed.
 *
 * /wayland/mutter-monitors      200 % (device 180) and 100 % side by side
 * /wayland/mutter-monitors-app  the same for RemoteApp (native windows); then
 *                               the 1x monitor set to scale 2 through
 *                               mutter's DisplayConfig D-Bus API (what GNOME
 *                               Settings does): the new layout, that monitor
 *                               at 200 %, sent through display control
 *
 * No RemoteDesktop session or PipeWire here: nothing is typed or
 * screenshot, so mutter runs alone (mutter_start_monitors). */
#include "mutter_harness.h"
#include "wl_harness.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

/* mutter --virtual-monitor names its monitors Meta-0, Meta-1... (vendor,
 * product and serial as its DisplayConfig GetCurrentState shows them). */
#define SPEC(N)                                                                                    \
    "<monitorspec><connector>Meta-" #N "</connector><vendor>MetaVendor</vendor>"                 \
    "<product>MetaVirtualMonitor</product><serial>0x0" #N "</serial></monitorspec>"
static const char monitors_xml[] =
    "<monitors version=\"2\">\n"
    "  <configuration>\n"
    "    <logicalmonitor>\n"
    "      <x>0</x><y>0</y><scale>2</scale><primary>yes</primary>\n"
    "      <monitor>" SPEC(0) "<mode><width>2560</width><height>1600</height>"
    "<rate>60.000</rate></mode></monitor>\n"
    "    </logicalmonitor>\n"
    "    <logicalmonitor>\n"
    "      <x>2560</x><y>0</y><scale>1</scale>\n"
    "      <monitor>" SPEC(1) "<mode><width>1920</width><height>1080</height>"
    "<rate>60.000</rate></mode></monitor>\n"
    "    </logicalmonitor>\n"
    "  </configuration>\n"
    "</monitors>\n";

/* mutter without XWayland, a 2x and a 1x virtual monitor (monitors.xml). */
static void two_start(Mutter *m)
{
    const char *sizes[] = {"2560x1600", "1920x1080", NULL};
    mutter_start_monitors(m, "mutter-monitors", monitors_xml, sizes);
}

static void test_monitors(void)
{
    Mutter t = {0};
    two_start(&t);
    RtSession s = {0};
    const char *srv_args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--size", "client",
                              NULL};
    rt_server_start(&s, "mutter-monitors", srv_args);
    g_auto(GStrv) env = wl_env(t.socket, NULL, "mutter-monitors");
    const char *args[] = {"--no-audio", "--monitors", "all", NULL};
    rt_vmdesk_start(&s, "mutter-monitors", env, args);
    /* Each monitor in its own pixels at its own scale; the gap SDL's
     * logical sizes leave (1280..2560) closed. Physical sizes: mutter's
     * virtual monitors have none, so 96 dpi at the monitor's scale. */
    gsize mark = 0;
    const char *lines[] = {
        "client-connected 4480x1600",
        "client-monitor 0 0 0 2560x1600 scale 200 device 180 mm 338x211 primary",
        "client-monitor 1 2560 0 1920x1080 scale 100 device 100 mm 508x285",
        "activated 4480x1600 ",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
        g_free(rt_expect_next(&s, &mark, lines[i], WL_CONNECT_MS));
    wl_expect_in_log(s.client_log, "video driver: wayland", 5000);
    wl_expect_in_log(s.client_log, "monitors: 1 at 0,0 1280x800 (2560x1600 px, 0x0 mm) 200%, "
                                   "its output's scale, primary",
                     5000);
    wl_expect_in_log(s.client_log, "monitors: 2 at 2560,0 1920x1080 (1920x1080 px, 0x0 mm) 100%, "
                                   "its output's scale",
                     5000);
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    mutter_stop(&t);
}

#define DC_NAME "org.gnome.Mutter.DisplayConfig"
#define DC_PATH "/org/gnome/Mutter/DisplayConfig"

/* mutter's DisplayConfig: the 1x monitor to @scale, the 2x one kept, both
 * where they are (ApplyMonitorsConfig, temporary: nothing written). */
static void set_second_scale(double scale)
{
    const char *address = g_environ_getenv(rt_world.env, "DBUS_SESSION_BUS_ADDRESS");
    g_autoptr(GError) err = NULL;
    g_autoptr(GDBusConnection) bus = g_dbus_connection_new_for_address_sync(
        address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &err);
    g_assert_no_error(err);
    g_autoptr(GVariant) state = g_dbus_connection_call_sync(
        bus, DC_NAME, DC_PATH, DC_NAME, "GetCurrentState", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
        10000, NULL, &err);
    g_assert_no_error(err);
    guint32 serial = 0;
    g_variant_get_child(state, 0, "u", &serial);
    GVariant *args = g_variant_new_parsed(
        "(%u, uint32 1, [(0, 0, 2.0, uint32 0, true, [('Meta-0', '2560x1600@60.000', @a{sv} {})]),"
        " (2560, 0, %d, uint32 0, false, [('Meta-1', '1920x1080@60.000', @a{sv} {})])],"
        " @a{sv} {})",
        serial, scale);
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(bus, DC_NAME, DC_PATH, DC_NAME,
                                                        "ApplyMonitorsConfig", args, NULL,
                                                        G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(r);
}

static void test_monitors_app(void)
{
    Mutter t = {0};
    two_start(&t);
    RtSession s = {0};
    const char *srv_args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--rail",
                              "--size", "client", NULL};
    rt_server_start(&s, "mutter-monitors-app", srv_args);
    g_auto(GStrv) env = wl_env(t.socket, NULL, "mutter-monitors-app");
    const char *args[] = {"--no-audio", "--linger", "3", "--app", "notepad", NULL};
    rt_vmdesk_start(&s, "mutter-monitors-app", env, args);
    gsize mark = 0;
    const char *lines[] = {
        "client-connected 4480x1600",
        "client-monitor 0 0 0 2560x1600 scale 200 device 180 mm 338x211 primary",
        "client-monitor 1 2560 0 1920x1080 scale 100 device 100 mm 508x285",
        "rail window-create 0x1001 ",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
        g_free(rt_expect_next(&s, &mark, lines[i], WL_CONNECT_MS));
    wl_expect_in_log(s.client_log, "video driver: wayland", 5000);
    g_free(rt_expect_line(&s, "disp ready", 10000));

    /* The user sets the second monitor to 200 % in GNOME's settings. */
    set_second_scale(2.0);
    g_free(rt_expect_next(&s, &mark,
                          "disp layout 2 monitors, primary 2560x1600 scale 200 device 180",
                          10000));
    g_free(rt_expect_next(&s, &mark,
                          "disp monitor 0 0 0 2560x1600 scale 200 device 180 mm 338x211 primary",
                          1000));
    g_free(rt_expect_next(&s, &mark, "disp monitor 1 2560 0 1920x1080 scale 200 device 180", 1000));
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    mutter_stop(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    rt_world_start();
    g_test_add_func("/wayland/mutter-monitors", test_monitors);
    g_test_add_func("/wayland/mutter-monitors-app", test_monitors_app);
    int rc = g_test_run();
    rt_world_finish();
    return rc;
}
