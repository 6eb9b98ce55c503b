/* integration-devices: a VM's devices on the real test guest (TCG), in one
 * boot:
 *
 *   - shared folders over virtio-9p: the guest mounts the share tagged
 *     vmdesk_share, reads a host file and writes one back; a symlink in the
 *     folder that points outside it shows the guest nothing of the host
 *     file; a --read-only share (tag vmdesk_share_y) refuses writes even
 *     when the guest mounts it read-write (QEMU enforces it);
 *   - USB passthrough at the QMP level (this host has no USB bus at all, so
 *     no real device is passed through): a device kept with --keep is on
 *     the VM's xHCI controller from the start, one attached live by
 *     bus-port joins it, QEMU's `info usb` shows both with their ids, and
 *     detach takes them out of QEMU and of the config;
 *   - idle suspend: `vmdesk set idle-suspend=2s` on the running VM; a lease
 *     on the supervisor's control socket keeps it running; once closed the
 *     VM is PAUSED (idle) within seconds; `vmdesk probe` resumes it; `vmdesk
 *     pause`d by hand it stays paused for a probe.
 * The guest clock after an idle pause needs a guest agent: see
 * integration-guest-tools (demo guest). */
#include "storage_harness.h"

#include "qemu/qmp_client.h"
#include "qemu/qmp_cmd.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BOOT_MS 90000
#define VM "dev"

static char *run_path(Harness *h, const char *file)
{
    return g_build_filename(h->root, "run", "vmdesk", VM, file, NULL);
}

/* QEMU's `info usb`, through the VM's QMP socket. */
static char *info_usb(Harness *h)
{
    g_autofree char *path = run_path(h, "qmp.sock");
    g_autoptr(GError) err = NULL;
    g_autoptr(QmpClient) c = qmp_client_connect_unix(path, 5000, &err);
    g_assert_no_error(err);
    g_assert_true(qmp_client_handshake(c, 10000, &err));
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "command-line", "info usb");
    g_autoptr(JsonNode) r = qmp_cmd_execute(c, "human-monitor-command", args, 10000, &err);
    g_assert_no_error(err);
    return g_strdup(json_node_get_string(r));
}

/* A "use" lease on the control socket, as vm/vm_lease.c takes it. */
static int lease(Harness *h, const char *who)
{
    g_autofree char *path = run_path(h, "control.sock");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    g_strlcpy(a.sun_path, path, sizeof(a.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_autofree char *line = g_strdup_printf("use %s\n", who);
    g_assert_cmpint(write(fd, line, strlen(line)), ==, (ssize_t)strlen(line));
    char buf[64] = {0};
    g_assert_cmpint(read(fd, buf, sizeof(buf) - 1), ==, 3);
    g_assert_cmpstr(buf, ==, "ok\n");
    return fd;
}

static JsonObject *show_obj(Harness *h)
{
    return harness_show(h, VM);
}

static void wait_state(Harness *h, const char *state, bool idle, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        g_autoptr(JsonObject) o = show_obj(h);
        if (!strcmp(json_object_get_string_member(o, "state"), state) &&
            json_object_get_boolean_member(o, "idle") == idle)
            return;
        if (g_get_monotonic_time() > deadline)
            g_error("VM not %s%s within %d ms: %s", state, idle ? " (idle)" : "", timeout_ms,
                    json_object_get_string_member(o, "state"));
        g_usleep(200 * 1000);
    }
}

static void write_text(const char *dir, const char *file, const char *text)
{
    g_autofree char *p = g_build_filename(dir, file, NULL);
    g_assert_true(g_file_set_contents(p, text, -1, NULL));
}

static void test_devices(void)
{
    Harness h;
    harness_init(&h);
    harness_create_guest(&h, VM, NULL, NULL);
    gint64 t0 = g_get_monotonic_time();

    /* The folders: one read-write with a symlink out of it, one read-only. */
    g_autofree char *rw = g_build_filename(h.root, "share,rw", NULL);
    g_autofree char *ro = g_build_filename(h.root, "share-ro", NULL);
    g_assert_cmpint(g_mkdir_with_parents(rw, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(ro, 0700), ==, 0);
    write_text(rw, "host.txt", "HOST-TEXT-17\n");
    write_text(ro, "ro.txt", "READ-ONLY-TEXT-23\n");
    write_text(h.root, "secret.txt", "HOST-SECRET-99\n");
    g_autofree char *secret = g_build_filename(h.root, "secret.txt", NULL);
    g_autofree char *link_abs = g_build_filename(rw, "escape-abs", NULL);
    g_autofree char *link_rel = g_build_filename(rw, "escape-rel", NULL);
    g_assert_cmpint(symlink(secret, link_abs), ==, 0);
    g_assert_cmpint(symlink("../secret.txt", link_rel), ==, 0);
    g_free(harness_ok(&h, "share", VM, rw, NULL));
    g_free(harness_ok(&h, "share", VM, ro, "--as", "Y", "--read-only", NULL));
    g_autofree char *shares = harness_ok(&h, "share", VM, "--list", NULL);
    g_assert_nonnull(strstr(shares, "9p tag vmdesk_share,"));
    g_assert_nonnull(strstr(shares, "read-only, 9p tag vmdesk_share_y)"));

    /* USB: a stopped VM takes a device only with --keep. */
    RunResult r = harness_vmdesk(&h, "usb", VM, "attach", "1-2", NULL);
    g_assert_cmpint(r.status, ==, 4);
    g_assert_nonnull(strstr(r.err, "--keep"));
    run_result_clear(&r);
    r = harness_vmdesk(&h, "usb", VM, "attach", "zz:1", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "VENDOR:PRODUCT"));
    run_result_clear(&r);
    g_free(harness_ok(&h, "usb", VM, "attach", "046D:C52B", "--keep", NULL));

    g_free(harness_ok(&h, "start", VM, NULL));
    st_wait_serial(&h, VM, "VMDESK-GUEST-READY", BOOT_MS);
    g_test_message("%5.1f s: booted", (double)(g_get_monotonic_time() - t0) / 1e6);

    /* 9p in the guest. */
    g_autofree char *out = st_guest_shell_output(
        &h, VM,
        "mkdir -p /mnt/s /mnt/r; mount -t 9p -o trans=virtio,version=9p2000.L vmdesk_share /mnt/s "
        "&& mount -t 9p -o trans=virtio,version=9p2000.L vmdesk_share_y /mnt/r && echo M-$((20+1)); "
        "cat /mnt/s/host.txt; echo GUEST-WROTE-5 > /mnt/s/guest.txt && echo W-$((30+1)); "
        "cat /mnt/s/escape-abs /mnt/s/escape-rel; cat /mnt/r/ro.txt; "
        "echo X > /mnt/r/new.txt || echo RO-$((40+1)); rm /mnt/r/ro.txt || echo RM-$((50+1)); "
        "echo DONE-$((60+1))",
        "DONE-61", 60000);
    g_assert_nonnull(strstr(out, "M-21"));
    g_assert_nonnull(strstr(out, "HOST-TEXT-17"));
    g_assert_nonnull(strstr(out, "W-31"));
    g_assert_nonnull(strstr(out, "READ-ONLY-TEXT-23"));
    g_assert_nonnull(strstr(out, "Read-only file system"));
    g_assert_nonnull(strstr(out, "RO-41"));
    g_assert_nonnull(strstr(out, "RM-51"));
    g_assert_null(strstr(out, "HOST-SECRET-99"));
    g_autofree char *back_path = g_build_filename(rw, "guest.txt", NULL);
    g_autofree char *back = NULL;
    g_assert_true(g_file_get_contents(back_path, &back, NULL, NULL));
    g_assert_cmpstr(back, ==, "GUEST-WROTE-5\n");
    g_autofree char *new_ro = g_build_filename(ro, "new.txt", NULL);
    g_autofree char *old_ro = g_build_filename(ro, "ro.txt", NULL);
    g_assert_false(g_file_test(new_ro, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(old_ro, G_FILE_TEST_EXISTS));

    /* USB at the QMP level. */
    g_autofree char *usb0 = info_usb(&h);
    g_assert_nonnull(strstr(usb0, "ID: usb-046d-c52b"));
    g_autofree char *att = harness_ok(&h, "usb", VM, "attach", "1-2", NULL);
    g_assert_nonnull(strstr(att, "waits for the device"));
    g_autofree char *usb1 = info_usb(&h);
    g_assert_nonnull(strstr(usb1, "ID: usb-046d-c52b"));
    g_assert_nonnull(strstr(usb1, "ID: usb-1-2"));
    g_autofree char *shown = harness_ok(&h, "show", VM, NULL);
    g_assert_nonnull(strstr(shown, "usb:          046d:c52b  waiting for the device"));
    g_assert_nonnull(strstr(shown, "usb:          1-2        waiting for the device"));
    g_autofree char *list = harness_ok(&h, "usb", VM, "list", "--json", NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, list, -1, NULL));
    JsonArray *a = json_node_get_array(json_parser_get_root(p));
    g_assert_cmpuint(json_array_get_length(a), ==, 2);
    JsonObject *kept = json_array_get_object_element(a, 0);
    JsonObject *live = json_array_get_object_element(a, 1);
    g_assert_cmpstr(json_object_get_string_member(kept, "device"), ==, "046d:c52b");
    g_assert_true(json_object_get_boolean_member(kept, "keep"));
    g_assert_true(json_object_get_boolean_member(kept, "live"));
    g_assert_false(json_object_get_boolean_member(kept, "attached"));
    g_assert_cmpstr(json_object_get_string_member(live, "device"), ==, "1-2");
    g_assert_false(json_object_get_boolean_member(live, "keep"));
    g_assert_true(json_object_get_boolean_member(live, "live"));
    g_free(harness_ok(&h, "usb", VM, "detach", "1-2", NULL));
    g_free(harness_ok(&h, "usb", VM, "detach", "046d:c52b", NULL));
    g_autofree char *usb2 = info_usb(&h);
    g_assert_null(strstr(usb2, "ID: usb-"));
    g_autoptr(JsonObject) cfg = show_obj(&h);
    JsonObject *config = json_object_get_object_member(cfg, "config");
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(config, "usb")), ==, 0);
    r = harness_vmdesk(&h, "usb", VM, "detach", "1-2", NULL);
    g_assert_cmpint(r.status, ==, 3);
    run_result_clear(&r);

    /* Idle suspend, applied to the running VM; a lease keeps it running. */
    int l = lease(&h, "test");
    g_free(harness_ok(&h, "set", VM, "idle-suspend=2s", NULL));
    g_usleep(4 * G_USEC_PER_SEC);
    wait_state(&h, "RUNNING", false, 0);
    close(l);
    wait_state(&h, "PAUSED", true, 10000);
    g_autofree char *status = harness_ok(&h, "status", VM, NULL);
    g_assert_true(g_str_has_prefix(status, "PAUSED (idle)"));
    g_test_message("%5.1f s: paused when idle", (double)(g_get_monotonic_time() - t0) / 1e6);
    /* A probe uses the VM: it runs again, and the guest answers. */
    r = harness_vmdesk(&h, "probe", VM, "--timeout", "5000", NULL);
    run_result_clear(&r);
    g_autoptr(JsonObject) after = show_obj(&h);
    g_assert_cmpstr(json_object_get_string_member(after, "state"), ==, "RUNNING");
    st_guest_shell(&h, VM, "echo AWAKE-$((70+1))", "AWAKE-71", 20000);
    /* Paused by hand, it stays paused for a user. */
    g_free(harness_ok(&h, "set", VM, "idle-suspend=off", NULL));
    g_free(harness_ok(&h, "pause", VM, NULL));
    r = harness_vmdesk(&h, "probe", VM, "--timeout", "500", NULL);
    run_result_clear(&r);
    wait_state(&h, "PAUSED", false, 0);
    g_free(harness_ok(&h, "resume", VM, NULL));

    g_free(harness_ok(&h, "stop", VM, "--force", NULL));
    g_test_message("%5.1f s: done", (double)(g_get_monotonic_time() - t0) / 1e6);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/devices/share-usb-idle", test_devices);
    return g_test_run();
}
