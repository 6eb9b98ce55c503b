/* RemoteApp windows: each window of the guest's programs is its own SDL
 * window here, at the position, size and stacking the server gives, with
 * the server's title and icon; moves, resizes, minimize, maximize and close
 * go back to the server. One RDP connection serves every program of a VM:
 * later launches arrive through the app control socket (apps/app_control.h), and
 * the connection ends @linger_ms after the last window closed. Before the
 * server answers, a small status window shows the progress. Main thread
 * only; no SDL type leaves app_window*.c. */
#pragma once

#include "session/rdp/rdp_session.h"

#include <glib.h>
#include <stdbool.h>

/* Whether the server can take launches yet: called on a helper thread
 * every few hundred ms until it returns true (then the RDP connection
 * starts) or fails (then @error says why and the run ends). @status is
 * shown in the status window. */
typedef bool (*AppReadyFunc)(void *data, char **status, GError **error);

typedef struct {
    const char *title;         /* for the status window: "demo", "rdp://host" */
    const RdpTarget *rdp;      /* with remote_app: the first program */
    const char *wm_class;      /* StartupWMClass of the first program's windows, or NULL */
    const char *control_path;  /* listen here for more launches (NULL: none) */
    AppReadyFunc ready;        /* NULL: connect at once */
    void *ready_data;
    int ready_timeout_ms;      /* give up waiting for @ready after this long */
    int linger_ms;             /* keep the connection this long after the last window */
} AppWindowOptions;

/* Run until the last window closed and @linger_ms passed, the connection
 * failed, or the first launch failed (then @error says why). Main thread;
 * returns once its session reported CLOSED and was destroyed. */
bool app_window_run(const AppWindowOptions *opts, GError **error);
