/* vmdesk on libvirt's domains (issue 16): a private libvirtd (root, no
 * systemd; its own control socket in a temporary folder) runs the test guest
 * as a domain defined from XML (direct kernel boot, TCG, user networking).
 * vmdesk list/start/pause/resume/status/stop --connect URI must really
 * change it, as `virsh domstate` sees it; a name vmdesk and libvirt both
 * have is never guessed; bad input gets clear errors and exit codes.
 * `vmdesk view` shows the domain through libvirt (no VNC port or socket:
 * virDomainOpenGraphicsFD): its picture equals libvirt's screenshot, its
 * title follows libvirt's state events, it closes when the domain stops.
 * Through an sshd on 127.0.0.1 (its own keys and config in the test's
 * folder): list and status over qemu+ssh://, an unreachable host and a
 * refused key each a clear error; on the booted domain, view through ssh -W
 * (libvirt's picture), the switch to RDP (the guest's port 3389, forwarded
 * by user networking, relayed in the guest to vmdesk-test-rdp-server,
 * reached through ssh -W on a socket pair: vmdesk listens on no TCP port;
 * on this host straight to the forward), probe (repeated probes ride one
 * shared SSH login: sshd accepts one login for them),
 * `app` as RemoteApp against that server, and `apps install` entries that
 * carry the URI. The demo guest (Debian with qemu-guest-agent) as a domain
 * of its own: `apps list` through its agent by way of libvirt, on this host
 * and over qemu+ssh://, prints what it prints for vmdesk's VMs, and `apps
 * install` with no program installs every one listed; a domain without an
 * agent channel, one whose agent is not running, a paused one and one whose
 * agent stopped answering each get their clear error and exit status.
 * An aborted or killed run undefines the domains and stops
 * the daemons (harness_libvirt.c's reaper; harness.c's kills sshd).
 * Starts virtlogd (if none runs) and libvirtd, and stops them again. */
#include "harness.h"
#include "harness_demo.h"
#include "harness_libvirt.h"
#include "harness_vnc.h"
#include "harness_x.h"
#include "storage_harness.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DOMAIN "vmdesk-it-libvirt"
/* Defined beside it, without graphics: nothing to view; a guest agent
 * channel, but no agent in the guest. */
#define HEADLESS "vmdesk-it-headless"
/* The demo guest, its guest agent on libvirt's channel. */
#define DEMO "vmdesk-it-demo"

static char *domstate(Libvirt *lv)
{
    const char *argv[] = {"virsh", "-c", lv->uri, "domstate", DOMAIN, NULL};
    char *s = run_ok(argv);
    return g_strstrip(s);
}

static void define_domain(Libvirt *lv, const char *name, bool graphics)
{
    undefine_stale(lv, name);
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
        "  <name>%s</name>\n"
        "  <memory unit='MiB'>256</memory>\n"
        "  <vcpu>1</vcpu>\n"
        "  <os><type arch='x86_64' machine='pc'>hvm</type>\n"
        "    <kernel>%s/vmlinuz</kernel><initrd>%s/initrd.img</initrd>\n"
        "    <cmdline>console=ttyS0 quiet</cmdline></os>\n"
        "  <features><acpi/></features>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <devices>\n"
        /* The shell on a socket the test types into, logged to a file. */
        "    <serial type='unix'><source mode='bind' path='%s/console.sock'/>"
        "<log file='%s/console.log'/><target port='0'/></serial>\n"
        "%s%s"
        "  </devices>\n"
        /* User networking with the guest's RDP port forwarded to 127.0.0.1
         * (libvirt 9 ignores <portForward> there): vmdesk finds it here. */
        "  <qemu:commandline>\n"
        "    <qemu:arg value='-netdev'/>"
        "<qemu:arg value='user,id=vdnet,hostfwd=tcp:127.0.0.1:%u-:3389'/>\n"
        "    <qemu:arg value='-device'/><qemu:arg value='virtio-net-pci,netdev=vdnet,bus=pci.0,addr=0x10'/>\n"
        "  </qemu:commandline>\n"
        "</domain>\n",
        name, lv->dir, lv->dir, lv->dir, lv->dir,
        /* VNC on 127.0.0.1 (virt-manager's default), reached here through
         * libvirt's file descriptor and over SSH through ssh -W. */
        graphics ? "    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>\n"
                   "    <video><model type='vga'/></video>\n"
                 : "",
        graphics ? "" : "    <channel type='unix'><target type='virtio' "
                        "name='org.qemu.guest_agent.0'/></channel>\n",
        free_tcp_port());
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    g_autofree char *path = g_build_filename(lv->sock_dir, file, NULL);
    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
    const char *argv[] = {"virsh", "-c", lv->uri, "define", path, NULL};
    g_free(run_ok(argv));
}

static void wait_guest_ready(Libvirt *lv)
{
    g_autofree char *log = g_build_filename(lv->dir, "console.log", NULL);
    for (int i = 0; i < 1800; i++) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(log, &text, NULL, NULL) && strstr(text, "VMDESK-GUEST-READY"))
            return;
        g_usleep(100000);
    }
    g_error("the guest did not print VMDESK-GUEST-READY in 180 s");
}

static RunResult vmdesk_env(Harness *h, const char *var, const char *value,
                            const char *const *args)
{
    char **saved = g_strdupv(h->env);
    h->env = g_environ_setenv(h->env, var, value, TRUE);
    RunResult r = harness_vmdesk_argv(h, args);
    g_strfreev(h->env);
    h->env = saved;
    return r;
}

/* The picture in window @win equals libvirt's screenshot of the domain
 * (virsh screenshot: QEMU's screendump through libvirt), centred in the
 * window at scale 1; one 8x16 character cell may differ (the console's
 * cursor blinks), and both are taken again a few times for that. */
static void assert_view_matches(Libvirt *lv, Harness *h, const char *display, const char *win)
{
    g_autofree char *ppm = g_build_filename(h->root, "libvirt-shot", NULL);
    g_autofree char *grab = g_build_filename(h->root, "view.png", NULL);
    int n = -1, bw = 0, bh = 0;
    for (int attempt = 0; attempt < 10; attempt++) {
        const char *shot[] = {"virsh", "-c", lv->uri, "screenshot", DOMAIN, ppm, NULL};
        g_free(run_ok(shot));
        const char *imp[] = {"import", "-silent", "-window", win, grab, NULL};
        g_free(x_run(display, imp));
        Image want = {0}, got = {0};
        /* libvirt 9 asks QEMU for PNG when it can, else PPM. */
        load_screenshot(ppm, &want);
        load_screenshot(grab, &got);
        g_assert_cmpint(got.w, >=, want.w);
        g_assert_cmpint(got.h, >=, want.h);
        int ox = (got.w - want.w) / 2, oy = (got.h - want.h) / 2;
        uint32_t *part = g_new(uint32_t, (gsize)want.w * want.h);
        for (int y = 0; y < want.h; y++)
            memcpy(part + (size_t)y * want.w, got.px + (size_t)(y + oy) * got.w + ox,
                   (size_t)want.w * 4);
        n = vnc_image_diff(&want, part, &bw, &bh);
        g_test_message("view vs libvirt's screenshot (%dx%d): %d pixels differ in %dx%d",
                       want.w, want.h, n, bw, bh);
        g_free(part);
        image_clear(&want);
        image_clear(&got);
        if (bw <= 8 && bh <= 16)
            return;
        g_usleep(500 * 1000);
    }
    g_error("vmdesk view's picture is not libvirt's: %d pixels differ in %dx%d", n, bw, bh);
}

static int wait_exit(GPid pid, int timeout_s)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    int status = 0, r;
    while ((r = waitpid(pid, &status, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
        g_usleep(100 * 1000);
    if (r != pid)
        g_error("process %d did not end within %d s", (int)pid, timeout_s);
    return status;
}

/* vmdesk view on the running domain: picture, events, closing on stop. */
static void view_checks(Harness *h, Libvirt *lv)
{
    Xvfb x;
    xvfb_start(&x);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h->env), "DISPLAY", x.display, TRUE);
    g_autofree char *view_log = g_build_filename(h->root, "view.log", NULL);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "view", DOMAIN, "--connect", lv->uri,
                          "--scale", "1", NULL};
    GPid view = harness_spawn(argv, env, view_log);
    g_autofree char *win = wait_window(x.display, DOMAIN, "RUNNING — VNC", 60000);
    if (!win) {
        g_autofree char *text = NULL;
        g_file_get_contents(view_log, &text, NULL, NULL);
        g_error("no window \"%s ... RUNNING — VNC\"; view's output:\n%s", DOMAIN,
                text ? text : "");
    }
    assert_view_matches(lv, h, x.display, win);

    /* State events: `status --wait` returns on libvirt's event, and the
     * window's title (which only events update) follows. */
    g_autofree char *wait_log = g_build_filename(h->root, "wait.log", NULL);
    const char *wait_argv[] = {g_getenv("VMDESK_BIN"), "status", DOMAIN, "--connect", lv->uri,
                               "--wait", "paused", "--timeout", "60", NULL};
    GPid waiter = harness_spawn(wait_argv, h->env, wait_log);
    g_usleep(1000 * 1000);
    const char *suspend[] = {"virsh", "-c", lv->uri, "suspend", DOMAIN, NULL};
    g_free(run_ok(suspend));
    int ws = wait_exit(waiter, 30);
    g_autofree char *wait_out = NULL;
    g_file_get_contents(wait_log, &wait_out, NULL, NULL);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || !strstr(wait_out, "PAUSED"))
        g_error("status --wait paused: wait status 0x%x, output: %s", ws, wait_out);
    g_autofree char *paused = wait_window(x.display, DOMAIN, "PAUSED", 10000);
    g_assert_nonnull(paused);
    const char *resume[] = {"virsh", "-c", lv->uri, "resume", DOMAIN, NULL};
    g_free(run_ok(resume));
    g_autofree char *running = wait_window(x.display, DOMAIN, "RUNNING", 10000);
    g_assert_nonnull(running);

    /* The domain shuts down: the window closes by itself, without error. */
    g_autofree char *stop = harness_ok(h, "stop", DOMAIN, "--connect", lv->uri, "--timeout",
                                       "60", NULL);
    g_assert_null(strstr(stop, "forced"));
    int vs = wait_exit(view, 20);
    if (!WIFEXITED(vs) || WEXITSTATUS(vs) != 0) {
        g_autofree char *text = NULL;
        g_file_get_contents(view_log, &text, NULL, NULL);
        g_error("view ended with wait status 0x%x; its output:\n%s", vs, text ? text : "");
    }
    xvfb_stop(&x);
}

typedef struct {
    char *dir;
    char *key, *other_key; /* the accepted client key, and one sshd refuses */
    unsigned port;
    int pid;
} Sshd;

static void keygen(const char *path)
{
    const char *argv[] = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path, NULL};
    g_free(run_ok(argv));
}

/* sshd on 127.0.0.1 only, public keys only, for root (libvirtd's user). */
static void sshd_start(Sshd *sd, Harness *h)
{
    sd->dir = g_build_filename(h->root, "ssh", NULL);
    g_assert_cmpint(g_mkdir_with_parents(sd->dir, 0700), ==, 0);
    g_autofree char *host = g_build_filename(sd->dir, "host", NULL);
    sd->key = g_build_filename(sd->dir, "id", NULL);
    sd->other_key = g_build_filename(sd->dir, "other", NULL);
    keygen(host);
    keygen(sd->key);
    keygen(sd->other_key);
    g_autofree char *pub_path = g_strdup_printf("%s.pub", sd->key);
    g_autofree char *pub = NULL;
    g_assert_true(g_file_get_contents(pub_path, &pub, NULL, NULL));
    g_autofree char *auth = g_build_filename(sd->dir, "authorized_keys", NULL);
    g_assert_true(g_file_set_contents(auth, pub, -1, NULL));
    g_autofree char *pidf = g_build_filename(sd->dir, "sshd.pid", NULL);
    sd->port = free_tcp_port();
    g_autofree char *conf = g_build_filename(sd->dir, "sshd_config", NULL);
    g_autofree char *conf_text = g_strdup_printf(
        "ListenAddress 127.0.0.1\nPort %u\nHostKey %s\nAuthorizedKeysFile %s\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile %s\n",
        sd->port, host, auth, pidf);
    g_assert_true(g_file_set_contents(conf, conf_text, -1, NULL));
    /* Its privilege separation folder, as the package's service makes it. */
    g_mkdir_with_parents("/run/sshd", 0755);
    g_autofree char *log = g_build_filename(sd->dir, "sshd.log", NULL);
    const char *argv[] = {"/usr/sbin/sshd", "-f", conf, "-E", log, NULL};
    g_free(run_ok(argv));
    sd->pid = read_pid(pidf, 10000);
}

static void sshd_stop(Sshd *sd)
{
    stop_daemon(sd->pid);
    g_free(sd->dir);
    g_free(sd->key);
    g_free(sd->other_key);
}

/* libvirtd's socket through the sshd (nc on the far side). */
static char *ssh_uri(Libvirt *lv, Sshd *sd, unsigned port, const char *key)
{
    g_autofree char *sock = g_build_filename(lv->sock_dir, "libvirt-sock", NULL);
    return g_strdup_printf("qemu+ssh://root@127.0.0.1:%u/system?socket=%s&keyfile=%s&no_verify=1",
                           port ? port : sd->port, sock, key);
}

static void check_fails(RunResult r, int status, const char *message);

static void dump(const char *what, const char *path)
{
    g_autofree char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    g_printerr("--- %s:\n%s\n", what, text ? text : "(none)");
}

static void end_process(GPid pid)
{
    kill(pid, SIGTERM);
    wait_exit(pid, 20);
}

/* The TCP ports process @pid listens on (its sockets that /proc/net/tcp
 * and tcp6 list in state LISTEN), as "ADDR:PORT" hex words; "" for none. */
static char *listening(GPid pid)
{
    g_autoptr(GHashTable) inodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *fd_dir = g_strdup_printf("/proc/%d/fd", pid);
    g_autoptr(GDir) d = g_dir_open(fd_dir, 0, NULL);
    g_assert_nonnull(d);
    for (const char *n; (n = g_dir_read_name(d));) {
        g_autofree char *link = g_build_filename(fd_dir, n, NULL);
        g_autofree char *to = g_file_read_link(link, NULL);
        if (to && g_str_has_prefix(to, "socket:["))
            g_hash_table_add(inodes, g_strndup(to + 8, strlen(to) - 9));
    }
    GString *found = g_string_new("");
    const char *tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (int t = 0; t < 2; t++) {
        g_autofree char *text = NULL;
        if (!g_file_get_contents(tables[t], &text, NULL, NULL))
            continue;
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines + 1; *l; l++) {
            g_auto(GStrv) f = g_strsplit_set(g_strstrip(*l), " ", -1);
            GPtrArray *w = g_ptr_array_new();
            for (char **x = f; *x; x++)
                if (**x)
                    g_ptr_array_add(w, *x);
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (w->len > 9 && !strcmp(w->pdata[3], "0A") &&
                g_hash_table_contains(inodes, w->pdata[9]))
                g_string_append_printf(found, "%s ", (char *)w->pdata[1]);
            g_ptr_array_free(w, TRUE);
        }
    }
    return g_string_free(found, FALSE);
}

/* sshd's accepted logins so far. */
static int ssh_logins(const char *sshd_log)
{
    g_autofree char *text = NULL;
    g_file_get_contents(sshd_log, &text, NULL, NULL);
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, "Accepted publickey")); p++)
        n++;
    return n;
}

/* Over qemu+ssh://@uri, on the booted domain: view shows libvirt's picture
 * through ssh -W to its VNC listener, switches to RDP once the guest's RDP
 * port answers (relayed inside the guest to vmdesk-test-rdp-server, reached
 * through an SSH relay of vmdesk's on 127.0.0.1); app opens a RemoteApp
 * window against that server; apps install writes entries that carry the
 * URI. Leaves the domain shut off. */
static void remote_checks(Harness *h, Libvirt *lv, const char *uri, const char *sshd_log)
{
    gint64 start = g_get_monotonic_time();
    unsigned srv_port = free_tcp_port();
    g_autofree char *srv_log = g_build_filename(h->root, "rdp-server.log", NULL);
    g_autofree char *port_arg = g_strdup_printf("%u", srv_port);
    const char *srv_argv[] = {g_getenv("VMDESK_TEST_RDP_SERVER"), "--port", port_arg, "--rail",
                              NULL};
    g_assert_nonnull(srv_argv[0]);
    GPid server = harness_spawn(srv_argv, h->env, srv_log);
    g_free(harness_ok(h, "start", DOMAIN, "--connect", uri, NULL));
    wait_guest_ready(lv);
    /* The guest's port 3389 (busybox nc -e vmdesk-banner) relays to the
     * server on the host, through user networking's 10.0.2.2. */
    g_autofree char *sock = g_build_filename(lv->dir, "console.sock", NULL);
    g_autofree char *relay = g_strdup_printf(
        "printf '#!/bin/sh\\nexec nc 10.0.2.2 %u\\n' >/bin/vmdesk-banner; echo RELAY-$((40+2))",
        srv_port);
    g_free(st_serial_shell(sock, relay, "RELAY-42", 60000));

    Xvfb x;
    xvfb_start(&x);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h->env), "DISPLAY", x.display, TRUE);
    env = g_environ_setenv(env, "VMDESK_DEBUG", "1", TRUE);
    /* VNC through ssh -W: the picture is libvirt's. */
    g_autofree char *vnc_log = g_build_filename(h->root, "view-ssh-vnc.log", NULL);
    const char *vnc_argv[] = {g_getenv("VMDESK_BIN"), "view", DOMAIN, "--connect", uri,
                              "--protocol", "vnc", "--scale", "1", NULL};
    gint64 t0 = g_get_monotonic_time();
    GPid view = harness_spawn(vnc_argv, env, vnc_log);
    g_autofree char *win = wait_window(x.display, DOMAIN, "RUNNING — VNC", 60000);
    if (!win)
        dump("view over SSH (VNC)", vnc_log);
    g_assert_nonnull(win);
    g_test_message("view over SSH: VNC window after %" G_GINT64_FORMAT " ms",
                   (g_get_monotonic_time() - t0) / 1000);
    assert_view_matches(lv, h, x.display, win);
    end_process(view);

    /* auto: VNC, then RDP once the relayed port answers. */
    g_autofree char *rdp_log = g_build_filename(h->root, "view-ssh-rdp.log", NULL);
    const char *rdp_argv[] = {g_getenv("VMDESK_BIN"), "view", DOMAIN, "--connect", uri, NULL};
    t0 = g_get_monotonic_time();
    view = harness_spawn(rdp_argv, env, rdp_log);
    g_autofree char *rwin = wait_window(x.display, DOMAIN, "RUNNING — RDP", 60000);
    if (!rwin) {
        dump("view over SSH (auto)", rdp_log);
        dump("the RDP server", srv_log);
    }
    g_assert_nonnull(rwin);
    g_test_message("view over SSH: RDP window after %" G_GINT64_FORMAT " ms",
                   (g_get_monotonic_time() - t0) / 1000);
    g_autofree char *view_text = NULL;
    g_file_get_contents(rdp_log, &view_text, NULL, NULL);
    g_assert_nonnull(strstr(view_text, "(hostfwd), through ssh -W"));
    /* ssh -W's socket is FreeRDP's: no relay any local user could reach. */
    g_autofree char *ports = listening(view);
    if (*ports)
        g_error("vmdesk view listens on TCP %s while it shows a remote domain over RDP", ports);
    end_process(view);
    /* On this host, RDP goes straight to the forwarded port. */
    g_autofree char *local_log = g_build_filename(h->root, "view-local-rdp.log", NULL);
    const char *local_argv[] = {g_getenv("VMDESK_BIN"), "view", DOMAIN, "--connect", lv->uri,
                                NULL};
    view = harness_spawn(local_argv, env, local_log);
    g_autofree char *lwin = wait_window(x.display, DOMAIN, "RUNNING — RDP", 60000);
    if (!lwin)
        dump("view on this host (auto)", local_log);
    g_assert_nonnull(lwin);
    g_autofree char *local_text = NULL;
    g_file_get_contents(local_log, &local_text, NULL, NULL);
    g_assert_nonnull(strstr(local_text, "(hostfwd)"));
    g_assert_null(strstr(local_text, "ssh -W"));
    end_process(view);
    /* Each probe is one libvirt connection (libvirt's own ssh) and one
     * tunnel; the tunnels share one login (ControlMaster). */
    int logins = ssh_logins(sshd_log);
    t0 = g_get_monotonic_time();
    for (int i = 0; i < 3; i++) {
        g_autofree char *probe = harness_ok(h, "probe", DOMAIN, "--connect", uri, NULL);
        g_assert_true(g_str_has_prefix(probe, "ready: "));
    }
    g_test_message("3 probes over SSH: %" G_GINT64_FORMAT " ms",
                   (g_get_monotonic_time() - t0) / 1000);
    g_usleep(500 * 1000); /* sshd writes its log line after the login */
    int probe_logins = ssh_logins(sshd_log) - logins;
    if (probe_logins > 3 + 1)
        g_error("3 probes made %d SSH logins: the tunnels do not share one", probe_logins);

    /* RemoteApp over the same path. */
    g_autofree char *app_log = g_build_filename(h->root, "app-ssh.log", NULL);
    const char *app_argv[] = {g_getenv("VMDESK_BIN"), "app", DOMAIN, "notepad", "--connect",
                              uri, "--linger", "1", NULL};
    GPid app = harness_spawn(app_argv, env, app_log);
    g_autofree char *awin = wait_window(x.display, "notepad - vmdesk test", NULL, 60000);
    if (!awin) {
        dump("app over SSH", app_log);
        dump("the RDP server", srv_log);
    }
    g_assert_nonnull(awin);
    end_process(app);
    xvfb_stop(&x);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);

    /* No agent channel: a clear error at once, and named programs are still
     * installed as named. */
    check_fails(harness_vmdesk(h, "apps", "list", DOMAIN, "--connect", uri, NULL), 3,
                "has no guest agent channel");
    /* Menu entries that reach the domain later. */
    g_autofree char *inst =
        harness_ok(h, "apps", "install", DOMAIN, "C:\\Windows\\notepad.exe", "--connect", uri,
                   NULL);
    /* "Installed NAME (PROGRAM on URI): PATH"; the file's name has a hash
     * of the URI, so vmdesk's own VM of the same name keeps its own. */
    const char *colon = strstr(inst, "): ");
    g_assert_nonnull(colon);
    g_autofree char *entry = g_strstrip(g_strdup(colon + 3));
    g_autofree char *apps_dir = g_build_filename(h->root, "data", "applications", NULL);
    g_assert_true(g_str_has_prefix(entry, apps_dir));
    g_assert_true(g_str_has_prefix(entry + strlen(apps_dir), "/vmdesk-" DOMAIN "-"));
    g_assert_true(g_str_has_suffix(entry, "-notepad.exe.desktop"));
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, entry, G_KEY_FILE_NONE, NULL))
        g_error("no entry %s; apps install said:\n%s", entry, inst);
    g_autofree char *exec = g_key_file_get_string(kf, "Desktop Entry", "Exec", NULL);
    g_autofree char *want = g_strdup_printf("--connect \"%s\"", uri);
    if (!strstr(exec, want) || !strstr(exec, "notepad.exe"))
        g_error("Exec does not carry the URI: %s", exec);
    /* Found again by its X-Vmdesk-Connect, without reaching the domain. */
    g_free(harness_ok(h, "apps", "remove", DOMAIN, "--connect", uri, NULL));
    g_assert_false(g_file_test(entry, G_FILE_TEST_EXISTS));
    g_free(harness_ok(h, "stop", DOMAIN, "--connect", uri, "--force", NULL));
    g_test_message("remote and RDP checks: %" G_GINT64_FORMAT " s",
                   (g_get_monotonic_time() - start) / G_USEC_PER_SEC);
}

/* The demo guest as a domain: a copy of its disk in libvirt-qemu's folder,
 * direct kernel boot, the guest agent's channel (its socket libvirt's), the
 * console in a file. */
static void define_demo(Libvirt *lv)
{
    undefine_stale(lv, DEMO);
    DemoGuest g = {0};
    demo_guest_load(&g);
    g_autofree char *disk = g_build_filename(lv->dir, "demo.qcow2", NULL);
    const char *cp[] = {"cp", "--reflink=auto", g.disk, disk, NULL};
    g_free(run_ok(cp));
    struct passwd *pw = getpwnam("libvirt-qemu");
    g_assert_nonnull(pw);
    g_assert_cmpint(chown(disk, pw->pw_uid, pw->pw_gid), ==, 0);
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'>\n"
        "  <name>" DEMO "</name>\n"
        "  <memory unit='MiB'>1024</memory>\n"
        "  <vcpu>2</vcpu>\n"
        "  <os><type arch='x86_64' machine='pc'>hvm</type>\n"
        "    <kernel>%s</kernel><initrd>%s</initrd><cmdline>%s</cmdline></os>\n"
        "  <features><acpi/></features>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <devices>\n"
        "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='%s'/><target dev='vda' bus='virtio'/></disk>\n"
        "    <serial type='file'><source path='%s/demo-console.log'/><target port='0'/>"
        "</serial>\n"
        "    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
        "</channel>\n"
        "  </devices>\n"
        "</domain>\n",
        g.kernel, g.initrd, g.append, disk, lv->dir);
    g_autofree char *path = g_build_filename(lv->sock_dir, DEMO ".xml", NULL);
    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
    const char *argv[] = {"virsh", "-c", lv->uri, "define", path, NULL};
    g_free(run_ok(argv));
    demo_guest_clear(&g);
}

/* `apps list --json`'s applications as "ID PROGRAM" lines, and its root. */
static char *json_apps(const char *out, const char *want_uri, guint *n)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, out, -1, NULL))
        g_error("apps list --json printed no JSON:\n%s", out);
    JsonObject *root = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(root, "vm"), ==, DEMO);
    g_assert_cmpstr(json_object_get_string_member(root, "uri"), ==, want_uri);
    JsonArray *apps = json_object_get_array_member(root, "apps");
    GString *s = g_string_new(NULL);
    *n = json_array_get_length(apps);
    for (guint i = 0; i < *n; i++) {
        JsonObject *a = json_array_get_object_element(apps, i);
        g_string_append_printf(s, "%s %s\n", json_object_get_string_member(a, "id"),
                               json_object_get_string_member(a, "program"));
    }
    return g_string_free(s, FALSE);
}

/* apps list and install through the guest agent by way of libvirt, here
 * (@lv's URI) and over SSH (@uri); the errors of domains without an agent
 * that answers. Leaves the demo domain shut off. */
static void agent_checks(Harness *h, Libvirt *lv, const char *uri)
{
    gint64 start = g_get_monotonic_time();
    /* An agent channel with no agent behind it (the busybox guest). */
    g_free(harness_ok(h, "start", HEADLESS, "--connect", lv->uri, NULL));
    check_fails(harness_vmdesk(h, "apps", "list", HEADLESS, "--connect", uri, NULL), 3,
                "no guest agent: none runs in domain");
    g_free(harness_ok(h, "stop", HEADLESS, "--connect", lv->uri, "--force", NULL));
    /* Shut off: named programs are still installed as named. */
    g_autofree char *named =
        harness_ok(h, "apps", "install", HEADLESS, "/usr/bin/xterm", "--connect", uri, NULL);
    g_assert_true(g_str_has_prefix(named, "Installed xterm (/usr/bin/xterm on "));
    g_free(harness_ok(h, "apps", "remove", HEADLESS, "--connect", uri, NULL));
    check_fails(harness_vmdesk(h, "apps", "list", "no-such-domain", "--connect", uri, NULL), 3,
                "no domain \"no-such-domain\"");

    define_demo(lv);
    check_fails(harness_vmdesk(h, "apps", "list", DEMO, "--connect", lv->uri, NULL), 4,
                "or add --start");
    /* Booted by apps list itself, which waits for its agent. */
    gint64 t0 = g_get_monotonic_time();
    g_autofree char *table = harness_ok(h, "apps", "list", DEMO, "--connect", lv->uri,
                                        "--start", "--timeout", "600", NULL);
    g_test_message("apps list --start of the demo domain: %" G_GINT64_FORMAT " s",
                   (g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    if (!g_str_has_prefix(table, "ID ") || !strstr(table, " /usr/bin/xterm"))
        g_error("apps list of the demo domain on this host:\n%s", table);
    t0 = g_get_monotonic_time();
    g_autofree char *local_json =
        harness_ok(h, "apps", "list", DEMO, "--connect", lv->uri, "--json", NULL);
    g_autofree char *ssh_json =
        harness_ok(h, "apps", "list", DEMO, "--connect", uri, "--json", NULL);
    g_test_message("apps list --json, here then over SSH: %" G_GINT64_FORMAT " ms",
                   (g_get_monotonic_time() - t0) / 1000);
    guint n_local = 0, n_ssh = 0;
    g_autofree char *local_apps = json_apps(local_json, lv->uri, &n_local);
    g_autofree char *ssh_apps = json_apps(ssh_json, uri, &n_ssh);
    g_assert_cmpstr(local_apps, ==, ssh_apps);
    g_assert_nonnull(strstr(ssh_json, "\"program\" : \"/usr/bin/xterm\""));
    g_assert_nonnull(strstr(ssh_json, "\"format\" : "));

    /* install without PROGRAM: every application listed, with its icon. */
    g_autofree char *inst = harness_ok(h, "apps", "install", DEMO, "--connect", uri, NULL);
    guint installed = 0;
    for (const char *p = inst; (p = strstr(p, "Installed ")); p++)
        installed++;
    if (installed != n_ssh)
        g_error("apps install over SSH installed %u of %u:\n%s", installed, n_ssh, inst);
    g_autofree char *listed = harness_ok(h, "apps", "list", DEMO, "--connect", uri, NULL);
    g_auto(GStrv) rows = g_strsplit(listed, "\n", -1);
    for (char **r = rows; *r; r++)
        if (strstr(*r, "/usr/bin/xterm") && !strstr(*r, "[installed]"))
            g_error("xterm not marked installed:\n%s", listed);
    g_autofree char *removed = harness_ok(h, "apps", "remove", DEMO, "--connect", uri, NULL);
    g_assert_nonnull(strstr(removed, "Removed "));

    /* Paused: not running. */
    const char *suspend[] = {"virsh", "-c", lv->uri, "suspend", DEMO, NULL};
    g_free(run_ok(suspend));
    check_fails(harness_vmdesk(h, "apps", "list", DEMO, "--connect", uri, NULL), 4,
                "is paused");
    const char *resume[] = {"virsh", "-c", lv->uri, "resume", DEMO, NULL};
    g_free(run_ok(resume));
    /* An agent that stops answering (SIGSTOP, by a program it runs itself):
     * a timeout, exit status 5. */
    const char *freeze[] = {
        "virsh", "-c", lv->uri, "qemu-agent-command", DEMO,
        "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/sh\",\"arg\":[\"-c\","
        "\"sleep 1; kill -STOP $PPID\"]}}",
        NULL};
    g_free(run_ok(freeze));
    g_usleep(3 * G_USEC_PER_SEC);
    check_fails(harness_vmdesk(h, "apps", "list", DEMO, "--connect", uri, NULL), 5,
                "no guest agent answered within");
    g_free(harness_ok(h, "stop", DEMO, "--connect", lv->uri, "--force", NULL));
    g_test_message("guest agent checks: %" G_GINT64_FORMAT " s",
                   (g_get_monotonic_time() - start) / G_USEC_PER_SEC);
}

/* The same libvirtd over qemu+ssh://. */
static void ssh_checks(Harness *h, Libvirt *lv)
{
    Sshd sd = {0};
    sshd_start(&sd, h);
    g_autofree char *uri = ssh_uri(lv, &sd, 0, sd.key);
    g_autofree char *list = harness_ok(h, "list", "--connect", uri, NULL);
    g_autofree char *mark = g_strdup_printf("libvirt %s (shut off)", uri);
    if (!strstr(list, mark))
        g_error("list over SSH does not show \"%s\":\n%s", mark, list);
    g_autofree char *st = harness_ok(h, "status", DOMAIN, "--connect", uri, "--json", NULL);
    g_assert_nonnull(strstr(st, "\"libvirt-state\" : \"shut off\""));
    check_fails(harness_vmdesk(h, "status", "no-such-domain", "--connect", uri, NULL), 3,
                "no domain \"no-such-domain\"");
    /* Nothing to show over SSH either: refused before anything starts. */
    check_fails(harness_vmdesk(h, "view", HEADLESS, "--connect", uri, NULL), 3,
                "has no VNC display");
    /* probe: a domain that is off is not ready yet (exit 5). */
    RunResult off = harness_vmdesk(h, "probe", DOMAIN, "--connect", uri, NULL);
    if (off.status != 5 || !strstr(off.out, "not running"))
        g_error("probe of a stopped domain: %d %s %s", off.status, off.out, off.err);
    run_result_clear(&off);
    g_autofree char *sshd_log = g_build_filename(sd.dir, "sshd.log", NULL);
    remote_checks(h, lv, uri, sshd_log);
    g_autofree char *state = domstate(lv);
    g_assert_cmpstr(state, ==, "shut off");
    agent_checks(h, lv, uri);
    /* Nobody at that port; a key the server does not take. */
    g_autofree char *closed = ssh_uri(lv, &sd, free_tcp_port(), sd.key);
    check_fails(harness_vmdesk(h, "list", "--connect", closed, NULL), 1, "Connection refused");
    g_autofree char *refused = ssh_uri(lv, &sd, 0, sd.other_key);
    check_fails(harness_vmdesk(h, "status", DOMAIN, "--connect", refused, NULL), 1,
                "Permission denied (publickey)");
    sshd_stop(&sd);
}

static void check_fails(RunResult r, int status, const char *message)
{
    if (r.status != status || !strstr(r.err, message))
        g_error("expected status %d and \"%s\", got %d: %s", status, message, r.status, r.err);
    run_result_clear(&r);
}

int main(void)
{
    Harness h;
    harness_init(&h);
    /* libvirt's own default must not leak in from the caller. */
    h.env = g_environ_unsetenv(h.env, "LIBVIRT_DEFAULT_URI");
    h.env = g_environ_unsetenv(h.env, "VMDESK_CONNECT");
    Libvirt lv = {0};
    libvirt_start(&lv, h.guest_dir);
    const char *const domains[] = {DOMAIN, HEADLESS, DEMO, NULL};
    libvirt_reaper_start(&lv, domains, NULL);
    define_domain(&lv, DOMAIN, true);
    define_domain(&lv, HEADLESS, false);
    /* A vmdesk VM of the same name: both are listed, each marked. */
    harness_create_guest(&h, DOMAIN, NULL, NULL);

    g_autofree char *list = harness_ok(&h, "list", "--connect", lv.uri, "--json", NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, list, -1, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(p));
    JsonArray *vms = json_object_get_array_member(root, "vms");
    g_assert_cmpuint(json_array_get_length(vms), ==, 1);
    JsonObject *lvo = json_object_get_object_member(root, "libvirt");
    g_assert_cmpstr(json_object_get_string_member(lvo, "uri"), ==, lv.uri);
    JsonArray *doms = json_object_get_array_member(lvo, "domains");
    /* Sorted by name: the headless one first. */
    g_assert_cmpuint(json_array_get_length(doms), ==, 2);
    JsonObject *d0 = json_array_get_object_element(doms, 1);
    g_assert_cmpstr(json_object_get_string_member(d0, "name"), ==, DOMAIN);
    g_assert_cmpstr(json_object_get_string_member(d0, "state"), ==, "STOPPED");
    g_assert_cmpstr(json_object_get_string_member(d0, "libvirt-state"), ==, "shut off");
    g_autofree char *table = harness_ok(&h, "list", "--connect", lv.uri, NULL);
    g_autofree char *mark = g_strdup_printf("libvirt %s (shut off)", lv.uri);
    g_assert_nonnull(strstr(table, mark));

    /* The same name in both worlds with only a default URI: no guess. */
    const char *st_args[] = {"status", DOMAIN, NULL};
    check_fails(vmdesk_env(&h, "VMDESK_CONNECT", lv.uri, st_args), 2,
                "is both vmdesk's VM and a libvirt domain");
    const char *st_vmdesk[] = {"status", DOMAIN, "--connect", "vmdesk", NULL};
    RunResult r = vmdesk_env(&h, "VMDESK_CONNECT", lv.uri, st_vmdesk);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "STOPPED"));
    g_assert_null(strstr(r.out, "libvirt"));
    run_result_clear(&r);

    g_free(harness_ok(&h, "start", DOMAIN, "--connect", lv.uri, NULL));
    g_autofree char *s1 = domstate(&lv);
    g_assert_cmpstr(s1, ==, "running");
    /* vmdesk's VM of that name was not touched. */
    g_autoptr(JsonObject) own = harness_show(&h, DOMAIN);
    g_assert_cmpstr(json_object_get_string_member(own, "state"), ==, "STOPPED");
    check_fails(harness_vmdesk(&h, "start", DOMAIN, "--connect", lv.uri, NULL), 4,
                "already running");

    g_free(harness_ok(&h, "pause", DOMAIN, "--connect", lv.uri, NULL));
    g_autofree char *s2 = domstate(&lv);
    g_assert_cmpstr(s2, ==, "paused");
    g_autofree char *st = harness_ok(&h, "status", DOMAIN, "--connect", lv.uri, NULL);
    g_assert_true(g_str_has_prefix(st, "PAUSED (libvirt domain on "));
    g_free(harness_ok(&h, "resume", DOMAIN, "--connect", lv.uri, NULL));
    g_autofree char *s3 = domstate(&lv);
    g_assert_cmpstr(s3, ==, "running");

    /* A booted guest in vmdesk's window; it powers off on ACPI's button (a
     * clean stop, not forced), and the window closes. */
    wait_guest_ready(&lv);
    view_checks(&h, &lv);
    g_autofree char *s4 = domstate(&lv);
    g_assert_cmpstr(s4, ==, "shut off");
    check_fails(harness_vmdesk(&h, "stop", DOMAIN, "--connect", lv.uri, NULL), 4,
                "not running");

    /* --force pulls the plug at once. */
    g_free(harness_ok(&h, "start", DOMAIN, "--connect", lv.uri, NULL));
    g_autofree char *forced = harness_ok(&h, "stop", DOMAIN, "--connect", lv.uri, "--force", NULL);
    g_assert_nonnull(strstr(forced, "forced off"));
    g_autofree char *s5 = domstate(&lv);
    g_assert_cmpstr(s5, ==, "shut off");

    /* Bad input: an unknown domain, an unreachable daemon. */
    check_fails(harness_vmdesk(&h, "start", "no-such-domain", "--connect", lv.uri, NULL), 3,
                "no domain \"no-such-domain\"");
    g_autofree char *bad_uri = g_strdup_printf("qemu:///system?socket=%s/none", lv.sock_dir);
    check_fails(harness_vmdesk(&h, "list", "--connect", bad_uri, NULL), 1,
                "cannot connect to libvirt at");
    /* Nothing to show: a clear error, and the domain was not started. */
    check_fails(harness_vmdesk(&h, "view", HEADLESS, "--connect", lv.uri, NULL), 3,
                "has no VNC display");
    const char *hs[] = {"virsh", "-c", lv.uri, "domstate", HEADLESS, NULL};
    g_autofree char *headless_state = g_strstrip(run_ok(hs));
    g_assert_cmpstr(headless_state, ==, "shut off");
    check_fails(harness_vmdesk(&h, "view", "no-such-domain", "--connect", lv.uri, NULL), 3,
                "no domain \"no-such-domain\"");
    ssh_checks(&h, &lv);
    /* A default URI reaches a name only libvirt has. */
    const char *st_default[] = {"status", "no-such-domain", NULL};
    check_fails(vmdesk_env(&h, "LIBVIRT_DEFAULT_URI", lv.uri, st_default), 3, "no domain");

    const char *undef[] = {"virsh", "-c", lv.uri, "undefine", DOMAIN, NULL};
    g_free(run_ok(undef));
    const char *undef2[] = {"virsh", "-c", lv.uri, "undefine", HEADLESS, NULL};
    g_free(run_ok(undef2));
    const char *undef3[] = {"virsh", "-c", lv.uri, "undefine", DEMO, NULL};
    g_free(run_ok(undef3));
    g_free(harness_ok(&h, "delete", DOMAIN, NULL));
    libvirt_stop(&lv);
    harness_finish(&h);
    return 0;
}
