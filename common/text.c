#include "common/text.h"

#include <string.h>

const char *vd_text_find_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return s;
    return NULL;
}

/* The length of the character at @p (@avail > 0 bytes left) and its code
 * point, or 1 and -1 for a byte that starts no valid UTF-8 sequence. */
static gsize char_at(const char *p, gsize avail, gunichar *ch)
{
    unsigned char c = (unsigned char)*p;
    if (c < 0x80) {
        *ch = c;
        return 1;
    }
    gunichar u = g_utf8_get_char_validated(p, (gssize)MIN(avail, 8));
    if (u == (gunichar)-1 || u == (gunichar)-2) {
        *ch = (gunichar)-1;
        return 1;
    }
    *ch = u;
    return (gsize)(g_utf8_next_char(p) - p);
}

gsize vd_text_char_len(const char *s, gsize len)
{
    gunichar ch;
    return char_at(s, len, &ch);
}

gsize vd_text_cut(const char *s, gsize len, gsize max)
{
    if (len <= max)
        return len;
    gsize i = 0;
    while (i < max) {
        gunichar ch;
        gsize step = char_at(s + i, len - i, &ch);
        if (i + step > max)
            break;
        i += step;
    }
    return i;
}

char *vd_text_quote(const char *s, gssize len)
{
    if (!s)
        return g_strdup("(none)");
    gsize n = len < 0 ? strlen(s) : (gsize)len;
    gsize shown = vd_text_cut(s, n, VD_TEXT_QUOTE_MAX);
    GString *out = g_string_sized_new(shown + 32);
    g_string_append_c(out, '"');
    for (gsize i = 0; i < shown;) {
        gunichar ch;
        gsize step = char_at(s + i, shown - i, &ch);
        if (ch == (gunichar)-1)
            g_string_append_printf(out, "\\x%02x", (unsigned char)s[i]);
        else if (ch == '"' || ch == '\\')
            g_string_append_printf(out, "\\%c", (char)ch);
        else if (ch == '\n')
            g_string_append(out, "\\n");
        else if (ch == '\t')
            g_string_append(out, "\\t");
        else if (ch == '\r')
            g_string_append(out, "\\r");
        else if (ch < 0x20 || ch == 0x7f)
            g_string_append_printf(out, "\\x%02x", (unsigned)ch);
        else if (ch >= 0x80 && ch < 0xa0) /* C1: some terminals act on them */
            g_string_append_printf(out, "\\u%04x", (unsigned)ch);
        else
            g_string_append_len(out, s + i, (gssize)step);
        i += step;
    }
    g_string_append_c(out, '"');
    if (shown < n)
        g_string_append_printf(out, "\u2026 (%" G_GSIZE_FORMAT " bytes)", n);
    return g_string_free(out, FALSE);
}
