/* libFuzzer harness for what servers send `vmdesk fetch`
 * (orchestrator/fetch/fetch_parse.c):
 *
 *  1. The input as response header lines, fed one line at a time the way
 *     libcurl calls its header function; any Content-Range found, and the
 *     input itself, through fetch_parse_content_range: an accepted range has
 *     start <= end, and end < total when the total is known.
 *  2. The input as a checksum list (SHA256SUMS, Fedora's CHECKSUM) with a
 *     catalog pattern and with "*": a found file matches the pattern, comes
 *     from the list, and its digest is 64 lowercase hex digits.
 *
 * Any GLib critical or warning aborts. Built as a fuzzer with VMDESK_FUZZ=ON
 * and clang; replayed over tests/fuzz/corpus/fetch by unit-fuzz-replay. */
#include "fetch/fetch_catalog.h"
#include "fetch/fetch_priv.h"
#include "fuzz_common.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return fuzz_common_initialize();
}

static void check_range(const char *v)
{
    uint64_t s = 0, e = 0, total = 0;
    bool known = false;
    if (fetch_parse_content_range(v, &s, &e, &total, &known) &&
        (s > e || (known && e >= total) || (!known && total != 0)))
        abort();
}

static void fuzz_headers(const char *text, size_t size)
{
    FetchHeaders h;
    fetch_headers_init(&h);
    size_t off = 0;
    while (off < size) {
        const char *nl = memchr(text + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - (text + off)) + 1 : size - off;
        /* libcurl hands over a copy it owns; so do we. */
        char *line = g_memdup2(text + off, len);
        if (fetch_headers_cb(line, 1, len, &h) != len)
            abort();
        g_free(line);
        off += len;
    }
    check_range(h.content_range);
    fetch_headers_clear(&h);
}

static void fuzz_list(const char *text, const char *pattern)
{
    char *name = NULL, *sha = NULL;
    if (!fetch_checksum_list_find(text, pattern, &name, &sha))
        return;
    if (!g_pattern_match_simple(pattern, name) || !strstr(text, name) || strlen(sha) != 64)
        abort();
    for (const char *p = sha; *p; p++)
        if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
            abort();
    g_free(name);
    g_free(sha);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size); /* NUL-terminated, stops at a NUL */
    fuzz_headers((const char *)data, size);
    check_range(text);
    fuzz_list(text, "debian-12.*-amd64-netinst.iso");
    fuzz_list(text, "*");
    g_free(text);
    return 0;
}
