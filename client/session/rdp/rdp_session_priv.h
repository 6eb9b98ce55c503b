/* Internals of the RDP session shared by its files: rdp_session.c (the
 * connection, pictures, input, clipboard, display control, sound, drives)
 * and rdp_rail.c (RemoteApp). FreeRDP types are fine here: nothing outside
 * the RDP module includes this header. */
#pragma once

#include "session/rdp/rdp_session.h"
#include "session/session_priv.h"

#include <freerdp/client/cliprdr.h>
#include <freerdp/client/disp.h>
#include <freerdp/client/rail.h>
#include <freerdp/freerdp.h>
#include <freerdp/graphics.h>

/* The RDP session's own inputs, after the session base's. */
enum {
    RDP_INPUT_RAIL_EXEC = SESSION_INPUT_PROTOCOL, /* @text program, @text2 arguments */
    RDP_INPUT_RAIL_COMMAND,   /* @id, @qnum: SC_CLOSE, SC_MINIMIZE, ... */
    RDP_INPUT_RAIL_MOVE,      /* @id to @x @y @w @h */
    RDP_INPUT_RAIL_ACTIVATE,  /* @id, @down: activated or not */
};

typedef struct Rdp Rdp;

/* FreeRDP's context with ours behind it (FreeRDP allocates ContextSize). */
typedef struct {
    rdpContext context;
    Rdp *rdp;
} VdContext;

typedef struct {
    rdpPointer pointer;
    uint32_t *argb;
} VdPointer;

struct Rdp {
    Session *s;
    RdpTarget target;
    HANDLE wake;               /* the session's wake fd, for FreeRDP's wait */
    /* session thread only: */
    rdpContext *ctx;
    DispClientContext *disp;
    bool disp_ready;           /* the server sent its display-control caps */
    int resize_w, resize_h, resize_scale;  /* pending resize; 0: none */
    gint64 last_resize;
    CliprdrClientContext *clip;
    bool clip_ready;           /* monitor ready seen: format lists may go */
    char *clip_local;          /* what we offer the server; NULL once the server copied since */
    char *clip_remote;         /* the server's text we last passed on; NULL once we offered since */
    unsigned buttons;
    bool ctrl_down;            /* either Ctrl key held (Pause vs Ctrl+Break) */
    GError *verify_error;      /* set when the certificate was refused */
    bool auth_missing;
    bool connected;
    /* RemoteApp (rdp_rail.c) */
    RailClientContext *rail;
    bool rail_started;         /* the handshake is done: programs may be launched */
    GQueue rail_waiting;       /* SessionInput* launches queued before the handshake */
    GHashTable *rail_icons;    /* cache id << 16 | entry -> GBytes (w, h, ARGB) */
};

static inline Rdp *rdp_of(rdpContext *ctx)
{
    return ((VdContext *)ctx)->rdp;
}

/* --- rdp_rail.c (session thread) --- */

/* RemoteApp settings for a target with a program. */
void rdp_rail_configure(Rdp *r, rdpSettings *st);
/* The window-order callbacks (after gdi_init). */
void rdp_rail_register(Rdp *r, rdpUpdate *update);
/* The rail channel came or went. */
void rdp_rail_channel_connected(Rdp *r, RailClientContext *rail);
void rdp_rail_channel_disconnected(Rdp *r);
/* An RDP_INPUT_RAIL_* input from the main thread (may take its strings). */
void rdp_rail_input(Rdp *r, SessionInput *in);
/* Free what rdp_rail.c holds (any thread, once the session ended). */
void rdp_rail_finish(Rdp *r);
