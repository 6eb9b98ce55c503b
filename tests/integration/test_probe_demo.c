/* integration-probe-demo: `vmdesk probe NAME` on the demo guest (Debian 12
 * with systemd, xrdp and qemu-guest-agent, built by tools/demo-guest), on
 * real QEMU through user networking. What it proves, on a real guest:
 *
 *   - from boot to desktop the probe never says READY before xrdp answers,
 *     then READY with TLS; the guest agent answers "xrdp is active"
 *     (guest-sync-delimited over the virtio-serial channel, guest-exec of
 *     systemctl); the times of each step are printed;
 *   - xrdp stopped in the guest: slirp still accepts the connection and
 *     closes it, the probe says NO_SERVICE ("no RDP service in the guest
 *     yet", exit 5) and the agent "RDP service not running";
 *   - xrdp started again: READY again. */
#include "harness.h"
#include "harness_demo.h"

#include <string.h>

#define BOOT_MS 300000

/* `vmdesk probe NAME --json`, parsed; *@status is its exit status. */
static JsonObject *probe_json(Harness *h, const char *name, int *status)
{
    RunResult r = harness_vmdesk(h, "probe", name, "--json", "--timeout", "1500", NULL);
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
        JsonObject *o = probe_json(h, "pdemo", &status);
        const char *res = json_object_get_string_member(o, "result");
        g_autofree char *now = g_strdup_printf("%s / agent %s", res, agent_state(o));
        if (g_strcmp0(now, last)) {
            g_test_message("%6.1f s: probe %s (%s); agent: %s",
                           (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, res,
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

/* `vmdesk probe pdemo` until it exits with @status and prints @start ...
 * @part, within 30 s. A guest under TCG on a busy host answers slowly right
 * after xrdp (re)starts, and the agent's 1 s may run out now and then:
 * another try is what the window's probe loop does too. */
static void probe_text_until(Harness *h, int status, const char *start, const char *part)
{
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    for (;;) {
        RunResult r = harness_vmdesk(h, "probe", "pdemo", NULL);
        bool ok = r.status == status && g_str_has_prefix(r.out, start) && strstr(r.out, part);
        if (ok || g_get_monotonic_time() >= deadline) {
            if (!ok)
                g_error("vmdesk probe pdemo: %d, \"%s\"; wanted %d, \"%s...%s\"", r.status,
                        r.out, status, start, part);
            run_result_clear(&r);
            return;
        }
        run_result_clear(&r);
        g_usleep(500 * 1000);
    }
}

/* systemctl VERB xrdp in the guest, through the agent. */
static void guest_xrdp(Harness *h, const char *verb)
{
    g_autofree char *sock = demo_guest_agent_socket(h, "pdemo");
    const char *argv[] = {"systemctl", verb, "xrdp", NULL};
    g_free(demo_guest_run(sock, argv, 30000));
}

static void test_probe_demo(void)
{
    Harness h;
    harness_init(&h);
    DemoGuest g;
    demo_guest_load(&g);
    g_free(harness_ok(&h, "create", "pdemo", "--os", "linux", "--memory", "1G", "--cpus", "2",
                      "--kernel", g.kernel, "--initrd", g.initrd, "--append", g.append,
                      "--import-disk", g.disk, NULL));

    gint64 t0 = g_get_monotonic_time();
    g_free(harness_ok(&h, "start", "pdemo", NULL));
    g_autoptr(JsonObject) ready = probe_until(&h, "ready", "running", BOOT_MS, t0);
    g_assert_cmpstr(json_object_get_string_member(ready, "protocol"), ==, "tls");
    g_assert_cmpstr(json_object_get_string_member(
                        json_object_get_object_member(ready, "guest-agent"), "service"),
                    ==, "xrdp");
    g_test_message("probe answer time on the guest's xrdp through slirp: %.2f ms",
                   json_object_get_double_member(ready, "elapsed-ms"));

    /* The text form. */
    probe_text_until(&h, 0, "ready: TLS (127.0.0.1:",
                     "\nguest agent: RDP service running (xrdp is active)\n");

    /* xrdp stopped: slirp accepts and closes; nothing answers. */
    guest_xrdp(&h, "stop");
    g_autoptr(JsonObject) gone = probe_until(&h, "no-service", "stopped", 30000, t0);
    g_assert_true(json_object_get_boolean_member(gone, "connected"));
    probe_text_until(&h, 5, "not ready: nothing answers on 127.0.0.1:",
                     "(no RDP service in the guest yet)\nguest agent: RDP service not running "
                     "(none of xrdp, gnome-remote-desktop is active)\n");

    guest_xrdp(&h, "start");
    g_autoptr(JsonObject) back = probe_until(&h, "ready", "running", 60000, t0);
    g_assert_true(json_object_get_boolean_member(back, "connected"));

    g_free(harness_ok(&h, "stop", "pdemo", "--force", NULL));
    demo_guest_clear(&g);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/probe-demo/boot-stop-start", test_probe_demo);
    return g_test_run();
}
