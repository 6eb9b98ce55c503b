/* An aarch64 guest beside an x86_64 one (TCG on this x86_64 host): the
 * arm64 test guest (tests/guest/build-test-guest.sh OUTDIR arm64, Debian's
 * arm64 kernel and busybox) on QEMU's virt machine. aarch64 TCG is slow, so
 * one boot carries every check: create and list, start, the VNC picture
 * equals QMP screendump, the forwarded port answers, a shared folder over
 * virtio-9p (read a host file, write one back), pause and resume, a
 * live snapshot saved and restored, stop by the power key, then the
 * overlay committed into its base. A second boot: UEFI (AAVMF) from a disk
 * image. */
#include "harness_vnc.h"
#include "storage_harness.h"

#include "session/vnc/vnc_session.h"

#include <glib/gstdio.h>

#include <string.h>

#define BOOT_MS 240000

static void test_one_boot(void)
{
    Harness h;
    harness_init(&h);
    const char *guest = g_getenv("VMDESK_TEST_GUEST_ARM64_DIR");
    g_assert_nonnull(guest);
    g_autofree char *kernel = g_build_filename(guest, "Image", NULL);
    g_autofree char *initrd = g_build_filename(guest, "initrd.img", NULL);
    g_autofree char *base = g_build_filename(h.root, "base.raw", NULL);
    st_make_raw(base, "BASE0", 16 << 20);

    /* An x86_64 VM and an aarch64 one, side by side. */
    harness_create_guest(&h, "pc", NULL, (const char *const[]){"--arch", "x86_64", NULL});
    g_autofree char *created =
        harness_ok(&h, "create", "arm", "--arch", "aarch64", "--os", "linux", "--memory", "256M",
                   "--cpus", "2", "--kernel", kernel, "--initrd", initrd, "--append",
                   "console=ttyAMA0 quiet vmdesk.disk-mark=ARM1", "--base", base, "--overlay",
                   NULL);
    g_assert_nonnull(strstr(created, "aarch64 linux"));
    {
        g_autoptr(JsonParser) p = json_parser_new();
        g_assert_cmpstr(json_object_get_string_member(harness_list_entry(&h, "pc", p), "arch"), ==,
                        "x86_64");
        g_autoptr(JsonParser) q = json_parser_new();
        g_assert_cmpstr(json_object_get_string_member(harness_list_entry(&h, "arm", q), "arch"), ==,
                        "aarch64");
        g_autofree char *text = harness_ok(&h, "list", NULL);
        g_assert_nonnull(strstr(text, "aarch64"));
        g_assert_nonnull(strstr(text, "x86_64"));
    }
    /* aarch64 has no BIOS: a VM without firmware needs a kernel. */
    RunResult r = harness_vmdesk(&h, "create", "nofw", "--arch", "aarch64", "--firmware", "bios",
                                 "--disk", "0", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "aarch64 VMs have no BIOS"));
    run_result_clear(&r);

    /* A shared folder: virtio-9p on the virt machine's PCIe. */
    g_autofree char *folder = g_build_filename(h.root, "share", NULL);
    g_assert_cmpint(g_mkdir(folder, 0755), ==, 0);
    g_autofree char *host_file = g_build_filename(folder, "host.txt", NULL);
    g_assert_true(g_file_set_contents(host_file, "HOST-TEXT-17\n", -1, NULL));
    g_free(harness_ok(&h, "share", "arm", folder, NULL));

    gint64 t0 = g_get_monotonic_time();
    g_free(harness_ok(&h, "start", "arm", NULL));
    Session *s = vnc_connect_vm(&h, "arm");

    g_autoptr(JsonObject) st = harness_show(&h, "arm");
    g_assert_cmpstr(json_object_get_string_member(st, "accelerator"), ==, "tcg");
    /* KVM only for the host's own architecture (this host is x86_64). */
    g_assert_nonnull(strstr(json_object_get_string_member(st, "accelerator-reason"),
                            "host's own architecture"));
    g_autofree char *qemu_log = st_vm_path(&h, "arm", "logs/qemu.log");
    g_autofree char *ql = NULL;
    g_assert_true(g_file_get_contents(qemu_log, &ql, NULL, NULL));
    g_assert_nonnull(strstr(ql, "qemu-system-aarch64"));
    g_assert_nonnull(strstr(ql, "virt,gic-version=max"));

    /* The guest read its base through the overlay and wrote its mark. */
    st_wait_serial(&h, "arm", "VMDESK-DISK-READ BASE0", BOOT_MS);
    st_wait_serial(&h, "arm", "VMDESK-DISK-WROTE ARM1", BOOT_MS);
    st_wait_serial(&h, "arm", "VMDESK-GUEST-READY", BOOT_MS);
    g_test_message("aarch64 guest ready %.1f s after start",
                   (g_get_monotonic_time() - t0) / 1e6);
    unsigned port = (unsigned)json_object_get_int_member(
        json_object_get_object_member(st, "rdp"), "port");
    g_autofree char *banner = harness_read_banner(port, 30000);
    g_assert_cmpstr(banner, ==, "VMDESK-TEST-GUEST ready");

    /* The share in the guest: a host file read, one written back. */
    g_autofree char *out = st_guest_shell_output(
        &h, "arm",
        "mkdir -p /mnt/s && mount -t 9p -o trans=virtio,version=9p2000.L vmdesk_share /mnt/s "
        "&& echo M-$((20+1)); cat /mnt/s/host.txt; echo GUEST-WROTE-5 > /mnt/s/guest.txt "
        "&& echo W-$((30+1)); umount /mnt/s; echo DONE-$((60+1))",
        "DONE-61", 60000);
    g_assert_nonnull(strstr(out, "M-21"));
    g_assert_nonnull(strstr(out, "HOST-TEXT-17"));
    g_assert_nonnull(strstr(out, "W-31"));
    g_autofree char *back_path = g_build_filename(folder, "guest.txt", NULL);
    g_autofree char *back = NULL;
    g_assert_true(g_file_get_contents(back_path, &back, NULL, NULL));
    g_assert_cmpstr(back, ==, "GUEST-WROTE-5\n");

    /* virtio-gpu's console: the picture over VNC is QEMU's own. */
    vnc_wait_settled(s, 1280, 800, NULL, BOOT_MS);
    vnc_assert_matches_screendump(&h, "arm", s);

    /* Paused, the guest does not answer; resumed, it does. */
    g_free(harness_ok(&h, "pause", "arm", NULL));
    g_autofree char *paused = st_state(&h, "arm");
    g_assert_cmpstr(paused, ==, "PAUSED");
    g_autofree char *none = harness_read_banner(port, 1500);
    g_assert_null(none);
    g_free(harness_ok(&h, "resume", "arm", NULL));
    g_autofree char *again = harness_read_banner(port, 30000);
    g_assert_cmpstr(again, ==, "VMDESK-TEST-GUEST ready");

    /* A live snapshot: the guest changes its disk, the restore brings the
     * mark back and the guest runs on. */
    g_autofree char *overlay = st_vm_path(&h, "arm", "overlay.qcow2");
    g_autofree char *saved = harness_ok(&h, "snapshot", "arm", "save", "s1", NULL);
    g_assert_nonnull(strstr(saved, "live"));
    st_guest_shell(&h, "arm",
                   "echo CHANGED | dd of=/dev/vda bs=512 count=1 conv=fsync 2>/dev/null; "
                   "echo DONE-$((40+2))",
                   "DONE-42", 60000);
    g_autofree char *changed = st_first_line(overlay);
    g_assert_cmpstr(changed, ==, "CHANGED");
    g_free(harness_ok(&h, "snapshot", "arm", "restore", "s1", "--force", NULL));
    g_autofree char *running = st_state(&h, "arm");
    g_assert_cmpstr(running, ==, "RUNNING");
    st_guest_shell(&h, "arm", "echo ALIVE-$((6*7))", "ALIVE-42", 60000);
    g_autofree char *after = harness_read_banner(port, 30000);
    g_assert_cmpstr(after, ==, "VMDESK-TEST-GUEST ready");

    /* stop: the virt machine's power key (gpio-keys) -> the guest's acpid
     * powers off; no forced kill. */
    g_autofree char *stop = harness_ok(&h, "stop", "arm", "--timeout", "120", NULL);
    g_assert_null(strstr(stop, "forced"));
    g_autoptr(JsonObject) off = harness_show(&h, "arm");
    g_assert_cmpstr(json_object_get_string_member(off, "state"), ==, "STOPPED");
    g_assert_cmpstr(json_object_get_string_member(off, "reason"), ==, "the guest powered off");
    session_disconnect_start(s);
    session_destroy(s);

    /* The overlay holds ARM1 (the restored state), the base still BASE0;
     * commit puts it into the base. */
    g_autofree char *before = st_first_line(base);
    g_assert_cmpstr(before, ==, "BASE0");
    g_autofree char *top = st_first_line(overlay);
    g_assert_cmpstr(top, ==, "ARM1");
    g_free(harness_ok(&h, "overlay", "arm", "commit", NULL));
    g_autofree char *committed = st_first_line(base);
    g_assert_cmpstr(committed, ==, "ARM1");
    g_test_message("aarch64 test: %.1f s in all", (g_get_monotonic_time() - t0) / 1e6);
    harness_finish(&h);
}

/* UEFI from a disk image: an ESP (FAT, made by QEMU's vvfat driver from a
 * folder) holding the guest's kernel, an EFI application through its EFI
 * stub, its initrd and a startup.nsh for AAVMF's UEFI Shell (the disk has
 * no \EFI\BOOT\BOOTAA64.EFI, so the firmware comes to its shell). AAVMF
 * runs with the VM's own copy of its variables, which it writes. */
static void test_uefi_disk(void)
{
    Harness h;
    harness_init(&h);
    const char *guest = g_getenv("VMDESK_TEST_GUEST_ARM64_DIR");
    g_assert_nonnull(guest);
    g_autofree char *esp = g_build_filename(h.root, "esp", NULL);
    g_assert_cmpint(g_mkdir_with_parents(esp, 0700), ==, 0);
    static const char *const files[] = {"Image", "initrd.img"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *from = g_build_filename(guest, files[i], NULL);
        g_autofree char *to = g_build_filename(esp, files[i], NULL);
        const char *cp[] = {"cp", from, to, NULL};
        g_assert_cmpint(st_run(cp, NULL), ==, 0);
    }
    g_autofree char *nsh = g_build_filename(esp, "startup.nsh", NULL);
    g_assert_true(g_file_set_contents(
        nsh, "fs0:\r\n\\Image initrd=\\initrd.img console=ttyAMA0\r\n", -1, NULL));
    g_autofree char *fat = g_strdup_printf("fat:16:%s", esp);
    g_autofree char *img = g_build_filename(h.root, "esp.qcow2", NULL);
    const char *conv[] = {"qemu-img", "convert", "-O", "qcow2", fat, img, NULL};
    g_autofree char *out = NULL;
    if (st_run(conv, &out))
        g_error("qemu-img convert %s: %s", fat, out);

    g_free(harness_ok(&h, "create", "efi", "--arch", "aarch64", "--os", "linux", "--memory",
                      "256M", "--cpus", "2", "--import-disk", img, NULL));
    g_autoptr(JsonObject) cfg = harness_show(&h, "efi");
    JsonObject *c = json_object_get_object_member(cfg, "config");
    g_assert_cmpstr(json_object_get_string_member(c, "firmware"), ==, "uefi");
    g_autofree char *vars = st_vm_path(&h, "efi", "uefi-vars.fd");
    g_autofree char *vars0 = NULL;
    gsize vars_len = 0;
    g_assert_true(g_file_get_contents(vars, &vars0, &vars_len, NULL));
    g_assert_cmpuint(vars_len, ==, 64 << 20); /* AAVMF's variable store */

    gint64 t0 = g_get_monotonic_time();
    g_free(harness_ok(&h, "start", "efi", NULL));
    st_wait_serial(&h, "efi", "VMDESK-GUEST-READY", BOOT_MS);
    g_test_message("aarch64 UEFI disk boot ready %.1f s after start",
                   (g_get_monotonic_time() - t0) / 1e6);
    g_autoptr(JsonObject) st = harness_show(&h, "efi");
    unsigned port = (unsigned)json_object_get_int_member(
        json_object_get_object_member(st, "rdp"), "port");
    g_autofree char *banner = harness_read_banner(port, 30000);
    g_assert_cmpstr(banner, ==, "VMDESK-TEST-GUEST ready");
    /* The kernel came from the firmware: EFI told it so. */
    g_autofree char *serial = st_vm_path(&h, "efi", "logs/serial.log");
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(serial, &log, NULL, NULL));
    g_assert_nonnull(strstr(log, "EFI stub"));
    g_free(harness_ok(&h, "stop", "efi", "--force", NULL));
    /* The firmware kept its state in the VM's own store. */
    g_autofree char *vars1 = NULL;
    g_assert_true(g_file_get_contents(vars, &vars1, &vars_len, NULL));
    g_assert_cmpint(memcmp(vars0, vars1, vars_len), !=, 0);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/aarch64/one-boot", test_one_boot);
    g_test_add_func("/aarch64/uefi-disk", test_uefi_disk);
    return g_test_run();
}
