/* The session helper's wire format, both directions of one unix stream
 * socket pair: a header (u32 type, u32 payload length, host byte order: both
 * ends are the same program on the same machine), then the payload. A
 * shared-memory descriptor travels with its header (SCM_RIGHTS). Strings are
 * a u32 length and UTF-8 bytes without NUL (length 0xffffffff: none).
 *
 * The window process reads with a hostile helper in mind: lengths are capped
 * (HELPER_MSG_MAX), every field is read through a HelperReader that fails
 * instead of reading past the end, and a message must be used up exactly.
 * What the fields mean, and their checks, are helper_window.c's (window side)
 * and helper_main.c's (helper side). Any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define HELPER_MSG_MAX (16u << 20) /* payload bytes: a 16 MiB clipboard */
#define HELPER_STR_NONE 0xffffffffu

typedef enum {
    /* window -> helper */
    HELPER_MSG_CONFIG = 1,    /* str where, str password, u32 n, n bytes: the
                                 protocol's own settings (helper.h) */
    HELPER_MSG_KEY,           /* u32 qnum, u32 keysym, u8 down */
    HELPER_MSG_POINTER,       /* i32 x, i32 y, u32 buttons */
    HELPER_MSG_CLIP_TEXT,     /* str text (both directions) */
    HELPER_MSG_RESIZE,        /* i32 w, h, scale_pct */
    HELPER_MSG_REFRESH,       /* i32 x, y, w, h */
    HELPER_MSG_INPUT,         /* u32 kind (SessionInputType), u32 n, n bytes: an
                                 input that carries bytes or nothing */
    HELPER_MSG_CERT_VERDICT,  /* u8 trusted: the answer to HELPER_MSG_CERT */
    /* window -> helper, RDP desktop (0x10-0x1f; 0x20-0x2f are sound's) */
    HELPER_MSG_CLIP_CANCEL = 0x10, /* stop the copy of the server's files (the user's
                                 Escape, or the window refused the copy) */
    HELPER_MSG_CLIP_PNG,      /* u32 n, n bytes: the host's picture, image/png */
    HELPER_MSG_CLIP_FILES,    /* u32 n, n bytes: the host's copied files as a
                                 FileGroupDescriptorW list (names only: the
                                 helper never learns a host path) */
    HELPER_MSG_CLIP_DATA,     /* u32 serial, u8 ok, u32 n, n bytes: the answer to
                                 HELPER_MSG_CLIP_READ (a size: 8 bytes, LE) */
    /* window -> helper, RemoteApp (0x30-0x3f) */
    HELPER_MSG_RAIL_EXEC = 0x30, /* str program, str arguments: launch another */
    HELPER_MSG_RAIL_COMMAND,  /* u32 window, u32 command (RdpRailCommand) */
    HELPER_MSG_RAIL_MOVE,     /* u32 window, i32 x, y, w, h */
    HELPER_MSG_RAIL_ACTIVATE, /* u32 window, u8 active */
    /* helper -> window */
    HELPER_MSG_FB = 0x40,     /* u32 width, u32 height; a sealed memfd */
    HELPER_MSG_UPDATE,        /* i32 x, y, w, h (changed area), u8 complete */
    HELPER_MSG_EVENT,         /* u32 SessionEventType, str text */
    HELPER_MSG_CURSOR,        /* i32 w, h, hot_x, hot_y, u32 count, count ARGB words */
    HELPER_MSG_CLOSED,        /* u32 VdError code (0: asked), u8 resync, str message,
                                 u32 SessionWords code (the window's own words for
                                 the error: session/session_words.h; 0: none) */
    HELPER_MSG_CERT,          /* str host, u32 port, str subject, str PEM: the
                                 server's certificate, for the window to judge */
    /* helper -> window, RDP desktop (0x50-0x5f; 0x60-0x6f are sound's) */
    HELPER_MSG_CLIP_IMAGE = 0x50, /* u32 width, u32 height; a sealed memfd of
                                 width * height RGBA pixels: the server's picture */
    HELPER_MSG_CLIP_PASTE,    /* u32 n, n bytes: the server's FileGroupDescriptorW
                                 list as it came: a copy of its files begins (the
                                 window parses the list again and stages the files) */
    HELPER_MSG_CLIP_READ,     /* u32 serial, u32 index, u32 pos_hi, pos_lo, u32 len,
                                 u8 size: bytes of the host's file @index of the
                                 last HELPER_MSG_CLIP_FILES, or its size */
    HELPER_MSG_CLIP_FILE,     /* u32 index, u32 size_hi, size_lo: file @index of the
                                 copy's list begins, with that many bytes */
    HELPER_MSG_CLIP_BYTES,    /* u32 n, n bytes: the next bytes of that file */
    HELPER_MSG_CLIP_END,      /* u8 complete: the copy came whole, or is given up */
    /* helper -> window, RemoteApp (0x70-0x7f; checks in helper_rail.c) */
    HELPER_MSG_RAIL_WINDOW = 0x70, /* u32 id, u32 owner, u32 fields, u8 new,
                                 i32 x, y, w, h, str title, u32 show, u32 style,
                                 u32 ex_style, i32 vis_x, vis_y, i32 vis_box[4]:
                                 a SessionRailWindow (absent fields zero, the
                                 title none) */
    HELPER_MSG_RAIL_DELETE,   /* u32 id */
    HELPER_MSG_RAIL_ICON,     /* u32 id, u32 w, u32 h, w * h ARGB words */
    HELPER_MSG_RAIL_ACTIVE,   /* u32 id (0: none) */
    HELPER_MSG_RAIL_EXEC_RESULT, /* str program, u32 VdError code (0: started),
                                 str message */
    /* The RDP probe's helper (`vmdesk-probe-helper`, 0x80-0x8f),
     * on a channel of its own. Window -> helper: */
    HELPER_MSG_PROBE = 0x80,  /* u32 requested protocols, u32 deadline_hi, u32
                                 deadline_lo (g_get_monotonic_time µs); the
                                 connected socket */
    /* helper -> window (checks in session/rdp/rdp_probe_confined.c): */
    HELPER_MSG_PROBE_ANSWER,  /* u32 RdpProbeResult, u8 negotiated, u32 protocol,
                                 u32 server_flags, u32 failure_code, str detail */
} HelperMsgType;

/* Building a message: begin, put fields, send. */
void helper_msg_begin(GByteArray *b, uint32_t type);
void helper_put_u32(GByteArray *b, uint32_t v);
void helper_put_i32(GByteArray *b, int32_t v);
void helper_put_u8(GByteArray *b, uint8_t v);
void helper_put_str(GByteArray *b, const char *s); /* NULL: none */
void helper_put_bytes(GByteArray *b, const void *data, size_t len);
/* Send the message in @b (and @pass_fd when >= 0) on the socket @fd
 * (blocking or not). False with @error when the peer is gone, or takes no
 * byte for HELPER_MSG_TIMEOUT_MS (a hung peer). */
bool helper_msg_send(int fd, GByteArray *b, int pass_fd, GError **error);

/* helper_msg_send for a peer that may itself be sending (two blocked
 * senders would wait on each other): while the message waits for room,
 * @drain is called each time @fd has something to read, to take one
 * message. False from @drain ends the send (false; @drain said why in
 * @error, or the session ended). The peer's time limit counts from the
 * last progress either way. */
typedef bool (*HelperDrainFunc)(void *data, GError **error);
bool helper_msg_send_draining(int fd, GByteArray *b, HelperDrainFunc drain, void *data,
                              GError **error);

/* A received message. @fd is -1, or a descriptor that came with it (the
 * receiver owns it, close-on-exec). */
typedef struct {
    uint32_t type;
    uint8_t *payload;
    size_t len;
    int fd;
} HelperMsg;

void helper_msg_clear(HelperMsg *m);

typedef enum {
    HELPER_RECV_OK,
    HELPER_RECV_EOF,      /* the peer closed the socket between messages */
    HELPER_RECV_ERROR,    /* @error: broken framing, oversize, I/O error, stalled */
} HelperRecv;

/* Read one message from @fd; call it once @fd polls readable. A message
 * must arrive whole within HELPER_MSG_TIMEOUT_MS of its first byte: a peer
 * that stalls mid-message is broken. */
#define HELPER_MSG_TIMEOUT_MS 10000
HelperRecv helper_msg_recv(int fd, HelperMsg *m, GError **error);
/* helper_msg_recv with a payload of at most @max bytes, whole by @deadline
 * (g_get_monotonic_time µs), for a caller that has a deadline of its own. */
HelperRecv helper_msg_recv_by(int fd, HelperMsg *m, size_t max, gint64 deadline,
                              GError **error);

/* Reading a payload: each get fails (sets @bad, returns 0 or NULL) rather
 * than read past the end. */
typedef struct {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} HelperReader;

void helper_reader_init(HelperReader *r, const uint8_t *p, size_t len);
uint32_t helper_get_u32(HelperReader *r);
int32_t helper_get_i32(HelperReader *r);
uint8_t helper_get_u8(HelperReader *r);
/* A string of at most @max bytes, valid UTF-8 without NUL: newly allocated,
 * or NULL (none, or @bad). */
char *helper_get_str(HelperReader *r, size_t max);
/* @n bytes in place, or NULL (@bad). */
const uint8_t *helper_get_bytes(HelperReader *r, size_t n);
/* Whether every field read well and nothing is left over. */
bool helper_reader_done(const HelperReader *r);
