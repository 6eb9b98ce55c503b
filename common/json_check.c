#include "common/json_check.h"

#include <stdbool.h>
#include <string.h>

/* The value of the 4 hex digits at @s, or -1. */
static int hex4(const char *s)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int d = g_ascii_xdigit_value(s[k]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

const char *vd_json_check_strict(const char *s, gsize len, int max_depth)
{
    int depth = 0;
    bool done = false; /* the first object or array ended */
    for (gsize i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (done && !g_ascii_isspace(ch))
            return "it holds more than one value";
        if (ch == '[' || ch == '{') {
            if (++depth > max_depth)
                return "it is nested too deeply";
        } else if (ch == ']' || ch == '}') {
            if (--depth < 0)
                return "it closes a bracket that was never opened";
            done = depth == 0;
        } else if (ch == '\'' || ch == '/' || ch == '\0') {
            return "it has a character outside a string that JSON does not allow there";
        } else if (ch == '"') {
            for (i++;; i++) {
                if (i >= len)
                    return "a string is not terminated";
                ch = (unsigned char)s[i];
                if (ch == '"')
                    break;
                if (ch < 0x20)
                    return "a string contains a control character";
                if (ch != '\\')
                    continue;
                if (++i >= len)
                    return "a string is not terminated";
                if (strchr("\"\\/bfnrt", s[i]) && s[i])
                    continue;
                int hi = s[i] == 'u' && len - i > 4 ? hex4(s + i + 1) : -1;
                if (hi < 0)
                    return "a string contains an invalid escape";
                i += 4;
                if (hi >= 0xdc00 && hi <= 0xdfff)
                    return "a string contains an unpaired surrogate";
                if (hi >= 0xd800 && hi <= 0xdbff) {
                    int lo = len - i > 6 && s[i + 1] == '\\' && s[i + 2] == 'u' ? hex4(s + i + 3)
                                                                                 : -1;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return "a string contains an unpaired surrogate";
                    i += 6;
                }
            }
        }
    }
    return NULL;
}
