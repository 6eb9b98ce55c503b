/* Helpers for the tests on libvirt (issue 16): a private libvirtd (root, no
 * systemd, its control socket in a temporary folder) with virtlogd, a
 * folder QEMU's user libvirt-qemu owns, and a reaper process that cleans up
 * after the test even when it aborts or is killed: it destroys and
 * undefines the test's domains and storage pools, then stops the daemons
 * and removes the folders. */
#pragma once

#include "harness_x.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *dir;      /* libvirt-qemu's folder: kernel, initrd, console log */
    char *sock_dir; /* libvirtd's private control socket */
    char *uri;
    int libvirtd_pid, virtlogd_pid; /* 0: not ours */
    int reaper_fd;  /* write end of the reaper's pipe; -1: no reaper */
    int reaper_done_fd; /* read end: closed by the reaper once it has cleaned up */
} Libvirt;

/* Run @argv (on PATH) to completion, asserting success; its stdout. */
char *run_ok(const char *const *argv);
/* The pid in file @path within @timeout_ms; aborts when none comes. */
int read_pid(const char *path, int timeout_ms);
/* SIGTERM @pid (0: nothing), SIGKILL after 10 s; asserts it is gone. */
void stop_daemon(int pid);

/* Start virtlogd (when none runs) and libvirtd; copy the test guest's
 * kernel and initrd from @guest_dir into lv->dir. */
void libvirt_start(Libvirt *lv, const char *guest_dir);
/* Start the reaper for @domains and @pools (NULL-terminated names; copied).
 * From here on every way out of the test cleans up. */
void libvirt_reaper_start(Libvirt *lv, const char *const *domains, const char *const *pools);
/* Stop the daemons and remove the folders (through the reaper when there
 * is one: it runs now and is waited for). */
void libvirt_stop(Libvirt *lv);

/* Undefine domain @name if a run that died left it defined. */
void undefine_stale(Libvirt *lv, const char *name);

/* A binary PPM (P6, maxval 255: what QEMU's screendump writes) as an image. */
void load_ppm(const char *file, Image *im);
/* libvirt's screenshot file @file (PNG or PPM, as libvirt 9 chooses) as an image. */
void load_screenshot(const char *file, Image *im);
