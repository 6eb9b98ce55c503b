/* Running helper programs (qemu-img, a probe QEMU) to completion: an argv
 * array (never a shell), a clean set of fds, a deadline, the exit status
 * checked by the caller. Blocking; any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    int wait_status;   /* as from waitpid(); -1 if the child was never reaped */
    char *output;      /* stdout and stderr interleaved, capped at 1 MiB; NUL-terminated */
    bool timed_out;    /* the deadline passed and the child was killed */
} VdRunResult;

void vd_run_result_clear(VdRunResult *r);

/* Run @argv (argv[0] looked up in PATH) with stdin from /dev/null. Waits at
 * most @timeout_ms (then SIGKILL). Fails only if it could not be started
 * (VD_ERROR_NOT_FOUND when argv[0] is missing); the caller judges the status. */
bool vd_run(const char *const *argv, int timeout_ms, VdRunResult *result, GError **error);

/* Like vd_run, but an exit status other than 0 is an error whose message is
 * "@what failed: <last lines of output>". */
bool vd_run_check(const char *const *argv, int timeout_ms, const char *what, GError **error);

/* "exited with status 3" / "was killed by signal 9 (Killed)". Caller frees. */
char *vd_describe_wait_status(int wait_status);

/* Start @argv (argv[0] looked up in PATH) with its standard input and output
 * one end of a new socket pair, and return the other end (close-on-exec): a
 * tunnel such as `ssh -W HOST:PORT`, handed to a program that takes a
 * connected socket, so nothing listens on this host for it. Its standard
 * error is ours. The caller closes the socket; the process then sees the end
 * of its input, exits, and is reaped by a thread of ours. Fails (-1, with
 * @what in the message) only when it cannot be started. Any thread. */
int vd_spawn_tunnel(const char *const *argv, const char *what, GError **error);
