/* The new-VM assistant (template mgr_new_vm.ui): name and system; Windows
 * from its ISO with virtio-win (chosen or downloaded) and a hands-off
 * installation (account, password, locale, keyboard, time zone; this host's
 * by default); Linux and others from a CD image, a download of the catalog
 * (progress in the window, Stop, resumed by the next Create) or a disk image
 * (imported, or a base under an overlay); TPM and Secure Boot (on for
 * Windows); memory, processors and disk within this host's ranges; what the
 * accelerator will be, said plainly. Create runs off the main thread
 * (mgr_ops_create_async); an error stays in the dialog, and nothing is left
 * half made. The VM appears in the list by itself (the store's folder
 * events). Main thread only. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MGR_TYPE_NEW_VM (mgr_new_vm_get_type())
G_DECLARE_FINAL_TYPE(MgrNewVm, mgr_new_vm, MGR, NEW_VM, AdwWindow)

/* A new assistant, transient for @parent. */
MgrNewVm *mgr_new_vm_new(GtkWindow *parent);

G_END_DECLS
