/* Shared by the fuzz harnesses: a GLib warning or critical is a bug found. */
#pragma once

#include "common/text.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* Abort, which libFuzzer reports as a crash (GLib's own fatal path raises
 * SIGTRAP, which it does not catch). */
static void fuzz_die_on_warning(const gchar *domain, GLogLevelFlags level, const gchar *message,
                                gpointer data)
{
    g_log_default_handler(domain, level, message, data);
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
        abort();
}

static inline int fuzz_common_initialize(void)
{
    /* GSlice caches would look like leaks to LeakSanitizer. */
    setenv("G_SLICE", "always-malloc", 1);
    g_log_set_default_handler(fuzz_die_on_warning, NULL);
    return 0;
}

/* An error message shows outside bytes escaped and cut (vd_text_quote): it
 * is UTF-8, holds no control character and stays short. Aborts otherwise. */
static inline void fuzz_check_message(const GError *err)
{
    if (!err || !g_utf8_validate(err->message, -1, NULL) || vd_text_find_control(err->message) ||
        strlen(err->message) > 4096)
        abort();
}
