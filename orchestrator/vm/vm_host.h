/* What this host can give a VM: the ranges `vmdesk doctor` states and the
 * manager's settings keep to. Reads sysinfo; any thread. */
#pragma once

#include <stdint.h>

typedef struct {
    uint64_t memory_total;  /* bytes of RAM, whole MiB */
    uint64_t memory_max;    /* about 3/4 of it: the most a VM should get (bytes, whole MiB) */
    unsigned cpus;          /* host CPUs: a VM gets 1 to this many */
} VmHostLimits;

void vm_host_limits(VmHostLimits *out);
