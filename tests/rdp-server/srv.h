/* vmdesk-test-rdp-server: a small real RDP server on libfreerdp-server2 (FreeRDP
 * 2.11) that vmdesk's RDP client tests connect to. It serves a test picture,
 * plays a tone over rdpsnd, reads and writes files on the client's redirected
 * drives over rdpdr, follows the client's monitor layout (disp) and logs all
 * of it, and every input event, as machine-readable lines on stdout.
 *
 * Threads: the main thread owns the listener and the signals; one peer thread
 * runs the one client session (srv_peer_run); the library's channel threads
 * (rdpsnd, rdpdr, disp) call our channel callbacks; the tone has a thread of
 * its own. See README.md beside this file for the flags and the log lines. */
#pragma once

#include <freerdp/freerdp.h>
#include <freerdp/peer.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* One --drive-read or --drive-write. */
typedef struct {
    char *drive;   /* the client's device name (its PreferredDosName, 8 chars at most) */
    char *path;    /* relative path inside the drive, '/'-separated */
    char *text;    /* what --drive-write writes; NULL for a read */
} SrvDriveOp;

/* What the command line asked for. Read-only once the listener runs. */
typedef struct {
    unsigned port;             /* 0: any free port (the log line says which) */
    char *cert_file;           /* PEM certificate and key for TLS */
    char *key_file;
    unsigned width, height;    /* desktop size; 0x0: the client's */
    unsigned tone_hz, tone_ms; /* 0: no tone */
    GPtrArray *drive_ops;      /* SrvDriveOp*, in command-line order */
    unsigned frames;           /* benchmark frames after connect; 0: none */
    char *sam_file;            /* NTLM SAM file: NLA on; NULL: TLS only */
} SrvConfig;

/* The log sink: prints "VMDESK-SRV " and the message as one line on stdout
 * (line-buffered), whole even when threads log at once. Any thread. */
void srv_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Errors and library trouble for people: "vmdesk-test-rdp-server: MSG" on stderr. */
void srv_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Runs one client session on the calling thread until the client leaves or
 * @stop (a WinPR event) is set; logs "disconnected" at the end. Takes
 * ownership of @client (freed before returning). @cfg is borrowed and must
 * outlive the call. False when the session could not be set up. */
bool srv_peer_run(freerdp_peer *client, const SrvConfig *cfg, HANDLE stop);

/* --- the picture (srv_picture.c) --- */

typedef struct SrvPicture SrvPicture;

SrvPicture *srv_picture_create(void);
void srv_picture_destroy(SrvPicture *p);

/* Draws frame @frame_no of the test pattern at the peer's desktop size and
 * sends it whole: RemoteFX surface bits when the client announced RemoteFX,
 * else planar-compressed bitmap updates, between surface frame markers with
 * @frame_id when the client takes them. Peer thread only. */
bool srv_picture_send(SrvPicture *p, freerdp_peer *client, uint32_t frame_no, uint32_t frame_id);

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

/* --- redirected drives (srv_drive.c) --- */

typedef struct SrvDrive SrvDrive;

/* Opens the rdpdr channel on @vcm; logs every drive the client announces and
 * runs the @ops (borrowed, SrvDriveOp*) that name it. NULL (logged) when the
 * channel cannot be opened. Peer thread. */
SrvDrive *srv_drive_create(HANDLE vcm, rdpContext *context, GPtrArray *ops);
/* Closes the channel. Accepts NULL. Peer thread. */
void srv_drive_destroy(SrvDrive *d);

/* --- WTS API with fixes for libfreerdp-server2's rdpdr server (srv_wts.c) --- */

/* Registers FreeRDP's server WTS API (in place of
 * WTSRegisterWtsApiFunctionTable(FreeRDP_InitWtsApi())), wrapped so that the
 * replies to Close and Write requests on the watched rdpdr channel reach the
 * library in a form its parser takes. Once, in main, before any channel. */
bool srv_wts_install(void);
/* Repair replies on @channel (the rdpdr static channel) from now on. */
void srv_wts_watch_rdpdr(HANDLE channel);
/* Stop repairing @channel; it is about to be closed. */
void srv_wts_unwatch_rdpdr(HANDLE channel);
