/* The escape test's exploited library (tests/integration/test_confine.c):
 * with VMDESK_TEST_HELPER_ESCAPE=SECRET:WRITE:OTHER_DIR:PORT[:SHARED[:STAGE[:RUN]]]
 * in its environment, the helper, once connected, tries what a library
 * taken over by the guest would: read the file SECRET, create WRITE, open a
 * socket and connect to 127.0.0.1:PORT, run /bin/sh, ptrace its parent,
 * list OTHER_DIR, create STAGE (a file in the window's clipboard staging
 * folder) and RUN (one in its runtime folder); and what it may do: create
 * SHARED (in a share).
 * Each attempt prints "vmdesk helper escape: NAME: denied (why)" or
 * "...: ALLOWED" on stderr. Unset (the product), it does nothing. A test
 * hook like common/test_hook.h's; helper main thread, after confinement. */
#pragma once

void helper_escape_try(void);
