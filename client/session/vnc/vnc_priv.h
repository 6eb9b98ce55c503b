/* Inside the VNC session: its local form (run by the session helper) and
 * the window process's connect. Nothing outside client/session/vnc
 * includes this header. */
#pragma once

#include "session/vnc/vnc_session.h"

/* "PATH", "HOST:PORT" or the label of an @open_fd target, for messages. Caller frees. */
char *vnc_target_where(const VncTarget *t);

/* libvncclient in this process (the helper) on @fd, a connected socket
 * (taken), with @password (copied; may be NULL); @where names the server in
 * messages. The framebuffer lives in a sealed memfd the library draws into.
 * Not connected yet (session_connect); @notify as session_alloc's
 * (helper_session_notify in the helper). */
Session *vnc_session_create_local(const char *where, const char *password, int fd,
                                  SessionNotifyFunc notify, void *data);

/* Connect to @target (unix socket, or TCP with a 10 s timeout): the socket,
 * or -1 with @error ("nothing accepts VNC connections at ..." when nothing
 * listens). The window process, on the session thread. */
int vnc_connect(const VncTarget *target, GError **error);
