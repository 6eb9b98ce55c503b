/* vmdesk tools NAME install [--packages DIR] [--run] | status [--json] */
#include "cli/cli.h"

#include "common/error.h"
#include "common/json_build.h"
#include "guest/guest_tools.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <string.h>

#define AGENT_TIMEOUT_MS 3000
#define RUN_TIMEOUT_MS (15 * 60 * 1000)

static int install(const char *name, const char *packages, bool run)
{
    GError *err = NULL;
    g_autoptr(VmConfig) cfg = vm_store_load(name, &err);
    if (!cfg)
        return cli_fail(err);
    g_autofree char *abs_packages = packages ? g_canonicalize_filename(packages, NULL) : NULL;
    GuestToolsAttach how;
    g_autofree char *iso = NULL;
    if (!guest_tools_attach(name, abs_packages, &how, &iso, &err))
        return cli_fail(err);
    printf("%s: the tools CD (%s, label VMDESK_TOOLS) is %s\n", name, iso,
           how == GUEST_TOOLS_NEXT_START ? "attached from the next start"
           : how == GUEST_TOOLS_LIVE_CD0 ? "in the CD drive now"
                                          : "in its own CD drive now");
    bool windows = cfg->os == VM_OS_WINDOWS;
    if (run) {
        if (how == GUEST_TOOLS_NEXT_START) {
            g_set_error(&err, VD_ERROR, VD_ERROR_STATE,
                        "--run needs the VM running with its guest agent; start it first "
                        "(vmdesk start %s)",
                        name);
            return cli_fail(err);
        }
        QgaExecResult r;
        printf("%s: running linux/install.sh in the guest...\n", name);
        fflush(stdout);
        if (!guest_tools_run_linux(name, RUN_TIMEOUT_MS, &r, &err))
            return cli_fail(err);
        fwrite(r.out, 1, r.out_len, stdout);
        fwrite(r.err, 1, r.err_len, stderr);
        int code = r.exit_code;
        qga_exec_result_clear(&r);
        if (code != 0) {
            g_set_error(&err, VD_ERROR, VD_ERROR_FAILED,
                        "the installer exited with status %d in the guest (its log: "
                        "/var/log/vmdesk-tools.log)",
                        code);
            return cli_fail(err);
        }
        printf("%s: guest tools installed\n", name);
        return 0;
    }
    if (windows) {
        printf("In the guest, as administrator: powershell -ExecutionPolicy Bypass -File "
               "X:\\windows\\install.ps1\n  (X: the VMDESK_TOOLS CD; it logs to "
               "C:\\ProgramData\\vmdesk\\tools-install.log)\n");
        return 0;
    }
    printf("In the guest, as root: mount -o ro /dev/disk/by-label/VMDESK_TOOLS /mnt && "
           "sh /mnt/linux/install.sh\n");
    if (how == GUEST_TOOLS_NEXT_START)
        printf("  (once it runs; with its guest agent: vmdesk tools %s install --run)\n", name);
    else if (guest_tools_agent_answers(name, 2000))
        printf("  or from here, through the guest agent: vmdesk tools %s install --run\n", name);
    else
        printf("  (no guest agent answers, so --run cannot do it from here)\n");
    return 0;
}

static int status(const char *name, bool json)
{
    GError *err = NULL;
    GuestToolsStatus st;
    if (!guest_tools_status(name, AGENT_TIMEOUT_MS, &st, &err))
        return cli_fail(err);
    /* The answer file's password has no business on disk once Setup is done. */
    bool removed = false;
    g_autoptr(GError) forget_err = NULL;
    if (st.tools == 1 && !guest_tools_forget_unattend(name, &removed, &forget_err))
        fprintf(stderr, "vmdesk: warning: the answer-file CD stays: %s\n", forget_err->message);
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vd_json_add_string_or_null(b, "vm", name);
        json_builder_set_member_name(b, "guest-agent");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "answered");
        json_builder_add_boolean_value(b, st.agent);
        vd_json_add_string_or_null(b, "version", st.agent_version);
        vd_json_add_string_or_null(b, "detail", st.agent ? NULL : st.agent_detail);
        json_builder_end_object(b);
        json_builder_set_member_name(b, "os");
        if (st.os_id || st.os_pretty_name) {
            json_builder_begin_object(b);
            vd_json_add_string_or_null(b, "id", st.os_id);
            vd_json_add_string_or_null(b, "pretty-name", st.os_pretty_name);
            vd_json_add_string_or_null(b, "version", st.os_version);
            vd_json_add_string_or_null(b, "kernel-release", st.kernel_release);
            json_builder_end_object(b);
        } else {
            json_builder_add_null_value(b);
        }
        json_builder_set_member_name(b, "rdp-service");
        json_builder_begin_object(b);
        vd_json_add_string_or_null(b, "state", rdp_service_state_to_string(st.rdp.state));
        vd_json_add_string_or_null(b, "service", st.rdp.service);
        vd_json_add_string_or_null(b, "detail", st.rdp.detail);
        json_builder_end_object(b);
        json_builder_set_member_name(b, "tools");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "installed");
        if (st.tools < 0)
            json_builder_add_null_value(b);
        else
            json_builder_add_boolean_value(b, st.tools == 1);
        vd_json_add_string_or_null(b, "marker", st.tools_marker);
        vd_json_add_string_or_null(b, "detail", st.tools_detail);
        json_builder_end_object(b);
        json_builder_set_member_name(b, "answer-file-removed");
        json_builder_add_boolean_value(b, removed);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
    } else if (!st.agent) {
        printf("guest agent: no answer (%s)\n", st.agent_detail);
        printf("tools:       unknown without the guest agent\n");
    } else {
        printf("guest agent: %s\n", st.agent_version ? st.agent_version : "(version unknown)");
        printf("os:          %s%s%s%s\n", st.os_pretty_name ? st.os_pretty_name : "unknown",
               st.kernel_release ? " (kernel " : "", st.kernel_release ? st.kernel_release : "",
               st.kernel_release ? ")" : "");
        printf("rdp service: %s (%s)\n", rdp_service_state_to_string(st.rdp.state),
               st.rdp.detail ? st.rdp.detail : "");
        printf("tools:       %s (%s)\n",
               st.tools == 1 ? "installed" : st.tools == 0 ? "not installed" : "unknown",
               st.tools_detail);
        if (removed)
            printf("answer file: removed (its CD is ejected and deleted)\n");
    }
    int code = st.agent ? 0 : 5;
    guest_tools_status_clear(&st);
    return code;
}

int cli_tools(int argc, char **argv)
{
    gboolean json = FALSE, run = FALSE;
    g_autofree char *packages = NULL;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "status: JSON output", NULL},
        {"packages", 0, 0, G_OPTION_ARG_FILENAME, &packages,
         "install: put the .deb/.rpm files of this folder on the tools CD", "DIR"},
        {"run", 0, 0, G_OPTION_ARG_NONE, &run,
         "install: run the Linux installer in the guest through its guest agent", NULL},
        G_OPTION_ENTRY_NULL};
    int code;
    if (!cli_parse("tools", "NAME install | NAME status",
                   "The guest tools. install: build the tools CD (label VMDESK_TOOLS) and attach "
                   "it (at once while the VM runs, else at its next start). status: what the "
                   "guest agent sees (agent, OS, RDP service, tools installed); exit 5 when no "
                   "agent answers.",
                   entries, &argc, &argv, &code) ||
        !cli_expect_args("tools", argc, 2, 2, &code))
        return code;
    const char *name = argv[1], *verb = argv[2];
    bool is_install = !strcmp(verb, "install"), is_status = !strcmp(verb, "status");
    if (!is_install && !is_status) {
        fprintf(stderr, "vmdesk tools: write vmdesk tools NAME install or vmdesk tools NAME "
                        "status (see vmdesk tools --help)\n");
        return 2;
    }
    if ((is_install && json) || (is_status && (run || packages))) {
        fprintf(stderr, "vmdesk tools: --json goes with status, --run and --packages with "
                        "install\n");
        return 2;
    }
    return is_install ? install(name, packages, run) : status(name, json);
}
