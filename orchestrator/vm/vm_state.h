/* The VM state machine of ARCHITECTURE.md and the state file through which
 * the supervisor publishes it ($XDG_RUNTIME_DIR/vmdesk/NAME/state, a key
 * file written atomically). Only the supervisor writes it; anyone reads. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef enum {
    VM_STATE_STOPPED,
    VM_STATE_STARTING,
    VM_STATE_RUNNING,
    VM_STATE_PAUSING,
    VM_STATE_PAUSED,
    VM_STATE_RESUMING,
    VM_STATE_STOPPING,
    VM_STATE_SNAPSHOTTING,
    VM_STATE_ERROR,
} VmState;

const char *vm_state_to_string(VmState s);               /* "RUNNING" */
/* Case-insensitive ("running", "Running"). */
bool vm_state_from_string(const char *s, VmState *out, GError **error);
/* Is @from -> @to an edge of the state machine? (Any state may go to ERROR;
 * a state may "move" to itself.) */
bool vm_state_transition_valid(VmState from, VmState to);
/* Is the VM's QEMU (supposed to be) alive in @s? */
bool vm_state_is_active(VmState s);

typedef struct {
    VmState state;
    char *reason;          /* why it is in this state, human-readable; may be NULL */
    char *reason_plain;    /* @reason without command-line syntax, for the manager
                            * (common/error.h's plain text); NULL when the same */
    gint64 since;          /* unix time, microseconds */
    char *accel;           /* "kvm" / "tcg" */
    char *accel_reason;
    char *qemu_version;
    int supervisor_pid;
    int qemu_pid;
    unsigned rdp_port;     /* the forward QEMU actually has */
    int exit_status;       /* QEMU's wait status once it ended, -1 before */
    char **log_tail;       /* last lines of qemu.log when it died (ERROR) */
    bool idle;             /* PAUSED by idle suspend: the next user resumes it */
} VmStatus;

VmStatus *vm_status_new(VmState state);
void vm_status_free(VmStatus *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmStatus, vm_status_free)

bool vm_status_save(const VmStatus *st, const char *path, GError **error);
/* NULL with G_FILE_ERROR_NOENT when there is no file. */
VmStatus *vm_status_load(const char *path, GError **error);
