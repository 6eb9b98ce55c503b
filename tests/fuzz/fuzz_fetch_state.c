/* libFuzzer harness for a download's resume state, PATH.part.json
 * (orchestrator/fetch/fetch_state.c): a file on disk that anything may have
 * written, read by `vmdesk fetch` before it resumes.
 *
 *  1. fetch_state_parse() on the input either fails with VD_ERROR_INVALID,
 *     a message that quotes nothing raw (fuzz_check_message) and an empty
 *     state, or gives a state that keeps its
 *     promises: a URL, ranges sorted, merged, non-empty and within the size.
 *  2. An accepted state written back (fetch_state_to_data) parses again to
 *     the same state, and writes the same text again.
 *
 * Any GLib critical or warning aborts; a stack overflow crashes. Built as a
 * fuzzer with VMDESK_FUZZ=ON and clang; replayed over tests/fuzz/corpus by
 * unit-fuzz-replay. */
#include "common/error.h"
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

static void check_promises(const FetchState *st)
{
    if (!st->url || !g_utf8_validate(st->url, -1, NULL))
        abort();
    uint64_t prev_end = 0;
    for (guint i = 0; i < st->done->len; i++) {
        const FetchRange *r = &g_array_index(st->done, FetchRange, i);
        if (r->start >= r->end || r->end > st->size || (i > 0 && r->start <= prev_end))
            abort();
        prev_end = r->end;
    }
}

static bool same_state(const FetchState *a, const FetchState *b)
{
    return !g_strcmp0(a->url, b->url) && !g_strcmp0(a->etag, b->etag) &&
           !g_strcmp0(a->last_modified, b->last_modified) && a->size == b->size &&
           a->done->len == b->done->len &&
           (!a->done->len ||
            !memcmp(a->done->data, b->done->data, a->done->len * sizeof(FetchRange)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FetchState st;
    fetch_state_init(&st);
    GError *err = NULL;
    if (!fetch_state_parse((const char *)data, size, "fuzz", &st, &err)) {
        fuzz_check_message(err);
        if (err->domain != VD_ERROR || err->code != VD_ERROR_INVALID || st.url || st.etag ||
            st.last_modified || st.size || st.done->len)
            abort();
        g_error_free(err);
        fetch_state_clear(&st);
        return 0;
    }
    if (err)
        abort();
    check_promises(&st);
    char *text = fetch_state_to_data(&st, NULL);
    FetchState back;
    fetch_state_init(&back);
    if (!fetch_state_parse(text, strlen(text), "fuzz", &back, NULL) || !same_state(&st, &back))
        abort();
    char *again = fetch_state_to_data(&back, NULL);
    if (strcmp(text, again))
        abort();
    g_free(again);
    g_free(text);
    fetch_state_clear(&back);
    fetch_state_clear(&st);
    return 0;
}
