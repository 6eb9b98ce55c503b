/* One RemoteApp connection per VM: the first `vmdesk app` process holds
 * the RDP session and listens on a socket in the VM's runtime folder
 * (0600 in a 0700 folder); later launches hand their program to it and
 * wait for the server's answer, so several programs share one connection
 * (ARCHITECTURE.md, RDP features). One request per connection, one JSON
 * line each way:
 *   -> {"program": "...", "args": "...", "class": "..."}
 *   <- {"ok": true}  or  {"error": "...", "code": N}   (N: VD_ERROR_*) */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct AppControl AppControl;

typedef struct {
    char *program;
    char *args;      /* NULL: none */
    char *wm_class;  /* the desktop entry's StartupWMClass, or NULL */
    int fd;          /* where the answer goes; -1: our own launch */
} AppRequest;

/* Called on the listening thread when a request is queued. */
typedef void (*AppControlNotify)(void *data);

/* Listen on @path. When another live process listens there already, returns
 * NULL without an error: hand the launch to it with app_control_send. A
 * socket left by a dead process is replaced. Main thread. */
AppControl *app_control_listen(const char *path, AppControlNotify notify, void *data,
                               GError **error);
/* The next queued request or NULL; the caller answers it with
 * app_control_reply. Main thread. */
AppRequest *app_control_next(AppControl *c);
/* Answer @req (NULL @error: started) and free it. Accepts NULL. */
void app_control_reply(AppRequest *req, const GError *error);
/* Stop listening, remove the socket, answer unanswered requests ("the
 * RemoteApp session ended"). Accepts NULL. */
void app_control_destroy(AppControl *c);

/* Hand a launch to the process listening on @path and wait up to
 * @timeout_ms for the server's answer. Returns false with *@delivered false
 * when nobody listens (then listen yourself); otherwise *@delivered is true
 * and the result is the launch's. */
bool app_control_send(const char *path, const AppRequest *req, int timeout_ms, bool *delivered,
                      GError **error);
