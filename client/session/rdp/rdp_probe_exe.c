/* vmdesk-probe-helper: the RDP probe's confined helper process
 * (session/rdp/rdp_probe.h), started by vmdesk with its channel. A program
 * of its own, linking neither FreeRDP nor libvncclient: it starts in a few
 * ms, where vmdesk-session-helper loads some 140 libraries first. */
#include "session/rdp/rdp_probe.h"

#include <locale.h>

/* LeakSanitizer's check at exit stops the world with clone and ptrace,
 * which the confinement forbids: in a sanitizer build it would only fail.
 * (A hook LSan reads; in other builds nothing calls it.) */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
    return 1;
}

int main(void)
{
    setlocale(LC_ALL, "");
    return rdp_probe_helper_main();
}
