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

/* Check message @m from the helper and apply it to @s: map a framebuffer,
 * damage, post an event, note the end in @closed. False with @error when the
 * message breaks the protocol (the caller kills the helper). Borrows
 * @m->fd. Session thread of @s. */
bool helper_window_apply(Session *s, const HelperMsg *m, HelperClosed *closed, GError **error);
