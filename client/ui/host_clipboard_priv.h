/* What host_clipboard.c (reading, and what every back end shares),
 * host_clipboard_own.c (owning on X11) and host_clipboard_wl.c (Wayland)
 * share: the kinds of data and their encoding, one X connection of their
 * own, its atoms, and the event router. Main thread only. */
#pragma once

#include "ui/host_clipboard.h"

#include <X11/Xatom.h>
#include <X11/Xlib.h>

/* What vmdesk reads and offers besides plain text, richest first. */
typedef enum {
    HC_KIND_GNOME_FILES, /* x-special/gnome-copied-files (Nautilus, Thunar) */
    HC_KIND_URI_LIST,    /* text/uri-list */
    HC_KIND_PNG,         /* image/png */
    HC_KIND_TEXT,        /* the paths of offered files, one a line */
    HC_KIND_N,
} HostClipboardKind;

/* Their MIME types, which are also their X11 target names (TEXT: the
 * Wayland one; X11 says UTF8_STRING). */
extern const char *const host_clipboard_mime[HC_KIND_N];

/* The bytes of an offer (the files at @paths, or the picture @png) as
 * @kind; NULL when the offer has no such form. */
GBytes *host_clipboard_encode(const char *const *paths, GBytes *png, HostClipboardKind kind);

/* Take @n bytes the owner gave as @kind (not TEXT): FILES or PNG into
 * *@out, or NONE with @error (a list naming no file on this host). */
HostClipboardResult host_clipboard_decode(HostClipboardKind kind, const void *data, size_t n,
                                          HostClipboardData *out, GError **error);

/* An answer that came between reads (@late of kind *@result, WAITING:
 * none): keep replaces it, take gives it to the next read (WAITING when
 * there is none). */
void host_clipboard_keep_late(HostClipboardData *late, HostClipboardResult *result,
                              HostClipboardData *got, HostClipboardResult r);
HostClipboardResult host_clipboard_take_late(HostClipboardData *late,
                                             HostClipboardResult *result,
                                             HostClipboardData *out);

/* SDL's text getter (what Wayland falls back to where the compositor
 * answers only SDL's offer: weston, wlroots). */
HostClipboardResult host_clipboard_sdl_text(HostClipboardData *out);

/* The Wayland back end (host_clipboard_wl.c), on SDL's own connection:
 * whether host_clipboard_use_window found one, and the reading, owning and
 * serving of host_clipboard.h there. */
bool host_clipboard_wl_ready(void);
HostClipboardResult host_clipboard_wl_read_any(HostClipboardData *out);
bool host_clipboard_wl_offer(const char *const *paths, GBytes *png, const char *text);
bool host_clipboard_wl_offering(void);
void host_clipboard_wl_dispatch(void);

typedef struct {
    bool tried;       /* X11 was looked for */
    Display *d;       /* NULL: not X11 (Wayland): SDL's getter is used */
    Window win;       /* receives answers; owns the clipboard for our offers */
    Atom clipboard, utf8, prop, incr, targets, uri_list, gnome_files, png, timestamp;
    /* Reading. */
    bool pending;          /* a conversion was asked for */
    Atom target;           /* ... of this type */
    gint64 asked_at;       /* ... then, or when its last INCR chunk came */
    GByteArray *incr_buf;  /* an INCR read going on */
    HostClipboardData late;          /* an answer host_clipboard_dispatch() got */
    HostClipboardResult late_result; /* ... of this kind (WAITING: none) */
} HostClipboardX;

extern HostClipboardX hc;

/* Open the connection once (false: no X11). */
bool host_clipboard_x_open(void);
/* Route one event of our connection: reading's answers (the result, or
 * HOST_CLIPBOARD_WAITING for anything else), or the owner's requests. */
HostClipboardResult host_clipboard_x_event(XEvent *ev, HostClipboardData *out);
/* The owner's part of the routing (host_clipboard_own.c). */
void host_clipboard_owner_event(XEvent *ev);
