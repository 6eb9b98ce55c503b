/* What srv_rail.c (the channel, programs, commands), srv_rail_win.c
 * (windows, painting) and srv_rail_orders.c (window orders on the wire)
 * share. Peer thread unless said. */
#pragma once

#include "srv.h"

#include <freerdp/rail.h>
#include <freerdp/server/rail.h>
#include <freerdp/window.h>

typedef struct {
    uint32_t id, owner;          /* owner 0: a top-level window */
    char *title;                 /* UTF-8 */
    int x, y, w, h;              /* window rect on the desktop, as shown */
    int nx, ny, nw, nh;          /* the normal (restored) rect */
    uint8_t show;                /* WINDOW_SHOW, WINDOW_SHOW_MINIMIZED, WINDOW_SHOW_MAXIMIZED */
    uint32_t style, ex_style;
    uint32_t colour;             /* 0xRRGGBB, from the window's number */
    uint16_t icon_entry;         /* its icon in the client's icon cache 0 */
    int margin;                  /* invisible resize border left, right and bottom (Windows
                                    10 and 11 have 7-8 px): outside the visibility region,
                                    painted #ff00ff so that a client showing it is caught */
} RailWin;

struct SrvRail {
    freerdp_peer *client;        /* borrowed */
    HANDLE vcm;
    RailServerContext *ctx;
    bool started;
    HANDLE event;                /* manual-reset: events queued */
    GMutex lock;                 /* guards events (RAIL thread) */
    GQueue events;
    GPtrArray *windows;          /* RailWin*, z-order: index 0 is the top */
    uint32_t next_id;
    uint32_t active;             /* 0: none */
    uint16_t next_icon;
    RECTANGLE_16 work_area;      /* the client's (SPI_SET_WORK_AREA) */
    bool have_work_area;
    bool handshake_sent, arc_sent, arc_completed;
    bool hidef;                  /* HiDef RemoteApp: HandshakeEx went out */
    bool redraw;
    char *slow_name;             /* "slowstart" waiting for slow_due */
    gint64 slow_due;
    HANDLE stdin_event;          /* NULL once stdin ended */
    int stdin_flags;             /* its file status flags before; -1: untouched */
    GString *stdin_buf;
    SrvClip *clip;               /* borrowed, for the `copy` command; NULL: none */
};

/* --- srv_rail_win.c --- */

void rail_win_free(gpointer data);
/* A new window on top of the others (not yet announced), owned by @owner
 * (0: none); popup style when owned. */
RailWin *rail_win_new(SrvRail *r, uint32_t owner, const char *title, int x, int y, int w, int h);
RailWin *rail_win_find(SrvRail *r, uint32_t id);
/* Top-level windows open. */
guint rail_win_count_top(SrvRail *r);
/* Sends the window's creation, its icon, and repaints; logs them. */
bool rail_win_announce(SrvRail *r, RailWin *w);
bool rail_win_move(SrvRail *r, RailWin *w, int x, int y, int width, int height);
bool rail_win_set_title(SrvRail *r, RailWin *w, const char *title);
/* WINDOW_SHOW (restore), WINDOW_SHOW_MINIMIZED or WINDOW_SHOW_MAXIMIZED (the work area). */
bool rail_win_show(SrvRail *r, RailWin *w, uint8_t show);
/* Deletes @w and the windows it owns (frees them); the desktop order follows. */
bool rail_win_close(SrvRail *r, RailWin *w);
/* Puts @w on top and makes it the active window (no order sent). */
void rail_win_raise(SrvRail *r, RailWin *w);
/* MonitoredDesktop: the active window and the z-order. */
bool rail_win_send_desktop(SrvRail *r);
/* MonitoredDesktop with "hooked, window list begins" (the first exec). */
bool rail_win_send_arc_began(SrvRail *r);
/* Get AppID response for window @id. */
bool rail_win_send_appid(SrvRail *r, uint32_t id);

/* --- srv_rail_orders.c: one window order, sent at once as a fast-path
 * Orders update (libfreerdp 3.10's own senders drop small orders). False
 * (logged) when it could not be sent. --- */

/* WindowCreate (WINDOW_ORDER_STATE_NEW in @oi) or WindowUpdate. */
bool rail_order_window(rdpContext *ctx, const WINDOW_ORDER_INFO *oi, const WINDOW_STATE_ORDER *st);
/* WindowIcon: @icon is 32 bpp. */
bool rail_order_icon(rdpContext *ctx, const WINDOW_ORDER_INFO *oi, const ICON_INFO *icon);
bool rail_order_cached_icon(rdpContext *ctx, const WINDOW_ORDER_INFO *oi, uint16_t entry,
                            uint8_t cache);
bool rail_order_delete(rdpContext *ctx, const WINDOW_ORDER_INFO *oi);
bool rail_order_desktop(rdpContext *ctx, const WINDOW_ORDER_INFO *oi,
                        const MONITORED_DESKTOP_ORDER *md);
