/* integration-guest-tools: the Linux guest tools in a real Debian guest (the
 * demo guest: systemd, xrdp, qemu-guest-agent), booted by vmdesk on QEMU
 * (TCG) from a qcow2 overlay of the demo guest's disk (the original stays
 * as it is). One boot for all of it (the demo guest's boot is the longest
 * part). What it proves:
 *
 *   - `vmdesk probe NAME`: from boot to desktop the probe never says READY
 *     before xrdp answers, then READY with TLS; the guest agent answers
 *     "xrdp is active" (guest-sync-delimited over the virtio-serial channel,
 *     guest-exec of systemctl); the times of each step are printed;
 *   - with xrdp and xorgxrdp purged in the guest (guest-exec dpkg --purge)
 *     slirp still accepts the connection and closes it: the probe says
 *     NO_SERVICE ("no RDP service in the guest yet", exit 5) and the agent
 *     "RDP service not running"; `vmdesk tools status` says the tools are not
 *     installed and the RDP service not running;
 *   - `vmdesk tools NAME install --packages DIR --run` builds the tools ISO
 *     (VMDESK_TOOLS, with xrdp and xorgxrdp .debs from the demo guest's
 *     cache), puts it in the running VM's CD drive (QMP), mounts it in the
 *     guest and runs linux/install.sh through the guest agent; the installer
 *     installs the packages from the CD, not from the network (the guest has
 *     no route to a mirror anyway: QEMU user networking, no DNS name works
 *     for apt without the host's proxy);
 *   - then `vmdesk probe` reports READY again (an X.224 confirm from the new xrdp),
 *     `vmdesk tools status` reports the marker, xrdp running, the agent's
 *     version and the OS, and xrdp is in the group ssl-cert;
 *   - a second run changes nothing (idempotent);
 *   - the VM's shared folder (vmdesk share: a 9p export, tag vmdesk_share) is
 *     mounted by install.sh on /mnt/vmdesk_share: the guest reads a host
 *     file there and writes one back;
 *   - idle suspend (vmdesk set idle-suspend=2s on the running VM) pauses it
 *     as PAUSED (idle); after a pause long enough to put the guest's clock
 *     several seconds behind, `vmdesk probe` resumes it and the guest's clock
 *     (guest-get-time through the agent) is within 2 s of the host's. */
#include "guest/qga_client.h"
#include "harness.h"
#include "harness_demo.h"

#include <string.h>
#include <sys/stat.h>

#define BOOT_MS 300000
#define VM "gtools"

static double since(gint64 t0)
{
    return (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
}

/* `vmdesk probe VM --json`, parsed; *@status is its exit status. */
static JsonObject *probe_json(Harness *h, int *status)
{
    RunResult r = harness_vmdesk(h, "probe", VM, "--json", "--timeout", "1500", NULL);
    *status = r.status;
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, r.out, -1, NULL))
        g_error("vmdesk probe --json printed no JSON: %s%s", r.out, r.err);
    run_result_clear(&r);
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

static const char *agent_state(JsonObject *o)
{
    return json_object_get_string_member(json_object_get_object_member(o, "guest-agent"),
                                         "rdp-service");
}

/* Probe until the probe says @result and the agent @agent, or fail after
 * @timeout_ms; logs each new combination with its time since @t0. */
static JsonObject *probe_until(Harness *h, const char *result, const char *agent,
                               int timeout_ms, gint64 t0)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autofree char *last = NULL;
    while (g_get_monotonic_time() < deadline) {
        int status;
        JsonObject *o = probe_json(h, &status);
        const char *res = json_object_get_string_member(o, "result");
        g_autofree char *now = g_strdup_printf("%s / agent %s", res, agent_state(o));
        if (g_strcmp0(now, last)) {
            g_test_message("%6.1f s: probe %s (%s); agent: %s", since(t0), res,
                           json_object_get_string_member(o, "detail"),
                           json_object_get_string_member(
                               json_object_get_object_member(o, "guest-agent"), "detail"));
            g_free(last);
            last = g_strdup(now);
        }
        /* Whatever the stage, the probe never claims READY wrongly and the
         * exit status matches the result. */
        g_assert_cmpint(status, ==, !strcmp(res, "ready") ? 0
                                    : !strcmp(res, "no-service") || !strcmp(res, "timeout")
                                        ? 5
                                        : 1);
        if (!strcmp(res, result) && !strcmp(agent_state(o), agent))
            return o;
        json_object_unref(o);
        g_usleep(500 * 1000);
    }
    g_error("no \"%s\" with agent \"%s\" within %d ms (last: %s)", result, agent, timeout_ms,
            last);
}

/* `vmdesk probe VM` until it exits with @status and prints @start ...
 * @part, within 30 s. A guest under TCG on a busy host answers slowly right
 * after xrdp (re)starts, and the agent's 1 s may run out now and then:
 * another try is what the window's probe loop does too. */
static void probe_text_until(Harness *h, int status, const char *start, const char *part)
{
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    for (;;) {
        RunResult r = harness_vmdesk(h, "probe", VM, NULL);
        bool ok = r.status == status && g_str_has_prefix(r.out, start) && strstr(r.out, part);
        if (ok || g_get_monotonic_time() >= deadline) {
            if (!ok)
                g_error("vmdesk probe %s: %d, \"%s\"; wanted %d, \"%s...%s\"", VM, r.status,
                        r.out, status, start, part);
            run_result_clear(&r);
            return;
        }
        run_result_clear(&r);
        g_usleep(500 * 1000);
    }
}

/* `vmdesk tools VM status --json`, parsed (caller unrefs). */
static JsonObject *tools_status(Harness *h)
{
    RunResult r = harness_vmdesk(h, "tools", VM, "status", "--json", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    json_parser_load_from_data(p, r.out, -1, &err);
    g_assert_no_error(err);
    run_result_clear(&r);
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

static JsonObject *obj(JsonObject *o, const char *m)
{
    return json_object_get_object_member(o, m);
}

/* Run @argv in the guest through its agent, within 180 s (dpkg --purge on a
 * guest under TCG); returns stdout, asserts exit 0. */
static char *guest_run(Harness *h, const char *const *argv)
{
    g_autofree char *sock = demo_guest_agent_socket(h, VM);
    return demo_guest_run(sock, argv, 180000);
}

/* A folder of links to the demo guest's cached .debs of @names. */
static char *packages_dir(Harness *h, const char *debs, const char *const *names)
{
    char *dir = g_build_filename(h->root, "packages", NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_autoptr(GDir) d = g_dir_open(debs, 0, NULL);
    g_assert_nonnull(d);
    const char *f;
    int found = 0;
    while ((f = g_dir_read_name(d))) {
        for (int i = 0; names[i]; i++) {
            g_autofree char *prefix = g_strdup_printf("%s_", names[i]);
            if (!g_str_has_prefix(f, prefix) || !g_str_has_suffix(f, ".deb"))
                continue;
            g_autofree char *src = g_build_filename(debs, f, NULL);
            g_autofree char *dst = g_build_filename(dir, f, NULL);
            g_assert_cmpint(symlink(src, dst), ==, 0);
            found++;
        }
    }
    g_assert_cmpint(found, ==, (int)g_strv_length((char **)names));
    return dir;
}

/* The guest's clock minus the host's, in seconds (guest-get-time). */
static double clock_offset(Harness *h)
{
    g_autofree char *sock = demo_guest_agent_socket(h, VM);
    g_autoptr(GError) err = NULL;
    g_autoptr(QgaClient) c = qga_client_connect_unix(sock, &err);
    g_assert_no_error(err);
    g_assert_true(qga_client_sync(c, 10000, &err));
    gint64 before = g_get_real_time();
    g_autoptr(JsonNode) t = qga_client_execute(c, "guest-get-time", NULL, 10000, &err);
    gint64 after = g_get_real_time();
    g_assert_no_error(err);
    double guest = (double)json_node_get_int(t) / 1e9;
    return guest - (double)(before + after) / 2 / 1e6;
}

/* Idle suspend on the running VM, a pause long enough to leave the guest's
 * clock behind, a probe that resumes it, the clock corrected. */
static void idle_suspend_clock(Harness *h, gint64 t0)
{
    g_test_message("%6.1f s: clock offset before %.3f s", since(t0), clock_offset(h));
    g_free(harness_ok(h, "set", VM, "idle-suspend=2s", NULL));
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    for (;;) {
        g_autoptr(JsonObject) o = harness_show(h, VM);
        if (json_object_get_boolean_member(o, "idle"))
            break;
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(250 * 1000);
    }
    g_autofree char *st = harness_ok(h, "status", VM, NULL);
    g_assert_true(g_str_has_prefix(st, "PAUSED (idle)"));
    g_test_message("%6.1f s: PAUSED (idle)", since(t0));
    g_usleep(8 * G_USEC_PER_SEC);
    /* The probe uses the VM: the supervisor resumes it and sets its clock. */
    RunResult r = harness_vmdesk(h, "probe", VM, "--timeout", "5000", NULL);
    g_assert_cmpint(r.status, ==, 0);
    run_result_clear(&r);
    g_autoptr(JsonObject) o = harness_show(h, VM);
    g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "RUNNING");
    double off = clock_offset(h);
    g_test_message("%6.1f s: resumed; guest clock offset %.3f s", since(t0), off);
    g_assert_cmpfloat(off, <, 2.0);
    g_assert_cmpfloat(off, >, -2.0);
    g_free(harness_ok(h, "set", VM, "idle-suspend=off", NULL));
}

static void test_linux_install(void)
{
    Harness h;
    harness_init(&h);
    const char *dir = g_getenv("VMDESK_DEMO_GUEST_DIR");
    g_assert_nonnull(dir);
    DemoGuest dg;
    demo_guest_load(&dg);

    /* An overlay: the guest writes there, the demo guest's disk stays intact. */
    g_autofree char *overlay = g_build_filename(h.root, "overlay.qcow2", NULL);
    const char *qemu_img[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-b", dg.disk, "-F",
                              "qcow2", overlay, NULL};
    int wait = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)qemu_img, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               NULL, NULL, &wait, NULL));
    g_assert_cmpint(wait, ==, 0);
    g_free(harness_ok(&h, "create", VM, "--os", "linux", "--memory", "1G", "--cpus", "2",
                      "--disk", "0", "--kernel", dg.kernel, "--initrd", dg.initrd, "--append",
                      dg.append, NULL));
    g_autofree char *disk_set = g_strdup_printf("disk=%s", overlay);
    g_free(harness_ok(&h, "set", VM, disk_set, NULL));
    /* A shared folder: a 9p export in this Linux guest. */
    g_autofree char *share = g_build_filename(h.root, "shared", NULL);
    g_assert_cmpint(g_mkdir_with_parents(share, 0700), ==, 0);
    g_autofree char *host_file = g_build_filename(share, "from-host.txt", NULL);
    g_assert_true(g_file_set_contents(host_file, "HOST-SAYS-42\n", -1, NULL));
    g_free(harness_ok(&h, "share", VM, share, NULL));

    gint64 t0 = g_get_monotonic_time();
    g_free(harness_ok(&h, "start", VM, NULL));
    g_autoptr(JsonObject) ready = probe_until(&h, "ready", "running", BOOT_MS, t0);
    g_assert_cmpstr(json_object_get_string_member(ready, "protocol"), ==, "tls");
    g_assert_cmpstr(json_object_get_string_member(
                        json_object_get_object_member(ready, "guest-agent"), "service"),
                    ==, "xrdp");
    g_test_message("probe answer time on the guest's xrdp through slirp: %.2f ms",
                   json_object_get_double_member(ready, "elapsed-ms"));
    probe_text_until(&h, 0, "ready: TLS (127.0.0.1:",
                     "\nguest agent: RDP service running (xrdp is active)\n");

    /* No RDP server in the guest any more: slirp accepts and closes;
     * nothing answers. */
    const char *purge[] = {"dpkg", "--purge", "xrdp", "xorgxrdp", NULL};
    g_free(guest_run(&h, purge));
    g_test_message("%6.1f s: xrdp and xorgxrdp purged in the guest", since(t0));
    g_autoptr(JsonObject) gone = probe_until(&h, "no-service", "stopped", 60000, t0);
    g_assert_true(json_object_get_boolean_member(gone, "connected"));
    probe_text_until(&h, 5, "not ready: nothing answers on 127.0.0.1:",
                     "(no RDP service in the guest yet)\nguest agent: RDP service not running "
                     "(none of xrdp, gnome-remote-desktop is active)\n");
    g_autoptr(JsonObject) before = tools_status(&h);
    g_assert_true(json_object_get_boolean_member(obj(before, "guest-agent"), "answered"));
    g_assert_false(json_object_get_boolean_member(obj(before, "tools"), "installed"));
    g_assert_cmpstr(json_object_get_string_member(obj(before, "rdp-service"), "state"), ==,
                    "stopped");

    /* The tools, with the .debs the guest lacks. */
    const char *names[] = {"xrdp", "xorgxrdp", NULL};
    g_autofree char *debs = g_build_filename(dir, "debs", NULL);
    g_autofree char *pkgs = packages_dir(&h, debs, names);
    gint64 t1 = g_get_monotonic_time();
    RunResult r = harness_vmdesk(&h, "tools", VM, "install", "--packages", pkgs, "--run", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "in the CD drive now"));
    g_assert_nonnull(strstr(r.out, "installing from the tools media: xorgxrdp_"));
    g_assert_null(strstr(r.out, "falling back"));
    g_assert_nonnull(strstr(r.out, "added the xrdp user to ssl-cert"));
    g_assert_nonnull(strstr(r.out, "mounted the VM's shared folder on /mnt/vmdesk_share"));
    run_result_clear(&r);
    g_test_message("%6.1f s: tools installed in %.1f s", since(t0), since(t1));

    /* The tools CD as the VM sees it. */
    g_autoptr(JsonObject) show = harness_show(&h, VM);
    g_autofree char *iso = g_build_filename(h.root, "data", "vmdesk", "vms", VM, "tools.iso", NULL);
    g_assert_cmpstr(json_object_get_string_member(obj(show, "cdrom"), "medium"), ==, iso);

    g_autoptr(JsonObject) back = probe_until(&h, "ready", "running", 120000, t0);
    g_assert_true(json_object_get_boolean_member(back, "connected"));
    g_autoptr(JsonObject) after = tools_status(&h);
    JsonObject *tools = obj(after, "tools");
    g_assert_true(json_object_get_boolean_member(tools, "installed"));
    g_assert_cmpstr(json_object_get_string_member(tools, "marker"), ==,
                    "vmdesk-tools 1 linux debian");
    g_assert_cmpstr(json_object_get_string_member(obj(after, "rdp-service"), "state"), ==,
                    "running");
    g_assert_cmpstr(json_object_get_string_member(obj(after, "os"), "id"), ==, "debian");
    g_assert_nonnull(json_object_get_string_member(obj(after, "guest-agent"), "version"));
    const char *groups[] = {"id", "-nG", "xrdp", NULL};
    g_autofree char *g = guest_run(&h, groups);
    g_assert_nonnull(strstr(g, "ssl-cert"));

    /* Again: nothing to do. */
    r = harness_vmdesk(&h, "tools", VM, "install", "--run", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "packages already installed"));
    g_assert_null(strstr(r.out, "installing"));
    g_assert_null(strstr(r.out, "started xrdp"));
    run_result_clear(&r);
    json_object_unref(probe_until(&h, "ready", "running", 30000, t0));

    /* The shared folder, mounted by install.sh: read and written by the guest. */
    const char *cat[] = {"cat", "/mnt/vmdesk_share/from-host.txt", NULL};
    g_autofree char *read_back = guest_run(&h, cat);
    g_assert_cmpstr(read_back, ==, "HOST-SAYS-42\n");
    const char *write[] = {"sh", "-c", "echo GUEST-SAYS-43 > /mnt/vmdesk_share/from-guest.txt",
                           NULL};
    g_free(guest_run(&h, write));
    g_autofree char *guest_file = g_build_filename(share, "from-guest.txt", NULL);
    g_autofree char *written = NULL;
    g_assert_true(g_file_get_contents(guest_file, &written, NULL, NULL));
    g_assert_cmpstr(written, ==, "GUEST-SAYS-43\n");

    /* The text form. */
    g_autofree char *st = harness_ok(&h, "tools", VM, "status", NULL);
    g_assert_nonnull(strstr(st, "tools:       installed"));
    g_assert_nonnull(strstr(st, "rdp service: running (xrdp is active)"));

    idle_suspend_clock(&h, t0);

    g_free(harness_ok(&h, "stop", VM, "--force", NULL));
    demo_guest_clear(&dg);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-tools/linux-install", test_linux_install);
    return g_test_run();
}
