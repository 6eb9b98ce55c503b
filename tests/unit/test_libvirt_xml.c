/* unit-libvirt-xml: vmdesk's VMs as libvirt domain XML (orchestrator/libvirt/lv_xml.c),
 * read back for show (lv_describe.c), and libvirt's screenshots (lv_ppm_parse).
 *
 * Golden files: tests/golden/libvirt/NAME.xml holds the XML written for
 * tests/data/NAME.conf (the configs unit-argv pins as QEMU argv).
 * VMDESK_UPDATE_GOLDEN=1 rewrites them; read the diff before committing it.
 * Every case is validated against libvirt's own schema with
 * virt-xml-validate (Debian's libvirt-clients), and hostile values must
 * come back unchanged from libxml2's parser or be refused. */
#include "common/error.h"
#include "libvirt/lv_describe.h"
#include "libvirt/lv_media.h"
#include "libvirt/lv_ppm.h"
#include "libvirt/lv_xml.h"
#include "test_util.h"
#include "vm/vm_config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

typedef struct {
    const char *name;
    bool kvm;
} XmlCase;

/* x86_64 Linux (direct kernel boot, forwards, extra QEMU arguments), x86_64
 * Windows (TPM, Secure Boot, Hyper-V under KVM), aarch64 (UEFI, virtio-scsi
 * CD), aarch64 Windows (TPM on the virt machine, ramfb, in-box disk). */
static const XmlCase cases[] = {
    {"linux-kernel-bios", false},
    {"windows-kvm", true},
    {"aarch64-uefi-tcg", false},
    {"aarch64-windows-tpm", false},
};

static VmConfig *load_case(const char *name)
{
    g_autofree char *file = g_strconcat(name, ".conf", NULL);
    g_autofree char *path = g_build_filename(VMDESK_TEST_DATA_DIR, file, NULL);
    g_autoptr(GError) err = NULL;
    VmConfig *cfg = vm_config_load(path, &err);
    g_assert_no_error(err);
    return cfg;
}

static char *build(const VmConfig *cfg, bool kvm, GError **error)
{
    g_autofree char *vol = g_strconcat(cfg->name, ".qcow2", NULL);
    g_autofree char *log = g_strdup_printf("/var/log/libvirt/qemu/%s-serial.log", cfg->name);
    LvXmlEnv env = {.kvm = kvm, .host_cpus = 8, .disk_pool = "default", .disk_volume = vol,
                    .serial_log = log};
    return lv_xml_domain(cfg, &env, error);
}

/* virt-xml-validate @xml as a domain; aborts with its output when it fails. */
static void validate(const char *xml)
{
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *path = g_build_filename(dir, "domain.xml", NULL);
    tu_write_file(path, xml);
    const char *argv[] = {"virt-xml-validate", path, "domain", NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) e = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, &e));
    tu_rm_rf(dir);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("virt-xml-validate refused:\n%s%s\n%s", out, err, xml);
}

static void test_golden(gconstpointer data)
{
    const XmlCase *c = data;
    g_autoptr(VmConfig) cfg = load_case(c->name);
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = build(cfg, c->kvm, &err);
    g_assert_no_error(err);
    validate(xml);
    g_autofree char *file = g_strconcat(c->name, ".xml", NULL);
    g_autofree char *path = g_build_filename(VMDESK_TEST_GOLDEN_DIR, "libvirt", file, NULL);
    if (!g_strcmp0(g_getenv("VMDESK_UPDATE_GOLDEN"), "1")) {
        g_file_set_contents(path, xml, -1, &err);
        g_assert_no_error(err);
        return;
    }
    g_autofree char *want = NULL;
    if (!g_file_get_contents(path, &want, NULL, &err))
        g_error("%s (generate it with VMDESK_UPDATE_GOLDEN=1)", err->message);
    if (strcmp(xml, want))
        g_error("%s differs; built:\n%s", path, xml);
}

/* Every golden file belongs to a case. */
static void test_golden_files_match_cases(void)
{
    g_autofree char *dir = g_build_filename(VMDESK_TEST_GOLDEN_DIR, "libvirt", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    const char *n;
    int found = 0;
    while ((n = g_dir_read_name(d))) {
        bool known = false;
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
            g_autofree char *f = g_strconcat(cases[i].name, ".xml", NULL);
            known |= !strcmp(f, n);
        }
        if (!known)
            g_error("%s/%s has no case in test_libvirt_xml.c", dir, n);
        found++;
    }
    if (g_strcmp0(g_getenv("VMDESK_UPDATE_GOLDEN"), "1"))
        g_assert_cmpint(found, ==, G_N_ELEMENTS(cases));
}

/* The text of the first element @name under @root (depth-first), or NULL. */
static char *find_text(xmlNodePtr root, const char *name)
{
    for (xmlNodePtr n = root; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!strcmp((const char *)n->name, name))
            return (char *)xmlNodeGetContent(n);
        char *t = find_text(n->children, name);
        if (t)
            return t;
    }
    return NULL;
}

/* Whether some element's attribute @attr is @value. */
static bool find_attr(xmlNodePtr root, const char *attr, const char *value)
{
    for (xmlNodePtr n = root; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *v = xmlGetProp(n, BAD_CAST attr);
        bool hit = v && !strcmp((const char *)v, value);
        xmlFree(v);
        if (hit || find_attr(n->children, attr, value))
            return true;
    }
    return false;
}

/* What each case is about, apart from the golden text: a regenerated golden
 * file cannot hide a regression. */
static void test_semantics(void)
{
    g_autoptr(VmConfig) win = load_case("windows-kvm");
    g_autofree char *wx = build(win, true, NULL);
    g_assert_nonnull(strstr(wx, "<domain type=\"kvm\""));
    g_assert_nonnull(strstr(wx, "<os firmware=\"efi\">"));
    g_assert_nonnull(strstr(wx, "<feature enabled=\"yes\" name=\"secure-boot\"/>"));
    g_assert_nonnull(strstr(wx, "<smm state=\"on\"/>"));
    g_assert_nonnull(strstr(wx, "<tpm model=\"tpm-crb\">"));
    g_assert_nonnull(strstr(wx, "<backend type=\"emulator\" version=\"2.0\"/>"));
    g_assert_nonnull(strstr(wx, "<relaxed state=\"on\"/>"));
    g_assert_nonnull(strstr(wx, "<target dev=\"sda\" bus=\"sata\"/>")); /* in-box disk */
    g_assert_nonnull(strstr(wx, "<qemu:arg value=\"e1000e,netdev=vmdesk-net0,bus=pcie.0,addr=0x1c\"/>"));
    g_assert_nonnull(strstr(wx, "<clock offset=\"localtime\">"));

    g_autoptr(VmConfig) lin = load_case("linux-kernel-bios");
    g_autofree char *lx = build(lin, false, NULL);
    g_assert_nonnull(strstr(lx, "<domain type=\"qemu\""));
    g_assert_null(strstr(lx, "firmware=\"efi\""));
    g_assert_null(strstr(lx, "<tpm"));
    g_assert_nonnull(strstr(lx, "<cpu mode=\"maximum\"/>"));
    g_assert_nonnull(strstr(lx, "<target dev=\"vda\" bus=\"virtio\"/>"));
    g_assert_nonnull(strstr(lx, "name=\"org.qemu.guest_agent.0\""));
    g_assert_nonnull(strstr(lx, "<listen type=\"socket\"/>"));
    g_assert_nonnull(strstr(
        lx, "<qemu:arg value=\"user,id=vmdesk-net0,hostfwd=tcp:127.0.0.1:47102-:3389,"
            "hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:2222-:22\"/>"));
    g_assert_nonnull(strstr(lx, "<qemu:arg value=\"virtio-rng-pci\"/>"));

    g_autoptr(VmConfig) arm = load_case("aarch64-uefi-tcg");
    g_autofree char *ax = build(arm, false, NULL);
    g_assert_nonnull(strstr(ax, "<type arch=\"aarch64\" machine=\"virt\">hvm</type>"));
    g_assert_nonnull(strstr(ax, "<gic version=\"3\"/>"));
    g_assert_nonnull(strstr(ax, "model=\"virtio-scsi\""));
    g_assert_nonnull(strstr(ax, "<target dev=\"sda\" bus=\"scsi\"/>"));
    g_assert_nonnull(strstr(ax, "<input type=\"keyboard\" bus=\"usb\"/>"));
}

/* Values with XML's special characters come back unchanged from libxml2's
 * parser; what XML cannot carry is refused with a clear error. */
static void test_hostile(void)
{
    g_autoptr(VmConfig) cfg = load_case("linux-kernel-bios");
    const char *append = "console=ttyS0 x=\"<a>&amp;</a>\" y='q' ]]> &#0;";
    g_free(cfg->append);
    cfg->append = g_strdup(append);
    g_free(cfg->kernel);
    cfg->kernel = g_strdup("/srv/a'b\"c<d>&e/vmlinuz");
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = build(cfg, false, &err);
    g_assert_no_error(err);
    validate(xml);
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
    g_assert_nonnull(doc);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    g_autofree char *cmdline = find_text(root, "cmdline");
    g_autofree char *kernel = find_text(root, "kernel");
    g_assert_cmpstr(cmdline, ==, append);
    g_assert_cmpstr(kernel, ==, cfg->kernel);
    g_assert_true(find_attr(root, "value", "-device"));
    xmlFreeDoc(doc);

    const char *bad[] = {"a\nb", "tab\there", "esc\x1b[0m", "\xff\xfe not UTF-8"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_free(cfg->append);
        cfg->append = g_strdup(bad[i]);
        g_autoptr(GError) e = NULL;
        g_autofree char *x = build(cfg, false, &e);
        g_assert_null(x);
        g_assert_error(e, VD_ERROR, VD_ERROR_INVALID);
        g_assert_nonnull(strstr(e->message, "libvirt's XML"));
    }
    g_free(cfg->append);
    cfg->append = NULL;
    /* A port forward QEMU could not take back unchanged. */
    g_strfreev(cfg->forwards);
    cfg->forwards = g_strsplit("80,hostfwd=tcp::1-:22:80", ";", -1);
    g_autoptr(GError) e2 = NULL;
    g_autofree char *x2 = build(cfg, false, &e2);
    if (x2)
        g_assert_nonnull(strstr(x2, "80,,hostfwd")); /* escaped, not a second forward */
    else
        g_assert_error(e2, VD_ERROR, VD_ERROR_INVALID);

    /* A USB device by port has no libvirt form. */
    g_autoptr(VmConfig) dev = load_case("linux-devices");
    g_autoptr(GError) e3 = NULL;
    g_autofree char *x3 = build(dev, false, &e3);
    g_assert_null(x3);
    g_assert_error(e3, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(e3->message, "3-1.4"));
}

/* show reads back what create wrote. */
static void test_describe(void)
{
    g_autoptr(VmConfig) win = load_case("windows-kvm");
    g_autofree char *wx = build(win, true, NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(LvDescription) w = lv_describe(wx, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(w->arch, ==, "x86_64");
    g_assert_cmpstr(w->machine, ==, "q35");
    g_assert_cmpstr(w->type, ==, "kvm");
    g_assert_cmpuint(w->memory, ==, 8ull << 30);
    g_assert_cmpuint(w->cpus, ==, 4);
    g_assert_true(w->uefi && w->secure_boot && w->tpm && w->agent && w->have_cd);
    g_assert_cmpstr(w->cd, ==, "/srv/iso/Win11_23H2_English_x64.iso");
    g_assert_cmpstr(w->cd_dev, ==, "sdb");
    g_assert_cmpstr(w->cd_bus, ==, "sata");
    g_assert_cmpstr(w->disks[0], ==, "sda default/windows-kvm.qcow2");
    g_assert_null(w->disks[1]);
    g_assert_cmpstr(w->graphics, ==, "vnc");

    g_autoptr(VmConfig) lin = load_case("linux-kernel-bios");
    g_autofree char *lx = build(lin, false, NULL);
    g_autoptr(LvDescription) l = lv_describe(lx, &err);
    g_assert_no_error(err);
    g_assert_false(l->uefi || l->secure_boot || l->tpm);
    g_assert_cmpstr(l->kernel, ==, lin->kernel);
    g_assert_cmpstr(l->cmdline, ==, lin->append);
    g_assert_true(l->have_cd);
    g_assert_null(l->cd);

    /* libvirt's own default unit, and what is not a domain. */
    g_autoptr(LvDescription) k = lv_describe(
        "<domain type='qemu'><memory>262144</memory><vcpu>1</vcpu></domain>", &err);
    g_assert_no_error(err);
    g_assert_cmpuint(k->memory, ==, 256u << 20);
    g_assert_false(k->have_cd);
    g_assert_null(k->disks[0]);
    const char *bad[] = {"", "<network/>", "<domain", "not xml"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_assert_null(lv_describe(bad[i], &e));
        g_assert_error(e, VD_ERROR, VD_ERROR_PROTOCOL);
    }
}

/* libvirt's screenshots come from QEMU on the daemon's host: a PPM that
 * lies about its size is refused, never read past its end. */
static void test_ppm(void)
{
    const uint8_t good[] = "P6\n2 1\n255\n\xff\x00\x01\x10\x20\x30";
    g_autofree uint32_t *px = NULL;
    int w = 0, h = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(lv_ppm_parse(good, sizeof good - 1, &px, &w, &h, &err));
    g_assert_no_error(err);
    g_assert_cmpint(w, ==, 2);
    g_assert_cmpint(h, ==, 1);
    g_assert_cmphex(px[0], ==, 0xff0001);
    g_assert_cmphex(px[1], ==, 0x102030);
    const char *bad[] = {"P6\n2 1\n255\n\xff\x00", "P5\n1 1\n255\n\x00",
                         "P6\n1 1\n65535\n\x00\x00\x00\x00\x00\x00",
                         "P6\n99999 99999\n255\n", "P6\n0 1\n255\n", "P6", "",
                         "P6\n-1 1\n255\n\x00\x00\x00",
                         /* found by fuzz-lv_ppm: the magic runs into the width */
                         "P62 1\n255\nabcdef"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        uint32_t *p = NULL;
        g_assert_false(lv_ppm_parse((const uint8_t *)bad[i], strlen(bad[i]), &p, &w, &h, &e));
        g_assert_null(p);
        g_assert_error(e, VD_ERROR, VD_ERROR_PROTOCOL);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/libvirt-xml/golden/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_golden);
    }
    g_test_add_func("/libvirt-xml/golden-files", test_golden_files_match_cases);
    g_test_add_func("/libvirt-xml/semantics", test_semantics);
    g_test_add_func("/libvirt-xml/hostile", test_hostile);
    g_test_add_func("/libvirt-xml/describe", test_describe);
    g_test_add_func("/libvirt-xml/ppm", test_ppm);
    return g_test_run();
}
