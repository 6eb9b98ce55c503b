/* The widget of one VM in the manager's grid (template mgr_vm_card.ui): it
 * follows an MgrVm through its notify signals and offers the actions of its
 * state as buttons bound to the window's actions ("win.start" with the VM's
 * name as target...). Each button's accessible name says what it does to
 * which VM ("Start t1"). Main thread only. */
#pragma once

#include "manager/mgr_vm.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MGR_TYPE_VM_CARD (mgr_vm_card_get_type())
G_DECLARE_FINAL_TYPE(MgrVmCard, mgr_vm_card, MGR, VM_CARD, GtkBox)

/* A card showing @vm (a reference is taken). */
GtkWidget *mgr_vm_card_new(MgrVm *vm);

G_END_DECLS
