/* Choosing the accelerator, per guest architecture: KVM only for guests of
 * the host's own architecture, and only when /dev/kvm opens AND runs a
 * guest; else TCG (multi-threaded). Some hosts expose a /dev/kvm that
 * accepts every ioctl yet never runs an ordinary guest (nested paravirtual
 * KVM), so the answer comes from a functional probe: a tiny firmware of
 * ours, for x86_64 (accel_probe_fw.S) one that walks real mode -> long mode
 * -> exceptions -> on-demand paging like the Linux decompressor, for aarch64
 * (accel_probe_aarch64.c) one that reads a system register and memory and
 * powers off through PSCI, under a deadline. The result is cached per boot
 * and architecture in $XDG_RUNTIME_DIR/vmdesk/kvm-probe. Blocking. */
#pragma once

#include "vm/vm_config.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    bool usable;
    char *reason;     /* why (not): "/dev/kvm: permission denied; ..." */
    bool cached;
} AccelKvmProbe;

void accel_kvm_probe_clear(AccelKvmProbe *p);

/* Probe KVM for @arch guests with @arch's QEMU (qemu_arch_binary). Another
 * architecture than the host's is never usable (and not probed). @use_cache:
 * read and write the per-boot cache. Never hangs: bounded by a few seconds. */
void accel_probe_kvm(VmArch arch, bool use_cache, AccelKvmProbe *out);

/* Resolve @wanted (auto/kvm/tcg) to KVM or TCG for an @arch guest. kvm when
 * KVM is unusable is an error that says why; auto falls back to TCG with
 * *@reason saying why. */
bool accel_resolve(VmAccel wanted, VmArch arch, VmAccel *out, char **reason, GError **error);

/* The probe firmware image (64 KiB), generated at build time. */
extern const unsigned char accel_probe_fw[];
extern const unsigned int accel_probe_fw_len;
