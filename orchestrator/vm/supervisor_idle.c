/* Idle suspend (ARCHITECTURE.md, Processes): the supervisor's control
 * socket, the leases its users take on it (vm/vm_lease.h), and the pause
 * when nobody has used the VM for idle-suspend seconds. */
#include "vm/supervisor_priv.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "common/log.h"
#include "common/unix_socket.h"
#include "guest/qga_client.h"
#include "qemu/qmp_cmd.h"
#include "vm/vm_lease.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_BYTES 256
#define QMP_TIMEOUT_MS 10000
#define QGA_SYNC_MS 3000
#define QGA_SET_TIME_MS 5000

struct SupervisorLease {
    Supervisor *s;
    int fd;
    guint watch;
    char line[LINE_MAX_BYTES];
    size_t len;
    bool counted;      /* a lease, not yet answered or a reload */
    char *who;
};

static void lease_close(SupervisorLease *l)
{
    Supervisor *s = l->s;
    if (l->watch)
        g_source_remove(l->watch);
    close(l->fd);
    if (l->counted) {
        vd_info("lease of %s ended", l->who);
        s->last_use = g_get_monotonic_time();
    }
    s->leases = g_list_remove(s->leases, l);
    g_free(l->who);
    g_free(l);
}

static void answer(SupervisorLease *l, const char *text)
{
    g_autofree char *line = g_strdup_printf("%s\n", text);
    gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
    int e = vd_fd_send_all(l->fd, line, strlen(line), deadline);
    if (e)
        vd_debug("control socket: cannot answer: %s", g_strerror(e));
}

static void reload(Supervisor *s)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VmConfig) cfg = vm_store_load(s->opts->name, &err);
    if (!cfg) {
        vd_warn("cannot read the config again: %s", err->message);
        return;
    }
    if (cfg->idle_suspend != s->idle_suspend) {
        g_autofree char *d = vm_duration_format(cfg->idle_suspend);
        vd_info("idle-suspend is now %s", d);
    }
    s->idle_suspend = cfg->idle_suspend;
    s->last_use = g_get_monotonic_time();
}

void supervisor_idle_fix_clock(Supervisor *s)
{
    g_autofree char *sock = g_build_filename(s->runtime_dir, "qga.sock", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(QgaClient) c = qga_client_connect_unix(sock, &err);
    if (c && qga_client_sync(c, QGA_SYNC_MS, &err)) {
        JsonObject *args = json_object_new();
        json_object_set_int_member(args, "time", g_get_real_time() * 1000);
        g_autoptr(JsonNode) r = qga_client_execute(c, "guest-set-time", args, QGA_SET_TIME_MS,
                                                   &err);
        /* qemu-ga sets the system clock, then runs hwclock -w, which some
         * guests lack (Debian 12 without util-linux-extra): the clock is
         * right even then. */
        if (r || (err && strstr(err->message, "hwclock"))) {
            vd_info("set the guest's clock after the idle pause%s",
                    r ? "" : " (the guest could not write its hardware clock)");
            return;
        }
    }
    vd_warn("the guest's clock was not corrected after the idle pause: %s",
            err ? err->message : "no guest agent");
}

/* "use": resume a VM that idle suspend paused (the RESUME event sets the
 * clock), then answer. */
static void handle_use(SupervisorLease *l)
{
    Supervisor *s = l->s;
    if (s->status->state == VM_STATE_PAUSED && s->status->idle) {
        vd_info("%s uses the VM: resuming it from idle suspend", l->who);
        g_autoptr(GError) err = NULL;
        if (!qmp_cmd_cont(s->qmp, QMP_TIMEOUT_MS, &err)) {
            g_autofree char *msg = g_strdup_printf("error cannot resume the VM: %s",
                                                   err->message);
            g_strdelimit(msg, "\n", ' ');
            answer(l, msg);
            return;
        }
    }
    answer(l, "ok");
}

static void handle_line(SupervisorLease *l)
{
    Supervisor *s = l->s;
    const char *line = l->line;
    if (!strcmp(line, "reload")) {
        reload(s);
        answer(l, "ok");
        return;
    }
    bool use = g_str_has_prefix(line, "use ");
    if (!use && !g_str_has_prefix(line, "hold ")) {
        answer(l, "error unknown request");
        return;
    }
    l->who = g_strdup(strchr(line, ' ') + 1);
    g_strcanon(l->who, "abcdefghijklmnopqrstuvwxyz0123456789-_ ", '_');
    l->counted = true;
    s->last_use = g_get_monotonic_time();
    vd_info("lease taken: %s (%s)", l->who, use ? "use" : "hold");
    if (use)
        handle_use(l);
    else
        answer(l, "ok");
}

static gboolean on_lease_input(int fd, GIOCondition cond, gpointer data)
{
    SupervisorLease *l = data;
    char buf[LINE_MAX_BYTES];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        l->watch = 0;
        lease_close(l);
        return G_SOURCE_REMOVE;
    }
    if (l->who)
        return G_SOURCE_CONTINUE; /* one request per connection; the rest is ignored */
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            l->line[l->len] = '\0';
            bool keep = !!strncmp(l->line, "reload", 6);
            handle_line(l);
            if (!keep || !l->counted) {
                l->watch = 0;
                lease_close(l);
                return G_SOURCE_REMOVE;
            }
            return G_SOURCE_CONTINUE;
        }
        if (l->len + 1 >= sizeof(l->line)) {
            answer(l, "error request too long");
            l->watch = 0;
            lease_close(l);
            return G_SOURCE_REMOVE;
        }
        l->line[l->len++] = buf[i];
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_control_accept(int fd, GIOCondition cond, gpointer data)
{
    Supervisor *s = data;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0)
        return G_SOURCE_CONTINUE;
    SupervisorLease *l = g_new0(SupervisorLease, 1);
    l->s = s;
    l->fd = c;
    l->watch = g_unix_fd_add(c, G_IO_IN | G_IO_HUP | G_IO_ERR, on_lease_input, l);
    s->leases = g_list_prepend(s->leases, l);
    return G_SOURCE_CONTINUE;
}

static bool in_use(Supervisor *s)
{
    for (GList *i = s->leases; i; i = i->next)
        if (((SupervisorLease *)i->data)->counted)
            return true;
    return false;
}

static gboolean on_idle_tick(gpointer data)
{
    Supervisor *s = data;
    /* Only a RUNNING VM pauses: never during a snapshot, a stop or a pause. */
    if (!s->idle_suspend || s->status->state != VM_STATE_RUNNING || in_use(s) ||
        s->idle_pausing)
        return G_SOURCE_CONTINUE;
    gint64 idle = g_get_monotonic_time() - s->last_use;
    if (idle < (gint64)s->idle_suspend * G_USEC_PER_SEC)
        return G_SOURCE_CONTINUE;
    g_autofree char *d = vm_duration_format(s->idle_suspend);
    vd_info("nothing used the VM for %s: pausing it (idle suspend)", d);
    s->idle_pausing = true;
    g_autoptr(GError) err = NULL;
    if (!qmp_cmd_stop(s->qmp, QMP_TIMEOUT_MS, &err)) {
        s->idle_pausing = false;
        s->last_use = g_get_monotonic_time();
        vd_warn("idle suspend could not pause the VM: %s", err->message);
    }
    return G_SOURCE_CONTINUE;
}

void supervisor_idle_touch(Supervisor *s)
{
    s->last_use = g_get_monotonic_time();
}

bool supervisor_idle_start(Supervisor *s, GError **error)
{
    s->idle_suspend = s->cfg->idle_suspend;
    s->last_use = g_get_monotonic_time();
    g_autofree char *path = g_build_filename(s->runtime_dir, VM_LEASE_SOCKET, NULL);
    /* The runtime folder is 0700; the socket is 0600 before it listens. */
    int fd = vd_unix_listen(path, 16, SOCK_NONBLOCK);
    if (fd < 0) {
        g_set_error(error, VD_ERROR, fd == -ENAMETOOLONG ? VD_ERROR_INVALID : VD_ERROR_FAILED,
                    "cannot listen on %s: %s", path,
                    fd == -ENAMETOOLONG ? "the path is too long" : g_strerror(-fd));
        return false;
    }
    s->control_fd = fd;
    s->control_watch = g_unix_fd_add(fd, G_IO_IN, on_control_accept, s);
    s->idle_tick = g_timeout_add_seconds(1, on_idle_tick, s);
    return true;
}

void supervisor_idle_stop(Supervisor *s)
{
    while (s->leases)
        lease_close(s->leases->data);
    if (s->control_watch)
        g_source_remove(s->control_watch);
    s->control_watch = 0;
    if (s->idle_tick)
        g_source_remove(s->idle_tick);
    s->idle_tick = 0;
    if (s->control_fd >= 0)
        close(s->control_fd);
    s->control_fd = -1;
}
