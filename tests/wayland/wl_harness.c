/* What the Wayland tests share (wl_harness.h). */
#include "wl_harness.h"

#include "test_util.h"

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <png.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- the picture --- */

WlShot wl_shot_load(const char *path)
{
    png_image img = {.version = PNG_IMAGE_VERSION};
    g_assert_true(png_image_begin_read_from_file(&img, path));
    img.format = PNG_FORMAT_BGRA;
    WlShot s = {.w = (int)img.width, .h = (int)img.height};
    s.px = g_new(guint32, (gsize)s.w * s.h);
    g_assert_true(png_image_finish_read(&img, NULL, s.px, 0, NULL));
    for (gsize i = 0; i < (gsize)s.w * s.h; i++)
        s.px[i] &= 0xffffff;
    g_unlink(path);
    return s;
}

int wl_checker_pixels(const WlShot *s)
{
    int n = 0;
    for (int y = 0; y + 1 < s->h; y++)
        for (int x = 0; x + 1 < s->w; x++) {
            guint32 p = s->px[y * s->w + x];
            if ((p == 0 || p == 0xffffff) && s->px[y * s->w + x + 1] == (p ^ 0xffffff) &&
                s->px[(y + 1) * s->w + x] == (p ^ 0xffffff))
                n++;
        }
    return n;
}

static bool near(guint32 a, guint32 b, int tol)
{
    for (int sh = 0; sh < 24; sh += 8)
        if (abs((int)((a >> sh) & 0xff) - (int)((b >> sh) & 0xff)) > tol)
            return false;
    return true;
}

bool wl_find_colour(const WlShot *s, guint32 rgb, int *x, int *y, int *w, int *h)
{
    int x0 = s->w, y0 = s->h, x1 = -1, y1 = -1;
    for (int j = 0; j < s->h; j++)
        for (int i = 0; i < s->w; i++)
            if (near(s->px[j * s->w + i], rgb, 12)) {
                x0 = MIN(x0, i);
                y0 = MIN(y0, j);
                x1 = MAX(x1, i);
                y1 = MAX(y1, j);
            }
    *x = x0, *y = y0, *w = x1 - x0 + 1, *h = y1 - y0 + 1;
    return x1 >= 0;
}

char **wl_env(const char *socket, const char *display, const char *name)
{
    char **env = rt_vmdesk_env(name, NULL, true);
    env = g_environ_setenv(env, "WAYLAND_DISPLAY", socket, TRUE);
    if (display)
        env = g_environ_setenv(env, "DISPLAY", display, TRUE);
    else
        env = g_environ_unsetenv(env, "DISPLAY");
    return env;
}

/* --- the VNC server --- */

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    close(fd);
    return ntohs(a.sin_port);
}

void wl_xvnc_start(WlXvnc *x)
{
    for (int d = 60 + getpid() % 30;; d++) {
        g_autofree char *lock = g_strdup_printf("/tmp/.X%d-lock", d);
        if (!g_file_test(lock, G_FILE_TEST_EXISTS)) {
            x->display = g_strdup_printf(":%d", d);
            break;
        }
    }
    x->port = free_port();
    g_autofree char *port = g_strdup_printf("%u", x->port);
    g_autofree char *geometry = g_strdup_printf("%dx%d", WL_VNC_W, WL_VNC_H);
    const char *argv[] = {"Xvnc", x->display, "-geometry", geometry, "-depth", "24",
                          "-rfbport", port, "-localhost", "-SecurityTypes", "None",
                          "-noreset", NULL};
    g_autofree char *log = g_strdup_printf("%s/xvnc.log", rt_world.dir);
    x->proc = rt_spawn(argv, NULL, log, log);
    x->env = g_environ_setenv(g_strdupv(rt_world.env), "DISPLAY", x->display, TRUE);
    g_autofree char *xbm = g_build_filename(rt_world.dir, "checker.xbm", NULL);
    tu_write_file(xbm, "#define c_width 2\n#define c_height 2\n"
                       "static char c_bits[] = {\n   0x01, 0x02};\n");
    const char *root[] = {"xsetroot", "-bitmap", xbm, "-fg", "white", "-bg", "black", NULL};
    for (int i = 0;; i++) {
        g_autofree char *out = NULL;
        if (rt_run_all(root, x->env, &out) == 0)
            break;
        g_assert_cmpint(i, <, 100);
        g_usleep(100 * 1000);
    }
}

void wl_xvnc_stop(WlXvnc *x)
{
    rt_stop(x->proc, SIGTERM);
    g_clear_object(&x->proc);
    g_free(x->display);
    g_strfreev(x->env);
}

GSubprocess *wl_vmdesk_vnc(WlXvnc *x, char **env, const char *log)
{
    g_autofree char *url = g_strdup_printf("vnc://127.0.0.1:%u", x->port);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "connect", url, NULL};
    g_assert_nonnull(argv[0]);
    return rt_spawn(argv, env, log, log);
}

void wl_xvnc_copy(WlXvnc *x, const char *text)
{
    /* xclip serves the copy from the background until another client takes
     * the clipboard: its output must not keep our pipe open. */
    g_autofree char *script = g_strdup_printf(
        "printf %%s '%s' | xclip -selection clipboard -i >/dev/null 2>&1", text);
    const char *argv[] = {"sh", "-c", script, NULL};
    g_autofree char *out = NULL;
    g_assert_cmpint(rt_run_all(argv, x->env, &out), ==, 0);
}

char *wl_xvnc_paste(WlXvnc *x)
{
    const char *argv[] = {"xclip", "-selection", "clipboard", "-o", NULL};
    return rt_run(argv, x->env);
}

void wl_expect_in_log(const char *log, const char *what, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + tu_timeout_ms(timeout_ms) * 1000LL;
    for (;;) {
        g_autofree char *text = rt_read_text(log);
        if (strstr(text, what))
            return;
        if (g_get_monotonic_time() > end)
            g_error("no \"%s\" in %s:\n%s", what, log, text);
        g_usleep(50 * 1000);
    }
}

/* --- the clipboard --- */

static char **socket_env(const char *socket)
{
    return g_environ_setenv(g_get_environ(), "WAYLAND_DISPLAY", socket, TRUE);
}

char *wl_paste(const char *socket)
{
    char **env = socket_env(socket);
    const char *argv[] = {"timeout", "5", "wl-paste", "--no-newline", NULL};
    char *out = NULL;
    int st = rt_run_all(argv, env, &out);
    g_strfreev(env);
    if (st != 0)
        g_clear_pointer(&out, g_free);
    return out;
}

GSubprocess *wl_copy(const char *socket, const char *type, const char *text, const char *file)
{
    char **env = socket_env(socket);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "wl-copy");
    g_ptr_array_add(argv, "--foreground");
    if (type) {
        g_ptr_array_add(argv, "--type");
        g_ptr_array_add(argv, (char *)type);
    }
    if (text)
        g_ptr_array_add(argv, (char *)text);
    g_ptr_array_add(argv, NULL);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_subprocess_launcher_set_environ(l, env);
    if (file)
        g_subprocess_launcher_set_stdin_file_path(l, file);
    g_autoptr(GError) err = NULL;
    GSubprocess *p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &err);
    g_assert_no_error(err);
    g_strfreev(env);
    g_ptr_array_free(argv, TRUE);
    return p;
}

void wl_expect_text(char *(*get)(void *), void *from, const char *want, const char *where)
{
    g_autofree char *got = NULL;
    for (int i = 0; i < 100; i++) {
        g_free(got);
        got = get(from);
        if (!g_strcmp0(got, want))
            return;
        g_usleep(100 * 1000);
    }
    g_error("%s has \"%s\", not \"%s\"", where, got ? got : "(nothing)", want);
}

GBytes *wl_paste_type(const char *socket, const char *type)
{
    g_autofree char *out = g_strdup_printf("%s/wl-paste.out", rt_world.dir);
    char **env = socket_env(socket);
    const char *argv[] = {"timeout", "5", "sh", "-c", "wl-paste --type \"$0\" > \"$1\"", type,
                          out, NULL};
    g_autofree char *cmd_out = NULL;
    int st = rt_run_all(argv, env, &cmd_out);
    g_strfreev(env);
    gchar *data = NULL;
    gsize len = 0;
    if (st != 0 || !g_file_get_contents(out, &data, &len, NULL) || !len) {
        g_free(data);
        return NULL;
    }
    return g_bytes_new_take(data, len);
}

GBytes *wl_wait_paste(const char *socket, RtSession *s, const char *type)
{
    gint64 end = g_get_monotonic_time() + tu_timeout_ms(20000) * 1000LL;
    for (;;) {
        GBytes *b = wl_paste_type(socket, type);
        if (b)
            return b;
        if (g_get_monotonic_time() > end) {
            g_autofree char *cli = rt_read_text(s->client_log);
            g_error("wl-paste never got %s from vmdesk:\n%s", type, cli);
        }
        g_usleep(200 * 1000);
    }
}

/* --- files and pictures: the desktop window on vmdesk-test-rdp-server --- */

void wl_rich_start(const char *socket, RtSession *s, const char *name, const char *offer)
{
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--size", "800x600",
                          "--clipboard-offer", offer, NULL};
    rt_server_start(s, name, args);
    g_auto(GStrv) env = wl_env(socket, NULL, name);
    const char *vargs[] = {"--no-audio", NULL};
    rt_vmdesk_start(s, name, env, vargs);
    g_free(rt_expect_line(s, "clipboard ready", WL_CONNECT_MS));
    wl_expect_in_log(s->client_log, "video driver: wayland", 5000);
    wl_expect_in_log(s->client_log, "clipboard: files and pictures through a data device", 5000);
}

char *wl_file_sum(const char *path, gsize *len)
{
    g_autofree char *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, *len);
}

char **wl_uri_paths(GBytes *uris)
{
    g_autofree char *text = g_strndup(g_bytes_get_data(uris, NULL), g_bytes_get_size(uris));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GPtrArray *paths = g_ptr_array_new();
    for (guint i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        char *path = *lines[i] && lines[i][0] != '#' ? g_filename_from_uri(lines[i], NULL, NULL)
                                                     : NULL;
        if (path)
            g_ptr_array_add(paths, path);
    }
    g_ptr_array_add(paths, NULL);
    return (char **)g_ptr_array_free(paths, FALSE);
}

char *wl_expect_server_files(const char *socket, RtSession *s)
{
    g_free(rt_expect_line(s, "clipboard offered-file vmdesk-clip/file-2.bin 300000 *",
                          WL_CONNECT_MS));
    g_autoptr(GBytes) uris = wl_wait_paste(socket, s, "text/uri-list");
    g_auto(GStrv) paths = wl_uri_paths(uris);
    g_assert_cmpuint(g_strv_length(paths), ==, 1);
    g_assert_true(g_str_has_suffix(paths[0], "/files/vmdesk-clip"));
    for (int i = 1; i <= 2; i++) {
        g_autofree char *f = g_strdup_printf("%s/file-%d.bin", paths[0], i);
        gsize len = 0;
        g_autofree char *sum = wl_file_sum(f, &len);
        g_autofree char *pattern = g_strdup_printf(
            "clipboard offered-file vmdesk-clip/file-%d.bin 300000 %s", i, sum);
        g_free(rt_expect_line(s, pattern, 1000));
    }
    /* Nautilus's type names the same folder, after "copy". */
    g_autoptr(GBytes) gnome = wl_wait_paste(socket, s, "x-special/gnome-copied-files");
    g_autofree char *gnome_text = g_strndup(g_bytes_get_data(gnome, NULL),
                                            g_bytes_get_size(gnome));
    g_autofree char *dir_uri = g_filename_to_uri(paths[0], NULL, NULL);
    g_autofree char *want = g_strdup_printf("copy\n%s", dir_uri);
    g_assert_cmpstr(gnome_text, ==, want);
    return g_strdup(paths[0]);
}

GBytes *wl_expect_server_picture(const char *socket, RtSession *s)
{
    g_autofree char *line = rt_expect_line(s, "clipboard offered-picture 97x61 *",
                                           WL_CONNECT_MS);
    const char *want = strrchr(line, ' ') + 1;
    GBytes *png = wl_wait_paste(socket, s, "image/png");
    unsigned pw = 0, ph = 0;
    g_autofree char *sum = rt_png_sum(png, &pw, &ph);
    g_assert_cmpuint(pw, ==, 97);
    g_assert_cmpuint(ph, ==, 61);
    g_assert_cmpstr(sum, ==, want);
    return png;
}

void wl_expect_sharp_desktop(WlShot (*shot)(void *), void *ctx, int width)
{
    int best = 0;
    for (int i = 0; i < 40; i++) {
        WlShot s = shot(ctx);
        g_assert_cmpint(s.w, ==, width);
        best = MAX(best, wl_checker_pixels(&s));
        g_free(s.px);
        if (best >= WL_VNC_W * WL_VNC_H * 9 / 10)
            break;
        g_usleep(250 * 1000);
    }
    g_test_message("one-pixel checkerboard pixels on screen: %d of %d", best,
                   WL_VNC_W * WL_VNC_H);
    g_assert_cmpint(best, >=, WL_VNC_W * WL_VNC_H * 9 / 10);
}

char *wl_get_paste(void *socket)
{
    return wl_paste(socket);
}

char *wl_get_xvnc(void *xvnc)
{
    return wl_xvnc_paste(xvnc);
}
