/* The world the tests of vmdesk-test-rdp-server run in, the server's log,
 * the client's window and the recorded tone; see rdp_test_harness.h. */
#include "rdp_test_harness.h"

#include "session/clip_image.h"
#include "test_util.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <X11/Xlib.h>

RtWorld rt_world;

/* --- processes --- */

static GSubprocess *spawn_with(GSubprocessFlags flags, const char *const *argv, char **env,
                               const char *out_path, const char *err_path)
{
    /* One file for both: one open file (2>&1). Two opens of the same path
     * have their own offsets, and the buffered stdout written at exit
     * overwrites what went to stderr (xfreerdp's errors) before it. */
    bool merge = out_path && err_path && strcmp(out_path, err_path) == 0;
    if (merge)
        flags |= G_SUBPROCESS_FLAGS_STDERR_MERGE;
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(flags);
    if (env)
        g_subprocess_launcher_set_environ(l, env);
    if (out_path)
        g_subprocess_launcher_set_stdout_file_path(l, out_path);
    if (err_path && !merge)
        g_subprocess_launcher_set_stderr_file_path(l, err_path);
    g_autoptr(GError) err = NULL;
    GSubprocess *p = g_subprocess_launcher_spawnv(l, argv, &err);
    g_assert_no_error(err);
    return p;
}

GSubprocess *rt_spawn(const char *const *argv, char **env, const char *out_path,
                      const char *err_path)
{
    return spawn_with(G_SUBPROCESS_FLAGS_NONE, argv, env, out_path, err_path);
}

int rt_run_all(const char *const *argv, char **env, char **out)
{
    g_autoptr(GSubprocessLauncher) l =
        tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
    if (env)
        g_subprocess_launcher_set_environ(l, env);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, argv, &err);
    g_assert_no_error(err);
    g_subprocess_communicate_utf8(p, NULL, NULL, out, NULL, &err);
    g_assert_no_error(err);
    return g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
}

char *rt_run(const char *const *argv, char **env)
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

int rt_stop(GSubprocess *p, int sig)
{
    if (!p)
        return -1;
    if (g_subprocess_get_identifier(p))
        g_subprocess_send_signal(p, sig);
    if (!tu_subprocess_wait(p, 10000))
        return -1;
    return g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
}

char *rt_read_text(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    return text;
}

/* --- the world --- */

static void start_xvfb(void)
{
    for (int attempt = 0; attempt < 5 && !rt_world.display; attempt++) {
        int fds[2];
        g_assert_true(g_unix_open_pipe(fds, FD_CLOEXEC, NULL));
        g_autoptr(GSubprocessLauncher) l =
            tu_launcher_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
        g_subprocess_launcher_take_fd(l, fds[1], 10);
        /* -noreset: a client connecting while the server resets after its
         * last client left would be refused. */
        const char *argv[] = {"Xvfb", "-displayfd", "10", "-noreset", "-screen", "0",
                              rt_world.screen ? rt_world.screen : "1280x1024x24",
                              "-nolisten", "tcp", NULL};
        g_autoptr(GError) err = NULL;
        rt_world.xvfb = g_subprocess_launcher_spawnv(l, argv, &err);
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
            rt_world.display = g_strdup_printf(":%d", atoi(buf));
        } else {
            rt_stop(rt_world.xvfb, SIGKILL);
            g_clear_object(&rt_world.xvfb);
        }
    }
    g_assert_nonnull(rt_world.display);
}

static void start_pulse(void)
{
    g_autofree char *sock = g_build_filename(rt_world.run_dir, "pulse", "native", NULL);
    g_autofree char *log = g_build_filename(rt_world.dir, "pulseaudio.log", NULL);
    const char *argv[] = {"pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n",
                          "--use-pid-file=no", "--log-target=stderr",
                          "-L", "module-null-sink sink_name=vmdesk_null",
                          "-L", "module-native-protocol-unix auth-anonymous=1", NULL};
    rt_world.pulse = rt_spawn(argv, rt_world.env, NULL, log);
    const char *info[] = {"pactl", "info", NULL};
    for (int i = 0, n = tu_timeout_ms(10000) / 100; i < n; i++) {
        g_autofree char *out =
            g_file_test(sock, G_FILE_TEST_EXISTS) ? rt_run(info, rt_world.env) : NULL;
        if (out && strstr(out, "Default Sink: vmdesk_null"))
            return;
        g_usleep(100 * 1000);
    }
    g_autofree char *text = rt_read_text(log);
    g_error("PulseAudio did not come up; its log:\n%s", text);
}

/* A session bus of the world's own for xfreerdp3: with DISPLAY set and no
 * bus, it autolaunches a dbus-daemon that outlives it (and
 * dbus-run-session, which would end it, passes no SIGTERM on to the
 * client the tests stop). Ended with the world. */
static void start_bus(void)
{
    g_autofree char *path = g_build_filename(rt_world.dir, "bus", NULL);
    g_autofree char *address = g_strdup_printf("--address=unix:path=%s", path);
    g_autofree char *log = g_build_filename(rt_world.dir, "dbus-daemon.log", NULL);
    const char *argv[] = {"dbus-daemon", "--session", "--nofork", "--nopidfile", address, NULL};
    rt_world.bus = rt_spawn(argv, NULL, log, log);
    for (int i = 0, n = tu_timeout_ms(10000) / 50; i < n; i++) {
        if (g_file_test(path, G_FILE_TEST_EXISTS)) {
            g_autofree char *value = g_strdup_printf("unix:path=%s", path);
            rt_world.env = g_environ_setenv(rt_world.env, "DBUS_SESSION_BUS_ADDRESS", value, TRUE);
            return;
        }
        g_usleep(50 * 1000);
    }
    g_autofree char *text = rt_read_text(log);
    g_error("dbus-daemon did not come up; its log:\n%s", text);
}

char **rt_vmdesk_env(const char *name, const char *run_dir, bool debug)
{
    g_autofree char *data_name = g_strdup_printf("%s-data", name);
    g_autofree char *run_name = g_strdup_printf("%s-run", name);
    g_autofree char *data = g_build_filename(rt_world.dir, data_name, NULL);
    g_autofree char *run = run_dir ? g_strdup(run_dir) : g_build_filename(rt_world.dir, run_name, NULL);
    g_assert_cmpint(g_mkdir_with_parents(data, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(run, 0700), ==, 0);
    char **env = g_strdupv(rt_world.env);
    env = g_environ_setenv(env, "XDG_DATA_HOME", data, TRUE);
    env = g_environ_setenv(env, "XDG_RUNTIME_DIR", run, TRUE);
    const char *unset[] = {"PULSE_SERVER", "DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY",
                           "GDK_SCALE",    "GDK_DPI_SCALE",            "SDL_VIDEODRIVER",
                           "VMDESK_DEBUG", "WLOG_LEVEL"};
    for (size_t i = 0; i < G_N_ELEMENTS(unset); i++)
        env = g_environ_unsetenv(env, unset[i]);
    return debug ? g_environ_setenv(env, "VMDESK_DEBUG", "1", TRUE) : env;
}

void rt_vmdesk_start(RtSession *s, const char *name, char **env, const char *const *args)
{
    const char *bin = g_getenv("VMDESK_BIN");
    g_assert_nonnull(bin);
    s->client_name = "vmdesk";
    s->client_log = g_strdup_printf("%s/%s-vmdesk.log", rt_world.dir, name);
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", s->port);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)bin);
    g_ptr_array_add(argv, "connect");
    g_ptr_array_add(argv, url);
    for (size_t i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    rt_vmdesk_spawn(s, (const char *const *)argv->pdata, env);
}

void rt_vmdesk_spawn(RtSession *s, const char *const *argv, char **env)
{
    /* Every session, desktop or RemoteApp (--app), runs FreeRDP in the helper. */
    s->expect_helper = true;
    s->helper_checked = false;
    s->app = false;
    for (size_t i = 0; argv[i]; i++)
        s->app = s->app || !strcmp(argv[i], "--app");
    s->client = rt_spawn(argv, env, s->client_log, s->client_log);
}

G_GNUC_NORETURN static void fail_with_logs(RtSession *s, const char *why);

/* The pid of @parent's child `vmdesk-session-helper rdp`, or 0. */
static pid_t rdp_helper_of(pid_t parent)
{
    pid_t found = 0;
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    for (const char *e; d && !found && (e = g_dir_read_name(d));) {
        pid_t pid = (pid_t)atoi(e);
        g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", pid);
        g_autofree char *stat = NULL;
        int ppid = 0;
        char state;
        if (pid <= 0 || !g_file_get_contents(stat_path, &stat, NULL, NULL) || !strrchr(stat, ')') ||
            sscanf(strrchr(stat, ')') + 1, " %c %d", &state, &ppid) != 2 || ppid != parent)
            continue;
        g_autofree char *cmd_path = g_strdup_printf("/proc/%d/cmdline", pid);
        g_autofree char *cmd = NULL;
        gsize len = 0;
        static const char want[] = "vmdesk-session-helper\0rdp";
        if (g_file_get_contents(cmd_path, &cmd, &len, NULL) && len >= sizeof(want) &&
            !memcmp(cmd, want, sizeof(want)))
            found = pid;
    }
    return found;
}

/* A connected vmdesk session (a desktop or RemoteApp) that should be
 * confined is: FreeRDP runs in its helper, not in the window's process.
 * Checked at each expected "client-connected" line (@what) and once at the
 * first other sign of the connection: a RemoteApp line, or a RemoteApp
 * window found (@what NULL; a desktop's window shows before it connects). */
static void check_confined(RtSession *s, const char *what)
{
    bool connected = what && g_str_has_prefix(what, "client-connected");
    bool app_sign = what ? g_str_has_prefix(what, "remoteapp-requested") ||
                               g_str_has_prefix(what, "rail ")
                         : s->app;
    bool first_sign = !s->helper_checked && app_sign;
    if (!s->expect_helper || !s->client || !(connected || first_sign))
        return;
    s->helper_checked = true;
    const char *id = g_subprocess_get_identifier(s->client);
    pid_t helper = id ? rdp_helper_of((pid_t)atoi(id)) : 0;
    if (!helper)
        fail_with_logs(s, "vmdesk's session runs FreeRDP in its own process, not in "
                          "the confined vmdesk-session-helper");
    g_test_message("vmdesk's FreeRDP runs in its helper, pid %d", (int)helper);
}

void rt_world_start(void)
{
    rt_world.dir = tu_tmpdir();
    rt_world.run_dir = g_build_filename(rt_world.dir, "run", NULL);
    g_assert_cmpint(g_mkdir(rt_world.run_dir, 0700), ==, 0);
    start_xvfb();
    g_autofree char *pulse_server = g_strdup_printf("unix:%s/pulse/native", rt_world.run_dir);
    char **env = g_get_environ();
    env = g_environ_setenv(env, "DISPLAY", rt_world.display, TRUE);
    env = g_environ_setenv(env, "HOME", rt_world.dir, TRUE);
    env = g_environ_setenv(env, "XDG_RUNTIME_DIR", rt_world.run_dir, TRUE);
    env = g_environ_setenv(env, "PULSE_SERVER", pulse_server, TRUE);
    env = g_environ_unsetenv(env, "XDG_CONFIG_HOME");
    rt_world.env = env;
    start_bus();
    start_pulse();
    rt_world.cert = g_build_filename(rt_world.dir, "cert.pem", NULL);
    rt_world.key = g_build_filename(rt_world.dir, "key.pem", NULL);
    const char *req[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                         "-keyout", rt_world.key, "-out", rt_world.cert, "-days", "2",
                         "-subj", "/CN=localhost", NULL};
    g_autofree char *out = rt_run(req, NULL);
    g_assert_nonnull(out);
}

void rt_world_finish(void)
{
    rt_stop(rt_world.pulse, SIGTERM);
    g_clear_object(&rt_world.pulse);
    rt_stop(rt_world.bus, SIGTERM);
    g_clear_object(&rt_world.bus);
    rt_stop(rt_world.xvfb, SIGTERM);
    g_clear_object(&rt_world.xvfb);
    tu_rm_rf(rt_world.dir);
    g_free(rt_world.dir);
    g_free(rt_world.run_dir);
    g_free(rt_world.display);
    g_free(rt_world.cert);
    g_free(rt_world.key);
    g_strfreev(rt_world.env);
    memset(&rt_world, 0, sizeof(rt_world));
}

/* --- the server and its log --- */

/* The first line in @text from @from on that starts with RT_PREFIX @what
 * (a glob: * and ? match): the line without the prefix, and the offset
 * past it in *@end. */
static char *line_in(const char *text, gsize from, const char *what, gsize *end)
{
    g_autofree char *glob = g_strconcat(RT_PREFIX, what, "*", NULL);
    g_autoptr(GPatternSpec) pattern = g_pattern_spec_new(glob);
    gsize len = strlen(text);
    for (gsize at = MIN(from, len); at < len;) {
        const char *nl = strchr(text + at, '\n');
        gsize stop = nl ? (gsize)(nl - text) : len;
        g_autofree char *line = g_strndup(text + at, stop - at);
        if (g_pattern_spec_match_string(pattern, line)) {
            if (end)
                *end = nl ? stop + 1 : stop;
            return g_strdup(line + strlen(RT_PREFIX));
        }
        at = nl ? stop + 1 : len;
    }
    return NULL;
}

char *rt_find_line(const char *log, const char *what)
{
    g_autofree char *text = rt_read_text(log);
    return line_in(text, 0, what, NULL);
}

G_GNUC_NORETURN static void fail_with_logs(RtSession *s, const char *why)
{
    g_autofree char *text = rt_read_text(s->log);
    g_autofree char *client = s->client_log ? rt_read_text(s->client_log) : g_strdup("");
    g_error("%s; the server's log:\n%s\n%s:\n%s", why, text,
            s->client_name ? s->client_name : "client", client);
}

static char *wait_next(RtSession *s, gsize *mark, const char *what, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        g_autofree char *text = rt_read_text(s->log);
        char *line = line_in(text, mark ? *mark : 0, what, mark);
        if (line)
            return line;
        if (g_get_monotonic_time() > deadline)
            return NULL;
        g_usleep(50 * 1000);
    }
}

char *rt_expect_line(RtSession *s, const char *what, int timeout_ms)
{
    timeout_ms = tu_timeout_ms(timeout_ms);
    char *line = wait_next(s, NULL, what, timeout_ms);
    if (!line) {
        g_autofree char *why =
            g_strdup_printf("no \"%s\" line from the server within %d ms", what, timeout_ms);
        fail_with_logs(s, why);
    }
    check_confined(s, what);
    return line;
}

gsize rt_log_mark(RtSession *s)
{
    g_autofree char *text = rt_read_text(s->log);
    return strlen(text);
}

char *rt_expect_next(RtSession *s, gsize *mark, const char *what, int timeout_ms)
{
    gsize from = *mark;
    timeout_ms = tu_timeout_ms(timeout_ms);
    char *line = wait_next(s, mark, what, timeout_ms);
    if (!line) {
        g_autofree char *why = g_strdup_printf(
            "no \"%s\" line from the server within %d ms after offset %" G_GSIZE_FORMAT, what,
            timeout_ms, from);
        fail_with_logs(s, why);
    }
    check_confined(s, what);
    return line;
}

void rt_server_start(RtSession *s, const char *name, const char *const *args)
{
    s->log = g_strdup_printf("%s/%s-server.log", rt_world.dir, name);
    g_autofree char *err = g_strdup_printf("%s/%s-server.err", rt_world.dir, name);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)g_getenv("VMDESK_TEST_RDP_SERVER"));
    g_ptr_array_add(argv, "--port");
    g_ptr_array_add(argv, "0");
    for (size_t i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    g_assert_nonnull(argv->pdata[0]);
    /* stdin: a pipe for rt_server_command (only --rail reads it) */
    s->server = spawn_with(G_SUBPROCESS_FLAGS_STDIN_PIPE, (const char *const *)argv->pdata, NULL,
                           s->log, err);
    g_ptr_array_free(argv, TRUE);
    g_autofree char *line = rt_expect_line(s, "listening 127.0.0.1:", 10000);
    s->port = (unsigned)atoi(strrchr(line, ':') + 1);
    g_assert_cmpuint(s->port, >, 0);
}

void rt_xfreerdp_start(RtSession *s, const char *name, const char *const *args)
{
    s->client_name = "xfreerdp3";
    g_free(s->client_log);
    s->client_log = g_strdup_printf("%s/%s-xfreerdp3.log", rt_world.dir, name);
    g_autofree char *v = g_strdup_printf("/v:127.0.0.1:%u", s->port);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "xfreerdp3");
    g_ptr_array_add(argv, v);
    g_ptr_array_add(argv, "/cert:ignore");
    for (size_t i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    s->client = rt_spawn((const char *const *)argv->pdata, rt_world.env, s->client_log,
                         s->client_log);
    g_ptr_array_free(argv, TRUE);
}

void rt_server_command(RtSession *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *line = g_strconcat(cmd, "\n", NULL);
    GOutputStream *in = g_subprocess_get_stdin_pipe(s->server);
    g_autoptr(GError) err = NULL;
    if (!g_output_stream_write_all(in, line, strlen(line), NULL, NULL, &err) ||
        !g_output_stream_flush(in, NULL, &err)) {
        g_autofree char *why = g_strdup_printf("cannot send \"%s\" to the server: %s", cmd,
                                               err->message);
        fail_with_logs(s, why);
    }
}

int rt_client_stop(RtSession *s)
{
    int status = rt_stop(s->client, SIGTERM);
    g_clear_object(&s->client);
    return status;
}

void rt_session_finish(RtSession *s)
{
    rt_client_stop(s);
    g_free(rt_expect_line(s, "disconnected", 10000));
    g_assert_cmpint(rt_stop(s->server, SIGTERM), ==, 0);
    g_clear_object(&s->server);
    g_clear_pointer(&s->log, g_free);
    g_clear_pointer(&s->client_log, g_free);
}

/* --- the X side --- */

static void run_x(const char *program, const char *arg0, va_list ap)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)program);
    for (const char *a = arg0; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (char *)a);
    g_ptr_array_add(argv, NULL);
    g_autofree char *out = rt_run((const char *const *)argv->pdata, rt_world.env);
    if (!out) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv->pdata);
        g_error("%s failed", cmd);
    }
    g_ptr_array_free(argv, TRUE);
}

void rt_xdo(const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    run_x("xdotool", arg0, ap);
    va_end(ap);
}

void rt_x(const char *program, ...)
{
    va_list ap;
    va_start(ap, program);
    const char *arg0 = va_arg(ap, const char *);
    run_x(program, arg0, ap);
    va_end(ap);
}

/* From `xwininfo -root -tree`:  0x600008 "TITLE": ("res" "class")  WxH+X+Y  +X+Y */
static char *find_window(const char *title_prefix, const char *title_part)
{
    const char *argv[] = {"xwininfo", "-root", "-tree", NULL};
    g_autofree char *tree = rt_run(argv, rt_world.env);
    g_auto(GStrv) lines = g_strsplit(tree ? tree : "", "\n", -1);
    g_autofree char *needle = g_strdup_printf("\"%s", title_prefix);
    for (char **l = lines; *l; l++) {
        const char *q = strstr(*l, needle);
        if (!q)
            continue;
        const char *end = strstr(q + 1, "\":");
        g_autofree char *title = g_strndup(q + 1, end ? (gsize)(end - q - 1) : strlen(q + 1));
        if (title_part && !strstr(title, title_part))
            continue;
        const char *id = *l + strspn(*l, " ");
        return g_strndup(id, strcspn(id, " "));
    }
    return NULL;
}

char *rt_wait_window(RtSession *s, const char *title_prefix, const char *title_part,
                     int timeout_ms)
{
    timeout_ms = tu_timeout_ms(timeout_ms);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        char *win = find_window(title_prefix, title_part);
        if (win) {
            check_confined(s, NULL);
            return win;
        }
        if (g_get_monotonic_time() > deadline)
            break;
        g_usleep(100 * 1000);
    }
    const char *argv[] = {"xwininfo", "-root", "-tree", NULL};
    g_autofree char *tree = rt_run(argv, rt_world.env);
    g_autofree char *why = g_strdup_printf(
        "no window titled \"%s...%s\" within %d ms; the windows:\n%s", title_prefix,
        title_part ? title_part : "", timeout_ms, tree ? tree : "");
    fail_with_logs(s, why);
}

bool rt_window_geometry(const char *win, int *x, int *y, int *w, int *h)
{
    const char *argv[] = {"xdotool", "getwindowgeometry", "--shell", win, NULL};
    g_autofree char *out = rt_run(argv, rt_world.env);
    if (!out)
        return false;
    int found = 0;
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        found += sscanf(*l, "X=%d", x) == 1;
        found += sscanf(*l, "Y=%d", y) == 1;
        found += sscanf(*l, "WIDTH=%d", w) == 1;
        found += sscanf(*l, "HEIGHT=%d", h) == 1;
    }
    return found == 4;
}

/* The eight bars of frame @frame_no on a @w x @h picture in @rgb (8-bit
 * RGB): what is wrong, appended to @why. */
static void check_bars(const guint8 *rgb, unsigned w, unsigned h, unsigned frame_no,
                       int tolerance, GString *why)
{
    static const guint32 bars[8] = {0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00,
                                    0xFF00FF, 0xFF0000, 0x0000FF, 0x000000};
    unsigned shift = (frame_no * 8) % w;
    for (unsigned i = 0; i < 8; i++) {
        /* Bar i's middle, where frame_no's shift puts it. */
        unsigned x = ((i * w / 8 + w / 16) + w - shift) % w, y = h / 3;
        const guint8 *px = rgb + ((size_t)y * w + x) * 3;
        guint32 want = bars[i];
        int dr = abs(px[0] - (int)(want >> 16)), dg = abs(px[1] - (int)(want >> 8 & 0xFF)),
            db = abs(px[2] - (int)(want & 0xFF));
        if (dr > tolerance || dg > tolerance || db > tolerance)
            g_string_append_printf(why, "bar %u at (%u,%u) is #%02x%02x%02x, not #%06x; ", i, x,
                                   y, px[0], px[1], px[2], want);
    }
}

/* Converts with ImageMagick (@src: "root" grabs the screen) into 8-bit RGB
 * of @w x @h; false (and why) when that fails or the size differs. */
static bool load_rgb(const char *program, const char *src, const char *crop, unsigned w,
                     unsigned h, guint8 **rgb, GString *why)
{
    g_autofree char *path = g_build_filename(rt_world.dir, "picture.rgb", NULL);
    g_autofree char *dest = g_strconcat("rgb:", path, NULL);
    const char *grab[] = {"import", "-window", "root", "-crop", crop, "-depth", "8", dest, NULL};
    const char *convert[] = {"convert", src, "-depth", "8", dest, NULL};
    g_autofree char *out = rt_run(!strcmp(program, "import") ? grab : convert, rt_world.env);
    gsize len = 0;
    if (!out || !g_file_get_contents(path, (char **)rgb, &len, NULL)) {
        g_string_append_printf(why, "%s could not read %s", program, src);
        return false;
    }
    if (len != (gsize)w * h * 3) {
        g_string_append_printf(why, "the picture has %" G_GSIZE_FORMAT " bytes, not %ux%ux3",
                               len, w, h);
        g_clear_pointer(rgb, g_free);
        return false;
    }
    return true;
}

void rt_expect_bars(const char *win, unsigned w, unsigned h, unsigned frame_no, int tolerance)
{
    GString *why = g_string_new(NULL);
    for (int attempt = 0, n = tu_timeout_ms(10000) / 200; attempt < n; attempt++) {
        g_string_truncate(why, 0);
        int x = 0, y = 0, ww = 0, wh = 0;
        g_autofree guint8 *rgb = NULL;
        if (!rt_window_geometry(win, &x, &y, &ww, &wh)) {
            g_string_append_printf(why, "window %s has no geometry", win);
        } else if ((unsigned)ww != w || (unsigned)wh != h) {
            g_string_append_printf(why, "window %s is %dx%d, not %ux%u", win, ww, wh, w, h);
        } else {
            g_autofree char *crop = g_strdup_printf("%ux%u+%d+%d", w, h, x, y);
            if (load_rgb("import", "root", crop, w, h, &rgb, why))
                check_bars(rgb, w, h, frame_no, tolerance, why);
        }
        if (why->len == 0)
            break;
        g_usleep(200 * 1000);
    }
    if (why->len)
        g_error("the picture is wrong: %s", why->str);
    g_string_free(why, TRUE);
}

void rt_expect_bars_in_png(const char *png, unsigned w, unsigned h, unsigned frame_no,
                           int tolerance)
{
    GString *why = g_string_new(NULL);
    g_autofree guint8 *rgb = NULL;
    if (load_rgb("convert", png, NULL, w, h, &rgb, why))
        check_bars(rgb, w, h, frame_no, tolerance, why);
    if (why->len)
        g_error("%s is wrong: %s", png, why->str);
    g_string_free(why, TRUE);
}

/* --- sound --- */

GSubprocess *rt_recorder_start(const char *path)
{
    const char *parec[] = {"parec", "--device=vmdesk_null.monitor", "--format=s16le",
                           "--rate=44100", "--channels=2", "--raw", NULL};
    GSubprocess *p = rt_spawn(parec, rt_world.env, path, NULL);
    /* parec takes up to a second to start its stream, then writes in 64 KiB
     * pieces: the first piece says it records. A client started before that
     * may play the tone's beginning to nobody. */
    for (int i = 0, n = tu_timeout_ms(10000) / 100; i < n; i++) {
        GStatBuf st;
        if (g_stat(path, &st) == 0 && st.st_size > 0)
            return p;
        g_usleep(100 * 1000);
    }
    g_error("parec wrote nothing in %d ms", tu_timeout_ms(10000));
}

static double goertzel(const gint16 *x, size_t n, size_t step, double hz)
{
    double k = 2 * cos(2 * G_PI * hz / RT_RATE), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i * step] + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    /* Amplitude of that frequency in sample units. */
    return 2 * sqrt(MAX(0, s1 * s1 + s2 * s2 - k * s1 * s2)) / (double)n;
}

/* Loud 20 ms windows of a recording (s16le stereo at RT_RATE): how many, and
 * the end of the last one in frames. */
static size_t loud_windows(const gint16 *pcm, size_t frames, size_t *first, size_t *last_end)
{
    size_t win = RT_RATE / 50, active = 0;
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

void rt_wait_tone_over(const char *path, int timeout_ms)
{
    timeout_ms = tu_timeout_ms(timeout_ms);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        gsize len = 0;
        g_autofree char *raw = NULL;
        size_t last_end = 0;
        if (g_file_get_contents(path, &raw, &len, NULL) &&
            loud_windows((const gint16 *)raw, len / 4, NULL, &last_end) > 0 &&
            len / 4 > last_end + RT_RATE / 2)
            return;
        g_usleep(100 * 1000);
    }
}

void rt_expect_tone(const char *path, int hz, int ms)
{
    gsize len = 0;
    g_autofree char *raw = NULL;
    g_assert_true(g_file_get_contents(path, &raw, &len, NULL));
    const gint16 *pcm = (const gint16 *)raw;
    size_t frames = len / 4, first = 0;
    size_t active = loud_windows(pcm, frames, &first, NULL);
    double active_ms = active * 20.0;
    g_test_message("recorded %.2f s; loud for %.0f ms", (double)frames / RT_RATE, active_ms);
    g_assert_cmpfloat(active_ms, >, ms * 0.8);
    g_assert_cmpfloat(active_ms, <, ms * 1.1);
    /* Half a second from the middle of the tone, left channel. */
    size_t n = RT_RATE / 2, at = first + (size_t)(ms / 2000.0 * RT_RATE) - n / 2;
    g_assert_cmpuint(at + n, <=, frames);
    double tone = goertzel(pcm + 2 * at, n, 2, hz);
    double others[] = {goertzel(pcm + 2 * at, n, 2, hz * 0.75),
                       goertzel(pcm + 2 * at, n, 2, hz * 1.5), goertzel(pcm + 2 * at, n, 2, 1000)};
    g_test_message("amplitude at %d Hz: %.0f; at %.0f, %.0f, 1000 Hz: %.0f, %.0f, %.0f", hz, tone,
                   hz * 0.75, hz * 1.5, others[0], others[1], others[2]);
    /* The server plays at half scale. */
    g_assert_cmpfloat(tone, >, 0.3 * 32768);
    for (size_t i = 0; i < G_N_ELEMENTS(others); i++)
        g_assert_cmpfloat(others[i], <, tone / 100);
}

/* The client's PulseAudio stream buffers up to half a second more than the
 * server knows of: the recording goes on until the tone has been over a while. */
/* Whether process @pid has a child whose name starts with @name. */
static bool has_child(int pid, const char *name)
{
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *path = g_strdup_printf("/proc/%s/stat", e);
        g_autofree char *stat = NULL;
        if (!g_ascii_isdigit(e[0]) || !g_file_get_contents(path, &stat, NULL, NULL))
            continue;
        /* "PID (COMM) STATE PPID ...": COMM may hold spaces, not ')' here. */
        char *open = strchr(stat, '('), *close = strrchr(stat, ')');
        if (!open || !close || close < open)
            continue;
        *close = '\0';
        int ppid = 0;
        char state;
        if (sscanf(close + 1, " %c %d", &state, &ppid) == 2 && ppid == pid &&
            g_str_has_prefix(open + 1, name))
            return true;
    }
    return false;
}

void rt_expect_relayed_sound(RtSession *s, const char *list, const char *stream, int timeout_ms)
{
    int pid = atoi(g_subprocess_get_identifier(s->client));
    /* /proc's name of vmdesk-session-helper, cut to 15 bytes. */
    if (!has_child(pid, "vmdesk-session-"))
        fail_with_logs(s, "vmdesk runs no session helper");
    g_autofree char *want_name = g_strdup_printf("media.name = \"%s\"", stream);
    g_autofree char *want_pid = g_strdup_printf("application.process.id = \"%d\"", pid);
    gint64 deadline = g_get_monotonic_time() + (gint64)tu_timeout_ms(timeout_ms) * 1000;
    g_autofree char *last = NULL;
    for (;;) {
        const char *argv[] = {"pactl", "list", list, NULL};
        g_free(last);
        last = rt_run(argv, rt_world.env);
        g_auto(GStrv) blocks = g_strsplit(last ? last : "", "\n\n", -1);
        for (char **b = blocks; *b; b++)
            if (strstr(*b, want_name) && strstr(*b, want_pid))
                return;
        if (g_get_monotonic_time() > deadline)
            break;
        g_usleep(100 * 1000);
    }
    g_autofree char *why = g_strdup_printf("no %s stream \"%s\" of vmdesk (pid %d); pactl said:\n%s",
                                           list, stream, pid, last ? last : "(nothing)");
    fail_with_logs(s, why);
}

void rt_expect_sound(RtSession *s, GSubprocess *recorder, const char *rec, int hz, int ms)
{
    g_autofree char *formats = rt_expect_line(s, "rdpsnd formats ", 10000);
    g_assert_cmpint(atoi(formats + strlen("rdpsnd formats ")), >, 0);
    g_free(rt_expect_line(s, "rdpsnd format 44100 16 2", 1000));
    g_autofree char *played = g_strdup_printf("rdpsnd played %d", ms);
    g_free(rt_expect_line(s, played, ms + 10000));
    rt_wait_tone_over(rec, 15000);
    rt_stop(recorder, SIGINT);
    rt_expect_tone(rec, hz, ms);
}

/* --- windows of RemoteApp clients --- */

void rt_expect_geometry(RtSession *s, const char *win, int x, int y, int w, int h,
                        int timeout_ms)
{
    timeout_ms = tu_timeout_ms(timeout_ms);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int gx = 0, gy = 0, gw = 0, gh = 0;
    for (;;) {
        bool have = rt_window_geometry(win, &gx, &gy, &gw, &gh);
        if (have && gx == x && gy == y && gw == w && gh == h)
            return;
        if (g_get_monotonic_time() > deadline)
            break;
        g_usleep(100 * 1000);
    }
    g_autofree char *why = g_strdup_printf("window %s is %dx%d+%d+%d, not %dx%d+%d+%d", win, gw,
                                           gh, gx, gy, w, h, x, y);
    fail_with_logs(s, why);
}

void rt_wait_window_gone(RtSession *s, const char *title_prefix, int timeout_ms)
{
    timeout_ms = tu_timeout_ms(timeout_ms);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        g_autofree char *win = find_window(title_prefix, NULL);
        if (!win)
            return;
        if (g_get_monotonic_time() > deadline)
            break;
        g_usleep(100 * 1000);
    }
    g_autofree char *why = g_strdup_printf("a window titled \"%s...\" is still there after %d ms",
                                           title_prefix, timeout_ms);
    fail_with_logs(s, why);
}

/* A window that went away answers BadWindow: a state, not a reason to exit. */
static int ignore_x_error(Display *d, XErrorEvent *e)
{
    (void)d;
    (void)e;
    return 0;
}

/* Waits for @win's map state to be IsViewable (@viewable) or not. */
static void wait_map_state(RtSession *s, const char *win, bool viewable, int timeout_ms)
{
    Display *d = XOpenDisplay(rt_world.display);
    g_assert_nonnull(d);
    int (*old_handler)(Display *, XErrorEvent *) = XSetErrorHandler(ignore_x_error);
    timeout_ms = tu_timeout_ms(timeout_ms);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int state = -1;
    for (;;) {
        XWindowAttributes attr;
        state = XGetWindowAttributes(d, (Window)g_ascii_strtoull(win, NULL, 0), &attr)
                    ? attr.map_state
                    : -1;
        if ((state == IsViewable) == viewable || g_get_monotonic_time() > deadline)
            break;
        g_usleep(50 * 1000);
    }
    XCloseDisplay(d);
    XSetErrorHandler(old_handler);
    if ((state == IsViewable) == viewable)
        return;
    g_autofree char *why =
        g_strdup_printf("window %s is %sviewable after %d ms (map state %d, -1: gone)", win,
                        viewable ? "not " : "still ", timeout_ms, state);
    fail_with_logs(s, why);
}

void rt_wait_window_viewable(RtSession *s, const char *win, int timeout_ms)
{
    wait_map_state(s, win, true, timeout_ms);
}

void rt_wait_window_unmapped(RtSession *s, const char *win, int timeout_ms)
{
    wait_map_state(s, win, false, timeout_ms);
}

void rt_x_close_window(const char *win)
{
    Display *d = XOpenDisplay(rt_world.display);
    g_assert_nonnull(d);
    XEvent ev = {0};
    ev.xclient.type = ClientMessage;
    ev.xclient.window = (Window)g_ascii_strtoull(win, NULL, 0);
    ev.xclient.message_type = XInternAtom(d, "WM_PROTOCOLS", False);
    ev.xclient.format = 32;
    ev.xclient.data.l[0] = (long)XInternAtom(d, "WM_DELETE_WINDOW", False);
    ev.xclient.data.l[1] = CurrentTime;
    g_assert_true(XSendEvent(d, ev.xclient.window, False, NoEventMask, &ev) != 0);
    XSync(d, False);
    XCloseDisplay(d);
}

bool rt_pixel_at(int x, int y, guint32 *rgb)
{
    g_autofree char *path = g_build_filename(rt_world.dir, "pixel.rgb", NULL);
    g_autofree char *dest = g_strconcat("rgb:", path, NULL);
    g_autofree char *crop = g_strdup_printf("1x1+%d+%d", x, y);
    const char *grab[] = {"import", "-window", "root", "-crop", crop, "-depth", "8", dest, NULL};
    g_autofree char *out = rt_run(grab, rt_world.env);
    g_autofree guint8 *px = NULL;
    gsize len = 0;
    if (!out || !g_file_get_contents(path, (char **)&px, &len, NULL) || len != 3)
        return false;
    *rgb = (guint32)px[0] << 16 | (guint32)px[1] << 8 | px[2];
    return true;
}

void rt_expect_pixel(int x, int y, guint32 want, int tolerance)
{
    guint32 got = 0;
    bool have = false;
    for (int attempt = 0, n = tu_timeout_ms(10000) / 200; attempt < n; attempt++) {
        have = rt_pixel_at(x, y, &got);
        if (have && abs((int)(got >> 16) - (int)(want >> 16)) <= tolerance &&
            abs((int)(got >> 8 & 0xFF) - (int)(want >> 8 & 0xFF)) <= tolerance &&
            abs((int)(got & 0xFF) - (int)(want & 0xFF)) <= tolerance)
            return;
        g_usleep(200 * 1000);
    }
    if (!have)
        g_error("cannot grab the screen's pixel at (%d,%d)", x, y);
    g_error("the screen at (%d,%d) is #%06x, not #%06x (tolerance %d)", x, y, got, want,
            tolerance);
}

char *rt_png_sum(GBytes *png, unsigned *w, unsigned *h)
{
    ClipImage img;
    g_autoptr(GError) err = NULL;
    gsize n = 0;
    const uint8_t *p = g_bytes_get_data(png, &n);
    g_assert_true(clip_image_from_png(p, n, &img, &err));
    *w = img.width;
    *h = img.height;
    char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, img.rgba,
                                            (gsize)img.width * img.height * 4);
    clip_image_clear(&img);
    return sum;
}
