/* vmdesk as the owner of the host's CLIPBOARD, for what SDL cannot offer:
 * the server's files (staged on this host) and pictures. Requests are
 * answered from host_clipboard_dispatch(); data larger than CHUNK goes in
 * INCR chunks (ICCCM 2.7.2), each sent when the requestor deleted the last. */
#include "common/log.h"
#include "session/clip_files.h"
#include "ui/host_clipboard_priv.h"

#include <SDL.h>
#include <poll.h>
#include <string.h>

#define CHUNK (256 * 1024)
/* An INCR transfer whose requestor took nothing for this long is dropped. */
#define INCR_IDLE_MS 10000
#define DISPATCH_MAX_MS 200

typedef struct {
    Window requestor;
    Atom property, type;
    GBytes *data;
    gsize sent;
    gint64 active_at;
} Transfer;

static struct {
    bool owned;
    Time since;
    char **paths;
    GBytes *png;
    GSList *transfers; /* Transfer *, INCR going on */
} own;

static void transfer_free(Transfer *t)
{
    g_bytes_unref(t->data);
    g_free(t);
}

static void drop_offer(void)
{
    own.owned = false;
    g_clear_pointer(&own.paths, g_strfreev);
    g_clear_pointer(&own.png, g_bytes_unref);
}

bool host_clipboard_offering(void)
{
    return own.owned || host_clipboard_wl_offering();
}

static Bool is_time_stamp(Display *d, XEvent *ev, XPointer arg)
{
    return ev->type == PropertyNotify && ev->xproperty.window == hc.win &&
           ev->xproperty.atom == hc.timestamp;
}

/* A server time for our claim (ICCCM: never CurrentTime): what a
 * zero-length append to our own window's property reports. */
static Time server_time(void)
{
    XChangeProperty(hc.d, hc.win, hc.timestamp, XA_ATOM, 32, PropModeAppend, NULL, 0);
    XEvent ev;
    XIfEvent(hc.d, &ev, is_time_stamp, NULL); /* other events stay queued */
    return ev.xproperty.time;
}

static bool claim(void)
{
    own.since = server_time();
    XSetSelectionOwner(hc.d, hc.clipboard, hc.win, own.since);
    own.owned = XGetSelectionOwner(hc.d, hc.clipboard) == hc.win;
    if (!own.owned) {
        vd_warn("clipboard: another program holds the host's clipboard; the server's copy is "
                "not offered");
        drop_offer();
    }
    return own.owned;
}

bool host_clipboard_offer_files(const char *const *paths)
{
    if (!host_clipboard_x_open())
        return host_clipboard_wl_ready() && host_clipboard_wl_offer(paths, NULL, NULL);
    drop_offer();
    own.paths = g_strdupv((char **)paths);
    return claim();
}

bool host_clipboard_offer_png(GBytes *png)
{
    if (!host_clipboard_x_open())
        return host_clipboard_wl_ready() && host_clipboard_wl_offer(NULL, png, NULL);
    drop_offer();
    own.png = g_bytes_ref(png);
    return claim();
}

bool host_clipboard_offer_text(const char *text)
{
    if (!host_clipboard_x_open() && host_clipboard_wl_ready())
        return *text && host_clipboard_wl_offer(NULL, NULL, text);
    return SDL_SetClipboardText(text) == 0;
}

/* What we offer as @target, or NULL. */
static GBytes *offer_as(Atom target, Atom *type)
{
    *type = target;
    if (target == hc.png)
        return host_clipboard_encode(NULL, own.png, HC_KIND_PNG);
    if (target == hc.uri_list || target == hc.gnome_files)
        return host_clipboard_encode((const char *const *)own.paths, NULL,
                                     target == hc.gnome_files ? HC_KIND_GNOME_FILES
                                                              : HC_KIND_URI_LIST);
    *type = hc.utf8;
    return target == hc.utf8 || target == XA_STRING
               ? host_clipboard_encode((const char *const *)own.paths, NULL, HC_KIND_TEXT)
               : NULL;
}

static void answer(const XSelectionRequestEvent *req)
{
    XSelectionEvent n = {.type = SelectionNotify,
                         .display = req->display,
                         .requestor = req->requestor,
                         .selection = req->selection,
                         .target = req->target,
                         .property = None,
                         .time = req->time};
    Atom prop = req->property != None ? req->property : req->target; /* ICCCM: obsolete clients */
    if (own.owned && req->selection == hc.clipboard) {
        Atom type;
        g_autoptr(GBytes) data = NULL;
        if (req->target == hc.targets) {
            Atom list[6] = {hc.targets, hc.timestamp};
            int n_atoms = 2;
            if (own.paths) {
                list[n_atoms++] = hc.gnome_files;
                list[n_atoms++] = hc.uri_list;
                list[n_atoms++] = hc.utf8;
            }
            if (own.png)
                list[n_atoms++] = hc.png;
            XChangeProperty(hc.d, req->requestor, prop, XA_ATOM, 32, PropModeReplace,
                            (const unsigned char *)list, n_atoms);
            n.property = prop;
        } else if (req->target == hc.timestamp) {
            long t = (long)own.since;
            XChangeProperty(hc.d, req->requestor, prop, XA_INTEGER, 32, PropModeReplace,
                            (const unsigned char *)&t, 1);
            n.property = prop;
        } else if ((data = offer_as(req->target, &type))) {
            gsize len = g_bytes_get_size(data);
            if (len <= CHUNK) {
                XChangeProperty(hc.d, req->requestor, prop, type, 8, PropModeReplace,
                                g_bytes_get_data(data, NULL), (int)len);
            } else {
                /* INCR: the size first; chunks as the requestor deletes. */
                Transfer *t = g_new0(Transfer, 1);
                t->requestor = req->requestor;
                t->property = prop;
                t->type = type;
                t->data = g_steal_pointer(&data);
                t->active_at = g_get_monotonic_time();
                own.transfers = g_slist_prepend(own.transfers, t);
                XSelectInput(hc.d, req->requestor, PropertyChangeMask);
                long size = (long)len;
                XChangeProperty(hc.d, req->requestor, prop, hc.incr, 32, PropModeReplace,
                                (const unsigned char *)&size, 1);
            }
            n.property = prop;
        }
    }
    XSendEvent(hc.d, req->requestor, False, NoEventMask, (XEvent *)&n);
    XFlush(hc.d);
}

/* The requestor deleted the property: the next chunk (an empty one ends). */
static void incr_next(const XPropertyEvent *ev)
{
    for (GSList *l = own.transfers; l; l = l->next) {
        Transfer *t = l->data;
        if (t->requestor != ev->window || t->property != ev->atom)
            continue;
        gsize len = 0;
        const guint8 *p = g_bytes_get_data(t->data, &len);
        gsize n = MIN(len - t->sent, (gsize)CHUNK);
        XChangeProperty(hc.d, t->requestor, t->property, t->type, 8, PropModeReplace, p + t->sent,
                        (int)n);
        XFlush(hc.d);
        t->active_at = g_get_monotonic_time();
        if (n == 0) {
            XSelectInput(hc.d, t->requestor, NoEventMask);
            own.transfers = g_slist_remove(own.transfers, t);
            transfer_free(t);
        } else {
            t->sent += n;
        }
        return;
    }
}

void host_clipboard_owner_event(XEvent *ev)
{
    switch (ev->type) {
    case SelectionRequest:
        answer(&ev->xselectionrequest);
        break;
    case SelectionClear:
        if (ev->xselectionclear.window == hc.win &&
            ev->xselectionclear.selection == hc.clipboard)
            drop_offer(); /* another program copied: INCR transfers finish */
        break;
    case PropertyNotify:
        if (ev->xproperty.state == PropertyDelete && ev->xproperty.window != hc.win)
            incr_next(&ev->xproperty);
        break;
    default:
        break;
    }
}

void host_clipboard_dispatch(void)
{
    if (!hc.d) {
        host_clipboard_wl_dispatch();
        return;
    }
    gint64 end = g_get_monotonic_time() + DISPATCH_MAX_MS * 1000;
    for (;;) {
        while (XPending(hc.d)) {
            XEvent ev;
            XNextEvent(hc.d, &ev);
            HostClipboardData out = {0};
            HostClipboardResult r = host_clipboard_x_event(&ev, &out);
            if (r != HOST_CLIPBOARD_WAITING) /* a late answer: the next read takes it */
                host_clipboard_keep_late(&hc.late, &hc.late_result, &out, r);
        }
        gint64 now = g_get_monotonic_time();
        for (GSList *l = own.transfers, *next; l; l = next) {
            next = l->next;
            Transfer *t = l->data;
            if (now - t->active_at > INCR_IDLE_MS * 1000LL) {
                vd_debug("clipboard: a program stopped taking the picture; dropped");
                own.transfers = g_slist_remove(own.transfers, t);
                transfer_free(t);
            }
        }
        /* Keep a picture's chunks flowing, up to DISPATCH_MAX_MS. */
        if (!own.transfers || now >= end)
            return;
        struct pollfd p = {.fd = ConnectionNumber(hc.d), .events = POLLIN};
        poll(&p, 1, (int)((end - now) / 1000) + 1);
    }
}
