#include "qemu/accel.h"

#include "qemu/accel_priv.h"
#include "qemu/qemu_arch.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 2000

/* How each architecture's probe firmware runs and says it got to the end. */
typedef struct {
    const unsigned char *const *image;
    const unsigned int *len;
    const char *const *machine_args; /* between the accelerator and -bios */
    const char *log_option;          /* where the firmware writes its stages */
    const char *log_device;          /* a -device for it, or NULL */
    int exit_ok;                     /* QEMU's exit status when it finished */
    const char *stages_ok;           /* ... and the stages written, or NULL */
} ProbeSpec;

static const unsigned char *const fw_x86_64 = accel_probe_fw;

static const ProbeSpec probes[] = {
    /* isa-debug-exit turns the value v written by the firmware into exit
     * status (v << 1) | 1: 0x21 (all stages passed) -> 67. */
    [VM_ARCH_X86_64] = {&fw_x86_64, &accel_probe_fw_len,
                        (const char *const[]){"-machine", "pc", NULL}, "-debugcon",
                        "isa-debug-exit,iobase=0xf4,iosize=1", 67, NULL},
    /* PSCI SYSTEM_OFF ends QEMU with 0; the UART shows E, the exception
     * level (1 under KVM), K. */
    [VM_ARCH_AARCH64] = {&accel_probe_fw_aarch64, &accel_probe_fw_aarch64_len,
                         (const char *const[]){"-machine", "virt,gic-version=max", "-cpu", "max", NULL},
                         "-serial", NULL, 0, "K"},
};

void accel_kvm_probe_clear(AccelKvmProbe *p)
{
    g_clear_pointer(&p->reason, g_free);
}

static char *boot_id(void)
{
    char *id = NULL;
    if (g_file_get_contents("/proc/sys/kernel/random/boot_id", &id, NULL, NULL))
        g_strstrip(id);
    return id;
}

static char *cache_path(void)
{
    g_autofree char *root = vd_paths_runtime_root();
    return g_build_filename(root, "kvm-probe", NULL);
}

/* One group per architecture ("kvm" for x86_64, as before there were two). */
static const char *cache_group(VmArch arch)
{
    return arch == VM_ARCH_X86_64 ? "kvm" : "kvm-aarch64";
}

static bool cache_read(VmArch arch, const char *key, AccelKvmProbe *out)
{
    g_autofree char *path = cache_path();
    const char *group = cache_group(arch);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        return false;
    g_autofree char *k = g_key_file_get_string(kf, group, "key", NULL);
    if (g_strcmp0(k, key))
        return false;
    out->usable = g_key_file_get_boolean(kf, group, "usable", NULL);
    out->reason = g_key_file_get_string(kf, group, "reason", NULL);
    out->cached = true;
    return out->reason != NULL;
}

static void cache_write(VmArch arch, const char *key, const AccelKvmProbe *p)
{
    g_autofree char *root = vd_paths_runtime_root();
    g_autofree char *path = cache_path();
    const char *group = cache_group(arch);
    if (!vd_mkdir_private(root, NULL))
        return;
    /* Keep the other architecture's answer. */
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL);
    g_key_file_set_string(kf, group, "key", key);
    g_key_file_set_boolean(kf, group, "usable", p->usable);
    g_key_file_set_string(kf, group, "reason", p->reason);
    vd_keyfile_save(kf, path, NULL);
}

/* The cheap checks: the device exists, we may open it, the API matches. */
static bool kvm_device_ok(char **reason)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            *reason = g_strdup("/dev/kvm does not exist (no hardware virtualization, or the kvm "
                               "module is not loaded)");
        else if (e == EACCES || e == EPERM)
            *reason = g_strdup("/dev/kvm: permission denied; add yourself to the kvm group "
                               "(sudo adduser $USER kvm) and log in again");
        else
            *reason = g_strdup_printf("/dev/kvm: %s", g_strerror(e));
        return false;
    }
    int v = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    if (v != KVM_API_VERSION) {
        *reason = g_strdup_printf("/dev/kvm answers API version %d, expected %d", v,
                                  KVM_API_VERSION);
        return false;
    }
    return true;
}

bool accel_probe_run(VmArch arch, const char *accel, char **reason)
{
    const ProbeSpec *spec = &probes[arch];
    const char *qemu = qemu_arch_binary(arch);
    g_autofree char *dir = g_dir_make_tmp("vmdesk-kvm-probe-XXXXXX", NULL);
    if (!dir) {
        *reason = g_strdup("cannot create a temporary folder for the KVM probe");
        return false;
    }
    g_autofree char *fw = g_build_filename(dir, "probe.bin", NULL);
    g_autofree char *stages = g_build_filename(dir, "stages.txt", NULL);
    g_autofree char *debugcon = g_strdup_printf("file:%s", stages);
    /* Declared before the first goto: the cleanups must not see them
     * uninitialized (clang refuses to compile the jump otherwise). */
    g_autoptr(GError) err = NULL;
    g_autofree char *seen = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    bool ok = false;
    if (!g_file_set_contents(fw, (const char *)*spec->image, *spec->len, NULL)) {
        *reason = g_strdup("cannot write the KVM probe firmware");
        goto out;
    }
    const char *const head[] = {qemu, "-accel", accel};
    const char *const tail[] = {"-nodefaults", "-no-user-config", "-display", "none",
                                "-no-reboot", "-m", "32", "-bios", fw, spec->log_option,
                                debugcon};
    for (size_t i = 0; i < G_N_ELEMENTS(head); i++)
        g_ptr_array_add(argv, (char *)head[i]);
    for (int i = 0; spec->machine_args[i]; i++)
        g_ptr_array_add(argv, (char *)spec->machine_args[i]);
    for (size_t i = 0; i < G_N_ELEMENTS(tail); i++)
        g_ptr_array_add(argv, (char *)tail[i]);
    if (spec->log_device) {
        g_ptr_array_add(argv, "-device");
        g_ptr_array_add(argv, (char *)spec->log_device);
    }
    g_ptr_array_add(argv, NULL);
    VdRunResult r;
    gint64 t0 = g_get_monotonic_time();
    if (!vd_run((const char *const *)argv->pdata, PROBE_TIMEOUT_MS, &r, &err)) {
        *reason = g_strdup_printf("cannot run the KVM probe: %s", err->message);
        goto out;
    }
    g_file_get_contents(stages, &seen, NULL, NULL);
    int ms = (int)((g_get_monotonic_time() - t0) / 1000);
    if (r.timed_out) {
        *reason = g_strdup_printf(
            "/dev/kvm opens but does not run guests: a test guest made no progress in %d ms "
            "(stages reached: \"%s\"); a nested or paravirtual KVM may be in the way",
            ms, seen ? seen : "");
    } else if (WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == spec->exit_ok &&
               (!spec->stages_ok || (seen && strstr(seen, spec->stages_ok)))) {
        *reason = g_strdup_printf("/dev/kvm works (a test guest ran to the end in %d ms)", ms);
        ok = true;
    } else {
        g_autofree char *how = vd_describe_wait_status(r.wait_status);
        g_strchomp(r.output);
        *reason = g_strdup_printf("/dev/kvm opens but a test guest failed: QEMU %s (stages "
                                  "reached: \"%s\")%s%s",
                                  how, seen ? seen : "", *r.output ? ": " : "", r.output);
    }
    vd_run_result_clear(&r);
out:
    unlink(fw);
    unlink(stages);
    rmdir(dir);
    return ok;
}

void accel_probe_kvm(VmArch arch, bool use_cache, AccelKvmProbe *out)
{
    memset(out, 0, sizeof(*out));
    const char *qemu = qemu_arch_binary(arch);
    VmArch host;
    if (!vm_arch_host(&host) || host != arch) {
        out->reason = g_strdup_printf("KVM runs only guests of the host's own architecture, "
                                      "and this is not an %s host",
                                      vm_arch_to_string(arch));
        return;
    }
    if (!kvm_device_ok(&out->reason))
        return;
    g_autofree char *qemu_path = g_find_program_in_path(qemu);
    struct stat st = {0};
    if (qemu_path)
        stat(qemu_path, &st);
    g_autofree char *bid = boot_id();
    g_autofree char *key = g_strdup_printf("%s %s %lld", bid ? bid : "?", qemu_path ? qemu_path : qemu,
                                           (long long)st.st_mtime);
    if (use_cache && cache_read(arch, key, out))
        return;
    accel_kvm_probe_clear(out);
    out->usable = accel_probe_run(arch, "kvm", &out->reason);
    if (use_cache)
        cache_write(arch, key, out);
}

bool accel_resolve(VmAccel wanted, VmArch arch, VmAccel *out, char **reason, GError **error)
{
    if (wanted == VM_ACCEL_TCG) {
        *out = VM_ACCEL_TCG;
        *reason = g_strdup("software emulation (TCG) was asked for");
        return true;
    }
    AccelKvmProbe p;
    accel_probe_kvm(arch, true, &p);
    if (p.usable) {
        *out = VM_ACCEL_KVM;
        *reason = g_steal_pointer(&p.reason);
        return true;
    }
    if (wanted == VM_ACCEL_KVM) {
        g_autofree char *plain = g_strdup_printf(
            "KVM was asked for but is not usable: %s; set the VM's accelerator to auto to run "
            "it with software emulation",
            p.reason);
        vd_error_set_worded(error, VD_ERROR_STATE, NULL, plain,
                            "KVM was asked for but is not usable: %s; use --accel tcg or "
                            "accel=auto",
                            p.reason);
        accel_kvm_probe_clear(&p);
        return false;
    }
    *out = VM_ACCEL_TCG;
    *reason = g_strdup_printf("KVM is not usable (%s); running with software emulation (TCG, "
                              "multi-threaded), expect it to be slow",
                              p.reason);
    accel_kvm_probe_clear(&p);
    return true;
}
