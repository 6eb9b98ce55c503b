/* The VNC session (libvncclient): QEMU's VNC server over its unix socket, or
 * any VNC server over TCP. See session/session.h for the life cycle, threads
 * and teardown. */
#pragma once

#include "session/session.h"

typedef struct {
    char *host;            /* TCP host, or NULL with @socket_path */
    int port;              /* TCP port (5900 + display) */
    char *socket_path;     /* unix socket (QEMU's -vnc unix:PATH) */
    char *password;        /* VNC password or NULL; never logged */
    /* Or neither host nor socket: a connected socket from @open_fd, asked
     * afresh for each connection (a libvirt domain's display, which libvirt
     * hands over as a socket). Returns the fd, which the session then owns,
     * or -1 with @error. Called on the session thread with @open_data, which
     * the caller keeps alive until the window or session is gone. */
    int (*open_fd)(void *open_data, GError **error);
    void *open_data;
    char *label;           /* with @open_fd: what messages call the server */
} VncTarget;

/* Free what @t holds (the password wiped first) and zero it. Any thread. */
void vnc_target_clear(VncTarget *t);

/* Parse "vnc://HOST[:PORT]" (PORT < 100 is a display number: 5900 + PORT)
 * and "vnc+unix:///PATH" into @t, which the caller clears. False with @error
 * (VD_ERROR_INVALID) on a malformed address; @t then holds nothing. Any
 * thread. */
bool vnc_target_parse(const char *url, VncTarget *t, GError **error);

/* A session for @target (copied: the caller keeps and clears its own). Does
 * not connect yet (session_connect); never fails. @notify (may be NULL) is
 * called with @data on the session thread after each event. Main thread. */
Session *vnc_session_create(const VncTarget *target, SessionNotifyFunc notify, void *data);

/* Stop (@paused) or resume reading the server's updates. Paused, the
 * session asks for no new picture, so the server encodes none, and the
 * framebuffer keeps the last one; inputs still go out. Resumed, what changed
 * meanwhile arrives. For the window's switch to RDP: the guest's RDP session
 * starts faster without the VNC work beside it. Main thread. */
void vnc_session_pause(Session *s, bool paused);

/* The body of `vmdesk-session-helper vnc` (session/helper/helper.h): run
 * the session's libvncclient confined, for the window process that started
 * it. Returns the exit status. */
int vnc_helper_main(void);
