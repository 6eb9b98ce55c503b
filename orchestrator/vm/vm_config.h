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
    char **shares;        /* host folders RDP sessions redirect: "NAME=/abs/path", NAME a
                             drive letter (the guest maps \\tsclient\NAME to NAME:) */
} VmConfig;

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

/* Apply one `KEY=VALUE` (or `KEY+=VALUE` for list keys: forward, qemu-arg, share, cd)
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
