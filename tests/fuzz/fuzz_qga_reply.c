/* libFuzzer harness for a guest agent's answer as libvirt hands it on
 * (virDomainQemuAgentCommand's text, orchestrator/libvirt/lv_agent.c):
 * hostile when the guest or the libvirt host is.
 *
 * qga_reply_parse() on the input, in a buffer of exactly its size (ASan
 * sees any read past it): either it fails with VD_ERROR_PROTOCOL, a message
 * that quotes nothing raw (fuzz_check_message), or it gives one object that
 * has "return" or "error".
 *
 * Any GLib critical or warning aborts. Built as a fuzzer with VMDESK_FUZZ=ON
 * and clang; replayed over tests/fuzz/corpus/qga-reply by unit-fuzz-replay. */
#include "common/error.h"
#include "fuzz_common.h"
#include "guest/qga_client_priv.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return fuzz_common_initialize();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = size ? g_memdup2(data, size) : NULL;
    GError *err = NULL;
    JsonObject *o = qga_reply_parse(copy, size, "guest-exec", "the guest agent", &err);
    if (!o) {
        if (!g_error_matches(err, VD_ERROR, VD_ERROR_PROTOCOL))
            abort();
        fuzz_check_message(err);
        g_error_free(err);
    } else {
        if (err ||
            (!json_object_has_member(o, "return") && !json_object_has_member(o, "error")))
            abort();
        json_object_unref(o);
    }
    g_free(copy);
    return 0;
}
