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

/* An error a front end other than the command line may word its own way.
 * Its message is the command line's ("--keyboard \"xx\" is neither ..."); it
 * can also carry @field, the setting or option it is about, named as the
 * command line's option or vmdesk set's key without dashes ("keyboard",
 * "memory"), and @plain, the same message with no command-line syntax, which
 * follows the field's name ("\"xx\" is neither ...") or, without a field,
 * stands alone. Either may be NULL. Sets *@error as g_set_error does. */
void vd_error_set_worded(GError **error, VdErrorCode code, const char *field, const char *plain,
                         const char *format, ...) G_GNUC_PRINTF(5, 6);

/* @error's field and plain text (vd_error_set_worded), or NULL: any error
 * may be passed, of any domain, or NULL. The strings are @error's. */
const char *vd_error_field(const GError *error);
const char *vd_error_plain(const GError *error);

/* A vmdesk command writes its error on stderr as VD_ERROR_LINE_PREFIX and
 * the message. A front end that runs a command and shows its error in its
 * own words (the manager runs vmdesk view and app) gives the command the
 * write end of a pipe of its own and sets VD_ERROR_WORDS_ENV in the
 * command's environment to that descriptor's number (the manager: 3). The
 * command then writes its error a second time to that pipe, and only there,
 * with the error's field and plain text: each line of the message, the field
 * and the plain text after its own prefix. Never on stderr: anything the
 * command starts (a session helper a guest may own, QEMU) may write to its
 * stderr, and nothing else writes to that pipe (client/cli/cli_common.c). */
#define VD_ERROR_WORDS_ENV "VMDESK_ERROR_WORDS"
#define VD_ERROR_LINE_PREFIX "vmdesk: error: "
#define VD_ERROR_FIELD_PREFIX "vmdesk: error-field: "
#define VD_ERROR_PLAIN_PREFIX "vmdesk: error-plain: "

/* @error as a command writes it (see above): without @words as on stderr,
 * the message after VD_ERROR_LINE_PREFIX; with @words as on the words pipe,
 * each line of the message after that prefix, then the field's and plain
 * text's lines after theirs. Each line ends in a newline. Caller frees. */
char *vd_error_lines(const GError *error, gboolean words);

/* g_prefix_error for @error's message and its plain text alike. */
void vd_error_prefix(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Process exit status for @error (0 when NULL), as documented in docs/commands.md, "Exit status". */
int vd_error_exit_status(const GError *error);
