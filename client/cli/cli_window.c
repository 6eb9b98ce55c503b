/* The desktop window's view of a VM (WindowVmHooks, ui/window.h) filled with
 * the orchestrator's calls: its state from the store, the guest agent's
 * answer about the RDP service, the overlay question. client/ui includes no
 * orchestrator header; this file is where the two meet. */
#include "cli/cli.h"

#include "guest/rdp_service.h"
#include "storage/vm_overlay.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

/* Each hook gets the VM's name as @data. */

static void hook_status(void *data, WindowVmStatus *out)
{
    g_autoptr(VmStatus) st = vm_status_get(data);
    out->phase = st->state == VM_STATE_ERROR      ? WINDOW_VM_FAILED
                 : st->state == VM_STATE_STOPPED  ? WINDOW_VM_STOPPED
                 : st->state == VM_STATE_STOPPING ? WINDOW_VM_STOPPING
                                                  : WINDOW_VM_ACTIVE;
    out->state = g_strdup(vm_state_to_string(st->state));
    out->reason = g_steal_pointer(&st->reason);
}

/* Runs on the window's agent-probe thread: rdp_service_running keeps no state. */
static SwitchRdpService hook_rdp_service(void *data, int timeout_ms, char **detail)
{
    RdpServiceInfo si = {0};
    RdpServiceState st = rdp_service_running(data, timeout_ms, &si);
    *detail = g_steal_pointer(&si.detail);
    rdp_service_info_clear(&si);
    return st == RDP_SERVICE_RUNNING   ? SWITCH_RDP_SERVICE_RUNNING
           : st == RDP_SERVICE_STOPPED ? SWITCH_RDP_SERVICE_STOPPED
                                       : SWITCH_RDP_SERVICE_UNKNOWN;
}

static bool hook_overlay_pending(void *data)
{
    return vm_overlay_decision_pending(data);
}

static bool hook_overlay_info(void *data, WindowOverlayInfo *out, GError **error)
{
    g_autoptr(VmOverlayStatus) st = NULL;
    if (!vm_overlay_status(data, &st, error))
        return false;
    out->base = g_strdup(st->base);
    out->changed_bytes = st->changed_bytes;
    out->firmware_changed = st->vars_changed || st->tpm_changed;
    return true;
}

static bool hook_overlay_answer(void *data, WindowOverlayAnswer answer, GError **error)
{
    VmOverlayAction a = answer == WINDOW_OVERLAY_COMMIT    ? VM_OVERLAY_COMMIT
                        : answer == WINDOW_OVERLAY_DISCARD ? VM_OVERLAY_DISCARD
                                                           : VM_OVERLAY_KEEP;
    return vm_overlay_apply(data, a, error);
}

WindowVmHooks cli_window_vm_hooks(const char *name)
{
    return (WindowVmHooks){
        .data = (void *)name,
        .status = hook_status,
        .rdp_service = hook_rdp_service,
        .overlay_pending = hook_overlay_pending,
        .overlay_info = hook_overlay_info,
        .overlay_answer = hook_overlay_answer,
    };
}
