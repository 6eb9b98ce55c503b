/* The vmdesk window: one SDL2 window showing one live session, with the
 * keyboard, mouse, clipboard and scaling users expect. Main thread only.
 * No SDL type leaves the window's files (window*.c, window_priv.h). */
#pragma once

#include "session/rdp/rdp_session.h"
#include "session/vnc/vnc_session.h"

#include <glib.h>
#include <stdbool.h>

typedef enum { WINDOW_SCALE_AUTO, WINDOW_SCALE_FIT, WINDOW_SCALE_1, WINDOW_SCALE_2 } WindowScale;

bool window_scale_parse(const char *s, WindowScale *out, GError **error);

/* auto: VNC first (firmware, boot, installer), RDP by itself once the guest's
 * RDP service answers, VNC again if RDP drops (ARCHITECTURE.md, "The session
 * switch"). */
typedef enum { WINDOW_PROTOCOL_AUTO, WINDOW_PROTOCOL_VNC, WINDOW_PROTOCOL_RDP } WindowProtocol;

bool window_protocol_parse(const char *s, WindowProtocol *out, GError **error);

typedef struct {
    const char *title;        /* VM name or server address */
    const char *vm_name;      /* follow this VM's state (title, close on shutdown); or NULL */
    const VncTarget *vnc;     /* where to connect (and reconnect); NULL: no VNC */
    const RdpTarget *rdp;     /* NULL: no RDP; its size and scale come from the window */
    WindowProtocol protocol;  /* AUTO needs both targets */
    bool fullscreen;
    WindowScale scale;
    int rdp_scale_pct;        /* RDP desktop scale factor; 0: the display's own */
    const char *wm_class;     /* the window's class (a desktop entry's StartupWMClass), or NULL */
    bool close_on_end;        /* a session that ends without an error closes the window */
} WindowOptions;

/* Open the window and run until the user closes it, the VM shuts down, or
 * the first connection fails (then @error says why, e.g. a wrong password).
 * A connection lost later is shown in the title and retried. */
bool window_run(const WindowOptions *opts, GError **error);
