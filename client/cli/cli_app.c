/* vmdesk app: one program of the guest in its own window (RDP RemoteApp). */
#include "apps/app_args.h"
#include "apps/app_control.h"
#include "cli/cli.h"
#include "cli/cli_libvirt.h"
#include "ui/app_window.h"

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "session/rdp/rdp_probe.h"
#include "session/vnc/vnc_session.h"
#include "ui/window.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_S 300
/* Windows keeps a RemoteApp session about 20 s after its last window: so do
 * we, and a program started again meanwhile opens at once. */
#define DEFAULT_LINGER_S 20
#define LAUNCH_ANSWER_MS 60000

typedef struct {
    const char *vm;
    unsigned port;
} Ready;

/* The readiness check of the status window: the VM runs and its forwarded
 * port answers an RDP connection request. */
static bool vm_ready(void *data, char **status, GError **error)
{
    Ready *r = data;
    g_autoptr(VmStatus) st = vm_status_get(r->vm);
    if (!vm_state_is_active(st->state)) {
        g_set_error(error, VD_ERROR, VD_ERROR_VM, "VM \"%s\" %s%s%s", r->vm,
                    st->state == VM_STATE_ERROR ? "failed" : "stopped",
                    st->reason ? ": " : " before its RDP service answered",
                    st->reason ? st->reason : "");
        return false;
    }
    RdpProbeInfo info = {0};
    RdpProbeResult res =
        rdp_probe("127.0.0.1", r->port, RDP_PROBE_DEFAULT_PROTOCOLS, 1000, &info, NULL);
    rdp_probe_info_clear(&info);
    if (res == RDP_PROBE_READY)
        return true;
    *status = g_strdup_printf("VM %s, RDP %s", vm_state_to_string(st->state),
                              res == RDP_PROBE_NO_SERVICE || res == RDP_PROBE_TIMEOUT
                                  ? "not answering yet"
                                  : "answering oddly");
    return false;
}

int cli_app_run(const char *title, RdpTarget *t, const char *wm_class, const char *control,
                   AppReadyFunc ready, void *ready_data, int timeout_s, int linger_s)
{
    GError *err = NULL;
    AppRequest req = {.program = t->remote_app, .args = t->remote_app_args,
                      .wm_class = (char *)wm_class, .fd = -1};
    bool delivered = false;
    if (control && app_control_send(control, &req, LAUNCH_ANSWER_MS, &delivered, &err)) {
        printf("%s: %s started in the running RemoteApp session\n", title, t->remote_app);
        return 0;
    }
    if (delivered)
        return cli_fail(err);
    AppWindowOptions o = {.title = title,
                          .rdp = t,
                          .wm_class = wm_class,
                          .control_path = control,
                          .ready = ready,
                          .ready_data = ready_data,
                          .ready_timeout_ms = timeout_s * 1000,
                          .linger_ms = linger_s * 1000};
    return app_window_run(&o, &err) ? 0 : cli_fail(err);
}

/* xrdp (Linux guests) has no working RemoteApp: a desktop session whose
 * shell is the program, in a window of its own; the VM's console shows
 * while it boots. */
static int run_desktop_app(const char *vm, RdpTarget *t, const char *wm_class, bool ready_now)
{
    if (t->remote_app_args)
        vd_warn("%s: xrdp starts a session's program without arguments; they are dropped", vm);
    t->shell = g_strdup(t->remote_app);
    g_clear_pointer(&t->remote_app, g_free);
    g_autofree char *base = g_path_get_basename(t->shell);
    g_autofree char *title = g_strdup_printf("%s (%s)", base, vm);
    VncTarget vnc = {.socket_path = vm_runtime_path(vm, "vnc.sock")};
    WindowVmHooks hooks = cli_window_vm_hooks(vm);
    WindowOptions o = {.title = title,
                       .vm_name = vm,
                       .vm = &hooks,
                       .vnc = &vnc,
                       .rdp = t,
                       .protocol = ready_now ? WINDOW_PROTOCOL_RDP : WINDOW_PROTOCOL_AUTO,
                       .wm_class = wm_class,
                       .close_on_end = true};
    GError *err = NULL;
    bool ok = window_run(&o, &err);
    vnc_target_clear(&vnc);
    return ok ? 0 : cli_fail(err);
}

int cli_app(int argc, char **argv)
{
    g_autofree char *wm_class = NULL, *mode = NULL, *connect = NULL;
    g_auto(GStrv) files = NULL;
    gint timeout_s = DEFAULT_TIMEOUT_S, linger_s = DEFAULT_LINGER_S, nargs = -1;
    GOptionEntry entries[] = {
        {"file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
         "open this host file in the program (it must be in a shared folder; repeatable)",
         "HOSTPATH"},
        {"program-args", 0, 0, G_OPTION_ARG_INT, &nargs,
         "only the first N ARGS are the program's; the rest are host files to open, as with "
         "--file (how desktop entries pass the files they are given)",
         "N"},
        {"class", 0, 0, G_OPTION_ARG_STRING, &wm_class,
         "the window class of its windows (a desktop entry's StartupWMClass)", "CLASS"},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
         "give up when the guest's RDP service has not answered after this long (default 300)",
         "SECONDS"},
        {"linger", 0, 0, G_OPTION_ARG_INT, &linger_s,
         "keep the connection this long after the last window closed (default 20)", "SECONDS"},
        {"mode", 0, 0, G_OPTION_ARG_STRING, &mode,
         "remoteapp (each window of the program its own), desktop (a session running only "
         "the program, in one window: for xrdp, which has no working RemoteApp) or auto "
         "(default: desktop for Linux guests, else remoteapp)",
         "MODE"},
        CLI_CONNECT_ENTRY(&connect),
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("app", "NAME PROGRAM [ARGS...]",
                   "Open one program of the guest as its own window (RDP RemoteApp), starting "
                   "the VM first when it is off; a small window shows the progress until the "
                   "program's window appears. PROGRAM is a path in the guest, an App Paths "
                   "alias (winword) or a published program (||alias). Programs of one VM share "
                   "one RDP connection, which ends a while after the last window closed.",
                   entries, &argc, &argv, &status))
        return status;
    /* GLib leaves the "--" that ends the options (desktop entries put one
     * before guest arguments that look like options). */
    if (argc > 1 && !strcmp(argv[1], "--")) {
        memmove(argv + 1, argv + 2, (size_t)(argc - 1) * sizeof(char *));
        argc--;
    }
    if (!cli_expect_args("app", argc, 2, G_MAXINT, &status))
        return status;
    if (nargs > argc - 3)
        return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID,
                                    "--program-args %d: there are only %d ARGS", nargs, argc - 3));
    if (timeout_s < 1 || linger_s < 0)
        return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID,
                                    "--timeout must be at least 1 and --linger at least 0"));
    const char *vm = argv[1];
    GError *err = NULL;
    g_autofree char *uri = NULL;
    if (!cli_libvirt_pick(connect, vm, &uri, &err))
        return cli_fail(err);
    if (uri) {
        /* No shared folders: host files (--file, or past --program-args) have
         * no path in the guest. */
        int own = nargs < 0 ? argc - 3 : nargs;
        bool host_files = (files && *files && **files) || own < argc - 3;
        if (host_files || (mode && strcmp(mode, "remoteapp")))
            return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID,
                                        "a libvirt domain's program opens as RemoteApp, "
                                        "without host files or --mode desktop"));
        argv[3 + own] = NULL;
        return cli_libvirt_app(uri, vm, argv[2], argv + 3, wm_class, timeout_s, linger_s);
    }
    if (mode && strcmp(mode, "auto") && strcmp(mode, "remoteapp") && strcmp(mode, "desktop"))
        return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID,
                                    "--mode %s: use auto, remoteapp or desktop", mode));
    if (!vd_name_validate(vm, &err))
        return cli_fail(err);
    g_autoptr(VmConfig) cfg = vm_store_load(vm, &err);
    if (!cfg)
        return cli_fail(err);
    RdpTarget t;
    if (!cli_vm_rdp_target(vm, &t, &err))
        return cli_fail(err);
    /* The program's arguments, then each host file as the guest sees it. */
    g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
    int own = nargs < 0 ? argc - 3 : nargs;
    for (int i = 0; i < own; i++)
        g_ptr_array_add(words, g_strdup(argv[3 + i]));
    g_autoptr(GPtrArray) host = g_ptr_array_new();
    for (char **f = files; f && *f; f++)
        if (**f) /* an empty --file= is no file */
            g_ptr_array_add(host, *f);
    for (int i = 3 + own; i < argc; i++)
        g_ptr_array_add(host, argv[i]);
    for (guint i = 0; i < host->len; i++) {
        char *g = app_guest_path(vm, cfg->os == VM_OS_WINDOWS, t.drives, t.username,
                                 g_ptr_array_index(host, i), &err);
        if (!g) {
            rdp_target_clear(&t);
            return cli_fail(err);
        }
        g_ptr_array_add(words, g);
    }
    g_ptr_array_add(words, NULL);
    bool started = false;
    if (!cli_vm_ensure_running(vm, true, &started, &err)) {
        rdp_target_clear(&t);
        return cli_fail(err);
    }
    /* The app session uses the VM while it runs: no idle suspend. */
    int lease = cli_vm_lease(vm, "app");
    /* The port may have changed when the VM started. */
    g_autoptr(VmConfig) now = vm_store_load(vm, NULL);
    if (now)
        t.port = now->rdp_port;
    t.remote_app = g_strdup(argv[2]);
    t.remote_app_args = app_command_line((char **)words->pdata, NULL);
    g_autofree char *cls = wm_class ? g_strdup(wm_class) : g_strdup_printf("vmdesk-%s", vm);
    bool desktop = mode ? !strcmp(mode, "desktop") : cfg->os == VM_OS_LINUX;
    int rc;
    if (desktop) {
        RdpProbeInfo info = {0};
        bool ready_now = !started && rdp_probe("127.0.0.1", t.port, RDP_PROBE_DEFAULT_PROTOCOLS,
                                               1000, &info, NULL) == RDP_PROBE_READY;
        rdp_probe_info_clear(&info);
        rc = run_desktop_app(vm, &t, cls, ready_now);
    } else {
        g_autofree char *control = vm_runtime_path(vm, "apps.sock");
        Ready ready = {.vm = vm, .port = t.port};
        rc = cli_app_run(vm, &t, cls, control, vm_ready, &ready, timeout_s, linger_s);
    }
    if (lease >= 0)
        close(lease);
    rdp_target_clear(&t);
    return rc;
}

/* vmdesk connect rdp://... --app PROGRAM: RemoteApp from any RDP server. */
int cli_connect_app(RdpTarget *t, const char *program, char **args, int linger_s)
{
    g_autofree char *root = vd_paths_runtime_root();
    g_autofree char *control = NULL;
    if (vd_mkdir_private(root, NULL))
        control = g_strdup_printf("%s/apps-%s-%u.sock", root, t->host, t->port);
    t->remote_app = g_strdup(program);
    t->remote_app_args = app_command_line(args, NULL);
    g_autofree char *title = g_strdup_printf("rdp://%s:%u", t->host, t->port);
    return cli_app_run(title, t, NULL, control, NULL, NULL, DEFAULT_TIMEOUT_S, linger_s);
}
