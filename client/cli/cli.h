/* The vmdesk command line: one function per command, each returning the
 * process exit status (docs/commands.md, "Exit status"). Errors are printed
 * once, by cli_fail(), to stderr. Main thread only. */
#pragma once

#include "devices/vm_usb.h"
#include "guest/unattend_setup.h"
#include "session/rdp/rdp_session.h"
#include "storage/vm_overlay.h"
#include "ui/app_window.h"
#include "ui/window.h"
#include "vm/vm_config.h"
#include "vm/vm_state.h"

#include <glib.h>
#include <json-glib/json-glib.h>

typedef int (*CliCommandFunc)(int argc, char **argv);

/* A command of the vmdesk program (main.c's table). */
typedef struct {
    const char *name;
    CliCommandFunc func;
    const char *synopsis; /* NULL: internal, not listed */
    const char *summary;
    /* For the manual and the completions: the command's verbs, space-separated
     * ("save restore list delete"), and what its operands are, in order:
     * "vm" (a VM name), "verb", "file", "dir", "snapshot" (a tag of the VM's). */
    const char *verbs;
    const char *operands;
} CliCommand;

int cli_create(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_show(int argc, char **argv);
int cli_set(int argc, char **argv);
int cli_delete(int argc, char **argv);
int cli_start(int argc, char **argv);
int cli_stop(int argc, char **argv);
int cli_pause(int argc, char **argv);
int cli_resume(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_doctor(int argc, char **argv);
int cli_view(int argc, char **argv);
int cli_connect(int argc, char **argv);
int cli_screenshot(int argc, char **argv);
int cli_supervise(int argc, char **argv);
int cli_credentials(int argc, char **argv);
int cli_share(int argc, char **argv);
int cli_certificate(int argc, char **argv);
int cli_cdrom(int argc, char **argv);
int cli_disk(int argc, char **argv);
int cli_probe(int argc, char **argv);
int cli_app(int argc, char **argv);
int cli_tools(int argc, char **argv);
int cli_apps(int argc, char **argv);
int cli_overlay(int argc, char **argv);
int cli_snapshot(int argc, char **argv);
int cli_disposable(int argc, char **argv);
int cli_fetch(int argc, char **argv);
/* Hidden, for the shell completions: `__complete vms` prints the VM names,
 * `__complete snapshots NAME` the VM's snapshot tags, one a line; nothing
 * (status 0) when there is nothing to offer (cli_complete.c). */
int cli_complete(int argc, char **argv);
/* Hidden, for tools/gen-reference: the @n commands of @commands as JSON
 * (name, synopsis, summary, verbs, operands) on stdout. */
int cli_reference(const CliCommand *commands, size_t n);
int cli_usb(int argc, char **argv);

/* Take the pipe VD_ERROR_WORDS_ENV names (common/error.h), when it is one:
 * close-on-exec from now on, and the variable gone from the environment.
 * First thing in main(), before any thread. */
void cli_words_init(void);
/* Print "vmdesk: error: MESSAGE", and the error's words on the pipe
 * cli_words_init took, and return the error's exit status. Frees @error. */
int cli_fail(GError *error);
/* Parse options for command @cmd; prints usage errors. Returns false on error
 * (*@status set). @params is the positional part shown in --help. */
bool cli_parse(const char *cmd, const char *params, const char *summary, GOptionEntry *entries,
               int *argc, char ***argv, int *status);
/* cli_parse + cli_expect_args for commands whose one option is --json and
 * that take exactly @nargs positional arguments. */
bool cli_parse_json_flag(const char *cmd, const char *params, const char *summary, int nargs,
                         int *argc, char ***argv, gboolean *json, int *status);
/* Exactly @n positional arguments after the command name (argv[1..n]). */
bool cli_expect_args(const char *cmd, int argc, int min, int max, int *status);

/* Print @node as pretty JSON on stdout. */
void cli_print_json(JsonNode *node);
/* The JSON object for a VM (stable, documented in docs/cli.md); @full adds
 * the whole config. */
JsonNode *cli_vm_json(const VmConfig *cfg, const VmStatus *st, bool full);
/* connect rdp://... --app: @program (with @args, NULL-terminated) of @t's
 * server in its own windows; sets @t's remote_app. Returns the exit status. */
int cli_connect_app(RdpTarget *t, const char *program, char **args, int linger_s);
/* Run @t's RemoteApp program (t->remote_app) in this process, in windows of
 * class @wm_class (may be NULL), or hand it to the process that holds the
 * connection already (@control, may be NULL). @ready (may be NULL) is asked
 * until the server answers, up to @timeout_s; the connection ends @linger_s
 * after the last window. @title names the source in messages. Returns the
 * exit status. */
int cli_app_run(const char *title, RdpTarget *t, const char *wm_class, const char *control,
                AppReadyFunc ready, void *ready_data, int timeout_s, int linger_s);
/* Make sure VM @name runs: starts it when @start (printing that it does and
 * setting *@started), else fails with VD_ERROR_STATE. @started may be NULL. */
bool cli_vm_ensure_running(const char *name, bool start, bool *started, GError **error);
/* The overlay status and snapshot list as documented in docs/cli.md
 * (caller unrefs), and as text for show and overlay status (cli_storage.c).
 * @st is a VmOverlayStatus, @list holds VmSnapshot (storage/vm_overlay.h,
 * storage/vm_snapshot.h). */
JsonNode *cli_overlay_json(const VmOverlayStatus *st);
void cli_overlay_print(const char *name, const VmOverlayStatus *st, const char *indent);
JsonNode *cli_snapshots_json(GPtrArray *list);
/* `snapshot list --json`: {"snapshots": @list} on stdout (takes @list). */
void cli_snapshot_list_json(JsonNode *list);
/* What snapshot @verb (save, restore, delete) did to @tag of @name. */
void cli_snapshot_done(const char *name, const char *verb, const char *tag, bool live);
void cli_snapshots_print(GPtrArray *list);

/* The window's hooks for following VM @name (cli_window.c): its state, its
 * guest agent, its overlay question. @name is borrowed: it must outlive the
 * window. */
WindowVmHooks cli_window_vm_hooks(const char *name);

/* Tell VM @name's supervisor that @who uses it (vm/vm_lease.h): a VM that
 * idle suspend paused runs again when this returns. Returns the lease's fd,
 * to be kept open while the VM is in use (closed at exit at the latest), or
 * -1 when the VM does not run or the supervisor could not be asked (then a
 * warning says why; the command goes on). */
int cli_vm_lease(const char *name, const char *who);
/* One shared folder as `share --list` and `show` print it: "PATH (RDP drive
 * Z:, 9p tag vmdesk_share, ...)". Caller frees. */
char *cli_share_text(const VmShareExport *e);
/* A VM's USB devices (devices/vm_usb.h VmUsbDevice) as `usb NAME list`
 * prints them: a line of text (caller frees) and the JSON array of
 * docs/cli.md (caller unrefs). */
char *cli_usb_device_text(const VmUsbDevice *d);
JsonNode *cli_usb_devices_json(GPtrArray *list);
/* "PAUSED (idle)" for a VM that idle suspend paused, else the state's name. */
const char *cli_state_text(const VmStatus *st);

/* The absolute path of the vmdesk binary. */
char *cli_self_exe(void);

/* One try of cli_wait_agent(): 1 when the guest agent answered, 0 to try
 * again (*@last says why not yet), -1 to give up (@error set). */
typedef int (*CliAgentTry)(void *data, GError **last, GError **error);
/* Try @try_once with @data every 500 ms until it answers or gives up, or
 * until @deadline (monotonic µs): then VD_ERROR_TIMEOUT "the guest agent of
 * @who did not answer within @timeout_s s of the start (last reason) ...". */
bool cli_wait_agent(CliAgentTry try_once, void *data, const char *who, gint64 deadline,
                    int timeout_s, GError **error);

/* The RDP target of VM @name: 127.0.0.1 and its forwarded port, its stored
 * credentials, its certificate pin, shared folders and sound. */
bool cli_vm_rdp_target(const char *name, RdpTarget *t, GError **error);
/* Pin an rdp:// target's certificate in the known-hosts file (per host:port). */
void cli_url_rdp_pin(RdpTarget *t);
/* That known-hosts file (a keyfile, one group per pinned server; caller frees). */
char *cli_known_hosts_path(void);
/* First line of @path (a password): wiped from memory after copying. */
bool cli_read_secret_file(const char *path, char **out, GError **error);

/* create's hands-off Windows options (cli_unattend.c). Owned strings. */
typedef struct {
    gboolean unattended;
    char *virtio_iso;     /* made absolute by cli_unattend_prepare */
    UnattendSetup setup;  /* --user, --locale, --keyboard, --timezone; the rest by prepare */
} CliUnattend;

void cli_unattend_clear(CliUnattend *u);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CliUnattend, cli_unattend_clear)
/* Before anything is created: check the ISOs and the options (VD_ERROR_INVALID,
 * exit 2), then unattend_setup_prepare (tools, xorriso, the generated
 * password, the answer file). Without --unattended only --virtio-iso is checked. */
bool cli_unattend_prepare(const char *name, bool windows, const char *iso, CliUnattend *u,
                          GError **error);
/* After vm_create: unattend_setup_apply (the tools and answer-file CDs, the
 * account through the credentials module), then say what the first boot does. */
bool cli_unattend_finish(VmConfig *cfg, CliUnattend *u, GError **error);
