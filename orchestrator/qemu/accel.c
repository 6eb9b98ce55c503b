#include "qemu/accel.h"

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

/* isa-debug-exit turns the value v written by the firmware into exit status
 * (v << 1) | 1: 0x21 (all stages passed) -> 67. */
#define PROBE_EXIT_OK 67
#define PROBE_TIMEOUT_MS 2000

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

static bool cache_read(const char *key, AccelKvmProbe *out)
{
    g_autofree char *path = cache_path();
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        return false;
    g_autofree char *k = g_key_file_get_string(kf, "kvm", "key", NULL);
    if (g_strcmp0(k, key))
        return false;
    out->usable = g_key_file_get_boolean(kf, "kvm", "usable", NULL);
    out->reason = g_key_file_get_string(kf, "kvm", "reason", NULL);
    out->cached = true;
    return out->reason != NULL;
}

static void cache_write(const char *key, const AccelKvmProbe *p)
{
    g_autofree char *root = vd_paths_runtime_root();
    g_autofree char *path = cache_path();
    if (!vd_mkdir_private(root, NULL))
        return;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, "kvm", "key", key);
    g_key_file_set_boolean(kf, "kvm", "usable", p->usable);
    g_key_file_set_string(kf, "kvm", "reason", p->reason);
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

static bool kvm_functional(const char *qemu, char **reason)
{
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
    bool ok = false;
    if (!g_file_set_contents(fw, (const char *)accel_probe_fw, accel_probe_fw_len, NULL)) {
        *reason = g_strdup("cannot write the KVM probe firmware");
        goto out;
    }
    const char *argv[] = {qemu, "-accel", "kvm", "-machine", "pc", "-nodefaults", "-no-user-config",
                          "-display", "none", "-no-reboot", "-m", "32", "-bios", fw, "-device",
                          "isa-debug-exit,iobase=0xf4,iosize=1", "-debugcon", debugcon, NULL};
    VdRunResult r;
    gint64 t0 = g_get_monotonic_time();
    if (!vd_run(argv, PROBE_TIMEOUT_MS, &r, &err)) {
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
    } else if (WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == PROBE_EXIT_OK) {
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

void accel_probe_kvm(const char *qemu_binary, bool use_cache, AccelKvmProbe *out)
{
    memset(out, 0, sizeof(*out));
    const char *qemu = qemu_binary ? qemu_binary : "qemu-system-x86_64";
    if (!kvm_device_ok(&out->reason))
        return;
    g_autofree char *qemu_path = g_find_program_in_path(qemu);
    struct stat st = {0};
    if (qemu_path)
        stat(qemu_path, &st);
    g_autofree char *bid = boot_id();
    g_autofree char *key = g_strdup_printf("%s %s %lld", bid ? bid : "?", qemu_path ? qemu_path : qemu,
                                           (long long)st.st_mtime);
    if (use_cache && cache_read(key, out))
        return;
    accel_kvm_probe_clear(out);
    out->usable = kvm_functional(qemu, &out->reason);
    if (use_cache)
        cache_write(key, out);
}

bool accel_resolve(VmAccel wanted, const char *qemu_binary, VmAccel *out, char **reason,
                   GError **error)
{
    if (wanted == VM_ACCEL_TCG) {
        *out = VM_ACCEL_TCG;
        *reason = g_strdup("software emulation (TCG) was asked for");
        return true;
    }
    AccelKvmProbe p;
    accel_probe_kvm(qemu_binary, true, &p);
    if (p.usable) {
        *out = VM_ACCEL_KVM;
        *reason = g_steal_pointer(&p.reason);
        return true;
    }
    if (wanted == VM_ACCEL_KVM) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "KVM was asked for but is not usable: %s; use --accel tcg or accel=auto",
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
