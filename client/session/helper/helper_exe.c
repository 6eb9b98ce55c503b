/* vmdesk-session-helper PROTOCOL: a session's confined helper process,
 * started by vmdesk with its descriptors (helper.h). A program of its own,
 * linking only the protocol library and GLib, so it starts in a few ms
 * where vmdesk, linking FreeRDP, SDL, GTK's libraries and libvirt, takes a
 * tenth of a second. */
#include "session/vnc/vnc_session.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc == 2 && !strcmp(argv[1], "vnc"))
        return vnc_helper_main();
    fprintf(stderr, "vmdesk-session-helper: started by vmdesk itself, for one session\n");
    return 2;
}
