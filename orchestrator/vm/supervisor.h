/* The per-VM supervisor (ARCHITECTURE.md, Processes): a small process that
 * `vmdesk start` detaches, which starts swtpm and QEMU with argv arrays,
 * holds a private QMP connection, publishes the VM's state, reaps QEMU,
 * records why it ended and removes the VM's sockets. Nothing it started
 * outlives it: children get PR_SET_PDEATHSIG. */
#pragma once

#include "vm/vm_config.h"

#include <stdbool.h>

typedef struct {
    const char *name;
    VmAccel accel;            /* resolved by the starter: KVM or TCG */
    const char *accel_reason;
    int lock_fd;              /* the VM's lock, held; released when we exit */
    bool disposable;          /* run on a throw-away overlay with throw-away copies of the
                                 UEFI variables and TPM state (VM_DISPOSABLE_DIR), removed
                                 when QEMU ends; the on-shutdown policy does not apply */
} SupervisorOptions;

/* Run the supervisor in this process until QEMU has ended. Before QEMU
 * starts it completes an interrupted overlay commit or discard and removes
 * a leftover disposable run; after a clean shutdown it applies the VM's
 * on-shutdown policy (storage/vm_overlay.h) before it publishes STOPPED. Returns the exit
 * status for the process: 0 when the VM ended normally, 1 otherwise. */
int supervisor_main(const SupervisorOptions *opts);

/* The line (after "vmdesk DATE TIME: ") with which each start is marked in
 * the VM's serial.log and qemu.log, which are appended to, never truncated. */
#define SUPERVISOR_LOG_START "starting QEMU"
