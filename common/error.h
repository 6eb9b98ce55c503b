/* vmdesk's one error domain. Every fallible function takes a trailing
 * GError **error (may be NULL) and returns bool or NULL; the message names
 * what failed and what the user can do about it. */
#pragma once

#include <glib.h>

#define VD_ERROR (vd_error_quark())
GQuark vd_error_quark(void);

typedef enum {
    VD_ERROR_FAILED = 1,     /* anything else; exit status 1 */
    VD_ERROR_INVALID,        /* bad input: name, option, config value; exit 2 */
    VD_ERROR_NOT_FOUND,      /* no such VM, file or program; exit 3 */
    VD_ERROR_EXISTS,         /* a VM of that name exists already; exit 2 */
    VD_ERROR_STATE,          /* not allowed in the VM's current state; exit 4 */
    VD_ERROR_TIMEOUT,        /* waited long enough; exit 5 */
    VD_ERROR_VM,             /* QEMU or the supervisor failed; exit 6 */
    VD_ERROR_PROTOCOL,       /* QMP framing or reply error; exit 6 */
    VD_ERROR_NO_SPACE,       /* not enough disk space; exit 7 */
} VdErrorCode;

/* Process exit status for @error (0 when NULL), as documented in docs/commands.md, "Exit status". */
int vd_error_exit_status(const GError *error);
