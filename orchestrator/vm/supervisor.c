#include "vm/supervisor.h"

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/spawn.h"
#include "common/test_hook.h"
#include "qemu/firmware.h"
#include "qemu/json_lines.h"
#include "qemu/qemu_arch.h"
#include "qemu/qemu_argv.h"
#include "qemu/qmp_client.h"
#include "qemu/qmp_cmd.h"
#include "storage/disk_space.h"
#include "storage/vm_image.h"
#include "storage/vm_overlay.h"
#include "storage/vm_snapshot.h"
#include "vm/supervisor_priv.h"
#include "vm/vm_files.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define QMP_FD_IN_QEMU 3
#define HANDSHAKE_TIMEOUT_MS 30000
#define POWERDOWN_GRACE_S 90   /* a guest that ignores ACPI goes back to RUNNING */
#define TERM_GRACE_S 10
#define LOG_TAIL_LINES 20

static const char *const runtime_sockets[] = {"qmp.sock", "vnc.sock", "qga.sock", "serial.sock",
                                              "swtpm.sock", "control.sock", NULL};


void supervisor_publish(Supervisor *s, VmState state, const char *reason)
{
    supervisor_publish_worded(s, state, reason, NULL);
}

void supervisor_publish_worded(Supervisor *s, VmState state, const char *reason,
                               const char *plain)
{
    if (s->status->state != state && !vm_state_transition_valid(s->status->state, state))
        vd_warn("unexpected state change %s -> %s", vm_state_to_string(s->status->state),
                vm_state_to_string(state));
    if (s->status->state != state)
        vd_info("state %s -> %s%s%s", vm_state_to_string(s->status->state),
                vm_state_to_string(state), reason ? ": " : "", reason ? reason : "");
    s->status->state = state;
    s->status->since = g_get_real_time();
    g_free(s->status->reason);
    s->status->reason = g_strdup(reason);
    g_free(s->status->reason_plain);
    s->status->reason_plain = g_strdup(plain);
    g_autoptr(GError) err = NULL;
    if (!vm_status_save(s->status, s->state_path, &err))
        vd_err("cannot write the state file: %s", err->message);
}

/* The last @lines lines of @path from byte @from on (the logs are appended
 * to, run after run: only this run's part counts). */
static char **log_tail(const char *path, goffset start, int lines)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, NULL))
        return g_new0(char *, 1);
    char *text = start >= 0 && (gsize)start <= len ? data + start : data;
    g_strchomp(text);
    g_auto(GStrv) all = g_strsplit(text, "\n", -1);
    guint n = g_strv_length(all);
    guint from = n > (guint)lines ? n - (guint)lines : 0;
    GStrvBuilder *b = g_strv_builder_new();
    for (guint i = from; i < n; i++)
        if (*all[i])
            g_strv_builder_add(b, all[i]);
    char **out = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return out;
}

static void remove_sockets(Supervisor *s)
{
    for (int i = 0; runtime_sockets[i]; i++) {
        g_autofree char *p = g_build_filename(s->runtime_dir, runtime_sockets[i], NULL);
        g_unlink(p);
    }
}

static void child_setup(gpointer data)
{
    /* If the supervisor dies, the kernel ends its children: no orphan QEMU. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(127);
    if (GPOINTER_TO_INT(data))
        setpriority(PRIO_PROCESS, 0, 10);
}

/* The child's stdout and stderr are appended to @log_path (never truncated:
 * it keeps the runs before, and on a full file system a new start must not
 * lose them), after @header. */
static GSubprocessLauncher *launcher_new(const char *log_path, const char *header, bool nice)
{
    GSubprocessLauncher *l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
    g_subprocess_launcher_set_child_setup(l, child_setup, GINT_TO_POINTER(nice), NULL);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (header && write(fd, header, strlen(header)) < 0)
            vd_warn("cannot write %s: %s", log_path, g_strerror(errno));
        g_subprocess_launcher_take_stdout_fd(l, fd);
        g_subprocess_launcher_take_stderr_fd(l, dup(fd));
    }
    return l;
}

/* Append one line of ours to a child's log, so its tail tells the story. */
static void log_append(const char *log_path, const char *line)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *ts = g_date_time_format(now, "%F %T");
    g_autofree char *text = g_strdup_printf("vmdesk %s: %s\n", ts, line);
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (write(fd, text, strlen(text)) < 0)
            vd_warn("cannot write %s", log_path);
        close(fd);
    }
}

/* Logs are appended to across runs: one that has grown past LOG_ROTATE_BYTES
 * becomes NAME.1 (replacing the one before) when a run starts, so a VM's logs
 * hold this run and at least the one before it, in at most twice that size. */
#define LOG_ROTATE_BYTES (8 * 1024 * 1024)

static void log_rotate(const char *logs_dir, const char *name)
{
    g_autofree char *path = g_build_filename(logs_dir, name, NULL);
    GStatBuf sb;
    if (g_stat(path, &sb) != 0 || sb.st_size <= LOG_ROTATE_BYTES)
        return;
    g_autofree char *old = g_strconcat(path, ".1", NULL);
    if (rename(path, old) != 0)
        vd_warn("cannot rotate %s: %s", path, g_strerror(errno));
}

static bool wait_for_socket(const char *path, GSubprocess *proc, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        if (g_file_test(path, G_FILE_TEST_EXISTS))
            return true;
        if (g_subprocess_get_identifier(proc) == NULL)
            return false;
        g_usleep(10 * 1000);
    }
    return false;
}

static bool start_swtpm(Supervisor *s, GError **error)
{
    const char *state = s->tpm_dir;
    g_autofree char *sock = g_build_filename(s->runtime_dir, "swtpm.sock", NULL);
    g_autofree char *log = g_build_filename(s->vm_dir, "logs", "swtpm.log", NULL);
    g_autofree char *state_opt = g_strdup_printf("dir=%s,mode=0600", state);
    g_autofree char *ctrl_opt = g_strdup_printf("type=unixio,path=%s,mode=0600", sock);
    if (!vd_mkdir_private(state, error))
        return false;
    const char *argv[] = {"swtpm", "socket", "--tpm2", "--tpmstate", state_opt, "--ctrl",
                          ctrl_opt, "--terminate", "--flags", "startup-clear", NULL};
    g_autoptr(GSubprocessLauncher) l = launcher_new(log, NULL, false);
    s->swtpm = g_subprocess_launcher_spawnv(l, argv, error);
    if (!s->swtpm) {
        g_prefix_error(error, "cannot start swtpm for the TPM: ");
        return false;
    }
    if (!wait_for_socket(sock, s->swtpm, 5000)) {
        g_auto(GStrv) tail = log_tail(log, 0, 5);
        g_autofree char *t = g_strjoinv("; ", tail);
        g_set_error(error, VD_ERROR, VD_ERROR_VM, "swtpm did not start: %s", t);
        return false;
    }
    return true;
}

static void stop_child(GSubprocess *p, int grace_ms)
{
    if (!p || !g_subprocess_get_identifier(p))
        return;
    g_subprocess_send_signal(p, SIGTERM);
    gint64 deadline = g_get_monotonic_time() + (gint64)grace_ms * 1000;
    while (g_subprocess_get_identifier(p) && g_get_monotonic_time() < deadline) {
        /* GSubprocess reaps from GLib's worker: iterate our context so its
         * completion is processed. */
        g_main_context_iteration(NULL, FALSE);
        g_usleep(5000);
    }
    if (g_subprocess_get_identifier(p))
        g_subprocess_force_exit(p);
    g_subprocess_wait(p, NULL, NULL);
}

static const char *shutdown_text(const char *reason, bool guest)
{
    if (!g_strcmp0(reason, "guest-shutdown"))
        return "the guest powered off";
    if (!g_strcmp0(reason, "host-qmp-quit"))
        return "forced off (QMP quit)";
    if (!g_strcmp0(reason, "host-qmp-system-reset"))
        return "reset by QMP";
    if (!g_strcmp0(reason, "host-signal"))
        return "QEMU got a termination signal";
    if (!g_strcmp0(reason, "host-ui"))
        return "closed from QEMU's user interface";
    if (!g_strcmp0(reason, "guest-panic"))
        return "the guest panicked";
    return guest ? "the guest shut down" : "the host shut the VM down";
}

static gboolean powerdown_expired(gpointer data)
{
    Supervisor *s = data;
    s->powerdown_timer = 0;
    if (s->status->state == VM_STATE_STOPPING && !s->saw_shutdown)
        supervisor_publish(s, VM_STATE_RUNNING, "the guest ignored the ACPI power-down request");
    return G_SOURCE_REMOVE;
}

/* --- QMP events, dispatched from the table below --- */

/* QEMU pauses the VM on a write error it is told to stop for (werror's
 * default, enospc: a full host file system). BLOCK_IO_ERROR comes before the
 * STOP it causes; keep its reason for that STOP. */
static void on_block_io_error(const char *event, JsonObject *data, void *user_data)
{
    Supervisor *s = user_data;
    const char *action = json_member_string(data, "action");
    const char *why = json_member_string(data, "reason");
    bool nospace = false;
    json_member_bool(data, "nospace", &nospace);
    vd_warn("I/O error on the VM's %s (%s): %s; QEMU's action: %s",
            json_member_string(data, "device") ? json_member_string(data, "device") : "disk",
            json_member_string(data, "operation") ? json_member_string(data, "operation") : "?",
            why ? why : "unknown", action ? action : "?");
    if (g_strcmp0(action, "stop"))
        return;
    g_autofree char *disk = s->disk_top ? g_strdup(s->disk_top) : vm_store_disk_path(s->cfg);
    g_free(s->io_error);
    if (nospace && disk)
        s->io_error = vm_files_no_space_text(disk, NULL);
    else
        s->io_error = g_strdup_printf("I/O error on %s: %s", disk ? disk : "the disk",
                                      why ? why : "unknown");
    /* More errors can come while it is paused already: say the latest. */
    if (s->status->state == VM_STATE_PAUSED)
        supervisor_publish(s, VM_STATE_PAUSED, s->io_error);
}

static void on_stop(const char *event, JsonObject *data, void *user_data)
{
    Supervisor *s = user_data;
    VmState st = s->status->state;
    g_autofree char *why = g_steal_pointer(&s->io_error);
    bool idle = s->idle_pausing && !why;
    s->idle_pausing = false;
    if (st != VM_STATE_STOPPING && st != VM_STATE_SNAPSHOTTING) {
        s->status->idle = idle;
        supervisor_publish(s, VM_STATE_PAUSED,
                           idle ? "idle: no vmdesk window, app or command used it" : why);
    }
}

static void on_resume(const char *event, JsonObject *data, void *user_data)
{
    Supervisor *s = user_data;
    VmState st = s->status->state;
    if (st != VM_STATE_STOPPING && st != VM_STATE_SNAPSHOTTING) {
        bool was_idle = s->status->idle;
        s->status->idle = false;
        supervisor_idle_touch(s);
        supervisor_publish(s, VM_STATE_RUNNING, NULL);
        if (was_idle)
            supervisor_idle_fix_clock(s);
    }
}

static void on_shutdown(const char *event, JsonObject *data, void *user_data)
{
    Supervisor *s = user_data;
    bool guest = false;
    json_member_bool(data, "guest", &guest);
    s->saw_shutdown = true;
    g_free(s->shutdown_reason);
    s->shutdown_reason = g_strdup(shutdown_text(json_member_string(data, "reason"), guest));
    supervisor_publish(s, VM_STATE_STOPPING, s->shutdown_reason);
}

static void on_powerdown(const char *event, JsonObject *data, void *user_data)
{
    Supervisor *s = user_data;
    VmState st = s->status->state;
    if (st == VM_STATE_RUNNING || st == VM_STATE_PAUSED) {
        supervisor_publish(s, VM_STATE_STOPPING, "ACPI power-down requested");
        if (s->powerdown_timer)
            g_source_remove(s->powerdown_timer);
        s->powerdown_timer = g_timeout_add_seconds(POWERDOWN_GRACE_S, powerdown_expired, s);
    }
}

/* vmdesk's live snapshot jobs (storage/vm_snapshot.c): SNAPSHOTTING while
 * one runs, then the state it interrupted. */
static void on_job_status_change(const char *event, JsonObject *data, void *user_data)
{
    Supervisor *s = user_data;
    VmState st = s->status->state;
    const char *id = json_member_string(data, "id");
    const char *js = json_member_string(data, "status");
    if (!id || !js || !g_str_has_prefix(id, VM_SNAPSHOT_JOB_PREFIX))
        return;
    if (!strcmp(js, "running") && (st == VM_STATE_RUNNING || st == VM_STATE_PAUSED)) {
        s->before_snapshot = st;
        g_autofree char *why = g_strdup_printf(
            "%s a snapshot", g_str_has_suffix(id, "save")   ? "saving"
                             : g_str_has_suffix(id, "load") ? "loading"
                                                            : "deleting");
        supervisor_publish(s, VM_STATE_SNAPSHOTTING, why);
    } else if ((!strcmp(js, "concluded") || !strcmp(js, "null")) &&
               st == VM_STATE_SNAPSHOTTING) {
        supervisor_publish(s, s->before_snapshot, NULL);
    }
}

static void on_reset(const char *event, JsonObject *data, void *user_data)
{
    vd_info("the guest reset");
}

static void on_guest_panicked(const char *event, JsonObject *data, void *user_data)
{
    vd_warn("the guest panicked");
}

static const QmpEventHandler qmp_events[] = {
    {"BLOCK_IO_ERROR", on_block_io_error},
    {"STOP", on_stop},
    {"RESUME", on_resume},
    {"SHUTDOWN", on_shutdown},
    {"POWERDOWN", on_powerdown},
    {"JOB_STATUS_CHANGE", on_job_status_change},
    {"RESET", on_reset},
    {"GUEST_PANICKED", on_guest_panicked},
    {NULL, NULL},
};

static gboolean on_qmp_input(int fd, GIOCondition cond, gpointer data)
{
    Supervisor *s = data;
    g_autoptr(GError) err = NULL;
    if (!qmp_client_read_events(s->qmp, &err)) {
        vd_debug("QMP: %s", err->message);
        s->qmp_watch = 0;
        return G_SOURCE_REMOVE; /* QEMU is going away; its exit ends the loop */
    }
    return G_SOURCE_CONTINUE;
}

static gboolean force_kill(gpointer data)
{
    Supervisor *s = data;
    s->kill_timer = 0;
    vd_warn("QEMU did not end %d s after SIGTERM; killing it", TERM_GRACE_S);
    g_subprocess_force_exit(s->qemu);
    return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer data)
{
    Supervisor *s = data;
    vd_info("supervisor asked to end: stopping QEMU");
    if (s->qemu && g_subprocess_get_identifier(s->qemu)) {
        g_subprocess_send_signal(s->qemu, SIGTERM);
        if (!s->kill_timer)
            s->kill_timer = g_timeout_add_seconds(TERM_GRACE_S, force_kill, s);
    }
    return G_SOURCE_CONTINUE;
}

static void on_qemu_exit(GObject *src, GAsyncResult *res, gpointer data)
{
    Supervisor *s = data;
    g_subprocess_wait_finish(G_SUBPROCESS(src), res, NULL);
    if (!g_main_loop_is_running(s->loop))
        return; /* a failed start: supervisor_main reports it */
    int status = g_subprocess_get_status(s->qemu);
    s->status->exit_status = status;
    g_autofree char *how = vd_describe_wait_status(status);
    g_autofree char *line = g_strdup_printf("QEMU (pid %d) %s", s->status->qemu_pid, how);
    vd_info("%s", line);
    log_append(s->qemu_log, line);
    bool clean = s->saw_shutdown || (WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (clean) {
        /* STOPPED once swtpm has ended and the on-shutdown policy ran. */
        s->clean_exit = true;
    } else {
        g_strfreev(s->status->log_tail);
        s->status->log_tail = log_tail(s->qemu_log, s->qemu_log_start, LOG_TAIL_LINES);
        g_autofree char *reason = g_strdup_printf("QEMU %s unexpectedly", how);
        supervisor_publish(s, VM_STATE_ERROR, reason);
    }
    g_main_loop_quit(s->loop);
}

static char *quote_argv(char **argv)
{
    GString *s = g_string_new(NULL);
    for (char **a = argv; *a; a++) {
        g_autofree char *q = g_shell_quote(*a);
        g_string_append_printf(s, "%s%s", a == argv ? "" : " ", q);
    }
    return g_string_free(s, FALSE);
}

static bool ensure_uefi_vars(Supervisor *s, char **code, GError **error)
{
    g_autofree char *tmpl = NULL;
    if (!firmware_find_uefi(s->cfg->arch, s->cfg->secure_boot, code, &tmpl, error))
        return false;
    if (g_file_test(s->uefi_vars, G_FILE_TEST_EXISTS))
        return true;
    vd_warn("%s is missing; starting from a fresh copy of %s", s->uefi_vars, tmpl);
    return vm_store_copy_uefi_vars(tmpl, s->uefi_vars, error);
}

static bool start_qemu(Supervisor *s, GError **error)
{
    g_autofree char *code = NULL;
    if (s->cfg->firmware == VM_FIRMWARE_UEFI && !ensure_uefi_vars(s, &code, error))
        return false;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "socketpair: %s", g_strerror(errno));
        return false;
    }
    QemuArgvEnv env = {
        .qemu_binary = qemu_arch_binary(s->cfg->arch),
        .vm_dir = s->vm_dir,
        .runtime_dir = s->runtime_dir,
        .accel = s->opts->accel,
        .host_cpus = g_get_num_processors(),
        .ovmf_code = code,
        .supervisor_qmp_fd = QMP_FD_IN_QEMU,
        .uefi_vars = s->uefi_vars,
        .disk_top = s->disk_top,
    };
    g_auto(GStrv) argv = qemu_argv_build(s->cfg, &env, error);
    if (!argv) {
        close(sv[0]);
        close(sv[1]);
        return false;
    }
    g_autofree char *line = quote_argv(argv);
    vd_info("starting: %s", line);

    /* Both logs are appended to (logappend=on for serial.log): mark where
     * this run begins. */
    g_autofree char *serial_log = g_build_filename(s->vm_dir, "logs", "serial.log", NULL);
    log_append(serial_log, SUPERVISOR_LOG_START);
    g_autofree char *header = g_strdup_printf("vmdesk: %s\n", line);
    g_autoptr(GSubprocessLauncher) l =
        launcher_new(s->qemu_log, header, s->cfg->performance == VM_PERF_POWERSAVE);
    g_subprocess_launcher_take_fd(l, sv[1], QMP_FD_IN_QEMU);
    s->qemu = g_subprocess_launcher_spawnv(l, (const char *const *)argv, error);
    /* The launcher holds our copy of QEMU's end of the socketpair: drop it,
     * so that a QEMU that dies while starting reads as EOF at once instead
     * of as a handshake timeout. */
    g_clear_object(&l);
    if (!s->qemu) {
        close(sv[0]);
        g_prefix_error(error, "cannot start QEMU: ");
        return false;
    }
    s->status->qemu_pid = atoi(g_subprocess_get_identifier(s->qemu));
    vm_status_save(s->status, s->state_path, NULL);
    vd_test_crash("VMDESK_TEST_SUPERVISOR_CRASH", "qemu-spawned");
    g_subprocess_wait_async(s->qemu, NULL, on_qemu_exit, s);

    s->qmp = qmp_client_new_fd(sv[0]);
    if (!qmp_client_handshake(s->qmp, HANDSHAKE_TIMEOUT_MS, error))
        return false;
    s->status->qemu_version = g_strdup(qmp_client_qemu_version(s->qmp));
    qmp_client_set_event_table(s->qmp, qmp_events, s);
    QmpStatus st;
    if (!qmp_cmd_query_status(s->qmp, 5000, &st, error))
        return false;
    s->qmp_watch = g_unix_fd_add(qmp_client_get_fd(s->qmp), G_IO_IN | G_IO_HUP | G_IO_ERR,
                                 on_qmp_input, s);
    if (!strcmp(st.status, "running"))
        supervisor_publish(s, VM_STATE_RUNNING, NULL);
    else
        supervisor_publish(s, VM_STATE_PAUSED, st.status);
    return true;
}

/* A disposable run: a qcow2 overlay on the VM's disk and copies of its
 * UEFI variables and TPM state, all in VM_DISPOSABLE_DIR; QEMU is pointed at
 * them. */
static bool setup_disposable(Supervisor *s, GError **error)
{
    g_autofree char *dir = g_build_filename(s->vm_dir, VM_DISPOSABLE_DIR, NULL);
    uint64_t need = disk_space_tree_size(s->uefi_vars) + disk_space_tree_size(s->tpm_dir) +
                    (1u << 20);
    if (!disk_space_check(s->vm_dir, need, "a disposable run", error) ||
        !vd_mkdir_private(dir, error))
        return false;
    g_autofree char *disk = vm_store_disk_path(s->cfg);
    if (disk) {
        /* -u and the size: qemu-img does not open the disk (whose chain QEMU
         * gets explicitly, qemu_argv.c), so no header chooses anything. */
        uint64_t size = 0;
        if (!vm_image_virtual_size(disk, s->cfg->disk_format, &size, error))
            return false;
        g_autofree char *bytes = g_strdup_printf("%" G_GUINT64_FORMAT, size);
        g_autofree char *top = g_build_filename(dir, "disk.qcow2", NULL);
        const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", disk, "-F",
                              s->cfg->disk_format, top, bytes, NULL};
        if (!vd_run_check(argv, 60000, "creating the disposable overlay", error))
            return false;
        s->disk_top = g_steal_pointer(&top);
    }
    g_autofree char *vars = g_build_filename(dir, VM_UEFI_VARS_FILE, NULL);
    g_autofree char *tpm = g_build_filename(dir, VM_TPM_DIR, NULL);
    if (!vm_files_replace(s->uefi_vars, vars, error) || !vm_files_replace(s->tpm_dir, tpm, error))
        return false;
    g_free(s->uefi_vars);
    s->uefi_vars = g_steal_pointer(&vars);
    g_free(s->tpm_dir);
    s->tpm_dir = g_steal_pointer(&tpm);
    vd_info("disposable run: disk, UEFI variables and TPM state are throw-away copies in %s",
            dir);
    return true;
}

/* After QEMU: a clean stop runs the on-shutdown policy, then STOPPED. */
static void finish_stop(Supervisor *s)
{
    const char *reason = s->shutdown_reason ? s->shutdown_reason : "QEMU ended";
    g_autofree char *done = NULL, *done_plain = NULL;
    g_autoptr(GError) err = NULL;
    if (!s->opts->disposable && s->cfg->base && s->cfg->on_shutdown != VM_ON_SHUTDOWN_KEEP) {
        const char *policy = vm_on_shutdown_to_string(s->cfg->on_shutdown);
        g_autofree char *what = g_strdup_printf("%s; applying on-shutdown=%s", reason, policy);
        g_autofree char *what_plain =
            g_strdup_printf("%s; doing what is set for shutdowns: %s", reason, policy);
        supervisor_publish_worded(s, VM_STATE_STOPPING, what, what_plain);
        if (!vm_overlay_on_shutdown_locked(s->cfg, &done, &done_plain, &err)) {
            vd_err("on-shutdown=%s failed: %s", policy, err->message);
            const char *why = vd_error_plain(err) ? vd_error_plain(err) : err->message;
            done = g_strdup_printf("on-shutdown=%s failed (%s); the overlay is kept", policy,
                                   err->message);
            done_plain = g_strdup_printf("%s, set for shutdowns, failed (%s); the overlay is "
                                         "kept",
                                         policy, why);
        }
    }
    g_autofree char *text = done ? g_strdup_printf("%s; %s", reason, done) : g_strdup(reason);
    g_autofree char *plain = done_plain ? g_strdup_printf("%s; %s", reason, done_plain) : NULL;
    supervisor_publish_worded(s, VM_STATE_STOPPED, text, plain);
}

int supervisor_main(const SupervisorOptions *opts)
{
    Supervisor s = {.opts = opts, .control_fd = -1};
    s.vm_dir = vd_paths_vm_dir(opts->name);
    s.runtime_dir = vd_paths_runtime_dir(opts->name);
    s.state_path = g_build_filename(s.runtime_dir, "state", NULL);
    s.qemu_log = g_build_filename(s.vm_dir, "logs", "qemu.log", NULL);
    g_autofree char *logs = g_build_filename(s.vm_dir, "logs", NULL);
    static const char *const rotated[] = {"qemu.log", "serial.log", "swtpm.log", "supervisor.log"};
    for (size_t i = 0; i < G_N_ELEMENTS(rotated); i++)
        log_rotate(logs, rotated[i]);
    GStatBuf sb;
    s.qemu_log_start = g_stat(s.qemu_log, &sb) == 0 ? (goffset)sb.st_size : 0;
    g_autofree char *sup_log = g_build_filename(logs, "supervisor.log", NULL);
    vd_mkdir_private(logs, NULL);
    vd_log_to_file(sup_log, NULL);
    s.loop = g_main_loop_new(NULL, FALSE);

    char *disposable_dir = g_build_filename(s.vm_dir, VM_DISPOSABLE_DIR, NULL);
    s.status = vm_status_new(VM_STATE_STARTING);
    s.status->supervisor_pid = getpid();
    s.status->accel = g_strdup(vm_accel_to_string(opts->accel));
    s.status->accel_reason = g_strdup(opts->accel_reason);
    g_autoptr(GError) err = NULL;
    s.cfg = vm_store_load(opts->name, &err);
    if (s.cfg)
        s.status->rdp_port = s.cfg->rdp_port;
    supervisor_publish(&s, VM_STATE_STARTING, NULL);
    int rc = 1;
    if (!s.cfg)
        goto fail;
    remove_sockets(&s);
    s.uefi_vars = g_build_filename(s.vm_dir, VM_UEFI_VARS_FILE, NULL);
    s.tpm_dir = g_build_filename(s.vm_dir, VM_TPM_DIR, NULL);
    vm_files_remove_tree(disposable_dir); /* left by a run that crashed */
    if (!vm_overlay_recover_locked(s.cfg, NULL, &err) ||
        !vm_snapshot_recover_locked(s.cfg->name, &err) ||
        (opts->disposable && !setup_disposable(&s, &err)))
        goto fail;
    guint sig[3] = {g_unix_signal_add(SIGTERM, on_signal, &s),
                    g_unix_signal_add(SIGINT, on_signal, &s),
                    g_unix_signal_add(SIGHUP, on_signal, &s)};
    if (s.cfg->tpm && !start_swtpm(&s, &err))
        goto fail;
    /* The control socket first: a lease taken as soon as `vmdesk start`
     * returns (the window that started the VM) must find it. */
    if (!supervisor_idle_start(&s, &err) || !start_qemu(&s, &err))
        goto fail;

    g_main_loop_run(s.loop);
    supervisor_idle_stop(&s);
    for (int i = 0; i < 3; i++)
        g_source_remove(sig[i]);
    stop_child(s.swtpm, 3000);
    if (opts->disposable)
        vm_files_remove_tree(disposable_dir);
    if (s.clean_exit && s.cfg)
        finish_stop(&s);
    rc = s.status->state == VM_STATE_STOPPED ? 0 : 1;
    goto out;

fail:
    vd_err("%s", err->message);
    if (s.qemu && g_subprocess_get_identifier(s.qemu)) {
        g_subprocess_force_exit(s.qemu);
        g_subprocess_wait(s.qemu, NULL, NULL);
    }
    if (s.qemu) {
        s.status->exit_status = g_subprocess_get_status(s.qemu);
        g_autofree char *how = vd_describe_wait_status(s.status->exit_status);
        g_autofree char *line = g_strdup_printf("QEMU (pid %d) %s during start",
                                                s.status->qemu_pid, how);
        log_append(s.qemu_log, line);
    }
    g_strfreev(s.status->log_tail);
    s.status->log_tail = log_tail(s.qemu_log, s.qemu_log_start, LOG_TAIL_LINES);
    /* A plain text after a field's name needs the field's label, which is
     * the front end's: the message stands for it then. */
    supervisor_publish_worded(&s, VM_STATE_ERROR, err->message,
                              vd_error_field(err) ? NULL : vd_error_plain(err));
out:
    supervisor_idle_stop(&s);
    if (s.qmp_watch)
        g_source_remove(s.qmp_watch);
    if (s.powerdown_timer)
        g_source_remove(s.powerdown_timer);
    if (s.kill_timer)
        g_source_remove(s.kill_timer);
    stop_child(s.swtpm, 3000);
    if (opts->disposable)
        vm_files_remove_tree(disposable_dir);
    g_free(disposable_dir);
    remove_sockets(&s);
    qmp_client_destroy(s.qmp);
    g_clear_object(&s.qemu);
    g_clear_object(&s.swtpm);
    vm_config_free(s.cfg);
    vm_status_free(s.status);
    g_main_loop_unref(s.loop);
    g_free(s.shutdown_reason);
    g_free(s.io_error);
    g_free(s.uefi_vars);
    g_free(s.tpm_dir);
    g_free(s.disk_top);
    g_free(s.vm_dir);
    g_free(s.runtime_dir);
    g_free(s.state_path);
    g_free(s.qemu_log);
    vd_info("supervisor done");
    if (opts->lock_fd >= 0)
        close(opts->lock_fd);
    return rc;
}
