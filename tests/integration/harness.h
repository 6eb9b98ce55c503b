/* Helpers for integration tests: a private XDG world, running the vmdesk
 * binary, reading the test guest's banner, and checking for leftovers. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

typedef struct {
    char *root;        /* temp folder holding data/ and run/ */
    char **env;        /* environment for vmdesk */
    char *guest_dir;   /* built test guest */
    int reaper;        /* write end of the pipe that keeps the reaper waiting */
} Harness;

void harness_init(Harness *h);
/* Asserts nothing that this harness started is still running, then removes
 * its folders. */
void harness_finish(Harness *h);

typedef struct {
    int status;        /* exit status */
    char *out;
    char *err;
} RunResult;

void run_result_clear(RunResult *r);
/* Run `vmdesk ARGS...` (NULL-terminated array) to completion. */
RunResult harness_vmdesk_argv(Harness *h, const char *const *args);
/* Run `vmdesk ARGS...` (NULL-terminated) to completion. */
RunResult harness_vmdesk(Harness *h, const char *arg0, ...) G_GNUC_NULL_TERMINATED;
/* Like harness_vmdesk, asserting exit status 0, returns stdout (caller frees). */
char *harness_ok(Harness *h, const char *arg0, ...) G_GNUC_NULL_TERMINATED;
/* VM @name's object in `vmdesk list --json`, parsed into @p (owned by it),
 * or NULL. */
JsonObject *harness_list_entry(Harness *h, const char *name, JsonParser *p);
/* Parsed `vmdesk show NAME --json` (caller unrefs). */
JsonObject *harness_show(Harness *h, const char *name);
/* Create a test-guest VM with @extra_append added to the kernel command line. */
void harness_create_guest(Harness *h, const char *name, const char *extra_append,
                          const char *const *extra_args);
/* Read the banner through 127.0.0.1:@port within @timeout_ms; the line or NULL. */
char *harness_read_banner(unsigned port, int timeout_ms);
/* Start @argv (found on PATH) in the background with @env, its stdout and
 * stderr appended to @log; it gets SIGKILL when the test dies. Asserts it
 * started; the caller reaps it (waitpid). */
GPid harness_spawn(const char *const *argv, char **env, const char *log);
/* A GSpawnChildSetupFunc: the child gets SIGKILL when the test dies. */
void harness_die_with_parent(gpointer data);
/* Pids of processes whose command line mentions our folders. */
GArray *harness_our_pids(Harness *h);
