/* Inside the VNC session: its local form (run by the session helper) and
 * the window process's connect. Nothing outside client/session/vnc
 * includes this header. */
#pragma once

#include "session/vnc/vnc_session.h"

/* "PATH" or "HOST:PORT", for messages. Caller frees. */
char *vnc_target_where(const VncTarget *t);

/* libvncclient in this process: on @fd (a connected socket, taken) or, with
 * @fd -1, connecting to @target itself; @where (or @target's) names the
 * server in messages. @shared_fb: the framebuffer lives in a sealed memfd
 * the library draws into (the helper). */
Session *vnc_session_create_local(const VncTarget *target, const char *where, int fd,
                                  bool shared_fb, SessionNotifyFunc notify, void *data);

/* Connect to @target (unix socket, or TCP with a 10 s timeout): the socket,
 * or -1 with @error ("nothing accepts VNC connections at ..." when nothing
 * listens). The window process, on the session thread. */
int vnc_connect(const VncTarget *target, GError **error);
