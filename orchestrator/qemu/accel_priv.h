/* Internals of the KVM probe that the unit tests reach. */
#pragma once

#include "vm/vm_config.h"

#include <stdbool.h>

/* The aarch64 probe firmware (accel_probe_aarch64.c); the x86_64 one is
 * accel_probe_fw (accel.h). Little-endian words: the image as flashed. */
extern const unsigned char *const accel_probe_fw_aarch64;
extern const unsigned int accel_probe_fw_aarch64_len;

/* Run @arch's probe firmware in @arch's QEMU under @accel ("kvm", or "tcg"
 * for the tests); true when it ran to the end. *@reason says what happened
 * (caller frees). Bounded by a few seconds. */
bool accel_probe_run(VmArch arch, const char *accel, char **reason);
