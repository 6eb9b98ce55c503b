/* Strict JSON, checked before json-glib parses text from outside (QMP, the
 * guest agent, a guest's discovery script, a download's state file).
 * json-glib 1.6 parses nested arrays and objects by recursion without a
 * limit (a few hundred KB of "[[[[..." overflow the stack), and its lexer is
 * laxer than JSON: single-quoted strings, comments, escapes such as a short
 * "\u12" that swallow the closing quote, and it ignores what follows the
 * first value. Pure; any thread. */
#pragma once

#include <glib.h>

/* Check the @len bytes at @s in strict JSON terms: strings with valid
 * escapes, paired surrogates and no raw control character; no quote, slash
 * or NUL outside strings, no bracket closed that was not opened; one value
 * only; arrays and objects nested at most @max_depth deep. Returns NULL when json-glib may parse @s, else why not
 * ("it is nested too deeply", a static string). Runs in constant stack. */
const char *vd_json_check_strict(const char *s, gsize len, int max_depth);
