/* Confining the session helper process (session/helper/helper_main.c): what
 * an exploited protocol library may still do. Applied once, on the helper's
 * main thread, before any thread is started and before the first byte from
 * the server is read. Model: OpenSSH's sandbox-seccomp-filter.c, bubblewrap.
 *
 *  - no_new_privs: no setuid program can give the process more rights.
 *  - seccomp (libseccomp): an allow list of system calls. Everything else
 *    fails with EPERM: no exec, no socket creation or connect, no ptrace, no
 *    mount, no namespace, no kill of another process. The helper works only
 *    with the descriptors it was given.
 *  - Landlock (as far as the kernel has it): the file system is read-only
 *    under @read_only and read-write under @read_write, and nothing else
 *    opens (not $HOME, $XDG_RUNTIME_DIR nor another VM's folder); from ABI 4
 *    no TCP bind or connect, from ABI 6 no signal or abstract unix socket
 *    outside the helper. Opening for writing, making, renaming and removing
 *    files are allowed only when Landlock keeps them beneath @read_write.
 * A protection the kernel lacks is skipped and named in the report; seccomp
 * and no_new_privs are required (every kernel vmdesk runs on has them). */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    const char *const *read_only;   /* NULL-terminated; missing paths are skipped */
    const char *const *read_write;  /* NULL-terminated; the session's shared folders */
} ConfinePolicy;

typedef struct {
    bool no_new_privs;
    bool seccomp;
    int landlock_abi;               /* 0: the kernel has no Landlock */
} ConfineReport;

/* Confine the calling process for good (see above). Fills @report with what
 * is active. False with @error when no_new_privs or seccomp could not be
 * set: the caller must then not touch untrusted input. Main thread of a
 * process that has started no other thread. */
bool confine_apply(const ConfinePolicy *policy, ConfineReport *report, GError **error);

/* "no_new_privs, seccomp, Landlock ABI 3 (files)" for the log. Caller frees. */
char *confine_describe(const ConfineReport *report);
