/* A vmdesk VM as libvirt domain XML, element for element what qemu_argv.c
 * gives QEMU. */
#include "libvirt/lv_xml.h"

#include "common/error.h"
#include "qemu/qemu_arch.h"
#include "qemu/qemu_argv.h"
#include "qemu/qemu_opts.h"

#include <libxml/xmlwriter.h>

#include <string.h>

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
/* The network card's slot on the root bus of q35 and virt (add_network). */
#define NIC_SLOT "0x1c"

typedef struct {
    xmlTextWriterPtr w;
    GError *error;          /* the first failure */
    const QemuArch *arch;
    unsigned sd;            /* next sdX letter: SATA, SCSI and USB disks share them */
    GPtrArray *qemu_args;   /* for <qemu:commandline> */
} Xml;

static void fail(Xml *x, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void fail(Xml *x, const char *fmt, ...)
{
    if (x->error)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    x->error = g_error_new_literal(VD_ERROR, VD_ERROR_INVALID, msg);
}

/* Whether @s can be an XML value: UTF-8 without control characters (XML 1.0
 * has no way to write most of them). */
static bool writable(Xml *x, const char *s)
{
    if (!g_utf8_validate(s, -1, NULL)) {
        fail(x, "a value is not UTF-8 and cannot go into libvirt's XML");
        return false;
    }
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            g_autofree char *shown = g_strescape(s, NULL);
            fail(x, "\"%s\" has a control character and cannot go into libvirt's XML", shown);
            return false;
        }
    }
    return true;
}

static void check(Xml *x, int rc)
{
    if (rc < 0)
        fail(x, "libxml2 could not write the domain XML");
}

static void open_el(Xml *x, const char *name)
{
    check(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
}

static void close_el(Xml *x)
{
    check(x, xmlTextWriterEndElement(x->w));
}

static void attr(Xml *x, const char *name, const char *value)
{
    if (writable(x, value))
        check(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value));
}

static void attrf(Xml *x, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void attrf(Xml *x, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *v = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    attr(x, name, v);
}

/* <name>text</name> */
static void text_el(Xml *x, const char *name, const char *text)
{
    if (writable(x, text))
        check(x, xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text));
}

/* <name k1='v1' k2='v2' .../>: NULL-terminated key/value pairs. */
static void empty_el(Xml *x, const char *name, ...) G_GNUC_NULL_TERMINATED;
static void empty_el(Xml *x, const char *name, ...)
{
    open_el(x, name);
    va_list ap;
    va_start(ap, name);
    for (const char *k; (k = va_arg(ap, const char *));)
        attr(x, k, va_arg(ap, const char *));
    va_end(ap);
    close_el(x);
}

static void qemu_arg2(Xml *x, const char *opt, QemuOpts *o)
{
    GError *e = NULL;
    char *s = qemu_opts_finish(o, &e);
    if (!s) {
        if (!x->error)
            x->error = e;
        else
            g_error_free(e);
        return;
    }
    g_ptr_array_add(x->qemu_args, g_strdup(opt));
    g_ptr_array_add(x->qemu_args, s);
}

static void add_os(Xml *x, const VmConfig *cfg)
{
    bool uefi = cfg->firmware == VM_FIRMWARE_UEFI;
    open_el(x, "os");
    /* libvirt picks the firmware from the daemon host's descriptors
     * (/usr/share/qemu/firmware) and copies its variable store for this
     * domain alone, as vmdesk copies uefi-vars.fd per VM. */
    if (uefi)
        attr(x, "firmware", "efi");
    open_el(x, "type");
    attr(x, "arch", vm_arch_to_string(cfg->arch));
    attr(x, "machine", x->arch->machine);
    check(x, xmlTextWriterWriteString(x->w, BAD_CAST "hvm"));
    close_el(x);
    if (uefi) {
        const char *sb = cfg->secure_boot ? "yes" : "no";
        open_el(x, "firmware");
        empty_el(x, "feature", "enabled", sb, "name", "enrolled-keys", NULL);
        empty_el(x, "feature", "enabled", sb, "name", "secure-boot", NULL);
        close_el(x);
    }
    if (cfg->kernel) {
        text_el(x, "kernel", cfg->kernel);
        if (cfg->initrd)
            text_el(x, "initrd", cfg->initrd);
        if (cfg->append)
            text_el(x, "cmdline", cfg->append);
    }
    close_el(x);
}

static void add_features(Xml *x, const VmConfig *cfg, const LvXmlEnv *env)
{
    bool x86 = cfg->arch == VM_ARCH_X86_64, uefi = cfg->firmware == VM_FIRMWARE_UEFI;
    open_el(x, "features");
    /* ACPI on Arm needs UEFI; QEMU's x86 machines always have it. */
    if (x86 || uefi)
        empty_el(x, "acpi", NULL);
    if (x86)
        empty_el(x, "vmport", "state", "off", NULL);
    if (cfg->arch == VM_ARCH_AARCH64)
        /* gic-version=max: the host's under KVM, GICv3 under TCG. */
        empty_el(x, "gic", "version", env->kvm ? "host" : "3", NULL);
    if (uefi && cfg->secure_boot && x->arch->secure_boot_smm)
        empty_el(x, "smm", "state", "on", NULL);
    if (env->kvm && cfg->os == VM_OS_WINDOWS && x->arch->hyperv) {
        /* The enlightenments qemu_argv.c gives Windows under KVM. */
        static const char *const hv[] = {"relaxed", "vapic", "vpindex", "runtime", "synic",
                                         "stimer", "frequencies", "reset", "tlbflush", "ipi"};
        open_el(x, "hyperv");
        attr(x, "mode", "custom");
        for (size_t i = 0; i < G_N_ELEMENTS(hv); i++)
            empty_el(x, hv[i], "state", "on", NULL);
        empty_el(x, "spinlocks", "state", "on", "retries", "8191", NULL);
        close_el(x);
    }
    close_el(x);
}

static void add_clock(Xml *x, const VmConfig *cfg, const LvXmlEnv *env)
{
    open_el(x, "clock");
    if (cfg->os != VM_OS_WINDOWS) {
        attr(x, "offset", "utc");
        close_el(x);
        return;
    }
    attr(x, "offset", "localtime");
    /* driftfix=slew */
    empty_el(x, "timer", "name", "rtc", "tickpolicy", "catchup", NULL);
    if (env->kvm && x->arch->hyperv)
        empty_el(x, "timer", "name", "hypervclock", "present", "yes", NULL); /* hv-time */
    close_el(x);
}

/* A disk or CD on bus @bus, with its next target name. */
static void target(Xml *x, const char *bus)
{
    char dev[8];
    if (!strcmp(bus, "virtio"))
        g_strlcpy(dev, "vda", sizeof dev);
    else
        g_snprintf(dev, sizeof dev, "sd%c", 'a' + x->sd++);
    empty_el(x, "target", "dev", dev, "bus", bus, NULL);
}

static void add_disk(Xml *x, const VmConfig *cfg, const LvXmlEnv *env)
{
    if (!cfg->disk && !env->disk_volume)
        return;
    if (!env->disk_volume && !g_path_is_absolute(cfg->disk)) {
        fail(x, "the disk %s must be an absolute path for libvirt", cfg->disk);
        return;
    }
    /* Windows without virtio-win drivers: a disk Setup drives in-box (SATA
     * on q35; libvirt 9.0 has no NVMe disk for Arm, USB storage instead). */
    bool in_box = cfg->os == VM_OS_WINDOWS && !cfg->virtio;
    const char *bus = !in_box ? "virtio" : cfg->arch == VM_ARCH_X86_64 ? "sata" : "usb";
    open_el(x, "disk");
    attr(x, "type", env->disk_volume ? "volume" : "file");
    attr(x, "device", "disk");
    empty_el(x, "driver", "name", "qemu", "type", cfg->disk_format ? cfg->disk_format : "qcow2",
             "discard", "unmap", NULL);
    if (env->disk_volume)
        empty_el(x, "source", "pool", env->disk_pool, "volume", env->disk_volume, NULL);
    else
        empty_el(x, "source", "file", cfg->disk, NULL);
    target(x, bus);
    empty_el(x, "boot", "order", "1", NULL);
    close_el(x);
}

/* CD drive @index with image @path (NULL: empty); drive 0 boots second. */
static void add_cd(Xml *x, unsigned index, const char *path)
{
    open_el(x, "disk");
    attr(x, "type", "file");
    attr(x, "device", "cdrom");
    empty_el(x, "driver", "name", "qemu", "type", "raw", NULL);
    if (path)
        empty_el(x, "source", "file", path, NULL);
    /* ide.N on q35 is its AHCI controller; the virt machine has only SCSI. */
    target(x, x->arch->cd_bus_shared ? "scsi" : "sata");
    empty_el(x, "readonly", NULL);
    if (index == 0)
        empty_el(x, "boot", "order", "2", NULL);
    close_el(x);
}

static void add_storage(Xml *x, const VmConfig *cfg, const LvXmlEnv *env)
{
    add_disk(x, cfg, env);
    if (x->arch->cd_bus_shared)
        empty_el(x, "controller", "type", "scsi", "index", "0", "model", "virtio-scsi", NULL);
    add_cd(x, 0, cfg->iso);
    for (unsigned i = 0; cfg->cds && cfg->cds[i]; i++)
        add_cd(x, i + 1, cfg->cds[i]);
}

static void add_display(Xml *x, const VmConfig *cfg)
{
    empty_el(x, "controller", "type", "usb", "index", "0", "model", "qemu-xhci", NULL);
    empty_el(x, "input", "type", "tablet", "bus", "usb", NULL);
    if (x->arch->usb_keyboard)
        empty_el(x, "input", "type", "keyboard", "bus", "usb", NULL);
    open_el(x, "video");
    if (cfg->os == VM_OS_LINUX)
        empty_el(x, "model", "type", "virtio", "heads", "1", "primary", "yes", NULL);
    else if (cfg->arch == VM_ARCH_X86_64)
        empty_el(x, "model", "type", "vga", "vram", "65536", "heads", "1", "primary", "yes",
                 NULL); /* VGA,vgamem_mb=64 */
    else
        empty_el(x, "model", "type", "ramfb", "heads", "1", "primary", "yes", NULL);
    close_el(x);
    /* VNC on a socket libvirt makes in the domain's own folder (owned by the
     * QEMU user); vmdesk reaches it through virDomainOpenGraphicsFD. */
    open_el(x, "graphics");
    attr(x, "type", "vnc");
    attr(x, "powerControl", "no");
    empty_el(x, "listen", "type", "socket", NULL);
    close_el(x);
}

static void add_channels(Xml *x, const LvXmlEnv *env)
{
    /* The guest agent: libvirt makes the socket and speaks to it
     * (virDomainQemuAgentCommand). */
    open_el(x, "channel");
    attr(x, "type", "unix");
    empty_el(x, "source", "mode", "bind", NULL);
    empty_el(x, "target", "type", "virtio", "name", "org.qemu.guest_agent.0", NULL);
    close_el(x);
    open_el(x, "serial");
    attr(x, "type", "pty");
    if (env->serial_log)
        empty_el(x, "log", "file", env->serial_log, "append", "on", NULL);
    empty_el(x, "target", "port", "0", NULL);
    close_el(x);
}

static void add_tpm(Xml *x, const VmConfig *cfg)
{
    if (!cfg->tpm)
        return;
    open_el(x, "tpm");
    /* tpm-tis on the virt machine is QEMU's tpm-tis-device. */
    attr(x, "model", x->arch->cd_bus_shared ? "tpm-tis" : "tpm-crb");
    empty_el(x, "backend", "type", "emulator", "version", "2.0", NULL);
    close_el(x);
}

/* Folders as 9p exports, as qemu_argv.c gives them (security_model=none is
 * libvirt's accessmode squash). */
static void add_shares(Xml *x, const VmConfig *cfg)
{
    g_autoptr(GPtrArray) exports = vm_config_share_exports(cfg);
    for (guint i = 0; i < exports->len; i++) {
        const VmShareExport *e = g_ptr_array_index(exports, i);
        if (!e->tag)
            continue; /* Windows: RDP drives only */
        open_el(x, "filesystem");
        attr(x, "type", "mount");
        attr(x, "accessmode", "squash");
        attr(x, "multidevs", "remap");
        empty_el(x, "source", "dir", e->share.path, NULL);
        empty_el(x, "target", "dir", e->tag, NULL);
        if (e->share.read_only)
            empty_el(x, "readonly", NULL);
        close_el(x);
    }
}

static void add_usb(Xml *x, const VmConfig *cfg)
{
    for (char **u = cfg->usb; u && *u; u++) {
        VmUsbSpec spec;
        if (!vm_usb_spec_parse(*u, &spec, NULL))
            continue; /* vm_config_validate refused it */
        if (!spec.by_id) {
            fail(x, "USB device %s is named by its port, which libvirt cannot say; name it by "
                    "vendor:product",
                 *u);
            return;
        }
        open_el(x, "hostdev");
        attr(x, "mode", "subsystem");
        attr(x, "type", "usb");
        open_el(x, "source");
        attr(x, "startupPolicy", "optional"); /* absent: the domain starts without it */
        open_el(x, "vendor");
        attrf(x, "id", "0x%04x", spec.vendor);
        close_el(x);
        open_el(x, "product");
        attrf(x, "id", "0x%04x", spec.product);
        close_el(x);
        close_el(x);
        close_el(x);
    }
}

/* The user-mode network with its forwards, as -netdev/-device arguments. */
static void add_network(Xml *x, const VmConfig *cfg)
{
    qemu_arg2(x, "-netdev", qemu_argv_netdev_user(cfg, "vmdesk-net0"));
    QemuOpts *o = qemu_opts_new(qemu_argv_nic_model(cfg));
    qemu_opts_add(o, "netdev", "vmdesk-net0");
    /* libvirt gives its own devices fixed addresses, which QEMU may create
     * after this one: a slot of the root bus libvirt never hands out by
     * itself (it fills pcie.0 upwards from 1 with root ports). */
    qemu_opts_add(o, "bus", "pcie.0");
    qemu_opts_add(o, "addr", NIC_SLOT);
    qemu_arg2(x, "-device", o);
}

static void add_commandline(Xml *x, const VmConfig *cfg)
{
    add_network(x, cfg);
    for (char **q = cfg->qemu_args; q && *q; q++)
        g_ptr_array_add(x->qemu_args, g_strdup(*q));
    check(x, xmlTextWriterStartElementNS(x->w, BAD_CAST "qemu", BAD_CAST "commandline", NULL));
    for (guint i = 0; i < x->qemu_args->len; i++) {
        check(x, xmlTextWriterStartElementNS(x->w, BAD_CAST "qemu", BAD_CAST "arg", NULL));
        attr(x, "value", g_ptr_array_index(x->qemu_args, i));
        close_el(x);
    }
    close_el(x);
}

/* A document in memory, indented by two spaces. */
static bool doc_start(Xml *x, xmlBufferPtr *buf, GError **error)
{
    *buf = xmlBufferCreate();
    x->w = *buf ? xmlNewTextWriterMemory(*buf, 0) : NULL;
    if (!x->w) {
        if (*buf)
            xmlBufferFree(*buf);
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "libxml2 could not start a document");
        return false;
    }
    check(x, xmlTextWriterSetIndent(x->w, 1));
    check(x, xmlTextWriterSetIndentString(x->w, BAD_CAST "  "));
    return true;
}

/* The document's text (caller frees), or NULL with the first error. */
static char *doc_finish(Xml *x, xmlBufferPtr buf, GError **error)
{
    check(x, xmlTextWriterEndDocument(x->w));
    xmlFreeTextWriter(x->w);
    char *out = x->error ? NULL : g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    if (x->error)
        g_propagate_error(error, x->error);
    return out;
}

char *lv_xml_volume(const char *name, uint64_t capacity, GError **error)
{
    Xml x = {0};
    xmlBufferPtr buf;
    if (!doc_start(&x, &buf, error))
        return NULL;
    open_el(&x, "volume");
    text_el(&x, "name", name);
    open_el(&x, "capacity");
    attr(&x, "unit", "bytes");
    g_autofree char *cap = g_strdup_printf("%" G_GUINT64_FORMAT, capacity);
    check(&x, xmlTextWriterWriteString(x.w, BAD_CAST cap));
    close_el(&x);
    open_el(&x, "target");
    empty_el(&x, "format", "type", "qcow2", NULL);
    close_el(&x);
    close_el(&x);
    return doc_finish(&x, buf, error);
}

char *lv_xml_domain(const VmConfig *cfg, const LvXmlEnv *env, GError **error)
{
    Xml x = {.arch = qemu_arch_get(cfg->arch)};
    xmlBufferPtr buf;
    if (!doc_start(&x, &buf, error))
        return NULL;
    x.qemu_args = g_ptr_array_new_with_free_func(g_free);
    open_el(&x, "domain");
    attr(&x, "type", env->kvm ? "kvm" : "qemu");
    check(&x, xmlTextWriterWriteAttributeNS(x.w, BAD_CAST "xmlns", BAD_CAST "qemu", NULL,
                                            BAD_CAST QEMU_NS));
    text_el(&x, "name", cfg->name);
    g_autofree char *mem = g_strdup_printf("%" G_GUINT64_FORMAT, cfg->memory >> 20);
    open_el(&x, "memory");
    attr(&x, "unit", "MiB");
    check(&x, xmlTextWriterWriteString(x.w, BAD_CAST mem));
    close_el(&x);
    g_autofree char *vcpus = g_strdup_printf("%u", qemu_argv_vcpus(cfg, env->host_cpus));
    text_el(&x, "vcpu", vcpus);
    add_os(&x, cfg);
    add_features(&x, cfg, env);
    /* -cpu host under KVM, max under TCG. */
    empty_el(&x, "cpu", "mode", env->kvm ? "host-passthrough" : "maximum", NULL);
    add_clock(&x, cfg, env);
    text_el(&x, "on_poweroff", "destroy");
    text_el(&x, "on_reboot", "restart");
    text_el(&x, "on_crash", "destroy");
    if (cfg->firmware == VM_FIRMWARE_UEFI && cfg->secure_boot && x.arch->secure_boot_smm) {
        /* OVMF's SMM build has no S3 (ICH9-LPC.disable_s3=1). */
        open_el(&x, "pm");
        empty_el(&x, "suspend-to-mem", "enabled", "no", NULL);
        close_el(&x);
    }
    open_el(&x, "devices");
    add_storage(&x, cfg, env);
    add_display(&x, cfg);
    add_channels(&x, env);
    add_tpm(&x, cfg);
    add_shares(&x, cfg);
    add_usb(&x, cfg);
    /* -nodefaults: no balloon. */
    empty_el(&x, "memballoon", "model", "none", NULL);
    close_el(&x);
    add_commandline(&x, cfg);
    close_el(&x);
    g_ptr_array_unref(x.qemu_args);
    return doc_finish(&x, buf, error);
}

char *lv_xml_cdrom(const char *dev, const char *bus, const char *path, GError **error)
{
    Xml x = {0};
    xmlBufferPtr buf;
    if (!doc_start(&x, &buf, error))
        return NULL;
    open_el(&x, "disk");
    attr(&x, "type", "file");
    attr(&x, "device", "cdrom");
    empty_el(&x, "driver", "name", "qemu", "type", "raw", NULL);
    if (path)
        empty_el(&x, "source", "file", path, NULL);
    empty_el(&x, "target", "dev", dev, "bus", bus ? bus : "sata", NULL);
    empty_el(&x, "readonly", NULL);
    close_el(&x);
    return doc_finish(&x, buf, error);
}

char *lv_xml_snapshot(const char *name, GError **error)
{
    Xml x = {0};
    xmlBufferPtr buf;
    if (!doc_start(&x, &buf, error))
        return NULL;
    open_el(&x, "domainsnapshot");
    text_el(&x, "name", name);
    close_el(&x);
    return doc_finish(&x, buf, error);
}
