/* Where vmdesk keeps things (ARCHITECTURE.md, Processes):
 *   data:    $XDG_DATA_HOME/vmdesk/vms/NAME/   config, disks, firmware vars, TPM, logs
 *   runtime: $XDG_RUNTIME_DIR/vmdesk/NAME/     sockets, lock, state   (mode 0700)
 * All functions are pure string builders unless they say otherwise. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* A VM name is 1..48 characters of [A-Za-z0-9_.-], starting with a letter or
 * digit, without "..": it becomes a folder name, a socket path and a QEMU -name. */
bool vd_name_validate(const char *name, GError **error);

char *vd_paths_data_root(void);            /* .../vmdesk */
char *vd_paths_vms_dir(void);              /* .../vmdesk/vms */
char *vd_paths_vm_dir(const char *name);   /* .../vmdesk/vms/NAME */
char *vd_paths_runtime_root(void);         /* $XDG_RUNTIME_DIR/vmdesk */
char *vd_paths_runtime_dir(const char *name);

/* The program @name beside the running one (/proc/self/exe's folder: the
 * build tree, or the folder a package installed both in), when there and
 * executable; else NULL. Caller frees. */
char *vd_paths_beside_self(const char *name);

/* mkdir -p @path; the last component gets mode 0700 and must belong to us
 * (an existing folder with looser mode is tightened). */
bool vd_mkdir_private(const char *path, GError **error);

/* Longest path a unix socket can bind (sun_path less the NUL). */
#define VD_UNIX_PATH_MAX 107
