/* unit-config: parsing, validating, serializing and editing a VM's config
 * (orchestrator/vm/vm_config.c). */
#include "common/error.h"
#include "common/text.h"
#include "qemu/qemu_argv.h"
#include "test_util.h"
#include "vm/vm_config.h"

#include <string.h>

#define ORIGIN "/home/u/.local/share/vmdesk/vms/t/vm.conf"

static VmConfig *load(const char *text, GError **error)
{
    return vm_config_from_data(text, strlen(text), ORIGIN, error);
}

static const char full_config[] = "[vm]\n"
                                  "name=full\n"
                                  "os=windows\n"
                                  "memory=8G\n"
                                  "cpus=4\n"
                                  "firmware=uefi\n"
                                  "tpm=on\n"
                                  "secure-boot=on\n"
                                  "accel=kvm\n"
                                  "performance=turbo\n"
                                  "disk=disk.qcow2\n"
                                  "disk-format=qcow2\n"
                                  "iso=/srv/iso/Win11.iso\n"
                                  "kernel=/boot/vmlinuz\n"
                                  "initrd=/boot/initrd.img\n"
                                  "append=console=ttyS0 root=/dev/vda1\n"
                                  "rdp-port=47101\n"
                                  "forward=8080:80;2222:22;\n"
                                  "qemu-arg=-device;virtio-rng-pci;\n";

static void test_parse_full(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VmConfig) c = load(full_config, &err);
    g_assert_no_error(err);
    g_assert_nonnull(c);
    g_assert_cmpstr(c->name, ==, "full");
    g_assert_cmpint(c->os, ==, VM_OS_WINDOWS);
    g_assert_cmpuint(c->memory, ==, 8ull << 30);
    g_assert_cmpuint(c->cpus, ==, 4);
    g_assert_cmpint(c->firmware, ==, VM_FIRMWARE_UEFI);
    g_assert_true(c->tpm);
    g_assert_true(c->secure_boot);
    g_assert_cmpint(c->accel, ==, VM_ACCEL_KVM);
    g_assert_cmpint(c->performance, ==, VM_PERF_TURBO);
    g_assert_cmpstr(c->disk, ==, "disk.qcow2");
    g_assert_cmpstr(c->disk_format, ==, "qcow2");
    g_assert_cmpstr(c->iso, ==, "/srv/iso/Win11.iso");
    g_assert_cmpstr(c->kernel, ==, "/boot/vmlinuz");
    g_assert_cmpstr(c->initrd, ==, "/boot/initrd.img");
    g_assert_cmpstr(c->append, ==, "console=ttyS0 root=/dev/vda1");
    g_assert_cmpuint(c->rdp_port, ==, 47101);
    g_assert_cmpstrv(c->forwards, ((const char *const[]){"8080:80", "2222:22", NULL}));
    g_assert_cmpstrv(c->qemu_args, ((const char *const[]){"-device", "virtio-rng-pci", NULL}));
}

static void test_parse_minimal(void)
{
    /* Only the name: the defaults, with tpm and secure-boot off. */
    g_autoptr(GError) err = NULL;
    g_autoptr(VmConfig) c = load("# a comment\n\n[vm]\nname=tiny\n", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(c->name, ==, "tiny");
    g_assert_cmpint(c->os, ==, VM_OS_LINUX);
    g_assert_cmpuint(c->memory, ==, 4ull << 30);
    g_assert_cmpuint(c->cpus, ==, 2);
    g_assert_cmpint(c->firmware, ==, VM_FIRMWARE_UEFI);
    g_assert_false(c->tpm);
    g_assert_false(c->secure_boot);
    g_assert_cmpint(c->accel, ==, VM_ACCEL_AUTO);
    g_assert_cmpint(c->performance, ==, VM_PERF_STANDARD);
    g_assert_null(c->disk);
    g_assert_cmpstr(c->disk_format, ==, "qcow2");
    g_assert_null(c->iso);
    g_assert_null(c->kernel);
    g_assert_null(c->forwards);
    g_assert_null(c->qemu_args);
    g_assert_cmpuint(c->rdp_port, ==, 0);

    /* Values are case-insensitive where they are words; a bare memory
     * number is MiB. */
    g_autoptr(VmConfig) d =
        load("[vm]\nname=x\nos=Windows\nmemory=2048\nfirmware=BIOS\ntpm=yes\naccel=TCG\n", &err);
    g_assert_no_error(err);
    g_assert_cmpint(d->os, ==, VM_OS_WINDOWS);
    g_assert_cmpuint(d->memory, ==, 2048ull << 20);
    g_assert_cmpint(d->firmware, ==, VM_FIRMWARE_BIOS);
    g_assert_true(d->tpm);
    g_assert_cmpint(d->accel, ==, VM_ACCEL_TCG);
}

/* Each bad file: the error is VD_ERROR_INVALID and its message names the file
 * and the key (or section) at fault. */
static void test_parse_bad(void)
{
    static const struct {
        const char *text;
        const char *names; /* besides ORIGIN, the message contains this */
    } bad[] = {
        {"this is not a key file\n", "malformed"},
        {"[vm\nname=x\n", "malformed"},
        {"", "name="},
        {"[vm]\nos=linux\n", "name="},
        {"[other]\nname=x\n", "name="},
        {"[vm]\nname=x\nmemroy=4G\n", "\"memroy\""},
        {"[vm]\nname=x\n[network]\nmode=user\n", "section \"network\""},
        {"[vm]\nname=x\nmemory=4Q\n", "memory"},
        {"[vm]\nname=x\nmemory=32M\n", "memory"},
        {"[vm]\nname=x\nmemory=65537K\n", "memory"},
        {"[vm]\nname=x\nmemory=\n", "memory"},
        {"[vm]\nname=x\ncpus=0\n", "cpus"},
        {"[vm]\nname=x\ncpus=256\n", "cpus"},
        {"[vm]\nname=x\ncpus=two\n", "cpus"},
        {"[vm]\nname=x\ncpus=-1\n", "cpus"},
        {"[vm]\nname=x\nos=beos\n", "os"},
        {"[vm]\nname=x\nfirmware=coreboot\n", "firmware"},
        {"[vm]\nname=x\ntpm=maybe\n", "tpm"},
        {"[vm]\nname=x\naccel=hvf\n", "accel"},
        {"[vm]\nname=x\nperformance=ludicrous\n", "performance"},
        {"[vm]\nname=x\ndisk-format=vmdk\n", "disk-format"},
        {"[vm]\nname=x\ninitrd=/boot/initrd.img\n", "initrd"},
        {"[vm]\nname=x\nappend=quiet\n", "append"},
        {"[vm]\nname=x\nfirmware=bios\nsecure-boot=on\n", "secure-boot"},
        {"[vm]\nname=x\nforward=80\n", "forward"},
        {"[vm]\nname=x\nforward=1:80\n", "forward"},
        {"[vm]\nname=x\nforward=8080:99999\n", "forward"},
        {"[vm]\nname=x\nforward=8080:0\n", "forward"},
        {"[vm]\nname=x\nforward=8080:80:1\n", "forward"},
        {"[vm]\nname=x\nforward=http:80\n", "forward"},
        {"[vm]\nname=x\nshare=Z:/home\n", "share"},
        {"[vm]\nname=x\nshare=ZZ=/home\n", "share"},
        {"[vm]\nname=x\nshare=Z=relative\n", "share"},
        {"[vm]\nname=x\nshare=1=/home\n", "share"},
        {"[vm]\nname=x\nrdp-port=47101\nforward=47101:3389\n", "forward 47101:3389"},
        {"[vm]\nname=x\nforward=8080:80;8080:81\n", "forward 8080:80"},
        {"[vm]\nname=x\nrdp-port=80\n", "rdp-port"},
        {"[vm]\nname=x\nrdp-port=65536\n", "rdp-port"},
        {"[vm]\nname=x\nkernel=/k\nappend=quiet\\nsingle\n", "append"},
        {"[vm]\nname=x\nkernel=/k\nappend=a\\tb\n", "append"},
        {"[vm]\nname=x\ndisk=a\\nb\n", "disk"},
        {"[vm]\nname=x\niso=/srv/a\\x.iso\n", "iso"},   /* invalid escape */
        {"[vm]\nname=x\ndisk=/a\\;b\niso=/b\n", "disk"},
        {"[vm]\nname=x\\y\\\n", "\"name\" ends with a lone backslash"}, /* GLib warns */
        {"[vm]\nname=x\nkernel=/k\nappend=a\\\\\\\n", "\"append\" ends"},
        {"[vm]\nname=x\nqemu-arg=-S;a\\rb\n", "qemu-arg"},
        {"[vm]\nname=x\nqemu-arg=;\n", "qemu-arg"},
        {"[vm]\nname=../etc\n", "name"},
        {"[vm]\nname=\n", "name"},
        {"[vm]\nname=x\nkernel=/k\xff\n", "kernel"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VmConfig) c = load(bad[i].text, &err);
        if (c)
            g_error("bad config #%zu was accepted:\n%s", i, bad[i].text);
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        if (!strstr(err->message, ORIGIN) || !strstr(err->message, bad[i].names))
            g_error("bad config #%zu: message \"%s\" does not name %s and %s", i, err->message,
                    ORIGIN, bad[i].names);
    }
}

static void assert_same_config(const VmConfig *a, const VmConfig *b)
{
    g_assert_cmpstr(a->name, ==, b->name);
    g_assert_cmpint(a->os, ==, b->os);
    g_assert_cmpuint(a->memory, ==, b->memory);
    g_assert_cmpuint(a->cpus, ==, b->cpus);
    g_assert_cmpint(a->firmware, ==, b->firmware);
    g_assert_cmpint(a->tpm, ==, b->tpm);
    g_assert_cmpint(a->secure_boot, ==, b->secure_boot);
    g_assert_cmpint(a->accel, ==, b->accel);
    g_assert_cmpint(a->performance, ==, b->performance);
    g_assert_cmpstr(a->disk, ==, b->disk);
    g_assert_cmpstr(a->disk_format, ==, b->disk_format);
    g_assert_cmpstr(a->iso, ==, b->iso);
    g_assert_cmpstr(a->kernel, ==, b->kernel);
    g_assert_cmpstr(a->initrd, ==, b->initrd);
    g_assert_cmpstr(a->append, ==, b->append);
    g_assert_cmpuint(a->rdp_port, ==, b->rdp_port);
    g_assert_cmpstrv(a->forwards, b->forwards);
    g_assert_cmpstrv(a->qemu_args, b->qemu_args);
}

/* to_data -> from_data gives the same config and the same text again. */
static void round_trip(const VmConfig *cfg)
{
    gsize len = 0;
    g_autofree char *text = vm_config_to_data(cfg, &len);
    g_assert_cmpuint(len, ==, strlen(text));
    g_autoptr(GError) err = NULL;
    g_autoptr(VmConfig) back = vm_config_from_data(text, len, "round-trip", &err);
    g_assert_no_error(err);
    assert_same_config(cfg, back);
    g_autofree char *again = vm_config_to_data(back, NULL);
    g_assert_cmpstr(again, ==, text);
}

static void test_round_trip(void)
{
    g_autoptr(VmConfig) full = load(full_config, NULL);
    g_assert_nonnull(full);
    round_trip(full);

    g_autoptr(VmConfig) def = vm_config_new("defaults");
    round_trip(def);

    /* Odd but valid values: separators, escapes, spaces at the ends, unicode. */
    g_autoptr(VmConfig) odd = vm_config_new("odd.name-1_x");
    odd->memory = 1536ull << 20;
    odd->cpus = 255;
    odd->firmware = VM_FIRMWARE_BIOS;
    odd->performance = VM_PERF_POWERSAVE;
    odd->disk = g_strdup("/data/vm disks/a,b;c=d\\e.qcow2");
    g_free(odd->disk_format);
    odd->disk_format = g_strdup("raw");
    odd->iso = g_strdup(" leading and trailing space ");
    odd->kernel = g_strdup("/boot/vmlinuz-6.1 #1");
    odd->initrd = g_strdup("C:\\initrd\\"); /* a backslash at the end, escaped */
    odd->append = g_strdup(" root=/dev/vda1 init=/bin/sh -- \"quoted; text\" ünïcödé ✓ \\n ");
    odd->rdp_port = 65535;
    odd->forwards = g_strdupv((char *[]){"1024:1", "65534:65535", NULL});
    odd->qemu_args = g_strdupv((char *[]){"-device", "virtio-rng-pci,id=a;b", " spaced ",
                                          "back\\slash", "#hash", "[group]", NULL});
    g_autoptr(GError) err = NULL;
    g_assert_true(vm_config_validate(odd, &err));
    g_assert_no_error(err);
    round_trip(odd);

    /* Memory that is not a whole GiB survives as MiB. */
    g_autofree char *text = vm_config_to_data(odd, NULL);
    g_assert_nonnull(strstr(text, "\nmemory=1536M\n"));

    /* The output is stable: the same config, the same text. */
    g_autofree char *t1 = vm_config_to_data(full, NULL);
    g_autofree char *t2 = vm_config_to_data(full, NULL);
    g_assert_cmpstr(t1, ==, t2);
}

static void test_save_load(void)
{
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *path = g_build_filename(dir, "vm.conf", NULL);
    g_autoptr(VmConfig) full = load(full_config, NULL);
    g_autoptr(GError) err = NULL;
    g_assert_true(vm_config_save(full, path, &err));
    g_assert_no_error(err);
    g_autoptr(VmConfig) back = vm_config_load(path, &err);
    g_assert_no_error(err);
    assert_same_config(full, back);

    /* An error in a loaded file names that file. */
    tu_write_file(path, "[vm]\nname=x\ncpus=lots\n");
    g_assert_null(vm_config_load(path, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, path));
    g_assert_nonnull(strstr(err->message, "cpus"));
    g_clear_error(&err);

    g_autofree char *missing = g_build_filename(dir, "none.conf", NULL);
    g_assert_null(vm_config_load(missing, &err));
    g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    tu_rm_rf(dir);
}

/* --- vm_config_set --- */

static void set_ok(VmConfig *c, const char *assignment)
{
    g_autoptr(GError) err = NULL;
    bool next = true;
    if (!vm_config_set(c, assignment, false, &next, &err))
        g_error("%s: %s", assignment, err->message);
    g_assert_false(next);
}

static void set_fails(VmConfig *c, const char *assignment, bool running, int code,
                      const char *in_message)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *before = vm_config_to_data(c, NULL);
    if (vm_config_set(c, assignment, running, NULL, &err))
        g_error("%s was accepted", assignment);
    g_assert_error(err, VD_ERROR, code);
    if (!strstr(err->message, in_message))
        g_error("%s: message \"%s\" lacks \"%s\"", assignment, err->message, in_message);
    if (code == VD_ERROR_STATE) {
        /* Refused before anything changed. */
        g_autofree char *after = vm_config_to_data(c, NULL);
        g_assert_cmpstr(after, ==, before);
    }
}

static void test_set_each_key(void)
{
    g_autoptr(VmConfig) c = vm_config_new("edit");
    set_ok(c, "os=windows");
    g_assert_cmpint(c->os, ==, VM_OS_WINDOWS);
    set_ok(c, "memory=8G");
    g_assert_cmpuint(c->memory, ==, 8ull << 30);
    set_ok(c, "memory=3072");
    g_assert_cmpuint(c->memory, ==, 3072ull << 20);
    set_ok(c, "cpus=6");
    g_assert_cmpuint(c->cpus, ==, 6);
    set_ok(c, "firmware=bios");
    g_assert_cmpint(c->firmware, ==, VM_FIRMWARE_BIOS);
    set_ok(c, "firmware=uefi");
    set_ok(c, "tpm=on");
    g_assert_true(c->tpm);
    set_ok(c, "secure-boot=true");
    g_assert_true(c->secure_boot);
    set_ok(c, "accel=tcg");
    g_assert_cmpint(c->accel, ==, VM_ACCEL_TCG);
    set_ok(c, "performance=powersave");
    g_assert_cmpint(c->performance, ==, VM_PERF_POWERSAVE);
    set_ok(c, "disk=/var/lib/images/edit.img");
    g_assert_cmpstr(c->disk, ==, "/var/lib/images/edit.img");
    set_ok(c, "disk-format=raw");
    g_assert_cmpstr(c->disk_format, ==, "raw");
    set_ok(c, "iso=/srv/iso/a.iso");
    g_assert_cmpstr(c->iso, ==, "/srv/iso/a.iso");
    set_ok(c, "kernel=/boot/vmlinuz");
    g_assert_cmpstr(c->kernel, ==, "/boot/vmlinuz");
    set_ok(c, "initrd=/boot/initrd.img");
    g_assert_cmpstr(c->initrd, ==, "/boot/initrd.img");
    set_ok(c, "append=console=ttyS0 a=b");
    g_assert_cmpstr(c->append, ==, "console=ttyS0 a=b"); /* split at the first '=' only */
    set_ok(c, "rdp-port=47200");
    g_assert_cmpuint(c->rdp_port, ==, 47200);
    set_ok(c, "forward=8080:80");
    g_assert_cmpstrv(c->forwards, ((const char *const[]){"8080:80", NULL}));
    set_ok(c, "qemu-arg=-S");
    g_assert_cmpstrv(c->qemu_args, ((const char *const[]){"-S", NULL}));
    set_ok(c, "virtio=on");
    g_assert_true(c->virtio);
    set_ok(c, "cd=/srv/iso/virtio-win.iso");
    set_ok(c, "cd+=/vms/edit/tools.iso");
    g_assert_cmpstrv(c->cds, ((const char *const[]){"/srv/iso/virtio-win.iso",
                                                    "/vms/edit/tools.iso", NULL}));
    set_fails(c, "cd+=relative.iso", false, VD_ERROR_INVALID, "absolute path");
    set_ok(c, "cd+=/c.iso");
    set_ok(c, "cd+=/d.iso");
    set_fails(c, "cd+=/e.iso", false, VD_ERROR_INVALID, "at most 4 extra CD drives");
    set_fails(c, "cd+=/e.iso", true, VD_ERROR_STATE, "cannot change while the VM runs");
    set_fails(c, "virtio=off", true, VD_ERROR_STATE, "cannot change while the VM runs");
    {
        /* Saved and loaded back the same. */
        g_autofree char *data = vm_config_to_data(c, NULL);
        g_autoptr(GError) err = NULL;
        g_autoptr(VmConfig) back = vm_config_from_data(data, strlen(data), "test", &err);
        g_assert_no_error(err);
        g_assert_true(back->virtio);
        g_assert_cmpstrv(back->cds, (const char *const *)c->cds);
    }
    set_ok(c, "cd=");
    g_assert_null(c->cds);
    set_ok(c, "virtio=off");
    g_assert_false(c->virtio);

    /* Empty values clear optional scalars (in an order validation allows). */
    set_ok(c, "iso=");
    g_assert_null(c->iso);
    set_ok(c, "append=");
    set_ok(c, "initrd=");
    set_ok(c, "kernel=");
    g_assert_null(c->kernel);
    g_assert_null(c->initrd);
    g_assert_null(c->append);

    /* An overlay's base needs a qcow2 disk; on-shutdown is its policy. */
    GError *err = NULL;
    g_assert_false(vm_config_set(c, "base=/srv/base.img", false, NULL, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    set_ok(c, "disk-format=qcow2");
    set_ok(c, "base=/srv/base.img");
    g_assert_cmpstr(c->base, ==, "/srv/base.img");
    /* The base's format, recorded at create; only raw or qcow2, only stopped. */
    set_ok(c, "base-format=raw");
    g_assert_cmpstr(c->base_format, ==, "raw");
    g_assert_false(vm_config_set(c, "base-format=vmdk", false, NULL, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(vm_config_set(c, "base-format=qcow2", true, NULL, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_STATE);
    g_clear_error(&err);
    g_assert_cmpstr(c->base_format, ==, "raw");
    g_assert_false(vm_config_set(c, "base=relative.img", false, NULL, &err));
    g_clear_error(&err);
    g_assert_false(vm_config_set(c, "base=/srv/other.img", true, NULL, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_STATE);
    g_clear_error(&err);
    for (int i = 0; i < 4; i++) {
        const char *v[] = {"keep", "commit", "discard", "ask"};
        g_autofree char *a = g_strdup_printf("on-shutdown=%s", v[i]);
        bool later = false;
        g_assert_true(vm_config_set(c, a, true, &later, NULL));
        g_assert_true(later);
        g_assert_cmpstr(vm_on_shutdown_to_string(c->on_shutdown), ==, v[i]);
    }
    g_assert_false(vm_config_set(c, "on-shutdown=later", false, NULL, &err));
    g_clear_error(&err);
    {
        gsize len = 0;
        g_autofree char *data = vm_config_to_data(c, &len);
        g_autoptr(VmConfig) back = vm_config_from_data(data, len, "round trip", NULL);
        g_assert_nonnull(back);
        g_assert_cmpstr(back->base, ==, "/srv/base.img");
        g_assert_cmpstr(back->base_format, ==, "raw");
        g_assert_cmpint(back->on_shutdown, ==, VM_ON_SHUTDOWN_ASK);
    }
    set_ok(c, "base=");
    g_assert_null(c->base);

    /* The architecture: only stopped; saved only when not x86_64 (what a
     * config without the key means); aarch64 has no BIOS to boot a disk. */
    g_assert_cmpint(c->arch, ==, VM_ARCH_X86_64);
    {
        g_autofree char *data = vm_config_to_data(c, NULL);
        g_assert_null(strstr(data, "arch="));
    }
    set_fails(c, "arch=aarch64", true, VD_ERROR_STATE, "cannot change while the VM runs");
    set_fails(c, "arch=arm64", false, VD_ERROR_INVALID, "x86_64|aarch64");
    set_ok(c, "arch=aarch64");
    g_assert_cmpint(c->arch, ==, VM_ARCH_AARCH64);
    set_ok(c, "secure-boot=off");
    set_fails(c, "firmware=bios", false, VD_ERROR_INVALID, "aarch64 VMs have no BIOS");
    set_ok(c, "firmware=uefi");
    {
        gsize len = 0;
        g_autofree char *data = vm_config_to_data(c, &len);
        g_assert_nonnull(strstr(data, "\narch=aarch64\n"));
        g_autoptr(VmConfig) back = vm_config_from_data(data, len, "round trip", NULL);
        g_assert_nonnull(back);
        g_assert_cmpint(back->arch, ==, VM_ARCH_AARCH64);
    }
    set_ok(c, "arch=x86_64");

    /* Every key the table advertises was covered above. */
    const char *const *keys = vm_config_keys();
    g_assert_cmpuint(g_strv_length((char **)keys), ==, 26); /* + usb, idle-suspend: test_devices; arch */
    g_assert_true(g_strv_contains(keys, "secure-boot"));
    g_assert_true(g_strv_contains(keys, "qemu-arg"));
}

/* Shares (read-only ones and their 9p tags), USB devices, idle-suspend. */
static void test_devices(void)
{
    g_autoptr(VmConfig) c = vm_config_new("dev");
    set_ok(c, "share+=Z=/home/me/Documents");
    set_ok(c, "share+=y:ro=/srv/media,1");
    VmShare a, b;
    g_assert_true(vm_share_parse(c->shares[0], &a));
    g_assert_true(vm_share_parse(c->shares[1], &b));
    g_assert_cmpint(a.letter, ==, 'Z');
    g_assert_false(a.read_only);
    g_assert_cmpstr(a.path, ==, "/home/me/Documents");
    g_assert_cmpint(b.letter, ==, 'Y');
    g_assert_true(b.read_only);
    g_assert_cmpstr(b.path, ==, "/srv/media,1");
    g_autofree char *ta = vm_share_tag(&a, 0), *tb = vm_share_tag(&b, 1);
    g_assert_cmpstr(ta, ==, "vmdesk_share");
    g_assert_cmpstr(tb, ==, "vmdesk_share_y");
    set_fails(c, "share+=z=/other", false, VD_ERROR_INVALID, "same letter Z:");
    set_fails(c, "share+=X:rw=/srv", false, VD_ERROR_INVALID, "LETTER:ro=/absolute/path");
    set_fails(c, "share+=X:ro=srv", false, VD_ERROR_INVALID, "share");

    set_ok(c, "usb+=046D:C52B");
    set_ok(c, "usb+=3-1.4");
    set_fails(c, "usb+=046d:c52b", false, VD_ERROR_INVALID, "listed twice");
    set_fails(c, "usb+=46d", false, VD_ERROR_INVALID, "VENDOR:PRODUCT");
    set_fails(c, "usb+=1-2-3", false, VD_ERROR_INVALID, "BUS-PORT");
    set_fails(c, "usb+=0-1", false, VD_ERROR_INVALID, "usb");
    set_fails(c, "usb+=1-0", false, VD_ERROR_INVALID, "usb");
    set_fails(c, "usb+=1-1.2.3.4.5.6.7.8", false, VD_ERROR_INVALID, "usb");
    set_fails(c, "usb+=12345:1", false, VD_ERROR_INVALID, "usb");
    VmUsbSpec u;
    g_assert_true(vm_usb_spec_parse(c->usb[0], &u, NULL));
    g_autofree char *canon = vm_usb_spec_to_string(&u), *id = vm_usb_spec_device_id(&u);
    g_assert_cmpstr(canon, ==, "046d:c52b");
    g_assert_cmpstr(id, ==, "usb-046d-c52b");
    g_assert_true(vm_usb_spec_parse(c->usb[1], &u, NULL));
    g_assert_false(u.by_id);
    g_assert_cmpuint(u.bus, ==, 3);
    g_assert_cmpstr(u.port, ==, "1.4");

    /* idle-suspend: off by default, durations with units, refused nonsense. */
    g_assert_cmpuint(c->idle_suspend, ==, 0);
    set_ok(c, "idle-suspend=10m");
    g_assert_cmpuint(c->idle_suspend, ==, 600);
    set_ok(c, "idle-suspend=90");
    g_assert_cmpuint(c->idle_suspend, ==, 90);
    set_ok(c, "idle-suspend=2h");
    g_assert_cmpuint(c->idle_suspend, ==, 7200);
    set_fails(c, "idle-suspend=soon", false, VD_ERROR_INVALID, "not a duration");
    set_fails(c, "idle-suspend=-1m", false, VD_ERROR_INVALID, "not a duration");
    set_fails(c, "idle-suspend=8000h", false, VD_ERROR_INVALID, "at most a week");
    g_autofree char *f1 = vm_duration_format(600), *f2 = vm_duration_format(90),
                    *f3 = vm_duration_format(0);
    g_assert_cmpstr(f1, ==, "10m");
    g_assert_cmpstr(f2, ==, "90s");
    g_assert_cmpstr(f3, ==, "off");

    /* All of it survives the file; a running VM takes them (no refusal). */
    gsize len = 0;
    g_autofree char *text = vm_config_to_data(c, &len);
    g_autoptr(GError) err = NULL;
    g_autoptr(VmConfig) back = vm_config_from_data(text, len, "t", &err);
    g_assert_no_error(err);
    g_assert_cmpstrv(back->shares, (const char *const *)c->shares);
    g_assert_cmpstrv(back->usb, (const char *const *)c->usb);
    g_assert_cmpuint(back->idle_suspend, ==, 7200);
    bool later = false;
    g_assert_true(vm_config_set(c, "idle-suspend=off", true, &later, &err));
    g_assert_no_error(err);
    g_assert_true(vm_config_set(c, "usb=", true, &later, &err));
    g_assert_no_error(err);
    g_assert_null(c->usb);
    g_autofree char *off = vm_config_to_data(c, &len);
    g_assert_null(strstr(off, "idle-suspend"));
}

static void test_set_lists(void)
{
    g_autoptr(VmConfig) c = vm_config_new("lists");
    set_ok(c, "forward+=8080:80");
    set_ok(c, "forward+=2222:22");
    g_assert_cmpstrv(c->forwards, ((const char *const[]){"8080:80", "2222:22", NULL}));
    set_ok(c, "qemu-arg+=-device");
    set_ok(c, "qemu-arg+=virtio-rng-pci,id=x=y");
    g_assert_cmpstrv(c->qemu_args,
                     ((const char *const[]){"-device", "virtio-rng-pci,id=x=y", NULL}));
    /* KEY=VALUE replaces a list; KEY= clears it. */
    set_ok(c, "forward=9090:90");
    g_assert_cmpstrv(c->forwards, ((const char *const[]){"9090:90", NULL}));
    set_ok(c, "forward=");
    g_assert_null(c->forwards);
    set_ok(c, "qemu-arg=");
    g_assert_null(c->qemu_args);
    /* Shared folders: a drive letter and an absolute path; the file keeps them. */
    set_ok(c, "share+=Z=/home/me/Documents");
    set_ok(c, "share+=y=/srv/a;b");
    g_assert_cmpstrv(c->shares,
                     ((const char *const[]){"Z=/home/me/Documents", "y=/srv/a;b", NULL}));
    gsize len = 0;
    g_autofree char *text = vm_config_to_data(c, &len);
    g_autoptr(GError) err = NULL;
    g_autoptr(VmConfig) back = vm_config_from_data(text, len, "t", &err);
    g_assert_no_error(err);
    g_assert_cmpstrv(back->shares, (const char *const *)c->shares);
    set_fails(c, "share+=Z", false, VD_ERROR_INVALID, "LETTER=/absolute/path");
    set_fails(c, "share+=Z=~/x", false, VD_ERROR_INVALID, "share");
    set_ok(c, "share=");
    g_assert_null(c->shares);

    /* += is for lists only; bad list values are refused and change nothing. */
    set_fails(c, "memory+=1G", false, VD_ERROR_INVALID, "use memory=VALUE");
    set_fails(c, "cpus+=1", false, VD_ERROR_INVALID, "cpus");
    set_fails(c, "forward+=80", false, VD_ERROR_INVALID, "forward");
    set_fails(c, "forward+=8080:99999", false, VD_ERROR_INVALID, "forward");
    set_fails(c, "qemu-arg+=", false, VD_ERROR_INVALID, "qemu-arg");
    set_fails(c, "qemu-arg+=a\x01z", false, VD_ERROR_INVALID, "qemu-arg");
    g_assert_null(c->forwards);
    g_assert_null(c->qemu_args);

    /* A forward that collides with the RDP port or another forward. */
    set_ok(c, "rdp-port=47101");
    set_fails(c, "forward+=47101:3389", false, VD_ERROR_INVALID, "RDP port");
    set_ok(c, "forward=");
    set_ok(c, "forward+=8080:80");
    set_fails(c, "forward+=8080:8080", false, VD_ERROR_INVALID, "same host port");
}

static void test_set_bad(void)
{
    g_autoptr(VmConfig) c = vm_config_new("bad");
    set_fails(c, "memory", false, VD_ERROR_INVALID, "KEY=VALUE");
    set_fails(c, "=8G", false, VD_ERROR_INVALID, "KEY=VALUE");
    set_fails(c, "colour=blue", false, VD_ERROR_INVALID, "unknown setting \"colour\"");
    set_fails(c, "colour=blue", false, VD_ERROR_INVALID, "memory, cpus");
    set_fails(c, "name=other", false, VD_ERROR_INVALID, "unknown setting \"name\"");
    set_fails(c, "+=x", false, VD_ERROR_INVALID, "unknown setting");
    set_fails(c, "memory=4Q", false, VD_ERROR_INVALID, "memory");
    set_fails(c, "memory=63M", false, VD_ERROR_INVALID, "at least 64M");
    set_fails(c, "cpus=0", false, VD_ERROR_INVALID, "cpus");
    set_fails(c, "cpus=two", false, VD_ERROR_INVALID, "cpus");
    set_fails(c, "os=beos", false, VD_ERROR_INVALID, "linux|windows|other");
    set_fails(c, "tpm=sometimes", false, VD_ERROR_INVALID, "tpm");
    set_fails(c, "initrd=/boot/initrd.img", false, VD_ERROR_INVALID, "initrd needs a kernel");
    set_fails(c, "append=x\ty", false, VD_ERROR_INVALID, "control character");
    set_fails(c, "kernel=/boot/a\nb", false, VD_ERROR_INVALID, "kernel");
    /* vm.conf is UTF-8: a value it could not hold back is refused. */
    set_fails(c, "kernel=/boot/vmlinuz-\xff", false, VD_ERROR_INVALID,
              "kernel: \"/boot/vmlinuz-\\xff\" is not valid UTF-8");
    set_fails(c, "qemu-arg+=-name\xc3", false, VD_ERROR_INVALID, "qemu-arg");
    g_autoptr(VmConfig) bios = vm_config_new("bios");
    set_ok(bios, "firmware=bios");
    set_fails(bios, "secure-boot=on", false, VD_ERROR_INVALID, "Secure Boot needs UEFI");
}

/* A bad value's error names its key for the command line ("memory: ...") and
 * carries the key and the rest for front ends that word it themselves. */
static void test_set_worded(void)
{
    g_autoptr(VmConfig) c = vm_config_new("w");
    const char *const cases[][3] = {
        {"memory=lots", "memory", "memory: "},
        {"memory=63M", "memory", "memory: \"63M\" is not a whole number of MiB"},
        {"cpus=two", "cpus", "cpus: \"two\""},
        {"idle-suspend=soon", "idle-suspend", "idle-suspend: "},
        {"qemu-arg+=", "qemu-arg", "qemu-arg: "},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(vm_config_set(c, cases[i][0], false, NULL, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        g_assert_true(g_str_has_prefix(err->message, cases[i][2]));
        g_assert_cmpstr(vd_error_field(err), ==, cases[i][1]);
        g_autofree char *cli = g_strdup_printf("%s: ", cases[i][1]);
        /* The plain text is the message without the key, or (qemu-arg's) its own. */
        const char *plain = vd_error_plain(err);
        g_assert_nonnull(plain);
        g_assert_false(g_str_has_prefix(plain, cli));
        if (i < 4)
            g_assert_cmpstr(err->message + strlen(cli), ==, plain);
    }
}

static void test_set_running(void)
{
    g_autoptr(VmConfig) c = vm_config_new("live");
    /* Unsafe while the VM runs: refused with VD_ERROR_STATE, nothing changed. */
    static const char *const unsafe[] = {
        "firmware=bios",     "tpm=on",          "secure-boot=on",
        "disk=/x.qcow2",     "disk-format=raw", "rdp-port=47300",
        "forward=8080:80",   "forward+=8080:80", "forward=",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(unsafe); i++)
        set_fails(c, unsafe[i], true, VD_ERROR_STATE, "stop it first (vmdesk stop live)");

    /* Safe ones apply at the next start. */
    static const char *const safe[] = {
        "memory=2G", "cpus=3", "os=other", "accel=kvm", "performance=turbo",
        "iso=/srv/x.iso", "qemu-arg+=-S",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(safe); i++) {
        g_autoptr(GError) err = NULL;
        bool next = false;
        g_assert_true(vm_config_set(c, safe[i], true, &next, &err));
        g_assert_no_error(err);
        g_assert_true(next);
    }
    g_assert_cmpuint(c->memory, ==, 2ull << 30);
    g_assert_cmpuint(c->cpus, ==, 3);
    g_assert_cmpstrv(c->qemu_args, ((const char *const[]){"-S", NULL}));
    /* next_start may be NULL. */
    g_assert_true(vm_config_set(c, "memory=1G", true, NULL, NULL));
    /* An invalid value while running is still INVALID, not STATE. */
    set_fails(c, "memory=1Q", true, VD_ERROR_INVALID, "memory");
}

/* A value for each key that set accepts on a fresh config. */
static const char *good_value(const char *key)
{
    static const char *const values[][2] = {
        {"os", "linux"},           {"memory", "4G"},          {"cpus", "2"},
        {"firmware", "uefi"},      {"tpm", "on"},             {"secure-boot", "off"},
        {"virtio", "on"},          {"accel", "kvm"},          {"performance", "turbo"},
        {"disk", "/vms/d.qcow2"},  {"disk-format", "qcow2"},  {"base", "/srv/base.img"},
        {"base-format", "raw"},    {"on-shutdown", "keep"},   {"iso", "/srv/x.iso"},
        {"kernel", "/boot/k"},     {"initrd", "/boot/i"},     {"append", "quiet"},
        {"rdp-port", "47200"},     {"forward", "8080:80"},    {"qemu-arg", "-S"},
        {"share", "Z=/home/me"},   {"cd", "/srv/drivers.iso"},  {"arch", "x86_64"},
        {"usb", "046d:c52b"},      {"idle-suspend", "10m"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(values); i++)
        if (!strcmp(values[i][0], key))
            return values[i][1];
    g_error("no good value for %s", key);
}

/* A QEMU command line for @c: what the start builds. */
static bool builds_argv(const VmConfig *c, GError **error)
{
    QemuArgvEnv env = {.qemu_binary = "qemu-system-x86_64", .vm_dir = "/vms/t",
                       .runtime_dir = "/run/t", .accel = VM_ACCEL_TCG, .host_cpus = 8,
                       .ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd", .supervisor_qmp_fd = 3};
    g_auto(GStrv) argv = qemu_argv_build(c, &env, error);
    return argv != NULL;
}

/* Every key refuses a control character anywhere in its value at set and
 * create (exit 2), by the rule the QEMU argv builder applies at start (where
 * "\v8080:80" used to fail, exit 6); and so does a config file. */
static void test_set_control_chars(void)
{
    /* The control character before, inside or after a good value. */
    static const struct {
        const char *ctl;
        int at; /* 0: before, 1: after the first byte, -1: at the end */
    } where[] = {{"\v", 0}, {"\x1b", -1}, {"\x7f", 1}, {"\t", 0}, {"\n", -1}, {"\x01", 1}};
    for (const char *const *k = vm_config_keys(); *k; k++) {
        const char *good = good_value(*k);
        for (size_t w = 0; w < G_N_ELEMENTS(where); w++) {
            gsize at = where[w].at < 0 ? strlen(good) : (gsize)where[w].at;
            g_autofree char *head = g_strndup(good, at);
            g_autofree char *bad = g_strconcat(head, where[w].ctl, good + at, NULL);
            g_autofree char *a = g_strdup_printf("%s=%s", *k, bad);
            g_autoptr(VmConfig) c = vm_config_new("ctl");
            g_autoptr(GError) err = NULL;
            if (vm_config_set(c, a, false, NULL, &err)) {
                g_autoptr(GError) start_err = NULL;
                g_error("%s=%s was accepted (the start says: %s)", *k, bad,
                        builds_argv(c, &start_err) ? "fine" : start_err->message);
            }
            g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
            if (!strstr(err->message, "control character") || !strstr(err->message, *k))
                g_error("%s: message \"%s\"", a, err->message);
            /* The message shows the value escaped, never the raw byte. */
            g_assert_null(vd_text_find_control(err->message));
        }
        /* The good value itself is fine, and starts. */
        g_autofree char *a = g_strdup_printf("%s=%s", *k, good);
        g_autoptr(VmConfig) c = vm_config_new("ctl");
        if (!strcmp(*k, "initrd") || !strcmp(*k, "append"))
            set_ok(c, "kernel=/boot/k");
        if (!strcmp(*k, "base")) {
            set_ok(c, "disk=/vms/d.qcow2");
            set_ok(c, "base-format=raw");
        }
        set_ok(c, a);
        g_autoptr(GError) err = NULL;
        if (!builds_argv(c, &err))
            g_error("%s: %s", a, err->message);
    }
    g_autoptr(VmConfig) c = vm_config_new("ctl");
    set_fails(c, "forward+=\v8080:80", false, VD_ERROR_INVALID,
              "forward: \"\\x0b8080:80\" contains a control character");
    set_fails(c, "rdp-port=\v47200", false, VD_ERROR_INVALID, "rdp-port: \"\\x0b47200\"");
    set_fails(c, "cpus=\v3", false, VD_ERROR_INVALID, "cpus: \"\\x0b3\"");
    g_assert_null(c->forwards);
    g_assert_cmpuint(c->rdp_port, ==, 0);

    /* The file: the same rule, naming the file and the key. */
    static const char *const files[] = {
        "[vm]\nname=x\nforward=\v8080:80\n",
        "[vm]\nname=x\nrdp-port=\v47200\n",
        "[vm]\nname=x\ncpus=\v3\n",
        "[vm]\nname=x\nforward=8080:80;\v8081:81;\n",
        "[vm]\nname=x\nshare=Z=/a\x1b[2Jb\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VmConfig) bad = load(files[i], &err);
        if (bad)
            g_error("file #%zu was accepted", i);
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        g_assert_nonnull(strstr(err->message, ORIGIN));
        g_assert_nonnull(strstr(err->message, "control character"));
        g_assert_null(vd_text_find_control(err->message));
    }
}

/* Messages about bad values show them escaped and cut: binary garbage and
 * 1 MiB lines from a file or the command line never reach the terminal raw. */
static void test_messages_hostile(void)
{
    GString *big = g_string_new(NULL);
    for (int i = 0; i < (1 << 20); i++)
        g_string_append_c(big, (char)('a' + i % 26));
    g_autofree char *garbage = g_strdup("\xff\xfe\x1b[31m\xc3\x28\xe2\x82\x01");
    const char *values[] = {big->str, garbage};
    static const char *const keys[] = {"os", "memory", "cpus", "tpm", "disk-format",
                                       "base", "forward", "share", "cd", "colour"};
    for (size_t v = 0; v < G_N_ELEMENTS(values); v++) {
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
            g_autofree char *a = g_strdup_printf("%s=%s", keys[k], values[v]);
            g_autoptr(VmConfig) c = vm_config_new("msg");
            g_autoptr(GError) err = NULL;
            g_assert_false(vm_config_set(c, a, false, NULL, &err));
            g_assert_true(g_utf8_validate(err->message, -1, NULL));
            g_assert_null(vd_text_find_control(err->message));
            if (strlen(err->message) > 1200)
                g_error("%s: a message of %zu bytes", keys[k], strlen(err->message));
        }
        /* Whole lines and keys from a file. */
        char *lines[] = {
            g_strdup_printf("[vm]\nname=x\n%s\n", values[v]),
            g_strdup_printf("[vm]\nname=x\n%s=1\n", values[v]),
            g_strdup_printf("[vm]\nname=x\nkernel=/k\nappend=%s\n", values[v]),
            g_strdup_printf("[%s]\nname=x\n", values[v]),
        };
        for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
            g_autoptr(GError) err = NULL;
            g_autoptr(VmConfig) c = load(lines[i], &err);
            g_free(lines[i]);
            if (!c) {
                g_assert_true(g_utf8_validate(err->message, -1, NULL));
                g_assert_null(vd_text_find_control(err->message));
                if (strlen(err->message) > 1200)
                    g_error("file #%zu: a message of %zu bytes", i, strlen(err->message));
            }
        }
    }
    g_string_free(big, TRUE);
}

static void test_enums(void)
{
    g_assert_cmpstr(vm_os_to_string(VM_OS_WINDOWS), ==, "windows");
    g_assert_cmpstr(vm_firmware_to_string(VM_FIRMWARE_BIOS), ==, "bios");
    g_assert_cmpstr(vm_accel_to_string(VM_ACCEL_TCG), ==, "tcg");
    g_assert_cmpstr(vm_perf_to_string(VM_PERF_POWERSAVE), ==, "powersave");
    VmAccel a = VM_ACCEL_AUTO;
    g_assert_true(vm_accel_from_string("KVM", &a, NULL));
    g_assert_cmpint(a, ==, VM_ACCEL_KVM);
    g_autoptr(GError) err = NULL;
    g_assert_false(vm_accel_from_string("xen", &a, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==, "accel: \"xen\" is not one of auto|kvm|tcg");
    g_assert_cmpint(a, ==, VM_ACCEL_KVM);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/parse/full", test_parse_full);
    g_test_add_func("/config/parse/minimal", test_parse_minimal);
    g_test_add_func("/config/parse/bad", test_parse_bad);
    g_test_add_func("/config/round-trip", test_round_trip);
    g_test_add_func("/config/save-load", test_save_load);
    g_test_add_func("/config/set/each-key", test_set_each_key);
    g_test_add_func("/config/set/lists", test_set_lists);
    g_test_add_func("/config/set/bad", test_set_bad);
    g_test_add_func("/config/set/worded", test_set_worded);
    g_test_add_func("/config/set/running", test_set_running);
    g_test_add_func("/config/set/control-chars", test_set_control_chars);
    g_test_add_func("/config/messages-hostile", test_messages_hostile);
    g_test_add_func("/config/enums", test_enums);
    g_test_add_func("/config/devices", test_devices);
    return g_test_run();
}
