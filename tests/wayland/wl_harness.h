/* What the Wayland tests share, whichever compositor they run (weston 10 in
 * test_wayland.c, mutter 43 in test_mutter.c): screenshots read from PNG,
 * TigerVNC's Xvnc showing a one-pixel checkerboard, wl-clipboard's wl-copy
 * and wl-paste on a compositor's socket, vmdesk's desktop window on the RDP
 * test server with the clipboard joined. Built on the RDP tests' world
 * (rdp_test_harness.h); test code only, single-threaded callers. */
#pragma once

#include "rdp_test_harness.h"

#include <stdbool.h>

#define WL_VNC_W 640
#define WL_VNC_H 480
#define WL_CONNECT_MS 20000

/* A screenshot: pixels 0xRRGGBB, row after row. */
typedef struct {
    int w, h;
    guint32 *px;
} WlShot;

/* Reads @path (a PNG) and removes it. */
WlShot wl_shot_load(const char *path);
/* Pixels of a one-pixel checkerboard (black or white, both neighbours the
 * other colour): a picture drawn at scale 1 and enlarged has none. */
int wl_checker_pixels(const WlShot *s);
/* The bounding box of the pixels near colour @rgb; false when there are none. */
bool wl_find_colour(const WlShot *s, guint32 rgb, int *x, int *y, int *w, int *h);

/* vmdesk's environment on the compositor at @socket: a private
 * XDG_RUNTIME_DIR, debug output (the video driver), XWayland's @display
 * when given (else no DISPLAY). */
char **wl_env(const char *socket, const char *display, const char *name);

/* Xvnc 640x480 whose root shows a one-pixel checkerboard. */
typedef struct {
    GSubprocess *proc;
    char *display;
    unsigned port;
    char **env; /* X clients on its screen */
} WlXvnc;

void wl_xvnc_start(WlXvnc *x);
void wl_xvnc_stop(WlXvnc *x);
/* `vmdesk connect vnc://` to @x, its output in @log. */
GSubprocess *wl_vmdesk_vnc(WlXvnc *x, char **env, const char *log);
void wl_xvnc_copy(WlXvnc *x, const char *text);
char *wl_xvnc_paste(WlXvnc *x);

/* Waits for @what in the file @log. */
void wl_expect_in_log(const char *log, const char *what, int timeout_ms);

/* wl-paste's text on @socket, or NULL. */
char *wl_paste(const char *socket);
/* wl-paste --type @type's bytes on @socket, or NULL (nothing of that type). */
GBytes *wl_paste_type(const char *socket, const char *type);
/* The same, waited for (20 s; then fails with @s's client log). */
GBytes *wl_wait_paste(const char *socket, RtSession *s, const char *type);
/* wl-copy --foreground serving @text (or, with @file, the file's bytes) as
 * @type (NULL: wl-copy's choice) until it is stopped (a background one
 * would outlive the test). */
GSubprocess *wl_copy(const char *socket, const char *type, const char *text, const char *file);
/* Waits (10 s) until @get(@from) is @want. */
void wl_expect_text(char *(*get)(void *), void *from, const char *want, const char *where);

/* The test server offering @offer (--clipboard-offer), vmdesk's desktop
 * window on it natively on @socket, their clipboards joined. */
void wl_rich_start(const char *socket, RtSession *s, const char *name, const char *offer);
/* SHA-256 of @path's bytes (hex), its length in @len. */
char *wl_file_sum(const char *path, gsize *len);
/* The local paths of a text/uri-list. */
char **wl_uri_paths(GBytes *uris);
/* The server's files (files:2:300000) pasted with wl-paste on @socket, as
 * text/uri-list and as x-special/gnome-copied-files, each file's bytes those
 * the server logged. Returns the pasted folder. */
char *wl_expect_server_files(const char *socket, RtSession *s);
/* The server's picture (picture:97x61) pasted with wl-paste on @socket as
 * image/png, its pixels those the server logged. Returns the PNG. */
GBytes *wl_expect_server_picture(const char *socket, RtSession *s);

/* Waits until @shot(@ctx) holds the VNC picture sharp (9/10 of its pixels
 * a one-pixel checkerboard), the shots @width pixels wide. */
void wl_expect_sharp_desktop(WlShot (*shot)(void *), void *ctx, int width);
/* wl_expect_text's getters: wl_paste on a socket, wl_xvnc_paste. */
char *wl_get_paste(void *socket);
char *wl_get_xvnc(void *xvnc);
