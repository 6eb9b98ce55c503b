/* vmdesk-test-rdp-server: a small real RDP server on libfreerdp-server3 (FreeRDP
 * 3.10) that vmdesk's RDP client tests connect to. It serves a test picture,
 * plays a tone over rdpsnd, reads and writes files on the client's redirected
 * drives over rdpdr, follows the client's monitor layout (disp) and logs all
 * of it, and every input event, as machine-readable lines on stdout.
 *
 * Threads: the main thread owns the listener and the signals; one peer thread
 * runs the one client session (srv_peer_run); the library's channel threads
 * (rdpsnd, rdpdr, disp, audin) call our channel callbacks; the tone has a thread of
 * its own. See README.md beside this file for the flags and the log lines. */
#pragma once

#include <freerdp/freerdp.h>
#include <freerdp/peer.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* One --drive-read, --drive-write or --drive-time. */
typedef struct {
    char *drive;   /* the client's device name (its PreferredDosName, 8 chars at most) */
    char *path;    /* relative path inside the drive, '/'-separated */
    char *text;    /* what --drive-write writes; NULL for a read */
    bool timed;    /* --drive-time: the whole file, timed and hashed, not logged */
} SrvDriveOp;

/* What the command line asked for. Read-only once the listener runs. */
typedef struct {
    unsigned port;             /* 0: any free port (the log line says which) */
    char *cert_file;           /* PEM certificate and key for TLS */
    char *key_file;
    unsigned width, height;    /* desktop size; 0x0: the client's */
    unsigned tone_hz, tone_ms; /* 0: no tone */
    GPtrArray *drive_ops;      /* SrvDriveOp*, in command-line order */
    unsigned drive_piece;      /* bytes per Read request of --drive-time */
    unsigned frames;           /* benchmark frames after connect; 0: none */
    unsigned frames_pause_ms;  /* pause between the first picture and the frames; 0: none */
    char *sam_file;            /* NTLM SAM file: NLA on; NULL: TLS only */
    bool rail;                 /* RemoteApp (RAIL) for clients that ask for it; stdin commands */
    char *clipboard;           /* text the server puts on the clipboard (UTF-8); NULL: none */
    char *clipboard_offer;     /* --clipboard-offer: a picture or files instead; NULL: none */
    unsigned mic_hz;           /* --microphone: open audin and measure this tone; 0: no audin */
} SrvConfig;

/* The log sink: prints "VMDESK-SRV " and the message as one line on stdout
 * (line-buffered), whole even when threads log at once. Any thread. */
void srv_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Errors and library trouble for people: "vmdesk-test-rdp-server: MSG" on stderr. */
void srv_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Bytes as one log line (newly allocated): printable ASCII as is, \\ \n \r
 * \t escaped, any other byte as \xNN. Any thread. */
char *srv_escape(const guint8 *b, size_t n);

/* Runs one client session on the calling thread until the client leaves or
 * @stop (a WinPR event) is set; logs "disconnected" at the end. Takes
 * ownership of @client (freed before returning). @cfg is borrowed and must
 * outlive the call. False when the session could not be set up. */
bool srv_peer_run(freerdp_peer *client, const SrvConfig *cfg, HANDLE stop);

/* --- the picture (srv_picture.c) --- */

typedef struct SrvPicture SrvPicture;

SrvPicture *srv_picture_create(void);
void srv_picture_destroy(SrvPicture *p);

/* Paints a whole @w x @h desktop into @fb (0xFFRRGGBB, @stride_px pixels a row). */
typedef void (*SrvPaintFn)(void *data, uint32_t *fb, unsigned stride_px, unsigned w, unsigned h);

/* Draws frame @frame_no of the test pattern at the peer's desktop size (or,
 * when @paint is not NULL, whatever @paint(@paint_data, ...) draws) and
 * sends it whole: RemoteFX surface bits when the client announced RemoteFX,
 * else planar-compressed bitmap updates, between surface frame markers with
 * @frame_id when the client takes them. Peer thread only. */
bool srv_picture_send(SrvPicture *p, freerdp_peer *client, uint32_t frame_no, uint32_t frame_id,
                      SrvPaintFn paint, void *paint_data);

/* The codec srv_picture_send uses for @client: "rfx" or "planar". */
const char *srv_picture_codec(freerdp_peer *client);

/* The colour of bar @index (0 leftmost) of frame 0, 0xRRGGBB. Bar i spans
 * x in [i*W/8, (i+1)*W/8) over the top two thirds of a W-wide desktop. */
uint32_t srv_picture_bar_colour(unsigned index);
#define SRV_PICTURE_BARS 8

/* --- sound (srv_sound.c) --- */

typedef struct SrvSound SrvSound;

/* Opens the rdpsnd channel on @vcm; once the client's formats arrive, logs
 * them and plays a @hz sine for @ms (nothing when @hz is 0). NULL (logged)
 * when the channel cannot be opened. Peer thread. */
SrvSound *srv_sound_create(HANDLE vcm, rdpContext *context, unsigned hz, unsigned ms);
/* Stops the tone and closes the channel. Accepts NULL. Peer thread. */
void srv_sound_destroy(SrvSound *s);

/* --- sound in, the client's microphone (srv_audin.c) --- */

typedef struct SrvAudin SrvAudin;

/* Opens the audin dynamic channel on @vcm (drdynvc must be ready) and starts
 * the library's audin thread: once the client's formats arrive it logs them,
 * picks PCM 16-bit and, from the samples, logs what it heard, with the
 * amplitude at @hz. NULL (logged) when the channel cannot be opened. Peer
 * thread. */
SrvAudin *srv_audin_create(HANDLE vcm, rdpContext *context, unsigned hz);
/* Stops the audin thread and closes the channel. Accepts NULL. Peer thread. */
void srv_audin_destroy(SrvAudin *a);

/* --- redirected drives (srv_drive.c) --- */

typedef struct SrvDrive SrvDrive;

/* Opens the rdpdr channel on @vcm; logs every drive the client announces and
 * runs the @ops (borrowed, SrvDriveOp*) that name it, timed reads in Read
 * requests of @piece bytes. NULL (logged) when the channel cannot be opened.
 * Peer thread. */
SrvDrive *srv_drive_create(HANDLE vcm, rdpContext *context, GPtrArray *ops, unsigned piece);
/* Closes the channel. Accepts NULL. Peer thread. */
void srv_drive_destroy(SrvDrive *d);

/* --- clipboard (srv_clip.c) --- */

typedef struct SrvClip SrvClip;

/* Opens the cliprdr channel on @vcm and starts the library's cliprdr thread.
 * Once the client's first format list arrives it logs "clipboard ready" and,
 * when @text (UTF-8, copied) is not NULL, announces CF_UNICODETEXT and serves
 * @text to the client's requests; text the client announces is fetched and
 * logged. @offer (--clipboard-offer, NULL: none) puts a picture or files
 * there instead, and the client's pictures and files are fetched and logged
 * (srv_clip_rich.c). NULL (logged) when the channel cannot be opened. Peer
 * thread. */
SrvClip *srv_clip_create(HANDLE vcm, rdpContext *context, const char *text, const char *offer);
/* Stops the cliprdr thread and closes the channel. Accepts NULL. Peer thread. */
void srv_clip_destroy(SrvClip *c);
/* A new copy on the server: @text (UTF-8, copied) becomes the clipboard's
 * and is announced (once the channel is ready); logs "clipboard copied N".
 * Any thread but the cliprdr one. */
void srv_clip_copy(SrvClip *c, const char *text);

/* --- RemoteApp (srv_rail.c) --- */

typedef struct SrvRail SrvRail;

/* Opens the rail static channel on @vcm for @client (borrowed; its context
 * must outlive the result) and starts the library's RAIL thread. Reads
 * commands from stdin (one a line; see README.md) when stdin is readable.
 * NULL (logged) when the channel cannot be opened or the library lacks the
 * window-order senders. Peer thread. */
SrvRail *srv_rail_create(HANDLE vcm, freerdp_peer *client);
/* Stops the RAIL thread. Accepts NULL. Peer thread. */
void srv_rail_destroy(SrvRail *r);
/* The clipboard the `copy` command puts text on (borrowed; NULL: none, the
 * command is refused). Accepts a NULL @r. Peer thread. */
void srv_rail_set_clip(SrvRail *r, SrvClip *clip);
/* The client is (re)activated: the first time, send the server handshake. */
void srv_rail_activated(SrvRail *r);
/* Adds the handles to wait on (RAIL events, stdin) to @handles from index
 * *@n (room for 2 more), updating *@n. */
void srv_rail_add_handles(SrvRail *r, HANDLE *handles, DWORD *n);
/* How long the peer may wait before srv_rail_dispatch has timed work
 * (a slow program's window): ms, or INFINITE. */
DWORD srv_rail_timeout_ms(SrvRail *r);
/* Does what the client's RAIL PDUs, stdin commands and timers asked for:
 * exec results, window orders, logging. False when the session must end
 * (the connection failed, or a `disconnect` command). Peer thread. */
bool srv_rail_dispatch(SrvRail *r);
/* Whether the desktop changed since the last call (windows moved, opened,
 * closed): the peer then sends a new picture painted by srv_rail_paint. */
bool srv_rail_take_redraw(SrvRail *r);
/* SrvPaintFn for @data = the SrvRail: the background colour
 * (SRV_RAIL_BACKGROUND) with the visible windows on it, bottom to top. */
void srv_rail_paint(void *data, uint32_t *fb, unsigned stride_px, unsigned w, unsigned h);
#define SRV_RAIL_BACKGROUND 0x203050u
/* A window's invisible resize border (program "framed"). */
#define SRV_RAIL_INVISIBLE 0xFF00FFu

/* --- WTS API with a fix for libfreerdp-server3's rdpdr server (srv_wts.c) --- */

/* Registers FreeRDP's server WTS API (in place of
 * WTSRegisterWtsApiFunctionTable(FreeRDP_InitWtsApi())), wrapped so that the
 * replies to Write requests on the watched rdpdr channel reach the library
 * in a form its parser takes. Once, in main, before any channel. */
bool srv_wts_install(void);
/* Repair replies on @channel (the rdpdr static channel) from now on. */
void srv_wts_watch_rdpdr(HANDLE channel);
/* Stop repairing @channel; it is about to be closed. */
void srv_wts_unwatch_rdpdr(HANDLE channel);
/* The Length of the Write reply being parsed (the library was shown 0),
 * once; 0 when none. The rdpdr thread, in its write completion. */
uint32_t srv_wts_take_write_length(void);
