#include "vm/vm_host.h"

#include <glib.h>
#include <sys/sysinfo.h>

#define MIB (1ull << 20)

void vm_host_limits(VmHostLimits *out)
{
    struct sysinfo si;
    uint64_t ram = sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit : 4ull << 30;
    out->memory_total = ram & ~(MIB - 1);
    out->memory_max = (ram / MIB) * 3 / 4 * MIB;
    out->cpus = g_get_num_processors();
}
