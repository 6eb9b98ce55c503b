#include "common/error.h"

#include <gio/gio.h>

/* VD_ERROR is an extended error domain (GLib 2.68), registered as "VdError":
 * each error carries a field and a plain text beside its message. */
typedef struct {
    char *field;
    char *plain;
} VdErrorPrivate;

static void vd_error_private_init(VdErrorPrivate *priv)
{
    priv->field = NULL;
    priv->plain = NULL;
}

static void vd_error_private_copy(const VdErrorPrivate *src, VdErrorPrivate *dest)
{
    dest->field = g_strdup(src->field);
    dest->plain = g_strdup(src->plain);
}

static void vd_error_private_clear(VdErrorPrivate *priv)
{
    g_clear_pointer(&priv->field, g_free);
    g_clear_pointer(&priv->plain, g_free);
}

G_DEFINE_EXTENDED_ERROR(VdError, vd_error)

void vd_error_set_worded(GError **error, VdErrorCode code, const char *field, const char *plain,
                         const char *format, ...)
{
    if (!error)
        return;
    va_list ap;
    va_start(ap, format);
    g_autofree char *message = g_strdup_vprintf(format, ap);
    va_end(ap);
    GError *e = g_error_new_literal(VD_ERROR, code, message);
    VdErrorPrivate *priv = vd_error_get_private(e);
    priv->field = g_strdup(field);
    priv->plain = g_strdup(plain);
    g_propagate_error(error, e);
}

/* @error's private part; NULL for another domain's (vd_error_get_private
 * would complain). */
static VdErrorPrivate *private_of(const GError *error)
{
    return error && error->domain == VD_ERROR ? vd_error_get_private(error) : NULL;
}

const char *vd_error_field(const GError *error)
{
    VdErrorPrivate *priv = private_of(error);
    return priv ? priv->field : NULL;
}

const char *vd_error_plain(const GError *error)
{
    VdErrorPrivate *priv = private_of(error);
    return priv ? priv->plain : NULL;
}

void vd_error_prefix(GError **error, const char *format, ...)
{
    if (!error || !*error)
        return;
    va_list ap;
    va_start(ap, format);
    g_autofree char *prefix = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_prefix_error(error, "%s", prefix);
    VdErrorPrivate *priv = private_of(*error);
    if (priv && priv->plain) {
        char *plain = g_strconcat(prefix, priv->plain, NULL);
        g_free(priv->plain);
        priv->plain = plain;
    }
}

/* @text's lines, each after @prefix. */
static void append_prefixed(GString *out, const char *prefix, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++)
        g_string_append_printf(out, "%s%s\n", prefix, *l);
}

char *vd_error_lines(const GError *error, gboolean words)
{
    GString *out = g_string_new(NULL);
    if (words) {
        /* For a program: every line after its prefix, so that no line of
         * a message (a log's tail) can pose as a field or plain line. */
        append_prefixed(out, VD_ERROR_LINE_PREFIX, error->message);
    } else {
        /* The message as it always was: the lines after its first are a
         * log's tail or a list, read by people. */
        g_string_append_printf(out, "%s%s\n", VD_ERROR_LINE_PREFIX, error->message);
    }
    const char *field = vd_error_field(error), *plain = vd_error_plain(error);
    if (words && field)
        append_prefixed(out, VD_ERROR_FIELD_PREFIX, field);
    if (words && plain)
        append_prefixed(out, VD_ERROR_PLAIN_PREFIX, plain);
    return g_string_free(out, FALSE);
}

int vd_error_exit_status(const GError *error)
{
    if (!error)
        return 0;
    if (error->domain == G_OPTION_ERROR)
        return 2;
    if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_NO_SPACE)
        return 7;
    if (error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_NOSPC)
        return 7;
    if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_TIMED_OUT)
        return 5;
    if (error->domain != VD_ERROR)
        return 1;
    switch ((VdErrorCode)error->code) {
    case VD_ERROR_INVALID:
    case VD_ERROR_EXISTS:
        return 2;
    case VD_ERROR_NOT_FOUND:
        return 3;
    case VD_ERROR_STATE:
        return 4;
    case VD_ERROR_TIMEOUT:
        return 5;
    case VD_ERROR_VM:
    case VD_ERROR_PROTOCOL:
        return 6;
    case VD_ERROR_NO_SPACE:
        return 7;
    case VD_ERROR_FAILED:
        break;
    }
    return 1;
}
