/* A remote-display session: one interface, one implementation per protocol
 * (session/vnc/vnc_session.c, session/rdp/rdp_session.c). A session runs its
 * protocol library on its own thread and only posts events; the main thread
 * owns the window and reads the framebuffer under its lock (STYLE.md,
 * Sessions and threads).
 *
 * Life: session_*_create -> session_connect (starts the thread) -> events ...
 * -> session_disconnect_start (idempotent, any time) -> wait for
 * SESSION_EV_CLOSED -> session_destroy from the main loop. No library type
 * (libvncclient, FreeRDP, SDL) appears here. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    SESSION_EV_CONNECTED,   /* handshake done; @w x @h is the desktop size */
    SESSION_EV_RESIZED,     /* the desktop is now @w x @h (framebuffer reallocated) */
    SESSION_EV_FRAME,       /* pixels changed: take them with session_take_dirty() */
    SESSION_EV_CLIPBOARD,   /* the server's clipboard is @text (UTF-8) */
    SESSION_EV_CURSOR,      /* pointer shape: @w x @h ARGB words in @pixels, hot spot @x,@y;
                               no @pixels: hidden, or the system's arrow when @w < 0 */
    SESSION_EV_STATUS,      /* something the user should see (@text; NULL clears it) */
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
} SessionEvent;

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
} SessionFramebuffer;

typedef struct Session Session;

/* Called on the session thread after an event is queued: wake the main loop. */
typedef void (*SessionNotifyFunc)(void *data);

typedef struct {
    const char *protocol;                                   /* "vnc", "rdp" */
    bool (*connect)(Session *s, GError **error);            /* start the thread */
    void (*disconnect_start)(Session *s);                   /* ask the thread to end */
    void (*key)(Session *s, unsigned qnum, uint32_t keysym, bool down);
    void (*pointer)(Session *s, int x, int y, unsigned buttons);
    void (*clipboard)(Session *s, const char *utf8);
    /* Ask the server for a @w x @h desktop at @scale_pct (NULL: cannot). */
    void (*resize)(Session *s, int w, int h, int scale_pct);
    void (*finish)(Session *s);                             /* free the impl's state */
} SessionImpl;

struct Session {
    const SessionImpl *impl;
    void *priv;
    GAsyncQueue *events;       /* SessionEvent* for the main thread */
    SessionNotifyFunc notify;
    void *notify_data;
    SessionFramebuffer fb;
    GThread *thread;
};

/* Pointer buttons for SessionImpl.pointer. */
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
bool session_connect(Session *s, GError **error);
void session_disconnect_start(Session *s);
/* Joins the thread (the session must have posted CLOSED or never connected)
 * and frees everything. Accepts NULL. */
void session_destroy(Session *s);
/* Next queued event or NULL; caller frees it with session_event_free. */
SessionEvent *session_next_event(Session *s);
/* Whether every pixel is black (a server still drawing its desktop). Call
 * with fb.lock held. */
bool session_fb_all_black(const SessionFramebuffer *fb);
/* Take the dirty rectangle (false if none). Call with fb.lock held. */
bool session_take_dirty(Session *s, int *x, int *y, int *w, int *h);

static inline void session_key(Session *s, unsigned qnum, uint32_t keysym, bool down)
{
    s->impl->key(s, qnum, keysym, down);
}
static inline void session_pointer(Session *s, int x, int y, unsigned buttons)
{
    s->impl->pointer(s, x, y, buttons);
}
static inline void session_clipboard(Session *s, const char *utf8)
{
    s->impl->clipboard(s, utf8);
}
/* Whether the protocol can change the remote desktop's size. */
static inline bool session_can_resize(Session *s)
{
    return s->impl->resize != NULL;
}
static inline void session_resize(Session *s, int w, int h, int scale_pct)
{
    if (s->impl->resize)
        s->impl->resize(s, w, h, scale_pct);
}

/* --- for implementations (session thread) --- */
Session *session_alloc(const SessionImpl *impl, void *priv, SessionNotifyFunc notify,
                       void *notify_data);
/* Queue an event (ownership of @text and @error moves) and notify. */
void session_post(Session *s, SessionEventType type, int w, int h, char *text, GError *error);
/* Queue a RAIL event of @type (takes @rail, and @argb for an icon). */
void session_post_rail(Session *s, SessionEventType type, SessionRailWindow *rail, uint32_t *argb,
                       int w, int h);
/* Queue a pointer shape (takes @argb: @w x @h 0xAARRGGBB words). */
void session_post_cursor(Session *s, uint32_t *argb, int w, int h, int hot_x, int hot_y);
/* Reallocate the framebuffer to @w x @h (black). Takes fb.lock. */
void session_fb_resize(Session *s, int w, int h);
/* Mark a changed rectangle. Call with fb.lock held. */
void session_fb_damage(Session *s, int x, int y, int w, int h);
/* A server update is complete: count it (frames counts only once every pixel
 * has arrived since the last resize) and post one FRAME event if anything
 * changed and none is pending. Call with fb.lock held. */
void session_fb_update_done(Session *s);
