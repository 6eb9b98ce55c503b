/* vmdesk-test-rdp-server against the reference client, xfreerdp, under our
 * own Xvfb and a private PulseAudio whose only sink is a null sink: the
 * picture on the X screen, the tone recorded from the sink's monitor, files
 * read from and written to the redirected folder, keys and clicks, monitor
 * layout changes, benchmark frames and NLA, all checked on the server's log.
 *
 * Every process started here gets SIGKILL when the test process dies
 * (tu_launcher_new), so a failed check leaves nothing running. */
#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define PREFIX "VMDESK-SRV "
#define TONE_HZ 440
#define TONE_MS 1500
#define RATE 44100
/* NT hash (MD4 of UTF-16LE) of the password "secret", as winpr-hash prints it. */
#define SECRET_NT_HASH "878d8014606cda29677a44efa1353fc7"

/* What all tests share: a folder, an X server and a sound server. */
typedef struct {
    char *dir;
    char *run_dir;      /* XDG_RUNTIME_DIR: PulseAudio's socket */
    char *display;
    GSubprocess *xvfb;
    GSubprocess *pulse;
    char **env;         /* for the clients: DISPLAY, HOME, XDG_RUNTIME_DIR, PULSE_SERVER */
    char *cert, *key;
} World;

static World world;

/* --- processes --- */

static GSubprocess *spawn(const char *const *argv, char **env, const char *out_path,
                          const char *err_path)
{
    /* stdin: /dev/null */
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    if (env)
        g_subprocess_launcher_set_environ(l, env);
    if (out_path)
        g_subprocess_launcher_set_stdout_file_path(l, out_path);
    if (err_path)
        g_subprocess_launcher_set_stderr_file_path(l, err_path);
    g_autoptr(GError) err = NULL;
    GSubprocess *p = g_subprocess_launcher_spawnv(l, argv, &err);
    g_assert_no_error(err);
    return p;
}

/* Runs @argv to completion; its stdout, or NULL when it failed. */
static char *run(const char *const *argv, char **env)
{
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    if (env)
        g_subprocess_launcher_set_environ(l, env);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, argv, &err);
    g_assert_no_error(err);
    char *out = NULL;
    g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &err);
    g_assert_no_error(err);
    if (!g_subprocess_get_if_exited(p) || g_subprocess_get_exit_status(p) != 0) {
        g_free(out);
        return NULL;
    }
    return out;
}

/* Sends @sig and waits; the exit status, or -1 when it had to be killed. */
static int stop(GSubprocess *p, int sig)
{
    if (!p)
        return -1;
    if (g_subprocess_get_identifier(p))
        g_subprocess_send_signal(p, sig);
    if (!tu_subprocess_wait(p, 10000))
        return -1;
    return g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
}

static char *read_text(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    return text;
}

/* --- the world --- */

static void start_xvfb(void)
{
    for (int attempt = 0; attempt < 5 && !world.display; attempt++) {
        int fds[2];
        g_assert_true(g_unix_open_pipe(fds, FD_CLOEXEC, NULL));
        g_autoptr(GSubprocessLauncher) l =
            tu_launcher_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
        g_subprocess_launcher_take_fd(l, fds[1], 10);
        const char *argv[] = {"Xvfb", "-displayfd", "10", "-screen", "0", "1280x1024x24",
                              "-nolisten", "tcp", NULL};
        g_autoptr(GError) err = NULL;
        world.xvfb = g_subprocess_launcher_spawnv(l, argv, &err);
        g_assert_no_error(err);
        g_clear_object(&l); /* closes our copy of the write end */
        /* Read through the newline: Xvfb writes the number and the newline
         * separately and dies if the pipe closed in between. */
        char buf[32] = {0};
        size_t got = 0;
        while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
            ssize_t n = read(fds[0], buf + got, sizeof(buf) - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        close(fds[0]);
        if (got > 0 && memchr(buf, '\n', got)) {
            world.display = g_strdup_printf(":%d", atoi(buf));
        } else {
            stop(world.xvfb, SIGKILL);
            g_clear_object(&world.xvfb);
        }
    }
    g_assert_nonnull(world.display);
}

static void start_pulse(void)
{
    g_autofree char *sock = g_build_filename(world.run_dir, "pulse", "native", NULL);
    g_autofree char *log = g_build_filename(world.dir, "pulseaudio.log", NULL);
    const char *argv[] = {"pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n",
                          "--use-pid-file=no", "--log-target=stderr",
                          "-L", "module-null-sink sink_name=vmdesk_null",
                          "-L", "module-native-protocol-unix auth-anonymous=1", NULL};
    world.pulse = spawn(argv, world.env, NULL, log);
    const char *info[] = {"pactl", "info", NULL};
    for (int i = 0; i < 100; i++) {
        g_autofree char *out = g_file_test(sock, G_FILE_TEST_EXISTS) ? run(info, world.env) : NULL;
        if (out && strstr(out, "Default Sink: vmdesk_null"))
            return;
        g_usleep(100 * 1000);
    }
    g_autofree char *text = read_text(log);
    g_error("PulseAudio did not come up; its log:\n%s", text);
}

static void world_start(void)
{
    world.dir = tu_tmpdir();
    world.run_dir = g_build_filename(world.dir, "run", NULL);
    g_assert_cmpint(g_mkdir(world.run_dir, 0700), ==, 0);
    start_xvfb();
    g_autofree char *pulse_server = g_strdup_printf("unix:%s/pulse/native", world.run_dir);
    char **env = g_get_environ();
    env = g_environ_setenv(env, "DISPLAY", world.display, TRUE);
    env = g_environ_setenv(env, "HOME", world.dir, TRUE);
    env = g_environ_setenv(env, "XDG_RUNTIME_DIR", world.run_dir, TRUE);
    env = g_environ_setenv(env, "PULSE_SERVER", pulse_server, TRUE);
    env = g_environ_unsetenv(env, "XDG_CONFIG_HOME");
    world.env = env;
    start_pulse();
    world.cert = g_build_filename(world.dir, "cert.pem", NULL);
    world.key = g_build_filename(world.dir, "key.pem", NULL);
    const char *req[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                         "-keyout", world.key, "-out", world.cert, "-days", "2",
                         "-subj", "/CN=localhost", NULL};
    g_autofree char *out = run(req, NULL);
    g_assert_nonnull(out);
}

static void world_finish(void)
{
    stop(world.pulse, SIGTERM);
    g_clear_object(&world.pulse);
    stop(world.xvfb, SIGTERM);
    g_clear_object(&world.xvfb);
    tu_rm_rf(world.dir);
    g_free(world.dir);
    g_free(world.run_dir);
    g_free(world.display);
    g_free(world.cert);
    g_free(world.key);
    g_strfreev(world.env);
}

/* --- one server and one client --- */

typedef struct {
    GSubprocess *server;
    char *log;          /* the server's stdout */
    unsigned port;
    GSubprocess *client;
    char *client_log;
} Session;

/* The first log line starting with PREFIX @what, within @timeout_ms; NULL if none. */
static char *find_line(const char *log, const char *what)
{
    g_autofree char *text = read_text(log);
    g_autofree char *needle = g_strconcat(PREFIX, what, NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++)
        if (g_str_has_prefix(*l, needle))
            return g_strdup(*l + strlen(PREFIX));
    return NULL;
}

static char *wait_line(Session *s, const char *what, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        char *line = find_line(s->log, what);
        if (line || g_get_monotonic_time() > deadline)
            return line;
        g_usleep(50 * 1000);
    }
}

/* Asserts @what appears; the line (without PREFIX), for the caller to free. */
static char *expect_line(Session *s, const char *what, int timeout_ms)
{
    char *line = wait_line(s, what, timeout_ms);
    if (!line) {
        g_autofree char *text = read_text(s->log);
        g_autofree char *client = s->client_log ? read_text(s->client_log) : g_strdup("");
        g_error("no \"%s\" line from the server within %d ms; its log:\n%s\nxfreerdp:\n%s", what,
                timeout_ms, text, client);
    }
    return line;
}

static void server_start(Session *s, const char *name, const char *const *args)
{
    s->log = g_strdup_printf("%s/%s-server.log", world.dir, name);
    g_autofree char *err = g_strdup_printf("%s/%s-server.err", world.dir, name);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)g_getenv("VMDESK_TEST_RDP_SERVER"));
    g_ptr_array_add(argv, "--port");
    g_ptr_array_add(argv, "0");
    for (size_t i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    g_assert_nonnull(argv->pdata[0]);
    s->server = spawn((const char *const *)argv->pdata, NULL, s->log, err);
    g_ptr_array_free(argv, TRUE);
    g_autofree char *line = expect_line(s, "listening 127.0.0.1:", 10000);
    s->port = (unsigned)atoi(strrchr(line, ':') + 1);
    g_assert_cmpuint(s->port, >, 0);
}

static void client_start(Session *s, const char *name, const char *const *args)
{
    s->client_log = g_strdup_printf("%s/%s-xfreerdp.log", world.dir, name);
    g_autofree char *v = g_strdup_printf("/v:127.0.0.1:%u", s->port);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "xfreerdp");
    g_ptr_array_add(argv, v);
    g_ptr_array_add(argv, "/cert:ignore");
    for (size_t i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    s->client = spawn((const char *const *)argv->pdata, world.env, s->client_log, s->client_log);
    g_ptr_array_free(argv, TRUE);
}

/* Ends the client, then the server with SIGTERM: it must log the end of the
 * session and exit 0. */
static void session_finish(Session *s)
{
    stop(s->client, SIGTERM);
    g_clear_object(&s->client);
    g_free(expect_line(s, "disconnected", 10000));
    g_assert_cmpint(stop(s->server, SIGTERM), ==, 0);
    g_clear_object(&s->server);
    g_free(s->log);
    g_free(s->client_log);
}

/* --- the X side: the client's window --- */

static char *xfreerdp_window(void)
{
    const char *argv[] = {"xdotool", "search", "--name", "^FreeRDP", NULL};
    for (int i = 0; i < 100; i++) {
        g_autofree char *out = run(argv, world.env);
        if (out && *out)
            return g_strndup(out, strcspn(out, "\n"));
        g_usleep(100 * 1000);
    }
    g_error("no xfreerdp window appeared");
}

static void xdo(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4)
{
    const char *argv[] = {"xdotool", a0, a1, a2, a3, a4, NULL};
    g_autofree char *out = run(argv, world.env);
    g_assert_nonnull(out);
}

/* Grabs window @win as 8-bit RGB into @rgb; its size must be @w x @h. */
static bool grab(const char *win, unsigned w, unsigned h, guint8 **rgb)
{
    g_autofree char *path = g_build_filename(world.dir, "shot.rgb", NULL);
    g_autofree char *dest = g_strconcat("rgb:", path, NULL);
    const char *argv[] = {"import", "-window", win, "-depth", "8", dest, NULL};
    g_autofree char *out = run(argv, world.env);
    gsize len = 0;
    if (!out || !g_file_get_contents(path, (char **)rgb, &len, NULL))
        return false;
    if (len != (gsize)w * h * 3) {
        g_clear_pointer(rgb, g_free);
        return false;
    }
    return true;
}

/* The eight bars of frame @frame_no on a @w x @h desktop, shown by @win
 * (RemoteFX is lossy: @tolerance per channel). Retries while the picture
 * is still on its way. */
static void expect_bars(const char *win, unsigned w, unsigned h, unsigned frame_no, int tolerance)
{
    static const guint32 bars[8] = {0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00,
                                    0xFF00FF, 0xFF0000, 0x0000FF, 0x000000};
    unsigned shift = (frame_no * 8) % w;
    GString *why = g_string_new(NULL);
    for (int attempt = 0; attempt < 50; attempt++) {
        g_string_truncate(why, 0);
        g_autofree guint8 *rgb = NULL;
        if (!grab(win, w, h, &rgb)) {
            g_string_append(why, "the window has another size or cannot be grabbed");
        } else {
            for (unsigned i = 0; i < 8; i++) {
                /* Bar i's middle, where frame_no's shift puts it. */
                unsigned x = ((i * w / 8 + w / 16) + w - shift) % w, y = h / 3;
                const guint8 *px = rgb + ((size_t)y * w + x) * 3;
                guint32 want = bars[i];
                int dr = abs(px[0] - (int)(want >> 16)), dg = abs(px[1] - (int)(want >> 8 & 0xFF)),
                    db = abs(px[2] - (int)(want & 0xFF));
                if (dr > tolerance || dg > tolerance || db > tolerance)
                    g_string_append_printf(why, "bar %u at (%u,%u) is #%02x%02x%02x, not #%06x; ",
                                           i, x, y, px[0], px[1], px[2], want);
            }
        }
        if (why->len == 0)
            break;
        g_usleep(200 * 1000);
    }
    if (why->len)
        g_error("the picture is wrong: %s", why->str);
    g_string_free(why, TRUE);
}

/* --- sound --- */

static double goertzel(const gint16 *x, size_t n, size_t step, double hz)
{
    double k = 2 * cos(2 * G_PI * hz / RATE), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i * step] + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    /* Amplitude of that frequency in sample units. */
    return 2 * sqrt(MAX(0, s1 * s1 + s2 * s2 - k * s1 * s2)) / (double)n;
}

/* Loud 20 ms windows of a recording (s16le stereo at RATE): how many, and
 * the end of the last one in frames. */
static size_t loud_windows(const gint16 *pcm, size_t frames, size_t *first, size_t *last_end)
{
    size_t win = RATE / 50, active = 0;
    for (size_t w0 = 0; w0 + win <= frames; w0 += win) {
        double sum = 0;
        for (size_t i = 0; i < win; i++)
            sum += (double)pcm[2 * (w0 + i)] * pcm[2 * (w0 + i)];
        if (sqrt(sum / (double)win) > 0.05 * 32768) {
            if (!active && first)
                *first = w0;
            active++;
            if (last_end)
                *last_end = w0 + win;
        }
    }
    return active;
}

/* Waits until the recording at @path has had the tone and 500 ms of quiet
 * after it, or @timeout_ms passed. */
static void wait_tone_over(const char *path, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        gsize len = 0;
        g_autofree char *raw = NULL;
        size_t last_end = 0;
        if (g_file_get_contents(path, &raw, &len, NULL) &&
            loud_windows((const gint16 *)raw, len / 4, NULL, &last_end) > 0 &&
            len / 4 > last_end + RATE / 2)
            return;
        g_usleep(100 * 1000);
    }
}

/* The recording (s16le stereo at RATE) holds the tone: loud for about
 * TONE_MS, at TONE_HZ and not elsewhere. */
static void expect_tone(const char *path)
{
    gsize len = 0;
    g_autofree char *raw = NULL;
    g_assert_true(g_file_get_contents(path, &raw, &len, NULL));
    const gint16 *pcm = (const gint16 *)raw;
    size_t frames = len / 4, first = 0;
    size_t active = loud_windows(pcm, frames, &first, NULL);
    double active_ms = active * 20.0;
    g_test_message("recorded %.2f s; loud for %.0f ms", (double)frames / RATE, active_ms);
    g_assert_cmpfloat(active_ms, >, TONE_MS * 0.8);
    g_assert_cmpfloat(active_ms, <, TONE_MS * 1.1);
    /* Half a second from the middle of the tone, left channel. */
    size_t n = RATE / 2, at = first + (size_t)(TONE_MS / 2000.0 * RATE) - n / 2;
    g_assert_cmpuint(at + n, <=, frames);
    double tone = goertzel(pcm + 2 * at, n, 2, TONE_HZ);
    double others[] = {goertzel(pcm + 2 * at, n, 2, TONE_HZ * 0.75),
                       goertzel(pcm + 2 * at, n, 2, TONE_HZ * 1.5),
                       goertzel(pcm + 2 * at, n, 2, 1000)};
    g_test_message("amplitude at %d Hz: %.0f; at %.0f, %.0f, 1000 Hz: %.0f, %.0f, %.0f", TONE_HZ,
                   tone, TONE_HZ * 0.75, TONE_HZ * 1.5, others[0], others[1], others[2]);
    /* The server plays at half scale. */
    g_assert_cmpfloat(tone, >, 0.3 * 32768);
    for (size_t i = 0; i < G_N_ELEMENTS(others); i++)
        g_assert_cmpfloat(others[i], <, tone / 100);
}

/* --- the tests --- */

/* Default xfreerdp (it announces RemoteFX): picture, sound, drive, input. */
static void test_xfreerdp(void)
{
    g_autofree char *share = g_build_filename(world.dir, "share", NULL);
    g_assert_cmpint(g_mkdir(share, 0700), ==, 0);
    g_autofree char *hello = g_build_filename(share, "hello.txt", NULL);
    tu_write_file(hello, "hello from the client\n\\ and a tab\t.");
    g_autofree char *tone = g_strdup_printf("%d:%d", TONE_HZ, TONE_MS);
    Session s = {0};
    const char *sargs[] = {"--cert", world.cert, "--key", world.key, "--sound-tone", tone,
                           "--drive-read", "share/hello.txt",
                           "--drive-write", "share/out.txt=written by the server",
                           "--drive-read", "share/missing.txt", NULL};
    server_start(&s, "xfreerdp", sargs);

    g_autofree char *rec = g_build_filename(world.dir, "tone.raw", NULL);
    const char *parec[] = {"parec", "--device=vmdesk_null.monitor", "--format=s16le",
                           "--rate=44100", "--channels=2", "--raw", NULL};
    g_autoptr(GSubprocess) recorder = spawn(parec, world.env, rec, NULL);

    g_autofree char *drive = g_strdup_printf("/drive:share,%s", share);
    const char *cargs[] = {"/sound:sys:pulse", drive, "/u:x", "/p:x", NULL};
    client_start(&s, "xfreerdp", cargs);

    g_free(expect_line(&s, "client-connected 1024x768", 20000));
    g_free(expect_line(&s, "logon x", 1000));
    g_free(expect_line(&s, "activated 1024x768 rfx", 10000));
    g_free(expect_line(&s, "rdpdr device drive share id ", 10000));
    g_free(expect_line(&s, "rdpdr read share/hello.txt: hello from the client\\n\\\\ and a tab\\t.",
                       10000));
    g_free(expect_line(&s, "rdpdr failed share/missing.txt open 0xc000000f", 10000));
    g_free(expect_line(&s, "rdpdr wrote share/out.txt 21", 10000));
    g_autofree char *out_path = g_build_filename(share, "out.txt", NULL);
    g_autofree char *written = read_text(out_path);
    g_assert_cmpstr(written, ==, "written by the server");

    g_autofree char *formats = expect_line(&s, "rdpsnd formats ", 10000);
    g_assert_cmpint(atoi(formats + strlen("rdpsnd formats ")), >, 0);
    g_free(expect_line(&s, "rdpsnd format 44100 16 2", 1000));
    g_autofree char *played = g_strdup_printf("rdpsnd played %d", TONE_MS);
    g_free(expect_line(&s, played, TONE_MS + 10000));

    g_autofree char *win = xfreerdp_window();
    expect_bars(win, 1024, 768, 0, 40);

    /* Input: a click, then keys once the window has the focus. */
    xdo("mousemove", "--window", win, "100", "200");
    xdo("click", "1", NULL, NULL, NULL);
    g_free(expect_line(&s, "input mouse 100 200 0x9000", 5000));
    g_free(expect_line(&s, "input mouse 100 200 0x1000", 5000));
    xdo("windowfocus", "--sync", win, NULL, NULL);
    xdo("key", "a", "Up", NULL, NULL);
    g_free(expect_line(&s, "input key 0x1e down", 5000));
    g_free(expect_line(&s, "input key 0x1e up", 5000));
    g_free(expect_line(&s, "input key 0xe048 down", 5000));
    g_free(expect_line(&s, "input key 0xe048 up", 5000));

    /* The sink's monitor heard the tone. The client's PulseAudio stream
     * buffers up to half a second more than the server knows of: record
     * until the tone has been over for a while. */
    wait_tone_over(rec, 15000);
    stop(recorder, SIGINT);
    expect_tone(rec);
    session_finish(&s);
}

/* xfreerdp on a LAN profile (no RemoteFX: planar bitmaps) with dynamic
 * resolution: benchmark frames, then a smaller window resizes the desktop. */
static void test_frames_and_resize(void)
{
    Session s = {0};
    const char *sargs[] = {"--cert", world.cert, "--key", world.key, "--frames", "60", NULL};
    server_start(&s, "frames", sargs);
    const char *cargs[] = {"/network:lan", "/dynamic-resolution", "/u:x", "/p:x", NULL};
    client_start(&s, "frames", cargs);
    g_free(expect_line(&s, "activated 1024x768 planar", 20000));
    g_autofree char *done = expect_line(&s, "frames-done 60 ", 30000);
    g_test_message("%s", done);
    g_autofree char *win = xfreerdp_window();
    expect_bars(win, 1024, 768, 60, 0);

    g_free(expect_line(&s, "disp ready", 10000));
    xdo("windowsize", win, "800", "600", NULL);
    g_free(expect_line(&s, "resize 800x600", 10000));
    g_free(expect_line(&s, "activated 800x600 planar", 10000));
    expect_bars(win, 800, 600, 60, 0);
    session_finish(&s);
}

/* --sam turns NLA on: the right password gets in, a wrong one does not.
 * No --cert: the server makes its own. */
static void test_nla(void)
{
    g_autofree char *sam = g_build_filename(world.dir, "sam", NULL);
    tu_write_file(sam, "x:::" SECRET_NT_HASH ":::\n");
    Session s = {0};
    const char *sargs[] = {"--sam", sam, NULL};
    server_start(&s, "nla", sargs);

    const char *wrong[] = {"/u:x", "/p:wrong", NULL};
    client_start(&s, "nla-wrong", wrong);
    g_assert_true(tu_subprocess_wait(s.client, 20000)); /* it gives up by itself */
    g_assert_false(g_subprocess_get_if_exited(s.client) &&
                   g_subprocess_get_exit_status(s.client) == 0);
    g_clear_object(&s.client);
    g_free(s.client_log);
    g_assert_null(find_line(s.log, "client-connected"));

    const char *right[] = {"/u:x", "/p:secret", NULL};
    client_start(&s, "nla", right);
    g_free(expect_line(&s, "client-connected", 20000));
    g_free(expect_line(&s, "logon x", 1000));
    session_finish(&s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    world_start();
    g_test_add_func("/rdp-server/xfreerdp", test_xfreerdp);
    g_test_add_func("/rdp-server/frames-and-resize", test_frames_and_resize);
    g_test_add_func("/rdp-server/nla", test_nla);
    int rc = g_test_run();
    world_finish();
    return rc;
}
