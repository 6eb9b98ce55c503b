/* VNC checks shared by the integration tests: the session's picture against
 * QEMU's own (QMP screendump). */
#include "harness_vnc.h"

#include "qemu/qmp_client.h"
#include "qemu/qmp_cmd.h"
#include "session/vnc/vnc_session.h"

Session *vnc_connect_vm(Harness *h, const char *name)
{
    VncTarget t = {.socket_path = g_build_filename(h->root, "run", "vmdesk", name, "vnc.sock",
                                                   NULL)};
    Session *s = vnc_session_create(&t, NULL, NULL);
    vnc_target_clear(&t);
    g_autoptr(GError) err = NULL;
    g_assert_true(session_connect(s, &err));
    g_assert_no_error(err);
    return s;
}

/* Pixels that differ, and their bounding box. */
int vnc_image_diff(const Image *a, const uint32_t *b, int *bw, int *bh)
{
    int n = 0, x0 = a->w, y0 = a->h, x1 = -1, y1 = -1;
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++)
            if ((a->px[y * a->w + x] ^ b[y * a->w + x]) & 0xffffff) {
                n++;
                x0 = MIN(x0, x);
                y0 = MIN(y0, y);
                x1 = MAX(x1, x);
                y1 = MAX(y1, y);
            }
    *bw = n ? x1 - x0 + 1 : 0;
    *bh = n ? y1 - y0 + 1 : 0;
    return n;
}

static void qmp_screendump(Harness *h, const char *vm, const char *file)
{
    g_autofree char *sock = g_build_filename(h->root, "run", "vmdesk", vm, "qmp.sock", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(QmpClient) c = qmp_client_connect_unix(sock, 5000, &err);
    g_assert_no_error(err);
    g_assert_true(qmp_client_handshake(c, 5000, &err));
    g_assert_true(qmp_cmd_screendump(c, file, 10000, &err));
    g_assert_no_error(err);
}

/* Wait until the session's picture is @w x @h, complete and quiet. */
void vnc_wait_settled(Session *s, int w, int h, GArray *sizes, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gint64 since = 0;
    for (;;) {
        SessionEvent *ev;
        while ((ev = session_next_event(s))) {
            if (ev->type == SESSION_EV_CLOSED)
                g_error("the session closed: %s", ev->error ? ev->error->message : "(no error)");
            if (ev->type == SESSION_EV_CONNECTED || ev->type == SESSION_EV_RESIZED) {
                int wh[2] = {ev->w, ev->h};
                if (sizes)
                    g_array_append_vals(sizes, wh, 2);
            }
            session_event_free(ev);
        }
        g_mutex_lock(&s->fb.lock);
        bool there = s->fb.width == w && s->fb.height == h && s->fb.frames > 0;
        g_mutex_unlock(&s->fb.lock);
        /* The console's cursor blinks, so the picture is never still: give
         * the guest a moment to finish drawing once the size is right. */
        if (there && !since)
            since = g_get_monotonic_time();
        if (!there)
            since = 0;
        if (since && g_get_monotonic_time() - since > 1500 * 1000)
            return;
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(20 * 1000);
    }
}

/* The client's picture equals QMP screendump of the same moment. The
 * guest's text cursor blinks: one character cell (8x16) may differ. */
void vnc_assert_matches_screendump(Harness *h, const char *vm, Session *s)
{
    g_autofree char *dump = g_build_filename(h->root, "screendump.png", NULL);
    int tries = 0, n = 0, bw = 0, bh = 0;
    do {
        qmp_screendump(h, vm, dump);
        Image im = {0};
        g_assert_true(image_load_png(dump, &im));
        g_mutex_lock(&s->fb.lock);
        g_assert_cmpint(im.w, ==, s->fb.width);
        g_assert_cmpint(im.h, ==, s->fb.height);
        n = vnc_image_diff(&im, s->fb.pixels, &bw, &bh);
        g_mutex_unlock(&s->fb.lock);
        image_clear(&im);
        if (n)
            g_usleep(300 * 1000); /* let an update in flight arrive */
    } while (n && ++tries < 5);
    g_test_message("screendump vs client: %d pixels differ (box %dx%d)", n, bw, bh);
    g_assert_cmpint(bw, <=, 8);
    g_assert_cmpint(bh, <=, 16);
}

