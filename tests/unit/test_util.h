/* Helpers shared by the unit tests: temporary folders and child processes
 * that cannot outlive the test. Test code only; single-threaded callers. */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>

/* A new private folder under $TMPDIR (short path: sockets go in it).
 * Caller removes it with tu_rm_rf() and frees the string. */
char *tu_tmpdir(void);

/* rm -rf @path (no symlink is followed). NULL is allowed. */
void tu_rm_rf(const char *path);

/* Write @text to @path, creating or truncating it; aborts the test on failure. */
void tu_write_file(const char *path, const char *text);

/* @before, @depth '[' then as many ']', and @after: JSON nested deeper than
 * any parser should recurse. Caller frees. */
char *tu_deep_json(const char *before, int depth, const char *after);

/* A launcher whose children get SIGKILL when the test process dies, so a
 * failed assertion never leaves a QEMU behind. @flags as for GSubprocess. */
GSubprocessLauncher *tu_launcher_new(GSubprocessFlags flags);

/* @ms times VMDESK_TEST_TIME_SCALE (a number from 1 to 100; unset: 1), for
 * how long a test waits for something to happen. tools/test-sanitizers sets
 * it: under ASan every program of ours runs several times slower. Never for
 * a bound the product promises (a lower bound, a measured time). Aborts the
 * test on a malformed value. */
int tu_timeout_ms(int ms);

/* Wait up to tu_timeout_ms(@timeout_ms) for @p to end; SIGKILL it after
 * that. Returns true when it ended by itself. */
bool tu_subprocess_wait(GSubprocess *p, int timeout_ms);

/* Everything left on @p's stderr pipe (NULL-safe), for failure messages. */
char *tu_subprocess_stderr(GSubprocess *p);

/* Is @program in PATH? */
bool tu_have_program(const char *program);

/* The path of @name: in PATH, else in /usr/sbin or /sbin (where Debian puts
 * daemons such as qemu-ga, xrdp and nginx). Aborts the test, naming Debian
 * package @package, when it is not installed. Caller frees. */
char *tu_find_program(const char *name, const char *package);
