/* A session's errors in a front end's words, by a fixed code.
 *
 * A session's error message is the command line's ("... store them with
 * vmdesk credentials"). A front end that shows errors in its own words (the
 * manager, through VD_ERROR_WORDS_ENV) also needs the error's plain text
 * (vd_error_plain). An RDP session runs in a confined helper process, whose
 * texts the window never trusts (a guest may own the helper): the helper
 * sends a SessionWords code with the session's end instead
 * (HELPER_MSG_CLOSED), and the window attaches the words of that code from
 * its own table. An unknown code means no words. Any thread. */
#pragma once

#include "common/error.h"

#include <stdint.h>

typedef enum {
    SESSION_WORDS_NONE = 0,
    /* The RDP server asks for a user name and password before the session
     * (NLA), and none were given. Made in the helper. */
    SESSION_WORDS_RDP_CREDENTIALS,
    /* The RDP server's certificate is not the pinned one. Made on the
     * window's side (session/cert_pin.c) only: from a helper, no words
     * (helper_window_apply.c). */
    SESSION_WORDS_RDP_CERT_CHANGED,
    SESSION_WORDS_COUNT, /* not a code: one past the last */
} SessionWords;

/* The plain words of @code, static; NULL for SESSION_WORDS_NONE and for any
 * value out of range (a hostile helper's). */
const char *session_words_plain(uint32_t code);

/* The code whose words @error carries as they were set (vd_error_set_worded
 * with session_words_plain(code) as its plain text), or SESSION_WORDS_NONE;
 * @error may be NULL. */
SessionWords session_words_of(const GError *error);

/* A new error with @message (may be NULL: "the session failed"), VD_ERROR
 * @code (out of range: VD_ERROR_FAILED) and, when @words is a known code,
 * its plain words: what the window makes of a helper's end of session.
 * Caller frees. */
GError *session_words_error(uint32_t code, uint32_t words, const char *message);
