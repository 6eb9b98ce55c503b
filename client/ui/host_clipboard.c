#include "ui/host_clipboard.h"

#include "common/log.h"

#include <SDL.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <poll.h>
#include <string.h>

/* How long a call waits for the owner's answer before leaving the request
 * pending for a later call, and when a request nobody answered is given
 * up (a new one may then go). */
#define ANSWER_WAIT_MS 100
#define GIVE_UP_MS 10000

/* One reader per process, on its own X connection: SDL's main loop answers
 * for SDL's own window (when the server's text is on the clipboard) while
 * this one waits for nothing. */
static struct {
    bool tried;       /* X11 was looked for */
    Display *d;       /* NULL: not X11 (Wayland): SDL's getter is used */
    Window win;       /* receives the text */
    Atom clipboard, utf8, prop, incr;
    bool pending;     /* a conversion was asked for */
    Atom target;      /* ... of this type */
    gint64 asked_at;
} hc;

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
    hc.win = XCreateWindow(hc.d, DefaultRootWindow(hc.d), 0, 0, 1, 1, 0, CopyFromParent,
                           InputOnly, CopyFromParent, 0, NULL);
    hc.clipboard = XInternAtom(hc.d, "CLIPBOARD", False);
    hc.utf8 = XInternAtom(hc.d, "UTF8_STRING", False);
    hc.prop = XInternAtom(hc.d, "VMDESK_CLIPBOARD", False);
    hc.incr = XInternAtom(hc.d, "INCR", False);
}

static void ask(Atom target)
{
    XConvertSelection(hc.d, hc.clipboard, target, hc.prop, hc.win, CurrentTime);
    XFlush(hc.d);
    hc.pending = true;
    hc.target = target;
    hc.asked_at = g_get_monotonic_time();
}

/* The text of the answer @ev, or NULL; may ask again for Latin-1 text. */
static HostClipboardResult take_answer(const XSelectionEvent *ev, char **text)
{
    hc.pending = false;
    if (ev->property == None) {
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
                           &format, &n, &after, &data) == Success &&
        data) {
        if (type == hc.incr)
            vd_debug("clipboard: the host's text is too large (INCR); not passed on");
        else if (format == 8 && type == hc.utf8) {
            *text = g_utf8_make_valid((const char *)data, (gssize)n);
            r = HOST_CLIPBOARD_TEXT;
        } else if (format == 8 && type == XA_STRING) {
            *text = g_convert((const char *)data, (gssize)n, "UTF-8", "ISO-8859-1", NULL, NULL,
                              NULL);
            r = *text ? HOST_CLIPBOARD_TEXT : HOST_CLIPBOARD_NONE;
        }
        XFree(data);
    }
    return r;
}

/* The answer to the pending request if it is there within @wait_ms. */
static HostClipboardResult harvest(int wait_ms, char **text)
{
    gint64 end = g_get_monotonic_time() + (gint64)wait_ms * 1000;
    for (;;) {
        while (XPending(hc.d)) {
            XEvent ev;
            XNextEvent(hc.d, &ev);
            if (ev.type == SelectionNotify && ev.xselection.requestor == hc.win) {
                HostClipboardResult r = take_answer(&ev.xselection, text);
                if (r != HOST_CLIPBOARD_WAITING)
                    return r;
            }
        }
        gint64 left = (end - g_get_monotonic_time()) / 1000;
        if (left <= 0)
            return HOST_CLIPBOARD_WAITING;
        struct pollfd p = {.fd = ConnectionNumber(hc.d), .events = POLLIN};
        poll(&p, 1, (int)left);
    }
}

HostClipboardResult host_clipboard_read(char **text)
{
    *text = NULL;
    if (!hc.tried)
        open_x();
    if (!hc.d) {
        if (!SDL_HasClipboardText())
            return HOST_CLIPBOARD_NONE;
        char *t = SDL_GetClipboardText();
        *text = t ? g_strdup(t) : NULL;
        SDL_free(t);
        return *text ? HOST_CLIPBOARD_TEXT : HOST_CLIPBOARD_NONE;
    }
    if (hc.pending) {
        HostClipboardResult r = harvest(0, text);
        if (r != HOST_CLIPBOARD_WAITING)
            return r;
        if (g_get_monotonic_time() - hc.asked_at < GIVE_UP_MS * 1000LL)
            return HOST_CLIPBOARD_WAITING; /* a slow or hung owner: no second request */
        vd_debug("clipboard: the owner never answered; asking again");
        hc.pending = false;
    }
    if (XGetSelectionOwner(hc.d, hc.clipboard) == None)
        return HOST_CLIPBOARD_NONE;
    ask(hc.utf8);
    return harvest(ANSWER_WAIT_MS, text);
}
