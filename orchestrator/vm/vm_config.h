/* A VM's configuration: what `vmdesk create` writes and `vmdesk set` edits.
 * Stored as a GKeyFile, group [vm], keys named like create's long options, in
 * $XDG_DATA_HOME/vmdesk/vms/NAME/vm.conf (0600, written atomically).
 * Everything here is pure and single-threaded: no QEMU, no sockets. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum { VM_OS_LINUX, VM_OS_WINDOWS, VM_OS_OTHER } VmOs;
typedef enum { VM_FIRMWARE_BIOS, VM_FIRMWARE_UEFI } VmFirmware;
typedef enum { VM_ACCEL_AUTO, VM_ACCEL_KVM, VM_ACCEL_TCG } VmAccel;
typedef enum { VM_PERF_STANDARD, VM_PERF_POWERSAVE, VM_PERF_TURBO } VmPerf;
/* The guest's architecture (config key arch): what QEMU emulates, its
 * machine and devices (qemu/qemu_arch.h). */
typedef enum { VM_ARCH_X86_64, VM_ARCH_AARCH64 } VmArch;
/* What the supervisor does with an overlay (and the UEFI variables and TPM
 * state beside it) when the guest has shut down: see storage/vm_overlay.h. */
typedef enum {
    VM_ON_SHUTDOWN_KEEP,
    VM_ON_SHUTDOWN_COMMIT,
    VM_ON_SHUTDOWN_DISCARD,
    VM_ON_SHUTDOWN_ASK
} VmOnShutdown;

/* Extra CD drives beside cd0: the q35 AHCI controller has six ports, the
 * disk and cd0 take two. */
#define VM_EXTRA_CDS_MAX 4

typedef struct {
    char *name;
    VmArch arch;          /* a config without the key is x86_64 (the only one before it) */
    VmOs os;
    uint64_t memory;      /* bytes */
    unsigned cpus;
    VmFirmware firmware;
    bool tpm;
    bool secure_boot;     /* UEFI only: Secure Boot firmware with Microsoft keys */
    bool virtio;          /* Windows with the virtio-win drivers: virtio disk and net
                             (else SATA and e1000e, which Setup drives in-box) */
    VmAccel accel;
    VmPerf performance;
    char *disk;           /* main disk image, relative to the VM folder or absolute; NULL: none */
    char *disk_format;    /* "qcow2" or "raw" */
    char *base;           /* absolute path of the read-only base image when @disk is a
                             qcow2 overlay on it (vmdesk create --base --overlay); NULL: none */
    char *base_format;    /* "raw" or "qcow2": the base's format, recorded when the user handed
                             the base in (config key base-format). A guest writes the base's
                             bytes through commits, so its format is never probed again. NULL
                             only in configs made before the key existed (vm_store_load fills it) */
    VmOnShutdown on_shutdown; /* overlay policy, config key on-shutdown */
    char *iso;            /* absolute path of the CD image, NULL: empty drive */
    char **cds;           /* more CD images, absolute, NULL-terminated: drives cd1, cd2, ...
                             (at most VM_EXTRA_CDS_MAX; the virtio drivers, the guest
                             tools, the answer file) */
    char *kernel;         /* direct kernel boot, all three NULL when unused */
    char *initrd;
    char *append;
    unsigned rdp_port;    /* host side of hostfwd=tcp:127.0.0.1:PORT-:3389 */
    char **forwards;      /* extra forwards "HOSTPORT:GUESTPORT" (tcp), NULL-terminated */
    char **qemu_args;     /* extra arguments appended last, NULL-terminated */
    char **shares;        /* shared host folders: "L=/abs/path" or "L:ro=/abs/path", L a
                             drive letter. RDP sessions redirect the read-write ones as
                             drives (the guest maps \\tsclient\L to L:); a guest that is
                             not Windows also gets each as a virtio-9p export
                             (vm_share_tag), read-only ones enforced by QEMU */
    char **usb;           /* host USB devices passed through from the start (usb-host):
                             "VVVV:PPPP" (vendor:product, hex) or "BUS-PORT[.PORT...]" */
    unsigned idle_suspend; /* seconds without a vmdesk user before the supervisor pauses
                              the VM; 0: never (config key idle-suspend, "10m", "off") */
} VmConfig;

/* One entry of VmConfig.shares, split (pointers into @entry, which must
 * outlive them). False when @entry is not "L=/path" or "L:ro=/path". */
typedef struct {
    char letter;          /* upper case */
    bool read_only;
    const char *path;
} VmShare;
bool vm_share_parse(const char *entry, VmShare *out);
/* The 9p mount tag of the @index-th share (from 0) of a guest that is not
 * Windows: "vmdesk_share" for the first (the tag the Linux guest tools mount
 * on /mnt/vmdesk_share), "vmdesk_share_l" (its letter) for the others.
 * Caller frees. */
char *vm_share_tag(const VmShare *share, unsigned index);

/* How the guest gets each of @cfg's shares: a new array (caller unrefs) of
 * VmShareExport in config order, entries that do not parse left out. */
typedef struct {
    VmShare share;        /* path borrowed from @cfg */
    char *tag;            /* its 9p mount tag, or NULL for a Windows guest (RDP only) */
} VmShareExport;
GPtrArray *vm_config_share_exports(const VmConfig *cfg);

/* A host USB device as the config and `vmdesk usb` name it: by
 * vendor:product ("046d:c52b", hex) or by where it is plugged
 * ("1-2" or "3-1.4": bus, then the port path). */
typedef struct {
    bool by_id;
    unsigned vendor, product;  /* by_id */
    unsigned bus;              /* !by_id */
    char port[32];             /* !by_id: "2", "1.4" */
} VmUsbSpec;
/* Parse @text; VD_ERROR_INVALID naming both forms when it is neither. */
bool vm_usb_spec_parse(const char *text, VmUsbSpec *out, GError **error);
/* The canonical text of @spec ("046d:c52b", "1-2.3"); caller frees. Two
 * texts name the same device when their canonical forms are equal. */
char *vm_usb_spec_to_string(const VmUsbSpec *spec);
/* The QEMU device id vmdesk gives the usb-host of @spec ("usb-046d-c52b",
 * "usb-1-2.3"); caller frees. */
char *vm_usb_spec_device_id(const VmUsbSpec *spec);

/* "10m" -> 600: a number with s, m or h (no unit: seconds); "off" or "0" is
 * 0. VD_ERROR_INVALID otherwise, or above a week. */
bool vm_duration_parse(const char *text, unsigned *seconds, GError **error);
/* 600 -> "10m", 90 -> "90s", 0 -> "off"; caller frees. */
char *vm_duration_format(unsigned seconds);

VmConfig *vm_config_new(const char *name);
void vm_config_free(VmConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmConfig, vm_config_free)

const char *vm_os_to_string(VmOs os);
const char *vm_firmware_to_string(VmFirmware fw);
const char *vm_accel_to_string(VmAccel accel);
const char *vm_perf_to_string(VmPerf perf);
const char *vm_on_shutdown_to_string(VmOnShutdown v);
const char *vm_arch_to_string(VmArch arch);
/* The architecture of the host vmdesk runs on; *@out unchanged and false
 * when vmdesk runs guests of neither architecture natively. */
bool vm_arch_host(VmArch *out);
bool vm_accel_from_string(const char *s, VmAccel *out, GError **error);

/* Parse and validate a config file's contents; @origin names it in errors. */
VmConfig *vm_config_from_data(const char *data, gsize len, const char *origin, GError **error);
VmConfig *vm_config_load(const char *path, GError **error);
/* Serialize; the result is stable (same config, same text). Caller frees. */
char *vm_config_to_data(const VmConfig *cfg, gsize *len);
bool vm_config_save(const VmConfig *cfg, const char *path, GError **error);

/* Apply one `KEY=VALUE` (or `KEY+=VALUE` for list keys: forward, qemu-arg, share, cd, usb)
 * with the same validation create uses. @running says whether the VM runs;
 * keys that are unsafe to change then are refused with VD_ERROR_STATE.
 * On success *@next_start is set when the change applies at the next start. */
bool vm_config_set(VmConfig *cfg, const char *assignment, bool running, bool *next_start,
                   GError **error);

/* Check cross-field rules (kernel needs nothing else, initrd needs kernel, TPM
 * needs... ) and value ranges for this host. */
bool vm_config_validate(const VmConfig *cfg, GError **error);

/* Names of all settable keys, NULL-terminated, for --help and errors. */
const char *const *vm_config_keys(void);

/* Share host folder @path (made absolute; it must be a folder) as drive
 * @letter of @cfg (replacing what that letter shared), read-only over 9p
 * with @read_only (refused for Windows guests, whose shares are RDP drives,
 * which cannot be read-only). The rules of `vmdesk share`. */
bool vm_config_share_add(VmConfig *cfg, char letter, const char *path, bool read_only,
                         GError **error);
/* Stop sharing drive @letter: VD_ERROR_NOT_FOUND when @cfg shares nothing
 * there. */
bool vm_config_share_remove(VmConfig *cfg, char letter, GError **error);
