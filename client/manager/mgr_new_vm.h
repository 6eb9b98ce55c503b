/* The new-VM assistant (template mgr_new_vm.ui): name, system (Linux,
 * Windows, other), the installer's CD image, memory, processors and disk
 * within what this host has, and what the accelerator will be, said plainly.
 * Create runs off the main thread (mgr_ops_create_async); an error (a bad
 * name, a file that is no CD image, too little free space) stays in the
 * dialog, and nothing is left half made. The VM appears in the list by
 * itself (the store's folder events). Main thread only. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MGR_TYPE_NEW_VM (mgr_new_vm_get_type())
G_DECLARE_FINAL_TYPE(MgrNewVm, mgr_new_vm, MGR, NEW_VM, AdwWindow)

/* A new assistant, transient for @parent. */
MgrNewVm *mgr_new_vm_new(GtkWindow *parent);

G_END_DECLS
