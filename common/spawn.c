#include "common/spawn.h"

#include "common/error.h"
#include "common/text.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_MAX (1u << 20)

void vd_run_result_clear(VdRunResult *r)
{
    g_clear_pointer(&r->output, g_free);
}

/* A helper must not outlive us: if we are killed mid-run (Ctrl-C is not the
 * only way), the kernel ends it too. */
static void child_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

bool vd_run(const char *const *argv, int timeout_ms, VdRunResult *result, GError **error)
{
    memset(result, 0, sizeof(*result));
    result->wait_status = -1;
    GPid pid;
    int fds[2];
    if (!g_unix_open_pipe(fds, FD_CLOEXEC, NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "pipe: %s", g_strerror(errno));
        return false;
    }
    g_autoptr(GError) local = NULL;
    /* The child's stdout and stderr are both the pipe: one interleaved stream. */
    bool ok = g_spawn_async_with_pipes_and_fds(NULL, argv, NULL,
                                               G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                                   G_SPAWN_STDIN_FROM_DEV_NULL,
                                               child_setup, NULL, -1, fds[1], fds[1], NULL, NULL, 0,
                                               &pid, NULL, NULL, NULL, &local);
    close(fds[1]);
    int out_fd = fds[0];
    if (!ok) {
        close(out_fd);
        g_set_error(error, VD_ERROR,
                    g_error_matches(local, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT) ? VD_ERROR_NOT_FOUND
                                                                               : VD_ERROR_FAILED,
                    "cannot run %s: %s", argv[0], local->message);
        return false;
    }
    GString *out = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool eof = false;
    while (!eof) {
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0) {
            result->timed_out = true;
            break;
        }
        struct pollfd p = {.fd = out_fd, .events = POLLIN};
        int r = poll(&p, 1, (int)MIN(left, 1000));
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        char buf[8192];
        ssize_t n = read(out_fd, buf, sizeof(buf));
        if (n > 0) {
            if (out->len < OUTPUT_MAX)
                g_string_append_len(out, buf, MIN((gsize)n, OUTPUT_MAX - out->len));
        } else if (n == 0 || errno != EINTR) {
            eof = true;
        }
    }
    close(out_fd);
    int status = 0;
    bool killed = false;
    for (;;) {
        if (result->timed_out && !killed) {
            kill(pid, SIGKILL);
            killed = true;
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            result->wait_status = status;
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
        if (w == 0) {
            /* Output closed but the child lingers (it may have daemonized
             * its stdout away): give it until the deadline. */
            if (g_get_monotonic_time() >= deadline)
                result->timed_out = true;
            g_usleep(2000);
        }
    }
    g_spawn_close_pid(pid);
    result->output = g_string_free(out, FALSE);
    return true;
}

char *vd_describe_wait_status(int st)
{
    if (st < 0)
        return g_strdup("was not reaped");
    if (WIFEXITED(st))
        return g_strdup_printf("exited with status %d", WEXITSTATUS(st));
    if (WIFSIGNALED(st))
        return g_strdup_printf("was killed by signal %d (%s)", WTERMSIG(st),
                               g_strsignal(WTERMSIG(st)));
    return g_strdup_printf("ended with wait status 0x%x", st);
}

bool vd_run_check(const char *const *argv, int timeout_ms, const char *what, GError **error)
{
    VdRunResult r;
    if (!vd_run(argv, timeout_ms, &r, error))
        return false;
    bool ok = !r.timed_out && WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 0;
    if (!ok) {
        g_strchomp(r.output);
        g_autofree char *how = r.timed_out ? g_strdup_printf("did not finish in %d s", timeout_ms / 1000)
                                           : vd_describe_wait_status(r.wait_status);
        /* The output may echo what a guest wrote (qemu-img on its disk). */
        g_autofree char *said = *r.output ? vd_text_quote(r.output, -1) : g_strdup("");
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s failed: %s %s%s%s", what, argv[0], how,
                    *said ? ": " : "", said);
    }
    vd_run_result_clear(&r);
    return ok;
}

static gpointer reap(gpointer data)
{
    pid_t pid = GPOINTER_TO_INT(data);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return NULL;
}

int vd_spawn_tunnel(const char *const *argv, const char *what, GError **error)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "socketpair: %s", g_strerror(errno));
        return -1;
    }
    GPid pid = 0;
    GError *e = NULL;
    bool ok = g_spawn_async_with_fds(NULL, (char **)argv, NULL,
                                     G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                     &pid, sv[1], sv[1], -1, &e);
    close(sv[1]);
    if (!ok) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot run %s to reach %s: %s", argv[0],
                    what, e->message);
        g_error_free(e);
        close(sv[0]);
        return -1;
    }
    g_thread_unref(g_thread_new("vd-tunnel-reap", reap, GINT_TO_POINTER(pid)));
    return sv[0];
}
