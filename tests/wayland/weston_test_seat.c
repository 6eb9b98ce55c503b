/* A weston 10 module for the Wayland tests: one seat ("default") with a
 * keyboard and a pointer, for weston's headless backend, which has none.
 * Clients on a compositor without a seat get no keyboard focus and so no
 * clipboard (wl_data_device needs a seat); with this module desktop-shell
 * focuses each new window as on a desktop. No input device is behind the
 * seat; SIGUSR2 to weston clicks (left button) the middle of the window
 * that has the keyboard focus, what a user does before a program may set
 * the clipboard (SDL 2.26 sets it with the serial of a click or a typed
 * character only). (weston itself takes SIGUSR1 for XWayland.)
 *
 * Load it with `weston --modules=/abs/path/weston-test-seat.so`.
 * libweston 10 exports the seat functions but installs no header for them
 * (libweston-internal.h); their prototypes are repeated here for that
 * one version (tools/install-deps installs weston 10 from bookworm). */
#include <libweston/libweston.h>

#include <linux/input-event-codes.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

void weston_seat_init(struct weston_seat *seat, struct weston_compositor *ec,
                      const char *seat_name);
void weston_seat_release(struct weston_seat *seat);
int weston_seat_init_keyboard(struct weston_seat *seat, struct xkb_keymap *keymap);
void weston_seat_init_pointer(struct weston_seat *seat);
void notify_motion_absolute(struct weston_seat *seat, const struct timespec *time, double x,
                            double y);
void notify_button(struct weston_seat *seat, const struct timespec *time, int32_t button,
                   enum wl_pointer_button_state state);
void notify_pointer_frame(struct weston_seat *seat);

struct test_seat {
    struct weston_seat seat;
    struct wl_listener destroy;
    struct wl_event_source *click;
};

static void button(struct weston_seat *seat, enum wl_pointer_button_state state)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    notify_button(seat, &now, BTN_LEFT, state);
    notify_pointer_frame(seat);
}

static int on_click(int sig, void *data)
{
    struct test_seat *ts = data;
    (void)sig;
    struct weston_keyboard *kb = weston_seat_get_keyboard(&ts->seat);
    struct weston_surface *s = kb ? kb->focus : NULL;
    if (!s || wl_list_empty(&s->views))
        return 0;
    struct weston_view *v = wl_container_of(s->views.next, v, surface_link);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    notify_motion_absolute(&ts->seat, &now, v->geometry.x + s->width / 2.0,
                           v->geometry.y + s->height / 2.0);
    notify_pointer_frame(&ts->seat);
    button(&ts->seat, WL_POINTER_BUTTON_STATE_PRESSED);
    button(&ts->seat, WL_POINTER_BUTTON_STATE_RELEASED);
    return 0;
}

static void on_destroy(struct wl_listener *l, void *data)
{
    struct test_seat *ts = wl_container_of(l, ts, destroy);
    (void)data;
    wl_event_source_remove(ts->click);
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
    ts->click = wl_event_loop_add_signal(wl_display_get_event_loop(ec->wl_display), SIGUSR2,
                                         on_click, ts);
    ts->destroy.notify = on_destroy;
    wl_signal_add(&ec->destroy_signal, &ts->destroy);
    return 0;
}
