/* Text that comes from outside vmdesk (config values, guest output, server
 * replies, state files): the one rule for what a value handed on to QEMU may
 * hold, and how such text is shown in a message without letting its bytes
 * reach the terminal raw. Pure; any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* How many bytes of a string vd_text_quote() shows before it cuts. */
#define VD_TEXT_QUOTE_MAX 200

/* The first ASCII control character (bytes 0x01-0x1f and 0x7f) in the
 * NUL-terminated @s, or NULL when there is none. This is the rule for every
 * value that ends up in a QEMU option string or on its command line
 * (qemu/qemu_opts.c), and so for every config value (vm/vm_config.c): QEMU
 * could not be handed such a value unambiguously. */
const char *vd_text_find_control(const char *s);

/* The length in bytes of the character at @s (@len > 0 bytes left): its
 * UTF-8 sequence, or 1 for a byte that starts no valid sequence. */
gsize vd_text_char_len(const char *s, gsize len);

/* The length of the longest prefix of @s (@len bytes) that is at most @max
 * bytes long and does not end inside a UTF-8 character. A byte that is not
 * part of a valid UTF-8 sequence counts as a character of its own, so any
 * input can be cut. Returns @len when @len <= @max. */
gsize vd_text_cut(const char *s, gsize len, gsize max);

/* @s as it should appear in a message: in double quotes, with '"' and '\'
 * escaped by a backslash, control characters (C0, DEL and C1) as \n, \t, \r,
 * \xNN or \uNNNN, and bytes that are not valid UTF-8 as \xNN; valid
 * non-ASCII characters are kept. At most VD_TEXT_QUOTE_MAX bytes of @s are
 * shown, cut at a character boundary; a longer @s is followed by an ellipsis
 * (U+2026) and its length: "abc"<ellipsis> (1048576 bytes). @len is the length of @s in bytes, or -1
 * when @s is NUL-terminated (a NUL within @len shows as \x00). @s may be NULL
 * (shown as (none)). Returns a new string (caller frees); never fails. */
char *vd_text_quote(const char *s, gssize len);
