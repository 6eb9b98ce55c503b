/* integration-probe-vm: the RDP readiness probe through QEMU user networking
 * (hostfwd to the guest's 3389), on real QEMU (TCG) with the busybox test
 * guest, which answers on 3389 with a one-line banner and has no guest
 * agent. What it proves:
 *
 *   - while the guest boots, the forwarded port accepts (slirp) but the
 *     probe never says READY: NO_SERVICE or TIMEOUT, exit status 5;
 *   - once the guest listens, the banner arrives through the forward and
 *     the probe says NOT_RDP, quoting it;
 *   - QEMU's end of the guest-agent channel accepts with no agent in the
 *     guest: "unknown (no guest agent answered within 1000 ms ...)";
 *   - a stopped VM: "nothing listens ... (VM "NAME" is not running)". */
#include "harness.h"
#include "session/rdp/rdp_probe.h"

#include <string.h>

#define BANNER "VMDESK-TEST-GUEST ready"
#define BOOT_MS 120000

static void test_probe_vm(void)
{
    Harness h;
    harness_init(&h);
    harness_create_guest(&h, "probe", NULL, NULL);
    g_autoptr(JsonObject) show = harness_show(&h, "probe");
    unsigned port = (unsigned)json_object_get_int_member(
        json_object_get_object_member(show, "rdp"), "port");

    RunResult r = harness_vmdesk(&h, "probe", "probe", NULL);
    g_assert_cmpint(r.status, ==, 5);
    g_autofree char *stopped = g_strdup_printf(
        "not ready: nothing listens on 127.0.0.1:%u (VM \"probe\" is not running)\n"
        "guest agent: unknown (no guest agent: VM \"probe\" is not running)\n",
        port);
    g_assert_cmpstr(r.out, ==, stopped);
    run_result_clear(&r);

    g_free(harness_ok(&h, "start", "probe", NULL));
    /* Probe as the window does, until the guest's service answers. */
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    gint64 t0 = g_get_monotonic_time(), deadline = t0 + (gint64)BOOT_MS * 1000;
    RdpProbeInfo info = {0};
    RdpProbeResult res = RDP_PROBE_TIMEOUT;
    int probes = 0;
    while (g_get_monotonic_time() < deadline) {
        res = rdp_probe("127.0.0.1", port, RDP_PROBE_DEFAULT_PROTOCOLS, 500, &info, NULL);
        probes++;
        if (!g_hash_table_contains(seen, rdp_probe_result_to_string(res)))
            g_test_message("after %.1f s: %s (%s)",
                           (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC,
                           rdp_probe_result_to_string(res), info.detail);
        g_hash_table_add(seen, (char *)rdp_probe_result_to_string(res));
        if (res != RDP_PROBE_NO_SERVICE && res != RDP_PROBE_TIMEOUT)
            break;
        /* The connection was accepted even with nothing behind it. */
        g_assert_true(info.connected);
        g_usleep(200 * 1000);
    }
    g_test_message("%d probes until the guest answered", probes);
    g_assert_cmpint(res, ==, RDP_PROBE_NOT_RDP);
    g_assert_cmpstr(info.detail, ==, "another service answered: \"" BANNER "\"");
    rdp_probe_info_clear(&info);
    g_hash_table_unref(seen);

    /* The command line: not RDP (exit 1), and the agent's silence. */
    gint64 t1 = g_get_monotonic_time();
    r = harness_vmdesk(&h, "probe", "probe", "--json", NULL);
    double ms = (double)(g_get_monotonic_time() - t1) / 1000.0;
    g_assert_cmpint(r.status, ==, 1);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, r.out, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(o, "result"), ==, "not-rdp");
    g_assert_cmpstr(json_object_get_string_member(o, "vm"), ==, "probe");
    g_assert_true(json_object_get_boolean_member(o, "connected"));
    JsonObject *agent = json_object_get_object_member(o, "guest-agent");
    g_assert_cmpstr(json_object_get_string_member(agent, "rdp-service"), ==, "unknown");
    g_assert_true(g_str_has_prefix(json_object_get_string_member(agent, "detail"),
                                   "no guest agent answered within 1000 ms"));
    /* The agent's 1 s deadline holds: the whole command within 5 s (the
     * rest is vmdesk's start and its probe helper's on a loaded 2-core
     * host: 3.3 s once beside another test). */
    g_assert_cmpfloat(ms, <, 5000);
    run_result_clear(&r);

    r = harness_vmdesk(&h, "probe", "probe", NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_autofree char *want = g_strdup_printf(
        "not RDP: another service answered: \"" BANNER "\" (127.0.0.1:%u)\n", port);
    g_assert_true(g_str_has_prefix(r.out, want));
    g_assert_nonnull(strstr(r.out, "guest agent: unknown (no guest agent answered within"));
    run_result_clear(&r);

    g_free(harness_ok(&h, "stop", "probe", "--force", NULL));
    harness_finish(&h);
}

/* `vmdesk app` on a VM that is off and whose guest never serves RDP (the
 * test guest's port 3389 gives a banner): it starts the VM, waits with its
 * progress window (SDL's dummy video driver here), and gives up after
 * --timeout with exit 5 and what to look at; the VM keeps running. */
static void test_app_never_ready(void)
{
    Harness h;
    harness_init(&h);
    harness_create_guest(&h, "app", NULL, NULL);
    h.env = g_environ_setenv(h.env, "SDL_VIDEODRIVER", "dummy", TRUE);
    gint64 t0 = g_get_monotonic_time();
    RunResult r = harness_vmdesk(&h, "app", "app", "notepad", "--mode", "remoteapp",
                                 "--timeout", "20", NULL);
    double s = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    g_test_message("exit %d after %.1f s: %s%s", r.status, s, r.out, r.err);
    g_assert_cmpint(r.status, ==, 5);
    g_assert_nonnull(strstr(r.out, "Starting VM \"app\""));
    g_assert_nonnull(strstr(r.out, "app: waiting for the guest"));
    g_assert_nonnull(strstr(r.out, "app: VM RUNNING, RDP answering oddly"));
    g_assert_nonnull(strstr(r.err, "the guest's RDP service did not answer within 20 s"));
    g_assert_nonnull(strstr(r.err, "vmdesk probe app"));
    g_assert_cmpfloat(s, >=, 19);
    g_assert_cmpfloat(s, <, 60);
    run_result_clear(&r);
    g_autoptr(JsonObject) show = harness_show(&h, "app");
    g_assert_cmpstr(json_object_get_string_member(show, "state"), ==, "RUNNING");
    g_free(harness_ok(&h, "stop", "app", "--force", NULL));
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/probe-vm/boot-to-banner", test_probe_vm);
    g_test_add_func("/probe-vm/app-never-ready", test_app_never_ready);
    return g_test_run();
}
