/* A remote-display session: one interface, one implementation per protocol
 * (session/vnc/vnc_session.c, session/rdp/rdp_session.c). A session runs its
 * protocol library on its own thread and only posts events; the main thread
 * owns the window and reads the framebuffer under its lock (STYLE.md,
 * Sessions and threads). What both protocols share (the thread, the input
 * queue, the stop flag and the wake-up, the events, the framebuffer) is
 * session.c's; session/session_priv.h is its side for the protocols.
 *
 * Life: session_*_create -> session_connect (starts the thread) -> events ...
 * -> session_disconnect_start (idempotent, any time) -> wait for
 * SESSION_EV_CLOSED -> session_destroy from the main loop. No library type
 * (libvncclient, FreeRDP, SDL) appears here.
 *
 * Teardown: which destroy, where. No main loop may wait for a protocol
 * thread, which can sit in a connect or a read for seconds.
 *  - The session posted SESSION_EV_CLOSED (its thread's last act), or was
 *    never connected, or session_connect failed: session_destroy. It joins a
 *    thread that has ended, so it returns at once. This is the normal path
 *    (the window's session and pending session, RemoteApp windows).
 *  - A live session the main loop no longer wants (the VNC session behind a
 *    finished switch to RDP): session_disconnect_start, then kept on the
 *    window's closing list and destroyed once it posts SESSION_EV_CLOSED.
 *  - A live session at the very end of a program, a command without a main
 *    loop (vmdesk screenshot) or a test: session_disconnect_start, then
 *    session_destroy, which blocks until the thread has ended. That is the
 *    right call there (nothing is left to keep responsive, and the process
 *    must not exit under a running protocol thread); it may take as long as a
 *    connection attempt in progress (RDP: up to its 10 s connect timeout).
 * Never destroy a session from inside its own callbacks (@notify). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    SESSION_EV_CONNECTED,   /* handshake done; @w x @h is the desktop size */
    SESSION_EV_RESIZED,     /* the desktop is now @w x @h (framebuffer reallocated) */
    SESSION_EV_FRAME,       /* pixels changed: take them with session_take_dirty() */
    SESSION_EV_CLIPBOARD,   /* the server's clipboard is @text (UTF-8) */
    SESSION_EV_CLIPBOARD_PNG,   /* the server copied a picture: @bytes, image/png */
    SESSION_EV_CLIPBOARD_FILES, /* the server's copied files are staged, complete: @paths */
    SESSION_EV_CURSOR,      /* pointer shape: @w x @h ARGB words in @pixels, hot spot @x,@y;
                               no @pixels: hidden, or the system's arrow when @w < 0 */
    SESSION_EV_STATUS,      /* something the user should see (@text; NULL clears it) */
    SESSION_EV_CLIP_PROGRESS, /* a copy of the server's files runs: @text says how far;
                               NULL: it ended (done, failed or cancelled). While it runs,
                               session_clip_cancel() stops it */
    SESSION_EV_LOGON,       /* the server says the user's session started (RDP) */
    SESSION_EV_CLOSED,      /* the thread ended; @error says why (NULL: we asked) */
    /* RemoteApp (RDP RAIL): windows of the guest's programs, each its own
     * window here; the framebuffer is the server's whole virtual desktop and
     * a window shows its own rectangle of it. */
    SESSION_EV_RAIL_WINDOW, /* window @rail->id was created (@rail->is_new) or changed */
    SESSION_EV_RAIL_DELETE, /* window @rail->id is gone */
    SESSION_EV_RAIL_ICON,   /* window @rail->id's icon: @w x @h ARGB words in @pixels */
    SESSION_EV_RAIL_ACTIVE, /* the server's active window is @rail->id (0: none) */
    SESSION_EV_RAIL_EXEC,   /* the server's answer to launching @text: started, or @error */
} SessionEventType;

/* A RemoteApp window's state, as far as the server sent it (@fields). */
enum {
    SESSION_RAIL_OWNER = 1 << 0,
    SESSION_RAIL_TITLE = 1 << 1,
    SESSION_RAIL_RECT = 1 << 2,   /* @x @y @w @h changed */
    SESSION_RAIL_SHOW = 1 << 3,
    SESSION_RAIL_STYLE = 1 << 4,
    SESSION_RAIL_VIS_OFFSET = 1 << 5, /* @vis_x @vis_y changed */
    SESSION_RAIL_VISIBILITY = 1 << 6, /* @vis_box changed */
};

/* RemoteApp show states (MS-RDPERP TS_WINDOW_ORDER ShowState). */
enum {
    SESSION_RAIL_HIDDEN = 0,
    SESSION_RAIL_MINIMIZED = 2,
    SESSION_RAIL_MAXIMIZED = 3,
    SESSION_RAIL_SHOWN = 5,
};

typedef struct {
    uint32_t id;
    uint32_t owner;            /* the window this one belongs to (dialogs, menus); 0: none */
    unsigned fields;           /* SESSION_RAIL_*: what this event carries */
    bool is_new;
    int x, y, w, h;            /* the window's rectangle on the server's desktop */
    char *title;               /* UTF-8 */
    int show;                  /* SESSION_RAIL_HIDDEN ... */
    uint32_t style, ex_style;  /* Windows WS_* and WS_EX_* bits */
    /* What of the window is visible: the bounding box (left, top, right,
     * bottom; right and bottom one past) of the server's visibility region,
     * relative to @vis_x @vis_y on the desktop. Windows 10 and 11 windows
     * have invisible resize borders outside it. */
    int vis_x, vis_y;
    int vis_box[4];
} SessionRailWindow;

typedef struct {
    SessionEventType type;
    int w, h;
    int x, y;
    char *text;
    uint32_t *pixels;
    GError *error;
    SessionRailWindow *rail;   /* the SESSION_EV_RAIL_* events */
    GBytes *bytes;             /* SESSION_EV_CLIPBOARD_PNG */
    char **paths;              /* SESSION_EV_CLIPBOARD_FILES: absolute host paths */
} SessionEvent;

/* Free an event taken with session_next_event, and what it holds. Accepts
 * NULL. */
void session_event_free(SessionEvent *ev);

/* The desktop's pixels: 32-bit XRGB (0x00RRGGBB in host order), @stride bytes
 * a row. Written by the session thread, read by the main thread, both under
 * @lock. */
typedef struct {
    GMutex lock;
    uint32_t *pixels;
    int width, height, stride;
    /* Union of changes not yet taken, and whether an event is pending. */
    int dirty_x0, dirty_y0, dirty_x1, dirty_y1;
    bool frame_posted;
    uint64_t frames;        /* updates received since the picture was complete */
    uint64_t covered;       /* pixels received since the last resize (until complete) */
    gint64 last_damage;     /* g_get_monotonic_time() of the last change */
    /* Shared memory (session/helper/): @pixels maps @map_len bytes instead
     * of being allocated; in the helper, @memfd (else -1) is behind it. */
    size_t map_len;
    int memfd;
    unsigned generation;    /* counts reallocations */
} SessionFramebuffer;

typedef struct Session Session;

/* Called on the session thread after an event is queued: wake the main loop.
 * It must not call back into the session. */
typedef void (*SessionNotifyFunc)(void *data);

/* A protocol's side of a session: a const table, one per protocol. */
typedef struct {
    const char *protocol;       /* "vnc", "rdp"; also the thread's name */
    bool can_resize;            /* the server's desktop follows session_resize */
    /* The session thread's body: connect, serve the connection (inputs from
     * session_input_pop) until session_stopping(), disconnect. Returns why it
     * ended, or NULL when we asked or it ended normally; the base then posts
     * SESSION_EV_CLOSED with that error. */
    GError *(*run)(Session *s);
    /* Free the protocol's state (@priv). After the thread ended, on the
     * thread that destroys the session. */
    void (*finish)(Session *s);
} SessionImpl;

/* Read @impl->protocol and @fb; the rest is session.c's. */
struct Session {
    const SessionImpl *impl;
    void *priv;
    SessionFramebuffer fb;
    GAsyncQueue *events;       /* SessionEvent* for the main thread */
    GAsyncQueue *input;        /* SessionInput* for the session thread */
    int wake_fd;               /* eventfd: input queued or stop asked */
    gint stop;                 /* atomic: the thread should end */
    GThread *thread;
    SessionNotifyFunc notify;  /* set once, at session_alloc */
    void *notify_data;
    bool fb_shared;            /* the framebuffer lives in a sealed memfd (helper side) */
};

/* Pointer buttons for session_pointer. */
enum {
    SESSION_BUTTON_LEFT = 1 << 0,
    SESSION_BUTTON_MIDDLE = 1 << 1,
    SESSION_BUTTON_RIGHT = 1 << 2,
    SESSION_WHEEL_UP = 1 << 3,
    SESSION_WHEEL_DOWN = 1 << 4,
    SESSION_WHEEL_LEFT = 1 << 5,
    SESSION_WHEEL_RIGHT = 1 << 6,
};

/* --- for the main thread --- */

/* Start the session thread (it connects); events follow. False with @error
 * when no thread can be started: then destroy the session. */
bool session_connect(Session *s, GError **error);
/* Ask the session thread to end; it posts SESSION_EV_CLOSED once it has.
 * Idempotent, never waits, any thread. Accepts NULL. */
void session_disconnect_start(Session *s);
/* Free the session, joining its thread first (after session_disconnect_start).
 * Waits for a thread that has not ended: see Teardown above for where that is
 * right. Main thread; accepts NULL. */
void session_destroy(Session *s);
/* Next queued event or NULL; caller frees it with session_event_free. */
SessionEvent *session_next_event(Session *s);
/* Whether every pixel is black (a server still drawing its desktop). Call
 * with fb.lock held. */
bool session_fb_all_black(const SessionFramebuffer *fb);
/* The share of pixels that are not black, 0-1, from every 4th pixel of
 * every 4th row. Call with fb.lock held. */
double session_fb_lit_share(const SessionFramebuffer *fb);
/* Take the dirty rectangle (false if none). Call with fb.lock held. */
bool session_take_dirty(Session *s, int *x, int *y, int *w, int *h);

/* Input for the server, queued for the session thread in order (never
 * waits; main thread). A key: QEMU's number @qnum (0x80 | code for E0 keys)
 * and the X keysym (VNC servers without QEMU's extended key event use it). */
void session_key(Session *s, unsigned qnum, uint32_t keysym, bool down);
/* The pointer at @x,@y on the desktop with SESSION_BUTTON_* / SESSION_WHEEL_*
 * @buttons (a wheel bit is one notch). */
void session_pointer(Session *s, int x, int y, unsigned buttons);
/* The host's clipboard is now @utf8 (copied). */
void session_clipboard(Session *s, const char *utf8);
/* The host's clipboard is now the files at the absolute @paths, or the
 * picture @png (image/png); both copied. A protocol without them (VNC)
 * ignores them. */
void session_clipboard_files(Session *s, const char *const *paths);
void session_clipboard_png(Session *s, GBytes *png);
/* Stop the copy of the server's files that SESSION_EV_CLIP_PROGRESS shows:
 * its partial files are removed and the server is told; the host clipboard
 * keeps what it had. Nothing happens when no copy runs. Main thread. */
void session_clip_cancel(Session *s);
/* Whether the protocol can change the remote desktop's size. */
static inline bool session_can_resize(Session *s)
{
    return s->impl->can_resize;
}
/* Ask the server for a @w x @h desktop at @scale_pct (nothing when it
 * cannot: see session_can_resize). */
void session_resize(Session *s, int w, int h, int scale_pct);
/* Ask the server to send the pixels of the @w x @h area at @x,@y again
 * (RDP: a Refresh Rect PDU). Its answer arrives as pixels like any other;
 * the window uses it to tell a still desktop from a hung server. A server
 * may ignore it; VNC sessions send nothing. */
void session_refresh(Session *s, int x, int y, int w, int h);
