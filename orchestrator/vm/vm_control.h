/* Controlling a VM's life from a command: start (detaching its supervisor),
 * stop, pause, resume, waiting for states. Blocking; each call talks to the
 * VM's QMP socket or watches its published state. */
#pragma once

#include "qemu/qmp_client.h"
#include "vm/vm_config.h"
#include "vm/vm_state.h"

#include <stdbool.h>

typedef struct {
    const char *self_exe;      /* the vmdesk binary, run as "vmdesk __supervise NAME" */
    bool accel_override;       /* use @accel instead of the config's */
    VmAccel accel;
    int timeout_ms;            /* for STARTING -> RUNNING; 0: 120 s */
    bool disposable;           /* a throw-away run: see SupervisorOptions.disposable */
} VmStartOptions;

/* Start the VM and return once QEMU runs (state RUNNING or PAUSED), with
 * its published status in *@status. VD_ERROR_STATE if it runs already,
 * VD_ERROR_VM with QEMU's last log lines if it failed to start. */
bool vm_start(const char *name, const VmStartOptions *opts, VmStatus **status, GError **error);

/* ACPI power-down, then wait up to @timeout_s for the guest to power off;
 * after that (or at once with @force) end QEMU. *@forced tells which. Once
 * QEMU has ended it also waits, without a limit, for the supervisor to
 * finish the on-shutdown policy (an overlay commit). */
bool vm_stop(const char *name, bool force, int timeout_s, bool *forced, GError **error);

bool vm_pause(const char *name, GError **error);
bool vm_resume(const char *name, GError **error);

/* Wait until the VM is in @want (returns true) or @timeout_ms passes
 * (VD_ERROR_TIMEOUT naming the state it is in). A VM that ends in ERROR or
 * STOPPED while we wait for something else fails at once. */
bool vm_wait_state(const char *name, VmState want, int timeout_ms, VmStatus **status,
                   GError **error);

/* Connect to the VM's QMP socket and negotiate; a client of its own (caller
 * destroys) for the typed calls of qemu/qmp_cmd.h. VD_ERROR_NOT_FOUND for
 * no such VM, VD_ERROR_STATE if it is not running. */
QmpClient *vm_qmp_connect(const char *name, GError **error);
