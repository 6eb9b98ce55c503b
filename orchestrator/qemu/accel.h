/* Choosing the accelerator: KVM when /dev/kvm opens AND runs a guest, else
 * TCG (multi-threaded). Some hosts expose a /dev/kvm that accepts every
 * ioctl yet never runs an ordinary guest (nested paravirtual KVM), so the
 * answer comes from a functional probe: a tiny firmware of ours
 * (accel_probe_fw.S) that walks real mode -> long mode -> exceptions ->
 * on-demand paging like the Linux decompressor, under a deadline. The result
 * is cached per boot in $XDG_RUNTIME_DIR/vmdesk/kvm-probe. Blocking. */
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

/* Probe KVM with @qemu_binary (NULL: qemu-system-x86_64). @use_cache: read
 * and write the per-boot cache. Never hangs: bounded by a few seconds. */
void accel_probe_kvm(const char *qemu_binary, bool use_cache, AccelKvmProbe *out);

/* Resolve @wanted (auto/kvm/tcg) to KVM or TCG. kvm when KVM is unusable is
 * an error that says why; auto falls back to TCG with *@reason saying why. */
bool accel_resolve(VmAccel wanted, const char *qemu_binary, VmAccel *out, char **reason,
                   GError **error);

/* The probe firmware image (64 KiB), generated at build time. */
extern const unsigned char accel_probe_fw[];
extern const unsigned int accel_probe_fw_len;
