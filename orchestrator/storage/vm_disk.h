/* A VM's main disk: its size, and growing it (never shrinking: that would cut
 * off the end of the guest's file systems). While the VM runs the guest is
 * told at once (QMP block_resize); else qemu-img resizes the image. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* The disk image's virtual size (qemu-img info, also while QEMU has it open). */
bool vm_disk_size(const char *name, uint64_t *bytes, GError **error);

/* Grow the disk to @spec: "+20G" (by) or "80G" (to). *@live: the running
 * guest was told at once. *@old_size and *@new_size (may be NULL) are set. */
bool vm_disk_resize(const char *name, const char *spec, bool *live, uint64_t *old_size,
                    uint64_t *new_size, GError **error);

/* Replace the stopped VM's disk by image @path (any format qemu-img reads),
 * converted to qcow2 next to it under a temporary name and renamed over, so
 * a failure leaves the old disk. The VM's snapshots go with the old disk.
 * Checks free space first (qemu-img measure): VD_ERROR_NO_SPACE, nothing
 * written. VD_ERROR_STATE while the VM runs; VD_ERROR_INVALID for a VM with
 * an overlay (its disk is the overlay on a base). */
bool vm_disk_import(const char *name, const char *path, GError **error);

/* Write the stopped VM's disk (the whole chain: base and overlay merged) to
 * @path as @format (qcow2, raw, vmdk or vhdx), through a temporary name in
 * @path's folder and a rename. @path must not exist. Checks free space in
 * @path's folder first: VD_ERROR_NO_SPACE, nothing written. */
bool vm_disk_export(const char *name, const char *path, const char *format, GError **error);
