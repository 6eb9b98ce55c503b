#include "vm/vm_config.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/paths.h"
#include "common/size.h"
#include "common/text.h"

#include <string.h>

#define GROUP "vm"
#define MEMORY_MIN (64ull << 20)
#define CPUS_MAX 255u

VmConfig *vm_config_new(const char *name)
{
    VmConfig *cfg = g_new0(VmConfig, 1);
    cfg->name = g_strdup(name);
    cfg->os = VM_OS_LINUX;
    cfg->memory = 4ull << 30;
    cfg->cpus = 2;
    cfg->firmware = VM_FIRMWARE_UEFI;
    cfg->accel = VM_ACCEL_AUTO;
    cfg->performance = VM_PERF_STANDARD;
    cfg->disk_format = g_strdup("qcow2");
    return cfg;
}

void vm_config_free(VmConfig *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->name);
    g_free(cfg->disk);
    g_free(cfg->disk_format);
    g_free(cfg->base);
    g_free(cfg->base_format);
    g_free(cfg->iso);
    g_free(cfg->kernel);
    g_free(cfg->initrd);
    g_free(cfg->append);
    g_strfreev(cfg->forwards);
    g_strfreev(cfg->qemu_args);
    g_strfreev(cfg->shares);
    g_strfreev(cfg->usb);
    g_strfreev(cfg->cds);
    g_free(cfg);
}

static const char *const os_names[] = {"linux", "windows", "other", NULL};
static const char *const fw_names[] = {"bios", "uefi", NULL};
static const char *const accel_names[] = {"auto", "kvm", "tcg", NULL};
static const char *const perf_names[] = {"standard", "powersave", "turbo", NULL};
static const char *const on_shutdown_names[] = {"keep", "commit", "discard", "ask", NULL};
static const char *const arch_names[] = {"x86_64", "aarch64", NULL};

const char *vm_os_to_string(VmOs os) { return os_names[os]; }
const char *vm_firmware_to_string(VmFirmware fw) { return fw_names[fw]; }
const char *vm_accel_to_string(VmAccel accel) { return accel_names[accel]; }
const char *vm_perf_to_string(VmPerf perf) { return perf_names[perf]; }
const char *vm_on_shutdown_to_string(VmOnShutdown v) { return on_shutdown_names[v]; }
const char *vm_arch_to_string(VmArch arch) { return arch_names[arch]; }

bool vm_arch_host(VmArch *out)
{
#if defined(__x86_64__)
    *out = VM_ARCH_X86_64;
    return true;
#elif defined(__aarch64__)
    *out = VM_ARCH_AARCH64;
    return true;
#else
    (void)out;
    return false;
#endif
}

/* "KEY: "VALUE" WHAT", the value quoted (it may be anything the user or the
 * file held). Returns false. */
static bool bad_value(GError **error, const char *key, const char *value, const char *what)
{
    g_autofree char *q = vd_text_quote(value, -1);
    g_autofree char *plain = g_strdup_printf("%s %s", q, what);
    vd_error_set_worded(error, VD_ERROR_INVALID, key, plain, "%s: %s", key, plain);
    return false;
}

/* The error @error holds, said of @key: "KEY: MESSAGE" (plain: MESSAGE).
 * Returns false. */
static bool key_error(GError **error, const char *key)
{
    if (!error || !*error)
        return false;
    GError *e = g_steal_pointer(error);
    vd_error_set_worded(error, (VdErrorCode)e->code, key, e->message, "%s: %s", key, e->message);
    g_error_free(e);
    return false;
}

/* What every value must be, whatever its key: UTF-8 (vm.conf is UTF-8) and
 * free of control characters, the rule of the QEMU argv builder
 * (vd_text_find_control), so that what set and create accept also starts. */
static bool check_value(const char *key, const char *value, GError **error)
{
    if (!g_utf8_validate(value, -1, NULL))
        return bad_value(error, key, value, "is not valid UTF-8");
    if (vd_text_find_control(value))
        return bad_value(error, key, value,
                         "contains a control character, which QEMU could not be given; use "
                         "printable text");
    return true;
}

static bool parse_enum(const char *key, const char *value, const char *const *names, int *out,
                       GError **error)
{
    for (int i = 0; names[i]; i++) {
        if (g_ascii_strcasecmp(value, names[i]) == 0) {
            *out = i;
            return true;
        }
    }
    g_autofree char *choices = g_strjoinv("|", (char **)names);
    g_autofree char *what = g_strdup_printf("is not one of %s", choices);
    return bad_value(error, key, value, what);
}

bool vm_accel_from_string(const char *s, VmAccel *out, GError **error)
{
    int v;
    if (!parse_enum("accel", s, accel_names, &v, error))
        return false;
    *out = (VmAccel)v;
    return true;
}

static bool parse_bool(const char *key, const char *value, bool *out, GError **error)
{
    static const char *const yes[] = {"true", "yes", "on", "1", NULL};
    static const char *const no[] = {"false", "no", "off", "0", NULL};
    for (int i = 0; yes[i]; i++) {
        if (g_ascii_strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (g_ascii_strcasecmp(value, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return bad_value(error, key, value, "is not on or off");
}

static bool parse_uint(const char *key, const char *value, unsigned min, unsigned max,
                       unsigned *out, GError **error)
{
    guint64 v = 0;
    if (!g_ascii_string_to_unsigned(value, 10, min, max, &v, NULL)) {
        g_autofree char *what = g_strdup_printf("is not a number from %u to %u", min, max);
        return bad_value(error, key, value, what);
    }
    *out = (unsigned)v;
    return true;
}

/* A path or text value (checked by check_value); empty clears it. Relative
 * paths are kept (disk is relative to the VM folder), the CLI makes user
 * paths absolute. */
static bool set_or_clear(const char *value, char **out)
{
    g_free(*out);
    *out = *value ? g_strdup(value) : NULL;
    return true;
}

static bool parse_port(const char *key, const char *value, unsigned *out, GError **error)
{
    return parse_uint(key, value, 1024, 65535, out, error);
}

/* "HOSTPORT:GUESTPORT", tcp, host side bound to 127.0.0.1. */
static bool validate_forward(const char *value, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(value, ":", -1);
    unsigned host, guest;
    if (g_strv_length(parts) != 2 || !parse_port("forward", parts[0], &host, NULL) ||
        !parse_uint("forward", parts[1], 1, 65535, &guest, NULL))
        return bad_value(error, "forward", value,
                         "is not HOSTPORT:GUESTPORT (host port 1024-65535), for example 8080:80");
    return true;
}

static bool validate_qemu_arg(const char *value, GError **error)
{
    if (!*value) {
        vd_error_set_worded(error, VD_ERROR_INVALID, "qemu-arg", "it must be non-empty text",
                            "qemu-arg: an extra QEMU argument must be non-empty text");
        return false;
    }
    return true;
}

/* "Z=/absolute/path" or "Z:ro=/absolute/path": a drive letter and a host folder. */
static bool validate_share(const char *value, GError **error)
{
    VmShare sh;
    if (!vm_share_parse(value, &sh))
        return bad_value(error, "share", value,
                         "is not LETTER=/absolute/path or LETTER:ro=/absolute/path, for "
                         "example Z=/home/me/Documents");
    return true;
}

static bool validate_usb(const char *value, GError **error)
{
    VmUsbSpec spec;
    return vm_usb_spec_parse(value, &spec, error) || key_error(error, "usb");
}

/* An extra CD image: an absolute path. */
static bool validate_cd(const char *value, GError **error)
{
    if (value[0] != '/')
        return bad_value(error, "cd", value, "is not an absolute path of a CD image");
    return true;
}

typedef enum { KEY_SCALAR, KEY_LIST } KeyKind;

typedef struct {
    const char *name;
    KeyKind kind;
    bool unsafe_running; /* refused while the VM runs */
} KeyInfo;

static const KeyInfo keys[] = {
    {"arch", KEY_SCALAR, true},
    {"os", KEY_SCALAR, false},
    {"memory", KEY_SCALAR, false},
    {"cpus", KEY_SCALAR, false},
    {"firmware", KEY_SCALAR, true},
    {"tpm", KEY_SCALAR, true},
    {"secure-boot", KEY_SCALAR, true},
    {"virtio", KEY_SCALAR, true},
    {"accel", KEY_SCALAR, false},
    {"performance", KEY_SCALAR, false},
    {"disk", KEY_SCALAR, true},
    {"disk-format", KEY_SCALAR, true},
    {"base", KEY_SCALAR, true},
    {"base-format", KEY_SCALAR, true},
    {"on-shutdown", KEY_SCALAR, false},
    {"iso", KEY_SCALAR, false},
    {"kernel", KEY_SCALAR, false},
    {"initrd", KEY_SCALAR, false},
    {"append", KEY_SCALAR, false},
    {"rdp-port", KEY_SCALAR, true},
    {"forward", KEY_LIST, true},
    {"qemu-arg", KEY_LIST, false},
    {"share", KEY_LIST, false},
    {"cd", KEY_LIST, true},
    {"usb", KEY_LIST, false},
    {"idle-suspend", KEY_SCALAR, false},
};

const char *const *vm_config_keys(void)
{
    static const char *names[G_N_ELEMENTS(keys) + 1];
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        names[i] = keys[i].name;
    return names;
}

static const KeyInfo *find_key(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static bool set_scalar(VmConfig *cfg, const char *key, const char *value, GError **error)
{
    int e;
    if (!check_value(key, value, error))
        return false;
    if (!strcmp(key, "arch")) {
        if (!parse_enum(key, value, arch_names, &e, error))
            return false;
        cfg->arch = (VmArch)e;
    } else if (!strcmp(key, "os")) {
        if (!parse_enum(key, value, os_names, &e, error))
            return false;
        cfg->os = (VmOs)e;
    } else if (!strcmp(key, "memory")) {
        uint64_t bytes;
        if (!vd_size_parse(value, 'M', &bytes, error))
            return key_error(error, key);
        if (bytes < MEMORY_MIN || bytes % (1 << 20))
            return bad_value(error, key, value, "is not a whole number of MiB of at least 64M");
        cfg->memory = bytes;
    } else if (!strcmp(key, "cpus")) {
        return parse_uint(key, value, 1, CPUS_MAX, &cfg->cpus, error);
    } else if (!strcmp(key, "firmware")) {
        if (!parse_enum(key, value, fw_names, &e, error))
            return false;
        cfg->firmware = (VmFirmware)e;
    } else if (!strcmp(key, "tpm")) {
        return parse_bool(key, value, &cfg->tpm, error);
    } else if (!strcmp(key, "secure-boot")) {
        return parse_bool(key, value, &cfg->secure_boot, error);
    } else if (!strcmp(key, "virtio")) {
        return parse_bool(key, value, &cfg->virtio, error);
    } else if (!strcmp(key, "accel")) {
        if (!parse_enum(key, value, accel_names, &e, error))
            return false;
        cfg->accel = (VmAccel)e;
    } else if (!strcmp(key, "performance")) {
        if (!parse_enum(key, value, perf_names, &e, error))
            return false;
        cfg->performance = (VmPerf)e;
    } else if (!strcmp(key, "disk")) {
        return set_or_clear(value, &cfg->disk);
    } else if (!strcmp(key, "disk-format")) {
        if (strcmp(value, "qcow2") && strcmp(value, "raw"))
            return bad_value(error, key, value, "is not qcow2 or raw");
        g_free(cfg->disk_format);
        cfg->disk_format = g_strdup(value);
    } else if (!strcmp(key, "base-format")) {
        if (strcmp(value, "qcow2") && strcmp(value, "raw"))
            return bad_value(error, key, value, "is not raw or qcow2");
        g_free(cfg->base_format);
        cfg->base_format = g_strdup(value);
    } else if (!strcmp(key, "base")) {
        if (*value && !g_path_is_absolute(value))
            return bad_value(error, key, value, "is not an absolute path");
        return set_or_clear(value, &cfg->base);
    } else if (!strcmp(key, "on-shutdown")) {
        if (!parse_enum(key, value, on_shutdown_names, &e, error))
            return false;
        cfg->on_shutdown = (VmOnShutdown)e;
    } else if (!strcmp(key, "iso")) {
        return set_or_clear(value, &cfg->iso);
    } else if (!strcmp(key, "kernel")) {
        return set_or_clear(value, &cfg->kernel);
    } else if (!strcmp(key, "initrd")) {
        return set_or_clear(value, &cfg->initrd);
    } else if (!strcmp(key, "append")) {
        return set_or_clear(value, &cfg->append);
    } else if (!strcmp(key, "rdp-port")) {
        return parse_port(key, value, &cfg->rdp_port, error);
    } else if (!strcmp(key, "idle-suspend")) {
        if (!vm_duration_parse(value, &cfg->idle_suspend, error))
            return key_error(error, key);
    } else {
        g_assert_not_reached();
    }
    return true;
}

static bool list_add(char ***list, const char *key, const char *value, GError **error)
{
    if (!check_value(key, value, error))
        return false;
    bool ok = !strcmp(key, "forward")  ? validate_forward(value, error)
              : !strcmp(key, "share") ? validate_share(value, error)
              : !strcmp(key, "cd")    ? validate_cd(value, error)
              : !strcmp(key, "usb")   ? validate_usb(value, error)
                                      : validate_qemu_arg(value, error);
    if (!ok)
        return false;
    if (!strcmp(key, "cd") && *list && g_strv_length(*list) >= VM_EXTRA_CDS_MAX) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "cd: at most %d extra CD drives (the SATA controller has six ports)",
                    VM_EXTRA_CDS_MAX);
        return false;
    }
    GStrvBuilder *b = g_strv_builder_new();
    if (*list)
        g_strv_builder_addv(b, (const char **)*list);
    g_strv_builder_add(b, value);
    g_strfreev(*list);
    *list = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return true;
}

static char ***list_field(VmConfig *cfg, const char *key)
{
    return !strcmp(key, "forward") ? &cfg->forwards
           : !strcmp(key, "share") ? &cfg->shares
           : !strcmp(key, "cd")    ? &cfg->cds
           : !strcmp(key, "usb")   ? &cfg->usb
                                   : &cfg->qemu_args;
}

bool vm_config_set(VmConfig *cfg, const char *assignment, bool running, bool *next_start,
                   GError **error)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) {
        g_autofree char *q = vd_text_quote(assignment, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is not KEY=VALUE (for example memory=8G)", q);
        return false;
    }
    bool append = eq[-1] == '+';
    g_autofree char *key = g_strndup(assignment, (gsize)(eq - assignment) - (append ? 1 : 0));
    const char *value = eq + 1;
    const KeyInfo *info = find_key(key);
    if (!info) {
        g_autofree char *all = g_strjoinv(", ", (char **)vm_config_keys());
        g_autofree char *q = vd_text_quote(key, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "unknown setting %s; settings are: %s", q,
                    all);
        return false;
    }
    if (append && info->kind != KEY_LIST) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s holds one value; use %s=VALUE, not +=", key, key);
        return false;
    }
    if (running && info->unsafe_running) {
        vd_error_set_worded(error, VD_ERROR_STATE, key,
                            "it cannot change while the VM runs; stop the VM first",
                            "%s cannot change while the VM runs; stop it first (vmdesk stop %s)",
                            key, cfg->name);
        return false;
    }
    /* A refused list value leaves the list as it was. */
    char ***list = info->kind == KEY_LIST ? list_field(cfg, key) : NULL;
    g_auto(GStrv) before = list ? g_strdupv(*list) : NULL;
    bool ok;
    if (!list) {
        ok = set_scalar(cfg, key, value, error);
    } else {
        if (!append)
            g_clear_pointer(list, g_strfreev);
        ok = (!append && !*value) || list_add(list, key, value, error);
    }
    ok = ok && vm_config_validate(cfg, error);
    if (!ok && list) {
        g_strfreev(*list);
        *list = g_steal_pointer(&before);
    }
    if (ok && next_start)
        *next_start = running;
    return ok;
}

bool vm_config_validate(const VmConfig *cfg, GError **error)
{
    if (!vd_name_validate(cfg->name, error))
        return false;
    if (cfg->initrd && !cfg->kernel) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "initrd needs a kernel: set kernel=PATH too (direct kernel boot)");
        return false;
    }
    if (cfg->append && !cfg->kernel) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "append is the command line of a direct kernel boot: set kernel=PATH too");
        return false;
    }
    if (cfg->base && (!cfg->disk || g_strcmp0(cfg->disk_format, "qcow2"))) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "base needs a qcow2 overlay as the disk (disk-format=qcow2)");
        return false;
    }
    if (cfg->secure_boot && cfg->firmware != VM_FIRMWARE_UEFI) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "Secure Boot needs UEFI firmware: set firmware=uefi or secure-boot=off");
        return false;
    }
    if (cfg->arch == VM_ARCH_AARCH64 && cfg->firmware == VM_FIRMWARE_BIOS && !cfg->kernel) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "aarch64 VMs have no BIOS: set firmware=uefi, or boot a kernel directly "
                    "(kernel=PATH; firmware=bios then means no firmware at all)");
        return false;
    }
    if (cfg->cds && g_strv_length(cfg->cds) > VM_EXTRA_CDS_MAX) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "cd: at most %d extra CD drives (the SATA controller has six ports)",
                    VM_EXTRA_CDS_MAX);
        return false;
    }
    /* Each letter names one drive, one 9p export; each device one usb-host. */
    for (char **a = cfg->shares; a && *a; a++) {
        for (char **b = cfg->shares; b != a; b++) {
            VmShare x, y;
            if (vm_share_parse(*a, &x) && vm_share_parse(*b, &y) && x.letter == y.letter) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                            "share %s and share %s use the same letter %c:", *b, *a, x.letter);
                return false;
            }
        }
    }
    for (char **a = cfg->usb; a && *a; a++) {
        for (char **b = cfg->usb; b != a; b++) {
            VmUsbSpec x, y;
            if (!vm_usb_spec_parse(*a, &x, NULL) || !vm_usb_spec_parse(*b, &y, NULL))
                continue;
            g_autofree char *sx = vm_usb_spec_to_string(&x), *sy = vm_usb_spec_to_string(&y);
            if (!strcmp(sx, sy)) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "usb %s is listed twice", sx);
                return false;
            }
        }
    }
    /* QEMU cannot start with two forwards from one host port. */
    for (char **f = cfg->forwards; f && *f; f++) {
        for (char **g = cfg->forwards; g != f; g++) {
            if (atoi(*g) == atoi(*f)) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                            "forward %s and forward %s use the same host port", *g, *f);
                return false;
            }
        }
    }
    if (cfg->rdp_port) {
        for (char **f = cfg->forwards; f && *f; f++) {
            if ((unsigned)atoi(*f) == cfg->rdp_port) {
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                            "forward %s uses host port %u, which is the RDP port", *f,
                            cfg->rdp_port);
                return false;
            }
        }
    }
    return true;
}

char *vm_config_to_data(const VmConfig *cfg, gsize *len)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *mem = vd_size_format(cfg->memory);
    g_key_file_set_string(kf, GROUP, "name", cfg->name);
    /* Only when not x86_64: configs from before the key stay byte for byte
     * the same, and a config without it means x86_64. */
    if (cfg->arch != VM_ARCH_X86_64)
        g_key_file_set_string(kf, GROUP, "arch", vm_arch_to_string(cfg->arch));
    g_key_file_set_string(kf, GROUP, "os", vm_os_to_string(cfg->os));
    g_key_file_set_string(kf, GROUP, "memory", mem);
    g_key_file_set_integer(kf, GROUP, "cpus", (int)cfg->cpus);
    g_key_file_set_string(kf, GROUP, "firmware", vm_firmware_to_string(cfg->firmware));
    g_key_file_set_string(kf, GROUP, "tpm", cfg->tpm ? "on" : "off");
    g_key_file_set_string(kf, GROUP, "secure-boot", cfg->secure_boot ? "on" : "off");
    /* Only when on: configs from before the key stay byte for byte the same. */
    if (cfg->virtio)
        g_key_file_set_string(kf, GROUP, "virtio", "on");
    g_key_file_set_string(kf, GROUP, "accel", vm_accel_to_string(cfg->accel));
    g_key_file_set_string(kf, GROUP, "performance", vm_perf_to_string(cfg->performance));
    if (cfg->disk)
        g_key_file_set_string(kf, GROUP, "disk", cfg->disk);
    g_key_file_set_string(kf, GROUP, "disk-format", cfg->disk_format);
    if (cfg->base)
        g_key_file_set_string(kf, GROUP, "base", cfg->base);
    if (cfg->base && cfg->base_format)
        g_key_file_set_string(kf, GROUP, "base-format", cfg->base_format);
    if (cfg->on_shutdown != VM_ON_SHUTDOWN_KEEP)
        g_key_file_set_string(kf, GROUP, "on-shutdown", vm_on_shutdown_to_string(cfg->on_shutdown));
    if (cfg->iso)
        g_key_file_set_string(kf, GROUP, "iso", cfg->iso);
    if (cfg->kernel)
        g_key_file_set_string(kf, GROUP, "kernel", cfg->kernel);
    if (cfg->initrd)
        g_key_file_set_string(kf, GROUP, "initrd", cfg->initrd);
    if (cfg->append)
        g_key_file_set_string(kf, GROUP, "append", cfg->append);
    if (cfg->rdp_port)
        g_key_file_set_integer(kf, GROUP, "rdp-port", (int)cfg->rdp_port);
    if (cfg->forwards)
        g_key_file_set_string_list(kf, GROUP, "forward", (const char *const *)cfg->forwards,
                                   g_strv_length(cfg->forwards));
    if (cfg->qemu_args)
        g_key_file_set_string_list(kf, GROUP, "qemu-arg", (const char *const *)cfg->qemu_args,
                                   g_strv_length(cfg->qemu_args));
    if (cfg->shares)
        g_key_file_set_string_list(kf, GROUP, "share", (const char *const *)cfg->shares,
                                   g_strv_length(cfg->shares));
    if (cfg->cds)
        g_key_file_set_string_list(kf, GROUP, "cd", (const char *const *)cfg->cds,
                                   g_strv_length(cfg->cds));
    if (cfg->usb)
        g_key_file_set_string_list(kf, GROUP, "usb", (const char *const *)cfg->usb,
                                   g_strv_length(cfg->usb));
    if (cfg->idle_suspend) {
        g_autofree char *idle = vm_duration_format(cfg->idle_suspend);
        g_key_file_set_string(kf, GROUP, "idle-suspend", idle);
    }
    return g_key_file_to_data(kf, len, NULL);
}

VmConfig *vm_config_from_data(const char *data, gsize len, const char *origin, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
        /* GLib's message quotes the offending line as it is. */
        g_autofree char *why = vd_text_quote(local->message, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s is malformed: %s", origin, why);
        return NULL;
    }
    /* GLib 2.74 warns about its own overwritten GError (and leaks it) when a
     * value holds an invalid escape and ends in a lone backslash: refuse a
     * lone trailing backslash before GKeyFile unescapes anything. And GLib's
     * message for a value that is not UTF-8 quotes its bytes: check that
     * here too. */
    g_auto(GStrv) raw_keys = g_key_file_get_keys(kf, GROUP, NULL, NULL);
    for (char **k = raw_keys; k && *k; k++) {
        g_autofree char *raw = g_key_file_get_value(kf, GROUP, *k, NULL);
        gsize n = raw ? strlen(raw) : 0, slashes = 0;
        while (slashes < n && raw[n - 1 - slashes] == '\\')
            slashes++;
        g_autofree char *quoted = vd_text_quote(*k, -1);
        if (slashes % 2) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "%s: the value of %s ends with a lone backslash", origin, quoted);
            return NULL;
        }
        const char *key = find_key(*k) || !strcmp(*k, "name") ? *k : quoted;
        if (raw && !check_value(key, raw, &local)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: %s", origin, local->message);
            return NULL;
        }
    }
    g_autofree char *name = g_key_file_get_string(kf, GROUP, "name", NULL);
    if (!name) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s has no [vm] name= entry", origin);
        return NULL;
    }
    g_autoptr(VmConfig) cfg = vm_config_new(name);
    /* A missing secure-boot/tpm key means off, not the create defaults. */
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (char **g = groups; *g; g++) {
        if (strcmp(*g, GROUP)) {
            g_autofree char *q = vd_text_quote(*g, -1);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: unknown section %s", origin, q);
            return NULL;
        }
    }
    g_auto(GStrv) names = g_key_file_get_keys(kf, GROUP, NULL, NULL);
    for (char **k = names; k && *k; k++) {
        if (!strcmp(*k, "name"))
            continue;
        const KeyInfo *info = find_key(*k);
        if (!info) {
            g_autofree char *q = vd_text_quote(*k, -1);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "%s: unknown key %s; fix the file or recreate the VM", origin, q);
            return NULL;
        }
        if (info->kind == KEY_LIST) {
            g_auto(GStrv) vals = g_key_file_get_string_list(kf, GROUP, *k, NULL, &local);
            if (!vals || local)
                goto bad_value;
            for (char **v = vals; *v; v++)
                if (!list_add(list_field(cfg, *k), *k, *v, &local))
                    goto bad_value;
        } else {
            /* GKeyFile returns a value and sets an error for an invalid
             * escape sequence: the error wins. */
            g_autofree char *v = g_key_file_get_string(kf, GROUP, *k, &local);
            if (!v || local || !set_scalar(cfg, *k, v, &local))
                goto bad_value;
        }
        continue;
    bad_value:
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: %s", origin, local->message);
        return NULL;
    }
    if (!vm_config_validate(cfg, &local)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: %s", origin, local->message);
        return NULL;
    }
    return g_steal_pointer(&cfg);
}

VmConfig *vm_config_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, error))
        return NULL;
    return vm_config_from_data(data, len, path, error);
}

bool vm_config_save(const VmConfig *cfg, const char *path, GError **error)
{
    gsize len = 0;
    g_autofree char *data = vm_config_to_data(cfg, &len);
    return vd_file_write_atomic(path, data, (gssize)len, 0600, error);
}
