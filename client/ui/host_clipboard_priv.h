/* What host_clipboard.c (reading) and host_clipboard_own.c (owning) share:
 * one X connection of their own, its atoms, and the event router. Main
 * thread only. */
#pragma once

#include "ui/host_clipboard.h"

#include <X11/Xatom.h>
#include <X11/Xlib.h>

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
