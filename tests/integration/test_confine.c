/* The confined session helper (client/session/helper/) against TigerVNC's
 * Xvnc and our RDP test server (tests/rdp-server): an exploited library,
 * libvncclient or FreeRDP, or the RDP probe's parser (`vmdesk probe`), gets
 * nothing (each attempt denied, and allowed in the control run without
 * confinement, so the test can fail), and a
 * helper that is killed or crashes mid-session is a lost connection the
 * window recovers from within 5 s, leaving no zombie and no mapping. */
#include "harness.h"
#include "harness_vnc.h"
#include "harness_x.h"

#include "session/vnc/vnc_session.h"

#include <dirent.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const attempts[] = {
    "read-secret",   "socket",        "connect",      "write-home",      "ptrace-parent",
    "read-other-vm", "exec",          "chmod-secret", "utime-secret",    "truncate-secret"};

/* What the helper said about @attempt: "ALLOWED", "denied" or NULL. */
static const char *outcome(const char *err, const char *attempt)
{
    g_autofree char *line = g_strdup_printf("vmdesk helper escape: %s: ", attempt);
    const char *p = strstr(err, line);
    if (!p)
        return NULL;
    p += strlen(line);
    return g_str_has_prefix(p, "ALLOWED") ? "ALLOWED" : g_str_has_prefix(p, "denied") ? "denied"
                                                                                      : NULL;
}

/* `vmdesk @args...` with the helper's escape attempts (@spec), confined or
 * not. */
static RunResult vmdesk_escaping(Harness *h, const char *const *args, const char *spec,
                                 bool confined)
{
    char **saved = h->env;
    h->env = g_environ_setenv(g_strdupv(saved), "VMDESK_TEST_HELPER_ESCAPE", spec, TRUE);
    if (!confined)
        h->env = g_environ_setenv(h->env, "VMDESK_UNSAFE_NO_CONFINE", "1", TRUE);
    RunResult r = harness_vmdesk_argv(h, args);
    g_strfreev(h->env);
    h->env = saved;
    return r;
}

/* `vmdesk @args...` with each escape attempt, confined and not: denied,
 * then ALLOWED. The confined run must still do its work: exit with
 * @status and, unless NULL, make the file @made. @port is another server's
 * port to connect to. */
static void escape_attempts(Harness *h, const char *const *args, int status, const char *made,
                            unsigned port)
{
    /* A secret in the user's home, outside anything shared, and another VM's
     * folder. */
    g_autofree char *home = g_build_filename(h->root, "home", NULL);
    g_autofree char *secret = g_build_filename(home, "secret.txt", NULL);
    g_autofree char *written = g_build_filename(home, "written.txt", NULL);
    g_autofree char *other = g_build_filename(h->root, "data", "vmdesk", "vms", "other", NULL);
    g_remove(written);
    g_assert_cmpint(g_mkdir_with_parents(home, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(other, 0700), ==, 0);
    g_assert_true(g_file_set_contents(secret, "the user's secret\n", -1, NULL));
    g_autofree char *other_file = g_build_filename(other, "vm.conf", NULL);
    g_assert_true(g_file_set_contents(other_file, "[vm]\n", -1, NULL));
    g_autofree char *spec = g_strdup_printf("%s:%s:%s:%u", secret, written, other, port);
    if (made)
        g_remove(made);

    RunResult conf = vmdesk_escaping(h, args, spec, true);
    g_test_message("confined helper (vmdesk %s):\n%s", args[0], conf.err);
    g_assert_cmpint(conf.status, ==, status); /* and the command still works */
    if (made)
        g_assert_true(g_file_test(made, G_FILE_TEST_EXISTS));
    for (size_t i = 0; i < G_N_ELEMENTS(attempts); i++)
        g_assert_cmpstr(outcome(conf.err, attempts[i]), ==, "denied");
    g_assert_false(g_file_test(written, G_FILE_TEST_EXISTS));
    run_result_clear(&conf);

    /* The control run: the same attempts succeed without confinement. */
    RunResult open = vmdesk_escaping(h, args, spec, false);
    g_test_message("unconfined helper (vmdesk %s):\n%s", args[0], open.err);
    for (size_t i = 0; i < G_N_ELEMENTS(attempts); i++)
        g_assert_cmpstr(outcome(open.err, attempts[i]), ==, "ALLOWED");
    g_assert_true(g_file_test(written, G_FILE_TEST_EXISTS));
    run_result_clear(&open);
}

/* `vmdesk screenshot @url`: the session's helper. */
static void screenshot_escape_attempts(Harness *h, const char *url, unsigned port)
{
    g_autofree char *shot = g_build_filename(h->root, "shot.png", NULL);
    const char *args[] = {"screenshot", url, shot, NULL};
    escape_attempts(h, args, 0, shot, port);
}

static void test_escape(void)
{
    Harness h;
    harness_init(&h);
    Xvnc x;
    xvnc_start(&h, &x, "None", NULL, 0);
    g_autofree char *url = g_strdup_printf("vnc://127.0.0.1:%u", x.port);
    screenshot_escape_attempts(&h, url, x.port); /* another port to connect to: Xvnc's own */
    xvnc_stop(&x);
    harness_finish(&h);
}

/* Our RDP test server on a free port (*@port), listening; with @rail, a
 * RemoteApp server. */
static GPid rdp_server_start(Harness *h, unsigned *port, bool rail)
{
    *port = free_tcp_port();
    g_autofree char *log = g_build_filename(h->root, "rdp-server.log", NULL);
    g_autofree char *port_arg = g_strdup_printf("%u", *port);
    const char *argv[] = {g_getenv("VMDESK_TEST_RDP_SERVER"), "--port", port_arg,
                          rail ? "--rail" : NULL, NULL};
    g_assert_nonnull(argv[0]);
    g_remove(log);
    GPid server = harness_spawn(argv, h->env, log);
    for (int i = 0; i < 100; i++) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(log, &text, NULL, NULL) && strstr(text, "VMDESK-SRV listening"))
            break;
        g_usleep(100 * 1000);
    }
    return server;
}

/* The same against our RDP test server: FreeRDP in the helper. */
static void test_escape_rdp(void)
{
    Harness h;
    harness_init(&h);
    unsigned port;
    GPid server = rdp_server_start(&h, &port, false);
    g_autofree char *url = g_strdup_printf("rdp://x@127.0.0.1:%u", port);
    screenshot_escape_attempts(&h, url, port);
    /* The probe's helper, which reads the server's first answer: `vmdesk
     * probe` still says the server is ready (exit status 0). */
    g_autofree char *where = g_strdup_printf("127.0.0.1:%u", port);
    const char *probe[] = {"probe", where, NULL};
    escape_attempts(&h, probe, 0, NULL, port);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    harness_finish(&h);
}

/* `vmdesk connect rdp://127.0.0.1:@port --no-audio --drive S=@share` in a
 * window on @xv (RemoteApp windows of @app; NULL: the desktop), its helper
 * trying to escape (@spec), confined or not, until its last attempt: what
 * it said on stderr. */
static char *desktop_escaping(Harness *h, const Xvfb *xv, unsigned port, const char *share,
                              const char *spec, bool confined, const char *app)
{
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h->env), "DISPLAY", xv->display, TRUE);
    env = g_environ_setenv(env, "VMDESK_TEST_HELPER_ESCAPE", spec, TRUE);
    if (!confined)
        env = g_environ_setenv(env, "VMDESK_UNSAFE_NO_CONFINE", "1", TRUE);
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", port);
    g_autofree char *drive = g_strdup_printf("S=%s", share);
    g_autofree char *log = g_build_filename(h->root, confined ? "desktop-confined.log"
                                                              : "desktop-open.log", NULL);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "connect", url, "--no-audio", "--drive",
                          drive, app ? "--app" : NULL, app, NULL};
    GPid view = harness_spawn(argv, env, log);
    char *text = NULL;
    for (int i = 0; i < 300; i++) {
        g_clear_pointer(&text, g_free);
        if (g_file_get_contents(log, &text, NULL, NULL) && outcome(text, "exec"))
            break;
        g_usleep(100 * 1000);
    }
    kill(view, SIGTERM);
    waitpid(view, NULL, 0);
    g_assert_nonnull(text);
    return text;
}

/* An RDP window's escape test: the user's home with a share (the drive)
 * and a planted secret, another VM's folder, the test server (RemoteApp
 * with @rail), an Xvfb; @spec is the helper's escape spec. */
typedef struct {
    Harness h;
    Xvfb xv;
    unsigned port;
    GPid server;
    char *share, *written, *shared, *staged, *run_file, *spec;
} RdpEscape;

static void rdp_escape_start(RdpEscape *e, bool rail)
{
    harness_init(&e->h);
    xvfb_start(&e->xv);
    e->server = rdp_server_start(&e->h, &e->port, rail);
    g_autofree char *home = g_build_filename(e->h.root, "home", NULL);
    g_autofree char *secret = g_build_filename(home, "secret.txt", NULL);
    g_autofree char *other = g_build_filename(e->h.root, "data", "vmdesk", "vms", "other", NULL);
    e->share = g_build_filename(home, "share", NULL);
    e->written = g_build_filename(home, "written.txt", NULL);
    e->shared = g_build_filename(e->share, "from-helper.txt", NULL);
    /* The window's clipboard staging folder (made, as the window makes it
     * for a copy) and the runtime folder: the helper may write in neither. */
    g_autofree char *run = g_build_filename(e->h.root, "run", "vmdesk", NULL);
    g_autofree char *clip_root = g_build_filename(run, "clipboard", NULL);
    e->staged = g_build_filename(clip_root, "escape.txt", NULL);
    e->run_file = g_build_filename(run, "escape.txt", NULL);
    g_assert_cmpint(g_mkdir_with_parents(clip_root, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(e->share, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(other, 0700), ==, 0);
    g_assert_true(g_file_set_contents(secret, "the user's secret\n", -1, NULL));
    e->spec = g_strdup_printf("%s:%s:%s:%u:%s:%s:%s", secret, e->written, other, e->port,
                              e->shared, e->staged, e->run_file);
}

/* What a confined helper said: every attempt denied, the window's
 * staging and runtime folders unwritable, the share writable. */
static void rdp_escape_expect_confined(RdpEscape *e, const char *said)
{
    for (size_t i = 0; i < G_N_ELEMENTS(attempts); i++)
        g_assert_cmpstr(outcome(said, attempts[i]), ==, "denied");
    g_assert_cmpstr(outcome(said, "write-stage"), ==, "denied");
    g_assert_cmpstr(outcome(said, "write-runtime"), ==, "denied");
    g_assert_cmpstr(outcome(said, "write-share"), ==, "ALLOWED");
    g_assert_false(g_file_test(e->written, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(e->staged, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(e->run_file, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(e->shared, G_FILE_TEST_EXISTS));
}

static void rdp_escape_finish(RdpEscape *e)
{
    kill(e->server, SIGTERM);
    waitpid(e->server, NULL, 0);
    xvfb_stop(&e->xv);
    harness_finish(&e->h);
    g_free(e->share);
    g_free(e->written);
    g_free(e->shared);
    g_free(e->staged);
    g_free(e->run_file);
    g_free(e->spec);
}

/* The RDP desktop window: FreeRDP in its helper may write in the share,
 * and nothing else (not the window's clipboard staging folder, where the
 * window writes the server's files itself, nor the runtime folder); the
 * control run without confinement can do everything. */
static void test_escape_rdp_desktop(void)
{
    RdpEscape e = {0};
    rdp_escape_start(&e, false);
    g_autofree char *conf = desktop_escaping(&e.h, &e.xv, e.port, e.share, e.spec, true, NULL);
    g_test_message("confined desktop helper:\n%s", conf);
    rdp_escape_expect_confined(&e, conf);
    g_remove(e.shared);

    g_autofree char *open = desktop_escaping(&e.h, &e.xv, e.port, e.share, e.spec, false, NULL);
    g_test_message("unconfined desktop helper:\n%s", open);
    for (size_t i = 0; i < G_N_ELEMENTS(attempts); i++)
        g_assert_cmpstr(outcome(open, attempts[i]), ==, "ALLOWED");
    g_assert_cmpstr(outcome(open, "write-stage"), ==, "ALLOWED");
    g_assert_cmpstr(outcome(open, "write-runtime"), ==, "ALLOWED");
    g_assert_true(g_file_test(e.written, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(e.staged, G_FILE_TEST_EXISTS));
    rdp_escape_finish(&e);
}

/* A RemoteApp session's helper is confined as the desktop's: the same
 * attempts denied, the share writable (the control run without
 * confinement is the desktop test's: the same helper program). */
static void test_escape_rdp_app(void)
{
    RdpEscape e = {0};
    rdp_escape_start(&e, true);
    g_autofree char *conf =
        desktop_escaping(&e.h, &e.xv, e.port, e.share, e.spec, true, "notepad");
    g_test_message("confined RemoteApp helper:\n%s", conf);
    rdp_escape_expect_confined(&e, conf);
    rdp_escape_finish(&e);
}

/* The helper process `vmdesk-session-helper @mode` ("vnc", "rdp", "probe")
 * of @parent, or 0. */
static pid_t find_helper(pid_t parent, const char *mode)
{
    pid_t found = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && !found && (e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0)
            continue;
        g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", pid);
        g_autofree char *stat = NULL;
        if (!g_file_get_contents(stat_path, &stat, NULL, NULL) || !strrchr(stat, ')'))
            continue;
        char state;
        int ppid;
        if (sscanf(strrchr(stat, ')') + 1, " %c %d", &state, &ppid) != 2 || ppid != parent)
            continue;
        g_autofree char *cmd_path = g_strdup_printf("/proc/%d/cmdline", pid);
        g_autofree char *cmd = NULL;
        gsize len = 0;
        if (g_file_get_contents(cmd_path, &cmd, &len, NULL) && len > 0 &&
            !strcmp(cmd, "vmdesk-session-helper") && len > strlen(cmd) + 1 &&
            !strcmp(cmd + strlen(cmd) + 1, mode))
            found = pid;
    }
    if (d)
        closedir(d);
    return found;
}

/* Shared framebuffers mapped in @pid. */
static int framebuffer_maps(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", pid);
    g_autofree char *maps = NULL;
    g_assert_true(g_file_get_contents(path, &maps, NULL, NULL));
    int n = 0;
    for (const char *p = maps; (p = strstr(p, "memfd:vmdesk-framebuffer")); p++)
        n++;
    return n;
}

/* Kill the window's helper with @sig: the window (titled @prefix..., "—
 * @proto — vmdesk" when connected) says the connection was lost and is back
 * on the picture, with a new helper, within 5 s. */
static void crash_and_recover(const char *display, pid_t view, int sig, const char *prefix,
                              const char *proto)
{
    g_autofree char *connected = g_strdup_printf("— %s — vmdesk", proto);
    g_autofree char *mode = g_ascii_strdown(proto, -1);
    pid_t helper = find_helper(view, mode);
    g_assert_cmpint(helper, >, 0);
    g_assert_cmpint(framebuffer_maps(view), ==, 1);
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(kill(helper, sig), ==, 0);
    g_autofree char *lost = wait_window(display, prefix, "connection lost", 5000);
    g_assert_nonnull(lost);
    pid_t again = 0;
    bool back = false;
    while (!back && g_get_monotonic_time() - t0 < 5 * G_USEC_PER_SEC) {
        g_usleep(50 * 1000);
        g_autofree char *title = NULL;
        g_autofree char *id = x_find_window(display, prefix, &title);
        again = find_helper(view, mode);
        back = again && again != helper && id && title && strstr(title, connected) &&
               !strstr(title, "connection lost") && framebuffer_maps(view) == 1;
    }
    g_test_message("signal %d: back after %.2f s", sig,
                   (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    g_assert_true(back);
    /* Reaped (no zombie), and the old picture unmapped (checked above: one
     * framebuffer mapping, the new helper's). */
    g_autofree char *old = g_strdup_printf("/proc/%d", helper);
    g_assert_false(g_file_test(old, G_FILE_TEST_EXISTS));
}

static void test_helper_crash(void)
{
    Harness h;
    harness_init(&h);
    Xvfb xv;
    xvfb_start(&xv);
    Xvnc x;
    xvnc_start(&h, &x, "None", NULL, 0);
    GPid view = vnc_window_start(&h, &xv, x.port, NULL);
    crash_and_recover(xv.display, view, SIGKILL, "vnc://", "VNC");
    crash_and_recover(xv.display, view, SIGSEGV, "vnc://", "VNC");
    g_assert_cmpint(waitpid(view, NULL, WNOHANG), ==, 0); /* the window lived through it */
    kill(view, SIGTERM);
    waitpid(view, NULL, 0);
    xvnc_stop(&x);
    xvfb_stop(&xv);
    harness_finish(&h);
}

/* The same for the RDP desktop window (`vmdesk connect rdp://... --no-audio`). */
static void test_helper_crash_rdp(void)
{
    Harness h;
    harness_init(&h);
    Xvfb xv;
    xvfb_start(&xv);
    unsigned port;
    GPid server = rdp_server_start(&h, &port, false);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h.env), "DISPLAY", xv.display, TRUE);
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u", port);
    g_autofree char *log = g_build_filename(h.root, "rdp-window.log", NULL);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "connect", url, "--no-audio", NULL};
    GPid view = harness_spawn(argv, env, log);
    g_free(wait_window(xv.display, "rdp://", "— RDP — vmdesk", 20000));
    crash_and_recover(xv.display, view, SIGKILL, "rdp://", "RDP");
    crash_and_recover(xv.display, view, SIGSEGV, "rdp://", "RDP");
    g_assert_cmpint(waitpid(view, NULL, WNOHANG), ==, 0);
    kill(view, SIGTERM);
    waitpid(view, NULL, 0);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    xvfb_stop(&xv);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/confine/escape-denied", test_escape);
    g_test_add_func("/confine/escape-denied-rdp", test_escape_rdp);
    g_test_add_func("/confine/escape-denied-rdp-desktop", test_escape_rdp_desktop);
    g_test_add_func("/confine/escape-denied-rdp-app", test_escape_rdp_app);
    g_test_add_func("/confine/helper-crash", test_helper_crash);
    g_test_add_func("/confine/helper-crash-rdp", test_helper_crash_rdp);
    return g_test_run();
}
