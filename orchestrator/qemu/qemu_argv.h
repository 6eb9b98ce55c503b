/* The QEMU command line of a VM: a pure function from its config and the
 * resolved environment (paths, accelerator, firmware) to an argv array.
 * No I/O: golden-file tests in tests/golden pin its output. */
#pragma once

#include "qemu/qemu_opts.h"
#include "vm/vm_config.h"

typedef struct {
    const char *qemu_binary;  /* a name in PATH or a full path; NULL: the architecture's
                                 default (qemu_arch.h) */
    const char *vm_dir;       /* data folder: disk (when relative), vars, logs */
    const char *runtime_dir;  /* socket folder */
    VmAccel accel;            /* resolved: VM_ACCEL_KVM or VM_ACCEL_TCG */
    unsigned host_cpus;       /* for performance=turbo */
    const char *ovmf_code;    /* UEFI code image (read-only; OVMF or AAVMF, for the VM's
                                 architecture); NULL for BIOS */
    int supervisor_qmp_fd;    /* fd of the supervisor's private QMP socket in QEMU, or -1 */
    const char *uefi_vars;    /* the UEFI variable store; NULL: vm_dir/uefi-vars.fd */
    const char *disk_top;     /* a disposable run's qcow2 overlay on the VM's disk (the guest
                                 writes there, its backing named explicitly); NULL: none */
} QemuArgvEnv;

/* Paths that the argv names, so the supervisor and clients agree on them.
 * All are newly allocated; @name is one of "qmp.sock", "vnc.sock", ... */
char *qemu_argv_runtime_path(const QemuArgvEnv *env, const char *name);

/* vCPUs QEMU gets for @cfg under its performance mode. */
unsigned qemu_argv_vcpus(const VmConfig *cfg, unsigned host_cpus);

/* Build the argv (NULL-terminated, caller frees with g_strfreev). Fails with
 * VD_ERROR_INVALID when a value cannot be passed to QEMU safely. */
char **qemu_argv_build(const VmConfig *cfg, const QemuArgvEnv *env, GError **error);

/* The user-mode network of @cfg as -netdev options named @id: the RDP port
 * and the forwards on 127.0.0.1 (caller finishes it with qemu_opts_finish).
 * Shared with libvirt/lv_xml.c, which passes them through <qemu:commandline>. */
QemuOpts *qemu_argv_netdev_user(const VmConfig *cfg, const char *id);
/* The network card's device: e1000e (or the architecture's in-box one) for
 * Windows without virtio-win drivers, else virtio-net-pci. Static. */
const char *qemu_argv_nic_model(const VmConfig *cfg);
