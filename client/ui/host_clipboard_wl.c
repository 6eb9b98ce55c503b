/* The host's clipboard on Wayland: text, files (x-special/gnome-copied-files,
 * text/uri-list) and pictures (image/png).
 *
 * SDL 2.26 keeps a wl_data_device of its own. This one is a second data
 * device for the same seat on SDL's connection, with its own event queue
 * (SDL never dispatches it) and its own wl_keyboard and wl_pointer, for the
 * serials wl_data_device.set_selection needs (the keyboard's enter serial
 * is enough). Compositors serve a client's devices differently:
 * - mutter (since 40.1, meta-wayland-data-device.c's get_data_device) sends
 *   selections only to a client's newest data device, ours: SDL's device
 *   never hears of a copy again (SDL_HasClipboardText stays false), and
 *   SDL 2.26 sets the selection only after a typed character or a click.
 *   So everything, text too, goes through here: the server's text is
 *   offered by our device, and the desktop's text is read through it.
 * - weston 10 and wlroots send every selection to every device of the
 *   focused client but answer only the newest offer of a selection, which
 *   is SDL's device's (one offer per device, newest device first): there a
 *   read of ours comes back empty and SDL's text getter is asked instead.
 * A selection set through either device cancels the other's source, so
 * the last copy wins, as on X11 (docs/wayland.md).
 *
 * Our offers carry a marker type naming this process: an offer with it is
 * our own, never read back (SDL's getter would wait on this very thread for
 * our answer) and proof that the compositor took our claim. Reads and
 * writes go through non-blocking pipes: an owner slower than 100 ms is
 * answered by a later call, as on X11 (host_clipboard.h). Main thread only. */
#include "common/log.h"
#include "session/helper/helper_proto.h"
#include "ui/host_clipboard_priv.h"

#include <SDL.h>
#include <SDL_syswm.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <wayland-client.h>

#define ANSWER_WAIT_MS 100
#define GIVE_UP_MS 10000
#define READ_MAX (256u << 20)
/* The desktop's text goes to the session helper as one string field. */
#define TEXT_READ_MAX (HELPER_MSG_MAX - 4)
#define SEND_IDLE_MS 10000
/* How long one call reads an owner that keeps writing. */
#define READ_SLICE_MS 20
#define DISPATCH_MAX_MS 200

/* One wl_data_offer: the types its owner listed. */
typedef struct {
    struct wl_data_offer *offer;
    GPtrArray *types; /* char * */
} Offer;

/* Our answer to one wl_data_source.send, written as the reader takes it. */
typedef struct {
    int fd;
    GBytes *data;
    gsize sent;
    gint64 active_at;
} Send;

static struct {
    bool tried;
    struct wl_display *display;
    struct wl_event_queue *queue;
    struct wl_registry *registry;
    struct wl_seat *seat;
    struct wl_data_device_manager *manager;
    struct wl_data_device *device;
    struct wl_keyboard *keyboard;
    struct wl_pointer *pointer;
    uint32_t serial; /* the newest input event's */
    bool focused;    /* our keyboard has the focus */
    char *marker;    /* the type that marks our own offers */
    Offer *selection; /* the clipboard's offer, NULL when empty */
    /* Reading. */
    int read_fd;                     /* -1: none going on */
    HostClipboardKind read_kind;
    GByteArray *read_buf;
    gint64 asked_at;
    HostClipboardData late;          /* an answer dispatch got */
    HostClipboardResult late_result; /* ... of this kind (WAITING: none) */
    /* Owning. */
    struct wl_data_source *source;
    char **paths;
    GBytes *png;
    GBytes *text;  /* UTF-8, no NUL */
    /* The compositor refused our claim for want of the keyboard focus: the
     * offer above waits for our next keyboard enter, unless a newer copy
     * (the server's or the desktop's) comes first. */
    bool pending;
    bool claiming; /* inside claim()'s round trip */
    bool refused;  /* ... and the compositor cancelled the claim */
    bool reclaiming; /* kb_enter claimed the waiting offer: no answer yet */
    GSList *sends; /* Send * */
} wl = {.read_fd = -1, .late_result = HOST_CLIPBOARD_WAITING};

/* The types text is offered as: SDL 2's list without Latin-1 STRING
 * (X clients on XWayland ask for the X names). */
static const char *const text_types[] = {"text/plain;charset=utf-8", "text/plain",
                                         "UTF8_STRING", "TEXT"};

static bool is_text_type(const char *type)
{
    for (size_t i = 0; i < G_N_ELEMENTS(text_types); i++)
        if (!strcmp(type, text_types[i]))
            return true;
    return false;
}

/* --- offers --- */

static void offer_type(void *data, struct wl_data_offer *o, const char *type)
{
    Offer *of = data;
    g_ptr_array_add(of->types, g_strdup(type));
}

static const struct wl_data_offer_listener offer_listener = {.offer = offer_type};

static void offer_free(Offer *of)
{
    if (!of)
        return;
    wl_data_offer_destroy(of->offer);
    g_ptr_array_unref(of->types);
    g_free(of);
}

static bool offer_has(const Offer *of, const char *type)
{
    for (guint i = 0; of && i < of->types->len; i++)
        if (!strcmp(of->types->pdata[i], type))
            return true;
    return false;
}

static void device_data_offer(void *data, struct wl_data_device *dev, struct wl_data_offer *o)
{
    Offer *of = g_new0(Offer, 1);
    of->offer = o;
    of->types = g_ptr_array_new_with_free_func(g_free);
    wl_data_offer_add_listener(o, &offer_listener, of);
}

static void drop_offer(void);

static void device_selection(void *data, struct wl_data_device *dev, struct wl_data_offer *o)
{
    offer_free(wl.selection);
    wl.selection = o ? wl_data_offer_get_user_data(o) : NULL;
    bool ours = wl.selection && offer_has(wl.selection, wl.marker);
    /* The selection compositors send with the focus, before they heard our
     * claim from kb_enter: older than the copy we claimed it for. */
    if (wl.reclaiming && !ours)
        return;
    wl.reclaiming = false;
    /* A copy of the desktop's, seen with the focus, is newer than the
     * server's copy still waiting for it. (Compositors tell only the
     * focused client; the selection sent with the focus itself comes
     * after kb_enter has offered the waiting copy.) */
    if (wl.pending && wl.focused && !ours)
        drop_offer();
    /* SDL's device hears nothing of it on mutter: the windows are told as
     * SDL would tell them (our own offer is nothing new). On weston SDL
     * pushes one of its own: one is enough, or each copy is read twice. */
    if (wl.selection && !ours &&
        SDL_PeepEvents(NULL, 1, SDL_PEEKEVENT, SDL_CLIPBOARDUPDATE, SDL_CLIPBOARDUPDATE) <= 0) {
        SDL_Event e = {.type = SDL_CLIPBOARDUPDATE};
        SDL_PushEvent(&e);
    }
}

/* Drag and drop is SDL's (it takes no drops either): offers dropped. */
static void device_enter(void *data, struct wl_data_device *dev, uint32_t serial,
                         struct wl_surface *s, wl_fixed_t x, wl_fixed_t y,
                         struct wl_data_offer *o)
{
    if (o)
        offer_free(wl_data_offer_get_user_data(o));
}

static void device_leave(void *data, struct wl_data_device *dev)
{
}

static void device_motion(void *data, struct wl_data_device *dev, uint32_t t, wl_fixed_t x,
                          wl_fixed_t y)
{
}

static void device_drop(void *data, struct wl_data_device *dev)
{
}

static const struct wl_data_device_listener device_listener = {
    .data_offer = device_data_offer,
    .enter = device_enter,
    .leave = device_leave,
    .motion = device_motion,
    .drop = device_drop,
    .selection = device_selection,
};

/* --- the serials of our own keyboard and pointer --- */

static void kb_keymap(void *data, struct wl_keyboard *k, uint32_t format, int fd, uint32_t size)
{
    close(fd);
}

static void claim(void);

static void kb_enter(void *data, struct wl_keyboard *k, uint32_t serial, struct wl_surface *s,
                     struct wl_array *keys)
{
    wl.serial = serial;
    wl.focused = true;
    /* The server's copy that came without the focus: claimed with this
     * serial, as SDL 2.26 did at the next input. No round trip here (we are
     * inside a dispatch): the selection event tells whether it took. */
    if (wl.pending) {
        vd_debug("clipboard: the window has the focus; the server's copy is offered now");
        wl.pending = false;
        wl.reclaiming = true;
        claim();
    }
}

static void kb_leave(void *data, struct wl_keyboard *k, uint32_t serial, struct wl_surface *s)
{
    wl.focused = false;
}

static void kb_key(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t t, uint32_t key,
                   uint32_t state)
{
    wl.serial = serial;
}

static void kb_modifiers(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t dep,
                         uint32_t lat, uint32_t lock, uint32_t group)
{
}

static const struct wl_keyboard_listener keyboard_listener = {
    .keymap = kb_keymap,
    .enter = kb_enter,
    .leave = kb_leave,
    .key = kb_key,
    .modifiers = kb_modifiers,
};

static void ptr_enter(void *data, struct wl_pointer *p, uint32_t serial, struct wl_surface *s,
                      wl_fixed_t x, wl_fixed_t y)
{
}

static void ptr_leave(void *data, struct wl_pointer *p, uint32_t serial, struct wl_surface *s)
{
}

static void ptr_motion(void *data, struct wl_pointer *p, uint32_t t, wl_fixed_t x, wl_fixed_t y)
{
}

static void ptr_button(void *data, struct wl_pointer *p, uint32_t serial, uint32_t t,
                       uint32_t button, uint32_t state)
{
    wl.serial = serial;
}

static void ptr_axis(void *data, struct wl_pointer *p, uint32_t t, uint32_t axis, wl_fixed_t v)
{
}

static const struct wl_pointer_listener pointer_listener = {
    .enter = ptr_enter,
    .leave = ptr_leave,
    .motion = ptr_motion,
    .button = ptr_button,
    .axis = ptr_axis,
};

static void seat_capabilities(void *data, struct wl_seat *seat, uint32_t caps)
{
    if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && !wl.keyboard) {
        wl.keyboard = wl_seat_get_keyboard(seat);
        wl_keyboard_add_listener(wl.keyboard, &keyboard_listener, NULL);
    }
    if ((caps & WL_SEAT_CAPABILITY_POINTER) && !wl.pointer) {
        wl.pointer = wl_seat_get_pointer(seat);
        wl_pointer_add_listener(wl.pointer, &pointer_listener, NULL);
    }
}

/* Version 1 of wl_seat sends no name. */
static const struct wl_seat_listener seat_listener = {.capabilities = seat_capabilities};

static void registry_global(void *data, struct wl_registry *r, uint32_t name,
                            const char *iface, uint32_t version)
{
    /* Version 1 of each: no event we would have to ignore. The first seat
     * is the one SDL 2.26 uses. */
    if (!strcmp(iface, wl_seat_interface.name) && !wl.seat) {
        wl.seat = wl_registry_bind(r, name, &wl_seat_interface, 1);
        wl_seat_add_listener(wl.seat, &seat_listener, NULL);
    } else if (!strcmp(iface, wl_data_device_manager_interface.name) && !wl.manager) {
        wl.manager = wl_registry_bind(r, name, &wl_data_device_manager_interface, 1);
    }
}

static void registry_remove(void *data, struct wl_registry *r, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = registry_global,
    .global_remove = registry_remove,
};

void host_clipboard_use_window(struct SDL_Window *win)
{
    if (wl.tried)
        return;
    wl.tried = true;
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    if (!SDL_GetWindowWMInfo(win, &info) || info.subsystem != SDL_SYSWM_WAYLAND)
        return;
    struct wl_display *display = info.info.wl.display;
    wl.queue = wl_display_create_queue(display);
    struct wl_display *wrapper = wl_proxy_create_wrapper(display);
    wl_proxy_set_queue((struct wl_proxy *)wrapper, wl.queue);
    wl.registry = wl_display_get_registry(wrapper);
    wl_proxy_wrapper_destroy(wrapper);
    wl_registry_add_listener(wl.registry, &registry_listener, NULL);
    /* The globals, then the seat's capabilities. */
    if (wl_display_roundtrip_queue(display, wl.queue) < 0 || !wl.seat || !wl.manager ||
        wl_display_roundtrip_queue(display, wl.queue) < 0) {
        vd_debug("clipboard: the compositor offers no seat or data device; files and pictures "
                 "are not passed on");
        return;
    }
    wl.device = wl_data_device_manager_get_data_device(wl.manager, wl.seat);
    wl_data_device_add_listener(wl.device, &device_listener, NULL);
    wl.marker = g_strdup_printf("application/x-vmdesk-offer;pid=%d", (int)getpid());
    wl.display = display;
    vd_debug("clipboard: files and pictures through a data device of vmdesk's");
}

bool host_clipboard_wl_ready(void)
{
    return wl.display != NULL;
}

/* Read what the compositor sent (SDL's events stay queued for SDL) and
 * run our listeners. Never blocks. */
static void pump(void)
{
    while (wl_display_prepare_read_queue(wl.display, wl.queue) != 0)
        wl_display_dispatch_queue_pending(wl.display, wl.queue);
    wl_display_flush(wl.display);
    struct pollfd p = {.fd = wl_display_get_fd(wl.display), .events = POLLIN};
    if (poll(&p, 1, 0) > 0)
        wl_display_read_events(wl.display);
    else
        wl_display_cancel_read(wl.display);
    wl_display_dispatch_queue_pending(wl.display, wl.queue);
}

/* --- reading --- */

static void read_stop(void)
{
    if (wl.read_fd >= 0)
        close(wl.read_fd);
    wl.read_fd = -1;
    g_clear_pointer(&wl.read_buf, g_byte_array_unref);
}

static bool ask(HostClipboardKind kind)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        vd_warn("clipboard: cannot make a pipe: %s", g_strerror(errno));
        return false;
    }
    vd_debug("clipboard: reading the host's %s", host_clipboard_mime[kind]);
    wl_data_offer_receive(wl.selection->offer, host_clipboard_mime[kind], fds[1]);
    wl_display_flush(wl.display);
    close(fds[1]);
    wl.read_fd = fds[0];
    wl.read_kind = kind;
    wl.read_buf = g_byte_array_new();
    wl.asked_at = g_get_monotonic_time();
    return true;
}

/* The answer to the read going on if it is complete within @wait_ms. */
static HostClipboardResult harvest(int wait_ms, HostClipboardData *out)
{
    gint64 start = g_get_monotonic_time();
    gint64 end = start + (gint64)wait_ms * 1000;
    gint64 busy_end = start + (gint64)MAX(wait_ms, READ_SLICE_MS) * 1000;
    guint8 buf[65536];
    for (;;) {
        ssize_t n = read(wl.read_fd, buf, sizeof(buf));
        if (n > 0) {
            guint64 max = wl.read_kind == HC_KIND_TEXT ? TEXT_READ_MAX : READ_MAX;
            if (wl.read_buf->len + (guint64)n > max) {
                vd_warn("clipboard: the host's copy is larger than %u MiB; not passed on",
                        (unsigned)(max >> 20));
                read_stop();
                return HOST_CLIPBOARD_NONE;
            }
            g_byte_array_append(wl.read_buf, buf, (guint)n);
            /* An owner that writes on and on: the rest is a later call's. */
            if (g_get_monotonic_time() >= busy_end)
                return HOST_CLIPBOARD_WAITING;
            continue;
        }
        if (n == 0) { /* the owner closed: all there */
            vd_debug("clipboard: the host's %s: %u bytes", host_clipboard_mime[wl.read_kind],
                     wl.read_buf->len);
            if (wl.read_kind == HC_KIND_TEXT) {
                /* Empty: weston's and wlroots' dead offer (or an empty copy). */
                HostClipboardResult r = HOST_CLIPBOARD_TEXT;
                if (wl.read_buf->len)
                    out->text = g_utf8_make_valid((const char *)wl.read_buf->data,
                                                  (gssize)wl.read_buf->len);
                else
                    r = host_clipboard_sdl_text(out);
                read_stop();
                return r;
            }
            g_autoptr(GError) err = NULL;
            HostClipboardResult r = host_clipboard_decode(wl.read_kind, wl.read_buf->data,
                                                          wl.read_buf->len, out, &err);
            read_stop();
            if (r == HOST_CLIPBOARD_NONE) {
                vd_debug("clipboard: %s; its text is taken instead", err->message);
                return host_clipboard_sdl_text(out);
            }
            return r;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            vd_debug("clipboard: reading the host's copy failed: %s", g_strerror(errno));
            read_stop();
            return HOST_CLIPBOARD_NONE;
        }
        gint64 left = (end - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            return HOST_CLIPBOARD_WAITING;
        struct pollfd p = {.fd = wl.read_fd, .events = POLLIN};
        poll(&p, 1, (int)left);
    }
}

HostClipboardResult host_clipboard_wl_read_any(HostClipboardData *out)
{
    pump();
    HostClipboardResult r = host_clipboard_take_late(&wl.late, &wl.late_result, out);
    if (r != HOST_CLIPBOARD_WAITING)
        return r;
    if (wl.read_fd >= 0) {
        r = harvest(0, out);
        if (r != HOST_CLIPBOARD_WAITING)
            return r;
        if (g_get_monotonic_time() - wl.asked_at < GIVE_UP_MS * 1000LL)
            return HOST_CLIPBOARD_WAITING; /* a slow or hung owner: no second request */
        vd_debug("clipboard: the owner never answered; asking again");
        read_stop();
    }
    if (!wl.selection || offer_has(wl.selection, wl.marker))
        return HOST_CLIPBOARD_NONE; /* nothing, or what the server gave us */
    for (HostClipboardKind k = 0; k <= HC_KIND_TEXT; k++)
        if (offer_has(wl.selection, host_clipboard_mime[k]))
            return ask(k) ? harvest(ANSWER_WAIT_MS, out) : HOST_CLIPBOARD_NONE;
    return host_clipboard_sdl_text(out);
}

/* --- owning --- */

static void send_free(Send *s)
{
    close(s->fd);
    g_bytes_unref(s->data);
    g_free(s);
}

static void drop_offer(void)
{
    g_clear_pointer(&wl.source, wl_data_source_destroy);
    g_clear_pointer(&wl.paths, g_strfreev);
    g_clear_pointer(&wl.png, g_bytes_unref);
    g_clear_pointer(&wl.text, g_bytes_unref);
    wl.pending = false;
    wl.reclaiming = false;
}

static void source_target(void *data, struct wl_data_source *src, const char *type)
{
}

/* A program pastes: its pipe gets our bytes as dispatch() can write them. */
static void source_send(void *data, struct wl_data_source *src, const char *type, int fd)
{
    vd_debug("clipboard: a program pastes our %s", type);
    GBytes *bytes = NULL;
    if (wl.text && is_text_type(type))
        bytes = g_bytes_ref(wl.text);
    for (HostClipboardKind k = 0; k < HC_KIND_N && !bytes; k++)
        if (k == HC_KIND_TEXT ? is_text_type(type) : !strcmp(type, host_clipboard_mime[k]))
            bytes = host_clipboard_encode((const char *const *)wl.paths, wl.png, k);
    if (!bytes || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        close(fd);
        if (bytes)
            g_bytes_unref(bytes);
        return;
    }
    Send *s = g_new0(Send, 1);
    s->fd = fd;
    s->data = bytes;
    s->active_at = g_get_monotonic_time();
    wl.sends = g_slist_append(wl.sends, s);
}

/* Another program (or SDL, for the server's text) copied: sends going on
 * finish. */
static void source_cancelled(void *data, struct wl_data_source *src)
{
    if (wl.claiming) { /* claim() decides */
        g_clear_pointer(&wl.source, wl_data_source_destroy);
        wl.refused = true;
        return;
    }
    vd_debug("clipboard: another program copied; our offer ends");
    drop_offer();
}

static const struct wl_data_source_listener source_listener = {
    .target = source_target,
    .send = source_send,
    .cancelled = source_cancelled,
};

/* Claim the clipboard for the offer in wl (a new source, our serial). */
static void claim(void)
{
    wl.source = wl_data_device_manager_create_data_source(wl.manager);
    wl_data_source_add_listener(wl.source, &source_listener, NULL);
    for (HostClipboardKind k = 0; k < HC_KIND_TEXT && wl.paths; k++)
        if (k != HC_KIND_PNG)
            wl_data_source_offer(wl.source, host_clipboard_mime[k]);
    if (wl.png)
        wl_data_source_offer(wl.source, host_clipboard_mime[HC_KIND_PNG]);
    for (size_t i = 0; i < G_N_ELEMENTS(text_types) && (wl.paths || wl.text); i++)
        wl_data_source_offer(wl.source, text_types[i]);
    wl_data_source_offer(wl.source, wl.marker);
    wl_data_device_set_selection(wl.device, wl.source, wl.serial);
}

bool host_clipboard_wl_offer(const char *const *paths, GBytes *png, const char *text)
{
    pump();
    drop_offer();
    wl.paths = paths ? g_strdupv((char **)paths) : NULL;
    wl.png = png ? g_bytes_ref(png) : NULL;
    wl.text = text ? g_bytes_new(text, strlen(text)) : NULL;
    /* The compositor takes a claim with a serial newer than the current
     * selection's (weston), or only from the focused client (mutter): with
     * the focus, our own offer comes back at once if it took it. */
    wl.claiming = true;
    wl.refused = false;
    claim();
    wl_display_roundtrip_queue(wl.display, wl.queue);
    wl.claiming = false;
    if (wl.source && wl.focused && !offer_has(wl.selection, wl.marker)) {
        vd_warn("clipboard: the compositor did not let vmdesk take the clipboard; the "
                "server's copy is not offered");
        drop_offer();
    } else if (wl.refused && !wl.focused) {
        vd_debug("clipboard: the window has no keyboard focus and the compositor refused the "
                 "server's copy (mutter lets only the focused client copy); it is offered "
                 "when the window gets the focus");
        wl.pending = true;
        return true;
    } else if (wl.refused) {
        drop_offer();
    }
    return wl.source != NULL;
}

bool host_clipboard_wl_offering(void)
{
    return wl.source != NULL;
}

/* Write what @s's pipe takes now: 1 when all is written, 0 when it takes
 * more later, -1 when the reader went away. A reader that closed its end
 * early raises SIGPIPE, which would end vmdesk: it is blocked for the write
 * and a pending one taken away. */
static int send_some(Send *s, gint64 now)
{
    gsize len = 0;
    const guint8 *p = g_bytes_get_data(s->data, &len);
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    int st = 1;
    while (s->sent < len) {
        ssize_t n = write(s->fd, p + s->sent, len - s->sent);
        if (n > 0) {
            s->sent += (gsize)n;
            s->active_at = now;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            st = n < 0 && errno == EAGAIN ? 0 : -1;
            break;
        }
    }
    if (st < 0) {
        const struct timespec zero = {0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return st;
}

void host_clipboard_wl_dispatch(void)
{
    if (!wl.display)
        return;
    pump();
    if (wl.read_fd >= 0) { /* a late answer: the next read takes it */
        HostClipboardData out = {0};
        HostClipboardResult r = harvest(0, &out);
        if (r != HOST_CLIPBOARD_WAITING)
            host_clipboard_keep_late(&wl.late, &wl.late_result, &out, r);
    }
    gint64 end = g_get_monotonic_time() + DISPATCH_MAX_MS * 1000;
    for (;;) {
        gint64 now = g_get_monotonic_time();
        struct pollfd fds[16];
        nfds_t n = 0;
        for (GSList *l = wl.sends, *next; l; l = next) {
            next = l->next;
            Send *s = l->data;
            int st = send_some(s, now);
            bool idle = st == 0 && now - s->active_at > SEND_IDLE_MS * 1000LL;
            if (st != 0 || idle) {
                if (st < 0 || idle)
                    vd_debug("clipboard: a program stopped taking our copy; dropped");
                wl.sends = g_slist_remove(wl.sends, s);
                send_free(s);
            } else if (n < G_N_ELEMENTS(fds)) {
                fds[n++] = (struct pollfd){.fd = s->fd, .events = POLLOUT};
            }
        }
        /* Keep a large copy flowing, up to DISPATCH_MAX_MS. */
        if (!n || now >= end)
            return;
        poll(fds, n, (int)((end - now) / 1000) + 1);
    }
}
