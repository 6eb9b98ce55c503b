#include "vm/vm_control.h"

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/spawn.h"
#include "qemu/accel.h"
#include "qemu/qmp_cmd.h"
#include "vm/vm_files.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define POLL_US (50 * 1000)
#define QMP_TIMEOUT_MS 10000
#define RESUME_MIN_FREE (1u << 20)      /* less, and a resume cannot help */
#define RESUME_SETTLE_US (1000 * 1000)  /* a resume that holds this long held */

static bool wait_unlocked(const char *name, int timeout_ms);

static bool check_runnable(const VmConfig *cfg, GError **error)
{
    /* The plain text's advice: the manager changes the CD on the VM's page;
     * a kernel and initrd only the command line sets. */
    struct {
        const char *what, *key, *what_plain, *advice;
    } files[] = {
        {"ISO", "iso", "CD image", "or eject it or insert another on the VM's Storage tab (CD)"},
        {"kernel", "kernel", "kernel", "or change the VM's kernel setting"},
        {"initrd", "initrd", "initrd", "or change the VM's initrd setting"},
    };
    const char *paths[] = {cfg->iso, cfg->kernel, cfg->initrd};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        if (paths[i] && g_access(paths[i], R_OK) < 0) {
            const char *why = g_strerror(errno);
            g_autofree char *plain = g_strdup_printf("the %s %s cannot be read (%s); put it back, %s",
                                                     files[i].what_plain, paths[i], why,
                                                     files[i].advice);
            vd_error_set_worded(error, VD_ERROR_NOT_FOUND, NULL, plain,
                                "the %s %s cannot be read (%s); put it back or change it with "
                                "vmdesk set %s %s=PATH",
                                files[i].what, paths[i], why, cfg->name, files[i].key);
            return false;
        }
    }
    g_autofree char *disk = vm_store_disk_path(cfg);
    if (disk && g_access(disk, R_OK | W_OK) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "the disk image %s cannot be used: %s",
                    disk, g_strerror(errno));
        return false;
    }
    if (disk) {
        g_autofree char *owner = vm_store_disk_owner(disk, cfg->name);
        if (owner) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "the disk image %s belongs to VM \"%s\" too; two VMs never share a disk",
                        disk, owner);
            return false;
        }
    }
    g_autofree char *rt = vd_paths_runtime_dir(cfg->name);
    g_autofree char *longest = g_build_filename(rt, "serial.sock", NULL);
    if (strlen(longest) > VD_UNIX_PATH_MAX) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the socket path %s is longer than %d bytes; use a shorter VM name or "
                    "XDG_RUNTIME_DIR",
                    longest, VD_UNIX_PATH_MAX);
        return false;
    }
    return true;
}

/* The RDP port must be ours alone and bindable; if something else took it
 * since create, move to a free one and say so. */
static bool claim_port(VmConfig *cfg, GError **error)
{
    g_autofree char *owner = vm_store_port_owner(cfg->rdp_port, cfg->name);
    if (cfg->rdp_port && !owner && vm_store_port_free(cfg->rdp_port))
        return true;
    unsigned old = cfg->rdp_port;
    if (!vm_store_pick_port(cfg->name, &cfg->rdp_port, error))
        return false;
    vd_warn("port %u on 127.0.0.1 is %s; VM \"%s\" now forwards RDP from port %u", old,
            owner ? "used by another VM" : "taken by another program", cfg->name, cfg->rdp_port);
    return vm_store_save(cfg, error);
}

/* The supervisor ended before it published RUNNING, PAUSED or ERROR (it was
 * killed, or crashed): say how, with the last lines of its log. */
static void report_dead_supervisor(const char *name, int wait_status, GError **error)
{
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *log = g_build_filename(dir, "logs", "supervisor.log", NULL);
    g_autofree char *how = vd_describe_wait_status(wait_status);
    g_autofree char *data = NULL;
    GString *tail = g_string_new(NULL);
    if (g_file_get_contents(log, &data, NULL, NULL)) {
        g_strchomp(data);
        g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
        guint n = g_strv_length(lines);
        for (guint i = n > 10 ? n - 10 : 0; i < n; i++)
            g_string_append_printf(tail, "\n  %s", lines[i]);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_VM,
                "the supervisor of VM \"%s\" %s while QEMU started; start it again, and if "
                "it happens again see %s%s%s",
                name, how, log, tail->len ? "; its last lines:" : "", tail->str);
    g_string_free(tail, TRUE);
}

static void child_setsid(gpointer data)
{
    setsid();
}

static bool start_once(const char *name, const VmStartOptions *opts, VmStatus **status,
                       GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    int lock = vm_lock_acquire(name, error);
    if (lock < 0)
        return false;
    VmAccel accel;
    g_autofree char *reason = NULL;
    if (!check_runnable(cfg, error) || !claim_port(cfg, error) ||
        !accel_resolve(opts->accel_override ? opts->accel : cfg->accel, cfg->arch, &accel,
                       &reason, error)) {
        close(lock);
        return false;
    }
    g_autofree char *state_path = vm_runtime_path(name, "state");
    g_unlink(state_path);

    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDIN_INHERIT | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_subprocess_launcher_set_child_setup(l, child_setsid, NULL, NULL);
    g_subprocess_launcher_take_fd(l, lock, 3);
    const char *argv[] = {opts->self_exe, "__supervise", name, "--accel",
                          vm_accel_to_string(accel), "--accel-reason", reason, "--lock-fd", "3",
                          opts->disposable ? "--disposable" : NULL, NULL};
    g_autoptr(GSubprocess) sup = g_subprocess_launcher_spawnv(l, argv, error);
    /* The launcher holds our copy of the lock fd: drop it, so that the lock
     * is the supervisor's alone and ends with it. */
    g_clear_object(&l);
    if (!sup) {
        g_prefix_error(error, "cannot start the VM's supervisor: ");
        return false;
    }

    int timeout = opts->timeout_ms ? opts->timeout_ms : 120000;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout * 1000;
    g_autofree char *sup_pid = g_strdup(g_subprocess_get_identifier(sup));
    for (;;) {
        /* Asked before the state is read: a supervisor that published ERROR
         * and exited is reported by its state, not as one that died. GLib's
         * worker reaps it (the identifier goes NULL) without our loop. */
        bool gone = g_subprocess_get_identifier(sup) == NULL;
        g_autoptr(VmStatus) st = vm_status_load(state_path, NULL);
        bool mine = st && sup_pid && st->supervisor_pid == atoi(sup_pid);
        if (mine && (st->state == VM_STATE_RUNNING || st->state == VM_STATE_PAUSED)) {
            *status = g_steal_pointer(&st);
            return true;
        }
        if (mine && (st->state == VM_STATE_ERROR || st->state == VM_STATE_STOPPED)) {
            g_autofree char *tail = st->log_tail ? g_strjoinv("\n  ", st->log_tail) : NULL;
            const char *tail_head = tail && *tail ? "\nlast lines of qemu.log:\n  " : "";
            g_autofree char *plain =
                st->reason_plain ? g_strdup_printf("VM \"%s\" failed to start: %s%s%s", name,
                                                   st->reason_plain, tail_head, tail ? tail : "")
                                 : NULL;
            vd_error_set_worded(error, VD_ERROR_VM, NULL, plain,
                                "VM \"%s\" failed to start: %s%s%s", name,
                                st->reason ? st->reason : vm_state_to_string(st->state),
                                tail_head, tail ? tail : "");
            return false;
        }
        if (gone) {
            report_dead_supervisor(name, g_subprocess_get_status(sup), error);
            return false;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                        "VM \"%s\" did not reach RUNNING in %d s (state %s)", name, timeout / 1000,
                        st ? vm_state_to_string(st->state) : "unknown");
            return false;
        }
        g_usleep(POLL_US / 5);
    }
}

QmpClient *vm_qmp_connect(const char *name, GError **error)
{
    if (!vm_store_exists(name)) {
        /* Only for its error: "no such VM", with a hint. */
        vm_config_free(vm_store_load(name, error));
        return NULL;
    }
    g_autoptr(VmStatus) st = vm_status_get(name);
    if (!vm_state_is_active(st->state)) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE, "VM \"%s\" is not running (%s)", name,
                    vm_state_to_string(st->state));
        return NULL;
    }
    g_autofree char *path = vm_runtime_path(name, "qmp.sock");
    QmpClient *c = qmp_client_connect_unix(path, 2000, error);
    if (c && !qmp_client_handshake(c, QMP_TIMEOUT_MS, error))
        g_clear_pointer(&c, qmp_client_destroy);
    return c;
}

static bool wait_unlocked(const char *name, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (vm_lock_is_held(name)) {
        if (g_get_monotonic_time() > deadline)
            return false;
        g_usleep(POLL_US);
    }
    return true;
}

/* QEMU has ended and the supervisor still works: it applies the VM's
 * on-shutdown policy (an overlay commit can take minutes). Wait for it. */
static bool wait_policy(const char *name)
{
    for (;;) {
        g_autoptr(VmStatus) st = vm_status_get(name);
        bool qemu_gone = st->qemu_pid > 0 && kill(st->qemu_pid, 0) < 0 && errno == ESRCH;
        if (st->state != VM_STATE_STOPPING || !qemu_gone)
            return !vm_lock_is_held(name);
        if (wait_unlocked(name, 1000))
            return true;
    }
}

bool vm_stop(const char *name, bool force, int timeout_s, bool *forced, GError **error)
{
    g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
    if (!c)
        return false;
    *forced = force;
    if (!force) {
        if (!qmp_cmd_system_powerdown(c, QMP_TIMEOUT_MS, error))
            return false;
        if (wait_unlocked(name, timeout_s * 1000) || wait_policy(name))
            return true;
        vd_warn("the guest did not power off within %d s; forcing it off", timeout_s);
        *forced = true;
    }
    g_autoptr(GError) local = NULL;
    /* quit makes QEMU exit; the connection may drop before the reply. */
    if (!qmp_cmd_quit(c, QMP_TIMEOUT_MS, &local) && vm_lock_is_held(name) &&
        !g_error_matches(local, VD_ERROR, VD_ERROR_PROTOCOL)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return false;
    }
    if (!wait_unlocked(name, 30000) && !wait_policy(name)) {
        g_autofree char *plain =
            g_strdup_printf("VM \"%s\" is still shutting down after 30 s", name);
        vd_error_set_worded(error, VD_ERROR_TIMEOUT, NULL, plain, "%s; see vmdesk status %s",
                            plain, name);
        return false;
    }
    return true;
}

/* Pause (stop) or resume (cont) the VM, then wait until its supervisor
 * saw QEMU's STOP or RESUME. */
static bool change_run_state(const char *name, bool run, GError **error)
{
    g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
    if (!c)
        return false;
    if (run ? !qmp_cmd_cont(c, QMP_TIMEOUT_MS, error) : !qmp_cmd_stop(c, QMP_TIMEOUT_MS, error))
        return false;
    return vm_wait_state(name, run ? VM_STATE_RUNNING : VM_STATE_PAUSED, 10000, NULL, error);
}

bool vm_pause(const char *name, GError **error)
{
    return change_run_state(name, false, error);
}

/* A VM that QEMU paused for a full host file system: with no space back,
 * cont only pauses it again (QEMU retries the failed write). Say so before,
 * and tell a re-pause from a resume after. */
static bool resume_no_space(const char *name, const VmStatus *before, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    g_autofree char *disk = vm_store_disk_path(cfg);
    uint64_t avail = 0;
    g_autofree char *now = disk ? vm_files_no_space_text(disk, &avail) : NULL;
    if (now && avail < RESUME_MIN_FREE) {
        g_autofree char *plain = g_strdup_printf(
            "VM \"%s\" stays paused: still %s; free space there, then resume it", name, now);
        vd_error_set_worded(error, VD_ERROR_NO_SPACE, NULL, plain,
                            "VM \"%s\" stays PAUSED: still %s; free space there, then vmdesk "
                            "resume %s",
                            name, now, name);
        return false;
    }
    g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
    if (!c || !qmp_cmd_cont(c, QMP_TIMEOUT_MS, error))
        return false;
    gint64 start = g_get_monotonic_time();
    bool ran = false;
    for (;;) {
        g_autoptr(VmStatus) st = vm_status_get(name);
        gint64 waited = g_get_monotonic_time() - start;
        if (st->state == VM_STATE_RUNNING)
            ran = true;
        if (st->state == VM_STATE_PAUSED && st->since > before->since && st->reason &&
            g_str_has_prefix(st->reason, VM_NO_SPACE_PREFIX)) {
            g_autofree char *plain = g_strdup_printf(
                "VM \"%s\" resumed and was paused again at once: %s; the guest needs more "
                "space there, then resume it",
                name, st->reason);
            vd_error_set_worded(error, VD_ERROR_NO_SPACE, NULL, plain,
                                "VM \"%s\" resumed and was paused again at once: %s; the guest "
                                "needs more space there, then vmdesk resume %s",
                                name, st->reason, name);
            return false;
        }
        /* RUNNING, and its retried writes did not pause it again. */
        if (ran && waited > RESUME_SETTLE_US)
            return true;
        if (waited > (gint64)10000 * 1000)
            return vm_wait_state(name, VM_STATE_RUNNING, 0, NULL, error);
        g_usleep(POLL_US / 5);
    }
}

bool vm_resume(const char *name, GError **error)
{
    g_autoptr(VmStatus) st = vm_status_get(name);
    if (st->state == VM_STATE_PAUSED && st->reason &&
        g_str_has_prefix(st->reason, VM_NO_SPACE_PREFIX))
        return resume_no_space(name, st, error);
    return change_run_state(name, true, error);
}

bool vm_wait_state(const char *name, VmState want, int timeout_ms, VmStatus **status,
                   GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        g_autoptr(VmStatus) st = vm_status_get(name);
        if (st->state == want) {
            if (status)
                *status = g_steal_pointer(&st);
            return true;
        }
        if ((st->state == VM_STATE_ERROR) && want != VM_STATE_ERROR) {
            g_set_error(error, VD_ERROR, VD_ERROR_VM, "VM \"%s\" is in ERROR: %s", name,
                        st->reason ? st->reason : "unknown");
            return false;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                        "VM \"%s\" did not reach %s in %d ms; it is %s", name,
                        vm_state_to_string(want), timeout_ms, vm_state_to_string(st->state));
            return false;
        }
        g_usleep(POLL_US);
    }
}

bool vm_start(const char *name, const VmStartOptions *opts, VmStatus **status, GError **error)
{
    /* Another program (or another user's vmdesk) can take the RDP port
     * between our check and QEMU's bind: QEMU then fails to set up the
     * forward. Try again; claim_port moves to a free port. */
    for (int attempt = 0;; attempt++) {
        GError *local = NULL;
        if (start_once(name, opts, status, &local))
            return true;
        if (attempt < 3 && g_error_matches(local, VD_ERROR, VD_ERROR_VM) &&
            strstr(local->message, "Could not set up host forwarding rule")) {
            vd_warn("the RDP port of VM \"%s\" was taken while it started; trying another",
                    name);
            g_error_free(local);
            /* The failed supervisor still cleans up; its lock goes last. */
            wait_unlocked(name, 10000);
            continue;
        }
        g_propagate_error(error, local);
        return false;
    }
}
