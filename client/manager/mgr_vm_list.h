/* All VMs of the store as a GListModel of MgrVm, kept current by events,
 * not by reading every VM's files in a loop: inotify (GFileMonitor) on the
 * store's folder and on each VM's folder (VMs created, deleted, configs
 * changed, the overlay question asked or answered) and on each VM's runtime folder, where its supervisor publishes
 * every state change (vm/vm_state.h). Running VMs' screens are refreshed
 * every MGR_SCREEN_INTERVAL_MS through QMP screendump in worker threads
 * while a window shows them (stopped VMs show the picture saved last); a
 * failed screendump also rereads the VM's state (a supervisor that was
 * killed publishes nothing). Main thread only. */
#pragma once

#include "manager/mgr_vm.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define MGR_SCREEN_INTERVAL_MS 3000

#define MGR_TYPE_VM_LIST (mgr_vm_list_get_type())
G_DECLARE_FINAL_TYPE(MgrVmList, mgr_vm_list, MGR, VM_LIST, GObject)

/* Creates the store's folders when missing; NULL with @error when it
 * cannot (the message names the folder). */
MgrVmList *mgr_vm_list_new(GError **error);
/* The VMs, sorted by name (borrowed; items are MgrVm). */
GListModel *mgr_vm_list_get_model(MgrVmList *list);
/* The VM named @name, or NULL (borrowed). */
MgrVm *mgr_vm_list_find(MgrVmList *list, const char *name);
/* Read the store again now (after an operation of ours, so that the view
 * need not wait for the folder events). */
void mgr_vm_list_rescan(MgrVmList *list);
/* Read VM @name's state again now. */
void mgr_vm_list_refresh(MgrVmList *list, const char *name);
/* Whether a window shows the VMs' pictures (not at first: a window says so
 * once it has drawn its first frame, so that reading and decoding them does
 * not delay it). While none does (closed, minimized), no screendumps are
 * taken and no saved pictures read; when one does, the running VMs'
 * screendumps are taken at once and the saved pictures not read yet are read. */
void mgr_vm_list_set_screens_shown(MgrVmList *list, bool shown);

G_END_DECLS
