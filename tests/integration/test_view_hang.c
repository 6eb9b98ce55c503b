/* A hung RDP server under `vmdesk view` (issue 20): the test guest booted
 * in real QEMU (TCG), its console over QEMU's VNC, and its RDP port
 * relayed inside the guest (busybox nc, through QEMU's user networking) to
 * vmdesk-test-rdp-server on the host. The window switches to RDP; then the
 * server is frozen with SIGSTOP: its connection stays open, and under user
 * networking QEMU's slirp keeps acknowledging at the TCP level, so only an
 * RDP-level answer tells. The window must show the VM over VNC with "RDP not
 * answering since HH:MM:SS" in its title within seconds, and RDP again once
 * the server is woken with SIGCONT. The numbers go to the test's messages. */
#include "harness.h"
#include "harness_x.h"
#include "storage_harness.h"

#include "session/rdp/rdp_probe.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STEP_MS 60000
/* The watch's bound (switch.h: about SWITCH_HANG_MS and two probes) with
 * room for a busy machine. */
#define NOTICE_MS 20000

static void dump(const char *what, const char *path)
{
    g_autofree char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    g_printerr("--- %s:\n%s\n", what, text ? text : "(none)");
}

/* Waits for the window's title to hold @part; returns it (caller frees) and
 * how long that took in *@ms, or NULL. */
static char *wait_title(const char *display, const char *part, int timeout_ms, gint64 *ms)
{
    gint64 t0 = g_get_monotonic_time(), deadline = t0 + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        g_autofree char *title = NULL;
        g_autofree char *id = x_find_window(display, "hang", &title);
        if (id && title && strstr(title, part)) {
            *ms = (g_get_monotonic_time() - t0) / 1000;
            return g_steal_pointer(&title);
        }
        g_usleep(100 * 1000);
    }
    return NULL;
}

static void test_view_hang(void)
{
    Harness h;
    harness_init(&h);
    /* The RDP server on the host. */
    unsigned srv_port = free_tcp_port();
    g_autofree char *srv_log = g_build_filename(h.root, "server.log", NULL);
    g_autofree char *port_arg = g_strdup_printf("%u", srv_port);
    const char *srv_argv[] = {g_getenv("VMDESK_TEST_RDP_SERVER"), "--port", port_arg, NULL};
    g_assert_nonnull(srv_argv[0]);
    GPid server = harness_spawn(srv_argv, h.env, srv_log);
    RdpProbeResult r = RDP_PROBE_NO_SERVICE;
    for (int i = 0; i < 100 && r != RDP_PROBE_READY; i++) {
        g_usleep(100 * 1000);
        r = rdp_probe("127.0.0.1", srv_port, RDP_PROBE_DEFAULT_PROTOCOLS, 1000, NULL, NULL);
    }
    g_assert_cmpint(r, ==, RDP_PROBE_READY);

    /* The guest, its port 3389 relayed to that server. */
    unsigned rdp_port = free_tcp_port();
    g_autofree char *rdp_arg = g_strdup_printf("%u", rdp_port);
    const char *extra[] = {"--rdp-port", rdp_arg, NULL};
    harness_create_guest(&h, "hang", NULL, extra);
    g_autofree char *pw = g_build_filename(h.root, "password", NULL);
    g_assert_true(g_file_set_contents(pw, "x\n", -1, NULL));
    g_free(harness_ok(&h, "credentials", "hang", "--user", "x", "--password-file", pw, NULL));
    g_free(harness_ok(&h, "start", "hang", NULL));
    /* Type only once the shell prompts: what comes before it is lost. */
    g_autofree char *serial =
        g_build_filename(h.root, "data", "vmdesk", "vms", "hang", "logs", "serial.log", NULL);
    gint64 boot_deadline = g_get_monotonic_time() + (gint64)STEP_MS * 1000;
    for (;;) {
        g_autofree char *text = NULL;
        g_file_get_contents(serial, &text, NULL, NULL);
        if (text && strstr(text, "vmdesk-test-guest:~#"))
            break;
        g_assert_cmpint(g_get_monotonic_time(), <, boot_deadline);
        g_usleep(200 * 1000);
    }
    g_autofree char *relay = g_strdup_printf(
        "printf '#!/bin/sh\\nexec nc 10.0.2.2 %u\\n' >/bin/vmdesk-banner; echo RELAY-$((40+2))",
        srv_port);
    st_guest_shell(&h, "hang", relay, "RELAY-42", STEP_MS);

    Xvfb x;
    xvfb_start(&x);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h.env), "DISPLAY", x.display, TRUE);
    env = g_environ_setenv(env, "VMDESK_DEBUG", "1", TRUE);
    g_autofree char *log = g_build_filename(h.root, "view.log", NULL);
    const char *view_argv[] = {g_getenv("VMDESK_BIN"), "view", "hang", NULL};
    GPid view = harness_spawn(view_argv, env, log);
    gint64 ms = 0;
    g_autofree char *t1 = wait_title(x.display, "RUNNING — RDP", STEP_MS, &ms);
    if (!t1) {
        dump("vmdesk view", log);
        dump("the RDP server", srv_log);
        dump("the guest's serial console", serial);
    }
    g_assert_nonnull(t1);
    g_test_message("RDP on screen: %s", t1);
    /* A still desktop is no hang: the window asks it to repaint. */
    g_usleep(8000 * 1000);
    g_autofree char *calm = wait_title(x.display, "RUNNING — RDP", 1000, &ms);
    g_assert_nonnull(calm);

    /* Frozen: VNC within seconds, with the reason. */
    kill(server, SIGSTOP);
    g_autofree char *t2 = wait_title(x.display, "RDP not answering since", NOTICE_MS, &ms);
    if (!t2)
        dump("vmdesk view", log);
    g_assert_nonnull(t2);
    g_test_message("time to notice the hang: %" G_GINT64_FORMAT " ms (%s)", ms, t2);
    gint64 vnc_ms = 0;
    g_autofree char *t3 = wait_title(x.display, "RUNNING — VNC — RDP not answering since",
                                     STEP_MS, &vnc_ms);
    g_assert_nonnull(t3);
    g_test_message("VNC on screen %" G_GINT64_FORMAT " ms later", vnc_ms);

    /* Woken: RDP again, as a new connection. */
    kill(server, SIGCONT);
    g_autofree char *t4 = wait_title(x.display, "RUNNING — RDP", STEP_MS, &ms);
    if (!t4) {
        dump("vmdesk view", log);
        dump("the RDP server", srv_log);
    }
    g_assert_nonnull(t4);
    g_test_message("time to recover: %" G_GINT64_FORMAT " ms (%s)", ms, t4);
    g_assert_null(strstr(t4, "not answering"));

    /* The VM shuts down: the window closes, exit 0. */
    g_free(harness_ok(&h, "stop", "hang", "--timeout", "60", NULL));
    int status = 0, w = 0;
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while ((w = waitpid(view, &status, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
        g_usleep(100 * 1000);
    g_assert_cmpint(w, ==, view);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    xvfb_stop(&x);
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/view/rdp-hang", test_view_hang);
    return g_test_run();
}
