/* vmdesk start | stop | pause | resume | status | __supervise */
#include "cli/cli.h"
#include "cli/cli_libvirt.h"

#include "common/error.h"
#include "storage/vm_overlay.h"
#include "vm/supervisor.h"
#include "vm/vm_control.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <string.h>

static void print_endpoints(const char *name, const VmStatus *st)
{
    g_autofree char *vnc = vm_runtime_path(name, "vnc.sock");
    g_autofree char *qmp = vm_runtime_path(name, "qmp.sock");
    g_autofree char *qga = vm_runtime_path(name, "qga.sock");
    g_autofree char *serial = vm_runtime_path(name, "serial.sock");
    printf("VM \"%s\" is %s on %s (%s)\n", name, vm_state_to_string(st->state),
           st->accel ? st->accel : "?", st->accel_reason ? st->accel_reason : "");
    printf("  RDP:         127.0.0.1:%u\n", st->rdp_port);
    printf("  VNC:         %s\n", vnc);
    printf("  QMP:         %s\n", qmp);
    printf("  guest agent: %s\n", qga);
    printf("  serial:      %s\n", serial);
}

int cli_start(int argc, char **argv)
{
    g_autofree char *accel = NULL, *connect = NULL, *uri = NULL;
    int timeout = 0;
    GOptionEntry entries[] = {
        CLI_CONNECT_ENTRY(&connect),
        {"accel", 0, 0, G_OPTION_ARG_STRING, &accel,
         "kvm, tcg or auto for this start (default: the VM's accel setting)", "ACCEL"},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "give up after S seconds (default 120)",
         "S"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("start", "NAME", "Boot a VM; returns once QEMU runs, printing its endpoints.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("start", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    if (!cli_libvirt_pick(connect, argv[1], &uri, &err))
        return cli_fail(err);
    if (uri)
        return cli_libvirt_start(uri, argv[1]);
    g_autofree char *self = cli_self_exe();
    VmStartOptions opts = {.self_exe = self, .timeout_ms = timeout * 1000};
    if (accel) {
        if (!vm_accel_from_string(accel, &opts.accel, &err))
            return cli_fail(err);
        opts.accel_override = true;
    }
    g_autoptr(VmStatus) st = NULL;
    if (!vm_start(argv[1], &opts, &st, &err))
        return cli_fail(err);
    print_endpoints(argv[1], st);
    if (vm_overlay_decision_pending(argv[1]))
        printf("Note: the last shutdown's changes still wait for an answer (on-shutdown=ask); "
               "this run adds to them. See vmdesk overlay %s status\n",
               argv[1]);
    return 0;
}

int cli_stop(int argc, char **argv)
{
    gboolean force = FALSE;
    g_autofree char *connect = NULL, *uri = NULL;
    int timeout = 60;
    GOptionEntry entries[] = {
        CLI_CONNECT_ENTRY(&connect),
        {"force", 0, 0, G_OPTION_ARG_NONE, &force, "end QEMU now, like pulling the plug", NULL},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
         "seconds to wait for the guest to power off before forcing (default 60)", "S"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("stop", "NAME", "Shut a VM down: ACPI power-down, then force after a timeout.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("stop", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    bool forced = false;
    if (timeout < 0) {
        g_set_error(&err, VD_ERROR, VD_ERROR_INVALID, "--timeout must not be negative");
        return cli_fail(err);
    }
    if (!cli_libvirt_pick(connect, argv[1], &uri, &err))
        return cli_fail(err);
    if (uri)
        return cli_libvirt_stop(uri, argv[1], force, timeout);
    if (!vm_stop(argv[1], force, timeout, &forced, &err))
        return cli_fail(err);
    printf("VM \"%s\" is STOPPED%s.\n", argv[1], forced ? " (forced off)" : "");
    return 0;
}

static int pause_resume(int argc, char **argv, bool pause)
{
    const char *cmd = pause ? "pause" : "resume";
    g_autofree char *connect = NULL, *uri = NULL;
    GOptionEntry entries[] = {CLI_CONNECT_ENTRY(&connect), G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse(cmd, "NAME", pause ? "Pause a running VM." : "Resume a paused VM.", entries,
                   &argc, &argv, &status) ||
        !cli_expect_args(cmd, argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    if (!cli_libvirt_pick(connect, argv[1], &uri, &err))
        return cli_fail(err);
    if (uri)
        return cli_libvirt_pause(uri, argv[1], pause);
    if (!(pause ? vm_pause(argv[1], &err) : vm_resume(argv[1], &err)))
        return cli_fail(err);
    printf("VM \"%s\" is %s.\n", argv[1], pause ? "PAUSED" : "RUNNING");
    return 0;
}

int cli_pause(int argc, char **argv)
{
    return pause_resume(argc, argv, true);
}

int cli_resume(int argc, char **argv)
{
    return pause_resume(argc, argv, false);
}

int cli_status(int argc, char **argv)
{
    gboolean json = FALSE;
    g_autofree char *wait = NULL, *connect = NULL, *uri = NULL;
    int timeout = 60;
    GOptionEntry entries[] = {
        CLI_CONNECT_ENTRY(&connect),
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
        {"wait", 0, 0, G_OPTION_ARG_STRING, &wait, "wait until the VM is in STATE (any case)",
         "STATE"},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "for --wait: give up after S s (default 60)",
         "S"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("status", "NAME", "Show a VM's state; optionally wait for one.", entries,
                   &argc, &argv, &status) ||
        !cli_expect_args("status", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    if (!cli_libvirt_pick(connect, argv[1], &uri, &err))
        return cli_fail(err);
    if (uri)
        return cli_libvirt_status(uri, argv[1], json, wait, timeout);
    VmState want = VM_STATE_STOPPED;
    if (wait && !vm_state_from_string(wait, &want, &err))
        return cli_fail(err);
    g_autoptr(VmConfig) cfg = vm_store_load(argv[1], &err);
    if (!cfg)
        return cli_fail(err);
    g_autoptr(VmStatus) st = NULL;
    if (wait) {
        if (!vm_wait_state(argv[1], want, timeout * 1000, &st, &err))
            return cli_fail(err);
    } else {
        st = vm_status_get(argv[1]);
    }
    if (json) {
        g_autoptr(JsonNode) node = cli_vm_json(cfg, st, false);
        cli_print_json(node);
        return 0;
    }
    printf("%s%s%s\n", cli_state_text(st), st->reason ? ": " : "",
           st->reason ? st->reason : "");
    if (vm_state_is_active(st->state))
        printf("accelerator: %s (%s)\n", st->accel, st->accel_reason ? st->accel_reason : "");
    for (char **l = st->log_tail; l && *l; l++)
        printf("  %s\n", *l);
    return 0;
}

int cli_supervise(int argc, char **argv)
{
    g_autofree char *accel = NULL, *reason = NULL;
    int lock_fd = -1;
    gboolean disposable = FALSE;
    GOptionEntry entries[] = {
        {"disposable", 0, 0, G_OPTION_ARG_NONE, &disposable, "a throw-away run", NULL},
        {"accel", 0, 0, G_OPTION_ARG_STRING, &accel, "kvm or tcg", "A"},
        {"accel-reason", 0, 0, G_OPTION_ARG_STRING, &reason, "why", "TEXT"},
        {"lock-fd", 0, 0, G_OPTION_ARG_INT, &lock_fd, "the VM's lock, held", "FD"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("__supervise", "NAME", "Internal: the per-VM supervisor.", entries, &argc,
                   &argv, &status) ||
        !cli_expect_args("__supervise", argc, 1, 1, &status))
        return status;
    SupervisorOptions opts = {.name = argv[1], .accel_reason = reason, .lock_fd = lock_fd,
                              .disposable = disposable};
    GError *err = NULL;
    if (!accel || !vm_accel_from_string(accel, &opts.accel, &err) ||
        opts.accel == VM_ACCEL_AUTO) {
        if (err)
            g_error_free(err);
        fprintf(stderr, "vmdesk __supervise: --accel kvm|tcg is required\n");
        return 2;
    }
    return supervisor_main(&opts);
}
