/* libFuzzer harness for libvirt's screenshots as PPM
 * (orchestrator/libvirt/lv_ppm.c): bytes a libvirt host streams for
 * `vmdesk screenshot DOMAIN --connect URI`, hostile when the host is.
 *
 * lv_ppm_parse() on the input, and on the input less its last byte, each in
 * a buffer of exactly that size (ASan sees any read past it): either it
 * fails with VD_ERROR_PROTOCOL, a message that quotes nothing raw
 * (fuzz_check_message) and no pixels, or it gives a picture of
 * 1..LV_PPM_MAX_SIDE on each side whose pixels fit in the input after a
 * header of at least "P6 1 1 255 ".
 *
 * Any GLib critical or warning aborts. Built as a fuzzer with VMDESK_FUZZ=ON
 * and clang; replayed over tests/fuzz/corpus/lv-ppm by unit-fuzz-replay. */
#include "common/error.h"
#include "fuzz_common.h"
#include "libvirt/lv_ppm.h"

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

static void parse_one(const uint8_t *data, size_t size)
{
    uint8_t *copy = size ? g_memdup2(data, size) : NULL;
    uint32_t *px = NULL;
    int w = -1, h = -1;
    GError *err = NULL;
    if (!lv_ppm_parse(copy, size, &px, &w, &h, &err)) {
        if (px || !g_error_matches(err, VD_ERROR, VD_ERROR_PROTOCOL))
            abort();
        fuzz_check_message(err);
        g_error_free(err);
    } else {
        size_t header = strlen("P6 1 1 255 ");
        if (err || !px || w < 1 || h < 1 || w > LV_PPM_MAX_SIDE || h > LV_PPM_MAX_SIDE ||
            (size_t)w * (size_t)h * 3 > size - header)
            abort();
        /* Every pixel is a colour: the top byte stays clear. */
        for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
            if (px[i] >> 24)
                abort();
        g_free(px);
    }
    g_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_one(data, size);
    if (size > 0)
        parse_one(data, size - 1);
    return 0;
}
