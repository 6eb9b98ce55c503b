/* vmdesk doctor: can this host run VMs, and how well? */
#include "cli/cli.h"

#include "common/paths.h"
#include "common/size.h"
#include "common/spawn.h"
#include "qemu/accel.h"
#include "qemu/firmware.h"
#include "qemu/qemu_arch.h"
#include "vm/vm_host.h"

#include <stdio.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

typedef struct {
    JsonBuilder *b;
    bool json;
    int problems;
} Doctor;

static void check(Doctor *d, const char *id, bool ok, bool required, const char *detail)
{
    if (!ok && required)
        d->problems++;
    if (d->json) {
        json_builder_begin_object(d->b);
        json_builder_set_member_name(d->b, "check");
        json_builder_add_string_value(d->b, id);
        json_builder_set_member_name(d->b, "ok");
        json_builder_add_boolean_value(d->b, ok);
        json_builder_set_member_name(d->b, "required");
        json_builder_add_boolean_value(d->b, required);
        json_builder_set_member_name(d->b, "detail");
        json_builder_add_string_value(d->b, detail);
        json_builder_end_object(d->b);
        return;
    }
    printf("%-5s %-14s %s\n", ok ? "ok" : required ? "FAIL" : "warn", id, detail);
}

static char *program_version(const char *prog, const char *flag)
{
    g_autofree char *path = g_find_program_in_path(prog);
    if (!path)
        return NULL;
    const char *argv[] = {path, flag, NULL};
    VdRunResult r;
    if (!vd_run(argv, 5000, &r, NULL))
        return NULL;
    char *nl = strchr(r.output, '\n');
    if (nl)
        *nl = 0;
    char *out = g_strdup_printf("%s: %s", path, r.output);
    vd_run_result_clear(&r);
    return out;
}

/* One architecture's checks: its QEMU, KVM or TCG, its UEFI firmware. Only
 * the host's own architecture's QEMU is required. */
static void check_arch(Doctor *d, VmArch arch)
{
    const QemuArch *a = qemu_arch_get(arch);
    const char *name = vm_arch_to_string(arch);
    VmArch host;
    bool native = vm_arch_host(&host) && host == arch;
    /* x86_64 keeps the ids it had before there were two architectures. */
    const char *suffix = arch == VM_ARCH_X86_64 ? "" : name;
    g_autofree char *id_qemu = g_strconcat("qemu", *suffix ? "-" : "", suffix, NULL);
    g_autofree char *id_kvm = g_strconcat("kvm", *suffix ? "-" : "", suffix, NULL);
    g_autofree char *id_uefi = g_strconcat("uefi", *suffix ? "-" : "", suffix, NULL);

    g_autofree char *qemu = program_version(qemu_arch_binary(arch), "--version");
    g_autofree char *no_qemu = g_strdup_printf("%s not found: no %s VMs; sudo apt install %s",
                                               qemu_arch_binary(arch), name, a->qemu_package);
    check(d, id_qemu, qemu != NULL, native, qemu ? qemu : no_qemu);

    AccelKvmProbe kvm;
    accel_probe_kvm(arch, false, &kvm);
    g_autofree char *kvm_detail =
        g_strdup_printf("%s guests: %s; %s", name, kvm.usable ? "KVM" : "TCG", kvm.reason);
    check(d, id_kvm, kvm.usable, false, kvm_detail);
    accel_kvm_probe_clear(&kvm);

    g_autofree char *code = NULL, *vars = NULL, *sb_code = NULL, *sb_vars = NULL;
    g_autoptr(GError) err = NULL;
    bool uefi = firmware_find_uefi(arch, false, &code, &vars, &err);
    bool sb = uefi && firmware_find_uefi(arch, true, &sb_code, &sb_vars, NULL);
    g_autofree char *fw = uefi ? g_strdup_printf("%s%s%s", code, sb ? "; Secure Boot: " : "",
                                                 sb ? sb_code : "")
                               : g_strdup(err->message);
    check(d, id_uefi, uefi, false, fw);
}

int cli_doctor(int argc, char **argv)
{
    gboolean json = FALSE;
    int status;
    if (!cli_parse_json_flag("doctor", NULL,
                             "Check that this host can run VMs: per architecture (x86_64, "
                             "aarch64) QEMU, KVM or TCG and the UEFI firmware; qemu-img, TPM, "
                             "resources.",
                             0, &argc, &argv, &json, &status))
        return status;
    g_autoptr(JsonBuilder) b = json_builder_new();
    Doctor d = {.b = b, .json = json};
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "checks");
    json_builder_begin_array(b);

    check_arch(&d, VM_ARCH_X86_64);
    check_arch(&d, VM_ARCH_AARCH64);
    g_autofree char *img = program_version("qemu-img", "--version");
    check(&d, "qemu-img", img != NULL, true,
          img ? img : "qemu-img not found: sudo apt install qemu-utils");

    g_autofree char *swtpm = program_version("swtpm", "--version");
    check(&d, "swtpm", swtpm != NULL, false,
          swtpm ? swtpm : "swtpm not found, VMs cannot have a TPM: sudo apt install swtpm");

    VmHostLimits host;
    vm_host_limits(&host);
    g_autofree char *ram_s = vd_size_format(host.memory_total);
    g_autofree char *cpu =
        g_strdup_printf("%u host CPUs: give a VM 1 to %u vCPUs", host.cpus, host.cpus);
    check(&d, "cpus", true, false, cpu);
    g_autofree char *mem = g_strdup_printf("%s RAM: give a VM 64M to about %" G_GUINT64_FORMAT "M",
                                           ram_s, host.memory_max >> 20);
    check(&d, "memory", true, false, mem);

    g_autofree char *data = vd_paths_data_root();
    g_autofree char *probe_dir = g_strdup(data);
    while (!g_file_test(probe_dir, G_FILE_TEST_IS_DIR)) {
        char *up = g_path_get_dirname(probe_dir);
        g_free(probe_dir);
        probe_dir = up;
    }
    struct statvfs sv;
    guint64 free_b = statvfs(probe_dir, &sv) == 0 ? (guint64)sv.f_bavail * sv.f_frsize : 0;
    g_autofree char *free_s = vd_size_format(free_b & ~((1ull << 20) - 1));
    g_autofree char *disk = g_strdup_printf("%s free for VMs in %s", free_s, data);
    check(&d, "disk", free_b > (4ull << 30), false, disk);

    g_autofree char *rt = vd_paths_runtime_root();
    bool rt_env = g_getenv("XDG_RUNTIME_DIR") != NULL;
    g_autofree char *rt_s = g_strdup_printf("sockets in %s%s", rt,
                                            rt_env ? "" : " (XDG_RUNTIME_DIR is not set)");
    check(&d, "runtime", rt_env, false, rt_s);

    json_builder_end_array(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, d.problems == 0);
    json_builder_end_object(b);
    if (json) {
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
    } else {
        printf(d.problems ? "\n%d problem(s) stop VMs from running here.\n"
                          : "\nThis host can run VMs.\n",
               d.problems);
    }
    return d.problems ? 1 : 0;
}
