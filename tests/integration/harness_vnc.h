/* VNC checks shared by the integration tests (test_vnc.c, test_aarch64.c,
 * test_confine.c): a session's picture settling, and equal to QEMU's
 * screendump; TigerVNC's Xvnc as a server. */
#pragma once

#include "harness.h"
#include "harness_x.h"
#include "session/session.h"

#include <stdint.h>

/* A VNC session connected to running VM @name's socket (asserts). */
Session *vnc_connect_vm(Harness *h, const char *name);
/* Pixels of @a and @b (same size, 0x00RRGGBB) that differ, and their
 * bounding box's size in *@bw x *@bh. */
int vnc_image_diff(const Image *a, const uint32_t *b, int *bw, int *bh);
/* Wait until the session's picture is @w x @h, complete and quiet; the sizes
 * it had are appended to @sizes (pairs; may be NULL). Asserts within
 * @timeout_ms. */
void vnc_wait_settled(Session *s, int w, int h, GArray *sizes, int timeout_ms);
/* The client's picture equals QMP screendump of VM @vm at the same moment
 * (one 8x16 character cell may differ: the text cursor blinks). */
void vnc_assert_matches_screendump(Harness *h, const char *vm, Session *s);

typedef struct {
    GPid pid;
    unsigned port;
    char *display;
} Xvnc;

/* Start TigerVNC's Xvnc on loopback @port (0: a free one); @security "None"
 * or "VncAuth" (with @pwfile). Waits until it listens. */
void xvnc_start(Harness *h, Xvnc *x, const char *security, const char *pwfile, unsigned port);
/* The same with Xvnc's messages (stderr) written to the file @log. */
void xvnc_start_logged(Harness *h, Xvnc *x, const char *security, const char *pwfile,
                       unsigned port, const char *log);
/* Stop it and wait for it. */
void xvnc_stop(Xvnc *x);
/* Start `vmdesk connect vnc://127.0.0.1:@port` on Xvfb @xv and wait for its
 * window (its id in *@window_id, may be NULL). Returns the pid, unreaped. */
GPid vnc_window_start(Harness *h, const Xvfb *xv, unsigned port, char **window_id);
