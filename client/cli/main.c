/* vmdesk: run a VM and use it from the Linux desktop. Command dispatch only. */
#include "cli/cli.h"
#include "common/error.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

/* The command reference: `vmdesk --help`, and through `vmdesk __reference`
 * the manual pages and shell completions (tools/gen-reference), which take
 * each command's options from its own `--help`. */
static const CliCommand commands[] = {
    {"create", cli_create, "create NAME [OPTIONS]", "make a new VM, x86_64 or aarch64 (disk, firmware, TPM, port)", NULL, NULL},
    {"list", cli_list, "list [--json]", "VMs with architecture, state, accelerator and endpoints",
     NULL, NULL},
    {"show", cli_show, "show NAME [--json]", "a VM's config and live state",
     .operands = "vm"},
    {"set", cli_set, "set NAME KEY=VALUE...", "change settings (KEY+=VALUE appends to lists)",
     .operands = "vm"},
    {"delete", cli_delete, "delete NAME [--keep-disks]", "remove a stopped VM",
     .operands = "vm"},
    {"start", cli_start, "start NAME [--accel A]", "boot the VM; returns once QEMU runs",
     .operands = "vm"},
    {"stop", cli_stop, "stop NAME [--force] [--timeout S]", "ACPI power-down, forced after S s",
     .operands = "vm"},
    {"pause", cli_pause, "pause NAME", "freeze the VM's CPUs",
     .operands = "vm"},
    {"resume", cli_resume, "resume NAME", "continue a paused VM",
     .operands = "vm"},
    {"status", cli_status, "status NAME [--json] [--wait STATE]", "its state, or wait for one",
     .operands = "vm"},
    {"view", cli_view, "view NAME [--protocol auto|vnc|rdp]", "the VM in a window (starts it)",
     .operands = "vm"},
    {"connect", cli_connect, "connect rdp://[USER@]HOST[:PORT]",
     "any RDP or VNC server in a window", NULL, NULL},
    {"app", cli_app, "app NAME PROGRAM [ARGS...]",
     "one guest program in its own window (RemoteApp)", .operands = "vm"},
    {"screenshot", cli_screenshot, "screenshot NAME|URL FILE.png", "save the picture, no window",
     .operands = "vm file"},
    {"cdrom", cli_cdrom, "cdrom NAME insert PATH | eject", "CD media, live or for the next start",
     .verbs = "insert eject", .operands = "vm verb file"},
    {"disk", cli_disk, "disk NAME resize|import|export ...", "grow, replace or copy out the disk",
     .verbs = "resize import export", .operands = "vm verb file"},
    {"overlay", cli_overlay, "overlay NAME status|commit|discard",
     "the overlay on a read-only base", .verbs = "status commit discard keep",
     .operands = "vm verb"},
    {"snapshot", cli_snapshot, "snapshot NAME save|restore|list|delete",
     "disk + UEFI vars + TPM, live or offline", .verbs = "save restore list delete",
     .operands = "vm verb snapshot"},
    {"disposable", cli_disposable, "disposable NAME [view options]", "run on a throw-away overlay",
     .operands = "vm"},
    {"credentials", cli_credentials, "credentials NAME [--user U]",
     "the guest login RDP uses (kept private)", .operands = "vm"},
    {"share", cli_share, "share NAME PATH [--as Z] [--read-only]",
     "a host folder: an RDP drive, a 9p mount in Linux", .operands = "vm dir"},
    {"usb", cli_usb, "usb list | NAME attach|detach DEV|list", "pass host USB devices through",
     .verbs = "attach detach list", .operands = "vm verb"},
    {"certificate", cli_certificate, "certificate NAME [--forget]", "the pinned RDP certificate",
     .operands = "vm"},
    {"probe", cli_probe, "probe NAME|HOST:PORT [--timeout MS]",
     "is RDP ready? (RDP handshake, guest agent)", .operands = "vm"},
    {"tools", cli_tools, "tools NAME install | status [--json]",
     "guest tools: attach the CD, ask the agent", .verbs = "install status", .operands = "vm verb"},
    {"apps", cli_apps, "apps list|install|remove NAME", "guest applications, as menu entries",
     .verbs = "list install remove", .operands = "verb vm"},
    {"fetch", cli_fetch, "fetch URL|ID [--sha256 HEX] [-o PATH]",
     "download an ISO (resumable, verified)", NULL, NULL},
    {"doctor", cli_doctor, "doctor [--json]",
     "can this host run VMs, and how fast? (KVM or TCG per architecture)", NULL, NULL},
    {"__supervise", cli_supervise, NULL, NULL, NULL, NULL},
    {"__complete", cli_complete, NULL, NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: vmdesk COMMAND [ARGS...]\n\n"
                 "Run a virtual machine and use it from the Linux desktop.\n\nCommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        if (commands[i].synopsis)
            fprintf(out, "  %-38s %s\n", commands[i].synopsis, commands[i].summary);
    fprintf(out, "\n`vmdesk COMMAND --help` describes a command's options. list, start, stop, "
                 "pause,\nresume, status, view, app, apps, probe, show, screenshot, "
                 "cdrom and\nsnapshot also reach libvirt's domains: --connect URI (or "
                 "$VMDESK_CONNECT);\ncreate --engine libvirt[:URI] defines one.\n"
                 "Exit status: 0 ok, 1 failure, 2 bad usage or input, 3 not found, 4 wrong VM "
                 "state,\n5 timeout, 6 QEMU failed, 7 not enough disk space.\n");
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    cli_words_init();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "__reference"))
        return cli_reference(commands, G_N_ELEMENTS(commands));
    if (!strcmp(cmd, "--version")) {
        printf("vmdesk " VMDESK_VERSION "\n");
        return 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].func(argc - 1, argv + 1);
    fprintf(stderr, "vmdesk: error: unknown command \"%s\"\n\n", cmd);
    usage(stderr);
    return 2;
}
