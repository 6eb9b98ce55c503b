#include "qemu/qemu_opts.h"

#include "common/error.h"
#include "common/text.h"

#include <string.h>

struct QemuOpts {
    GString *str;
    GError *error;
};

QemuOpts *qemu_opts_new(const char *head)
{
    QemuOpts *o = g_new0(QemuOpts, 1);
    o->str = g_string_new(head ? head : "");
    return o;
}

char *qemu_opts_escape(const char *value)
{
    GString *s = g_string_sized_new(strlen(value) + 4);
    for (const char *p = value; *p; p++) {
        g_string_append_c(s, *p);
        if (*p == ',')
            g_string_append_c(s, ',');
    }
    return g_string_free(s, FALSE);
}

void qemu_opts_add(QemuOpts *o, const char *key, const char *value)
{
    if (o->error)
        return;
    if (vd_text_find_control(value)) {
        g_set_error(&o->error, VD_ERROR, VD_ERROR_INVALID,
                    "the value of QEMU option %s contains a control character", key);
        return;
    }
    g_autofree char *esc = qemu_opts_escape(value);
    if (o->str->len)
        g_string_append_c(o->str, ',');
    g_string_append_printf(o->str, "%s=%s", key, esc);
}

void qemu_opts_addf(QemuOpts *o, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *v = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qemu_opts_add(o, key, v);
}

void qemu_opts_flag(QemuOpts *o, const char *flag)
{
    if (o->str->len)
        g_string_append_c(o->str, ',');
    g_string_append(o->str, flag);
}

char *qemu_opts_finish(QemuOpts *o, GError **error)
{
    char *s = g_string_free(o->str, o->error != NULL);
    if (o->error)
        g_propagate_error(error, o->error);
    g_free(o);
    return s;
}
