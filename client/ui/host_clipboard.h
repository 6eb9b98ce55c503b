/* The host's clipboard text, read without ever taking the clipboard.
 *
 * SDL 2.26's X11 getter waits 1 s for the clipboard's owner and then takes
 * the clipboard itself, empty: polled while a program hangs, it would wipe
 * the user's copy. On X11 this asks the owner on a connection of its own and
 * never waits long: an owner that has not answered within 100 ms is asked
 * no more until it answers (or 10 s passed), and its answer is taken by a
 * later call. Elsewhere (Wayland) SDL's getter is used. Main thread only. */
#pragma once

typedef enum {
    HOST_CLIPBOARD_TEXT,    /* *text holds the text (UTF-8; the caller frees it) */
    HOST_CLIPBOARD_NONE,    /* no text on the clipboard */
    HOST_CLIPBOARD_WAITING, /* the owner has not answered yet: ask again later */
} HostClipboardResult;

HostClipboardResult host_clipboard_read(char **text);
