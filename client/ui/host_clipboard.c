#include "ui/host_clipboard.h"

#include "common/error.h"
#include "common/log.h"
#include "session/clip_files.h"
#include "ui/host_clipboard_priv.h"

#include <SDL.h>
#include <poll.h>
#include <string.h>

/* How long a call waits for the owner's answer before leaving the request
 * pending for a later call, and when a request nobody answered is given
 * up (a new one may then go). */
#define ANSWER_WAIT_MS 100
#define GIVE_UP_MS 10000
/* The most a picture read in INCR chunks may grow to. */
#define INCR_READ_MAX (256u << 20)

HostClipboardX hc = {.late_result = HOST_CLIPBOARD_WAITING};

const char *const host_clipboard_mime[HC_KIND_N] = {
    [HC_KIND_GNOME_FILES] = "x-special/gnome-copied-files",
    [HC_KIND_URI_LIST] = "text/uri-list",
    [HC_KIND_PNG] = "image/png",
    [HC_KIND_TEXT] = "text/plain;charset=utf-8",
};

GBytes *host_clipboard_encode(const char *const *paths, GBytes *png, HostClipboardKind kind)
{
    if (kind == HC_KIND_PNG)
        return png ? g_bytes_ref(png) : NULL;
    if (!paths)
        return NULL;
    char *s = kind == HC_KIND_TEXT ? g_strjoinv("\n", (char **)paths)
                                   : clip_files_to_uri_list(paths, kind == HC_KIND_GNOME_FILES);
    return g_bytes_new_take(s, strlen(s));
}

HostClipboardResult host_clipboard_decode(HostClipboardKind kind, const void *data, size_t n,
                                          HostClipboardData *out, GError **error)
{
    if (!n) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the host's clipboard gave no data");
        return HOST_CLIPBOARD_NONE;
    }
    if (kind == HC_KIND_PNG) {
        out->png = g_bytes_new(data, n);
        return HOST_CLIPBOARD_PNG;
    }
    out->paths = clip_files_from_uri_list(data, n, kind == HC_KIND_GNOME_FILES, error);
    return out->paths ? HOST_CLIPBOARD_FILES : HOST_CLIPBOARD_NONE;
}

void host_clipboard_keep_late(HostClipboardData *late, HostClipboardResult *result,
                              HostClipboardData *got, HostClipboardResult r)
{
    host_clipboard_data_clear(late);
    *late = *got;
    *result = r;
}

HostClipboardResult host_clipboard_take_late(HostClipboardData *late,
                                             HostClipboardResult *result,
                                             HostClipboardData *out)
{
    HostClipboardResult r = *result;
    if (r != HOST_CLIPBOARD_WAITING) {
        *out = *late;
        memset(late, 0, sizeof(*late));
        *result = HOST_CLIPBOARD_WAITING;
    }
    return r;
}

HostClipboardResult host_clipboard_sdl_text(HostClipboardData *out)
{
    if (!SDL_HasClipboardText())
        return HOST_CLIPBOARD_NONE;
    char *t = SDL_GetClipboardText();
    out->text = t ? g_strdup(t) : NULL;
    SDL_free(t);
    return out->text ? HOST_CLIPBOARD_TEXT : HOST_CLIPBOARD_NONE;
}

static void open_x(void)
{
    hc.tried = true;
    const char *driver = SDL_GetCurrentVideoDriver();
    if (!driver || strcmp(driver, "x11") != 0)
        return;
    hc.d = XOpenDisplay(NULL);
    if (!hc.d) {
        vd_debug("clipboard: cannot open the X display; SDL's getter is used");
        return;
    }
    XSetWindowAttributes attrs = {.event_mask = PropertyChangeMask};
    hc.win = XCreateWindow(hc.d, DefaultRootWindow(hc.d), 0, 0, 1, 1, 0, CopyFromParent,
                           InputOnly, CopyFromParent, CWEventMask, &attrs);
    hc.clipboard = XInternAtom(hc.d, "CLIPBOARD", False);
    hc.utf8 = XInternAtom(hc.d, "UTF8_STRING", False);
    hc.prop = XInternAtom(hc.d, "VMDESK_CLIPBOARD", False);
    hc.incr = XInternAtom(hc.d, "INCR", False);
    hc.targets = XInternAtom(hc.d, "TARGETS", False);
    hc.uri_list = XInternAtom(hc.d, host_clipboard_mime[HC_KIND_URI_LIST], False);
    hc.gnome_files = XInternAtom(hc.d, host_clipboard_mime[HC_KIND_GNOME_FILES], False);
    hc.png = XInternAtom(hc.d, host_clipboard_mime[HC_KIND_PNG], False);
    hc.timestamp = XInternAtom(hc.d, "TIMESTAMP", False);
}

bool host_clipboard_x_open(void)
{
    if (!hc.tried)
        open_x();
    return hc.d != NULL;
}

void host_clipboard_data_clear(HostClipboardData *d)
{
    g_clear_pointer(&d->text, g_free);
    g_clear_pointer(&d->paths, g_strfreev);
    g_clear_pointer(&d->png, g_bytes_unref);
}

static void ask(Atom target)
{
    XConvertSelection(hc.d, hc.clipboard, target, hc.prop, hc.win, CurrentTime);
    XFlush(hc.d);
    hc.pending = true;
    hc.target = target;
    hc.asked_at = g_get_monotonic_time();
}

/* The richest target of a TARGETS answer we take. */
static Atom pick_target(const Atom *atoms, unsigned long n)
{
    const Atom order[] = {hc.gnome_files, hc.uri_list, hc.png, hc.utf8, XA_STRING};
    for (size_t o = 0; o < G_N_ELEMENTS(order); o++)
        for (unsigned long i = 0; i < n; i++)
            if (atoms[i] == order[o])
                return order[o];
    return None;
}

/* What the bytes of an answer for hc.target are. */
static HostClipboardResult take_bytes(Atom type, int format, const unsigned char *data,
                                      unsigned long n, HostClipboardData *out)
{
    if (format != 8)
        return HOST_CLIPBOARD_NONE;
    if (hc.target == hc.gnome_files || hc.target == hc.uri_list || hc.target == hc.png) {
        HostClipboardKind kind = hc.target == hc.png           ? HC_KIND_PNG
                                 : hc.target == hc.gnome_files ? HC_KIND_GNOME_FILES
                                                               : HC_KIND_URI_LIST;
        g_autoptr(GError) err = NULL;
        HostClipboardResult r = host_clipboard_decode(kind, data, n, out, &err);
        if (r != HOST_CLIPBOARD_NONE)
            return r;
        vd_debug("clipboard: %s; its text is taken instead", err->message);
        ask(hc.utf8);
        return HOST_CLIPBOARD_WAITING;
    }
    if (type == hc.utf8) {
        out->text = g_utf8_make_valid((const char *)data, (gssize)n);
        return HOST_CLIPBOARD_TEXT;
    }
    if (type == XA_STRING) {
        out->text = g_convert((const char *)data, (gssize)n, "UTF-8", "ISO-8859-1", NULL, NULL,
                              NULL);
        return out->text ? HOST_CLIPBOARD_TEXT : HOST_CLIPBOARD_NONE;
    }
    return HOST_CLIPBOARD_NONE;
}

/* The answer @ev to our request; may ask again (the chosen target, or
 * Latin-1 text) or start an INCR read. */
static HostClipboardResult take_answer(const XSelectionEvent *ev, HostClipboardData *out)
{
    hc.pending = false;
    if (ev->property == None) {
        if (hc.target == hc.targets) { /* no TARGETS: an old program, text only */
            ask(hc.utf8);
            return HOST_CLIPBOARD_WAITING;
        }
        if (hc.target == hc.utf8) { /* an old program: Latin-1 STRING only */
            ask(XA_STRING);
            return HOST_CLIPBOARD_WAITING;
        }
        return HOST_CLIPBOARD_NONE;
    }
    Atom type;
    int format;
    unsigned long n, after;
    unsigned char *data = NULL;
    HostClipboardResult r = HOST_CLIPBOARD_NONE;
    if (XGetWindowProperty(hc.d, hc.win, hc.prop, 0, G_MAXINT / 4, True, AnyPropertyType, &type,
                           &format, &n, &after, &data) != Success || !data)
        return r;
    if (hc.target == hc.targets) {
        Atom t = format == 32 ? pick_target((const Atom *)data, n) : None;
        XFree(data);
        if (t == None)
            return HOST_CLIPBOARD_NONE;
        ask(t);
        return HOST_CLIPBOARD_WAITING;
    }
    if (type == hc.incr) {
        /* Deleting the property (done) asks the owner for the first chunk. */
        XFree(data);
        if (hc.target != hc.png) {
            vd_debug("clipboard: the host's text is too large (INCR); not passed on");
            return HOST_CLIPBOARD_NONE;
        }
        hc.incr_buf = g_byte_array_new();
        hc.pending = true;
        hc.asked_at = g_get_monotonic_time();
        return HOST_CLIPBOARD_WAITING;
    }
    r = take_bytes(type, format, data, n, out);
    XFree(data);
    return r;
}

/* One chunk of an INCR read (PropertyNotify NewValue on our property). */
static HostClipboardResult take_chunk(HostClipboardData *out)
{
    Atom type;
    int format;
    unsigned long n, after;
    unsigned char *data = NULL;
    if (XGetWindowProperty(hc.d, hc.win, hc.prop, 0, G_MAXINT / 4, True, AnyPropertyType, &type,
                           &format, &n, &after, &data) != Success)
        return HOST_CLIPBOARD_WAITING;
    hc.asked_at = g_get_monotonic_time();
    HostClipboardResult r = HOST_CLIPBOARD_WAITING;
    if (n == 0) { /* the end */
        hc.pending = false;
        out->png = g_byte_array_free_to_bytes(g_steal_pointer(&hc.incr_buf));
        r = HOST_CLIPBOARD_PNG;
    } else if (hc.incr_buf->len + (guint64)n > INCR_READ_MAX) {
        vd_warn("clipboard: the host's picture is larger than %u MiB; not passed on",
                INCR_READ_MAX >> 20);
        g_clear_pointer(&hc.incr_buf, g_byte_array_unref);
        hc.pending = false;
        r = HOST_CLIPBOARD_NONE;
    } else {
        g_byte_array_append(hc.incr_buf, data, (guint)n);
    }
    if (data)
        XFree(data);
    return r;
}

HostClipboardResult host_clipboard_x_event(XEvent *ev, HostClipboardData *out)
{
    if (ev->type == SelectionNotify && ev->xselection.requestor == hc.win && hc.pending &&
        !hc.incr_buf)
        return take_answer(&ev->xselection, out);
    if (ev->type == PropertyNotify && ev->xproperty.window == hc.win &&
        ev->xproperty.atom == hc.prop && ev->xproperty.state == PropertyNewValue && hc.incr_buf)
        return take_chunk(out);
    host_clipboard_owner_event(ev);
    return HOST_CLIPBOARD_WAITING;
}

/* The answer to the pending request if it is there within @wait_ms (an
 * INCR read going on gets up to 1 s more). */
static HostClipboardResult harvest(int wait_ms, HostClipboardData *out)
{
    gint64 end = g_get_monotonic_time() + (gint64)wait_ms * 1000;
    gint64 incr_end = g_get_monotonic_time() + G_USEC_PER_SEC;
    for (;;) {
        while (XPending(hc.d)) {
            XEvent ev;
            XNextEvent(hc.d, &ev);
            HostClipboardResult r = host_clipboard_x_event(&ev, out);
            if (r != HOST_CLIPBOARD_WAITING)
                return r;
        }
        if (!hc.pending)
            return HOST_CLIPBOARD_NONE;
        gint64 left = ((hc.incr_buf ? incr_end : end) - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            return HOST_CLIPBOARD_WAITING;
        struct pollfd p = {.fd = ConnectionNumber(hc.d), .events = POLLIN};
        poll(&p, 1, (int)left);
    }
}

HostClipboardResult host_clipboard_read_any(HostClipboardData *out)
{
    memset(out, 0, sizeof(*out));
    if (!host_clipboard_x_open())
        return host_clipboard_wl_ready() ? host_clipboard_wl_read_any(out)
                                         : host_clipboard_sdl_text(out);
    HostClipboardResult r = host_clipboard_take_late(&hc.late, &hc.late_result, out);
    if (r != HOST_CLIPBOARD_WAITING)
        return r;
    if (hc.pending) {
        r = harvest(0, out);
        if (r != HOST_CLIPBOARD_WAITING)
            return r;
        if (g_get_monotonic_time() - hc.asked_at < GIVE_UP_MS * 1000LL)
            return HOST_CLIPBOARD_WAITING; /* a slow or hung owner: no second request */
        vd_debug("clipboard: the owner never answered; asking again");
        hc.pending = false;
        g_clear_pointer(&hc.incr_buf, g_byte_array_unref);
    }
    Window owner = XGetSelectionOwner(hc.d, hc.clipboard);
    if (owner == None || owner == hc.win)
        return HOST_CLIPBOARD_NONE; /* nothing, or what the server gave us */
    ask(hc.targets);
    return harvest(ANSWER_WAIT_MS, out);
}

HostClipboardResult host_clipboard_read(char **text)
{
    HostClipboardData d;
    HostClipboardResult r = host_clipboard_read_any(&d);
    *text = NULL;
    if (r == HOST_CLIPBOARD_TEXT) {
        *text = g_steal_pointer(&d.text);
    } else if (r == HOST_CLIPBOARD_FILES) {
        *text = g_strjoinv("\n", d.paths);
        r = HOST_CLIPBOARD_TEXT;
    } else if (r == HOST_CLIPBOARD_PNG) {
        r = HOST_CLIPBOARD_NONE;
    }
    host_clipboard_data_clear(&d);
    return r;
}
