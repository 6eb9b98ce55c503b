/* A VM's life through the vmdesk command line, on real QEMU (TCG) with the
 * busybox test guest: states, the forwarded port, pause/resume, ACPI and
 * forced stops, QEMU dying, bad input, two VMs, UEFI + TPM. */
#include "harness.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#define BANNER "VMDESK-TEST-GUEST ready"
#define BOOT_MS 60000

static const char *str_member(JsonObject *o, const char *m)
{
    return json_object_get_string_member_with_default(o, m, NULL);
}

static unsigned rdp_port(JsonObject *show)
{
    return (unsigned)json_object_get_int_member(json_object_get_object_member(show, "rdp"),
                                                "port");
}

static char *read_file(const char *path)
{
    char *s = NULL;
    g_file_get_contents(path, &s, NULL, NULL);
    return s ? s : g_strdup("");
}

static char *vm_log(Harness *h, const char *name, const char *file)
{
    g_autofree char *p = g_build_filename(h->root, "data", "vmdesk", "vms", name, "logs", file,
                                          NULL);
    return read_file(p);
}

static void assert_state(Harness *h, const char *name, const char *want)
{
    g_autoptr(JsonObject) o = harness_show(h, name);
    g_assert_cmpstr(str_member(o, "state"), ==, want);
}

static void test_lifecycle(void)
{
    Harness h;
    harness_init(&h);
    harness_create_guest(&h, "life", NULL, NULL);
    assert_state(&h, "life", "STOPPED");

    g_autofree char *out = harness_ok(&h, "start", "life", NULL);
    g_assert_nonnull(strstr(out, "is RUNNING"));
    g_assert_nonnull(strstr(out, "RDP:         127.0.0.1:"));
    g_autoptr(JsonObject) show = harness_show(&h, "life");
    g_assert_cmpstr(str_member(show, "state"), ==, "RUNNING");
    g_assert_cmpstr(str_member(show, "accelerator"), !=, NULL);
    JsonObject *rdp = json_object_get_object_member(show, "rdp");
    g_assert_cmpstr(json_object_get_string_member(rdp, "host"), ==, "127.0.0.1");
    g_autofree char *want_vnc = g_build_filename(h.root, "run", "vmdesk", "life", "vnc.sock", NULL);
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(show, "vnc"),
                                                  "socket"),
                    ==, want_vnc);
    /* The runtime folder is private and the sockets exist. */
    struct stat st;
    g_autofree char *rt = g_path_get_dirname(want_vnc);
    g_assert_cmpint(stat(rt, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);
    g_assert_true(g_file_test(want_vnc, G_FILE_TEST_EXISTS));

    /* STARTING came before RUNNING, as the supervisor recorded it. */
    g_autofree char *sup = vm_log(&h, "life", "supervisor.log");
    g_assert_nonnull(strstr(sup, "state STARTING -> RUNNING"));

    /* The forwarded port reaches the guest's listener. */
    g_autofree char *banner = harness_read_banner(rdp_port(show), BOOT_MS);
    g_assert_cmpstr(banner, ==, BANNER);

    /* A second start says so and starts nothing. */
    RunResult again = harness_vmdesk(&h, "start", "life", NULL);
    g_assert_cmpint(again.status, ==, 4);
    g_assert_nonnull(strstr(again.err, "already running"));
    run_result_clear(&again);
    g_autoptr(JsonObject) show2 = harness_show(&h, "life");
    g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(show2, "process"),
                                               "qemu-pid"),
                    ==,
                    json_object_get_int_member(json_object_get_object_member(show, "process"),
                                               "qemu-pid"));

    /* list --json has it with its endpoints. */
    g_autofree char *list = harness_ok(&h, "list", "--json", NULL);
    g_assert_nonnull(strstr(list, "\"life\""));
    g_assert_nonnull(strstr(list, "\"RUNNING\""));

    /* Pause and resume through QMP; state follows QMP events. */
    g_free(harness_ok(&h, "pause", "life", NULL));
    assert_state(&h, "life", "PAUSED");
    g_autofree char *st_out = harness_ok(&h, "status", "life", "--wait", "paused", "--timeout",
                                         "5", NULL);
    g_assert_true(g_str_has_prefix(st_out, "PAUSED"));
    g_free(harness_ok(&h, "resume", "life", NULL));
    assert_state(&h, "life", "RUNNING");
    g_autofree char *banner2 = harness_read_banner(rdp_port(show), 10000);
    g_assert_cmpstr(banner2, ==, BANNER);

    /* A running VM's unsafe settings are refused; safe ones apply later. */
    RunResult set = harness_vmdesk(&h, "set", "life", "firmware=uefi", NULL);
    g_assert_cmpint(set.status, ==, 4);
    run_result_clear(&set);
    g_autofree char *set_ok = harness_ok(&h, "set", "life", "memory=320M", NULL);
    g_assert_nonnull(strstr(set_ok, "next start"));

    /* Deleting a running VM is refused. */
    RunResult del = harness_vmdesk(&h, "delete", "life", NULL);
    g_assert_cmpint(del.status, ==, 4);
    run_result_clear(&del);

    /* ACPI power-down: the guest powers itself off. */
    gint64 t0 = g_get_monotonic_time();
    g_autofree char *stop = harness_ok(&h, "stop", "life", "--timeout", "30", NULL);
    g_assert_null(strstr(stop, "forced"));
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 30 * G_USEC_PER_SEC);
    g_autoptr(JsonObject) stopped = harness_show(&h, "life");
    g_assert_cmpstr(str_member(stopped, "state"), ==, "STOPPED");
    g_assert_cmpstr(str_member(stopped, "reason"), ==, "the guest powered off");
    g_assert_false(g_file_test(want_vnc, G_FILE_TEST_EXISTS));

    /* It starts again after a stop, with the new memory size. */
    g_free(harness_ok(&h, "start", "life", NULL));
    g_autofree char *qlog = vm_log(&h, "life", "qemu.log");
    g_assert_nonnull(strstr(qlog, "'-m' '320M'"));
    g_free(harness_ok(&h, "stop", "life", "--force", NULL));
    assert_state(&h, "life", "STOPPED");
    g_free(harness_ok(&h, "delete", "life", NULL));
    RunResult gone = harness_vmdesk(&h, "show", "life", NULL);
    g_assert_cmpint(gone.status, ==, 3);
    run_result_clear(&gone);
    harness_finish(&h);
}

static void test_force_stop(void)
{
    Harness h;
    harness_init(&h);
    harness_create_guest(&h, "stubborn", "vmdesk.acpi=ignore", NULL);
    g_free(harness_ok(&h, "start", "stubborn", NULL));
    g_autoptr(JsonObject) show = harness_show(&h, "stubborn");
    g_autofree char *banner = harness_read_banner(rdp_port(show), BOOT_MS);
    g_assert_cmpstr(banner, ==, BANNER);

    /* The guest ignores the power button: stop waits, then forces. */
    gint64 t0 = g_get_monotonic_time();
    RunResult r = harness_vmdesk(&h, "stop", "stubborn", "--timeout", "3", NULL);
    gint64 took = g_get_monotonic_time() - t0;
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "forced off"));
    g_assert_nonnull(strstr(r.err, "did not power off within 3 s"));
    g_assert_cmpint(took, >=, 3 * G_USEC_PER_SEC);
    g_assert_cmpint(took, <, 20 * G_USEC_PER_SEC);
    run_result_clear(&r);
    g_autoptr(JsonObject) st = harness_show(&h, "stubborn");
    g_assert_cmpstr(str_member(st, "state"), ==, "STOPPED");
    g_assert_cmpstr(str_member(st, "reason"), ==, "forced off (QMP quit)");

    /* stop --force at once. */
    g_free(harness_ok(&h, "start", "stubborn", NULL));
    g_autofree char *out = harness_ok(&h, "stop", "stubborn", "--force", NULL);
    g_assert_nonnull(strstr(out, "forced off"));
    assert_state(&h, "stubborn", "STOPPED");

    /* Stopping a stopped VM is a state error. */
    RunResult again = harness_vmdesk(&h, "stop", "stubborn", NULL);
    g_assert_cmpint(again.status, ==, 4);
    g_assert_nonnull(strstr(again.err, "not running"));
    run_result_clear(&again);
    harness_finish(&h);
}

static void test_qemu_killed(void)
{
    Harness h;
    harness_init(&h);
    harness_create_guest(&h, "victim", NULL, NULL);
    g_free(harness_ok(&h, "start", "victim", NULL));
    g_autoptr(JsonObject) show = harness_show(&h, "victim");
    JsonObject *proc = json_object_get_object_member(show, "process");
    int qemu_pid = (int)json_object_get_int_member(proc, "qemu-pid");
    g_assert_cmpint(qemu_pid, >, 1);
    g_assert_cmpint(kill(qemu_pid, SIGKILL), ==, 0);

    g_free(harness_ok(&h, "status", "victim", "--wait", "ERROR", "--timeout", "10", NULL));
    g_autoptr(JsonObject) err = harness_show(&h, "victim");
    g_assert_cmpstr(str_member(err, "state"), ==, "ERROR");
    g_assert_nonnull(strstr(str_member(err, "reason"), "killed by signal 9"));
    JsonArray *tail =
        json_object_get_array_member(json_object_get_object_member(err, "process"), "log-tail");
    g_assert_cmpuint(json_array_get_length(tail), >=, 2);
    const char *last = json_array_get_string_element(tail, json_array_get_length(tail) - 1);
    g_assert_nonnull(strstr(last, "killed by signal 9"));
    /* Sockets are gone; the VM can start again from ERROR. */
    g_autofree char *qmp = g_build_filename(h.root, "run", "vmdesk", "victim", "qmp.sock", NULL);
    g_assert_false(g_file_test(qmp, G_FILE_TEST_EXISTS));
    g_autofree char *st = harness_ok(&h, "status", "victim", NULL);
    g_assert_true(g_str_has_prefix(st, "ERROR: QEMU was killed by signal 9"));
    g_free(harness_ok(&h, "start", "victim", NULL));

    /* The supervisor itself killed: QEMU dies with it (no orphan), and the
     * VM reads as ERROR instead of a RUNNING that nobody watches. */
    g_autoptr(JsonObject) again = harness_show(&h, "victim");
    JsonObject *p2 = json_object_get_object_member(again, "process");
    int sup_pid = (int)json_object_get_int_member(p2, "supervisor-pid");
    qemu_pid = (int)json_object_get_int_member(p2, "qemu-pid");
    g_assert_cmpint(sup_pid, >, 1);
    g_assert_cmpint(kill(sup_pid, SIGKILL), ==, 0);
    for (int i = 0; i < 100 && kill(qemu_pid, 0) == 0; i++)
        g_usleep(50 * 1000);
    g_assert_cmpint(kill(qemu_pid, 0), ==, -1);
    g_autoptr(JsonObject) orphan = harness_show(&h, "victim");
    g_assert_cmpstr(str_member(orphan, "state"), ==, "ERROR");
    g_assert_nonnull(strstr(str_member(orphan, "reason"), "supervisor"));
    /* And it starts again over the stale sockets. */
    g_free(harness_ok(&h, "start", "victim", NULL));
    g_free(harness_ok(&h, "stop", "victim", "--force", NULL));
    harness_finish(&h);
}

static void test_qemu_dies_at_start(void)
{
    Harness h;
    harness_init(&h);
    const char *extra[] = {"--qemu-arg", "-no-such-option", NULL};
    harness_create_guest(&h, "broken", NULL, extra);
    RunResult r = harness_vmdesk(&h, "start", "broken", NULL);
    g_assert_cmpint(r.status, ==, 6);
    g_assert_nonnull(strstr(r.err, "failed to start"));
    g_assert_nonnull(strstr(r.err, "-no-such-option"));
    run_result_clear(&r);
    assert_state(&h, "broken", "ERROR");
    /* Fix the config; it starts. */
    g_free(harness_ok(&h, "set", "broken", "qemu-arg=", NULL));
    g_free(harness_ok(&h, "start", "broken", NULL));
    g_free(harness_ok(&h, "stop", "broken", "--force", NULL));
    harness_finish(&h);
}

static void expect_fail(Harness *h, int status, const char *needle, const char *const *args)
{
    RunResult r = harness_vmdesk_argv(h, args);
    if (r.status != status || !strstr(r.err, needle))
        g_printerr("unexpected: status %d, stderr: %s\n", r.status, r.err);
    g_assert_cmpint(r.status, ==, status);
    g_assert_nonnull(strstr(r.err, needle));
    run_result_clear(&r);
}

static void test_bad_input(void)
{
    Harness h;
    harness_init(&h);
    expect_fail(&h, 2, "contains a slash", (const char *[]){"create", "a/b", NULL});
    expect_fail(&h, 2, "must start with a letter", (const char *[]){"create", "..", NULL});
    expect_fail(&h, 3, "cannot be read",
                (const char *[]){"create", "noiso", "--iso", "/nonexistent/win.iso", NULL});
    expect_fail(&h, 3, "no VM named", (const char *[]){"show", "noiso", NULL});
    expect_fail(&h, 2, "not a size", (const char *[]){"create", "x", "--memory", "lots", NULL});
    expect_fail(&h, 2, "not one of", (const char *[]){"create", "x", "--os", "beos", NULL});
    expect_fail(&h, 2, "unknown command", (const char *[]){"frobnicate", NULL});
    expect_fail(&h, 2, "missing arguments", (const char *[]){"start", NULL});
    expect_fail(&h, 2, "is not a VM state",
                (const char *[]){"status", "x", "--wait", "sleeping", NULL});

    /* A control character in a value is refused by create and set (exit 2),
     * by the rule QEMU's command line is built with, not at start (exit 6);
     * the message shows it escaped. */
    expect_fail(&h, 2, "forward: \"\\x0b8080:80\" contains a control character",
                (const char *[]){"create", "vt", "--forward", "\v8080:80", NULL});
    expect_fail(&h, 3, "no VM named", (const char *[]){"show", "vt", NULL});

    harness_create_guest(&h, "ok", NULL, NULL);
    expect_fail(&h, 2, "control character",
                (const char *[]){"set", "ok", "forward+=\v8080:80", NULL});
    expect_fail(&h, 2, "rdp-port: \"\\x0b47200\"",
                (const char *[]){"set", "ok", "rdp-port=\v47200", NULL});
    expect_fail(&h, 2, "exists already", (const char *[]){"create", "ok", NULL});
    expect_fail(&h, 2, "unknown setting", (const char *[]){"set", "ok", "colour=blue", NULL});
    expect_fail(&h, 2, "is not a number", (const char *[]){"set", "ok", "cpus=many", NULL});
    /* A rejected set changes nothing. */
    g_autoptr(JsonObject) before = harness_show(&h, "ok");
    expect_fail(&h, 2, "not a size",
                (const char *[]){"set", "ok", "cpus=1", "memory=huge", NULL});
    g_autoptr(JsonObject) after = harness_show(&h, "ok");
    JsonObject *cb = json_object_get_object_member(before, "config");
    JsonObject *ca = json_object_get_object_member(after, "config");
    g_assert_cmpint(json_object_get_int_member(ca, "cpus"), ==, 2);
    g_assert_cmpint(json_object_get_int_member(ca, "cpus"), ==,
                    json_object_get_int_member(cb, "cpus"));
    g_assert_cmpint(json_object_get_int_member(ca, "memory-bytes"), ==,
                    json_object_get_int_member(cb, "memory-bytes"));

    /* A kernel that went missing: a clear error, the VM stays STOPPED. */
    g_autofree char *gone = g_build_filename(h.root, "gone-vmlinux", NULL);
    g_file_set_contents(gone, "x", 1, NULL);
    g_autofree char *kset = g_strdup_printf("kernel=%s", gone);
    g_free(harness_ok(&h, "set", "ok", kset, NULL));
    g_unlink(gone);
    expect_fail(&h, 3, "kernel", (const char *[]){"start", "ok", NULL});
    assert_state(&h, "ok", "STOPPED");

    /* A malformed config file names itself. */
    g_autofree char *conf = g_build_filename(h.root, "data", "vmdesk", "vms", "ok", "vm.conf",
                                             NULL);
    g_assert_true(g_file_set_contents(conf, "[vm]\nname=ok\nmemory=4Q\n", -1, NULL));
    expect_fail(&h, 2, "vm.conf", (const char *[]){"show", "ok", NULL});
    expect_fail(&h, 2, "memory", (const char *[]){"start", "ok", NULL});
    /* It is not overwritten by a failed command. */
    g_autofree char *still = read_file(conf);
    g_assert_cmpstr(still, ==, "[vm]\nname=ok\nmemory=4Q\n");
    harness_finish(&h);
}

static void test_two_vms(void)
{
    Harness h;
    harness_init(&h);
    harness_create_guest(&h, "one", NULL, NULL);
    harness_create_guest(&h, "two", NULL, NULL);
    g_autoptr(JsonObject) a = harness_show(&h, "one");
    g_autoptr(JsonObject) b = harness_show(&h, "two");
    g_assert_cmpuint(rdp_port(a), !=, rdp_port(b));
    /* Asking for a port another VM has is refused. */
    g_autofree char *taken = g_strdup_printf("rdp-port=%u", rdp_port(a));
    expect_fail(&h, 2, "is VM \"one\"'s already", (const char *[]){"set", "two", taken, NULL});
    g_free(harness_ok(&h, "start", "one", NULL));
    g_free(harness_ok(&h, "start", "two", NULL));
    g_autofree char *b1 = harness_read_banner(rdp_port(a), BOOT_MS);
    g_autofree char *b2 = harness_read_banner(rdp_port(b), BOOT_MS);
    g_assert_cmpstr(b1, ==, BANNER);
    g_assert_cmpstr(b2, ==, BANNER);
    g_free(harness_ok(&h, "stop", "one", NULL));
    assert_state(&h, "one", "STOPPED");
    assert_state(&h, "two", "RUNNING");
    g_free(harness_ok(&h, "stop", "two", NULL));
    harness_finish(&h);
}

static void test_uefi_tpm(void)
{
    Harness h;
    harness_init(&h);
    /* OVMF boots the kernel through its EFI stub: the bzImage, not vmlinux. */
    g_autofree char *kernel = g_build_filename(h.guest_dir, "vmlinuz", NULL);
    g_autofree char *initrd = g_build_filename(h.guest_dir, "initrd.img", NULL);
    g_free(harness_ok(&h, "create", "secure", "--os", "other", "--memory", "512M", "--disk",
                      "1G", "--firmware", "uefi", "--secure-boot", "off", "--tpm", "--kernel",
                      kernel, "--initrd", initrd, "--append", "console=ttyS0 quiet", NULL));
    g_autofree char *vars = g_build_filename(h.root, "data", "vmdesk", "vms", "secure",
                                             "uefi-vars.fd", NULL);
    g_assert_true(g_file_test(vars, G_FILE_TEST_EXISTS));
    g_free(harness_ok(&h, "start", "secure", NULL));
    g_autoptr(JsonObject) show = harness_show(&h, "secure");
    g_autofree char *banner = harness_read_banner(rdp_port(show), 120000);
    g_assert_cmpstr(banner, ==, BANNER);
    /* swtpm runs beside QEMU and keeps its state in the VM's folder. */
    g_autoptr(GArray) pids = harness_our_pids(&h);
    g_assert_cmpuint(pids->len, >=, 3); /* supervisor, swtpm, qemu */
    g_autofree char *tpm_dir = g_build_filename(h.root, "data", "vmdesk", "vms", "secure", "tpm",
                                                NULL);
    g_autoptr(GDir) d = g_dir_open(tpm_dir, 0, NULL);
    g_assert_nonnull(d);
    g_assert_nonnull(g_dir_read_name(d));
    g_free(harness_ok(&h, "stop", "secure", NULL));
    assert_state(&h, "secure", "STOPPED");
    harness_finish(&h);
}

static JsonObject *show_cdrom(Harness *h, const char *name)
{
    g_autoptr(JsonObject) show = harness_show(h, name);
    g_assert_true(json_object_has_member(show, "cdrom"));
    return json_object_ref(json_object_get_object_member(show, "cdrom"));
}

/* CD media: for the next start while stopped, live through QMP while
 * running, kept in the config across a restart; bad input refused. */
static void test_cdrom(void)
{
    Harness h;
    harness_init(&h);
    harness_create_guest(&h, "cd", NULL, NULL);
    g_autofree char *iso = g_build_filename(h.root, "media.iso", NULL);
    g_autofree char *other = g_build_filename(h.root, "other.iso", NULL);
    g_assert_true(g_file_set_contents(iso, "CD001", 5, NULL));
    g_assert_true(g_file_set_contents(other, "CD002", 5, NULL));

    g_autofree char *out = harness_ok(&h, "cdrom", "cd", "insert", iso, NULL);
    g_assert_nonnull(strstr(out, "from the next start"));
    g_free(harness_ok(&h, "start", "cd", NULL));
    g_autoptr(JsonObject) cd1 = show_cdrom(&h, "cd");
    g_assert_cmpstr(json_object_get_string_member(cd1, "medium"), ==, iso);
    g_assert_false(json_object_get_boolean_member(cd1, "tray-open"));

    /* Live: QEMU's drive changes, and the config follows. */
    g_free(harness_ok(&h, "cdrom", "cd", "eject", NULL));
    g_autoptr(JsonObject) cd2 = show_cdrom(&h, "cd");
    g_assert_true(json_object_get_null_member(cd2, "medium"));
    g_autofree char *out2 = harness_ok(&h, "cdrom", "cd", "insert", other, NULL);
    g_assert_null(strstr(out2, "next start"));
    g_autoptr(JsonObject) cd3 = show_cdrom(&h, "cd");
    g_assert_cmpstr(json_object_get_string_member(cd3, "medium"), ==, other);
    g_autoptr(JsonObject) show = harness_show(&h, "cd");
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(show, "config"),
                                                  "iso"),
                    ==, other);

    /* Bad input changes nothing. */
    RunResult r = harness_vmdesk(&h, "cdrom", "cd", "insert", "/no/such.iso", NULL);
    g_assert_cmpint(r.status, ==, 3);
    g_assert_nonnull(strstr(r.err, "not a file"));
    run_result_clear(&r);
    r = harness_vmdesk(&h, "cdrom", "cd", "open", NULL);
    g_assert_cmpint(r.status, ==, 2);
    run_result_clear(&r);
    g_autoptr(JsonObject) cd4 = show_cdrom(&h, "cd");
    g_assert_cmpstr(json_object_get_string_member(cd4, "medium"), ==, other);

    /* The medium is still there after a restart. */
    g_free(harness_ok(&h, "stop", "cd", "--force", NULL));
    g_free(harness_ok(&h, "start", "cd", NULL));
    g_autoptr(JsonObject) cd5 = show_cdrom(&h, "cd");
    g_assert_cmpstr(json_object_get_string_member(cd5, "medium"), ==, other);
    g_free(harness_ok(&h, "stop", "cd", "--force", NULL));
    harness_finish(&h);
}

static uint64_t disk_virtual_size(Harness *h, const char *name)
{
    g_autofree char *path =
        g_build_filename(h->root, "data", "vmdesk", "vms", name, "disk.qcow2", NULL);
    const char *argv[] = {"qemu-img", "info", "-U", "--output=json", path, NULL};
    g_autofree char *out = NULL;
    int st = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &st, NULL));
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
    return (uint64_t)json_object_get_int_member(json_node_get_object(json_parser_get_root(p)),
                                                "virtual-size");
}

/* Disks grow, stopped (qemu-img) and running (QMP block_resize); they never
 * shrink, and a refusal changes nothing. */
static void test_disk_resize(void)
{
    Harness h;
    harness_init(&h);
    const char *disk[] = {"--disk", "64M", NULL};
    harness_create_guest(&h, "grow", NULL, disk);
    g_assert_cmpuint(disk_virtual_size(&h, "grow"), ==, 64u << 20);
    g_autofree char *out = harness_ok(&h, "disk", "grow", "resize", "+32M", NULL);
    g_assert_nonnull(strstr(out, "from 64M to 96M"));
    g_assert_cmpuint(disk_virtual_size(&h, "grow"), ==, 96u << 20);
    RunResult r = harness_vmdesk(&h, "disk", "grow", "resize", "32M", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "only grows disks"));
    run_result_clear(&r);
    r = harness_vmdesk(&h, "disk", "grow", "resize", "+lots", NULL);
    g_assert_cmpint(r.status, ==, 2);
    run_result_clear(&r);
    g_assert_cmpuint(disk_virtual_size(&h, "grow"), ==, 96u << 20);

    g_free(harness_ok(&h, "start", "grow", NULL));
    g_autofree char *live = harness_ok(&h, "disk", "grow", "resize", "128M", NULL);
    g_assert_nonnull(strstr(live, "the running guest was told"));
    g_assert_cmpuint(disk_virtual_size(&h, "grow"), ==, 128u << 20);
    g_free(harness_ok(&h, "stop", "grow", "--force", NULL));
    /* A VM without a disk says so. */
    harness_create_guest(&h, "nodisk", NULL, NULL);
    r = harness_vmdesk(&h, "disk", "nodisk", "resize", "+1G", NULL);
    g_assert_cmpint(r.status, ==, 3);
    g_assert_nonnull(strstr(r.err, "has no disk"));
    run_result_clear(&r);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/lifecycle/start-pause-resume-stop", test_lifecycle);
    g_test_add_func("/lifecycle/force-stop", test_force_stop);
    g_test_add_func("/lifecycle/qemu-killed", test_qemu_killed);
    g_test_add_func("/lifecycle/qemu-dies-at-start", test_qemu_dies_at_start);
    g_test_add_func("/lifecycle/bad-input", test_bad_input);
    g_test_add_func("/lifecycle/two-vms", test_two_vms);
    g_test_add_func("/lifecycle/uefi-tpm", test_uefi_tpm);
    g_test_add_func("/lifecycle/cdrom", test_cdrom);
    g_test_add_func("/lifecycle/disk-resize", test_disk_resize);
    return g_test_run();
}
