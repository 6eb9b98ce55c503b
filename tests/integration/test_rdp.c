/* The RDP side of the client against real servers on 127.0.0.1:
 * FreeRDP's shadow server (freerdp-shadow-cli3) sharing an Xvfb of ours:
 * pictures, keyboard and mouse through the window, trust on first use and a
 * changed certificate refused, NLA with an NTLM SAM file. */
#include "harness.h"
#include "harness_x.h"

#include "common/error.h"
#include "session/rdp/rdp_probe.h"
#include "session/session_words.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 20000


static void stop_bg(GPid pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 50 && waitpid(pid, NULL, WNOHANG) == 0; i++)
        g_usleep(100 * 1000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void dump_file(const char *what, const char *path)
{
    g_autofree char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    g_printerr("--- %s (%s):\n%s\n", what, path, text ? text : "(none)");
}

/* freerdp-shadow-cli3 sharing display @x on a free port; its certificate
 * lives under @home (a new @home: a new certificate). */
typedef struct {
    GPid pid;
    unsigned port;
    char *log;
} Shadow;

static void shadow_start(Shadow *s, const Xvfb *x, const char *home, unsigned port,
                         const char *const *extra)
{
    g_assert_cmpint(g_mkdir_with_parents(home, 0700), ==, 0);
    s->port = port ? port : free_tcp_port();
    s->log = g_build_filename(home, "shadow.log", NULL);
    g_autofree char *port_opt = g_strdup_printf("/port:%u", s->port);
    GPtrArray *argv = g_ptr_array_new();
    const char *base[] = {"freerdp-shadow-cli3", "/bind-address:127.0.0.1", port_opt, NULL};
    for (int i = 0; base[i]; i++)
        g_ptr_array_add(argv, (char *)base[i]);
    for (int i = 0; extra && extra[i]; i++)
        g_ptr_array_add(argv, (char *)extra[i]);
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "DISPLAY", x->display, TRUE);
    env = g_environ_setenv(env, "HOME", home, TRUE);
    env = g_environ_setenv(env, "XDG_CONFIG_HOME", home, TRUE);
    s->pid = harness_spawn((const char *const *)argv->pdata, env, s->log);
    g_ptr_array_unref(argv);
    /* Ready when it completes an X.224 connection confirm. */
    gint64 deadline = g_get_monotonic_time() + WAIT_MS * 1000LL;
    RdpProbeResult r = RDP_PROBE_NO_SERVICE;
    while (g_get_monotonic_time() < deadline) {
        r = rdp_probe("127.0.0.1", s->port, RDP_PROBE_DEFAULT_PROTOCOLS, 1000, NULL, NULL);
        if (r == RDP_PROBE_READY)
            break;
        g_usleep(100 * 1000);
    }
    if (r != RDP_PROBE_READY)
        dump_file("shadow server", s->log);
    g_assert_cmpint(r, ==, RDP_PROBE_READY);
}

static void shadow_stop(Shadow *s)
{
    stop_bg(s->pid);
    g_free(s->log);
}

/* The server's desktop: a known colour and an xterm that writes what is
 * typed into @typed. The shadow server sends what changed after it started
 * (an unchanged screen stays black): paint it after starting the server. */
#define ROOT_RGB 0x336699u

static GPid server_desktop(const Xvfb *x, const char *typed, const char *log)
{
    const char *root[] = {"xsetroot", "-solid", "#336699", NULL};
    g_free(x_run(x->display, root));
    g_autofree char *cmd = g_strdup_printf("echo word1 wordtwo; exec cat > '%s'", typed);
    const char *argv[] = {"xterm", "-geometry", "60x10+40+40", "-bg", "navy", "-fg", "white",
                          "-e", "sh", "-c", cmd, NULL};
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "DISPLAY", x->display, TRUE);
    GPid pid = harness_spawn(argv, env, log);
    /* The xterm is there once it maps its window. */
    for (int i = 0; i < 100; i++) {
        const char *tree[] = {"xwininfo", "-root", "-tree", NULL};
        g_autofree char *out = x_run(x->display, tree);
        if (out && strstr(out, "\"sh\""))
            break;
        g_usleep(100 * 1000);
    }
    return pid;
}

static uint32_t pixel(const Image *im, int x, int y)
{
    return im->px[y * im->w + x];
}

/* FreeRDP 3's shadow server sends lossy codecs (H.264 when vmdesk
 * announces it, else RemoteFX or progressive): a flat colour comes back
 * within a few steps per channel, as it would for a user. */
#define COLOUR_SLACK 6

static void assert_colour_near(uint32_t got, uint32_t want, const char *what)
{
    for (int shift = 0; shift < 24; shift += 8) {
        int d = (int)((got >> shift) & 0xff) - (int)((want >> shift) & 0xff);
        if (ABS(d) > COLOUR_SLACK)
            g_error("%s: colour 0x%06x, expected 0x%06x (each channel within %d)", what, got,
                    want, COLOUR_SLACK);
    }
}

/* Run `vmdesk ARGS...` as the manager runs it (mgr_ops_vmdesk_async): a
 * pipe as its descriptor 3, named by VD_ERROR_WORDS_ENV. Returns its status
 * and stderr, and in *@words what it wrote on that pipe (caller frees). */
static RunResult run_words(Harness *h, char **words, const char *const *args)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add(b, g_getenv("VMDESK_BIN"));
    g_strv_builder_addv(b, (const char **)args);
    g_auto(GStrv) argv = g_strv_builder_end(b);
    int fds[2];
    g_autoptr(GError) err = NULL;
    g_assert_true(g_unix_open_pipe(fds, FD_CLOEXEC, &err));
    g_autoptr(GSubprocess) p = NULL;
    {
        g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_auto(GStrv) env = g_environ_setenv(g_strdupv(h->env), VD_ERROR_WORDS_ENV, "3", TRUE);
        g_subprocess_launcher_set_environ(l, env);
        g_subprocess_launcher_take_fd(l, fds[1], 3);
        p = g_subprocess_launcher_spawnv(l, (const char *const *)argv, &err);
    }
    g_assert_no_error(err);
    RunResult r = {0};
    g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &r.out, &r.err, &err));
    g_assert_no_error(err);
    r.status = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : 128;
    /* The child has ended; only it held the write end (close-on-exec in it,
     * so nothing it started kept it): the pipe is at its end. */
    g_autoptr(GString) got = g_string_new(NULL);
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            g_string_append_len(got, buf, n);
    close(fds[0]);
    *words = g_string_free(g_steal_pointer(&got), FALSE);
    g_test_message("vmdesk %s -> %d\n%s\nwords:\n%s", args[0], r.status, r.err, *words);
    return r;
}

/* @words (a command's words pipe) holds the words of @code, whole, on one
 * error-plain line, and @err (its stderr) no words at all. */
static void assert_plain_words(const char *words, const char *err, SessionWords code)
{
    g_autofree char *line =
        g_strdup_printf(VD_ERROR_PLAIN_PREFIX "%s\n", session_words_plain(code));
    g_assert_nonnull(strstr(words, line));
    g_assert_true(g_str_has_prefix(words, VD_ERROR_LINE_PREFIX));
    g_assert_null(strstr(err, VD_ERROR_PLAIN_PREFIX));
    g_assert_null(strstr(err, VD_ERROR_FIELD_PREFIX));
}

static void test_screenshot_and_certificate_pinning(void)
{
    Harness h;
    harness_init(&h);
    Xvfb x;
    xvfb_start(&x);
    g_autofree char *typed = g_build_filename(h.root, "typed.txt", NULL);
    g_autofree char *xlog = g_build_filename(h.root, "xterm.log", NULL);
    g_autofree char *home1 = g_build_filename(h.root, "shadow1", NULL);
    Shadow s;
    shadow_start(&s, &x, home1, 0, (const char *[]){"-auth", NULL});
    /* Painted after the server started: it captures changes only. */
    GPid term = server_desktop(&x, typed, xlog);
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", s.port);
    g_autofree char *shot = g_build_filename(h.root, "shot.png", NULL);

    /* First use: the picture arrives and the certificate is pinned. */
    g_free(harness_ok(&h, "screenshot", url, shot, NULL));
    Image im = {0};
    g_assert_true(image_load_png(shot, &im));
    g_assert_cmpint(im.w, ==, 1600);
    g_assert_cmpint(im.h, ==, 1000);
    assert_colour_near(pixel(&im, 1000, 800), ROOT_RGB, "the root window");
    assert_colour_near(pixel(&im, 100, 150), 0x000080, "the navy xterm");
    image_clear(&im);
    g_autofree char *pinned = harness_ok(&h, "certificate", url, NULL);
    g_assert_nonnull(strstr(pinned, "SHA-256 "));
    g_autofree char *known = g_build_filename(h.root, "data", "vmdesk", "known-rdp-hosts", NULL);
    GStatBuf st;
    g_assert_cmpint(g_stat(known, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);

    /* Same server, same certificate: accepted without a word. */
    g_free(harness_ok(&h, "screenshot", url, shot, NULL));

    /* A new certificate on the same address: refused, saying how to re-trust. */
    shadow_stop(&s);
    g_autofree char *home2 = g_build_filename(h.root, "shadow2", NULL);
    shadow_start(&s, &x, home2, s.port, (const char *[]){"-auth", NULL});
    /* As the manager runs vmdesk: the window's own words follow (the
     * refusal is the window's, never the helper's). */
    g_autofree char *words = NULL;
    RunResult r = run_words(&h, &words, (const char *[]){"screenshot", url, shot, NULL});
    g_test_message("changed certificate: %s", r.err);
    g_assert_cmpint(r.status, !=, 0);
    g_assert_nonnull(strstr(r.err, "certificate of 127.0.0.1"));
    g_assert_nonnull(strstr(r.err, "changed"));
    g_assert_nonnull(strstr(r.err, "vmdesk certificate rdp://127.0.0.1"));
    assert_plain_words(words, r.err, SESSION_WORDS_RDP_CERT_CHANGED);
    run_result_clear(&r);
    g_free(harness_ok(&h, "certificate", url, "--forget", NULL));
    g_free(harness_ok(&h, "screenshot", url, shot, NULL));
    g_autofree char *repinned = harness_ok(&h, "certificate", url, NULL);
    g_assert_cmpstr(repinned, !=, pinned);

    shadow_stop(&s);
    stop_bg(term);
    xvfb_stop(&x);
    harness_finish(&h);
}

/* Start `vmdesk ARGS` on display @x in the background, output to @log. */
static GPid vmdesk_bg(Harness *h, const Xvfb *x, const char *const *args, const char *log)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)g_getenv("VMDESK_BIN"));
    for (int i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h->env), "DISPLAY", x->display, TRUE);
    GPid pid = harness_spawn((const char *const *)argv->pdata, env, log);
    g_ptr_array_unref(argv);
    return pid;
}

static bool file_has(const char *path, const char *needle, int timeout_ms)
{
    for (int i = 0; i < timeout_ms / 100; i++) {
        g_autofree char *text = NULL;
        g_file_get_contents(path, &text, NULL, NULL);
        if (text && strstr(text, needle))
            return true;
        g_usleep(100 * 1000);
    }
    return false;
}

/* Keys typed and a double click in the vmdesk window reach the server's
 * desktop: the xterm there writes the text, and the click selects a word. */
static void test_window_keyboard_and_mouse(void)
{
    Harness h;
    harness_init(&h);
    Xvfb server, client;
    xvfb_start_screen(&server, "1024x768x24");
    xvfb_start(&client);
    g_autofree char *home = g_build_filename(h.root, "shadow", NULL);
    Shadow s;
    shadow_start(&s, &server, home, 0, (const char *[]){"-auth", NULL});
    g_autofree char *typed = g_build_filename(h.root, "typed.txt", NULL);
    g_autofree char *xlog = g_build_filename(h.root, "xterm.log", NULL);
    GPid term = server_desktop(&server, typed, xlog);
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", s.port);
    g_autofree char *log = g_build_filename(h.root, "connect.log", NULL);
    GPid view = vmdesk_bg(&h, &client, (const char *[]){"connect", url, "--no-audio", NULL}, log);
    g_autofree char *win = wait_window(client.display, "rdp://", "RDP", WAIT_MS);
    if (!win)
        dump_file("vmdesk connect", log);
    g_assert_nonnull(win);
    g_usleep(1500 * 1000); /* the first pictures */

    /* The window shows the server's 1024x768 desktop at 1:1. */
    const char *geo[] = {"xdotool", "getwindowgeometry", win, NULL};
    g_autofree char *geometry = x_run(client.display, geo);
    g_assert_nonnull(strstr(geometry, "1024x768"));

    const char *focus[] = {"xdotool", "windowfocus", "--sync", win, NULL};
    g_free(x_run(client.display, focus));
    /* A click first, into the xterm: the window takes the keyboard grab, and
     * the server's X (no window manager) gives focus to what is under its
     * pointer. */
    const char *click_out[] = {"xdotool", "mousemove", "--window", win, "200", "120", "click", "1",
                               NULL};
    g_free(x_run(client.display, click_out));
    const char *type[] = {"xdotool", "type", "--delay", "30", "Typed-RDP_42!@ok", NULL};
    g_free(x_run(client.display, type));
    const char *ret[] = {"xdotool", "key", "Return", NULL};
    g_free(x_run(client.display, ret));
    if (!file_has(typed, "Typed-RDP_42!@ok\n", 10000))
        dump_file("typed", typed);
    g_assert_true(file_has(typed, "Typed-RDP_42!@ok\n", 100));

    /* The pointer lands where it points, and a double click selects a word:
     * the xterm's first line "word1 wordtwo" (6x13 font) at +40+40. */
    const char *move[] = {"xdotool", "mousemove", "--window", win, "300", "150", NULL};
    g_free(x_run(client.display, move));
    bool at = false;
    for (int i = 0; i < 50 && !at; i++) {
        const char *where[] = {"xdotool", "getmouselocation", NULL};
        g_autofree char *loc = x_run(server.display, where);
        at = loc && g_str_has_prefix(loc, "x:300 y:150 ");
        if (!at)
            g_usleep(100 * 1000);
    }
    g_assert_true(at);
    const char *dbl[] = {"xdotool", "mousemove", "--window", win, "100", "48", "click",
                         "--repeat", "2", "--delay", "80", "1", NULL};
    g_free(x_run(client.display, dbl));
    g_autofree char *sel = NULL;
    for (int i = 0; i < 50; i++) {
        const char *xclip[] = {"xclip", "-o", "-selection", "primary", NULL};
        g_free(sel);
        sel = x_run(server.display, xclip);
        if (sel && !strcmp(sel, "wordtwo"))
            break;
        g_usleep(100 * 1000);
    }
    g_assert_cmpstr(sel, ==, "wordtwo");

    stop_bg(view);
    stop_bg(term);
    shadow_stop(&s);
    xvfb_stop(&client);
    xvfb_stop(&server);
    harness_finish(&h);
}

/* The graphics pipeline's codec (session/rdp/rdp_codec.c): by the rule
 * vmdesk announces H.264 (AVC420/AVC444), gets AVC from FreeRDP 3's shadow
 * server and decodes it to the right picture; with VMDESK_RDP_CODEC=planar
 * it announces none and gets none. FreeRDP's GDI names the codec of each
 * surface command at trace level. */
static char *screenshot_codecs(Harness *h, const char *url, const char *shot, const char *codec)
{
    char **saved = g_strdupv(h->env);
    h->env = g_environ_setenv(h->env, "VMDESK_DEBUG", "1", TRUE);
    h->env = g_environ_setenv(h->env, "WLOG_LEVEL", "ERROR", TRUE);
    h->env = g_environ_setenv(h->env, "WLOG_FILTER", "com.freerdp.gdi:TRACE", TRUE);
    if (codec)
        h->env = g_environ_setenv(h->env, "VMDESK_RDP_CODEC", codec, TRUE);
    RunResult r = harness_vmdesk(h, "screenshot", url, shot, NULL);
    g_strfreev(h->env);
    h->env = saved;
    if (r.status != 0)
        g_error("vmdesk screenshot (codec %s) failed: %s%s", codec ? codec : "by rule", r.out,
                r.err);
    char *all = g_strconcat(r.out, r.err, NULL);
    run_result_clear(&r);
    return all;
}

static void test_codecs(void)
{
    Harness h;
    harness_init(&h);
    Xvfb x;
    xvfb_start_screen(&x, "800x600x24");
    g_autofree char *home = g_build_filename(h.root, "shadow", NULL);
    Shadow s;
    shadow_start(&s, &x, home, 0, (const char *[]){"-auth", NULL});
    const char *root[] = {"xsetroot", "-solid", "#336699", NULL};
    g_free(x_run(x.display, root));
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", s.port);
    g_autofree char *shot = g_build_filename(h.root, "shot.png", NULL);

    g_autofree char *planar = screenshot_codecs(&h, url, shot, "planar");
    g_assert_nonnull(strstr(planar, "graphics pipeline with planar/RemoteFX"));
    g_assert_nonnull(strstr(planar, "codec="));
    g_assert_null(strstr(planar, "codec=RDPGFX_CODECID_AVC"));

    g_autofree char *avc = screenshot_codecs(&h, url, shot, NULL);
    if (strstr(avc, "cannot decode H.264"))
        g_error("this FreeRDP cannot decode H.264 (FreeRDP 3 from bookworm-backports can, "
                "through FFmpeg): %s", avc);
    g_assert_nonnull(strstr(avc, "graphics pipeline with H.264"));
    g_assert_nonnull(strstr(avc, "codec=RDPGFX_CODECID_AVC"));
    Image im = {0};
    g_assert_true(image_load_png(shot, &im));
    assert_colour_near(pixel(&im, 400, 300), ROOT_RGB, "the root window through H.264");
    image_clear(&im);

    shadow_stop(&s);
    xvfb_stop(&x);
    harness_finish(&h);
}

/* NLA (CredSSP): the shadow server checks an NTLM SAM file. The password
 * reaches vmdesk through a file, never its command line. */
static void test_nla(void)
{
    Harness h;
    harness_init(&h);
    Xvfb x;
    xvfb_start_screen(&x, "800x600x24");
    const char *hash[] = {"winpr-hash3", "-u", "vmtest", "-p", "S3cret-pw", "-f", "sam", NULL};
    g_autofree char *sam_line = x_run(x.display, hash);
    g_assert_nonnull(strstr(sam_line, "vmtest:::"));
    g_autofree char *home = g_build_filename(h.root, "shadow", NULL);
    g_assert_cmpint(g_mkdir_with_parents(home, 0700), ==, 0);
    g_autofree char *sam = g_build_filename(home, "SAM", NULL);
    g_assert_true(g_file_set_contents(sam, sam_line, -1, NULL));
    g_autofree char *sam_opt = g_strdup_printf("/sam-file:%s", sam);
    Shadow s;
    shadow_start(&s, &x, home, 0, (const char *[]){"+auth", "/sec:nla", sam_opt, NULL});
    /* The server picks NLA. */
    RdpProbeInfo info = {0};
    g_assert_cmpint(rdp_probe("127.0.0.1", s.port, RDP_PROBE_DEFAULT_PROTOCOLS, 2000, &info, NULL),
                    ==, RDP_PROBE_READY);
    g_assert_cmpuint(info.protocol & RDP_PROTOCOL_HYBRID, !=, 0);
    rdp_probe_info_clear(&info);
    const char *root[] = {"xsetroot", "-solid", "#336699", NULL};
    g_free(x_run(x.display, root));

    g_autofree char *url = g_strdup_printf("rdp://vmtest@127.0.0.1:%u", s.port);
    g_autofree char *shot = g_build_filename(h.root, "shot.png", NULL);
    g_autofree char *good = g_build_filename(h.root, "good", NULL);
    g_autofree char *bad = g_build_filename(h.root, "bad", NULL);
    g_assert_true(g_file_set_contents(good, "S3cret-pw\n", -1, NULL));
    g_assert_true(g_file_set_contents(bad, "wrong\n", -1, NULL));
    /* With FreeRDP's log on: OpenSSL's legacy provider (MD4, RC4) was loaded
     * before FreeRDP looked for them (session/rdp/rdp_session.c). */
    h.env = g_environ_setenv(h.env, "VMDESK_DEBUG", "1", TRUE);
    RunResult r = harness_vmdesk(&h, "screenshot", url, shot, "--password-file", good, NULL);
    h.env = g_environ_unsetenv(h.env, "VMDESK_DEBUG");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_null(strstr(r.out, "NTLM support not available"));
    g_assert_null(strstr(r.err, "NTLM support not available"));
    g_assert_null(strstr(r.err, "no md4 support"));
    run_result_clear(&r);
    Image im = {0};
    g_assert_true(image_load_png(shot, &im));
    assert_colour_near(pixel(&im, 400, 300), ROOT_RGB, "the root window");
    image_clear(&im);

    r = harness_vmdesk(&h, "screenshot", url, shot, "--password-file", bad, NULL);
    g_assert_cmpint(r.status, !=, 0);
    g_assert_nonnull(strstr(r.err, "refused the user name or password for vmtest"));
    run_result_clear(&r);
    g_autofree char *nouser = g_strdup_printf("rdp://127.0.0.1:%u", s.port);
    /* As the manager runs vmdesk: the helper sends the words' code only,
     * the window adds its words. */
    g_autofree char *words = NULL;
    r = run_words(&h, &words, (const char *[]){"screenshot", nouser, shot, NULL});
    g_assert_cmpint(r.status, !=, 0);
    g_test_message("without credentials: %s", r.err);
    g_assert_nonnull(strstr(r.err, "user name and password"));
    g_assert_nonnull(strstr(r.err, "store them with vmdesk credentials"));
    assert_plain_words(words, r.err, SESSION_WORDS_RDP_CREDENTIALS);
    run_result_clear(&r);

    shadow_stop(&s);
    xvfb_stop(&x);
    harness_finish(&h);
}

/* A TCP relay on 127.0.0.1 in front of a server, whose connections can be
 * cut at once (a network blip) while it keeps accepting new ones. */
typedef struct {
    int listen_fd;
    unsigned port, upstream;
    gint cut;   /* atomic: drop the current connections */
    gint quit;  /* atomic */
    gint connections;
    GThread *thread;
} Relay;

static void relay_pump(Relay *r, int a)
{
    struct sockaddr_in up = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->upstream)};
    up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(b, (struct sockaddr *)&up, sizeof(up)) != 0) {
        close(b);
        close(a);
        return;
    }
    g_atomic_int_inc(&r->connections);
    char buf[65536];
    while (!g_atomic_int_get(&r->cut) && !g_atomic_int_get(&r->quit)) {
        struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
        if (poll(p, 2, 50) <= 0)
            continue;
        bool done = false;
        for (int i = 0; i < 2 && !done; i++) {
            if (!p[i].revents)
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof(buf));
            done = n <= 0 || write(p[1 - i].fd, buf, (size_t)n) != n;
        }
        if (done)
            break;
    }
    close(a);
    close(b);
}

static gpointer relay_main(gpointer data)
{
    Relay *r = data;
    while (!g_atomic_int_get(&r->quit)) {
        struct pollfd p = {r->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int a = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (a < 0)
            continue;
        g_atomic_int_set(&r->cut, 0);
        relay_pump(r, a); /* one connection at a time is all a client needs */
    }
    return NULL;
}

static void relay_start(Relay *r, unsigned upstream)
{
    memset(r, 0, sizeof(*r));
    r->upstream = upstream;
    r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    g_assert_cmpint(bind(r->listen_fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(r->listen_fd, 8), ==, 0);
    getsockname(r->listen_fd, (struct sockaddr *)&a, &len);
    r->port = ntohs(a.sin_port);
    r->thread = g_thread_new("relay", relay_main, r);
}

static void relay_stop(Relay *r)
{
    g_atomic_int_set(&r->quit, 1);
    g_thread_join(r->thread);
    close(r->listen_fd);
}

/* A network blip under `vmdesk connect rdp://`: the window stays, says it
 * reconnects, and shows the desktop again on a new connection. */
static void test_window_reconnects(void)
{
    Harness h;
    harness_init(&h);
    Xvfb server, client;
    xvfb_start_screen(&server, "800x600x24");
    xvfb_start(&client);
    g_autofree char *home = g_build_filename(h.root, "shadow", NULL);
    Shadow s;
    shadow_start(&s, &server, home, 0, (const char *[]){"-auth", NULL});
    const char *root[] = {"xsetroot", "-solid", "#336699", NULL};
    g_free(x_run(server.display, root));
    Relay relay;
    relay_start(&relay, s.port);
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", relay.port);
    g_autofree char *log = g_build_filename(h.root, "connect.log", NULL);
    GPid view = vmdesk_bg(&h, &client, (const char *[]){"connect", url, "--no-audio", NULL}, log);
    g_autofree char *win = wait_window(client.display, "rdp://", "— RDP — vmdesk", WAIT_MS);
    if (!win)
        dump_file("vmdesk connect", log);
    g_assert_nonnull(win);
    g_assert_cmpint(g_atomic_int_get(&relay.connections), ==, 1);

    g_atomic_int_set(&relay.cut, 1);
    /* Back on a second connection, in the same window, without a status. */
    gint64 deadline = g_get_monotonic_time() + 40 * G_USEC_PER_SEC;
    g_autofree char *title = NULL;
    while (g_get_monotonic_time() < deadline) {
        g_free(title);
        title = NULL;
        g_autofree char *id = x_find_window(client.display, "rdp://", &title);
        if (g_atomic_int_get(&relay.connections) >= 2 && id && !strcmp(id, win) && title &&
            g_str_has_suffix(title, "— RDP — vmdesk"))
            break;
        g_usleep(100 * 1000);
    }
    g_test_message("after the blip: %d connections, title %s", g_atomic_int_get(&relay.connections),
                   title);
    if (g_atomic_int_get(&relay.connections) < 2)
        dump_file("vmdesk connect", log);
    g_assert_cmpint(g_atomic_int_get(&relay.connections), >=, 2);
    g_assert_true(g_str_has_suffix(title, "— RDP — vmdesk"));
    g_assert_cmpint(waitpid(view, NULL, WNOHANG), ==, 0); /* still running */

    stop_bg(view);
    relay_stop(&relay);
    shadow_stop(&s);
    xvfb_stop(&client);
    xvfb_stop(&server);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rdp/shadow/screenshot-and-certificate-pinning",
                    test_screenshot_and_certificate_pinning);
    g_test_add_func("/rdp/shadow/window-keyboard-and-mouse", test_window_keyboard_and_mouse);
    g_test_add_func("/rdp/shadow/nla", test_nla);
    g_test_add_func("/rdp/shadow/codecs", test_codecs);
    g_test_add_func("/rdp/shadow/window-reconnects", test_window_reconnects);
    return g_test_run();
}
