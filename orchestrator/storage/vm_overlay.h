/* Overlays: a VM whose disk is a qcow2 overlay on a read-only base image
 * (vmdesk create --base IMAGE --overlay). The guest writes only into the
 * overlay; commit merges it into the base, discard throws it away. The
 * UEFI variables and the TPM state belong to the disk state: the VM folder
 * keeps their committed copies in base-state/, commit replaces those by the
 * live ones, discard brings them back.
 *
 * Crash safety: commit and discard first write the intent file
 * overlay.intent, then do steps that are each safe to redo (qemu-img commit
 * -d leaves the overlay's data in place, so committing again writes the same
 * data; copies and the new empty overlay go to a temporary name and are
 * renamed over), and remove the intent last. A leftover intent (a crash, a
 * kill -9) is completed by vm_overlay_recover_locked(), which vmdesk runs
 * before the VM starts and before any overlay or snapshot command. Until
 * then the chain base <- overlay reads as the state after the commit: the
 * overlay still holds everything it held.
 *
 * All functions block (qemu-img runs); any thread. Those named _locked
 * expect the caller to hold the VM's lock (vm_lock_acquire: the supervisor
 * holds it while the VM runs); the others take it themselves and fail with
 * VD_ERROR_STATE while the VM runs. */
#pragma once

#include "vm/vm_config.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define VM_OVERLAY_FILE "overlay.qcow2"
/* In the VM's folder while an on-shutdown=ask question waits (watchers
 * such as vmdesk-manager follow it). */
#define VM_OVERLAY_PENDING_FILE "overlay.pending"

typedef enum { VM_OVERLAY_KEEP, VM_OVERLAY_COMMIT, VM_OVERLAY_DISCARD } VmOverlayAction;

typedef struct {
    char *base;              /* absolute path of the base image */
    char *base_format;       /* "qcow2", "raw", ... */
    uint64_t base_allocated; /* bytes the base occupies on the host */
    char *overlay;           /* absolute path of the overlay */
    uint64_t overlay_allocated;
    uint64_t virtual_size;
    uint64_t changed_bytes;  /* guest bytes the overlay holds (written or discarded) */
    bool vars_changed;       /* UEFI variables differ from the committed copy */
    bool tpm_changed;        /* TPM state differs from the committed copy */
    VmOnShutdown policy;
    bool pending;            /* on-shutdown=ask: a shutdown waits for commit or discard */
    gint64 pending_since;    /* unix seconds */
    char *recovered;         /* an interrupted "commit"/"discard" vmdesk completed now, or NULL */
} VmOverlayStatus;

void vm_overlay_status_free(VmOverlayStatus *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmOverlayStatus, vm_overlay_status_free)

const char *vm_overlay_action_to_string(VmOverlayAction a);

/* At create: make @cfg's overlay @VM_OVERLAY_FILE in @vm_dir on @cfg->base
 * (which must exist and be readable; its format is probed) and the
 * committed copies of the UEFI variables and TPM state (base-state/). Sets
 * @cfg->disk and @cfg->disk_format. */
bool vm_overlay_create_locked(VmConfig *cfg, const char *vm_dir, GError **error);

/* The overlay's sizes, what changed and the pending question. When the VM
 * is stopped, an interrupted commit or discard is completed first
 * (*@out->recovered says so). VD_ERROR_INVALID when the VM has no overlay.
 * Caller frees *@out. */
bool vm_overlay_status(const char *name, VmOverlayStatus **out, GError **error);

/* Commit or discard the stopped VM's overlay (and its UEFI variables and
 * TPM state), or keep it; any of them answers a pending question. Commit
 * refuses (VD_ERROR_STATE) when another VM's overlay has the same base, and
 * fails with VD_ERROR_NO_SPACE before writing when the base's file system
 * cannot take the overlay's data. */
bool vm_overlay_apply(const char *name, VmOverlayAction action, GError **error);

/* For the window: whether the VM's last shutdown left an on-shutdown=ask
 * question unanswered (answer with vm_overlay_apply). Never fails. */
bool vm_overlay_decision_pending(const char *name);

/* The supervisor's part, with the lock held: after a clean guest shutdown,
 * do what @cfg->on_shutdown says (ask: record the question and keep).
 * *@done describes what happened (caller frees; may be NULL), and
 * *@done_plain the same without command-line syntax when it has some, else
 * NULL (common/error.h's plain text; caller frees). */
bool vm_overlay_on_shutdown_locked(const VmConfig *cfg, char **done, char **done_plain,
                                   GError **error);

/* vm_overlay_apply with the lock held. */
bool vm_overlay_apply_locked(const VmConfig *cfg, VmOverlayAction action, GError **error);

/* Complete an interrupted commit or discard, if there is one; *@what (may be
 * NULL) gets "commit"/"discard" then, else NULL. A VM without an overlay
 * passes. */
bool vm_overlay_recover_locked(const VmConfig *cfg, char **what, GError **error);
