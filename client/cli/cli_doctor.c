/* vmdesk doctor: can this host run VMs, and how well? */
#include "cli/cli.h"

#include "common/paths.h"
#include "common/size.h"
#include "common/spawn.h"
#include "qemu/accel.h"
#include "qemu/firmware.h"

#include <stdio.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
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

int cli_doctor(int argc, char **argv)
{
    gboolean json = FALSE;
    int status;
    if (!cli_parse_json_flag("doctor", NULL,
                             "Check that this host can run VMs: KVM, QEMU, firmware, TPM, "
                             "resources.",
                             0, &argc, &argv, &json, &status))
        return status;
    g_autoptr(JsonBuilder) b = json_builder_new();
    Doctor d = {.b = b, .json = json};
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "checks");
    json_builder_begin_array(b);

    g_autofree char *qemu = program_version(g_getenv("VMDESK_QEMU") ? g_getenv("VMDESK_QEMU")
                                                                    : "qemu-system-x86_64",
                                            "--version");
    check(&d, "qemu", qemu != NULL, true,
          qemu ? qemu : "qemu-system-x86_64 not found: sudo apt install qemu-system-x86");
    g_autofree char *img = program_version("qemu-img", "--version");
    check(&d, "qemu-img", img != NULL, true,
          img ? img : "qemu-img not found: sudo apt install qemu-utils");

    AccelKvmProbe kvm;
    accel_probe_kvm(g_getenv("VMDESK_QEMU"), false, &kvm);
    g_autofree char *kvm_detail =
        g_strdup_printf("%s%s", kvm.reason,
                        kvm.usable ? "" : "; VMs will use software emulation (TCG), slowly");
    check(&d, "kvm", kvm.usable, false, kvm_detail);
    accel_kvm_probe_clear(&kvm);

    g_autofree char *code = NULL, *vars = NULL, *sb_code = NULL, *sb_vars = NULL;
    bool uefi = firmware_find_ovmf(false, &code, &vars, NULL);
    bool sb = firmware_find_ovmf(true, &sb_code, &sb_vars, NULL);
    g_autofree char *fw = uefi ? g_strdup_printf("%s%s%s", code, sb ? "; Secure Boot: " : "",
                                                 sb ? sb_code : "")
                               : g_strdup("OVMF not found: sudo apt install ovmf (or use "
                                          "--firmware bios)");
    check(&d, "uefi", uefi, false, fw);
    g_autofree char *swtpm = program_version("swtpm", "--version");
    check(&d, "swtpm", swtpm != NULL, false,
          swtpm ? swtpm : "swtpm not found, VMs cannot have a TPM: sudo apt install swtpm");

    struct sysinfo si;
    sysinfo(&si);
    guint64 ram = (guint64)si.totalram * si.mem_unit;
    g_autofree char *ram_s = vd_size_format(ram & ~((1ull << 20) - 1));
    g_autofree char *cpu = g_strdup_printf("%u host CPUs: give a VM 1 to %u vCPUs",
                                           g_get_num_processors(), g_get_num_processors());
    check(&d, "cpus", true, false, cpu);
    g_autofree char *mem = g_strdup_printf("%s RAM: give a VM 64M to about %" G_GUINT64_FORMAT "M",
                                           ram_s, (ram >> 20) * 3 / 4);
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
