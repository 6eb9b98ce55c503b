/* A VM's page: a window of its own opened from the VM's card, with its
 * settings (memory, processors, performance mode, extra QEMU arguments),
 * guest tools status, disk overlay (status, commit, discard, the policy at
 * shutdown), CD, shared folders, snapshots, the guest's programs and its
 * logs. Every change goes through mgr_page_ops.h in a worker thread; an
 * error is shown as the orchestrator words it, and the page then shows
 * what is. Main thread only. */
#pragma once

#include "manager/mgr_vm.h"

#include <adwaita.h>

G_BEGIN_DECLS

#define MGR_TYPE_PAGE (mgr_page_get_type())
G_DECLARE_FINAL_TYPE(MgrPage, mgr_page, MGR, PAGE, AdwPreferencesWindow)

/* The page of @vm, transient for @parent (not yet shown). */
GtkWidget *mgr_page_new(GtkWindow *parent, MgrVm *vm);

G_END_DECLS
