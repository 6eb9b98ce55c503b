/* Snapshots of a VM's disk state: the qcow2 disk's internal snapshot plus
 * copies of the UEFI variables and TPM state kept beside it, in
 * VM_SNAPSHOT_DIR/TAG/ of the VM folder.
 *
 * While the VM runs, snapshots are live and hold the VM's memory too: QMP
 * snapshot-save / snapshot-load / snapshot-delete jobs (QEMU 7.2) naming the
 * disk node as the only device and as the VM-state node, so the raw OVMF
 * variable store (which cannot hold snapshots and makes HMP savevm refuse)
 * is left out; its contents travel in the VM state anyway (pflash is
 * migrated) and our copy covers offline restores. While the VM is stopped,
 * qemu-img snapshot -c/-a/-d on the disk image, disk only.
 *
 * Unsaved state: restore destroys the current state, so without @force it
 * is refused (VD_ERROR_STATE) when the VM runs (its memory and disk move on
 * all the time), or, when it is stopped, when the disk image or the UEFI
 * variables were modified (mtime, size) after the last snapshot save or
 * restore recorded them; a VM that never had one counts as changed.
 *
 * Blocking; any thread; stopped-VM operations take the VM's lock. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* QMP job ids of live snapshot operations: this prefix and save, load or
 * delete. */
#define VM_SNAPSHOT_JOB_PREFIX "vmdesk-snapshot-"

typedef struct {
    char *tag;
    char *id;
    gint64 date;              /* unix seconds */
    uint64_t vm_state_size;   /* bytes of memory/device state; 0: disk-only (offline) */
    uint64_t vm_clock_ms;     /* guest run time at the snapshot */
    uint64_t side_size;       /* bytes of the UEFI variables and TPM copies */
    bool has_vars, has_tpm;
} VmSnapshot;

void vm_snapshot_free(VmSnapshot *s);

/* The snapshots of VM @name, oldest first (a GPtrArray of VmSnapshot*,
 * caller unrefs). VD_ERROR_INVALID when the VM has no qcow2 disk. */
GPtrArray *vm_snapshot_list(const char *name, GError **error);

/* Save snapshot @tag (1-48 of [A-Za-z0-9_.-], new). *@live tells whether it
 * was taken from the running VM (with its memory). Checks free space first
 * (the VM's memory size for a live one): VD_ERROR_NO_SPACE. */
bool vm_snapshot_save(const char *name, const char *tag, bool *live, GError **error);

/* Go back to snapshot @tag: see "Unsaved state" above for @force. A live
 * snapshot restored while the VM runs resumes its memory state; restored
 * while stopped, and for disk-only snapshots, the disk, UEFI variables and
 * TPM state come back and the next start boots from them. A disk-only
 * snapshot cannot be loaded into a running VM (VD_ERROR_STATE). */
bool vm_snapshot_restore(const char *name, const char *tag, bool force, bool *live,
                         GError **error);

/* Delete snapshot @tag and its copies. */
bool vm_snapshot_delete(const char *name, const char *tag, bool *live, GError **error);

/* Whether a stopped VM has changes since the last snapshot save/restore
 * (see above); *@why (may be NULL) says which. */
bool vm_snapshot_unsaved_changes(const char *name, char **why);

/* Complete a stopped-VM restore that was interrupted (called with the VM's
 * lock held, before the VM starts). */
bool vm_snapshot_recover_locked(const char *name, GError **error);
