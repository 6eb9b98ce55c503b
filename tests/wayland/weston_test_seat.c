/* A weston 10 module for the Wayland tests: one seat ("default") with a
 * keyboard and a pointer, for weston's headless backend, which has none.
 * Clients on a compositor without a seat get no keyboard focus and so no
 * clipboard (wl_data_device needs a seat); with this module desktop-shell
 * focuses each new window as on a desktop. No input device is behind the
 * seat: nothing is typed or clicked.
 *
 * Load it with `weston --modules=/abs/path/weston-test-seat.so`.
 * libweston 10 exports the seat functions but installs no header for them
 * (libweston-internal.h); their prototypes are repeated here for that
 * one version (tools/install-deps installs weston 10 from bookworm). */
#include <libweston/libweston.h>

#include <stdlib.h>

void weston_seat_init(struct weston_seat *seat, struct weston_compositor *ec,
                      const char *seat_name);
void weston_seat_release(struct weston_seat *seat);
int weston_seat_init_keyboard(struct weston_seat *seat, struct xkb_keymap *keymap);
void weston_seat_init_pointer(struct weston_seat *seat);

struct test_seat {
    struct weston_seat seat;
    struct wl_listener destroy;
};

static void on_destroy(struct wl_listener *l, void *data)
{
    struct test_seat *ts = wl_container_of(l, ts, destroy);
    (void)data;
    weston_seat_release(&ts->seat);
    free(ts);
}

WL_EXPORT int wet_module_init(struct weston_compositor *ec, int *argc, char *argv[])
{
    (void)argc;
    (void)argv;
    struct test_seat *ts = calloc(1, sizeof(*ts));
    if (!ts)
        return -1;
    weston_seat_init(&ts->seat, ec, "default");
    weston_seat_init_pointer(&ts->seat);
    if (weston_seat_init_keyboard(&ts->seat, NULL) < 0) {
        weston_seat_release(&ts->seat);
        free(ts);
        return -1;
    }
    ts->destroy.notify = on_destroy;
    wl_signal_add(&ec->destroy_signal, &ts->destroy);
    return 0;
}
