/* One VM as the manager's views see it: a GObject with properties and
 * notify signals (name, state, reason, accelerator, the last picture of its
 * screen, whether an operation runs, whether its overlay question is open). The list (mgr_vm_list.h) fills it from
 * the orchestrator; views only read it. Main thread only. */
#pragma once

#include <gdk/gdk.h>
#include <glib-object.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* What the views need of the orchestrator's VmState (vm/vm_state.h). */
typedef enum {
    MGR_VM_STOPPED,
    MGR_VM_STARTING,
    MGR_VM_RUNNING,
    MGR_VM_PAUSED,
    MGR_VM_BUSY,       /* pausing, resuming, stopping, snapshotting */
    MGR_VM_FAILED,     /* ERROR, or a config that does not load */
} MgrVmPhase;

#define MGR_TYPE_VM (mgr_vm_get_type())
G_DECLARE_FINAL_TYPE(MgrVm, mgr_vm, MGR, VM, GObject)

MgrVm *mgr_vm_new(const char *name);

const char *mgr_vm_get_name(MgrVm *vm);
MgrVmPhase mgr_vm_get_phase(MgrVm *vm);
/* "Running", "Stopped"... for people; never NULL. */
const char *mgr_vm_get_state_text(MgrVm *vm);
/* Why it is in its state ("the guest powered off"), or NULL. */
const char *mgr_vm_get_reason(MgrVm *vm);
/* "KVM", "TCG (software emulation)", or NULL when it does not run. */
const char *mgr_vm_get_accel(MgrVm *vm);
/* The last picture of its screen, or NULL. */
GdkTexture *mgr_vm_get_screen(MgrVm *vm);
/* An operation started from this manager runs (start, stop, delete...). */
bool mgr_vm_get_busy(MgrVm *vm);
/* Its last shutdown left the overlay question (on-shutdown=ask) open. */
bool mgr_vm_get_overlay_pending(MgrVm *vm);

/* Setters for the list; each notifies only on a change. Strings borrowed. */
void mgr_vm_set_state(MgrVm *vm, MgrVmPhase phase, const char *state_text, const char *reason,
                      const char *accel);
void mgr_vm_set_screen(MgrVm *vm, GdkTexture *screen);
void mgr_vm_set_busy(MgrVm *vm, bool busy);
void mgr_vm_set_overlay_pending(MgrVm *vm, bool pending);

G_END_DECLS
