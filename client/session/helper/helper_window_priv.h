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
