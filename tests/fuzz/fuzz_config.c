/* libFuzzer harness for VM config files (vm.conf) and `vmdesk set` input.
 *
 *  1. vm_config_from_data() on the input. A refusal is VD_ERROR_INVALID,
 *     names the file and shows what it quotes escaped and cut
 *     (fuzz_check_message); an accepted config validates, serializes to text
 *     that loads back to the same text, and yields a QEMU argv.
 *  2. Each line of the input as a `vmdesk set` assignment on a fresh config,
 *     alternately for a stopped and a running VM: the same promises.
 *
 * Any GLib critical or warning aborts. Built as a fuzzer with VMDESK_FUZZ=ON
 * and clang; replayed over tests/fuzz/corpus by unit-fuzz-replay. */
#include "common/error.h"
#include "fuzz_common.h"
#include "qemu/qemu_argv.h"
#include "vm/vm_config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "fuzz/vm.conf"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return fuzz_common_initialize();
}

/* The promises every accepted config keeps. */
static void check_config(const VmConfig *cfg)
{
    GError *err = NULL;
    if (!vm_config_validate(cfg, &err))
        abort();
    gsize len = 0;
    char *text = vm_config_to_data(cfg, &len);
    VmConfig *back = vm_config_from_data(text, len, "round-trip", &err);
    if (!back)
        abort();
    char *again = vm_config_to_data(back, NULL);
    if (strcmp(text, again))
        abort();
    QemuArgvEnv env = {
        .qemu_binary = "qemu-system-x86_64",
        .vm_dir = "/vms/fuzz",
        .runtime_dir = "/run/vmdesk/fuzz",
        .accel = cfg->accel == VM_ACCEL_KVM ? VM_ACCEL_KVM : VM_ACCEL_TCG,
        .host_cpus = 8,
        .ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
        .supervisor_qmp_fd = 3,
    };
    char **argv = qemu_argv_build(cfg, &env, &err);
    if (!argv)
        abort();
    for (char **a = argv; *a; a++)
        if (strchr(*a, '\n'))
            abort();
    g_strfreev(argv);
    g_free(again);
    g_free(text);
    vm_config_free(back);
}

static void fuzz_file(const uint8_t *data, size_t size)
{
    GError *err = NULL;
    VmConfig *cfg = vm_config_from_data((const char *)data, size, ORIGIN, &err);
    if (cfg) {
        if (err)
            abort();
        check_config(cfg);
        vm_config_free(cfg);
    } else if (!g_error_matches(err, VD_ERROR, VD_ERROR_INVALID) ||
               !strstr(err->message, ORIGIN)) {
        abort();
    } else {
        fuzz_check_message(err);
    }
    g_clear_error(&err);
}

static void fuzz_set(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size);
    char **lines = g_strsplit(text, "\n", 32);
    VmConfig *cfg = vm_config_new("fuzz");
    for (int i = 0; lines[i]; i++) {
        GError *err = NULL;
        bool running = i & 1, next = !running;
        if (vm_config_set(cfg, lines[i], running, &next, &err)) {
            if (err || next != running)
                abort();
            check_config(cfg);
        } else if (!g_error_matches(err, VD_ERROR, VD_ERROR_INVALID) &&
                   !g_error_matches(err, VD_ERROR, VD_ERROR_STATE)) {
            abort();
        } else {
            fuzz_check_message(err);
        }
        g_clear_error(&err);
    }
    vm_config_free(cfg);
    g_strfreev(lines);
    g_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_file(data, size);
    fuzz_set(data, size);
    return 0;
}
