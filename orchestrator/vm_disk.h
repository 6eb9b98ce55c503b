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
