/* The host's clipboard: read without ever taking it, and owned by vmdesk
 * for what the server copied that SDL cannot hold (files, pictures).
 *
 * SDL 2.26's X11 getter waits 1 s for the clipboard's owner and then takes
 * the clipboard itself, empty: polled while a program hangs, it would wipe
 * the user's copy. On X11 this asks the owner on a connection of its own and
 * never waits long: an owner that has not answered within 100 ms is asked
 * no more until it answers (or 10 s passed), and its answer is taken by a
 * later call. It asks for TARGETS first and takes, richest first, a file
 * list (x-special/gnome-copied-files, text/uri-list: Nautilus, Thunar,
 * Dolphin), a picture (image/png, large ones in INCR chunks) or text.
 * On Wayland (host_clipboard_use_window) everything, text too, goes
 * through a data device of vmdesk's on SDL's connection (mutter serves only
 * a client's newest device), with SDL's getter where the compositor answers
 * only SDL's offer (weston, wlroots); without either, SDL's getter, for text
 * only. Main thread only. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef enum {
    HOST_CLIPBOARD_TEXT,    /* the text is there (UTF-8) */
    HOST_CLIPBOARD_NONE,    /* nothing we take, or vmdesk's own offer */
    HOST_CLIPBOARD_WAITING, /* the owner has not answered yet: ask again later */
    HOST_CLIPBOARD_FILES,   /* files copied in a file manager: their local paths */
    HOST_CLIPBOARD_PNG,     /* a picture: image/png bytes */
} HostClipboardResult;

struct SDL_Window;

/* On a Wayland desktop, pass files and pictures through the Wayland
 * connection of SDL's window @win (any window: the connection is SDL's,
 * one for all). Once per process, after the first window is made; does
 * nothing on X11 or when the compositor has no seat or data device. */
void host_clipboard_use_window(struct SDL_Window *win);

/* What a read gave; host_clipboard_data_clear frees it. */
typedef struct {
    char *text;   /* TEXT */
    char **paths; /* FILES: absolute paths on this host, NULL-terminated */
    GBytes *png;  /* PNG */
} HostClipboardData;

/* The clipboard's content, the richest kind it offers. */
HostClipboardResult host_clipboard_read_any(HostClipboardData *out);
void host_clipboard_data_clear(HostClipboardData *d);

/* Text only: a file list reads as its paths, one a line; a picture as NONE.
 * *@text is the caller's to free. */
HostClipboardResult host_clipboard_read(char **text);

/* Make vmdesk the owner of the host's CLIPBOARD, offering the files at the
 * absolute @paths (text/uri-list, x-special/gnome-copied-files, and their
 * paths as text), or the PNG @png (image/png). They are served until
 * another program copies something, or vmdesk offers something else. False
 * when there is neither an X display nor a Wayland connection
 * (host_clipboard_use_window), or the display refused (another program
 * took the clipboard at once; a compositor refusing the claim). Does not
 * take @paths / @png (copies / refs them). */
bool host_clipboard_offer_files(const char *const *paths);
bool host_clipboard_offer_png(GBytes *png);
/* Make the server's @text (UTF-8) the host's clipboard text: through
 * SDL on X11 (SDL_SetClipboardText), through vmdesk's data device on
 * Wayland, with the serial of the window's latest keyboard focus, key or
 * click (SDL 2.26 would wait for a typed character or a click, and mutter
 * hears only vmdesk's device). False when the display refused it (on
 * Wayland: mutter lets only the focused client copy). Empty text offers
 * nothing there. */
bool host_clipboard_offer_text(const char *text);
/* Whether vmdesk still owns the clipboard with such an offer. */
bool host_clipboard_offering(void);

/* Serve other programs' requests for what vmdesk offers: called by each
 * window's main loop every turn (it never blocks longer than a large
 * picture's chunks take to be taken, at most 200 ms). */
void host_clipboard_dispatch(void);
