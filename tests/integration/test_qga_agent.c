/* integration-qga-agent: the guest-agent client against the real QEMU guest
 * agent (Debian's qemu-guest-agent, run on the host with
 * `qemu-ga -m unix-listen`): sync, ping, guest-exec with decoded output, a
 * program that does not exist, a command left unanswered and the resync
 * after it, and the RDP service question through a VM's runtime folder, with
 * stand-ins for systemctl and sc.exe first in the agent's PATH (the agent
 * runs programs with its own environment). No VM needed. Every qemu-ga dies
 * with the test (PR_SET_PDEATHSIG). */
#include "common/error.h"
#include "common/paths.h"
#include "guest/qga_client.h"
#include "guest/rdp_service.h"
#include "test_util.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char *root;   /* temp folder: bin/, agent folders, XDG folders */
static char *bin;    /* stand-in programs */

typedef struct {
    GSubprocess *proc;
    char *dir;
    char *socket;
} Agent;

/* Start qemu-ga listening on @socket (NULL: a new one in its own folder). */
static void agent_start(Agent *a, const char *socket)
{
    static int n;
    a->dir = g_strdup_printf("%s/agent%d", root, n++);
    g_assert_cmpint(g_mkdir_with_parents(a->dir, 0700), ==, 0);
    a->socket = socket ? g_strdup(socket) : g_build_filename(a->dir, "qga.sock", NULL);
    g_autofree char *qga = tu_find_program("qemu-ga", "qemu-guest-agent");
    g_autofree char *pidfile = g_build_filename(a->dir, "qga.pid", NULL);
    g_autofree char *log = g_build_filename(a->dir, "qga.log", NULL);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
    g_autofree char *path = g_strdup_printf("%s:%s", bin, g_getenv("PATH"));
    g_subprocess_launcher_setenv(l, "PATH", path, TRUE);
    g_autoptr(GError) err = NULL;
    a->proc = g_subprocess_launcher_spawn(l, &err, qga, "-m", "unix-listen", "-p", a->socket,
                                          "-f", pidfile, "-t", a->dir, "-l", log, NULL);
    g_assert_no_error(err);
    /* It is ready once it listens. */
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        g_autoptr(QgaClient) c = qga_client_connect_unix(a->socket, NULL);
        if (c)
            return;
        g_usleep(10 * 1000);
    }
    g_autofree char *text = NULL;
    g_file_get_contents(log, &text, NULL, NULL);
    g_error("qemu-ga did not listen on %s within 10 s: %s", a->socket, text ? text : "");
}

static void agent_stop(Agent *a)
{
    g_subprocess_send_signal(a->proc, SIGTERM);
    /* qemu-ga 7.2 quits its main loop from the signal handler, which now
     * and then deadlocks; what counts here is that it is gone. */
    if (!tu_subprocess_wait(a->proc, 3000))
        g_test_message("qemu-ga did not end on SIGTERM within 3 s; killed it");
    g_object_unref(a->proc);
    g_free(a->dir);
    g_free(a->socket);
}

/* A stand-in for @name in bin/ that prints @out and exits with @status. */
static void stand_in(const char *name, const char *out, int status)
{
    g_autofree char *path = g_build_filename(bin, name, NULL);
    g_autofree char *quoted = g_shell_quote(out);
    g_autofree char *script =
        g_strdup_printf("#!/bin/sh\nprintf '%%s' %s\nexit %d\n", quoted, status);
    tu_write_file(path, script);
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
}

/* A TCP port on 127.0.0.1 with nothing behind it. */
static unsigned closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_sync_ping_exec(void)
{
    Agent a;
    agent_start(&a, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(QgaClient) c = qga_client_connect_unix(a.socket, &err);
    g_assert_no_error(err);

    /* Sync and ping, timed: the cost of asking the agent anything. */
    GArray *ms = g_array_new(FALSE, FALSE, sizeof(double));
    for (int i = 0; i < 20; i++) {
        gint64 t0 = g_get_monotonic_time();
        g_assert_true(qga_client_sync(c, 2000, &err));
        g_assert_no_error(err);
        double d = (double)(g_get_monotonic_time() - t0) / 1000.0;
        g_array_append_val(ms, d);
    }
    g_array_sort(ms, cmp_double);
    g_test_message("qemu-ga guest-sync-delimited: median %.2f ms, max %.2f ms",
                   g_array_index(ms, double, 10), g_array_index(ms, double, 19));
    g_assert_cmpfloat(g_array_index(ms, double, 10), <, 100);
    g_array_unref(ms);
    g_assert_true(qga_client_ping(c, 2000, &err));
    g_assert_no_error(err);

    QgaExecResult r;
    const char *echo_args[] = {"echo", "hi", NULL};
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(qga_client_exec(c, "/bin/echo", echo_args, 5000, &r, &err));
    g_assert_no_error(err);
    g_test_message("guest-exec /bin/echo hi: %.2f ms",
                   (double)(g_get_monotonic_time() - t0) / 1000.0);
    g_assert_cmpint(r.exit_code, ==, 0);
    g_assert_cmpstr(r.out, ==, "hi\n");
    g_assert_cmpuint(r.out_len, ==, 3);
    g_assert_cmpstr(r.err, ==, "");
    g_assert_cmpint(r.pid, >, 0);
    qga_exec_result_clear(&r);

    const char *sh_args[] = {"sh", "-c", "printf 'a\\0b'; echo oops >&2; exit 7", NULL};
    g_assert_true(qga_client_exec(c, "/bin/sh", sh_args, 5000, &r, &err));
    g_assert_no_error(err);
    g_assert_cmpint(r.exit_code, ==, 7);
    g_assert_cmpmem(r.out, r.out_len, "a\0b", 3);
    g_assert_cmpstr(r.err, ==, "oops\n");
    qga_exec_result_clear(&r);

    /* A script on standard input (input-data), in an environment of ours. */
    static const char script[] = "printf '%s|%s|%s' \"$1\" \"$VMDESK_X\" \"$(cat)\"\n";
    const char *s_args[] = {"sh", "-c", script, "sh", "arg one", NULL};
    const char *s_env[] = {"VMDESK_X=x y", "PATH=/usr/bin:/bin", NULL};
    g_assert_true(qga_client_exec_input(c, "/bin/sh", s_args, s_env, "input\n", 6, 5000, &r,
                                        &err));
    g_assert_no_error(err);
    g_assert_cmpint(r.exit_code, ==, 0);
    g_assert_cmpmem(r.out, r.out_len, "arg one|x y|input", 17);
    qga_exec_result_clear(&r);
    /* sh -s: the whole script comes on standard input. */
    static const char body[] = "a=$1\nfor w in \"$@\"; do printf '<%s>' \"$w\"; done\n"
                               "printf ' %s' \"$a\"\n";
    const char *sh_s[] = {"sh", "-s", "--", "x", "y z", NULL};
    g_assert_true(qga_client_exec_input(c, "/bin/sh", sh_s, NULL, body, strlen(body), 5000, &r,
                                        &err));
    g_assert_no_error(err);
    g_assert_cmpstr(r.out, ==, "<x><y z> x");
    qga_exec_result_clear(&r);

    const char *kill_args[] = {"sh", "-c", "kill -9 $$", NULL};
    g_assert_true(qga_client_exec(c, "/bin/sh", kill_args, 5000, &r, &err));
    g_assert_cmpint(r.signal, ==, 9);
    qga_exec_result_clear(&r);

    /* A program that does not exist: a clear error, and the client goes on. */
    g_assert_false(qga_client_exec(c, "/nonexistent/program", NULL, 5000, &r, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_test_message("%s", err->message);
    g_assert_true(g_str_has_prefix(err->message, "cannot run /nonexistent/program in the guest: "));
    g_assert_nonnull(strstr(err->message, "No such file or directory"));
    g_clear_error(&err);
    g_assert_true(qga_client_ping(c, 2000, &err));

    /* A program that outlives the deadline: TIMEOUT in time; the agent
     * still answers afterwards. */
    const char *sleep_args[] = {"sleep", "1", NULL};
    t0 = g_get_monotonic_time();
    g_assert_false(qga_client_exec(c, "/bin/sleep", sleep_args, 300, &r, &err));
    gint64 waited = (g_get_monotonic_time() - t0) / 1000;
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(err->message, "did not finish in the guest within 300 ms"));
    g_assert_cmpint(waited, <, 450);
    g_clear_error(&err);
    g_assert_true(qga_client_ping(c, 2000, &err));
    g_assert_no_error(err);

    /* A command whose answer we left unread: the next command resyncs and
     * skips that answer. */
    g_assert_null(qga_client_execute(c, "guest-info", NULL, 0, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_clear_error(&err);
    g_autoptr(JsonNode) t = qga_client_execute(c, "guest-get-time", NULL, 2000, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_VALUE(t));
    g_assert_cmpint(json_node_get_int(t), >, 0);

    /* The agent's own refusal. */
    g_assert_null(qga_client_execute(c, "guest-no-such-command", NULL, 2000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_true(g_str_has_prefix(err->message, "the guest agent refused guest-no-such-command"));
    g_clear_error(&err);

    /* The next client syncs on the same agent. */
    g_clear_pointer(&c, qga_client_destroy);
    c = qga_client_connect_unix(a.socket, &err);
    g_assert_no_error(err);
    g_assert_true(qga_client_sync(c, 2000, &err));
    g_assert_no_error(err);
    g_clear_pointer(&c, qga_client_destroy);
    agent_stop(&a);
}

/* No guest agent: a missing socket, a stale socket file, and a socket that
 * accepts but never answers (QEMU's end of the channel with no agent in the
 * guest). */
static void test_no_agent(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *missing = g_build_filename(root, "missing.sock", NULL);
    g_assert_null(qga_client_connect_unix(missing, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_true(g_str_has_prefix(err->message, "no guest agent"));
    g_clear_error(&err);

    g_autofree char *path = g_build_filename(root, "silent.sock", NULL);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fd, 4), ==, 0);
    g_autoptr(QgaClient) c = qga_client_connect_unix(path, &err);
    g_assert_no_error(err);
    gint64 t0 = g_get_monotonic_time();
    g_assert_false(qga_client_sync(c, 500, &err));
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_test_message("%s", err->message);
    g_assert_true(g_str_has_prefix(err->message, "no guest agent answered within 500 ms"));
    g_assert_cmpint(ms, >=, 490);
    g_assert_cmpint(ms, <, 700);
    g_clear_error(&err);
    g_clear_pointer(&c, qga_client_destroy);
    close(fd); /* the file stays: now nothing listens behind it */
    g_assert_null(qga_client_connect_unix(path, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_true(g_str_has_prefix(err->message, "no guest agent: nothing listens"));
}

static void test_service_query(void)
{
    Agent a;
    agent_start(&a, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(QgaClient) c = qga_client_connect_unix(a.socket, &err);
    g_assert_no_error(err);
    RdpServiceInfo info = {0};

    stand_in("systemctl", "inactive\nactive\n", 0);
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(rdp_service_query(c, VM_OS_LINUX, 1000, &info), ==, RDP_SERVICE_RUNNING);
    g_test_message("Linux service query: %.2f ms", (double)(g_get_monotonic_time() - t0) / 1000);
    g_assert_cmpstr(info.service, ==, "gnome-remote-desktop");
    g_assert_cmpstr(info.detail, ==, "gnome-remote-desktop is active");

    stand_in("systemctl", "inactive\nfailed\n", 3);
    g_assert_cmpint(rdp_service_query(c, VM_OS_LINUX, 1000, &info), ==, RDP_SERVICE_STOPPED);
    g_assert_cmpstr(info.detail, ==, "none of xrdp, gnome-remote-desktop is active");

    stand_in("sc.exe", "\r\nSERVICE_NAME: TermService\r\n        TYPE               : 20  "
                       "WIN32_SHARE_PROCESS\r\n        STATE              : 4  RUNNING\r\n",
             0);
    g_assert_cmpint(rdp_service_query(c, VM_OS_WINDOWS, 1000, &info), ==, RDP_SERVICE_RUNNING);
    g_assert_cmpstr(info.service, ==, "TermService");
    stand_in("sc.exe", "        STATE              : 1  STOPPED\r\n", 0);
    g_assert_cmpint(rdp_service_query(c, VM_OS_WINDOWS, 1000, &info), ==, RDP_SERVICE_STOPPED);
    g_assert_cmpstr(info.detail, ==, "TermService is not running");
    rdp_service_info_clear(&info);
    g_clear_pointer(&c, qga_client_destroy);
    agent_stop(&a);
}

/* rdp_service_running(NAME): the OS from the VM's config, the agent on the
 * VM's qga.sock. */
static void test_service_running_vm(void)
{
    GError *err = NULL;
    g_autoptr(VmConfig) cfg = vm_config_new("win");
    cfg->os = VM_OS_WINDOWS;
    cfg->rdp_port = closed_port();
    g_autofree char *vm_dir = vd_paths_vm_dir("win");
    g_assert_true(vd_mkdir_private(vm_dir, &err));
    g_assert_true(vm_store_save(cfg, &err));
    g_autofree char *run_dir = vd_paths_runtime_dir("win");
    g_assert_true(vd_mkdir_private(run_dir, &err));
    g_assert_no_error(err);

    RdpServiceInfo info = {0};
    /* Not running: no socket. */
    g_assert_cmpint(rdp_service_running("win", 1000, &info), ==, RDP_SERVICE_UNKNOWN);
    g_assert_cmpstr(info.detail, ==, "no guest agent: VM \"win\" is not running");
    g_assert_cmpint(rdp_service_running("nosuch", 1000, &info), ==, RDP_SERVICE_UNKNOWN);
    g_assert_nonnull(strstr(info.detail, "no VM named"));

    g_autofree char *sock = vm_runtime_path("win", "qga.sock");
    Agent a;
    agent_start(&a, sock);
    stand_in("sc.exe", "        STATE              : 4  RUNNING\r\n", 0);
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(rdp_service_running("win", 1000, &info), ==, RDP_SERVICE_RUNNING);
    g_test_message("rdp_service_running(win): %.2f ms",
                   (double)(g_get_monotonic_time() - t0) / 1000);
    g_assert_cmpstr(info.service, ==, "TermService");

    /* Through the command line: the probe's line, then the agent's. */
    const char *vmdesk = g_getenv("VMDESK_BIN");
    g_assert_nonnull(vmdesk);
    const char *argv[] = {vmdesk, "probe", "win", "--timeout", "300", NULL};
    g_autofree char *out = NULL;
    int status = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               NULL, &status, &err));
    g_assert_no_error(err);
    g_test_message("vmdesk probe win:\n%s", out);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 5);
    g_autofree char *want = g_strdup_printf(
        "not ready: nothing listens on 127.0.0.1:%u (VM \"win\" is not running)\n"
        "guest agent: RDP service running (TermService is running)\n",
        cfg->rdp_port);
    g_assert_cmpstr(out, ==, want);
    agent_stop(&a);
    rdp_service_info_clear(&info);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    root = tu_tmpdir();
    bin = g_build_filename(root, "bin", NULL);
    g_assert_cmpint(g_mkdir(bin, 0700), ==, 0);
    /* Our own XDG world, set before GLib reads and caches it. */
    g_autofree char *data = g_build_filename(root, "data", NULL);
    g_autofree char *run = g_build_filename(root, "run", NULL);
    g_setenv("XDG_DATA_HOME", data, TRUE);
    g_setenv("XDG_RUNTIME_DIR", run, TRUE);
    g_test_add_func("/qga-agent/sync-ping-exec", test_sync_ping_exec);
    g_test_add_func("/qga-agent/no-agent", test_no_agent);
    g_test_add_func("/qga-agent/service-query", test_service_query);
    g_test_add_func("/qga-agent/service-running-vm", test_service_running_vm);
    int status = g_test_run();
    tu_rm_rf(root);
    return status;
}
