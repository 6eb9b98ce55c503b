/* The supervisor's internals, shared by its files: supervisor.c (QEMU,
 * QMP events, state) and supervisor_idle.c (the control socket, leases and
 * idle suspend). Everything runs on the supervisor's one main loop. */
#pragma once

#include "qemu/qmp_client.h"
#include "vm/supervisor.h"
#include "vm/vm_config.h"
#include "vm/vm_state.h"

#include <gio/gio.h>

typedef struct SupervisorLease SupervisorLease;

typedef struct {
    const SupervisorOptions *opts;
    VmConfig *cfg;
    char *vm_dir;
    char *runtime_dir;
    char *state_path;
    char *qemu_log;
    VmStatus *status;
    GSubprocess *qemu;
    GSubprocess *swtpm;
    QmpClient *qmp;
    guint qmp_watch;
    guint powerdown_timer;
    guint kill_timer;
    GMainLoop *loop;
    bool saw_shutdown;
    VmState before_snapshot;  /* the state a snapshot job interrupted */
    bool clean_exit;          /* QEMU ended normally: STOPPED follows the on-shutdown policy */
    char *tpm_dir;            /* swtpm's state folder */
    char *disk_top;           /* a disposable run's overlay on the disk, or NULL */
    char *uefi_vars;          /* the variable store QEMU uses */
    char *shutdown_reason;
    char *io_error;           /* why the next STOP pauses: QEMU's BLOCK_IO_ERROR */
    goffset qemu_log_start;   /* where this run begins in the (appended) qemu.log */
    bool powersave;
    /* idle suspend and leases (supervisor_idle.c) */
    unsigned idle_suspend;    /* seconds; 0: off */
    gint64 last_use;          /* monotonic time of the last lease change or resume */
    bool idle_pausing;        /* the next STOP is idle suspend's */
    int control_fd;           /* the listening control socket, or -1 */
    guint control_watch;
    guint idle_tick;
    GList *leases;            /* SupervisorLease, open connections */
} Supervisor;

/* Publish @state with @reason in the state file (and the log). */
void supervisor_publish(Supervisor *s, VmState state, const char *reason);
/* supervisor_publish with @reason's plain text for the manager (NULL: the
 * same as @reason), as common/error.h's plain text. */
void supervisor_publish_worded(Supervisor *s, VmState state, const char *reason,
                               const char *plain);

/* Listen on the VM's control socket (vm/vm_lease.h) and start the idle
 * clock with the config's idle-suspend. */
bool supervisor_idle_start(Supervisor *s, GError **error);
/* Close the socket and every lease; remove the timers. Idempotent. */
void supervisor_idle_stop(Supervisor *s);
/* The VM runs again (any resume): its idle time starts over. */
void supervisor_idle_touch(Supervisor *s);
/* After a resume from idle suspend: set the guest's clock to the host's
 * through the guest agent (the guest's clock stood still while it was
 * paused). A guest without an agent keeps its clock; that is logged. */
void supervisor_idle_fix_clock(Supervisor *s);
