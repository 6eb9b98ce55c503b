#include "vm/vm_state.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/text.h"

#include <string.h>

static const char *const names[] = {
    "STOPPED", "STARTING", "RUNNING", "PAUSING", "PAUSED",
    "RESUMING", "STOPPING", "SNAPSHOTTING", "ERROR",
};

const char *vm_state_to_string(VmState s)
{
    return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "UNKNOWN";
}

bool vm_state_from_string(const char *s, VmState *out, GError **error)
{
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (s && g_ascii_strcasecmp(s, names[i]) == 0) {
            *out = (VmState)i;
            return true;
        }
    }
    g_autofree char *q = vd_text_quote(s ? s : "", -1);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                "%s is not a VM state; states are STOPPED, STARTING, RUNNING, PAUSING, "
                "PAUSED, RESUMING, STOPPING, SNAPSHOTTING and ERROR",
                q);
    return false;
}

#define BIT(s) (1u << (s))

bool vm_state_transition_valid(VmState from, VmState to)
{
    static const unsigned edges[] = {
        [VM_STATE_STOPPED] = BIT(VM_STATE_STARTING),
        [VM_STATE_STARTING] = BIT(VM_STATE_RUNNING) | BIT(VM_STATE_PAUSED) |
                              BIT(VM_STATE_STOPPING) | BIT(VM_STATE_STOPPED),
        [VM_STATE_RUNNING] = BIT(VM_STATE_PAUSING) | BIT(VM_STATE_PAUSED) |
                             BIT(VM_STATE_STOPPING) | BIT(VM_STATE_STOPPED) |
                             BIT(VM_STATE_SNAPSHOTTING),
        [VM_STATE_PAUSING] = BIT(VM_STATE_PAUSED) | BIT(VM_STATE_RUNNING) |
                             BIT(VM_STATE_STOPPING) | BIT(VM_STATE_STOPPED),
        [VM_STATE_PAUSED] = BIT(VM_STATE_RESUMING) | BIT(VM_STATE_RUNNING) |
                            BIT(VM_STATE_STOPPING) | BIT(VM_STATE_STOPPED) |
                            BIT(VM_STATE_SNAPSHOTTING),
        [VM_STATE_RESUMING] = BIT(VM_STATE_RUNNING) | BIT(VM_STATE_PAUSED) |
                              BIT(VM_STATE_STOPPING) | BIT(VM_STATE_STOPPED),
        /* A guest may ignore the ACPI power button: back to RUNNING. */
        [VM_STATE_STOPPING] = BIT(VM_STATE_STOPPED) | BIT(VM_STATE_RUNNING),
        [VM_STATE_SNAPSHOTTING] = BIT(VM_STATE_RUNNING) | BIT(VM_STATE_PAUSED),
        [VM_STATE_ERROR] = BIT(VM_STATE_STARTING) | BIT(VM_STATE_STOPPED),
    };
    if ((unsigned)from >= G_N_ELEMENTS(edges) || (unsigned)to >= G_N_ELEMENTS(edges))
        return false;
    if (from == to || to == VM_STATE_ERROR)
        return true;
    return (edges[from] & BIT(to)) != 0;
}

bool vm_state_is_active(VmState s)
{
    return s != VM_STATE_STOPPED && s != VM_STATE_ERROR;
}

VmStatus *vm_status_new(VmState state)
{
    VmStatus *st = g_new0(VmStatus, 1);
    st->state = state;
    st->since = g_get_real_time();
    st->exit_status = -1;
    return st;
}

void vm_status_free(VmStatus *st)
{
    if (!st)
        return;
    g_free(st->reason);
    g_free(st->reason_plain);
    g_free(st->accel);
    g_free(st->accel_reason);
    g_free(st->qemu_version);
    g_strfreev(st->log_tail);
    g_free(st);
}

#define G "state"

static void set_opt(GKeyFile *kf, const char *key, const char *v)
{
    if (v)
        g_key_file_set_string(kf, G, key, v);
}

bool vm_status_save(const VmStatus *st, const char *path, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, G, "state", vm_state_to_string(st->state));
    g_key_file_set_int64(kf, G, "since", st->since);
    set_opt(kf, "reason", st->reason);
    set_opt(kf, "reason-plain", st->reason_plain);
    set_opt(kf, "accel", st->accel);
    set_opt(kf, "accel-reason", st->accel_reason);
    set_opt(kf, "qemu-version", st->qemu_version);
    g_key_file_set_integer(kf, G, "supervisor-pid", st->supervisor_pid);
    g_key_file_set_integer(kf, G, "qemu-pid", st->qemu_pid);
    g_key_file_set_integer(kf, G, "rdp-port", (int)st->rdp_port);
    g_key_file_set_integer(kf, G, "exit-status", st->exit_status);
    if (st->idle)
        g_key_file_set_boolean(kf, G, "idle", TRUE);
    if (st->log_tail)
        g_key_file_set_string_list(kf, G, "log-tail", (const char *const *)st->log_tail,
                                   g_strv_length(st->log_tail));
    return vd_keyfile_save(kf, path, error);
}

VmStatus *vm_status_load(const char *path, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error))
        return NULL;
    g_autofree char *s = g_key_file_get_string(kf, G, "state", NULL);
    VmState state;
    g_autoptr(GError) local = NULL;
    if (!vm_state_from_string(s, &state, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: %s", path, local->message);
        return NULL;
    }
    VmStatus *st = vm_status_new(state);
    st->since = g_key_file_get_int64(kf, G, "since", NULL);
    st->reason = g_key_file_get_string(kf, G, "reason", NULL);
    st->reason_plain = g_key_file_get_string(kf, G, "reason-plain", NULL);
    st->accel = g_key_file_get_string(kf, G, "accel", NULL);
    st->accel_reason = g_key_file_get_string(kf, G, "accel-reason", NULL);
    st->qemu_version = g_key_file_get_string(kf, G, "qemu-version", NULL);
    st->supervisor_pid = g_key_file_get_integer(kf, G, "supervisor-pid", NULL);
    st->qemu_pid = g_key_file_get_integer(kf, G, "qemu-pid", NULL);
    st->rdp_port = (unsigned)g_key_file_get_integer(kf, G, "rdp-port", NULL);
    st->exit_status = g_key_file_get_integer(kf, G, "exit-status", NULL);
    st->idle = g_key_file_get_boolean(kf, G, "idle", NULL);
    st->log_tail = g_key_file_get_string_list(kf, G, "log-tail", NULL, NULL);
    return st;
}
