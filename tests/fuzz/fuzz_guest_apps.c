/* libFuzzer harness for what a guest's discovery script prints
 * (orchestrator/guest/guest_apps_parse.c): JSON lines from inside the guest, so
 * outside input.
 *
 *  1. guest_apps_parse() on the input: it either fails with
 *     VD_ERROR_PROTOCOL and a message that shows the guest's bytes escaped
 *     and cut (fuzz_check_message), or returns applications that
 *     keep the header's promises (id, name and program non-empty; args,
 *     mime-types and categories non-NULL; at most GUEST_APPS_MAX).
 *  2. The same input cut at every line end gives a verdict too (output the
 *     agent truncated), never a crash.
 *
 * Any GLib critical or warning aborts. Built as a fuzzer with VMDESK_FUZZ=ON
 * and clang; replayed over tests/fuzz/corpus by unit-fuzz-replay. */
#include "common/error.h"
#include "fuzz_common.h"
#include "guest/guest_apps.h"

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

static void check(const char *data, size_t size)
{
    GError *err = NULL;
    char *os = NULL;
    GPtrArray *apps = guest_apps_parse(data, size, &os, &err);
    if (!apps) {
        fuzz_check_message(err);
        if (err->code != VD_ERROR_PROTOCOL || os)
            abort();
        g_error_free(err);
        return;
    }
    if (err || apps->len > GUEST_APPS_MAX)
        abort();
    for (guint i = 0; i < apps->len; i++) {
        const GuestApp *a = g_ptr_array_index(apps, i);
        if (!a->id || !*a->id || !a->name || !*a->name || !a->program || !*a->program ||
            !a->args || !a->mime_types || !a->categories)
            abort();
    }
    g_ptr_array_unref(apps);
    g_free(os);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    check(text, size);
    for (size_t i = 0; i < size; i++)
        if (text[i] == '\n')
            check(text, i + 1);
    return 0;
}
