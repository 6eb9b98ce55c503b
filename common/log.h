/* Logging: one process-wide sink (the only global state vmdesk allows).
 * Messages go to stderr, or to a file once vd_log_to_file() is called (the
 * supervisor does that). Never log a password. Thread-safe. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef enum { VD_LOG_DEBUG, VD_LOG_INFO, VD_LOG_WARN, VD_LOG_ERROR } VdLogLevel;

/* Messages below @level are dropped. Default: INFO, or DEBUG when the
 * environment has VMDESK_DEBUG=1. */
void vd_log_set_level(VdLogLevel level);

/* Append messages, with timestamps, to @path (created 0600) instead of stderr. */
bool vd_log_to_file(const char *path, GError **error);

void vd_log(VdLogLevel level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define vd_debug(...) vd_log(VD_LOG_DEBUG, __VA_ARGS__)
#define vd_info(...) vd_log(VD_LOG_INFO, __VA_ARGS__)
#define vd_warn(...) vd_log(VD_LOG_WARN, __VA_ARGS__)
#define vd_err(...) vd_log(VD_LOG_ERROR, __VA_ARGS__)
