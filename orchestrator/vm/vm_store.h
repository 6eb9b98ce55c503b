/* The VM store: one folder per VM under $XDG_DATA_HOME/vmdesk/vms/, plus its
 * runtime folder, its lock and its published state. Blocking, any thread,
 * but two processes editing one VM's config race (last writer wins). */
#pragma once

#include "vm/vm_config.h"
#include "vm/vm_state.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define VM_CONFIG_FILE "vm.conf"
#define VM_DISK_FILE "disk.qcow2"
#define VM_UEFI_VARS_FILE "uefi-vars.fd"
#define VM_TPM_DIR "tpm"
#define VM_SNAPSHOT_DIR "snapshots"     /* UEFI vars and TPM copies per snapshot tag */
#define VM_BASE_STATE_DIR "base-state"  /* committed UEFI vars and TPM of an overlay VM */
#define VM_DISPOSABLE_DIR "disposable"  /* a disposable run's throw-away disk, vars, TPM */
#define VM_RDP_PORT_FIRST 47101u
#define VM_RDP_PORT_LAST 47999u

bool vm_store_exists(const char *name);
char *vm_store_config_path(const char *name);
/* VD_ERROR_NOT_FOUND (with a hint) when there is no such VM. */
VmConfig *vm_store_load(const char *name, GError **error);
bool vm_store_save(const VmConfig *cfg, GError **error);
/* Sorted names of all VMs. */
char **vm_store_list(GError **error);

/* Give a VM its own copy of OVMF's variable store @vars_template at @dest
 * (written atomically, 0600). */
bool vm_store_copy_uefi_vars(const char *vars_template, const char *dest, GError **error);

/* Delete a stopped VM. With @keep_disks its disk images stay where they are
 * (their paths are returned in *@kept, may be NULL). */
bool vm_store_delete(const char *name, bool keep_disks, char ***kept, GError **error);

/* A port in [VM_RDP_PORT_FIRST, VM_RDP_PORT_LAST] used by no other VM's
 * config and bindable on 127.0.0.1 now. */
bool vm_store_pick_port(const char *for_vm, unsigned *port, GError **error);
bool vm_store_port_free(unsigned port);
/* Apply one `vmdesk set` KEY=VALUE to @cfg, VM @cfg->name's config, with
 * the rules of `vmdesk set`: vm_config_set's (@running, *@next_start as
 * there), the architecture only at create, and no port or disk of another
 * VM. @cfg may be changed when it fails: load it again then. */
bool vm_store_set(VmConfig *cfg, const char *assignment, bool running, bool *next_start,
                  GError **error);
/* Another VM whose config uses @port (rdp or forward), or NULL. Caller frees. */
char *vm_store_port_owner(unsigned port, const char *except_vm);
/* Another VM whose config names the same disk image, or NULL. Caller frees. */
char *vm_store_disk_owner(const char *disk_path, const char *except_vm);
/* The absolute path of @cfg's disk (NULL when none). */
char *vm_store_disk_path(const VmConfig *cfg);

/* Run @argv (qemu-img ...) for @what and fsync @path afterwards (qemu-img
 * does not), so a rename that follows is durable. */
bool vm_store_run_qemu_img(const char *const *argv, const char *path, const char *what,
                           GError **error);

/* --- runtime: lock and state --- */

/* Take the VM's lock (runtime folder created 0700). The holder of the lock is
 * the VM's supervisor; VD_ERROR_STATE when it is held. Returns the fd. */
int vm_lock_acquire(const char *name, GError **error);
bool vm_lock_is_held(const char *name);

/* The VM's state as published by its supervisor, corrected for a supervisor
 * that is gone (an active state without a lock holder reads as ERROR).
 * Never NULL: no state file means STOPPED. */
VmStatus *vm_status_get(const char *name);
char *vm_runtime_path(const char *name, const char *file);
