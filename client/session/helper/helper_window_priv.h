/* The window side's message checks, for tests and the fuzz target
 * (tests/fuzz/fuzz_helper.c). */
#pragma once

#include "session/helper/helper_proto.h"
#include "session/session.h"

/* How the helper said the session ended (HELPER_MSG_CLOSED). */
typedef struct {
    bool seen;
    bool resync;
    GError *error;       /* NULL: it ended as asked */
} HelperClosed;

/* Largest framebuffer side and area a helper may ask the window to map. */
#define HELPER_FB_MAX_SIDE 32768
#define HELPER_FB_MAX_PIXELS (1u << 28)

/* Map @len bytes of @fd read-only, when it is a memfd sealed against
 * shrinking and at least that large: the mapping, or NULL. */
void *helper_map_sealed(int fd, size_t len);

/* The helper's question about the server's certificate (HELPER_MSG_CERT):
 * every string valid UTF-8 within its limit. */
typedef struct {
    char *host;
    unsigned port;
    char *subject;   /* "" when none; for messages only */
    char *pem;
} HelperCertQuestion;

#define HELPER_CERT_PEM_MAX (64 * 1024)

/* Read a HELPER_MSG_CERT into @q (cleared with helper_cert_question_clear,
 * even on failure). False with @error when malformed. */
bool helper_window_read_cert(const HelperMsg *m, HelperCertQuestion *q, GError **error);
void helper_cert_question_clear(HelperCertQuestion *q);

/* Check message @m from the helper and apply it to @s: map a framebuffer,
 * damage, post an event, note the end in @closed. False with @error when the
 * message breaks the protocol (the caller kills the helper). Borrows
 * @m->fd. Session thread of @s. */
bool helper_window_apply(Session *s, const HelperMsg *m, HelperClosed *closed, GError **error);

/* A confined session's clipboard pictures and files, the window's side
 * (helper_window_clip.c). */
#include "session/clip_files.h"
#include "session/clip_stage.h"
#include "session/session_priv.h"

typedef struct {
    /* The server's files, which the helper streams and the window stages
     * (clip_stage.h: each file at most its announced size, all within the
     * stage's limit). */
    const char *root;     /* where (NULL: the default; tests set their own) */
    uint64_t cap;         /* the stage's cap (0: CLIP_STAGE_CAP) */
    ClipStage *copy;      /* the copy coming */
    ClipStage *done;      /* the last complete copy, on the host's clipboard */
    bool dropping;        /* the window gave the copy up (refused, or Escape):
                             the helper's messages of it are ignored until its
                             HELPER_MSG_CLIP_END or next HELPER_MSG_CLIP_PASTE */
    ClipFileList files;   /* the host's files offered to the server ... */
    char **sources;       /* ... read from these paths, by the window */
    int src_fd;           /* the one being read (-1: none) */
    guint src_index;
} HelperClip;

/* Remove the copy coming and the last paste, and forget the host's files. */
void helper_clip_clear(HelperClip *c);
/* Remove the copy coming (its helper is gone). */
void helper_clip_drop_copy(HelperClip *c);

/* Forget the host's files (the host copied something else): the helper can
 * no longer have them read. */
void helper_clip_forget_files(HelperClip *c);
/* The message for a clipboard input @in (a picture, files, a cancel) in @b:
 * false when @in is none of these or cannot go (said in the log). */
bool helper_clip_encode_input(HelperClip *c, const SessionInput *in, GByteArray *b);
/* Check and apply a clipboard message of the helper's (HELPER_MSG_CLIP_*
 * from 0x50): a picture; a copy of the server's files (its list, a file's
 * size, its bytes, the end), staged here; a read of the host's files. The
 * answer, if any, is in @reply, to send (a read's bytes; HELPER_MSG_CLIP_CANCEL
 * when the window refuses a copy: beyond the limit, no space); empty
 * otherwise. False with @error when it breaks the protocol (what it staged
 * of the copy is removed then). Borrows @m->fd. Session thread. */
bool helper_clip_apply(Session *s, HelperClip *c, const HelperMsg *m, GByteArray *reply,
                       GError **error);

/* RemoteApp's messages (helper_rail.c). The limits: a window's position
 * within +-HELPER_RAIL_COORD_MAX and its sides within HELPER_RAIL_SIDE_MAX
 * (sums cannot overflow an int), its title HELPER_RAIL_TITLE_MAX bytes of
 * UTF-8, its show state a Windows SW_* value, icons at most 256 x 256. */
#define HELPER_RAIL_COORD_MAX (1 << 20)
#define HELPER_RAIL_SIDE_MAX (1 << 16)
#define HELPER_RAIL_TITLE_MAX 2048
#define HELPER_RAIL_PROGRAM_MAX 4096
#define HELPER_RAIL_MESSAGE_MAX 8192
#define HELPER_RAIL_SHOW_MAX 11
#define HELPER_RAIL_ICON_MAX 256
#define HELPER_RAIL_FIELDS 0x7fu /* SESSION_RAIL_OWNER ... SESSION_RAIL_VISIBILITY */

/* The helper's side: the SESSION_EV_RAIL_* event @ev as a message in @b,
 * trimmed to the limits; false when it has none to send (no window id). */
bool helper_rail_encode_event(const SessionEvent *ev, GByteArray *b);
/* The window's side: check a HELPER_MSG_RAIL_* message (0x70-0x7f) and post
 * its event on @s. False with @error when it breaks the protocol. Session
 * thread. */
bool helper_rail_apply(Session *s, const HelperMsg *m, GError **error);
