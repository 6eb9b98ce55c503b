/* Fault-injection points for the integration tests. Each reads one
 * environment variable named in the call (VMDESK_TEST_...); unset, it does
 * nothing, so the product behaves the same. They widen a race window or slow
 * a step so a test can act in the middle of it deterministically. Any thread. */
#pragma once

/* Sleep for the milliseconds in environment variable @var (0-60000), if set. */
void vd_test_delay(const char *var);

/* Kill this process with SIGKILL (no cleanup, as a crash would) if
 * environment variable @var is set to @step, the name of the point reached. */
void vd_test_crash(const char *var, const char *step);
