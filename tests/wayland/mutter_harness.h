/* GNOME's compositor for the Wayland tests: mutter 43 headless
 * (`mutter --headless --wayland --virtual-monitor 2560x1600`) at scale 2
 * (a monitors.xml of its own), on the RDP tests' session bus, with or
 * without XWayland (--no-x11). Its input and its picture come through its
 * own D-Bus APIs, as GNOME Remote Desktop uses them: a RemoteDesktop
 * session gives the seat a virtual keyboard and pointer (a headless mutter
 * has no input device, and wl-copy / wl-paste need a keyboard's focus), and
 * its ScreenCast stream of the monitor, read through a private PipeWire
 * (with WirePlumber linking the streams) by GStreamer's pipewiresrc, gives
 * the screenshots. Test code only. */
#pragma once

#include "wl_harness.h"

#define MUTTER_SCALE 2
#define MUTTER_W 1280 /* logical; the monitor has MUTTER_SCALE times the pixels */
#define MUTTER_H 800

typedef struct {
    GSubprocess *pipewire, *wireplumber, *mutter;
    char *run_dir;  /* XDG_RUNTIME_DIR: mutter's and PipeWire's sockets */
    char *socket;   /* absolute path: clients' WAYLAND_DISPLAY */
    char *log;      /* mutter's output */
    char *display;  /* XWayland's ":N", or NULL */
    char *xauth;    /* its XAUTHORITY */
    GDBusConnection *bus;
    char *remote;   /* the RemoteDesktop session */
    char *stream;   /* its ScreenCast stream of the monitor */
    guint32 node;   /* the stream's PipeWire node */
    int shots;
} Mutter;

void mutter_start(Mutter *m, bool xwayland);
/* mutter alone (no XWayland, PipeWire or RemoteDesktop session) with one
 * virtual monitor per entry of @sizes ("WxH", NULL-terminated) and @xml as
 * its monitors.xml; its files named after @tag. mutter_stop ends it. */
void mutter_start_monitors(Mutter *m, const char *tag, const char *xml,
                           const char *const *sizes);
void mutter_stop(Mutter *m);
/* A screenshot of the monitor (MUTTER_SCALE times the logical size). */
WlShot mutter_screenshot(void *m);
/* A key pressed and released on the virtual keyboard (Shift: nothing a
 * desktop or a guest acts on), for the focused window's input serial. */
void mutter_tap_key(Mutter *m);
/* Evdev key @code pressed (@down) or released on the virtual keyboard. */
void mutter_key(Mutter *m, guint32 code, bool down);
/* The virtual pointer moved to (@x, @y) (logical) and its left button
 * clicked there. */
void mutter_click(Mutter *m, double x, double y);
/* Whether XWayland runs under @m (a child process named Xwayland). */
bool mutter_has_xwayland(Mutter *m);
