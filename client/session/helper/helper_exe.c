/* vmdesk-session-helper PROTOCOL: a session's confined helper process,
 * started by vmdesk with its descriptors (helper.h). A program of its own,
 * linking only the protocol library and GLib, so it starts in a few ms
 * where vmdesk, linking FreeRDP, SDL, GTK's libraries and libvirt, takes a
 * tenth of a second. */
#include "session/rdp/rdp_session.h"
#include "session/vnc/vnc_session.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

/* LeakSanitizer's check at exit stops the world with clone and ptrace,
 * which the confinement forbids: in a sanitizer build it would only fail.
 * (A hook LSan reads; in other builds nothing calls it.) */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
    return 1;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc == 2 && !strcmp(argv[1], "vnc"))
        return vnc_helper_main();
    if (argc == 2 && !strcmp(argv[1], "rdp"))
        return rdp_helper_main();
    fprintf(stderr, "vmdesk-session-helper: started by vmdesk itself, for one session\n");
    return 2;
}
