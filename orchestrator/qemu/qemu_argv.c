#include "qemu/qemu_argv.h"

#include "common/error.h"
#include "common/json_build.h"
#include "qemu/qemu_arch.h"
#include "qemu/qemu_opts.h"

#include <json-glib/json-glib.h>

#include <string.h>

#define UEFI_VARS_FILE "uefi-vars.fd"

char *qemu_argv_runtime_path(const QemuArgvEnv *env, const char *name)
{
    return g_build_filename(env->runtime_dir, name, NULL);
}

unsigned qemu_argv_vcpus(const VmConfig *cfg, unsigned host_cpus)
{
    switch (cfg->performance) {
    case VM_PERF_POWERSAVE:
        return MAX(1u, cfg->cpus / 2);
    case VM_PERF_TURBO:
        return MAX(cfg->cpus, host_cpus);
    case VM_PERF_STANDARD:
        break;
    }
    return cfg->cpus;
}

typedef struct {
    GPtrArray *argv;
    GError *error;
    const QemuArch *arch; /* the VM's row of the architecture table */
} Args;

static void arg(Args *a, const char *s)
{
    g_ptr_array_add(a->argv, g_strdup(s));
}

static void arg2(Args *a, const char *opt, const char *value)
{
    arg(a, opt);
    arg(a, value);
}

/* Append "@opt <finished opts>", remembering the first error. */
static void arg_opts(Args *a, const char *opt, QemuOpts *o)
{
    GError *e = NULL;
    char *s = qemu_opts_finish(o, &e);
    if (!s) {
        if (!a->error)
            a->error = e;
        else
            g_error_free(e);
        return;
    }
    arg(a, opt);
    g_ptr_array_add(a->argv, s);
}

static void chardev_socket(Args *a, const char *id, const char *path, const char *logfile)
{
    QemuOpts *o = qemu_opts_new("socket");
    qemu_opts_add(o, "id", id);
    qemu_opts_add(o, "path", path);
    qemu_opts_add(o, "server", "on");
    qemu_opts_add(o, "wait", "off");
    if (logfile) {
        /* Append: a start must never empty the log of the runs before it
         * (on a full file system nothing new could be written either). */
        qemu_opts_add(o, "logfile", logfile);
        qemu_opts_add(o, "logappend", "on");
    }
    arg_opts(a, "-chardev", o);
}

/* "-blockdev file" for @path, named "@node-file" (returned; caller frees). */
static char *blockdev_file(Args *a, const char *node, const char *path, bool read_only)
{
    char *file_node = g_strdup_printf("%s-file", node);
    QemuOpts *o = qemu_opts_new(NULL);
    qemu_opts_add(o, "driver", "file");
    qemu_opts_add(o, "filename", path);
    qemu_opts_add(o, "node-name", file_node);
    if (read_only)
        qemu_opts_add(o, "read-only", "on");
    else
        qemu_opts_add(o, "discard", "unmap");
    arg_opts(a, "-blockdev", o);
    return file_node;
}

/* A file node plus a format node on top: "-blockdev file" "-blockdev fmt".
 * @backing: for a qcow2 overlay, the node name of its backing, so that QEMU
 * never reads the backing's file name or format from the overlay's header. */
static void blockdev_backed(Args *a, const char *node, const char *path, const char *format,
                            bool read_only, const char *backing)
{
    g_autofree char *file_node = blockdev_file(a, node, path, read_only);
    QemuOpts *o = qemu_opts_new(NULL);
    qemu_opts_add(o, "driver", format);
    qemu_opts_add(o, "file", file_node);
    qemu_opts_add(o, "node-name", node);
    if (read_only)
        qemu_opts_add(o, "read-only", "on");
    else
        qemu_opts_add(o, "discard", "unmap");
    if (backing)
        qemu_opts_add(o, "backing", backing);
    arg_opts(a, "-blockdev", o);
}

static void blockdev(Args *a, const char *node, const char *path, const char *format,
                     bool read_only)
{
    blockdev_backed(a, node, path, format, read_only, NULL);
}

/* The read-only base of an overlay, in its recorded format. A qcow2 base gets
 * "backing": null, which only QEMU's JSON form of -blockdev can say. */
static void blockdev_base(Args *a, const char *node, const char *path, const char *format)
{
    if (strcmp(format, "qcow2")) {
        blockdev(a, node, path, format, true);
        return;
    }
    g_autofree char *file_node = blockdev_file(a, node, path, true);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "driver");
    json_builder_add_string_value(b, "qcow2");
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, file_node);
    json_builder_set_member_name(b, "node-name");
    json_builder_add_string_value(b, node);
    json_builder_set_member_name(b, "read-only");
    json_builder_add_boolean_value(b, TRUE);
    json_builder_set_member_name(b, "backing");
    json_builder_add_null_value(b);
    json_builder_end_object(b);
    arg(a, "-blockdev");
    g_ptr_array_add(a->argv, vd_json_builder_to_string(b));
}

static void add_cpu(Args *a, const VmConfig *cfg, const QemuArgvEnv *env)
{
    bool kvm = env->accel == VM_ACCEL_KVM;
    QemuOpts *o = qemu_opts_new(kvm ? "host" : "max");
    if (kvm && cfg->os == VM_OS_WINDOWS && a->arch->hyperv) {
        /* Hyper-V enlightenments: Windows runs markedly faster and keeps time
         * under KVM with these. TCG does not implement them. */
        static const char *const hv[] = {
            "hv-relaxed", "hv-vapic", "hv-spinlocks=0x1fff", "hv-vpindex", "hv-runtime",
            "hv-time", "hv-synic", "hv-stimer", "hv-frequencies", "hv-reset",
            "hv-tlbflush", "hv-ipi", NULL};
        for (int i = 0; hv[i]; i++)
            qemu_opts_flag(o, hv[i]);
    }
    arg_opts(a, "-cpu", o);
}

static void add_machine(Args *a, const VmConfig *cfg, const QemuArgvEnv *env)
{
    QemuOpts *o = qemu_opts_new(a->arch->machine);
    qemu_opts_flag(o, a->arch->machine_opts);
    if (cfg->firmware == VM_FIRMWARE_UEFI) {
        if (cfg->secure_boot && a->arch->secure_boot_smm)
            qemu_opts_add(o, "smm", "on");
        qemu_opts_add(o, "pflash0", "fw-code");
        qemu_opts_add(o, "pflash1", "fw-vars");
    }
    arg_opts(a, "-machine", o);
    if (env->accel == VM_ACCEL_KVM)
        arg2(a, "-accel", "kvm");
    else
        arg2(a, "-accel", "tcg,thread=multi");
}

static void add_firmware(Args *a, const VmConfig *cfg, const QemuArgvEnv *env)
{
    if (cfg->firmware != VM_FIRMWARE_UEFI)
        return;
    if (!env->ovmf_code) {
        if (!a->error)
            g_set_error(&a->error, VD_ERROR, VD_ERROR_NOT_FOUND,
                        "UEFI firmware (%s) was not found; install the %s package%s",
                        a->arch->firmware_name, a->arch->firmware_package,
                        a->arch->has_bios ? " or set firmware=bios" : "");
        return;
    }
    g_autofree char *vars = env->uefi_vars ? g_strdup(env->uefi_vars)
                                           : g_build_filename(env->vm_dir, UEFI_VARS_FILE, NULL);
    blockdev(a, "fw-code", env->ovmf_code, "raw", true);
    blockdev(a, "fw-vars", vars, "raw", false);
    if (cfg->secure_boot && a->arch->secure_boot_smm) {
        /* Only SMM code may write the Secure Boot variables; OVMF's SMM
         * build does not support S3 suspend, so the chipset must not offer it. */
        arg2(a, "-global", "driver=cfi.pflash01,property=secure,value=on");
        arg2(a, "-global", "ICH9-LPC.disable_s3=1");
    }
}

static void add_tpm(Args *a, const VmConfig *cfg, const QemuArgvEnv *env)
{
    if (!cfg->tpm)
        return;
    g_autofree char *sock = qemu_argv_runtime_path(env, "swtpm.sock");
    QemuOpts *o = qemu_opts_new("socket");
    qemu_opts_add(o, "id", "tpm-chr");
    qemu_opts_add(o, "path", sock);
    arg_opts(a, "-chardev", o);
    arg2(a, "-tpmdev", "emulator,id=tpm0,chardev=tpm-chr");
    g_autofree char *dev = g_strdup_printf("%s,tpmdev=tpm0", a->arch->tpm_device);
    arg2(a, "-device", dev);
}

static void add_monitors(Args *a, const QemuArgvEnv *env)
{
    g_autofree char *qmp = qemu_argv_runtime_path(env, "qmp.sock");
    chardev_socket(a, "qmp", qmp, NULL);
    arg2(a, "-mon", "chardev=qmp,mode=control");
    if (env->supervisor_qmp_fd >= 0) {
        /* The supervisor's own monitor: a connected socket QEMU inherits, so
         * no other process can take it and events reach the supervisor first. */
        QemuOpts *o = qemu_opts_new("socket");
        qemu_opts_add(o, "id", "qmp-supervisor");
        qemu_opts_addf(o, "fd", "%d", env->supervisor_qmp_fd);
        arg_opts(a, "-chardev", o);
        arg2(a, "-mon", "chardev=qmp-supervisor,mode=control");
    }
}

static void add_devices(Args *a, const VmConfig *cfg, const QemuArgvEnv *env)
{
    arg2(a, "-device", "qemu-xhci,id=usb");
    arg2(a, "-device", "usb-tablet,bus=usb.0");
    if (a->arch->usb_keyboard)
        arg2(a, "-device", "usb-kbd,bus=usb.0");
    arg2(a, "-device",
         cfg->os == VM_OS_LINUX ? a->arch->display_virtio : a->arch->display_compat);

    g_autofree char *vnc = qemu_argv_runtime_path(env, "vnc.sock");
    QemuOpts *o = qemu_opts_new(NULL);
    g_autofree char *vnc_unix = g_strdup_printf("unix:%s", vnc);
    /* -vnc's first field is positional: build "unix:PATH" escaped. */
    g_autofree char *vnc_esc = qemu_opts_escape(vnc_unix);
    qemu_opts_flag(o, vnc_esc);
    qemu_opts_add(o, "power-control", "off");
    arg_opts(a, "-vnc", o);
    arg2(a, "-display", "none");

    g_autofree char *qga = qemu_argv_runtime_path(env, "qga.sock");
    chardev_socket(a, "qga", qga, NULL);
    arg2(a, "-device", "virtio-serial-pci,id=vser");
    arg2(a, "-device", "virtserialport,bus=vser.0,chardev=qga,name=org.qemu.guest_agent.0");

    g_autofree char *serial = qemu_argv_runtime_path(env, "serial.sock");
    g_autofree char *serial_log = g_build_filename(env->vm_dir, "logs", "serial.log", NULL);
    chardev_socket(a, "serial0", serial, serial_log);
    arg2(a, "-serial", "chardev:serial0");
}

QemuOpts *qemu_argv_netdev_user(const VmConfig *cfg, const char *id)
{
    QemuOpts *o = qemu_opts_new("user");
    qemu_opts_add(o, "id", id);
    if (cfg->rdp_port)
        qemu_opts_addf(o, "hostfwd", "tcp:127.0.0.1:%u-:3389", cfg->rdp_port);
    for (char **f = cfg->forwards; f && *f; f++) {
        g_auto(GStrv) hp = g_strsplit(*f, ":", 2);
        qemu_opts_addf(o, "hostfwd", "tcp:127.0.0.1:%s-:%s", hp[0], hp[1] ? hp[1] : "");
    }
    return o;
}

const char *qemu_argv_nic_model(const VmConfig *cfg)
{
    /* Windows Setup has no virtio-net driver until virtio-win is installed. */
    bool in_box = cfg->os == VM_OS_WINDOWS && !cfg->virtio;
    return in_box ? qemu_arch_get(cfg->arch)->nic_in_box : "virtio-net-pci";
}

static void add_network(Args *a, const VmConfig *cfg)
{
    arg_opts(a, "-netdev", qemu_argv_netdev_user(cfg, "net0"));
    g_autofree char *nic = g_strdup_printf("%s,netdev=net0", qemu_argv_nic_model(cfg));
    arg2(a, "-device", nic);
}

/* CD drive @index (id cdN) with media node @node (NULL: empty); drive 0
 * boots second, after the disk. On the x86_64 AHCI bus the disk is port 0,
 * so drive N is port N + 1. */
static void add_cd(Args *a, unsigned index, const char *node)
{
    QemuOpts *o = qemu_opts_new(a->arch->cd_device);
    qemu_opts_addf(o, "id", "cd%u", index);
    if (a->arch->cd_bus_shared)
        qemu_opts_add(o, "bus", a->arch->cd_bus_prefix);
    else
        qemu_opts_addf(o, "bus", "%s%u", a->arch->cd_bus_prefix, index + 1);
    if (node)
        qemu_opts_add(o, "drive", node);
    if (index == 0)
        qemu_opts_add(o, "bootindex", "2");
    arg_opts(a, "-device", o);
}

static void add_storage(Args *a, const VmConfig *cfg, const QemuArgvEnv *env)
{
    /* Windows without virtio-win drivers: devices Setup drives in-box. */
    bool windows = cfg->os == VM_OS_WINDOWS && !cfg->virtio;
    if (cfg->disk) {
        g_autofree char *path = g_path_is_absolute(cfg->disk)
                                    ? g_strdup(cfg->disk)
                                    : g_build_filename(env->vm_dir, cfg->disk, NULL);
        /* The guest's device always uses node disk0: the disposable top when
         * there is one, else the VM's disk. An overlay's base and a
         * disposable top's backing are named explicitly (storage/vm_image.h). */
        const char *disk_node = env->disk_top ? "disk0-vm" : "disk0";
        if (cfg->base && !cfg->base_format) {
            if (!a->error)
                g_set_error(&a->error, VD_ERROR, VD_ERROR_INVALID,
                            "the format of the base %s is not recorded; set base-format=raw "
                            "(or qcow2)",
                            cfg->base);
        } else if (cfg->base) {
            blockdev_base(a, "disk0-base", cfg->base, cfg->base_format);
            blockdev_backed(a, disk_node, path, cfg->disk_format, false, "disk0-base");
        } else {
            blockdev(a, disk_node, path, cfg->disk_format, false);
        }
        if (env->disk_top)
            blockdev_backed(a, "disk0", env->disk_top, "qcow2", false, disk_node);
        /* Windows Setup cannot see virtio-blk without drivers: a disk it
         * drives in-box until then. */
        arg2(a, "-device", windows ? a->arch->disk_in_box : "virtio-blk-pci,drive=disk0,bootindex=1");
    }
    /* Always a CD drive, so media can be inserted while the VM runs; extra
     * CDs (virtio drivers, guest tools, answer file) are not bootable. */
    if (a->arch->cd_controller)
        arg2(a, "-device", a->arch->cd_controller);
    if (cfg->iso)
        blockdev(a, "cd0-media", cfg->iso, "raw", true);
    add_cd(a, 0, cfg->iso ? "cd0-media" : NULL);
    for (unsigned i = 0; cfg->cds && cfg->cds[i]; i++) {
        g_autofree char *node = g_strdup_printf("cd%u-media", i + 1);
        blockdev(a, node, cfg->cds[i], "raw", true);
        add_cd(a, i + 1, node);
    }
}

/* Shared folders as virtio-9p exports for guests that are not Windows (which
 * get them as RDP drives only). security_model=none: the guest works on the
 * host files as the user QEMU runs as, with the host's permission bits, so
 * files the guest writes are ordinary files of that user on the host (mapped-xattr
 * would hide the guest's owners and modes in user.virtfs.* attributes that
 * host programs ignore, and needs a file system with user xattrs). QEMU's
 * local backend resolves every path below the export's root without
 * following symlinks, so a symlink in PATH leads nowhere outside it; readonly
 * is enforced by QEMU (EROFS), whatever the guest mounts. */
static void add_shares(Args *a, const VmConfig *cfg)
{
    g_autoptr(GPtrArray) exports = vm_config_share_exports(cfg);
    for (guint i = 0; i < exports->len; i++) {
        const VmShareExport *e = g_ptr_array_index(exports, i);
        const VmShare sh = e->share;
        if (!e->tag)
            continue; /* Windows: RDP drives only */
        QemuOpts *o = qemu_opts_new("local");
        qemu_opts_addf(o, "id", "fs-%c", g_ascii_tolower(sh.letter));
        qemu_opts_add(o, "path", sh.path);
        qemu_opts_add(o, "security_model", "none");
        /* A folder that spans file systems keeps distinct inode numbers. */
        qemu_opts_add(o, "multidevs", "remap");
        if (sh.read_only)
            qemu_opts_add(o, "readonly", "on");
        arg_opts(a, "-fsdev", o);
        o = qemu_opts_new("virtio-9p-pci");
        qemu_opts_addf(o, "fsdev", "fs-%c", g_ascii_tolower(sh.letter));
        qemu_opts_add(o, "mount_tag", e->tag);
        arg_opts(a, "-device", o);
    }
}

/* Host USB devices passed through from the start, on the xHCI controller. A
 * device that is absent waits there until it appears (QEMU's usb-host). */
static void add_usb(Args *a, const VmConfig *cfg)
{
    for (char **u = cfg->usb; u && *u; u++) {
        VmUsbSpec spec;
        if (!vm_usb_spec_parse(*u, &spec, NULL))
            continue; /* vm_config_validate refused it */
        g_autofree char *id = vm_usb_spec_device_id(&spec);
        QemuOpts *o = qemu_opts_new("usb-host");
        qemu_opts_add(o, "bus", "usb.0");
        qemu_opts_add(o, "id", id);
        if (spec.by_id) {
            qemu_opts_addf(o, "vendorid", "0x%04x", spec.vendor);
            qemu_opts_addf(o, "productid", "0x%04x", spec.product);
        } else {
            qemu_opts_addf(o, "hostbus", "%u", spec.bus);
            qemu_opts_add(o, "hostport", spec.port);
        }
        arg_opts(a, "-device", o);
    }
}

static void add_kernel(Args *a, const VmConfig *cfg)
{
    if (!cfg->kernel)
        return;
    arg2(a, "-kernel", cfg->kernel);
    if (cfg->initrd)
        arg2(a, "-initrd", cfg->initrd);
    if (cfg->append)
        arg2(a, "-append", cfg->append);
}

char **qemu_argv_build(const VmConfig *cfg, const QemuArgvEnv *env, GError **error)
{
    Args a = {.argv = g_ptr_array_new_with_free_func(g_free), .arch = qemu_arch_get(cfg->arch)};
    g_autofree char *name_opt = g_strdup_printf("%s,process=vmdesk-%s", cfg->name, cfg->name);

    arg(&a, env->qemu_binary ? env->qemu_binary : a.arch->qemu_binary);
    arg2(&a, "-name", name_opt);
    arg(&a, "-no-user-config");
    arg(&a, "-nodefaults");
    add_machine(&a, cfg, env);
    add_cpu(&a, cfg, env);
    g_autofree char *smp = g_strdup_printf("%u", qemu_argv_vcpus(cfg, env->host_cpus));
    arg2(&a, "-smp", smp);
    g_autofree char *mem = g_strdup_printf("%" G_GUINT64_FORMAT "M", cfg->memory >> 20);
    arg2(&a, "-m", mem);
    arg2(&a, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    arg2(&a, "-rtc", cfg->os == VM_OS_WINDOWS ? "base=localtime,driftfix=slew" : "base=utc");
    add_firmware(&a, cfg, env);
    add_tpm(&a, cfg, env);
    add_monitors(&a, env);
    add_devices(&a, cfg, env);
    add_network(&a, cfg);
    add_storage(&a, cfg, env);
    add_shares(&a, cfg);
    add_usb(&a, cfg);
    add_kernel(&a, cfg);
    for (char **q = cfg->qemu_args; q && *q; q++)
        arg(&a, *q);

    if (a.error) {
        g_propagate_error(error, a.error);
        g_ptr_array_unref(a.argv);
        return NULL;
    }
    g_ptr_array_add(a.argv, NULL);
    return (char **)g_ptr_array_free(a.argv, FALSE);
}
