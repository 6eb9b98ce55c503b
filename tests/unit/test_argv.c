/* unit-argv: the QEMU command line (orchestrator/qemu/qemu_argv.c, qemu_opts.c).
 *
 * Golden files: tests/golden/NAME.argv holds the argv built from
 * tests/data/NAME.conf, one argument per line. VMDESK_UPDATE_GOLDEN=1
 * rewrites them instead of comparing; read the diff before committing it.
 *
 * Each case is also started in the real QEMU with -S (no guest code runs):
 * every path replaced by a real temporary file, the supervisor's fd 3 a real
 * socketpair, then QMP checks what QEMU made of our options and quits. */
#include "common/error.h"
#include "common/spawn.h"
#include "qemu/accel.h"
#include "qemu/accel_priv.h"
#include "qemu/firmware.h"
#include "qemu/qemu_arch.h"
#include "qemu/qemu_argv.h"
#include "qemu/qemu_opts.h"
#include "qemu/qmp_client.h"
#include "qemu/qmp_cmd.h"
#include "test_util.h"
#include "vm/vm_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define AAVMF_CODE "/usr/share/AAVMF/AAVMF_CODE.fd"

typedef struct {
    const char *name;
    VmAccel accel;
} ArgvCase;

static const ArgvCase cases[] = {
    {"linux-uefi-tcg", VM_ACCEL_TCG}, {"linux-kernel-bios", VM_ACCEL_TCG},
    {"windows-kvm", VM_ACCEL_KVM},    {"windows-tcg", VM_ACCEL_TCG},
    {"comma-path", VM_ACCEL_TCG},     {"powersave", VM_ACCEL_TCG},
    {"turbo", VM_ACCEL_KVM},          {"windows-unattended", VM_ACCEL_TCG},
    {"linux-devices", VM_ACCEL_TCG},
    {"aarch64-uefi-tcg", VM_ACCEL_TCG}, {"aarch64-kernel", VM_ACCEL_TCG},
    {"aarch64-windows-tpm", VM_ACCEL_TCG},
};

static VmConfig *load_case(const char *name)
{
    g_autofree char *file = g_strconcat(name, ".conf", NULL);
    g_autofree char *path = g_build_filename(VMDESK_TEST_DATA_DIR, file, NULL);
    g_autoptr(GError) err = NULL;
    VmConfig *cfg = vm_config_load(path, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(cfg->name, ==, name);
    return cfg;
}

/* The fixed environment of the golden files. */
typedef struct {
    char *vm_dir;
    char *runtime_dir;
    QemuArgvEnv env;
} GoldenEnv;

static void golden_env_init(GoldenEnv *g, const ArgvCase *c, const VmConfig *cfg)
{
    g->vm_dir = g_strconcat("/vms/", c->name, NULL);
    g->runtime_dir = g_strconcat("/run/vmdesk/", c->name, NULL);
    g->env = (QemuArgvEnv){
        .qemu_binary = qemu_arch_get(cfg->arch)->qemu_binary,
        .vm_dir = g->vm_dir,
        .runtime_dir = g->runtime_dir,
        .accel = c->accel,
        .host_cpus = 8,
        .ovmf_code = cfg->firmware != VM_FIRMWARE_UEFI     ? NULL
                     : cfg->arch == VM_ARCH_AARCH64 ? AAVMF_CODE
                                                    : OVMF_CODE,
        .supervisor_qmp_fd = 3,
    };
}

static void golden_env_clear(GoldenEnv *g)
{
    g_free(g->vm_dir);
    g_free(g->runtime_dir);
}

static char **build_case(const ArgvCase *c)
{
    g_autoptr(VmConfig) cfg = load_case(c->name);
    /* The config's accel is what the case resolves to (auto is never golden). */
    g_assert_cmpint(cfg->accel, ==, c->accel);
    GoldenEnv g;
    golden_env_init(&g, c, cfg);
    g_autoptr(GError) err = NULL;
    char **argv = qemu_argv_build(cfg, &g.env, &err);
    g_assert_no_error(err);
    g_assert_nonnull(argv);
    golden_env_clear(&g);
    return argv;
}

static char *argv_to_text(char **argv)
{
    GString *s = g_string_new(NULL);
    for (char **a = argv; *a; a++) {
        g_assert_null(strchr(*a, '\n'));
        g_string_append_printf(s, "%s\n", *a);
    }
    return g_string_free(s, FALSE);
}

/* The value after the first @opt in @argv, or NULL. */
static const char *opt_value(char **argv, const char *opt)
{
    for (char **a = argv; *a && a[1]; a++)
        if (!strcmp(*a, opt))
            return a[1];
    return NULL;
}

static bool has_pair(char **argv, const char *opt, const char *value)
{
    for (char **a = argv; *a && a[1]; a++)
        if (!strcmp(*a, opt) && !strcmp(a[1], value))
            return true;
    return false;
}

static bool any_contains(char **argv, const char *needle)
{
    for (char **a = argv; *a; a++)
        if (strstr(*a, needle))
            return true;
    return false;
}

static void test_golden(gconstpointer data)
{
    const ArgvCase *c = data;
    g_auto(GStrv) argv = build_case(c);
    g_autofree char *text = argv_to_text(argv);
    g_autofree char *file = g_strconcat(c->name, ".argv", NULL);
    g_autofree char *path = g_build_filename(VMDESK_TEST_GOLDEN_DIR, file, NULL);

    if (!g_strcmp0(g_getenv("VMDESK_UPDATE_GOLDEN"), "1")) {
        g_autoptr(GError) err = NULL;
        g_file_set_contents(path, text, -1, &err);
        g_assert_no_error(err);
        g_test_message("wrote %s", path);
        return;
    }
    g_autofree char *want = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &want, NULL, &err))
        g_error("%s (generate it with VMDESK_UPDATE_GOLDEN=1)", err->message);
    if (strcmp(text, want)) {
        g_auto(GStrv) w = g_strsplit(want, "\n", -1);
        guint i = 0;
        while (argv[i] && w[i] && !strcmp(argv[i], w[i]))
            i++;
        g_error("%s differs at argument %u: built \"%s\", golden \"%s\"\nbuilt:\n%s", path, i,
                argv[i] ? argv[i] : "(end)", w[i] ? w[i] : "(end)", text);
    }
}

/* Every golden file belongs to a case: none is left over from a removed one. */
static void test_golden_files_match_cases(void)
{
    g_autoptr(GDir) d = g_dir_open(VMDESK_TEST_GOLDEN_DIR, 0, NULL);
    g_assert_nonnull(d);
    const char *n;
    int found = 0;
    while ((n = g_dir_read_name(d))) {
        if (!g_str_has_suffix(n, ".argv"))
            continue;
        g_autofree char *name = g_strndup(n, strlen(n) - strlen(".argv"));
        bool known = false;
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
            known |= !strcmp(cases[i].name, name);
        if (!known)
            g_error("%s/%s has no case in test_argv.c", VMDESK_TEST_GOLDEN_DIR, n);
        found++;
    }
    if (g_strcmp0(g_getenv("VMDESK_UPDATE_GOLDEN"), "1"))
        g_assert_cmpint(found, ==, G_N_ELEMENTS(cases));
}

/* What each case is about, checked apart from the golden text so that a
 * regenerated golden file cannot hide a regression. */
static void test_case_semantics(void)
{
    g_auto(GStrv) lu = build_case(&cases[0]);
    g_assert_cmpstr(lu[0], ==, "qemu-system-x86_64");
    g_assert_cmpstr(opt_value(lu, "-name"), ==, "linux-uefi-tcg,process=vmdesk-linux-uefi-tcg");
    g_assert_cmpstr(opt_value(lu, "-machine"), ==, "q35,vmport=off,pflash0=fw-code,pflash1=fw-vars");
    g_assert_cmpstr(opt_value(lu, "-accel"), ==, "tcg,thread=multi");
    g_assert_cmpstr(opt_value(lu, "-cpu"), ==, "max");
    g_assert_cmpstr(opt_value(lu, "-m"), ==, "2048M");
    g_assert_true(has_pair(lu, "-blockdev", "driver=file,filename=" OVMF_CODE
                                            ",node-name=fw-code-file,read-only=on"));
    g_assert_true(has_pair(lu, "-blockdev", "driver=file,filename=/vms/linux-uefi-tcg/uefi-vars.fd"
                                            ",node-name=fw-vars-file,discard=unmap"));
    g_assert_true(has_pair(lu, "-device", "virtio-vga"));
    g_assert_true(has_pair(lu, "-device", "virtio-blk-pci,drive=disk0,bootindex=1"));
    g_assert_true(has_pair(lu, "-rtc", "base=utc"));
    g_assert_true(has_pair(lu, "-chardev", "socket,id=qmp-supervisor,fd=3"));
    g_assert_true(has_pair(lu, "-vnc", "unix:/run/vmdesk/linux-uefi-tcg/vnc.sock,power-control=off"));
    g_assert_true(has_pair(lu, "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:47101-:3389"));
    g_assert_false(any_contains(lu, "smm="));
    g_assert_false(any_contains(lu, "-kernel"));

    g_auto(GStrv) kb = build_case(&cases[1]);
    g_assert_false(any_contains(kb, "pflash"));
    g_assert_cmpstr(opt_value(kb, "-kernel"), ==, "/srv/boot/vmlinuz-6.1.0-18-amd64");
    g_assert_cmpstr(opt_value(kb, "-initrd"), ==, "/srv/boot/initrd.img-6.1.0-18-amd64");
    g_assert_cmpstr(opt_value(kb, "-append"), ==,
                    "console=ttyS0 root=/dev/vda1 rw quiet init=/sbin/init -- single");
    g_assert_cmpstr(opt_value(kb, "-netdev"), ==,
                    "user,id=net0,hostfwd=tcp:127.0.0.1:47102-:3389,"
                    "hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:2222-:22");
    /* Extra arguments come last, in order, untouched. */
    guint n = g_strv_length(kb);
    g_assert_cmpstr(kb[n - 4], ==, "-device");
    g_assert_cmpstr(kb[n - 3], ==, "virtio-rng-pci");
    g_assert_cmpstr(kb[n - 2], ==, "-boot");
    g_assert_cmpstr(kb[n - 1], ==, "menu=off");

    g_auto(GStrv) wk = build_case(&cases[2]);
    g_assert_cmpstr(opt_value(wk, "-accel"), ==, "kvm");
    g_assert_cmpstr(opt_value(wk, "-cpu"), ==,
                    "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-time,"
                    "hv-synic,hv-stimer,hv-frequencies,hv-reset,hv-tlbflush,hv-ipi");
    g_assert_cmpstr(opt_value(wk, "-machine"), ==,
                    "q35,vmport=off,smm=on,pflash0=fw-code,pflash1=fw-vars");
    g_assert_true(has_pair(wk, "-global", "driver=cfi.pflash01,property=secure,value=on"));
    g_assert_true(has_pair(wk, "-chardev", "socket,id=tpm-chr,path=/run/vmdesk/windows-kvm/swtpm.sock"));
    g_assert_true(has_pair(wk, "-tpmdev", "emulator,id=tpm0,chardev=tpm-chr"));
    g_assert_true(has_pair(wk, "-device", "tpm-crb,tpmdev=tpm0"));
    g_assert_true(has_pair(wk, "-device", "ide-hd,drive=disk0,bus=ide.0,bootindex=1"));
    g_assert_true(has_pair(wk, "-device", "e1000e,netdev=net0"));
    g_assert_true(has_pair(wk, "-device", "VGA,vgamem_mb=64"));
    g_assert_true(has_pair(wk, "-rtc", "base=localtime,driftfix=slew"));
    g_assert_cmpstr(opt_value(wk, "-m"), ==, "8192M");
    g_assert_cmpstr(opt_value(wk, "-smp"), ==, "4");
    g_assert_false(any_contains(wk, "virtio-blk"));
    g_assert_false(any_contains(wk, "virtio-net"));

    g_auto(GStrv) wt = build_case(&cases[3]);
    g_assert_cmpstr(opt_value(wt, "-cpu"), ==, "max");
    g_assert_false(any_contains(wt, "hv-"));
    g_assert_cmpstr(opt_value(wt, "-accel"), ==, "tcg,thread=multi");
    g_assert_true(has_pair(wt, "-device", "tpm-crb,tpmdev=tpm0"));
    g_assert_true(has_pair(wt, "-global", "driver=cfi.pflash01,property=secure,value=on"));

    g_auto(GStrv) cp = build_case(&cases[4]);
    g_assert_true(has_pair(cp, "-blockdev", "driver=file,filename=/srv/vms/a,,b/disk,,1.qcow2,"
                                            "node-name=disk0-file,discard=unmap"));
    g_assert_true(has_pair(cp, "-blockdev", "driver=raw,file=disk0-file,node-name=disk0,"
                                            "discard=unmap"));
    g_assert_true(has_pair(cp, "-blockdev", "driver=file,filename=/srv/iso/install,,x86_64.iso,"
                                            "node-name=cd0-media-file,read-only=on"));
    g_assert_cmpstr(opt_value(cp, "-kernel"), ==, "/srv/boot/vmlinuz,6.1");
    g_assert_cmpstr(opt_value(cp, "-initrd"), ==, "/srv/boot/initrd,6.1.img");
    g_assert_cmpstr(opt_value(cp, "-append"), ==, "console=ttyS0,115200n8");

    g_auto(GStrv) dv = build_case(&cases[8]);
    g_assert_true(has_pair(dv, "-fsdev", "local,id=fs-z,path=/home/u/Documents,"
                                         "security_model=none,multidevs=remap"));
    g_assert_true(has_pair(dv, "-device", "virtio-9p-pci,fsdev=fs-z,mount_tag=vmdesk_share"));
    g_assert_true(has_pair(dv, "-fsdev", "local,id=fs-y,path=/srv/media,,1,"
                                         "security_model=none,multidevs=remap,readonly=on"));
    g_assert_true(has_pair(dv, "-device", "virtio-9p-pci,fsdev=fs-y,mount_tag=vmdesk_share_y"));
    g_assert_true(has_pair(dv, "-device", "usb-host,bus=usb.0,id=usb-046d-c52b,"
                                          "vendorid=0x046d,productid=0xc52b"));
    g_assert_true(has_pair(dv, "-device", "usb-host,bus=usb.0,id=usb-3-1.4,hostbus=3,"
                                          "hostport=1.4"));
    /* Windows gets its shares over RDP only: no 9p. */
    g_autoptr(VmConfig) win = load_case("linux-devices");
    win->os = VM_OS_WINDOWS;
    GoldenEnv wg;
    golden_env_init(&wg, &cases[8], win);
    g_auto(GStrv) wv = qemu_argv_build(win, &wg.env, NULL);
    golden_env_clear(&wg);
    g_assert_nonnull(wv);
    g_assert_false(any_contains(wv, "9p"));
    g_assert_false(any_contains(wv, "-fsdev"));

    g_auto(GStrv) ps = build_case(&cases[5]);
    g_assert_cmpstr(opt_value(ps, "-smp"), ==, "2");
    g_assert_true(has_pair(ps, "-device", "VGA,vgamem_mb=64"));
    g_assert_true(has_pair(ps, "-device", "virtio-net-pci,netdev=net0"));
    g_assert_true(has_pair(ps, "-netdev", "user,id=net0"));
    g_assert_true(has_pair(ps, "-device", "ide-cd,id=cd0,bus=ide.1,bootindex=2"));

    g_auto(GStrv) tu = build_case(&cases[6]);
    g_assert_cmpstr(opt_value(tu, "-smp"), ==, "8");
    g_assert_cmpstr(opt_value(tu, "-cpu"), ==, "host");

    /* Windows with virtio-win: virtio disk and net; extra CDs on ports 2-4,
     * read-only, not bootable; cd0 still boots the installer. */
    g_auto(GStrv) wu = build_case(&cases[7]);
    g_assert_true(has_pair(wu, "-device", "virtio-blk-pci,drive=disk0,bootindex=1"));
    g_assert_true(has_pair(wu, "-device", "virtio-net-pci,netdev=net0"));
    g_assert_false(any_contains(wu, "e1000e"));
    g_assert_false(any_contains(wu, "ide-hd"));
    g_assert_true(has_pair(wu, "-device", "ide-cd,id=cd0,bus=ide.1,drive=cd0-media,bootindex=2"));
    g_assert_true(has_pair(wu, "-blockdev", "driver=file,filename=/srv/iso/virtio-win-0.1.240.iso,"
                                            "node-name=cd1-media-file,read-only=on"));
    g_assert_true(has_pair(wu, "-device", "ide-cd,id=cd1,bus=ide.2,drive=cd1-media"));
    g_assert_true(has_pair(wu, "-device", "ide-cd,id=cd2,bus=ide.3,drive=cd2-media"));
    g_assert_true(has_pair(wu, "-device", "ide-cd,id=cd3,bus=ide.4,drive=cd3-media"));
    g_assert_true(has_pair(wu, "-blockdev", "driver=raw,file=cd3-media-file,node-name=cd3-media,"
                                            "read-only=on"));
    g_assert_true(has_pair(wu, "-device", "tpm-crb,tpmdev=tpm0"));

    /* aarch64: the virt machine, AAVMF in pflash, no IDE (CDs on
     * virtio-scsi), no PS/2 (a USB keyboard), virtio-gpu for Linux. */
    g_auto(GStrv) au = build_case(&cases[9]);
    g_assert_cmpstr(au[0], ==, "qemu-system-aarch64");
    g_assert_cmpstr(opt_value(au, "-machine"), ==,
                    "virt,gic-version=max,pflash0=fw-code,pflash1=fw-vars");
    g_assert_cmpstr(opt_value(au, "-cpu"), ==, "max");
    g_assert_true(has_pair(au, "-blockdev", "driver=file,filename=" AAVMF_CODE
                                            ",node-name=fw-code-file,read-only=on"));
    g_assert_true(has_pair(au, "-blockdev", "driver=file,filename=/vms/aarch64-uefi-tcg/uefi-vars.fd"
                                            ",node-name=fw-vars-file,discard=unmap"));
    g_assert_true(has_pair(au, "-device", "virtio-gpu-pci"));
    g_assert_true(has_pair(au, "-device", "usb-kbd,bus=usb.0"));
    g_assert_true(has_pair(au, "-device", "usb-tablet,bus=usb.0"));
    g_assert_true(has_pair(au, "-device", "virtio-scsi-pci,id=scsi0"));
    g_assert_true(has_pair(au, "-device", "scsi-cd,id=cd0,bus=scsi0.0,drive=cd0-media,bootindex=2"));
    g_assert_true(has_pair(au, "-device", "virtio-blk-pci,drive=disk0,bootindex=1"));
    g_assert_false(any_contains(au, "ide"));
    g_assert_false(any_contains(au, "VGA"));

    g_auto(GStrv) ak = build_case(&cases[10]);
    g_assert_cmpstr(opt_value(ak, "-machine"), ==, "virt,gic-version=max");
    g_assert_false(any_contains(ak, "pflash"));
    g_assert_cmpstr(opt_value(ak, "-kernel"), ==, "/srv/boot/vmlinuz-6.1.0-27-arm64");
    g_assert_cmpstr(opt_value(ak, "-append"), ==, "console=ttyAMA0 quiet");
    g_assert_true(has_pair(ak, "-device", "ramfb"));
    g_assert_true(has_pair(ak, "-device", "scsi-cd,id=cd0,bus=scsi0.0,bootindex=2"));

    /* Windows on Arm: Secure Boot without SMM, TPM on tpm-tis-device,
     * NVMe in-box, no Hyper-V flags, extra CDs on the same SCSI bus. */
    g_auto(GStrv) aw = build_case(&cases[11]);
    g_assert_cmpstr(opt_value(aw, "-machine"), ==,
                    "virt,gic-version=max,pflash0=fw-code,pflash1=fw-vars");
    g_assert_false(any_contains(aw, "smm"));
    g_assert_false(any_contains(aw, "cfi.pflash01"));
    g_assert_true(has_pair(aw, "-device", "tpm-tis-device,tpmdev=tpm0"));
    g_assert_true(has_pair(aw, "-device", "nvme,drive=disk0,serial=disk0,bootindex=1"));
    g_assert_true(has_pair(aw, "-device", "virtio-net-pci,netdev=net0"));
    g_assert_true(has_pair(aw, "-device", "ramfb"));
    g_assert_true(has_pair(aw, "-device", "scsi-cd,id=cd1,bus=scsi0.0,drive=cd1-media"));
    g_assert_cmpstr(opt_value(aw, "-cpu"), ==, "max");
}

static void test_vcpus(void)
{
    static const struct {
        VmPerf perf;
        unsigned cpus, host, want;
    } t[] = {
        {VM_PERF_STANDARD, 4, 8, 4},  {VM_PERF_STANDARD, 16, 8, 16}, {VM_PERF_POWERSAVE, 4, 8, 2},
        {VM_PERF_POWERSAVE, 3, 8, 1}, {VM_PERF_POWERSAVE, 1, 8, 1},  {VM_PERF_TURBO, 2, 8, 8},
        {VM_PERF_TURBO, 12, 8, 12},   {VM_PERF_TURBO, 2, 0, 2},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
        g_autoptr(VmConfig) cfg = vm_config_new("v");
        cfg->performance = t[i].perf;
        cfg->cpus = t[i].cpus;
        g_assert_cmpuint(qemu_argv_vcpus(cfg, t[i].host), ==, t[i].want);
    }
}

static void test_runtime_path(void)
{
    QemuArgvEnv env = {.runtime_dir = "/run/vmdesk/x"};
    g_autofree char *p = qemu_argv_runtime_path(&env, "qmp.sock");
    g_assert_cmpstr(p, ==, "/run/vmdesk/x/qmp.sock");
}

static void test_no_ovmf(void)
{
    g_autoptr(VmConfig) cfg = vm_config_new("uefi");
    QemuArgvEnv env = {.vm_dir = "/vms/uefi", .runtime_dir = "/run/u", .accel = VM_ACCEL_TCG,
                       .host_cpus = 1, .supervisor_qmp_fd = -1};
    g_autoptr(GError) err = NULL;
    g_assert_null(qemu_argv_build(cfg, &env, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, "ovmf"));
    g_clear_error(&err);
    /* BIOS needs none; without a supervisor fd there is no second monitor. */
    cfg->firmware = VM_FIRMWARE_BIOS;
    g_auto(GStrv) argv = qemu_argv_build(cfg, &env, &err);
    g_assert_no_error(err);
    g_assert_false(any_contains(argv, "qmp-supervisor"));
    g_assert_false(any_contains(argv, "fd="));
    g_assert_cmpstr(argv[0], ==, "qemu-system-x86_64"); /* the default binary */
}

/* A control character in any path that ends up in an option string makes
 * the build fail: QEMU could not be told the path unambiguously. */
static void test_control_chars(void)
{
    static const char *const bad[] = {"a\nb", "a\001b", "tab\there", "del\x7f"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *path = g_strconcat("/srv/", bad[i], NULL);
        for (int where = 0; where < 5; where++) {
            g_autoptr(VmConfig) cfg = vm_config_new("ctl");
            cfg->disk = g_strdup("disk.qcow2");
            QemuArgvEnv env = {.vm_dir = "/vms/ctl", .runtime_dir = "/run/ctl",
                               .accel = VM_ACCEL_TCG, .host_cpus = 1, .ovmf_code = OVMF_CODE,
                               .supervisor_qmp_fd = 3};
            switch (where) {
            case 0:
                g_free(cfg->disk);
                cfg->disk = g_strdup(path);
                break;
            case 1:
                cfg->iso = g_strdup(path);
                break;
            case 2:
                env.runtime_dir = path;
                break;
            case 3:
                env.vm_dir = path;
                break;
            case 4:
                env.ovmf_code = path;
                break;
            }
            g_autoptr(GError) err = NULL;
            char **argv = qemu_argv_build(cfg, &env, &err);
            if (argv)
                g_error("control character %zu in place %d was passed to QEMU", i, where);
            g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
            g_assert_nonnull(strstr(err->message, "control character"));
        }
    }
}

static void test_opts(void)
{
    g_autofree char *e1 = qemu_opts_escape("a,b");
    g_assert_cmpstr(e1, ==, "a,,b");
    g_autofree char *e2 = qemu_opts_escape(",,");
    g_assert_cmpstr(e2, ==, ",,,,");
    g_autofree char *e3 = qemu_opts_escape("");
    g_assert_cmpstr(e3, ==, "");
    g_autofree char *e4 = qemu_opts_escape("no commas=here");
    g_assert_cmpstr(e4, ==, "no commas=here");
    g_autofree char *e5 = qemu_opts_escape(",start and end,");
    g_assert_cmpstr(e5, ==, ",,start and end,,");

    g_autoptr(GError) err = NULL;
    QemuOpts *o = qemu_opts_new("socket");
    qemu_opts_add(o, "id", "c0");
    qemu_opts_add(o, "path", "/run/a,b/q.sock");
    qemu_opts_addf(o, "port", "%d-%s", 5900, "x,y");
    qemu_opts_flag(o, "server");
    qemu_opts_add(o, "empty", "");
    qemu_opts_add(o, "eq", "k=v");
    g_autofree char *s = qemu_opts_finish(o, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(s, ==, "socket,id=c0,path=/run/a,,b/q.sock,port=5900-x,,y,server,empty=,eq=k=v");

    /* No head: no leading comma. */
    o = qemu_opts_new(NULL);
    qemu_opts_add(o, "driver", "file");
    qemu_opts_add(o, "filename", "x");
    g_autofree char *s2 = qemu_opts_finish(o, &err);
    g_assert_cmpstr(s2, ==, "driver=file,filename=x");
    o = qemu_opts_new(NULL);
    qemu_opts_flag(o, "unix:/a,,b");
    qemu_opts_add(o, "k", "v");
    g_autofree char *s3 = qemu_opts_finish(o, &err);
    g_assert_cmpstr(s3, ==, "unix:/a,,b,k=v");
    o = qemu_opts_new(NULL);
    g_autofree char *s4 = qemu_opts_finish(o, &err);
    g_assert_cmpstr(s4, ==, "");

    /* The first failure is kept; later adds do not mask it. */
    o = qemu_opts_new("user");
    qemu_opts_add(o, "ok", "fine");
    qemu_opts_add(o, "hostfwd", "tcp:1\n2");
    qemu_opts_add(o, "later", "a\x01");
    qemu_opts_add(o, "good", "again");
    g_assert_null(qemu_opts_finish(o, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==,
                    "the value of QEMU option hostfwd contains a control character");
    g_clear_error(&err);
    o = qemu_opts_new(NULL);
    qemu_opts_addf(o, "x", "%c", 0x7f);
    g_assert_null(qemu_opts_finish(o, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    /* A failed builder may be finished with a NULL error. */
    o = qemu_opts_new(NULL);
    qemu_opts_add(o, "x", "\r");
    g_assert_null(qemu_opts_finish(o, NULL));
}

/* --- the real QEMU --- */

/* A file that QEMU's Linux loader takes for a bzImage (boot protocol 2.15,
 * loaded high): enough for it to load, which is all that happens under -S. */
static void write_fake_bzimage(const char *path)
{
    guint8 img[8192] = {0};
    img[0x1f1] = 1; /* setup_sects */
    img[0x1fe] = 0x55;
    img[0x1ff] = 0xaa;
    memcpy(img + 0x202, "HdrS", 4);
    img[0x206] = 0x0f; /* protocol 2.15 */
    img[0x207] = 0x02;
    img[0x211] = 0x01; /* LOADED_HIGH */
    img[0x22c] = 0xff; /* initrd_addr_max 0x7fffffff */
    img[0x22d] = 0xff;
    img[0x22e] = 0xff;
    img[0x22f] = 0x7f;
    img[0x239] = 0x08; /* cmdline_size 2048 */
    g_autoptr(GError) err = NULL;
    g_file_set_contents(path, (const char *)img, sizeof(img), &err);
    g_assert_no_error(err);
}

static void write_zeros(const char *path, gsize size)
{
    g_autofree char *z = g_malloc0(size);
    g_autoptr(GError) err = NULL;
    g_file_set_contents(path, z, (gssize)size, &err);
    g_assert_no_error(err);
}

/* Replace @path by a file of the same base name in @dir (commas kept). */
static char *real_path(const char *dir, const char *path)
{
    g_autofree char *base = g_path_get_basename(path);
    return g_build_filename(dir, base, NULL);
}

/* A TCP port on 127.0.0.1 that is free now (the golden ports may be taken
 * by a VM running on this host). */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* NULL when KVM runs guests here, else why not: the project's own
 * functional probe, run once. (A /dev/kvm that opens may still fail QEMU's
 * start, as a nested KVM here does, even under -S.) */
static const char *kvm_unusable(void)
{
    static bool probed;
    static char *reason;
    if (!probed) {
        AccelKvmProbe p = {0};
        accel_probe_kvm(VM_ARCH_X86_64, false, &p);
        if (!p.usable)
            reason = g_strdup_printf("KVM is not usable here: %s", p.reason);
        accel_kvm_probe_clear(&p);
        probed = true;
    }
    return reason;
}

/* QEMU's complaints about the host's KVM rather than about our argv: a KVM
 * that runs guests may still lack the Hyper-V capabilities Windows VMs use. */
static bool kvm_host_limit(const char *qemu_stderr)
{
    static const char *const limits[] = {"kernel doesn't allow", "not supported by kernel",
                                         "Could not access KVM", "failed to initialize kvm",
                                         "Hyper-V"};
    for (size_t i = 0; i < G_N_ELEMENTS(limits); i++)
        if (strstr(qemu_stderr, limits[i]))
            return true;
    return false;
}

/* The "file" of block node @node in query-named-block-nodes' answer. */
static const char *node_file(JsonNode *nodes, const char *node)
{
    JsonArray *a = json_node_get_array(nodes);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        if (!g_strcmp0(json_object_get_string_member_with_default(o, "node-name", ""), node))
            return json_object_get_string_member_with_default(o, "file", NULL);
    }
    return NULL;
}

static void test_qemu_accepts(gconstpointer data)
{
    const ArgvCase *c = data;
    /* Missing programs fail: tools/install-deps installs them, and a skip
     * would hide a broken install in CI. */
    g_assert_true(tu_have_program("qemu-system-x86_64"));
    g_assert_true(tu_have_program("qemu-system-aarch64"));
    if (c->accel == VM_ACCEL_KVM && kvm_unusable()) {
        g_test_skip(kvm_unusable());
        return;
    }
    g_autoptr(VmConfig) cfg = load_case(c->name);
    g_autofree char *tmp = tu_tmpdir();
    /* Commas in the folder too: every path below has one. */
    g_autofree char *files = g_build_filename(tmp, "files,1", NULL);
    g_autofree char *vm_dir = g_build_filename(tmp, "vm", NULL);
    g_autofree char *logs = g_build_filename(vm_dir, "logs", NULL);
    g_autofree char *run = g_build_filename(tmp, "run", NULL);
    g_assert_cmpint(g_mkdir_with_parents(files, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(logs, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(run, 0700), ==, 0);
    g_autoptr(GError) err = NULL;

    if (cfg->kernel) {
        char *k = real_path(files, cfg->kernel);
        write_fake_bzimage(k);
        g_free(cfg->kernel);
        cfg->kernel = k;
    }
    if (cfg->initrd) {
        char *i = real_path(files, cfg->initrd);
        tu_write_file(i, "070701fake initrd");
        g_free(cfg->initrd);
        cfg->initrd = i;
    }
    if (cfg->iso) {
        char *i = real_path(files, cfg->iso);
        write_zeros(i, 64 * 2048);
        g_free(cfg->iso);
        cfg->iso = i;
    }
    for (char **cd = cfg->cds; cd && *cd; cd++) {
        char *i = real_path(files, *cd);
        write_zeros(i, 64 * 2048);
        g_free(*cd);
        *cd = i;
    }
    for (char **sh = cfg->shares; sh && *sh; sh++) {
        VmShare parsed;
        g_assert_true(vm_share_parse(*sh, &parsed));
        g_autofree char *dir = real_path(files, parsed.path);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        char *entry = g_strdup_printf("%.*s%s", (int)(parsed.path - *sh), *sh, dir);
        g_free(*sh);
        *sh = entry;
    }
    g_autofree char *disk = NULL;
    if (cfg->disk) {
        if (g_path_is_absolute(cfg->disk)) {
            char *d = real_path(files, cfg->disk);
            g_free(cfg->disk);
            cfg->disk = d;
        }
        disk = g_path_is_absolute(cfg->disk) ? g_strdup(cfg->disk)
                                             : g_build_filename(vm_dir, cfg->disk, NULL);
        const char *mk[] = {"qemu-img", "create", "-q", "-f", cfg->disk_format, disk, "64M", NULL};
        g_assert_true(vd_run_check(mk, 10000, "qemu-img create", &err));
        g_assert_no_error(err);
    }
    if (cfg->rdp_port)
        cfg->rdp_port = free_port();
    for (char **f = cfg->forwards; f && *f; f++) {
        g_autofree char *guest = g_strdup(strchr(*f, ':') + 1);
        g_free(*f);
        *f = g_strdup_printf("%u:%s", free_port(), guest);
    }
    g_autofree char *code = NULL;
    if (cfg->firmware == VM_FIRMWARE_UEFI) {
        g_autofree char *tmpl = NULL;
        g_assert_true(firmware_find_uefi(cfg->arch, cfg->secure_boot, &code, &tmpl, &err));
        g_assert_no_error(err);
        g_autofree char *vars = g_build_filename(vm_dir, "uefi-vars.fd", NULL);
        const char *cp[] = {"cp", tmpl, vars, NULL};
        g_assert_true(vd_run_check(cp, 5000, "copying the UEFI variables", &err));
    }
    g_autoptr(GSubprocess) swtpm = NULL;
    if (cfg->tpm) {
        g_assert_true(tu_have_program("swtpm"));
        g_autofree char *state = g_build_filename(tmp, "tpm", NULL);
        g_assert_cmpint(g_mkdir_with_parents(state, 0700), ==, 0);
        g_autofree char *sock = g_build_filename(run, "swtpm.sock", NULL);
        g_autofree char *state_opt = g_strdup_printf("dir=%s", state);
        g_autofree char *ctrl_opt = g_strdup_printf("type=unixio,path=%s", sock);
        g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
        swtpm = g_subprocess_launcher_spawn(l, &err, "swtpm", "socket", "--tpm2", "--tpmstate",
                                            state_opt, "--ctrl", ctrl_opt, "--terminate",
                                            "--flags", "startup-clear", NULL);
        g_assert_no_error(err);
        for (int i = 0; i < 500 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++)
            g_usleep(10000);
        g_assert_true(g_file_test(sock, G_FILE_TEST_EXISTS));
    }

    QemuArgvEnv env = {
        .qemu_binary = qemu_arch_binary(cfg->arch),
        .vm_dir = vm_dir,
        .runtime_dir = run,
        .accel = c->accel,
        .host_cpus = 8,
        .ovmf_code = code,
        .supervisor_qmp_fd = 3,
    };
    g_auto(GStrv) built = qemu_argv_build(cfg, &env, &err);
    g_assert_no_error(err);
    /* Do not start the guest's CPUs. */
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_addv(b, (const char **)built);
    g_strv_builder_add(b, "-S");
    g_auto(GStrv) argv = g_strv_builder_end(b);

    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_take_fd(l, sv[1], 3);
    g_autoptr(GSubprocess) qemu = g_subprocess_launcher_spawnv(l, (const char *const *)argv, &err);
    g_assert_no_error(err);
    g_clear_object(&l); /* closes our copy of QEMU's end: its death reads as EOF */

    g_autofree char *qmp_path = g_build_filename(run, "qmp.sock", NULL);
    g_autoptr(QmpClient) qmp = NULL;
    g_autoptr(QmpClient) sup = qmp_client_new_fd(sv[0]);
    /* QEMU creates the socket before it could fail on a later option, so a
     * handshake failure is where a refused argv shows. */
    if (!qmp_client_handshake(sup, 20000, &err)) {
        tu_subprocess_wait(qemu, 5000);
        g_autofree char *text = tu_subprocess_stderr(qemu);
        g_autofree char *line = g_strjoinv(" ", argv);
        if (c->accel == VM_ACCEL_KVM && kvm_host_limit(text)) {
            g_autofree char *why = g_strdup_printf("this host's KVM cannot run it: %s", text);
            g_test_skip(g_strchomp(why));
            if (swtpm)
                tu_subprocess_wait(swtpm, 5000);
            tu_rm_rf(tmp);
            return;
        }
        g_error("QEMU refused the argv of %s: %s\n%s\nargv: %s", c->name, err->message, text,
                line);
    }
    g_assert_true(g_str_has_prefix(qmp_client_qemu_version(sup), "7."));
    qmp = qmp_client_connect_unix(qmp_path, 10000, &err);
    g_assert_no_error(err);
    g_assert_true(qmp_client_handshake(qmp, 10000, &err));
    g_assert_no_error(err);

    QmpStatus st;
    g_assert_true(qmp_cmd_query_status(sup, 10000, &st, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(st.status, ==, "prelaunch");

    /* QEMU read the escaped paths back to the very same files. */
    g_autoptr(JsonNode) nodes = qmp_cmd_execute(qmp, "query-named-block-nodes", NULL, 10000, &err);
    g_assert_no_error(err);
    if (disk)
        g_assert_cmpstr(node_file(nodes, "disk0-file"), ==, disk);
    if (cfg->iso)
        g_assert_cmpstr(node_file(nodes, "cd0-media-file"), ==, cfg->iso);
    for (unsigned i = 0; cfg->cds && cfg->cds[i]; i++) {
        g_autofree char *node = g_strdup_printf("cd%u-media-file", i + 1);
        g_assert_cmpstr(node_file(nodes, node), ==, cfg->cds[i]);
    }
    if (code)
        g_assert_cmpstr(node_file(nodes, "fw-code-file"), ==, code);

    g_autoptr(JsonNode) cpus = qmp_cmd_execute(qmp, "query-cpus-fast", NULL, 10000, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(json_array_get_length(json_node_get_array(cpus)), ==,
                     qemu_argv_vcpus(cfg, 8));

    g_autoptr(JsonNode) kvm = qmp_cmd_execute(qmp, "query-kvm", NULL, 10000, &err);
    g_assert_no_error(err);
    g_assert_cmpint(json_object_get_boolean_member(json_node_get_object(kvm), "enabled"), ==,
                    c->accel == VM_ACCEL_KVM);

    /* The USB devices wait on the xHCI controller with their filters (none
     * is on this host, or any USB bus at all). */
    for (char **u = cfg->usb; u && *u; u++) {
        VmUsbSpec spec;
        g_assert_true(vm_usb_spec_parse(*u, &spec, NULL));
        g_autofree char *id = vm_usb_spec_device_id(&spec);
        g_autofree char *path = g_strconcat("/machine/peripheral/", id, NULL);
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "path", path);
        json_object_set_string_member(args, "property", spec.by_id ? "vendorid" : "hostport");
        g_autoptr(JsonNode) v = qmp_cmd_execute(qmp, "qom-get", args, 10000, &err);
        g_assert_no_error(err);
        if (spec.by_id)
            g_assert_cmpint(json_node_get_int(v), ==, spec.vendor);
        else
            g_assert_cmpstr(json_node_get_string(v), ==, spec.port);
    }

    static const char *const sockets[] = {"vnc.sock", "qga.sock", "serial.sock"};
    for (size_t i = 0; i < G_N_ELEMENTS(sockets); i++) {
        g_autofree char *p = g_build_filename(run, sockets[i], NULL);
        g_assert_true(g_file_test(p, G_FILE_TEST_EXISTS));
    }
    g_autofree char *serial_log = g_build_filename(logs, "serial.log", NULL);
    g_assert_true(g_file_test(serial_log, G_FILE_TEST_IS_REGULAR));

    g_assert_true(qmp_cmd_quit(qmp, 10000, &err));
    g_assert_no_error(err);
    g_assert_true(tu_subprocess_wait(qemu, 10000));
    g_assert_true(g_subprocess_get_if_exited(qemu));
    g_assert_cmpint(g_subprocess_get_exit_status(qemu), ==, 0);
    if (swtpm)
        tu_subprocess_wait(swtpm, 5000);
    tu_rm_rf(tmp);
}

/* --- an overlay's chain, named explicitly --- */

typedef enum { CHAIN_PLANTED, CHAIN_QCOW2_BASE, CHAIN_DISPOSABLE } ChainCase;

/* The "drv" of block node @node in query-named-block-nodes' answer. */
static const char *node_driver(JsonNode *nodes, const char *node)
{
    JsonArray *a = json_node_get_array(nodes);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        if (!g_strcmp0(json_object_get_string_member_with_default(o, "node-name", ""), node))
            return json_object_get_string_member_with_default(o, "drv", NULL);
    }
    return NULL;
}

static void mk_image(const char *const *argv)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(vd_run_check(argv, 10000, "qemu-img create", &err));
    g_assert_no_error(err);
}

/* The hole this closes: a guest writes a qcow2 header naming a host file
 * into its disk, a commit puts it into a raw base, and a probe of the base
 * (or the overlay's header, which the old code wrote from that probe) makes
 * QEMU open the host file as the guest's disk. With the base's format taken
 * from the config and the overlay's backing named on the command line, QEMU
 * opens the base as raw and never touches the host file, whatever the
 * headers say. CHAIN_QCOW2_BASE: a qcow2 base gets "backing": null (QEMU's
 * JSON -blockdev); CHAIN_DISPOSABLE: a throw-away top on the overlay. */
static void test_overlay_chain(gconstpointer data)
{
    ChainCase which = GPOINTER_TO_INT(data);
    g_assert_true(tu_have_program("qemu-system-x86_64"));
    g_autofree char *tmp = tu_tmpdir();
    g_autofree char *run = g_build_filename(tmp, "run", NULL);
    g_autofree char *logs = g_build_filename(tmp, "logs", NULL);
    g_assert_cmpint(g_mkdir_with_parents(run, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(logs, 0700), ==, 0);
    g_autofree char *secret = g_build_filename(tmp, "host-secret", NULL);
    g_autofree char *base = g_build_filename(tmp, which == CHAIN_QCOW2_BASE ? "base.qcow2"
                                                                             : "base,raw", NULL);
    g_autofree char *overlay = g_build_filename(tmp, "overlay.qcow2", NULL);
    g_autofree char *top = g_build_filename(tmp, "top.qcow2", NULL);
    write_zeros(secret, 1 << 20);
    const char *base_fmt = which == CHAIN_QCOW2_BASE ? "qcow2" : "raw";
    if (which == CHAIN_QCOW2_BASE) {
        const char *mk[] = {"qemu-img", "create", "-q", "-f", "qcow2", base, "1M", NULL};
        mk_image(mk);
    } else {
        /* The "raw" base's bytes are a qcow2 image backed by the secret. */
        const char *mk[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", secret, "-F",
                            "raw", base, "1M", NULL};
        mk_image(mk);
    }
    /* The overlay's header claims qcow2 for the base, as the old probe did. */
    const char *mk_ov[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", base, "-F",
                           "qcow2", overlay, "1M", NULL};
    mk_image(mk_ov);
    if (which == CHAIN_DISPOSABLE) {
        const char *mk_top[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", overlay,
                                "-F", "qcow2", top, "1M", NULL};
        mk_image(mk_top);
    }

    g_autoptr(VmConfig) cfg = vm_config_new("chain");
    cfg->firmware = VM_FIRMWARE_BIOS;
    cfg->memory = 64 << 20;
    cfg->disk = g_strdup(overlay);
    cfg->base = g_strdup(base);
    cfg->base_format = g_strdup(base_fmt);
    QemuArgvEnv env = {.qemu_binary = "qemu-system-x86_64", .vm_dir = tmp, .runtime_dir = run,
                       .accel = VM_ACCEL_TCG, .host_cpus = 1, .supervisor_qmp_fd = -1,
                       .disk_top = which == CHAIN_DISPOSABLE ? top : NULL};
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) built = qemu_argv_build(cfg, &env, &err);
    g_assert_no_error(err);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_addv(b, (const char **)built);
    g_strv_builder_add(b, "-S");
    g_auto(GStrv) argv = g_strv_builder_end(b);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) qemu = g_subprocess_launcher_spawnv(l, (const char *const *)argv, &err);
    g_assert_no_error(err);
    g_autofree char *qmp_path = g_build_filename(run, "qmp.sock", NULL);
    g_autoptr(QmpClient) qmp = qmp_client_connect_unix(qmp_path, 20000, &err);
    if (!qmp || !qmp_client_handshake(qmp, 10000, &err)) {
        tu_subprocess_wait(qemu, 5000);
        g_autofree char *text = tu_subprocess_stderr(qemu);
        g_autofree char *line = g_strjoinv(" ", argv);
        g_error("QEMU refused the chain: %s\n%s\nargv: %s", err ? err->message : "?", text,
                line);
    }
    g_autoptr(JsonNode) nodes = qmp_cmd_execute(qmp, "query-named-block-nodes", NULL, 10000, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(node_driver(nodes, "disk0-base"), ==, base_fmt);
    g_assert_cmpstr(node_file(nodes, "disk0-base-file"), ==, base);
    const char *vm_node = which == CHAIN_DISPOSABLE ? "disk0-vm" : "disk0";
    g_assert_cmpstr(node_driver(nodes, vm_node), ==, "qcow2");
    g_assert_cmpstr(node_file(nodes, vm_node), ==, overlay);
    if (which == CHAIN_DISPOSABLE)
        g_assert_cmpstr(node_file(nodes, "disk0"), ==, top);
    /* No node of any name reads the host file. */
    JsonArray *a = json_node_get_array(nodes);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        g_assert_cmpstr(json_object_get_string_member_with_default(o, "file", ""), !=, secret);
    }
    g_assert_true(qmp_cmd_quit(qmp, 10000, &err));
    g_assert_no_error(err);
    g_assert_true(tu_subprocess_wait(qemu, 10000));
    g_assert_cmpint(g_subprocess_get_exit_status(qemu), ==, 0);

    /* Without a recorded base format the argv is refused, not guessed. */
    g_clear_pointer(&cfg->base_format, g_free);
    g_assert_null(qemu_argv_build(cfg, &env, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "base-format"));
    tu_rm_rf(tmp);
}

/* Both probe firmware images run to the end under TCG: the KVM probe can
 * only fail because of KVM, never because of its firmware. And KVM is never
 * offered for a guest of another architecture than the host's. */
static void test_probe_firmware(void)
{
    g_assert_true(tu_have_program("qemu-system-x86_64"));
    g_assert_true(tu_have_program("qemu-system-aarch64"));
    for (VmArch arch = VM_ARCH_X86_64; arch <= VM_ARCH_AARCH64; arch++) {
        g_autofree char *reason = NULL;
        bool ok = accel_probe_run(arch, "tcg", &reason);
        g_test_message("%s probe under TCG: %s", vm_arch_to_string(arch), reason);
        if (!ok)
            g_error("the %s probe firmware failed under TCG: %s", vm_arch_to_string(arch),
                    reason);
    }
    VmArch host, other;
    g_assert_true(vm_arch_host(&host));
    other = host == VM_ARCH_X86_64 ? VM_ARCH_AARCH64 : VM_ARCH_X86_64;
    AccelKvmProbe p;
    accel_probe_kvm(other, false, &p);
    g_assert_false(p.usable);
    g_assert_nonnull(strstr(p.reason, "host's own architecture"));
    accel_kvm_probe_clear(&p);
    VmAccel got;
    g_autofree char *why = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_true(accel_resolve(VM_ACCEL_AUTO, other, &got, &why, &err));
    g_assert_cmpint(got, ==, VM_ACCEL_TCG);
    g_assert_nonnull(strstr(why, "software emulation"));
    g_assert_false(accel_resolve(VM_ACCEL_KVM, other, &got, &why, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_STATE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *golden = g_strdup_printf("/argv/golden/%s", cases[i].name);
        g_test_add_data_func(golden, &cases[i], test_golden);
    }
    g_test_add_func("/argv/golden-files", test_golden_files_match_cases);
    g_test_add_func("/argv/semantics", test_case_semantics);
    g_test_add_func("/argv/vcpus", test_vcpus);
    g_test_add_func("/argv/runtime-path", test_runtime_path);
    g_test_add_func("/argv/no-ovmf", test_no_ovmf);
    g_test_add_func("/accel/probe-firmware", test_probe_firmware);
    g_test_add_func("/argv/control-chars", test_control_chars);
    g_test_add_func("/argv/qemu-opts", test_opts);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *real = g_strdup_printf("/argv/qemu-accepts/%s", cases[i].name);
        g_test_add_data_func(real, &cases[i], test_qemu_accepts);
    }
    g_test_add_data_func("/argv/overlay-chain/planted-header", GINT_TO_POINTER(CHAIN_PLANTED),
                         test_overlay_chain);
    g_test_add_data_func("/argv/overlay-chain/qcow2-base", GINT_TO_POINTER(CHAIN_QCOW2_BASE),
                         test_overlay_chain);
    g_test_add_data_func("/argv/overlay-chain/disposable", GINT_TO_POINTER(CHAIN_DISPOSABLE),
                         test_overlay_chain);
    return g_test_run();
}
