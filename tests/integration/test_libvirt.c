/* vmdesk on libvirt's domains (issue 16): a private libvirtd (root, no
 * systemd; its own control socket in a temporary folder) runs the test guest
 * as a domain defined from XML (direct kernel boot, TCG, user networking).
 * vmdesk list/start/pause/resume/status/stop --connect URI must really
 * change it, as `virsh domstate` sees it; a name vmdesk and libvirt both
 * have is never guessed; bad input gets clear errors and exit codes.
 * Starts virtlogd (if none runs) and libvirtd, and stops them again. */
#include "harness.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DOMAIN "vmdesk-it-libvirt"

typedef struct {
    char *dir;      /* libvirt-qemu's folder: kernel, initrd, console log */
    char *sock_dir; /* libvirtd's private control socket */
    char *uri;
    int libvirtd_pid, virtlogd_pid; /* 0: not ours */
} Libvirt;

static char *run_ok(const char *const *argv)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) e = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, &e);
    if (!ok || !g_spawn_check_wait_status(status, NULL))
        g_error("%s failed: %s %s", argv[0], e ? e->message : "", err ? err : "");
    return g_steal_pointer(&out);
}

static int read_pid(const char *path, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(path, &text, NULL, NULL) && atoi(text) > 0)
            return atoi(text);
        g_usleep(50000);
    }
    g_error("no pid in %s", path);
}

static void stop_daemon(int pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200 && kill(pid, 0) == 0; i++)
        g_usleep(50000);
    if (kill(pid, 0) == 0) {
        kill(pid, SIGKILL);
        g_usleep(200000);
    }
    g_assert_false(kill(pid, 0) == 0);
}

static char *domstate(Libvirt *lv)
{
    const char *argv[] = {"virsh", "-c", lv->uri, "domstate", DOMAIN, NULL};
    char *s = run_ok(argv);
    return g_strstrip(s);
}

static void libvirt_start(Libvirt *lv, const char *guest_dir)
{
    lv->sock_dir = g_dir_make_tmp("vmdesk-lvd-XXXXXX", NULL);
    lv->dir = g_dir_make_tmp("vmdesk-lvq-XXXXXX", NULL);
    g_assert_nonnull(lv->sock_dir);
    g_assert_nonnull(lv->dir);
    /* QEMU runs as libvirt-qemu: the folder of its files is that user's. */
    struct passwd *pw = getpwnam("libvirt-qemu");
    g_assert_nonnull(pw);
    g_assert_cmpint(chown(lv->dir, pw->pw_uid, pw->pw_gid), ==, 0);
    g_assert_cmpint(chmod(lv->dir, 0750), ==, 0);
    const char *files[] = {"vmlinuz", "initrd.img"};
    for (int i = 0; i < 2; i++) {
        g_autofree char *from = g_build_filename(guest_dir, files[i], NULL);
        g_autofree char *to = g_build_filename(lv->dir, files[i], NULL);
        const char *cp[] = {"cp", from, to, NULL};
        g_free(run_ok(cp));
    }
    /* virtlogd: the one the qemu driver talks to, at its fixed socket. */
    if (!g_file_test("/run/libvirt/virtlogd-sock", G_FILE_TEST_EXISTS)) {
        g_autofree char *pidf = g_build_filename(lv->sock_dir, "virtlogd.pid", NULL);
        const char *argv[] = {"virtlogd", "-d", "-p", pidf, NULL};
        g_free(run_ok(argv));
        lv->virtlogd_pid = read_pid(pidf, 10000);
    }
    g_autofree char *conf = g_build_filename(lv->sock_dir, "libvirtd.conf", NULL);
    g_autofree char *conf_text =
        g_strdup_printf("unix_sock_dir = \"%s\"\nauth_unix_rw = \"none\"\n", lv->sock_dir);
    g_assert_true(g_file_set_contents(conf, conf_text, -1, NULL));
    g_autofree char *pidf = g_build_filename(lv->sock_dir, "libvirtd.pid", NULL);
    const char *argv[] = {"libvirtd", "-d", "-f", conf, "-p", pidf, NULL};
    g_free(run_ok(argv));
    lv->libvirtd_pid = read_pid(pidf, 20000);
    g_autofree char *sock = g_build_filename(lv->sock_dir, "libvirt-sock", NULL);
    for (int i = 0; i < 400 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++)
        g_usleep(50000);
    lv->uri = g_strdup_printf("qemu:///system?socket=%s", sock);
}

static void libvirt_stop(Libvirt *lv)
{
    stop_daemon(lv->libvirtd_pid);
    stop_daemon(lv->virtlogd_pid);
    const char *rm1[] = {"rm", "-rf", lv->dir, lv->sock_dir, NULL};
    g_free(run_ok(rm1));
    g_free(lv->dir);
    g_free(lv->sock_dir);
    g_free(lv->uri);
}

static void define_domain(Libvirt *lv)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'>\n"
        "  <name>" DOMAIN "</name>\n"
        "  <memory unit='MiB'>256</memory>\n"
        "  <vcpu>1</vcpu>\n"
        "  <os><type arch='x86_64' machine='pc'>hvm</type>\n"
        "    <kernel>%s/vmlinuz</kernel><initrd>%s/initrd.img</initrd>\n"
        "    <cmdline>console=ttyS0 quiet</cmdline></os>\n"
        "  <features><acpi/></features>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <devices>\n"
        "    <interface type='user'><model type='virtio'/></interface>\n"
        "    <serial type='file'><source path='%s/console.log'/><target port='0'/></serial>\n"
        "  </devices>\n"
        "</domain>\n",
        lv->dir, lv->dir, lv->dir);
    g_autofree char *path = g_build_filename(lv->sock_dir, "domain.xml", NULL);
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
    define_domain(&lv);
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
    g_assert_cmpuint(json_array_get_length(doms), ==, 1);
    JsonObject *d0 = json_array_get_object_element(doms, 0);
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

    /* A booted guest powers off on ACPI's button: a clean stop, not forced. */
    wait_guest_ready(&lv);
    g_autofree char *stop = harness_ok(&h, "stop", DOMAIN, "--connect", lv.uri, "--timeout",
                                       "60", NULL);
    g_assert_null(strstr(stop, "forced"));
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
    /* A default URI reaches a name only libvirt has. */
    const char *st_default[] = {"status", "no-such-domain", NULL};
    check_fails(vmdesk_env(&h, "LIBVIRT_DEFAULT_URI", lv.uri, st_default), 3, "no domain");

    const char *undef[] = {"virsh", "-c", lv.uri, "undefine", DOMAIN, NULL};
    g_free(run_ok(undef));
    g_free(harness_ok(&h, "delete", DOMAIN, NULL));
    libvirt_stop(&lv);
    harness_finish(&h);
    return 0;
}
