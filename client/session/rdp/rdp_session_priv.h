/* Internals of the RDP session, shared by its files. FreeRDP types are fine
 * here: nothing outside session/rdp/ includes this header.
 *
 *   rdp_session.c    the session thread and the connection: settings,
 *                    FreeRDP's callbacks, channels, sound, drives, errors
 *   rdp_target.c     the connection target (RdpTarget)
 *   rdp_picture.c    pictures: GDI and GFX surfaces into the framebuffer
 *   rdp_pointer.c    the pointer's shape
 *   rdp_clipboard.c  clipboard text (cliprdr)
 *   rdp_display.c    display control (disp): the desktop's size and scale,
 *                    the monitor layout (made by rdp_monitors.c, pure)
 *   rdp_cert.c       the server's certificate against its pin (session/cert_pin.c)
 *   rdp_input.c      the session's inputs onto the wire
 *   rdp_rail.c       RemoteApp (rail)
 *   rdp_codec.c      the graphics pipeline's codecs: H.264 or planar/RemoteFX
 *   rdp_sound_relay.c sound of a confined session, relayed by the window
 *
 * rdp_session.c calls into the others; rdp_input.c hands inputs on to the
 * clipboard, display control and RemoteApp. None calls back: what they share
 * is the state below and the session base's input queue
 * (session/session_priv.h).
 *
 * Everything here runs on the session thread unless it says otherwise. */
#pragma once

#include "session/rdp/rdp_session.h"
#include "session/session_priv.h"

#include <freerdp/client.h>
#include <freerdp/client/cliprdr.h>
#include "session/clip_files.h"
#include "session/clip_stage.h"
#include <freerdp/client/disp.h>
#include <freerdp/client/rail.h>
#include <freerdp/client/rdpgfx.h>
#include <freerdp/freerdp.h>
#include <freerdp/graphics.h>

/* The RDP session's own inputs, after the session base's. */
enum {
    RDP_INPUT_RAIL_EXEC = SESSION_INPUT_PROTOCOL, /* @text program, @text2 arguments */
    RDP_INPUT_RAIL_COMMAND,   /* @id, @qnum: SC_CLOSE, SC_MINIMIZE, ... */
    RDP_INPUT_RAIL_MOVE,      /* @id to @x @y @w @h */
    RDP_INPUT_RAIL_ACTIVATE,  /* @id, @down: activated or not */
    RDP_INPUT_MONITORS,       /* @bytes: RdpMonitor[], laid out */
};

typedef struct Rdp Rdp;

/* FreeRDP's client context with ours behind it (FreeRDP allocates
 * ContextSize; its client code takes the context as an rdpClientContext). */
typedef struct {
    rdpClientContext common;
    Rdp *rdp;
} VdContext;

/* The session's @priv. */
struct Rdp {
    Session *s;
    RdpTarget target;
    HANDLE wake;               /* the session's wake fd, for FreeRDP's wait */
    /* session thread only: */
    rdpContext *ctx;
    /* display control (rdp_display.c) */
    DispClientContext *disp;
    bool disp_ready;           /* the server sent its display-control caps */
    int resize_w, resize_h, resize_scale;  /* pending resize; 0: none */
    gint64 last_resize;
    RdpMonitor monitors_pending[RDP_MONITORS_MAX]; /* a layout to send */
    int n_monitors_pending;    /* 0: none */
    RdpMonitor monitors[RDP_MONITORS_MAX]; /* the layout sent last */
    int n_monitors;            /* 0: one monitor, the desktop's size */
    /* clipboard (rdp_clipboard.c) */
    CliprdrClientContext *clip;
    bool clip_ready;           /* monitor ready seen: format lists may go */
    char *clip_local;          /* what we offer the server; NULL once the server copied since */
    char *clip_remote;         /* the server's text we last passed on; NULL once we offered since */
    UINT32 clip_requested;     /* the format of our data request going on */
    /* clipboard pictures and files (rdp_clip_rich.c) */
    GBytes *clip_local_png;    /* the host's picture we offer */
    ClipFileList clip_local_files;  /* the host's files we offer ... */
    char **clip_local_sources; /* ... read from these paths (NULL: by @clip_read) */
    /* Confined (the session helper): the window reads the host's files for
     * us (helper_clip_read), and stages the server's, which we stream to it
     * (@clip_sink: helper_clip_sink); we write no file. */
    GBytes *(*clip_read)(guint index, uint64_t pos, uint32_t len, bool size);
    const ClipStageSink *clip_sink;
    int clip_src_fd;           /* the one being read (-1: none) */
    guint clip_src_index;
    UINT32 clip_png_id, clip_files_id; /* the server's ids of "PNG", "FileGroupDescriptorW" */
    ClipStage *clip_stage;     /* the server's files being fetched */
    ClipStage *clip_done;      /* the last complete copy, on the host's clipboard */
    guint clip_stage_index;
    uint64_t clip_stage_pos;
    UINT32 clip_stream, clip_asked; /* the last contents request (0 asked: a size) */
    gint64 clip_progress_at;
    bool clip_can_lock;        /* the server locks file data on request (CB_CAN_LOCK_CLIPDATA) */
    UINT32 clip_lock_id;       /* the lock of the copy being fetched; 0: none */
    UINT32 clip_lock_seq;
    guint clip_local_gen;      /* counts the host's copies we offered */
    GHashTable *clip_server_locks; /* the server's clipDataId -> clip_local_gen it locked */
    /* input (rdp_input.c) */
    unsigned buttons;
    bool ctrl_down;            /* either Ctrl key held (Pause vs Ctrl+Break) */
    /* connection: the socket the window connected (the session helper),
     * until FreeRDP takes it; -1 once taken; RDP_CONNECT_HERE: FreeRDP
     * connects itself (in the window process) */
    int server_fd;
    /* certificate (rdp_cert.c) */
    GError *verify_error;      /* set when the certificate was refused */
    /* connection (rdp_session.c) */
    bool auth_missing;
    bool connected;
    /* RemoteApp (rdp_rail.c) */
    RailClientContext *rail;
    bool rail_started;         /* the handshake is done: programs may be launched */
    bool rail_hidef;           /* the server's HandshakeEx chose HiDef RemoteApp */
    GQueue rail_waiting;       /* SessionInput* launches queued before the handshake */
    GHashTable *rail_icons;    /* cache id << 16 | entry -> Icon (w, h, ARGB) */
};

static inline Rdp *rdp_of(rdpContext *ctx)
{
    return ((VdContext *)ctx)->rdp;
}

/* --- rdp_target.c (any thread) --- */

/* Copy @src into @dst (its strings duplicated). */
void rdp_target_copy(RdpTarget *dst, const RdpTarget *src);

/* --- rdp_picture.c --- */

/* After connecting: FreeRDP's GDI (if not yet), the paint callbacks, and the
 * session's framebuffer sized (*@width x *@height) and filled with the first
 * picture. False when the GDI cannot be set up. */
bool rdp_picture_start(Rdp *r, int *width, int *height);
/* After disconnecting: free the GDI. */
void rdp_picture_stop(Rdp *r);

/* --- rdp_pointer.c --- */

/* Register our pointer type with FreeRDP (after connecting). */
void rdp_pointer_register(Rdp *r);

/* --- rdp_clipboard.c --- */

/* The cliprdr channel came or went. */
void rdp_clipboard_connected(Rdp *r, CliprdrClientContext *clip);
void rdp_clipboard_disconnected(Rdp *r);
/* The host's clipboard is @text (takes it): offer it to the server. */
void rdp_clipboard_set_local(Rdp *r, char *text);
/* Free the clipboard's texts (any thread, once the session ended). */
void rdp_clipboard_finish(Rdp *r);
/* Send our format list for the picture or files now set (rdp_clip_rich.c). */
void rdp_clipboard_offer_rich(Rdp *r);

/* --- rdp_clip_rich.c --- */

void rdp_clip_rich_connected(Rdp *r, CliprdrClientContext *clip);
/* The host's picture (takes @png) or files (takes @paths) to offer; the
 * text offered before is dropped. */
void rdp_clip_rich_set_png(Rdp *r, GBytes *png);
void rdp_clip_rich_set_files(Rdp *r, char **paths);
/* The host's files as the window listed them (FileGroupDescriptorW; takes
 * @list): their bytes come from r->clip_read. */
void rdp_clip_rich_set_list(Rdp *r, GBytes *list);
void rdp_clip_rich_drop_local(Rdp *r);
bool rdp_clip_rich_has_local(Rdp *r);
/* Our formats (at most 3) into @fmts. */
guint rdp_clip_rich_formats(Rdp *r, CLIPRDR_FORMAT *fmts);
/* The data of our format @id (caller frees), NULL if we have none. */
uint8_t *rdp_clip_rich_data(Rdp *r, UINT32 id, size_t *len);
/* The format to ask of the server's list (files, then pictures), or 0. */
UINT32 rdp_clip_rich_choose(Rdp *r, const CLIPRDR_FORMAT_LIST *list);
/* The server's data for format @id, chosen above. */
void rdp_clip_rich_response(Rdp *r, UINT32 id, const uint8_t *data, size_t len);
/* Stop fetching the server's files (@why logged; NULL: quietly). */
void rdp_clip_rich_cancel(Rdp *r, const char *why);
/* The user stopped the copy of the server's files (session_clip_cancel). */
void rdp_clip_rich_user_cancel(Rdp *r);
/* The server's clipboard capabilities (its general flags). */
void rdp_clip_rich_server_caps(Rdp *r, UINT32 flags);
void rdp_clip_rich_finish(Rdp *r);

/* --- rdp_display.c --- */

/* The disp channel came or went. */
void rdp_display_connected(Rdp *r, DispClientContext *disp);
void rdp_display_disconnected(Rdp *r);
/* The window wants a @w x @h desktop at @scale_pct: kept until it may go. */
void rdp_display_request(Rdp *r, int w, int h, int scale_pct);
/* Several monitors in the settings before connecting (RdpTarget's). */
void rdp_display_configure(Rdp *r, rdpSettings *st);
/* The host's monitors changed: @monitors (RdpMonitor[], laid out) replace
 * any pending request. */
void rdp_display_monitors(Rdp *r, GBytes *monitors);
/* Send the pending request if the server takes one and it is time. */
void rdp_display_send(Rdp *r);
/* How long the session's loop may sleep: shorter while a request waits. */
unsigned rdp_display_wait_ms(Rdp *r);

/* --- rdp_cert.c --- */

/* Whether the certificate with SHA-256 @fingerprint (FreeRDP's form: hex
 * pairs with colons) of @host:@port is the one pinned for @t (trust on first
 * use); false with @error otherwise. Any thread. */
bool rdp_cert_check_pin(const RdpTarget *t, const char *host, unsigned port, const char *subject,
                        const char *fingerprint, GError **error);

/* Hand the server certificate to our pin, not FreeRDP's store (when the client
 * is made). */
void rdp_cert_register(freerdp *instance);

/* --- rdp_session.c --- */

#define RDP_CONNECT_HERE (-2)

/* The helper's session: FreeRDP on the connected socket @fd, drawing into
 * a shared framebuffer; the certificate goes to the window. */
/* The host's keyboard layout (a KBD_* id): the X server's, else US. */
unsigned rdp_keyboard_layout(void);

Session *rdp_session_create_local(const RdpTarget *target, int fd, SessionNotifyFunc notify,
                                  void *data);

/* --- rdp_helper.c --- */

/* The window's side of a confined session for @target (rdp_session_create). */
Session *rdp_helper_session_create(const RdpTarget *target, SessionNotifyFunc notify,
                                   void *data);

/* --- rdp_input.c --- */

/* Send what the session's input queue holds, in order. */
void rdp_input_flush(Rdp *r);

/* --- rdp_codec.c --- */

/* Whether a session announces H.264, by the rule in rdp_codec.c; @override
 * ("planar" turns it off; NULL or "h264": the rule) is VMDESK_RDP_CODEC. Any
 * thread. */
bool rdp_codec_wants_h264(const char *override);
/* Announce the graphics pipeline's codecs by that rule. */
void rdp_codec_configure(Rdp *r, rdpSettings *st);

/* --- rdp_rail.c --- */

/* RemoteApp settings for a target with a program. */
void rdp_rail_configure(Rdp *r, rdpSettings *st);
/* The window-order callbacks (after gdi_init). */
void rdp_rail_register(Rdp *r, rdpUpdate *update);
/* The rail channel came or went. */
void rdp_rail_channel_connected(Rdp *r, RailClientContext *rail);
void rdp_rail_channel_disconnected(Rdp *r);
/* An RDP_INPUT_RAIL_* input (may take its strings). */
void rdp_rail_input(Rdp *r, SessionInput *in);
/* The work areas (SPI_SETWORKAREA): one a monitor of @m (laid out), once
 * the rail channel is up. */
UINT rdp_rail_work_areas(Rdp *r, const RdpMonitor *m, int n);
/* Free what rdp_rail.c holds (any thread, once the session ended). */
void rdp_rail_finish(Rdp *r);
