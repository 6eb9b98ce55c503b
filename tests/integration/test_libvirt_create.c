/* vmdesk create --engine libvirt and the storage commands on libvirt's
 * domains (issue 16), against a private libvirtd (harness_libvirt.h):
 * - create the test guest as a domain (direct kernel boot, TCG, a disk
 *   volume in a storage pool of the test's own); libvirt keeps XML that
 *   virt-xml-validate accepts, with the guest agent channel, VNC on a
 *   socket and the port forward through <qemu:commandline>;
 * - start it and see it boot (the serial console's marker in the log
 *   virtlogd writes) and the forward listen on 127.0.0.1;
 * - vmdesk screenshot equals virsh screenshot; show names the domain's
 *   machine, disk and CD;
 * - a CD goes in and out while it runs (virsh domblklist sees it);
 * - snapshot save, list, restore and delete (virsh snapshot-list agrees);
 * - bad input: each a clear error and exit status, nothing left defined;
 * - a Windows domain starts with libvirt's Secure Boot firmware, its own
 *   UEFI variables and swtpm.
 * The reaper undefines everything and stops the daemons even on abort. */
#include "harness.h"
#include "harness_libvirt.h"
#include "harness_vnc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DOMAIN "vmdesk-it-lvcreate"
#define POOL "vmdesk-it-lvcreate-pool"
/* Names bad input must not leave defined. */
#define BAD_POOL_DOMAIN "vmdesk-it-lvcreate-nopool"
#define BAD_APPEND_DOMAIN "vmdesk-it-lvcreate-badappend"
/* A Windows machine: UEFI with Secure Boot and its own variables, TPM. */
#define WIN_DOMAIN "vmdesk-it-lvcreate-win"

static void check_fails(RunResult r, int status, const char *message)
{
    if (r.status != status || !strstr(r.err, message))
        g_error("expected status %d and \"%s\", got %d: %s", status, message, r.status, r.err);
    run_result_clear(&r);
}

static char *virsh(Libvirt *lv, const char *a, const char *b, const char *c)
{
    const char *argv[] = {"virsh", "-c", lv->uri, a, b, c, NULL};
    return run_ok(argv);
}

static bool domain_defined(Libvirt *lv, const char *name)
{
    g_autofree char *all = virsh(lv, "list", "--all", "--name");
    g_auto(GStrv) lines = g_strsplit(all, "\n", -1);
    for (char **l = lines; *l; l++)
        if (!strcmp(g_strstrip(*l), name))
            return true;
    return false;
}

static void wait_marker(const char *log, const char *marker, int timeout_s)
{
    for (int i = 0; i < timeout_s * 10; i++) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(log, &text, NULL, NULL) && strstr(text, marker))
            return;
        g_usleep(100000);
    }
    g_error("no \"%s\" in %s within %d s", marker, log, timeout_s);
}

static bool port_listens(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* The XML libvirt keeps is valid by libvirt's own schema and has what
 * vmdesk asked for. */
static void check_definition(Harness *h, Libvirt *lv, unsigned rdp_port)
{
    g_autofree char *xml = virsh(lv, "dumpxml", DOMAIN, "--inactive");
    g_autofree char *path = g_build_filename(h->root, "domain.xml", NULL);
    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
    const char *validate[] = {"virt-xml-validate", path, "domain", NULL};
    g_free(run_ok(validate));
    g_autofree char *fwd = g_strdup_printf("hostfwd=tcp:127.0.0.1:%u-:3389", rdp_port);
    const char *want[] = {"org.qemu.guest_agent.0", "<listen type='socket'", fwd,
                          "<source pool='" POOL "' volume='" DOMAIN ".qcow2'/>",
                          "<target dev='vda' bus='virtio'/>", "<memballoon model='none'/>",
                          "<cmdline>console=ttyS0 quiet</cmdline>"};
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
        if (!strstr(xml, want[i]))
            g_error("libvirt's XML has no \"%s\":\n%s", want[i], xml);
}

/* vmdesk screenshot equals virsh screenshot (the console's cursor may
 * blink: one character cell may differ, and it is tried a few times). */
static void check_screenshot(Harness *h, Libvirt *lv)
{
    g_autofree char *ours = g_build_filename(h->root, "ours.png", NULL);
    g_autofree char *theirs = g_build_filename(h->root, "theirs.shot", NULL);
    int n = -1, bw = 0, bh = 0;
    for (int attempt = 0; attempt < 10; attempt++) {
        g_free(harness_ok(h, "screenshot", DOMAIN, ours, "--connect", lv->uri, NULL));
        g_free(virsh(lv, "screenshot", DOMAIN, theirs));
        Image a = {0}, b = {0};
        load_screenshot(ours, &a);
        load_screenshot(theirs, &b);
        g_assert_cmpint(a.w, ==, b.w);
        g_assert_cmpint(a.h, ==, b.h);
        g_assert_true(a.w >= 320 && a.h >= 200);
        n = vnc_image_diff(&b, a.px, &bw, &bh);
        image_clear(&a);
        image_clear(&b);
        if (bw <= 8 && bh <= 16)
            return;
        g_usleep(300 * 1000);
    }
    g_error("vmdesk screenshot is not virsh screenshot: %d pixels differ in %dx%d", n, bw, bh);
}

/* The CD drive's source as `virsh domblklist` shows it ("-" when empty). */
static char *cd_source(Libvirt *lv)
{
    g_autofree char *out = virsh(lv, "domblklist", DOMAIN, "--details");
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit_set(g_strstrip(*l), " \t", -1);
        g_autoptr(GPtrArray) w = g_ptr_array_new();
        for (char **x = f; *x; x++)
            if (**x)
                g_ptr_array_add(w, *x);
        if (w->len == 4 && !strcmp(g_ptr_array_index(w, 1), "cdrom"))
            return g_strdup(g_ptr_array_index(w, 3));
    }
    g_error("no CD drive in domblklist:\n%s", out);
}

static void check_cdrom(Harness *h, Libvirt *lv)
{
    g_autofree char *iso = g_build_filename(lv->dir, "media.iso", NULL);
    g_autofree char *src = g_build_filename(h->root, "iso-src", NULL);
    g_assert_cmpint(g_mkdir_with_parents(src, 0755), ==, 0);
    g_autofree char *readme = g_build_filename(src, "README", NULL);
    g_assert_true(g_file_set_contents(readme, "vmdesk\n", -1, NULL));
    const char *mk[] = {"genisoimage", "-quiet", "-V", "VMDESK", "-o", iso, src, NULL};
    g_free(run_ok(mk));
    g_autofree char *empty = cd_source(lv);
    g_assert_cmpstr(empty, ==, "-");
    g_autofree char *in = harness_ok(h, "cdrom", DOMAIN, "insert", iso, "--connect", lv->uri, NULL);
    g_assert_nonnull(strstr(in, "is in the CD drive"));
    g_assert_null(strstr(in, "next start")); /* live */
    g_autofree char *now = cd_source(lv);
    g_assert_cmpstr(now, ==, iso);
    g_autofree char *show = harness_ok(h, "show", DOMAIN, "--connect", lv->uri, NULL);
    g_autofree char *cd_line = g_strdup_printf("cd:           %s\n", iso);
    if (!strstr(show, cd_line))
        g_error("show does not say the CD:\n%s", show);
    g_free(harness_ok(h, "cdrom", DOMAIN, "eject", "--connect", lv->uri, NULL));
    g_autofree char *out = cd_source(lv);
    g_assert_cmpstr(out, ==, "-");
    g_autofree char *missing = g_build_filename(lv->dir, "no-such.iso", NULL);
    RunResult r = harness_vmdesk(h, "cdrom", DOMAIN, "insert", missing, "--connect", lv->uri,
                                 NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "cannot change the CD"));
    run_result_clear(&r);
    g_autofree char *still = cd_source(lv);
    g_assert_cmpstr(still, ==, "-");
}

static void check_snapshots(Harness *h, Libvirt *lv)
{
    g_autofree char *none = harness_ok(h, "snapshot", DOMAIN, "list", "--connect", lv->uri, NULL);
    g_assert_nonnull(strstr(none, "has no snapshots"));
    g_autofree char *saved =
        harness_ok(h, "snapshot", DOMAIN, "save", "first", "--connect", lv->uri, NULL);
    g_assert_nonnull(strstr(saved, "snapshot \"first\" saved (live"));
    g_autofree char *theirs = virsh(lv, "snapshot-list", DOMAIN, "--name");
    g_assert_nonnull(strstr(theirs, "first"));
    check_fails(harness_vmdesk(h, "snapshot", DOMAIN, "save", "first", "--connect", lv->uri,
                               NULL),
                2, "has a snapshot \"first\" already");
    g_autofree char *list = harness_ok(h, "snapshot", DOMAIN, "list", "--json", "--connect",
                                       lv->uri, NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, list, -1, NULL));
    JsonArray *a = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)),
                                                "snapshots");
    g_assert_cmpuint(json_array_get_length(a), ==, 1);
    JsonObject *s0 = json_array_get_object_element(a, 0);
    g_assert_cmpstr(json_object_get_string_member(s0, "tag"), ==, "first");
    g_assert_true(json_object_get_boolean_member(s0, "live"));
    /* Restoring a running domain loses its state: only with --force. */
    check_fails(harness_vmdesk(h, "snapshot", DOMAIN, "restore", "first", "--connect", lv->uri,
                               NULL),
                4, "add --force");
    g_autofree char *restored = harness_ok(h, "snapshot", DOMAIN, "restore", "first", "--force",
                                           "--connect", lv->uri, NULL);
    g_assert_nonnull(strstr(restored, "restored (live)"));
    g_autofree char *state = virsh(lv, "domstate", DOMAIN, NULL);
    g_assert_cmpstr(g_strstrip(state), ==, "running");
    check_fails(harness_vmdesk(h, "snapshot", DOMAIN, "restore", "nope", "--connect", lv->uri,
                               NULL),
                3, "has no snapshot \"nope\"");
    g_free(harness_ok(h, "snapshot", DOMAIN, "delete", "first", "--connect", lv->uri, NULL));
    g_autofree char *after = virsh(lv, "snapshot-list", DOMAIN, "--name");
    g_assert_null(strstr(after, "first"));
}

/* Bad input: clear errors, exit statuses as documented, nothing defined. */
static void check_bad_input(Harness *h, Libvirt *lv, const char *engine)
{
    check_fails(harness_vmdesk(h, "create", DOMAIN, "--engine", engine, "--disk", "0", NULL), 2,
                "has a domain \"" DOMAIN "\" already");
    check_fails(harness_vmdesk(h, "create", "x", "--engine", "xen", NULL), 2,
                "unknown engine \"xen\"");
    check_fails(harness_vmdesk(h, "create", "bad/name", "--engine", engine, NULL), 2, "name");
    check_fails(harness_vmdesk(h, "create", "x", "--engine", engine, "--unattended", NULL), 2,
                "not --engine libvirt");
    g_autofree char *bad_uri = g_strdup_printf("libvirt:qemu:///system?socket=%s/none",
                                               lv->sock_dir);
    check_fails(harness_vmdesk(h, "create", "x", "--engine", bad_uri, "--disk", "0", NULL), 1,
                "cannot connect to libvirt at");
    check_fails(harness_vmdesk(h, "create", BAD_POOL_DOMAIN, "--engine", engine, "--pool",
                               "no-such-pool", "--disk", "1G", NULL),
                3, "no storage pool \"no-such-pool\"");
    g_assert_false(domain_defined(lv, BAD_POOL_DOMAIN));
    /* A control character cannot go into XML: refused before the volume. */
    check_fails(harness_vmdesk(h, "create", BAD_APPEND_DOMAIN, "--engine", engine, "--pool",
                               POOL, "--disk", "64M", "--kernel", "/k", "--append",
                               "console=ttyS0\x1b[2J", "--accel", "tcg", NULL),
                2, "control character");
    g_assert_false(domain_defined(lv, BAD_APPEND_DOMAIN));
    g_autofree char *vols = virsh(lv, "vol-list", POOL, NULL);
    g_assert_null(strstr(vols, BAD_APPEND_DOMAIN));
    check_fails(harness_vmdesk(h, "screenshot", "no-such-domain", "x.png", "--connect", lv->uri,
                               NULL),
                3, "no domain \"no-such-domain\"");
    check_fails(harness_vmdesk(h, "show", "no-such-domain", "--connect", lv->uri, NULL), 3,
                "no domain \"no-such-domain\"");
}

/* A Windows domain starts under libvirt: the firmware libvirt picked is the
 * Secure Boot build with a variable store of the domain's own, and libvirt
 * runs swtpm. It is pulled off again at once (no Windows to boot). */
static void check_windows(Harness *h, Libvirt *lv, const char *engine)
{
    g_free(harness_ok(h, "create", WIN_DOMAIN, "--engine", engine, "--os", "windows", "--disk",
                      "0", "--memory", "512M", "--accel", "tcg", NULL));
    g_free(harness_ok(h, "start", WIN_DOMAIN, "--connect", lv->uri, NULL));
    g_autofree char *xml = virsh(lv, "dumpxml", WIN_DOMAIN, NULL);
    const char *want[] = {"secure='yes'", "/var/lib/libvirt/qemu/nvram/" WIN_DOMAIN "_VARS.fd",
                          "<tpm model='tpm-crb'>", "<smm state='on'/>"};
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
        if (!strstr(xml, want[i]))
            g_error("the running Windows domain has no \"%s\":\n%s", want[i], xml);
    g_autofree char *show = harness_ok(h, "show", WIN_DOMAIN, "--connect", lv->uri, NULL);
    g_assert_nonnull(strstr(show, "firmware:     uefi, Secure Boot, TPM 2.0\n"));
    g_free(harness_ok(h, "stop", WIN_DOMAIN, "--connect", lv->uri, "--force", NULL));
}

int main(void)
{
    Harness h;
    harness_init(&h);
    h.env = g_environ_unsetenv(h.env, "LIBVIRT_DEFAULT_URI");
    h.env = g_environ_unsetenv(h.env, "VMDESK_CONNECT");
    Libvirt lv = {0};
    gint64 t0 = g_get_monotonic_time();
    libvirt_start(&lv, h.guest_dir);
    const char *const domains[] = {DOMAIN, BAD_POOL_DOMAIN, BAD_APPEND_DOMAIN, WIN_DOMAIN, NULL};
    const char *const pools[] = {POOL, NULL};
    libvirt_reaper_start(&lv, domains, pools);
    for (int i = 0; domains[i]; i++)
        undefine_stale(&lv, domains[i]);
    /* A pool of the test's own, in libvirt-qemu's folder. */
    g_autofree char *pool_dir = g_build_filename(lv.dir, "pool", NULL);
    const char *pool_def[] = {"virsh", "-c", lv.uri, "pool-create-as", POOL, "dir",
                              "--target", pool_dir, "--build", NULL};
    g_free(run_ok(pool_def));

    g_autofree char *engine = g_strdup_printf("libvirt:%s", lv.uri);
    g_autofree char *kernel = g_build_filename(lv.dir, "vmlinuz", NULL);
    g_autofree char *initrd = g_build_filename(lv.dir, "initrd.img", NULL);
    unsigned rdp_port = free_tcp_port();
    g_autofree char *port_s = g_strdup_printf("%u", rdp_port);
    g_autofree char *made = harness_ok(
        &h, "create", DOMAIN, "--engine", engine, "--pool", POOL, "--arch", "x86_64", "--os",
        "linux", "--memory", "256M", "--cpus", "1", "--disk", "64M", "--kernel", kernel,
        "--initrd", initrd, "--append", "console=ttyS0 quiet", "--accel", "tcg", "--rdp-port",
        port_s, NULL);
    g_assert_nonnull(strstr(made, "Created libvirt domain \"" DOMAIN "\""));
    /* Nothing of vmdesk's own was made. */
    RunResult own = harness_vmdesk(&h, "show", DOMAIN, "--connect", "vmdesk", NULL);
    g_assert_cmpint(own.status, ==, 3);
    run_result_clear(&own);
    check_definition(&h, &lv, rdp_port);

    g_free(harness_ok(&h, "start", DOMAIN, "--connect", lv.uri, NULL));
    g_autofree char *log = g_strdup_printf("/var/log/libvirt/qemu/%s-serial.log", DOMAIN);
    wait_marker(log, "VMDESK-GUEST-READY", 180);
    g_assert_true(port_listens(rdp_port));
    g_autofree char *show = harness_ok(&h, "show", DOMAIN, "--connect", lv.uri, "--json", NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, show, -1, NULL));
    JsonObject *so = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(so, "state"), ==, "RUNNING");
    g_assert_cmpstr(json_object_get_string_member(so, "arch"), ==, "x86_64");
    JsonObject *cfg = json_object_get_object_member(so, "config");
    g_assert_cmpint(json_object_get_int_member(cfg, "memory-bytes"), ==, 256 << 20);
    g_assert_true(json_object_get_boolean_member(cfg, "guest-agent"));
    g_assert_cmpstr(json_object_get_string_member(cfg, "graphics"), ==, "vnc");

    check_screenshot(&h, &lv);
    check_cdrom(&h, &lv);
    check_snapshots(&h, &lv);
    check_bad_input(&h, &lv, engine);
    check_windows(&h, &lv, engine);

    g_autofree char *stop = harness_ok(&h, "stop", DOMAIN, "--connect", lv.uri, "--force", NULL);
    g_assert_nonnull(strstr(stop, "STOPPED"));
    check_fails(harness_vmdesk(&h, "screenshot", DOMAIN, "x.png", "--connect", lv.uri, NULL), 4,
                "is not running");
    libvirt_stop(&lv);
    g_test_message("integration-libvirt-create: %.1f s",
                   (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    harness_finish(&h);
    return 0;
}
