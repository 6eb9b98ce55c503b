#include "common/test_hook.h"

#include <glib.h>
#include <signal.h>

void vd_test_delay(const char *var)
{
    const char *v = g_getenv(var);
    guint64 ms = 0;
    if (v && g_ascii_string_to_unsigned(v, 10, 0, 60000, &ms, NULL) && ms)
        g_usleep(ms * 1000);
}

void vd_test_crash(const char *var, const char *step)
{
    if (!g_strcmp0(g_getenv(var), step))
        raise(SIGKILL);
}
