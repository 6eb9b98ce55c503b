/* Builder for QEMU's comma-separated option strings ("driver,key=value,...").
 * Values are escaped the way QEMU's option parsers expect (a comma is
 * doubled), and values that QEMU could not take back unchanged are refused. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct QemuOpts QemuOpts;

/* Start an option string with a bare @head ("q35", "socket", "user"); NULL for none. */
QemuOpts *qemu_opts_new(const char *head);
/* Append ",key=value". The first failure is remembered and reported by _finish. */
void qemu_opts_add(QemuOpts *o, const char *key, const char *value);
void qemu_opts_addf(QemuOpts *o, const char *key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Append ",flag" verbatim (for flags like hv-relaxed); @flag must not need escaping. */
void qemu_opts_flag(QemuOpts *o, const char *flag);
/* Frees @o; returns the string or NULL with @error set. */
char *qemu_opts_finish(QemuOpts *o, GError **error);

/* Escape one value: ',' -> ",,". Caller frees. */
char *qemu_opts_escape(const char *value);
