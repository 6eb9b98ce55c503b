/* Leases: how a vmdesk window, app session or command tells a VM's
 * supervisor that it uses the VM, so that idle suspend (config key
 * idle-suspend) leaves it running. A lease is a connection to the
 * supervisor's control socket ($XDG_RUNTIME_DIR/vmdesk/NAME/control.sock,
 * 0600 in the 0700 runtime folder): the client sends one line, the
 * supervisor answers one line, and the lease lasts as long as the client
 * keeps the connection open. A process that dies loses its leases with its
 * file descriptors, so no lease outlives its user.
 *
 *     client: "use WHO\n"    in use; a VM idle suspend paused is resumed first
 *                            (and its guest clock set through the guest agent)
 *     client: "hold WHO\n"   keep it as it is: no idle pause while held (CD and
 *                            USB operations), no resume
 *     client: "reload\n"     read idle-suspend from the config again (vmdesk set)
 *     supervisor: "ok\n" or "error MESSAGE\n"
 *
 * WHO ("view", "app", "probe"...) only goes to the supervisor's log.
 * Blocking; any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define VM_LEASE_SOCKET "control.sock"
/* How long the supervisor may take to answer (a resume and the clock). */
#define VM_LEASE_TIMEOUT_MS 30000

/* Take a "use" lease on VM @name for @who: returns its fd (close it to end
 * the lease), once a VM that idle suspend paused runs again. -1 with
 * VD_ERROR_STATE when the VM does not run (no supervisor listens), or
 * VD_ERROR_VM with the supervisor's message. */
int vm_lease_use(const char *name, const char *who, GError **error);
/* Take a "hold" lease: no idle pause while it is open, nothing resumed. */
int vm_lease_hold(const char *name, const char *who, GError **error);
/* Ask the supervisor to read idle-suspend again. False (with @error) when
 * no supervisor runs. */
bool vm_lease_reload(const char *name, GError **error);
