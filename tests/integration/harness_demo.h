/* Helpers for integration tests on the demo guest (Debian 12 with xrdp and
 * qemu-guest-agent, built by tools/demo-guest): where its files are (the
 * guest.env the build writes) and running commands in it through the QEMU
 * guest agent. Like the rest of the harness, they assert: a failure ends the
 * test, and harness.c's reaper then kills what the test started.
 * Main thread of the test only. */
#pragma once

#include "harness.h"

#include <glib.h>

/* The demo guest as its guest.env describes it. Every field is a string the
 * DemoGuest owns; demo_guest_clear() frees them. */
typedef struct {
    char *kernel;        /* KERNEL: the vmlinuz to boot */
    char *initrd;        /* INITRD */
    char *disk;          /* DISK: the qcow2 disk (import it or overlay it: never write it) */
    char *append;        /* APPEND: the kernel command line */
    char *user;          /* USER: the desktop user xrdp logs in */
    char *password_file; /* PASSWORD_FILE: that user's password, for --password-file */
} DemoGuest;

/* Fill @g from $VMDESK_DEMO_GUEST_DIR/guest.env (shell-quoted KEY='value'
 * lines). Fails the test when the variable is unset, the file unreadable or
 * a key missing. Free with demo_guest_clear(). */
void demo_guest_load(DemoGuest *g);

/* Free @g's strings and zero it; a zeroed DemoGuest is fine too. */
void demo_guest_clear(DemoGuest *g);

/* $XDG_RUNTIME_DIR/vmdesk/@vm/qga.sock of @h's private world: the socket of
 * VM @vm's guest agent while it runs. Caller frees. */
char *demo_guest_agent_socket(Harness *h, const char *vm);

/* Run @argv (NULL-terminated; argv[0] is the program, found on the guest's
 * PATH when not absolute) in the guest whose agent listens on
 * @agent_socket_path, waiting at most @timeout_ms for the agent to answer and
 * the program to end. Returns the program's stdout (caller frees). Fails the
 * test when the agent cannot be reached, the program does not exist or does
 * not end in time, and when it exits other than 0 (the guest's stdout and
 * stderr are printed first). */
char *demo_guest_run(const char *agent_socket_path, const char *const *argv, int timeout_ms);
