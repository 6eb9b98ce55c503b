#include "common/size.h"

#include "common/error.h"
#include "common/text.h"

#include <errno.h>
#include <stdlib.h>

static int unit_shift(char u)
{
    switch (g_ascii_toupper(u)) {
    case 'B': return 0;
    case 'K': return 10;
    case 'M': return 20;
    case 'G': return 30;
    case 'T': return 40;
    default: return -1;
    }
}

bool vd_size_parse(const char *text, char default_unit, uint64_t *bytes, GError **error)
{
    if (!text || !g_ascii_isdigit(*text))
        goto bad;
    errno = 0;
    char *end = NULL;
    guint64 n = g_ascii_strtoull(text, &end, 10);
    if (errno || end == text)
        goto bad;
    int shift = default_unit ? unit_shift(default_unit) : 0;
    if (*end) {
        shift = unit_shift(*end);
        if (shift < 0)
            goto bad;
        end++;
        if (*end == 'i' && shift > 0)
            end++;
        if ((*end == 'B' || *end == 'b') && shift > 0)
            end++;
        if (*end)
            goto bad;
    }
    if (shift > 0 && n > (G_MAXUINT64 >> shift)) {
        g_autofree char *q = vd_text_quote(text, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "size %s is too large", q);
        return false;
    }
    *bytes = n << shift;
    return true;
bad:;
    g_autofree char *q = vd_text_quote(text ? text : "", -1);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                "%s is not a size; write a number with a unit, like 512M, 4G or 1T", q);
    return false;
}

char *vd_size_format(uint64_t bytes)
{
    static const char units[] = "KMGT";
    int u = -1;
    while (u < 3 && bytes && (bytes & 1023) == 0) {
        bytes >>= 10;
        u++;
    }
    if (u < 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT, bytes);
    return g_strdup_printf("%" G_GUINT64_FORMAT "%c", bytes, units[u]);
}
