/* Snapshots on the real test guest (TCG): live with the guest running
 * (memory and disk come back, the guest keeps answering), UEFI variables on
 * an OVMF VM (offline and live), offline snapshots, list --json, restore
 * refused without --force; disk import and export round trips compared with
 * qemu-img compare; a too-small file system gives exit 7 and leaves nothing
 * behind. */
#include "storage_harness.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define BOOT_MS 90000
#define VARS_MARK_OFFSET 0x83f00   /* the last 256 bytes of OVMF's 528 KiB store */

static JsonArray *snap_list(Harness *h, const char *name, JsonParser *p)
{
    g_autofree char *out = harness_ok(h, "snapshot", name, "list", "--json", NULL);
    g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
    return json_object_get_array_member(json_node_get_object(json_parser_get_root(p)),
                                        "snapshots");
}

static JsonObject *snap_find(JsonArray *a, const char *tag)
{
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        if (!strcmp(json_object_get_string_member(o, "tag"), tag))
            return o;
    }
    return NULL;
}

static void expect_status(Harness *h, int status, const char *needle, const char *const *args)
{
    RunResult r = harness_vmdesk_argv(h, args);
    if (r.status != status)
        g_printerr("%s: %d %s%s\n", args[0], r.status, r.out, r.err);
    g_assert_cmpint(r.status, ==, status);
    if (needle)
        g_assert_nonnull(strstr(r.err, needle));
    run_result_clear(&r);
}

static void test_live(void)
{
    Harness h;
    harness_init(&h);
    const char *extra[] = {NULL};
    harness_create_guest(&h, "sn", "vmdesk.disk-mark=S1", extra);
    g_autofree char *seed = g_build_filename(h.root, "seed.raw", NULL);
    st_make_raw(seed, "EMPTY", 16 << 20);
    g_free(harness_ok(&h, "disk", "sn", "import", seed, NULL));
    g_autofree char *disk = st_vm_path(&h, "sn", "disk.qcow2");

    g_free(harness_ok(&h, "start", "sn", "--accel", "tcg", NULL));
    st_wait_serial(&h, "sn", "VMDESK-DISK-WROTE S1", BOOT_MS);
    st_wait_serial(&h, "sn", "VMDESK-GUEST-READY", BOOT_MS);
    g_autofree char *saved = harness_ok(&h, "snapshot", "sn", "save", "live1", NULL);
    g_assert_nonnull(strstr(saved, "live"));
    g_autofree char *state = st_state(&h, "sn");
    g_assert_cmpstr(state, ==, "RUNNING");
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *l = snap_find(snap_list(&h, "sn", p), "live1");
    g_assert_nonnull(l);
    g_assert_true(json_object_get_boolean_member(l, "live"));
    g_assert_cmpint(json_object_get_int_member(l, "vm-state-bytes"), >, 0);
    g_assert_cmpint(json_object_get_int_member(l, "date"), >, 0);

    /* The guest overwrites the marker after the snapshot. */
    st_guest_shell(&h, "sn",
                   "echo CHANGED | dd of=/dev/vda bs=512 count=1 conv=fsync 2>/dev/null; "
                   "echo DONE-$((40+2))",
                   "DONE-42", 30000);
    g_autofree char *changed = st_first_line(disk);
    g_assert_cmpstr(changed, ==, "CHANGED");

    /* Restoring a running VM loses its state: refused without --force. */
    const char *no_force[] = {"snapshot", "sn", "restore", "live1", NULL};
    expect_status(&h, 4, "unsaved state", no_force);
    g_autofree char *restored = harness_ok(&h, "snapshot", "sn", "restore", "live1", "--force",
                                           NULL);
    g_assert_nonnull(strstr(restored, "live"));
    g_autofree char *state2 = st_state(&h, "sn");
    g_assert_cmpstr(state2, ==, "RUNNING");
    /* The restored guest runs on: its shell answers. */
    st_guest_shell(&h, "sn", "echo ALIVE-$((6*7))", "ALIVE-42", 30000);
    /* The supervisor showed the snapshot jobs as SNAPSHOTTING. */
    g_autofree char *sup_path = st_vm_path(&h, "sn", "logs/supervisor.log");
    g_autofree char *sup = NULL;
    g_assert_true(g_file_get_contents(sup_path, &sup, NULL, NULL));
    g_assert_nonnull(strstr(sup, "-> SNAPSHOTTING: saving a snapshot"));
    g_assert_nonnull(strstr(sup, "-> SNAPSHOTTING: loading a snapshot"));
    g_free(harness_ok(&h, "stop", "sn", NULL));
    g_autofree char *back = st_first_line(disk);
    g_assert_cmpstr(back, ==, "S1");

    /* Offline: a disk-only snapshot, a change, restore refused, forced. */
    g_free(harness_ok(&h, "snapshot", "sn", "save", "off1", NULL));
    g_autoptr(JsonParser) p2 = json_parser_new();
    JsonArray *a = snap_list(&h, "sn", p2);
    g_assert_cmpuint(json_array_get_length(a), ==, 2);
    g_assert_false(json_object_get_boolean_member(snap_find(a, "off1"), "live"));
    g_assert_cmpint(json_object_get_int_member(snap_find(a, "off1"), "vm-state-bytes"), ==, 0);
    /* Nothing changed since the save: restore goes without --force. */
    g_free(harness_ok(&h, "snapshot", "sn", "restore", "off1", NULL));
    const char *w[] = {"qemu-io", "-f", "qcow2", "-c", "write -P 0x41 0 512", disk, NULL};
    g_assert_cmpint(st_run(w, NULL), ==, 0);
    const char *off_no_force[] = {"snapshot", "sn", "restore", "off1", NULL};
    expect_status(&h, 4, "disk was written", off_no_force);
    g_free(harness_ok(&h, "snapshot", "sn", "restore", "off1", "--force", NULL));
    g_autofree char *back2 = st_first_line(disk);
    g_assert_cmpstr(back2, ==, "S1");
    /* A live snapshot restored while stopped brings the disk back. */
    g_free(harness_ok(&h, "snapshot", "sn", "restore", "live1", "--force", NULL));
    const char *dup[] = {"snapshot", "sn", "save", "off1", NULL};
    expect_status(&h, 2, "already", dup);
    const char *missing[] = {"snapshot", "sn", "restore", "nope", NULL};
    expect_status(&h, 3, "no snapshot", missing);
    g_free(harness_ok(&h, "snapshot", "sn", "delete", "off1", NULL));
    g_autoptr(JsonParser) p3 = json_parser_new();
    g_assert_cmpuint(json_array_get_length(snap_list(&h, "sn", p3)), ==, 1);
    g_autofree char *side = st_vm_path(&h, "sn", "snapshots/off1");
    g_assert_false(g_file_test(side, G_FILE_TEST_EXISTS));
    g_autofree char *shown = harness_ok(&h, "show", "sn", NULL);
    g_assert_nonnull(strstr(shown, "live1"));
    harness_finish(&h);
}

/* In place (the same inode QEMU has open), like a firmware write. */
static void write_vars_mark(const char *vars, const char *mark)
{
    int fd = open(vars, O_WRONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, mark, strlen(mark), VARS_MARK_OFFSET), ==, (ssize_t)strlen(mark));
    close(fd);
}

static char *read_vars_mark(const char *vars)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(vars, &data, &len, NULL));
    return g_strndup(data + VARS_MARK_OFFSET, 8);
}

static void test_uefi_vars(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *kernel = g_build_filename(h.guest_dir, "vmlinuz", NULL);
    g_autofree char *initrd = g_build_filename(h.guest_dir, "initrd.img", NULL);
    const char *args[] = {"create", "uv", "--os", "other", "--memory", "256M", "--disk", "64M",
                          "--firmware", "uefi", "--tpm", "--kernel", kernel, "--initrd", initrd,
                          "--append", "console=ttyS0 quiet", NULL};
    RunResult c = harness_vmdesk_argv(&h, args);
    g_assert_cmpint(c.status, ==, 0);
    run_result_clear(&c);
    g_autofree char *vars = st_vm_path(&h, "uv", "uefi-vars.fd");

    /* Offline: the vars copy goes with the snapshot. */
    write_vars_mark(vars, "VMDESK-A");
    g_free(harness_ok(&h, "snapshot", "uv", "save", "off", NULL));
    write_vars_mark(vars, "VMDESK-B");
    const char *nf[] = {"snapshot", "uv", "restore", "off", NULL};
    expect_status(&h, 4, "UEFI variables changed", nf);
    g_free(harness_ok(&h, "snapshot", "uv", "restore", "off", "--force", NULL));
    g_autofree char *m1 = read_vars_mark(vars);
    g_assert_cmpstr(m1, ==, "VMDESK-A");

    /* Live, on OVMF with a TPM: the variables come back from the VM state. */
    g_free(harness_ok(&h, "start", "uv", "--accel", "tcg", NULL));
    g_usleep(3 * G_USEC_PER_SEC);
    g_free(harness_ok(&h, "snapshot", "uv", "save", "on", NULL));
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *on = snap_find(snap_list(&h, "uv", p), "on");
    g_assert_true(json_object_get_boolean_member(on, "live"));
    g_assert_true(json_object_get_boolean_member(on, "uefi-vars"));
    g_assert_true(json_object_get_boolean_member(on, "tpm"));
    write_vars_mark(vars, "VMDESK-C");
    g_free(harness_ok(&h, "snapshot", "uv", "restore", "on", "--force", NULL));
    g_autofree char *m2 = read_vars_mark(vars);
    g_assert_cmpstr(m2, ==, "VMDESK-A");
    g_free(harness_ok(&h, "stop", "uv", "--force", NULL));

    /* Stopped: the live snapshot's copies of the TPM state and variables
     * come back (swtpm wrote its state while the VM ran). */
    g_autofree char *permall = st_vm_path(&h, "uv", "tpm/tpm2-00.permall");
    g_autofree char *saved_permall = st_vm_path(&h, "uv", "snapshots/on/tpm/tpm2-00.permall");
    g_autofree char *want = NULL, *got = NULL;
    gsize want_len = 0, got_len = 0;
    g_assert_true(g_file_get_contents(saved_permall, &want, &want_len, NULL));
    g_assert_cmpuint(want_len, >, 0);
    g_assert_true(g_file_set_contents(permall, "garbage", -1, NULL));
    write_vars_mark(vars, "VMDESK-D");
    g_free(harness_ok(&h, "snapshot", "uv", "restore", "on", "--force", NULL));
    g_assert_true(g_file_get_contents(permall, &got, &got_len, NULL));
    g_assert_cmpuint(got_len, ==, want_len);
    g_assert_true(memcmp(got, want, want_len) == 0);
    g_autofree char *m3 = read_vars_mark(vars);
    g_assert_cmpstr(m3, ==, "VMDESK-A");
    harness_finish(&h);
}

static void assert_same_image(const char *a, const char *b)
{
    const char *argv[] = {"qemu-img", "compare", "-q", a, b, NULL};
    g_assert_cmpint(st_run(argv, NULL), ==, 0);
}

static guint count_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;
    while (d && g_dir_read_name(d))
        n++;
    return n;
}

static void test_import_export(void)
{
    Harness h;
    harness_init(&h);
    g_assert_cmpint(getuid(), ==, 0); /* mounts a tmpfs */
    const char *extra[] = {NULL};
    harness_create_guest(&h, "ie", NULL, extra);
    /* 6 MiB of random data in a 64 MiB raw image. */
    g_autofree char *raw = g_build_filename(h.root, "src.raw", NULL);
    gsize size = 64 << 20;
    char *buf = g_malloc0(size);
    for (gsize i = 0; i < (6u << 20); i += 4)
        *(guint32 *)(buf + i) = g_random_int();
    g_assert_true(g_file_set_contents(raw, buf, (gssize)size, NULL));
    g_free(buf);
    g_free(harness_ok(&h, "disk", "ie", "import", raw, NULL));
    g_autofree char *disk = st_vm_path(&h, "ie", "disk.qcow2");
    const char *info[] = {"qemu-img", "info", disk, NULL};
    g_autofree char *iout = NULL;
    g_assert_cmpint(st_run(info, &iout), ==, 0);
    g_assert_nonnull(strstr(iout, "file format: qcow2"));
    assert_same_image(raw, disk);

    const char *formats[] = {"vmdk", "vhdx", "raw", "qcow2"};
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        g_autofree char *name = g_strdup_printf("out.%s", formats[i]);
        g_autofree char *out = g_build_filename(h.root, name, NULL);
        g_free(harness_ok(&h, "disk", "ie", "export", out, "--format", formats[i], NULL));
        assert_same_image(raw, out);
        g_autofree char *fmt = g_strdup_printf("file format: %s", formats[i]);
        const char *oi[] = {"qemu-img", "info", out, NULL};
        g_autofree char *oo = NULL;
        g_assert_cmpint(st_run(oi, &oo), ==, 0);
        g_assert_nonnull(strstr(oo, fmt));
        /* ... and back in: the round trip. */
        g_free(harness_ok(&h, "disk", "ie", "import", out, NULL));
        assert_same_image(raw, disk);
    }
    /* create --base IMAGE without --overlay: a qcow2 copy of IMAGE. */
    g_free(harness_ok(&h, "create", "cp", "--os", "other", "--firmware", "bios", "--disk", "0",
                      "--base", raw, NULL));
    g_autofree char *cp_disk = st_vm_path(&h, "cp", "disk.qcow2");
    assert_same_image(raw, cp_disk);
    g_autofree char *exists = g_build_filename(h.root, "out.raw", NULL);
    const char *again[] = {"disk", "ie", "export", exists, "--format", "raw", NULL};
    expect_status(&h, 2, "exists", again);

    /* Exit 7 before touching anything: a 4 MiB tmpfs for the export, and
     * the VM folder itself on a 4 MiB tmpfs for an import. */
    g_autofree char *small = g_build_filename(h.root, "small", NULL);
    g_assert_cmpint(g_mkdir(small, 0700), ==, 0);
    g_assert_cmpint(mount("tmpfs", small, "tmpfs", 0, "size=4m,mode=0700"), ==, 0);
    g_autofree char *target = g_build_filename(small, "x.vmdk", NULL);
    const char *too_big[] = {"disk", "ie", "export", target, "--format", "vmdk", NULL};
    expect_status(&h, 7, "not enough disk space", too_big);
    g_assert_cmpuint(count_entries(small), ==, 0);
    g_assert_cmpint(umount(small), ==, 0);

    g_autofree char *vmdir = st_vm_path(&h, "tiny", NULL);
    g_assert_cmpint(g_mkdir_with_parents(vmdir, 0700), ==, 0);
    g_assert_cmpint(mount("tmpfs", vmdir, "tmpfs", 0, "size=4m,mode=0700"), ==, 0);
    /* A 1G disk on 4M: refused unless asked for as sparse (issue 20). */
    const char *no_room[] = {"create", "tiny", "--os", "other", "--memory", "128M", "--disk",
                             "1G", "--firmware", "bios", NULL};
    expect_status(&h, 7, "--sparse allows", no_room);
    g_free(harness_ok(&h, "create", "tiny", "--os", "other", "--memory", "128M", "--disk", "1G",
                      "--sparse", "--firmware", "bios", NULL));
    guint before = count_entries(vmdir);
    g_autofree char *tiny_disk = st_vm_path(&h, "tiny", "disk.qcow2");
    const char *ti[] = {"qemu-img", "info", tiny_disk, NULL};
    g_autofree char *before_info = NULL;
    g_assert_cmpint(st_run(ti, &before_info), ==, 0);
    const char *imp[] = {"disk", "tiny", "import", raw, NULL};
    expect_status(&h, 7, "not enough disk space", imp);
    g_assert_cmpuint(count_entries(vmdir), ==, before);
    g_autofree char *after_info = NULL;
    g_assert_cmpint(st_run(ti, &after_info), ==, 0);
    g_assert_cmpstr(after_info, ==, before_info);
    /* A snapshot that cannot fit is refused the same way. */
    const char *snap[] = {"snapshot", "tiny", "save", "s", NULL};
    expect_status(&h, 7, "not enough disk space", snap);
    g_assert_cmpint(umount(vmdir), ==, 0);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage/snapshot/live", test_live);
    g_test_add_func("/storage/snapshot/uefi-vars", test_uefi_vars);
    g_test_add_func("/storage/disk/import-export", test_import_export);
    return g_test_run();
}
