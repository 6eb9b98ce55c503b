/* Which SDL video driver a window gets (client/ui/wayland.c,
 * wayland_choose): no compositor is asked here, the situations are given. */
#include "ui/wayland.h"

#include "common/error.h"

#include <string.h>

static const WaylandCompositor desktop = {.reached = true, .seat = true, .xdg_shell = true,
                                          .data_device = true, .scale = 1};
static const WaylandCompositor seatless = {.reached = true, .xdg_shell = true, .scale = 1};

static const char *choose(const char *requested, bool x, WaylandCompositor wl, WaylandUse use,
                          GError **error)
{
    WaylandSituation in = {.requested = requested, .x_display = x, .wl = wl};
    return wayland_choose(&in, use, error);
}

/* A Wayland desktop with XWayland: the desktop window native, RemoteApp
 * windows through XWayland (exact placement). */
static void test_wayland_desktop(void)
{
    g_assert_cmpstr(choose(NULL, true, desktop, WAYLAND_FOR_DESKTOP, NULL), ==, "wayland");
    g_assert_cmpstr(choose(NULL, true, desktop, WAYLAND_FOR_REMOTEAPP, NULL), ==, "x11");
    /* Without XWayland RemoteApp windows are native (the compositor places them). */
    g_assert_cmpstr(choose(NULL, false, desktop, WAYLAND_FOR_REMOTEAPP, NULL), ==, "wayland");
    g_assert_cmpstr(choose(NULL, false, desktop, WAYLAND_FOR_DESKTOP, NULL), ==, "wayland");
    /* Asked for by name, RemoteApp windows are native too. */
    g_assert_cmpstr(choose("wayland", true, desktop, WAYLAND_FOR_REMOTEAPP, NULL), ==, "wayland");
}

/* No compositor: SDL's own choice (X11), or an error when Wayland was asked for. */
static void test_no_compositor(void)
{
    WaylandCompositor none = {.scale = 1};
    g_assert_null(choose(NULL, true, none, WAYLAND_FOR_DESKTOP, NULL));
    g_autoptr(GError) err = NULL;
    g_assert_null(choose("wayland", false, none, WAYLAND_FOR_DESKTOP, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "no Wayland compositor answers"));
}

/* A compositor without a seat (weston's headless backend), on which SDL
 * 2.26 crashes: XWayland when there is one, else a clear error. */
static void test_seatless(void)
{
    g_assert_cmpstr(choose("wayland", true, seatless, WAYLAND_FOR_DESKTOP, NULL), ==, "x11");
    g_assert_cmpstr(choose(NULL, true, seatless, WAYLAND_FOR_DESKTOP, NULL), ==, "x11");
    g_autoptr(GError) err = NULL;
    g_assert_null(choose("wayland", false, seatless, WAYLAND_FOR_DESKTOP, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "offers no seat"));
    g_clear_error(&err);
    WaylandCompositor no_shell = desktop;
    no_shell.xdg_shell = false;
    g_assert_null(choose(NULL, false, no_shell, WAYLAND_FOR_REMOTEAPP, &err));
    g_assert_nonnull(strstr(err->message, "xdg_wm_base"));
}

/* Another driver named by the user is followed as it is. */
static void test_other_driver(void)
{
    g_assert_null(choose("x11", true, desktop, WAYLAND_FOR_DESKTOP, NULL));
    g_assert_null(choose("offscreen", false, seatless, WAYLAND_FOR_DESKTOP, NULL));
    g_assert_cmpstr(choose("", true, desktop, WAYLAND_FOR_DESKTOP, NULL), ==, "wayland");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/wayland-choose/desktop", test_wayland_desktop);
    g_test_add_func("/wayland-choose/no-compositor", test_no_compositor);
    g_test_add_func("/wayland-choose/seatless", test_seatless);
    g_test_add_func("/wayland-choose/other-driver", test_other_driver);
    return g_test_run();
}
