/* The session base's side for the protocols (session/rdp/, session/vnc/):
 * creating a session, the input queue the main thread fills and the session
 * thread empties, the stop flag and the wake-up, posting events, and writing
 * the framebuffer. Nothing outside client/session includes this header. */
#pragma once

#include "session/session.h"

/* What the main thread asks of the server, queued in order. */
typedef enum {
    SESSION_INPUT_KEY,        /* @qnum, @keysym, @down */
    SESSION_INPUT_POINTER,    /* @x @y, @buttons */
    SESSION_INPUT_CLIPBOARD,  /* @text: the host's clipboard, UTF-8 */
    SESSION_INPUT_CLIPBOARD_FILES, /* @paths: the host's copied files */
    SESSION_INPUT_CLIPBOARD_PNG,   /* @bytes: the host's picture, image/png */
    SESSION_INPUT_RESIZE,     /* @w x @h at @scale percent */
    SESSION_INPUT_REFRESH,    /* send the area @x @y @w @h again */
    SESSION_INPUT_PROTOCOL,   /* the first of a protocol's own kinds */
} SessionInputType;

typedef struct {
    int type;                 /* SessionInputType, or a protocol's own kind */
    unsigned qnum;
    uint32_t keysym;
    bool down;
    int x, y, w, h;
    unsigned buttons;
    int scale;
    uint32_t id;
    char *text;               /* owned */
    char *text2;              /* owned */
    char **paths;             /* owned */
    GBytes *bytes;            /* owned */
} SessionInput;

/* A session of protocol @impl whose state is @priv (takes it: @impl->finish
 * frees it). @notify (may be NULL) is called with @notify_data on the session
 * thread after each event. Does not connect; never fails. Any thread. */
Session *session_alloc(const SessionImpl *impl, void *priv, SessionNotifyFunc notify,
                       void *notify_data);

/* --- the input queue --- */

/* Queue a copy of @in for the session thread and wake it. Takes ownership of
 * @in->text and @in->text2. Any thread (the main thread's session_key, ...,
 * and a protocol's own calls such as rdp_session_rail_exec). */
void session_input_push(Session *s, const SessionInput *in);
/* The next queued input or NULL; free it with session_input_free. Session
 * thread. */
SessionInput *session_input_pop(Session *s);
/* Free an input and its strings. Accepts NULL. */
void session_input_free(SessionInput *in);
/* A file descriptor that polls readable while input is queued or a stop is
 * asked (an eventfd the session owns: wait on it, do not close it). */
int session_wake_fd(Session *s);
/* Consume the wake-up; call before emptying the queue. Session thread. */
void session_wake_clear(Session *s);
/* Whether session_disconnect_start was called: end the thread soon. Any
 * thread. */
bool session_stopping(Session *s);

/* --- events (session thread) --- */

/* Queue an event (ownership of @text and @error moves) and notify. */
void session_post(Session *s, SessionEventType type, int w, int h, char *text, GError *error);
/* Queue a RAIL event of @type (takes @rail, and @argb for an icon). */
void session_post_rail(Session *s, SessionEventType type, SessionRailWindow *rail, uint32_t *argb,
                       int w, int h);
/* Queue a pointer shape (takes @argb: @w x @h 0xAARRGGBB words). */
void session_post_cursor(Session *s, uint32_t *argb, int w, int h, int hot_x, int hot_y);
/* Queue SESSION_EV_CLIPBOARD_PNG (takes @bytes) or _FILES (takes @paths). */
void session_post_clipboard(Session *s, SessionEventType type, GBytes *bytes, char **paths);

/* --- the framebuffer (session thread) --- */

/* Reallocate the framebuffer to @w x @h (black). Takes fb.lock. */
void session_fb_resize(Session *s, int w, int h);
/* Mark a changed rectangle. Call with fb.lock held. */
void session_fb_damage(Session *s, int x, int y, int w, int h);
/* A server update is complete: count it (frames counts only once every pixel
 * has arrived since the last resize) and post one FRAME event if anything
 * changed and none is pending. Call with fb.lock held. */
void session_fb_update_done(Session *s);
