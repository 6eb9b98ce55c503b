#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Kill what @h started: its VMs, their supervisors, swtpm. */
static void kill_ours(Harness *h)
{
    g_autoptr(GArray) pids = harness_our_pids(h);
    for (guint i = 0; i < pids->len; i++)
        kill(g_array_index(pids, int, i), SIGKILL);
}

/* A test that dies in any way (a failed assertion, ctest's timeout, a
 * SIGKILL) must not leave its VMs running for the rest of the suite. A
 * reaper (forked before the test makes threads) holds the read end of a pipe whose write end only the test
 * holds (close-on-exec, so no VM inherits it): end of file means the test is
 * gone or finished, and the reaper kills whatever still mentions the test's
 * folders. */
static int start_reaper(Harness *h)
{
    int p[2];
    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        /* Twice: ctest's timeout kills the test's children too; a
         * grandchild whose parent has exited belongs to init. */
        if (fork() != 0)
            _exit(0);
        /* Hold nothing of the test's but the pipe (not its listening
         * sockets, not ctest's output pipe beyond the test's own life). */
        int keep = p[0];
        for (int fd = 3; fd < 1024; fd++)
            if (fd != keep)
                close(fd);
        char c;
        for (;;) {
            ssize_t n = read(keep, &c, 1);
            if (n == 0 || (n < 0 && errno != EINTR))
                break;
        }
        for (int i = 0; i < 3; i++) { /* a supervisor may start QEMU as it dies */
            kill_ours(h);
            g_usleep(200 * 1000);
        }
        _exit(0);
    }
    close(p[0]);
    waitpid(pid, NULL, 0);
    return p[1];
}

void harness_init(Harness *h)
{
    memset(h, 0, sizeof(*h));
    h->root = g_dir_make_tmp("vmdesk-it-XXXXXX", NULL);
    g_assert_nonnull(h->root);
    g_autofree char *data = g_build_filename(h->root, "data", NULL);
    g_autofree char *run = g_build_filename(h->root, "run", NULL);
    g_assert_cmpint(g_mkdir_with_parents(run, 0700), ==, 0);
    h->env = g_get_environ();
    h->env = g_environ_setenv(h->env, "XDG_DATA_HOME", data, TRUE);
    h->env = g_environ_setenv(h->env, "XDG_RUNTIME_DIR", run, TRUE);
    /* Credentials stay in the test's folders, never in the desktop's keyring. */
    h->env = g_environ_unsetenv(h->env, "DBUS_SESSION_BUS_ADDRESS");
    const char *gd = g_getenv("VMDESK_TEST_GUEST_DIR");
    g_assert_nonnull(gd);
    h->guest_dir = g_strdup(gd);
    h->reaper = start_reaper(h);
}

void harness_die_with_parent(gpointer data)
{
    (void)data;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

GArray *harness_our_pids(Harness *h)
{
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        if (!g_ascii_isdigit(*e))
            continue;
        /* Ours: our folders in its command line (QEMU, swtpm) or in its
         * environment (the supervisor inherits XDG_*_HOME from vmdesk). */
        bool ours = false;
        const char *files[] = {"cmdline", "environ"};
        for (int f = 0; f < 2 && !ours; f++) {
            g_autofree char *path = g_build_filename("/proc", e, files[f], NULL);
            g_autofree char *text = NULL;
            gsize len = 0;
            if (!g_file_get_contents(path, &text, &len, NULL) || len == 0)
                continue;
            for (gsize i = 0; i + 1 < len; i++)
                if (!text[i])
                    text[i] = ' ';
            ours = strstr(text, h->root) != NULL;
        }
        int pid = atoi(e);
        if (ours && pid != getpid()) {
            /* Zombies have no cmdline, so a match is a live process. */
            g_array_append_val(pids, pid);
        }
    }
    return pids;
}

void harness_finish(Harness *h)
{
    /* The supervisor ends a moment after the VM's last state is written. */
    g_autoptr(GArray) pids = NULL;
    for (int i = 0; i < 100; i++) {
        if (pids)
            g_array_unref(pids);
        pids = harness_our_pids(h);
        if (pids->len == 0)
            break;
        g_usleep(100 * 1000);
    }
    for (guint i = 0; i < pids->len; i++) {
        int pid = g_array_index(pids, int, i);
        g_autofree char *p = g_strdup_printf("/proc/%d/cmdline", pid);
        g_autofree char *cmd = NULL;
        g_file_get_contents(p, &cmd, NULL, NULL);
        g_printerr("left behind: pid %d %s\n", pid, cmd ? cmd : "");
        kill(pid, SIGKILL);
    }
    close(h->reaper); /* it finds nothing left and exits */
    g_assert_cmpuint(pids->len, ==, 0);
    const char *rm[] = {"rm", "-rf", h->root, NULL};
    g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                 NULL);
    g_free(h->root);
    g_free(h->guest_dir);
    g_strfreev(h->env);
}

void run_result_clear(RunResult *r)
{
    g_free(r->out);
    g_free(r->err);
}

RunResult harness_vmdesk_argv(Harness *h, const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)g_getenv("VMDESK_BIN"));
    for (int i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    RunResult r = {0};
    int wait = 0;
    g_autoptr(GError) err = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, h->env, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &wait, &err);
    g_assert_no_error(err);
    g_assert_true(ok);
    r.status = WIFEXITED(wait) ? WEXITSTATUS(wait) : 128 + WTERMSIG(wait);
    g_autofree char *line = g_strjoinv(" ", (char **)argv->pdata + 1);
    g_test_message("vmdesk %s -> %d\n%s%s", line, r.status, r.out, r.err);
    g_ptr_array_free(argv, TRUE);
    return r;
}

static RunResult run_v(Harness *h, const char *arg0, va_list ap)
{
    GPtrArray *args = g_ptr_array_new();
    for (const char *a = arg0; a; a = va_arg(ap, const char *))
        g_ptr_array_add(args, (char *)a);
    g_ptr_array_add(args, NULL);
    RunResult r = harness_vmdesk_argv(h, (const char *const *)args->pdata);
    g_ptr_array_free(args, TRUE);
    return r;
}

RunResult harness_vmdesk(Harness *h, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    RunResult r = run_v(h, arg0, ap);
    va_end(ap);
    return r;
}

char *harness_ok(Harness *h, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    RunResult r = run_v(h, arg0, ap);
    va_end(ap);
    if (r.status != 0)
        g_printerr("vmdesk %s failed (%d): %s\n", arg0, r.status, r.err);
    g_assert_cmpint(r.status, ==, 0);
    g_free(r.err);
    return r.out;
}

JsonObject *harness_list_entry(Harness *h, const char *name, JsonParser *p)
{
    g_autofree char *out = harness_ok(h, "list", "--json", NULL);
    g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
    JsonArray *vms = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)),
                                                  "vms");
    for (guint i = 0; i < json_array_get_length(vms); i++) {
        JsonObject *o = json_array_get_object_element(vms, i);
        if (!g_strcmp0(json_object_get_string_member(o, "name"), name))
            return o;
    }
    return NULL;
}

JsonObject *harness_show(Harness *h, const char *name)
{
    g_autofree char *out = harness_ok(h, "show", name, "--json", NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    json_parser_load_from_data(p, out, -1, &err);
    g_assert_no_error(err);
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

void harness_create_guest(Harness *h, const char *name, const char *extra_append,
                          const char *const *extra_args)
{
    g_autofree char *kernel = g_build_filename(h->guest_dir, "vmlinux", NULL);
    g_autofree char *initrd = g_build_filename(h->guest_dir, "initrd.img", NULL);
    g_autofree char *append = g_strdup_printf("console=ttyS0 quiet%s%s", extra_append ? " " : "",
                                              extra_append ? extra_append : "");
    GPtrArray *argv = g_ptr_array_new();
    const char *base[] = {"create", name, "--os", "other", "--memory", "256M", "--cpus", "2",
                          "--disk", "0", "--kernel", kernel, "--initrd", initrd, "--append",
                          append, NULL};
    for (int i = 0; base[i]; i++)
        g_ptr_array_add(argv, (char *)base[i]);
    for (int i = 0; extra_args && extra_args[i]; i++)
        g_ptr_array_add(argv, (char *)extra_args[i]);
    g_ptr_array_add(argv, NULL);
    RunResult r = harness_vmdesk_argv(h, (const char *const *)argv->pdata);
    if (r.status)
        g_printerr("create failed: %s\n", r.err);
    g_assert_cmpint(r.status, ==, 0);
    run_result_clear(&r);
    g_ptr_array_free(argv, TRUE);
}

char *harness_read_banner(unsigned port, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            /* User networking accepts at once even with no guest listener:
             * only the banner proves the guest answered. */
            char buf[256];
            size_t got = 0;
            gint64 line_deadline = g_get_monotonic_time() + 500 * 1000;
            while (got < sizeof(buf) - 1 && g_get_monotonic_time() < line_deadline) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 100) <= 0)
                    continue;
                ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
                if (n <= 0)
                    break;
                got += (size_t)n;
                if (memchr(buf, '\n', got))
                    break;
            }
            close(fd);
            buf[got] = 0;
            char *nl = strchr(buf, '\n');
            if (nl) {
                *nl = 0;
                return g_strdup(buf);
            }
        } else {
            close(fd);
        }
        g_usleep(100 * 1000);
    }
    return NULL;
}

GPid harness_spawn(const char *const *argv, char **env, const char *log)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    GPid pid;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async_with_pipes_and_fds(
        NULL, argv, (const char *const *)env, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
        harness_die_with_parent, NULL, -1, fd, fd, NULL, NULL, 0, &pid, NULL, NULL, NULL, &err));
    g_assert_no_error(err);
    close(fd);
    return pid;
}
