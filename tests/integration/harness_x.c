#include "harness_x.h"

#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <png.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

void image_clear(Image *im)
{
    g_free(im->px);
    memset(im, 0, sizeof(*im));
}

bool image_load_png(const char *path, Image *im)
{
    png_image p;
    memset(&p, 0, sizeof(p));
    p.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&p, path))
        return false;
    p.format = PNG_FORMAT_BGRA;
    im->w = (int)p.width;
    im->h = (int)p.height;
    im->px = g_malloc0((gsize)im->w * im->h * 4);
    if (!png_image_finish_read(&p, NULL, im->px, 0, NULL))
        return false;
    for (int i = 0; i < im->w * im->h; i++)
        im->px[i] &= 0x00ffffff;
    return true;
}

unsigned free_tcp_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}


static bool xvfb_try_start(Xvfb *x, const char *screen)
{
    int fds[2];
    g_assert_true(g_unix_open_pipe(fds, FD_CLOEXEC, NULL));
    /* Xvfb gets the pipe as fd 10. */
    int target = 10;
    g_assert_cmpint(fds[1], !=, target);
    /* -noreset: without it the server resets when its last client leaves
     * (our check below), and a client connecting meanwhile is refused. */
    const char *argv[] = {"Xvfb", "-displayfd", "10", "-noreset", "-screen", "0", screen,
                          "-nolisten", "tcp", NULL};
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async_with_pipes_and_fds(NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
                                                   G_SPAWN_STDERR_TO_DEV_NULL |
                                                   G_SPAWN_DO_NOT_REAP_CHILD,
                                                   harness_die_with_parent, NULL, -1, -1, -1, &fds[1], &target, 1,
                                                   &x->pid, NULL, NULL, NULL, &err));
    g_assert_no_error(err);
    close(fds[1]);
    /* Read through the newline: Xvfb writes the number and the newline
     * separately, and dies if the pipe closed in between. */
    char buf[32] = {0};
    size_t got = 0;
    while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
        ssize_t n = read(fds[0], buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    x->display = got > 0 ? g_strdup_printf(":%d", atoi(buf)) : NULL;
    /* It must answer: a server that died at once is started again. */
    const char *check[] = {"xwininfo", "-root", NULL};
    g_autofree char *out = x->display ? x_run(x->display, check) : NULL;
    if (out && strstr(out, "Window id"))
        return true;
    g_test_message("Xvfb %s did not answer; starting another", x->display ? x->display : "");
    kill(x->pid, SIGKILL);
    waitpid(x->pid, NULL, 0);
    g_free(x->display);
    return false;
}

void xvfb_start(Xvfb *x)
{
    xvfb_start_screen(x, "1600x1000x24");
}

void xvfb_start_screen(Xvfb *x, const char *screen)
{
    for (int i = 0; i < 5; i++)
        if (xvfb_try_start(x, screen))
            return;
    g_error("no Xvfb could be started");
}

void xvfb_stop(Xvfb *x)
{
    kill(x->pid, SIGTERM);
    waitpid(x->pid, NULL, 0);
    g_free(x->display);
}

char *x_run(const char *display, const char *const *argv)
{
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "DISPLAY", display, TRUE);
    char *out = NULL;
    int status = 0;
    g_autoptr(GError) err = NULL;
    g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                 NULL, &out, NULL, &status, &err);
    g_assert_no_error(err);
    return out;
}

char *x_find_window(const char *display, const char *prefix, char **title)
{
    const char *argv[] = {"xwininfo", "-root", "-tree", NULL};
    g_autofree char *tree = x_run(display, argv);
    g_auto(GStrv) lines = g_strsplit(tree ? tree : "", "\n", -1);
    g_autofree char *needle = g_strdup_printf("\"%s", prefix);
    for (char **l = lines; *l; l++) {
        char *q = strstr(*l, needle);
        if (!q)
            continue;
        if (title) {
            char *end = strchr(q + 1, '"');
            *title = g_strndup(q + 1, end ? (gsize)(end - q - 1) : strlen(q + 1));
        }
        return g_strndup(g_strstrip(*l), strcspn(g_strstrip(*l), " "));
    }
    return NULL;
}

char *wait_window(const char *display, const char *prefix, const char *title_part,
                         int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        g_autofree char *title = NULL;
        char *id = x_find_window(display, prefix, &title);
        if (id && (!title_part || strstr(title, title_part)))
            return id;
        g_free(id);
        g_usleep(100 * 1000);
    }
    return NULL;
}

