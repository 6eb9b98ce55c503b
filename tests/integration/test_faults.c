/* Faults that used to go unexplained (issue 20, item 3), through the real
 * vmdesk binary and the real test guest:
 * - a running VM whose config was damaged stays in `list`, in ERROR, with
 *   the reason;
 * - `delete` holds the VM's lock for the whole delete, so a `start` that
 *   comes in the middle is refused instead of starting a half-deleted VM;
 * - `create --disk SIZE` larger than the free space is refused (exit 7) with
 *   the numbers, unless --sparse asks for the overcommit;
 * - a guest that fills a full host file system leaves its VM PAUSED with
 *   the reason, resume says when space is still missing and works once it
 *   is back, and no start truncates the logs;
 * - a supervisor that dies while QEMU starts is reported at once (exit 6);
 * - a log grown past 8 MiB is rotated to NAME.1 when the next run starts. */
#include "harness.h"
#include "storage_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOOT_MS 90000

static char *vm_file(Harness *h, const char *name, const char *file)
{
    return g_build_filename(h->root, "data", "vmdesk", "vms", name, file, NULL);
}

static void test_damaged_config_listed(void)
{
    Harness h;
    harness_init(&h);
    const char *none[] = {NULL};
    harness_create_guest(&h, "dmg", NULL, none);
    g_free(harness_ok(&h, "start", "dmg", "--accel", "tcg", NULL));
    g_autofree char *conf = vm_file(&h, "dmg", "vm.conf");
    g_assert_true(g_file_set_contents(conf, "[vm]\nname=dmg\nmemory=lots\n", -1, NULL));

    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = harness_list_entry(&h, "dmg", p);
    g_assert_nonnull(o); /* it used to vanish from the list */
    g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "ERROR");
    g_assert_nonnull(strstr(json_object_get_string_member(o, "reason"), "memory"));
    g_assert_true(json_object_get_boolean_member(o, "running"));
    RunResult r = harness_vmdesk(&h, "list", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "dmg"));
    g_assert_nonnull(strstr(r.out, "ERROR"));
    g_assert_nonnull(strstr(r.err, "its QEMU still runs"));
    run_result_clear(&r);
    /* The VM can still be stopped. */
    g_free(harness_ok(&h, "stop", "dmg", "--force", NULL));
    harness_finish(&h);
}

static void test_delete_holds_lock(void)
{
    Harness h;
    harness_init(&h);
    const char *none[] = {NULL};
    harness_create_guest(&h, "del", NULL, none);
    /* A delete slowed down in its middle (after it took the lock). */
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h.env), "VMDESK_TEST_DELETE_DELAY_MS", "3000",
                                         TRUE);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "delete", "del", NULL};
    GPid pid;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, env, G_SPAWN_DO_NOT_REAP_CHILD,
                                harness_die_with_parent, NULL, &pid, &err));
    g_assert_no_error(err);
    g_usleep(1000 * 1000);
    RunResult r = harness_vmdesk(&h, "start", "del", "--accel", "tcg", NULL);
    g_assert_cmpint(r.status, ==, 4); /* refused: the VM is busy */
    run_result_clear(&r);
    int ws = 0;
    g_assert_cmpint(waitpid(pid, &ws, 0), ==, pid);
    g_assert_true(WIFEXITED(ws));
    g_assert_cmpint(WEXITSTATUS(ws), ==, 0);
    g_autofree char *dir = g_build_filename(h.root, "data", "vmdesk", "vms", "del", NULL);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    harness_finish(&h);
}

static void test_create_disk_over_free_space(void)
{
    Harness h;
    harness_init(&h);
    RunResult r = harness_vmdesk(&h, "create", "big", "--os", "other", "--firmware", "bios",
                                 "--disk", "900T", NULL);
    g_assert_cmpint(r.status, ==, 7);
    g_assert_nonnull(strstr(r.err, "900T needed"));
    g_assert_nonnull(strstr(r.err, "free in"));
    g_assert_nonnull(strstr(r.err, "--sparse"));
    run_result_clear(&r);
    g_autofree char *dir = g_build_filename(h.root, "data", "vmdesk", "vms", "big", NULL);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_free(harness_ok(&h, "create", "big", "--os", "other", "--firmware", "bios", "--disk",
                      "900T", "--sparse", NULL));
    g_free(harness_ok(&h, "delete", "big", NULL));
    harness_finish(&h);
}

/* The VMs' folder ($XDG_DATA_HOME) on a 64 MiB tmpfs of its own. */
static char *mount_small_data(Harness *h)
{
    char *data = g_build_filename(h->root, "data", NULL);
    g_assert_cmpint(g_mkdir_with_parents(data, 0700), ==, 0);
    if (mount("tmpfs", data, "tmpfs", 0, "size=64m,mode=0700") < 0) {
        g_printerr("mount tmpfs on %s: %s\n", data, g_strerror(errno));
        g_assert_not_reached();
    }
    return data;
}

/* `stop` returns once the VM is STOPPED; its supervisor may still be closing
 * its logs on the tmpfs for a moment after that (EBUSY). */
static void umount_small_data(const char *data)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    int rc;
    while ((rc = umount(data)) < 0 && errno == EBUSY && g_get_monotonic_time() < deadline)
        g_usleep(50000);
    if (rc < 0)
        g_printerr("umount %s: %s\n", data, g_strerror(errno));
    g_assert_cmpint(rc, ==, 0);
}

/* Write @path in 1 MiB pieces until @bytes are written or the file system is
 * full (@bytes 0: until full). */
static void fill(const char *path, gsize bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    static char chunk[1 << 20];
    memset(chunk, 0x5a, sizeof(chunk));
    for (gsize done = 0; !bytes || done < bytes;) {
        ssize_t n = write(fd, chunk, sizeof(chunk));
        if (n <= 0) {
            g_assert_true(n < 0 && errno == ENOSPC);
            break;
        }
        done += (gsize)n;
    }
    close(fd);
}

static char *show_field(Harness *h, const char *name, const char *field)
{
    g_autoptr(JsonObject) o = harness_show(h, name);
    const char *v = json_object_has_member(o, field) ? json_object_get_string_member(o, field)
                                                      : NULL;
    return g_strdup(v);
}

static bool wait_show(Harness *h, const char *name, const char *state, const char *in_reason,
                      int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        g_autofree char *st = show_field(h, name, "state");
        g_autofree char *why = show_field(h, name, "reason");
        if (!g_strcmp0(st, state) && (!in_reason || (why && strstr(why, in_reason))))
            return true;
        g_usleep(200 * 1000);
    }
    g_autofree char *st = show_field(h, name, "state");
    g_autofree char *why = show_field(h, name, "reason");
    g_printerr("VM %s is %s (%s), not %s with \"%s\"\n", name, st, why ? why : "no reason",
               state, in_reason ? in_reason : "");
    return false;
}

static void test_full_disk_pauses_with_reason(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *data = mount_small_data(&h);
    const char *disk[] = {"--disk", "100M", "--sparse", NULL};
    harness_create_guest(&h, "full", NULL, disk);
    g_free(harness_ok(&h, "start", "full", "--accel", "tcg", NULL));
    st_wait_serial(&h, "full", "VMDESK-GUEST-READY", BOOT_MS);

    /* About 24 MiB left; the guest writes 40 MiB. */
    g_autofree char *filler = g_build_filename(data, "filler", NULL);
    fill(filler, 40u << 20);
    st_guest_shell(&h, "full",
                   "(dd if=/dev/zero of=/dev/vda bs=1M count=40 conv=fsync 2>/dev/null; "
                   "echo DD-RC-$((40+2))-$?) & echo DD-BG-$((40+2))",
                   "DD-BG-42", 30000);
    g_assert_true(wait_show(&h, "full", "PAUSED", "no space left on ", 120000));
    g_autofree char *why = show_field(&h, "full", "reason");
    g_assert_nonnull(strstr(why, data)); /* the file system: the tmpfs */
    g_assert_nonnull(strstr(why, "MiB free)"));
    RunResult r = harness_vmdesk(&h, "status", "full", NULL);
    g_assert_nonnull(strstr(r.out, "no space left on "));
    run_result_clear(&r);

    /* No space yet: resume says so (exit 7) and the VM stays paused. */
    r = harness_vmdesk(&h, "resume", "full", NULL);
    g_assert_cmpint(r.status, ==, 7);
    g_assert_nonnull(strstr(r.err, "no space left on "));
    run_result_clear(&r);
    g_autofree char *st = st_state(&h, "full");
    g_assert_cmpstr(st, ==, "PAUSED");

    /* Space back: resume works and the guest's write completes. */
    g_assert_cmpint(g_unlink(filler), ==, 0);
    g_free(harness_ok(&h, "resume", "full", NULL));
    st_wait_serial(&h, "full", "DD-RC-42-0", 120000);
    g_autofree char *st2 = st_state(&h, "full");
    g_assert_cmpstr(st2, ==, "RUNNING");
    st_guest_shell(&h, "full", "echo ALIVE-$((40+2))", "ALIVE-42", 30000);
    g_free(harness_ok(&h, "stop", "full", "--force", NULL));
    const char *logs[] = {"logs/qemu.log", "logs/serial.log", NULL};
    for (int i = 0; logs[i]; i++) {
        g_autofree char *path = st_vm_path(&h, "full", logs[i]);
        GStatBuf sb;
        g_assert_cmpint(g_stat(path, &sb), ==, 0);
        g_assert_cmpint(sb.st_size, >, 0);
    }
    umount_small_data(data);
    harness_finish(&h);
}

static void test_start_on_full_fs_keeps_logs(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *data = mount_small_data(&h);
    const char *none[] = {NULL};
    harness_create_guest(&h, "keep", NULL, none);
    g_free(harness_ok(&h, "start", "keep", "--accel", "tcg", NULL));
    st_wait_serial(&h, "keep", "VMDESK-GUEST-READY", BOOT_MS);
    g_free(harness_ok(&h, "stop", "keep", "--force", NULL));
    const char *logs[] = {"logs/qemu.log", "logs/serial.log", NULL};
    char *before[2];
    for (int i = 0; logs[i]; i++) {
        g_autofree char *path = st_vm_path(&h, "keep", logs[i]);
        g_assert_true(g_file_get_contents(path, &before[i], NULL, NULL));
        g_assert_cmpint(strlen(before[i]), >, 0);
    }

    g_autofree char *filler = g_build_filename(data, "filler", NULL);
    fill(filler, 0);
    /* Whether QEMU gets far on a full file system does not matter here;
     * what the logs held before must still be there. */
    RunResult r = harness_vmdesk(&h, "start", "keep", "--accel", "tcg", NULL);
    bool started = r.status == 0;
    run_result_clear(&r);
    for (int i = 0; logs[i]; i++) {
        g_autofree char *path = st_vm_path(&h, "keep", logs[i]);
        g_autofree char *now = NULL;
        g_assert_true(g_file_get_contents(path, &now, NULL, NULL));
        if (!g_str_has_prefix(now, before[i]))
            g_printerr("%s lost its content: %zu bytes before, %zu now\n", logs[i],
                       strlen(before[i]), strlen(now));
        g_assert_true(g_str_has_prefix(now, before[i]));
        g_free(before[i]);
    }
    if (started)
        g_free(harness_ok(&h, "stop", "keep", "--force", NULL));
    umount_small_data(data);
    harness_finish(&h);
}

static void test_supervisor_dies_at_start(void)
{
    Harness h;
    harness_init(&h);
    const char *none[] = {NULL};
    harness_create_guest(&h, "sup", NULL, none);
    h.env = g_environ_setenv(h.env, "VMDESK_TEST_SUPERVISOR_CRASH", "qemu-spawned", TRUE);
    gint64 t0 = g_get_monotonic_time();
    RunResult r = harness_vmdesk(&h, "start", "sup", "--accel", "tcg", "--timeout", "30", NULL);
    gint64 took_ms = (g_get_monotonic_time() - t0) / 1000;
    g_printerr("start took %" G_GINT64_FORMAT " ms, exit %d: %s\n", took_ms, r.status, r.err);
    g_assert_cmpint(r.status, ==, 6);
    g_assert_cmpint(took_ms, <, 5000);
    g_assert_nonnull(strstr(r.err, "killed by signal 9"));
    g_assert_nonnull(strstr(r.err, "supervisor.log"));
    run_result_clear(&r);
    h.env = g_environ_unsetenv(h.env, "VMDESK_TEST_SUPERVISOR_CRASH");
    /* Nothing is left holding the VM: it starts normally now. Its qemu.log,
     * grown past the rotation size, becomes qemu.log.1 at that start. */
    g_autofree char *qlog = st_vm_path(&h, "sup", "logs/qemu.log");
    g_autofree char *qlog1 = g_strconcat(qlog, ".1", NULL);
    g_assert_cmpint(truncate(qlog, 9 * 1024 * 1024), ==, 0);
    g_free(harness_ok(&h, "start", "sup", "--accel", "tcg", NULL));
    GStatBuf sb;
    g_assert_cmpint(g_stat(qlog1, &sb), ==, 0);
    g_assert_cmpint(sb.st_size, ==, 9 * 1024 * 1024);
    g_assert_cmpint(g_stat(qlog, &sb), ==, 0);
    g_assert_cmpint(sb.st_size, <, 1024 * 1024);
    g_free(harness_ok(&h, "stop", "sup", "--force", NULL));
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/faults/damaged-config-listed", test_damaged_config_listed);
    g_test_add_func("/faults/delete-holds-lock", test_delete_holds_lock);
    g_test_add_func("/faults/create-disk-over-free-space", test_create_disk_over_free_space);
    g_test_add_func("/faults/full-disk-pauses-with-reason", test_full_disk_pauses_with_reason);
    g_test_add_func("/faults/start-on-full-fs-keeps-logs", test_start_on_full_fs_keeps_logs);
    g_test_add_func("/faults/supervisor-dies-at-start", test_supervisor_dies_at_start);
    return g_test_run();
}
