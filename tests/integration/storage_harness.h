/* Helpers shared by the storage tests (test_storage_overlay.c,
 * test_storage_snapshot.c): the VM folder, the guest's serial log and shell,
 * qemu-img/qemu-io runs and reading a disk's first sector. */
#pragma once

#include "harness.h"

/* $XDG_DATA_HOME/vmdesk/vms/NAME[/FILE] (caller frees). */
char *st_vm_path(Harness *h, const char *name, const char *file);
/* Wait until the VM's serial log holds @needle after the start of its last
 * run; asserts within @timeout_ms. */
void st_wait_serial(Harness *h, const char *name, const char *needle, int timeout_ms);
/* Run @argv (a program in PATH) to completion; its exit status. Output in
 * *@out when not NULL (caller frees). */
int st_run(const char *const *argv, char **out);
/* The first sector's text up to its first newline or NUL, of image @path
 * (any format; read with qemu-img dd, -U so a running VM does not matter). */
char *st_first_line(const char *path);
/* Create @path as a raw image of @size bytes whose first sector is "@word\n". */
void st_make_raw(const char *path, const char *word, gsize size);
/* Type @command into the guest's root shell on its serial socket and wait
 * for its output line @done (asserts within @timeout_ms). */
void st_guest_shell(Harness *h, const char *name, const char *command, const char *done,
                    int timeout_ms);
/* st_guest_shell(), returning what the console printed (the echoed command
 * included) up to @done (caller frees). */
char *st_guest_shell_output(Harness *h, const char *name, const char *command, const char *done,
                            int timeout_ms);
/* The same on the serial console at unix socket @sock (a libvirt domain's). */
char *st_serial_shell(const char *sock, const char *command, const char *done, int timeout_ms);
/* The VM's state from vmdesk show --json. */
char *st_state(Harness *h, const char *name);
