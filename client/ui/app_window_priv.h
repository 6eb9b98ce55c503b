/* What the RemoteApp windows' files share (app_window.h is the public part):
 *   app_window.c       the run: its RDP connection, the status window, the
 *                      readiness thread, launches, events and main loop
 *   app_window_rail.c  one SDL window per window of the server's programs:
 *                      made, placed, drawn, and the user's moves, resizes
 *                      and focus sent back
 * Main thread only, except where a field says otherwise. */
#pragma once

#include "apps/app_control.h"
#include "session/session.h"
#include "ui/app_window.h"
#include "ui/rdp_watch.h"

#include <SDL.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Windows window styles (MS-RDPERP carries them as they are). */
#define WS_POPUP_BIT 0x80000000u
#define WS_CAPTION_BITS 0x00C00000u
#define WS_EX_TOOLWINDOW_BIT 0x00000080u
/* xrdp's extension: the client draws the frame (X programs have none). */
#define WS_EX_DECORATIONS_BIT 0x40000000u

typedef struct App App;

typedef struct {
    App *app;
    uint32_t id, owner;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int x, y, w, h;            /* the server's rectangle */
    bool has_vis;              /* the server said what of it is visible: */
    int vis_x, vis_y, vis_box[4]; /* (SessionRailWindow) */
    SDL_Rect shown;            /* the part shown here, on the desktop */
    int tex_w, tex_h;
    int show;
    uint32_t style, ex_style;
    char *title;
    bool decorated;
    bool presented;            /* a picture was shown */
    bool redraw;
    int asked_x, asked_y;      /* where we last put it: the WM's moves differ */
} AppWin;

typedef enum { WAIT_READY, WAIT_CONNECT, RUNNING } Phase;

struct App {
    const AppWindowOptions *opts;
    Phase phase;
    Session *session;
    bool connected;
    GHashTable *windows;       /* id -> AppWin* */
    Uint32 wake_event;
    AppControl *control;
    GQueue launches;           /* AppRequest* waiting for the server's answer */
    char *next_class;          /* StartupWMClass for the next top-level window */
    SDL_Cursor *cursor;
    unsigned buttons;
    uint32_t focused;          /* the window with our keyboard focus */
    SDL_Window *status_win;
    SDL_Renderer *status_ren;
    char *status;
    gint64 t0;
    gint64 connected_at;
    /* the readiness thread */
    GThread *ready_thread;
    GMutex lock;
    char *ready_status;        /* under lock */
    GError *ready_error;       /* under lock */
    gint ready_state;          /* atomic: 0 waiting, 1 ready, 2 failed */
    gint ready_quit;           /* atomic */
    Uint32 linger_at;          /* ticks; 0: not lingering */
    bool ever_window;
    bool first_shown;
    bool quit;
    GError *fatal;
    char *clip_offered;
    Uint32 next_clip_poll;
    /* Watching the server while connected (rdp_watch.h): while it hangs
     * the windows are dimmed, say @hang in their titles and ignore input. */
    RdpWatch *watch;
    SwitchWatch wt;
    char *hang;                /* "not answering since 12:03:10"; NULL: it answers */
};

/* app_window.c */
/* Milliseconds since the run started. */
gint64 app_window_elapsed_ms(App *a);
/* Close the status window (the first program window is on screen). */
void app_window_status_close(App *a);
/* Give the host's clipboard text to the session when it changed. */
void app_window_offer_clipboard(App *a);

/* app_window_rail.c */
/* WM_CLASS @cls (NULL: leave SDL's) for @win, on X11. */
void app_window_set_wm_class(SDL_Window *win, const char *cls);
/* Our window of SDL window @window_id, or NULL (the status window, ...). */
AppWin *app_window_of_sdl(Uint32 window_id);
/* Free @p, an AppWin (the GDestroyNotify of App.windows). */
void app_window_win_destroy(gpointer p);
void app_window_win_render(AppWin *aw);
/* Set @aw's title: the server's, and App.hang while the server hangs. */
void app_window_win_retitle(AppWin *aw);
/* The server made or changed window @rw->id, deleted window @id, or sent
 * its icon (@argb: @w x @h ARGB words, borrowed). */
void app_window_rail_window(App *a, const SessionRailWindow *rw);
void app_window_rail_delete(App *a, uint32_t id);
void app_window_rail_icon(App *a, uint32_t id, uint32_t *argb, int w, int h);
/* Copy what changed on the server's desktop into the windows showing it. */
void app_window_take_frame(App *a);
/* No window left and no launch under way: the connection ends
 * opts->linger_ms from now unless a program starts again. */
void app_window_maybe_linger(App *a);
/* SDL's window event @e for @aw: the user's moves, resizes, minimize,
 * maximize, close and focus go to the server. */
void app_window_win_event(App *a, AppWin *aw, const SDL_WindowEvent *e);
/* The pointer at @wx,@wy in @aw (window units) with @extra buttons (wheel). */
void app_window_send_pointer(App *a, AppWin *aw, int wx, int wy, unsigned extra);
