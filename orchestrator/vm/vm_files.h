/* File and folder copies for a VM's disk-side state (UEFI variables, TPM
 * state folder): replaced so that a crash leaves the old copy or the new
 * one. Blocking; any thread; no locking (callers hold the VM's lock). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Copy the file @src to @dst through a temporary file, fsync and rename
 * (mode 0600). */
bool vm_files_copy(const char *src, const char *dst, GError **error);

/* Replace the folder @dst by a copy of the folder @src (files 0600, folders
 * 0700): copied to @dst.new, then swapped in by renames. A leftover @dst.new
 * or @dst.old from an interrupted call is removed first; if a crash came
 * between the two renames (@dst missing, @dst.new complete), the next call
 * redoes the copy anyway. */
bool vm_files_replace_tree(const char *src, const char *dst, GError **error);

/* Replace @dst by @src: a file (vm_files_copy) or a folder
 * (vm_files_replace_tree). A missing @src removes @dst. */
bool vm_files_replace(const char *src, const char *dst, GError **error);

/* rm -r @path (no error when it does not exist; symlinks are not followed). */
void vm_files_remove_tree(const char *path);

/* fsync the folder @dir, so renames in it are durable. */
void vm_files_sync_dir(const char *dir);

/* The text of a VM paused because the host file system holding image @path
 * is full: "no space left on MOUNT (N MiB free)", MOUNT being the mount point
 * of that file system (or @path's folder when it cannot be found). Caller
 * frees. *@free_bytes (may be NULL) gets the free space now. */
char *vm_files_no_space_text(const char *path, uint64_t *free_bytes);

/* The prefix of every vm_files_no_space_text, to recognise such a reason. */
#define VM_NO_SPACE_PREFIX "no space left on "
