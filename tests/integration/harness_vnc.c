/* VNC checks shared by the integration tests: the session's picture against
 * QEMU's own (QMP screendump). */
#include "harness_vnc.h"

#include "qemu/qmp_client.h"
#include "qemu/qmp_cmd.h"
#include "session/vnc/vnc_session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

void xvnc_start(Harness *h, Xvnc *x, const char *security, const char *pwfile, unsigned port)
{
    xvnc_start_logged(h, x, security, pwfile, port, NULL);
}

void xvnc_start_logged(Harness *h, Xvnc *x, const char *security, const char *pwfile,
                       unsigned port, const char *log)
{
    x->port = port ? port : free_tcp_port();
    g_autofree char *port_s = g_strdup_printf("%u", x->port);
    /* Display numbers collide less when derived from the free port. */
    x->display = g_strdup_printf(":%u", 100 + x->port % 500);
    GPtrArray *argv = g_ptr_array_new();
    const char *base[] = {"Xvnc", x->display, "-geometry", "800x600", "-depth", "24", "-rfbport",
                          port_s, "-localhost", "-nolisten", "tcp", "-SecurityTypes", security,
                          NULL};
    for (int i = 0; base[i]; i++)
        g_ptr_array_add(argv, (char *)base[i]);
    if (pwfile) {
        g_ptr_array_add(argv, (char *)"-PasswordFile");
        g_ptr_array_add(argv, (char *)pwfile);
    }
    g_ptr_array_add(argv, NULL);
    g_autoptr(GError) err = NULL;
    int log_fd = log ? open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    g_assert_true(!log || log_fd >= 0);
    g_assert_true(g_spawn_async_with_fds(
        NULL, (char **)argv->pdata, h->env,
        G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | (log ? 0 : G_SPAWN_STDERR_TO_DEV_NULL),
        NULL, NULL, &x->pid, -1, -1, log_fd, &err));
    g_assert_no_error(err);
    if (log_fd >= 0)
        close(log_fd);
    g_ptr_array_free(argv, TRUE);
    bool up = false;
    for (int i = 0; i < 100 && !up; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)x->port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        up = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (!up)
            g_usleep(100 * 1000);
    }
    g_assert_true(up);
}

void xvnc_stop(Xvnc *x)
{
    kill(x->pid, SIGTERM);
    waitpid(x->pid, NULL, 0);
    g_free(x->display);
}

GPid vnc_window_start(Harness *h, const Xvfb *xv, unsigned port, char **window_id)
{
    g_autofree char *url = g_strdup_printf("vnc://127.0.0.1:%u", port);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h->env), "DISPLAY", xv->display, TRUE);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "connect", url, NULL};
    GPid view;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, env, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &view, &err));
    g_assert_no_error(err);
    char *w = wait_window(xv->display, "vnc://", "— VNC — vmdesk", 20000);
    g_assert_nonnull(w);
    if (window_id)
        *window_id = w;
    else
        g_free(w);
    return view;
}
