/* vmdesk create | list | show | set | delete */
#include "cli/cli.h"
#include "cli/cli_libvirt.h"

#include "apps/desktop_entry.h"
#include "common/error.h"
#include "common/json_build.h"
#include "common/paths.h"
#include "common/size.h"
#include "secrets/credentials.h"
#include "storage/vm_disk.h"
#include "storage/vm_media.h"
#include "storage/vm_overlay.h"
#include "storage/vm_snapshot.h"
#include "vm/vm_create.h"
#include "vm/vm_lease.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *absolute(const char *path)
{
    return path ? g_canonicalize_filename(path, NULL) : NULL;
}

int cli_create(int argc, char **argv)
{
    g_autofree char *arch = NULL, *os = NULL, *memory = NULL, *disk = NULL, *iso = NULL, *firmware = NULL,
                    *secure_boot = NULL, *kernel = NULL, *initrd = NULL, *append = NULL,
                    *import_disk = NULL, *accel = NULL, *perf = NULL, *base = NULL,
                    *on_shutdown = NULL, *engine = NULL, *pool = NULL;
    g_auto(GStrv) qemu_args = NULL, forwards = NULL;
    int cpus = 0, rdp_port = 0;
    gboolean tpm = FALSE, overlay = FALSE, sparse = FALSE;
    g_auto(CliUnattend) unattend = {0};
    GOptionEntry entries[] = {
        {"arch", 0, 0, G_OPTION_ARG_STRING, &arch,
         "the guest's architecture: x86_64 or aarch64 (default: the host's)", "ARCH"},
        {"os", 0, 0, G_OPTION_ARG_STRING, &os, "windows, linux (default) or other", "OS"},
        {"memory", 0, 0, G_OPTION_ARG_STRING, &memory, "RAM (default 4G)", "SIZE"},
        {"cpus", 0, 0, G_OPTION_ARG_INT, &cpus, "virtual CPUs (default 2)", "N"},
        {"disk", 0, 0, G_OPTION_ARG_STRING, &disk, "new qcow2 disk size (default 64G; 0 for none)",
         "SIZE"},
        {"sparse", 0, 0, G_OPTION_ARG_NONE, &sparse,
         "allow a --disk SIZE larger than the free space (the image grows as the guest writes; a "
         "full host disk then pauses the VM)",
         NULL},
        {"iso", 0, 0, G_OPTION_ARG_FILENAME, &iso, "CD image to boot/install from", "PATH"},
        {"firmware", 0, 0, G_OPTION_ARG_STRING, &firmware,
         "uefi (default) or bios (default with --kernel; on aarch64: no firmware)", "FW"},
        {"tpm", 0, 0, G_OPTION_ARG_NONE, &tpm, "a TPM 2.0 (swtpm); default for --os windows",
         NULL},
        {"secure-boot", 0, 0, G_OPTION_ARG_STRING, &secure_boot,
         "on|off: UEFI Secure Boot with Microsoft keys (default on for windows)", "ON|OFF"},
        {"kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "direct kernel boot: the kernel", "PATH"},
        {"initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "direct kernel boot: the initrd", "PATH"},
        {"append", 0, 0, G_OPTION_ARG_STRING, &append, "direct kernel boot: command line", "ARGS"},
        {"import-disk", 0, 0, G_OPTION_ARG_FILENAME, &import_disk,
         "convert this image (any format qemu-img reads) into the VM's disk", "PATH"},
        {"base", 0, 0, G_OPTION_ARG_FILENAME, &base,
         "the disk starts as a copy of this image; with --overlay it stays in place, read-only "
         "for the VM, under a qcow2 overlay",
         "IMAGE"},
        {"overlay", 0, 0, G_OPTION_ARG_NONE, &overlay,
         "with --base: the guest writes into an overlay (vmdesk overlay commit|discard)", NULL},
        {"on-shutdown", 0, 0, G_OPTION_ARG_STRING, &on_shutdown,
         "with --overlay: keep (default), commit, discard or ask when the guest shuts down",
         "POLICY"},
        {"qemu-arg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &qemu_args,
         "extra QEMU argument, appended last (repeat for more)", "ARG"},
        {"accel", 0, 0, G_OPTION_ARG_STRING, &accel, "auto (default), kvm or tcg", "ACCEL"},
        {"performance", 0, 0, G_OPTION_ARG_STRING, &perf, "standard (default), powersave, turbo",
         "MODE"},
        {"rdp-port", 0, 0, G_OPTION_ARG_INT, &rdp_port,
         "host port forwarded to the guest's 3389 (default: a free one from 47101)", "PORT"},
        {"forward", 0, 0, G_OPTION_ARG_STRING_ARRAY, &forwards,
         "extra tcp forward 127.0.0.1:HOSTPORT -> guest GUESTPORT (repeat)", "HOSTPORT:GUESTPORT"},
        {"virtio-iso", 0, 0, G_OPTION_ARG_FILENAME, &unattend.virtio_iso,
         "the virtio-win drivers ISO: attached as a CD; Windows gets virtio disk and net", "PATH"},
        {"unattended", 0, 0, G_OPTION_ARG_NONE, &unattend.unattended,
         "install Windows hands-off (answer file, account, guest tools at first logon)", NULL},
        {"user", 0, 0, G_OPTION_ARG_STRING, &unattend.setup.user,
         "--unattended: the local account (default: your user name)", "NAME"},
        {"locale", 0, 0, G_OPTION_ARG_STRING, &unattend.setup.locale,
         "--unattended: Setup's language and the locale (default en-US)", "LL-CC"},
        {"keyboard", 0, 0, G_OPTION_ARG_STRING, &unattend.setup.keyboard,
         "--unattended: keyboard, de-DE or 0407:00000407 (default: the locale's)", "KB"},
        {"timezone", 0, 0, G_OPTION_ARG_STRING, &unattend.setup.timezone,
         "--unattended: Windows time zone name (default UTC)", "TZ"},
        {"engine", 0, 0, G_OPTION_ARG_STRING, &engine,
         "vmdesk (default): vmdesk runs it; libvirt[:URI]: a libvirt domain on that URI "
         "(default: the default URI, see --connect of list) with the same machine",
         "ENGINE"},
        {"pool", 0, 0, G_OPTION_ARG_STRING, &pool,
         "--engine libvirt: the storage pool of the disk volume (default: \"default\")", "POOL"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("create", "NAME", "Create a VM.", entries, &argc, &argv, &status) ||
        !cli_expect_args("create", argc, 1, 1, &status))
        return status;

    GError *err = NULL;
    const char *name = argv[1];
    CliUnattend *un = &unattend;
    if (!vd_name_validate(name, &err))
        return cli_fail(err);
    g_autofree char *lv_uri = NULL;
    bool lv = false;
    if (!cli_libvirt_engine(engine, &lv, &lv_uri, &err))
        return cli_fail(err);
    if (lv && (import_disk || base || overlay || on_shutdown || unattend.unattended || sparse)) {
        g_set_error(&err, VD_ERROR, VD_ERROR_INVALID,
                    "--import-disk, --base, --overlay, --on-shutdown, --unattended and --sparse "
                    "are for vmdesk's own VMs, not --engine libvirt");
        return cli_fail(err);
    }
    if (!lv && pool) {
        g_set_error(&err, VD_ERROR, VD_ERROR_INVALID, "--pool is for --engine libvirt");
        return cli_fail(err);
    }
    g_autoptr(VmConfig) cfg = vm_config_new(name);
    bool windows = os && !g_ascii_strcasecmp(os, "windows");
    /* Everything the hands-off installation needs is checked before anything
     * is created. */
    if (!cli_unattend_prepare(name, windows, iso, un, &err))
        return cli_fail(err);
    g_autofree char *abs_iso = absolute(iso), *abs_kernel = absolute(kernel),
                    *abs_initrd = absolute(initrd), *abs_import = absolute(import_disk),
                    *abs_base = absolute(base);
    g_autofree char *cpus_s = cpus ? g_strdup_printf("%d", cpus) : NULL;
    g_autofree char *port_s = rdp_port ? g_strdup_printf("%d", rdp_port) : NULL;
    VmArch host = VM_ARCH_X86_64;
    vm_arch_host(&host);
    struct {
        const char *key, *value;
    } sets[] = {
        {"os", os},
        {"memory", memory},
        {"cpus", cpus_s},
        {"firmware", firmware ? firmware : kernel ? "bios" : "uefi"},
        {"tpm", tpm || windows ? "on" : NULL},
        {"secure-boot", secure_boot ? secure_boot : windows ? "on" : NULL},
        {"iso", abs_iso},
        {"kernel", abs_kernel},
        {"initrd", abs_initrd},
        {"append", append},
        /* After firmware and kernel: a firmware-less aarch64 VM needs its kernel. */
        {"arch", arch ? arch : vm_arch_to_string(host)},
        {"accel", accel},
        {"performance", perf},
        {"rdp-port", port_s},
        {"virtio", un->virtio_iso ? "on" : NULL},
        {"on-shutdown", on_shutdown},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(sets); i++) {
        if (!sets[i].value)
            continue;
        g_autofree char *a = g_strdup_printf("%s=%s", sets[i].key, sets[i].value);
        if (!vm_config_set(cfg, a, false, NULL, &err))
            return cli_fail(err);
    }
    for (char **q = qemu_args; q && *q; q++) {
        g_autofree char *a = g_strdup_printf("qemu-arg+=%s", *q);
        if (!vm_config_set(cfg, a, false, NULL, &err))
            return cli_fail(err);
    }
    for (char **f = forwards; f && *f; f++) {
        g_autofree char *a = g_strdup_printf("forward+=%s", *f);
        if (!vm_config_set(cfg, a, false, NULL, &err))
            return cli_fail(err);
    }
    if (un->virtio_iso) {
        g_autofree char *a = g_strdup_printf("cd+=%s", un->virtio_iso);
        if (!vm_config_set(cfg, a, false, NULL, &err))
            return cli_fail(err);
    }
    if (lv) {
        uint64_t size = 64ull << 30;
        if (disk && !vd_size_parse(disk, 'G', &size, &err))
            return cli_fail(err);
        return cli_libvirt_create(lv_uri, cfg, size, pool);
    }
    VmCreateOptions opts = {.disk_size = 64ull << 30, .import_disk = abs_import,
                            .base = abs_base, .overlay = overlay,
                            .overcommit = sparse || !disk};
    if (disk && !vd_size_parse(disk, 'G', &opts.disk_size, &err))
        return cli_fail(err);
    if ((import_disk || base) && disk && opts.disk_size) {
        g_set_error(&err, VD_ERROR, VD_ERROR_INVALID,
                    "--disk and --import-disk/--base exclude each other: the image keeps its size");
        return cli_fail(err);
    }
    if (import_disk && base) {
        g_set_error(&err, VD_ERROR, VD_ERROR_INVALID,
                    "--import-disk and --base exclude each other");
        return cli_fail(err);
    }
    if ((overlay || on_shutdown) && !(base && overlay)) {
        g_set_error(&err, VD_ERROR, VD_ERROR_INVALID,
                    "--overlay needs --base IMAGE, and --on-shutdown needs both");
        return cli_fail(err);
    }
    if (cfg->rdp_port) {
        g_autofree char *owner = vm_store_port_owner(cfg->rdp_port, name);
        if (owner) {
            g_set_error(&err, VD_ERROR, VD_ERROR_INVALID, "port %u is VM \"%s\"'s already",
                        cfg->rdp_port, owner);
            return cli_fail(err);
        }
    }
    if (!vm_create(cfg, &opts, &err))
        return cli_fail(err);
    if (!cli_unattend_finish(cfg, un, &err)) {
        /* Nothing half made is left: the VM goes again (its credentials
         * first: they may name a secret-service entry). */
        bool forgot = false;
        credentials_forget(name, &forgot, NULL);
        vm_store_delete(name, false, NULL, NULL);
        return cli_fail(err);
    }
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *mem = vd_size_format(cfg->memory);
    printf("Created VM \"%s\" (%s %s, %s RAM, %u CPUs, %s firmware%s) in %s\n", name,
           vm_arch_to_string(cfg->arch), vm_os_to_string(cfg->os), mem, cfg->cpus, vm_firmware_to_string(cfg->firmware),
           cfg->tpm ? ", TPM 2.0" : "", dir);
    printf("RDP will be forwarded from 127.0.0.1:%u. Start it with: vmdesk start %s\n",
           cfg->rdp_port, name);
    return 0;
}

int cli_list(int argc, char **argv)
{
    gboolean json = FALSE;
    g_autofree char *connect = NULL;
    GOptionEntry entries[] = {{"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
                              CLI_CONNECT_ENTRY(&connect), G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("list", NULL,
                   "List VMs with their state and endpoints, and the domains of a libvirt URI "
                   "beside them.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("list", argc, 0, 0, &status))
        return status;
    GError *err = NULL;
    g_autofree char *uri = NULL;
    if (!cli_libvirt_list_uri(connect, &uri, &err))
        return cli_fail(err);
    g_auto(GStrv) names = vm_store_list(&err);
    if (!names)
        return cli_fail(err);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "vms");
    json_builder_begin_array(b);
    if (!json && *names)
        printf("%-20s %-8s %-12s %-6s %-21s %s\n", "NAME", "ARCH", "STATE", "ACCEL", "RDP",
               "VNC");
    for (char **n = names; *n; n++) {
        g_autoptr(GError) e = NULL;
        g_autoptr(VmConfig) cfg = vm_store_load(*n, &e);
        if (!cfg) {
            /* A VM whose config is damaged stays in the list, in ERROR
             * with the reason, running or not. */
            g_autoptr(VmStatus) st = vm_status_get(*n);
            if (json) {
                json_builder_begin_object(b);
                vd_json_add_string_or_null(b, "name", *n);
                vd_json_add_string_or_null(b, "state", vm_state_to_string(VM_STATE_ERROR));
                vd_json_add_string_or_null(b, "reason", e->message);
                json_builder_set_member_name(b, "running");
                json_builder_add_boolean_value(b, vm_state_is_active(st->state));
                json_builder_end_object(b);
            } else {
                printf("%-20s %-8s %-12s %-6s %-21s %s\n", *n, "-",
                       vm_state_to_string(VM_STATE_ERROR), "-", "-", "-");
                fprintf(stderr, "vmdesk: %s: %s%s\n", *n, e->message,
                        vm_state_is_active(st->state) ? " (its QEMU still runs)" : "");
            }
            continue;
        }
        g_autoptr(VmStatus) st = vm_status_get(*n);
        if (json) {
            json_builder_add_value(b, cli_vm_json(cfg, st, false));
            continue;
        }
        bool active = vm_state_is_active(st->state);
        g_autofree char *vnc = vm_runtime_path(*n, "vnc.sock");
        g_autofree char *rdp = g_strdup_printf("127.0.0.1:%u",
                                               active && st->rdp_port ? st->rdp_port : cfg->rdp_port);
        printf("%-20s %-8s %-12s %-6s %-21s %s\n", *n, vm_arch_to_string(cfg->arch),
               cli_state_text(st),
               active && st->accel ? st->accel : "-", rdp, active ? vnc : "-");
    }
    json_builder_end_array(b);
    if (!json && !*names)
        printf("No VMs of vmdesk's own yet. Create one with: vmdesk create NAME --iso PATH\n");
    int lv_status = uri ? cli_libvirt_list(uri, json, b, *names != NULL) : 0;
    json_builder_end_object(b);
    if (json && !lv_status) {
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
    }
    return lv_status;
}

int cli_show(int argc, char **argv)
{
    gboolean json = FALSE;
    g_autofree char *connect = NULL, *uri = NULL;
    GOptionEntry entries[] = {{"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
                              CLI_CONNECT_ENTRY(&connect), G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("show", "NAME", "Show a VM's config and live state.", entries, &argc, &argv,
                   &status) ||
        !cli_expect_args("show", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    if (!cli_libvirt_pick(connect, argv[1], &uri, &err))
        return cli_fail(err);
    if (uri)
        return cli_libvirt_show(uri, argv[1], json);
    g_autoptr(VmConfig) cfg = vm_store_load(argv[1], &err);
    if (!cfg)
        return cli_fail(err);
    g_autoptr(VmStatus) st = vm_status_get(argv[1]);
    g_autoptr(JsonNode) node = cli_vm_json(cfg, st, true);
    /* A running VM's CD drive as QEMU sees it (the guest may open the tray). */
    VmCdrom cd = {0};
    bool have_cd = vm_state_is_active(st->state) && vm_cdrom_query(argv[1], &cd, NULL);
    if (have_cd) {
        JsonObject *o = json_object_new();
        json_object_set_boolean_member(o, "tray-open", cd.tray_open);
        if (cd.medium)
            json_object_set_string_member(o, "medium", cd.medium);
        else
            json_object_set_null_member(o, "medium");
        json_object_set_object_member(json_node_get_object(node), "cdrom", o);
    }
    /* The overlay (an interrupted commit is completed first) and the snapshots. */
    g_autoptr(VmOverlayStatus) ov = NULL;
    if (cfg->base && !vm_overlay_status(argv[1], &ov, NULL))
        ov = NULL;
    g_autoptr(GPtrArray) snaps = NULL;
    if (cfg->disk && !g_strcmp0(cfg->disk_format, "qcow2"))
        snaps = vm_snapshot_list(argv[1], NULL);
    if (ov)
        json_object_set_member(json_node_get_object(node), "overlay", cli_overlay_json(ov));
    if (snaps)
        json_object_set_member(json_node_get_object(node), "snapshots", cli_snapshots_json(snaps));
    /* Its USB devices: kept ones, and what QEMU has (attached or waiting). */
    g_autoptr(GPtrArray) usb =
        cfg->usb || vm_state_is_active(st->state) ? vm_usb_list(argv[1], NULL) : NULL;
    if (usb)
        json_object_set_member(json_node_get_object(node), "usb-devices",
                               cli_usb_devices_json(usb));
    if (json) {
        vm_cdrom_clear(&cd);
        cli_print_json(node);
        return 0;
    }
    g_autofree char *mem = vd_size_format(cfg->memory);
    g_autofree char *disk = vm_store_disk_path(cfg);
    g_autofree char *vnc = vm_runtime_path(cfg->name, "vnc.sock");
    g_autofree char *qmp = vm_runtime_path(cfg->name, "qmp.sock");
    bool active = vm_state_is_active(st->state);
    printf("name:         %s\n", cfg->name);
    printf("state:        %s%s%s\n", cli_state_text(st), st->reason ? " — " : "",
           st->reason ? st->reason : "");
    if (active)
        printf("accelerator:  %s (%s)\n", st->accel, st->accel_reason ? st->accel_reason : "");
    printf("arch:         %s\n", vm_arch_to_string(cfg->arch));
    printf("os:           %s\n", vm_os_to_string(cfg->os));
    printf("memory:       %s\n", mem);
    printf("cpus:         %u (performance %s)\n", cfg->cpus, vm_perf_to_string(cfg->performance));
    printf("firmware:     %s%s%s\n", vm_firmware_to_string(cfg->firmware),
           cfg->secure_boot ? ", Secure Boot" : "", cfg->tpm ? ", TPM 2.0" : "");
    printf("disk:         %s\n", disk ? disk : "(none)");
    if (ov) {
        printf("overlay:\n");
        cli_overlay_print(cfg->name, ov, "  ");
    }
    if (snaps && snaps->len) {
        printf("snapshots:\n");
        for (guint i = 0; i < snaps->len; i++) {
            VmSnapshot *sn = g_ptr_array_index(snaps, i);
            g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(sn->date);
            g_autofree char *d = t ? g_date_time_format(t, "%F %T") : g_strdup("?");
            printf("  %-20s %s %s\n", sn->tag, d, sn->vm_state_size ? "live" : "disk only");
        }
    }
    if (have_cd)
        printf("cd:           %s (tray %s)\n", cd.medium ? cd.medium : "(empty)",
               cd.tray_open ? "open" : "closed");
    else
        printf("cd:           %s\n", cfg->iso ? cfg->iso : "(empty)");
    vm_cdrom_clear(&cd);
    for (unsigned i = 0; cfg->cds && cfg->cds[i]; i++)
        printf("cd%u:          %s\n", i + 1, cfg->cds[i]);
    if (cfg->virtio)
        printf("virtio:       on (virtio disk and net for Windows)\n");
    if (cfg->kernel)
        printf("kernel:       %s\ninitrd:       %s\nappend:       %s\n", cfg->kernel,
               cfg->initrd ? cfg->initrd : "-", cfg->append ? cfg->append : "");
    printf("rdp:          127.0.0.1:%u -> guest 3389\n",
           active && st->rdp_port ? st->rdp_port : cfg->rdp_port);
    for (char **f = cfg->forwards; f && *f; f++)
        printf("forward:      127.0.0.1:%s\n", *f);
    printf("vnc:          %s%s\n", vnc, active ? "" : " (when running)");
    printf("qmp:          %s%s\n", qmp, active ? "" : " (when running)");
    g_autoptr(GPtrArray) exports = vm_config_share_exports(cfg);
    for (guint i = 0; i < exports->len; i++) {
        g_autofree char *text = cli_share_text(g_ptr_array_index(exports, i));
        printf("share:        %s\n", text);
    }
    for (guint i = 0; usb && i < usb->len; i++) {
        g_autofree char *text = cli_usb_device_text(g_ptr_array_index(usb, i));
        printf("usb:          %s\n", text);
    }
    if (cfg->idle_suspend) {
        g_autofree char *d = vm_duration_format(cfg->idle_suspend);
        printf("idle-suspend: %s (paused when no vmdesk window, app or command used it)\n", d);
    }
    for (char **q = cfg->qemu_args; q && *q; q++)
        printf("qemu-arg:     %s\n", *q);
    for (char **l = st->log_tail; l && *l; l++)
        printf("log:          %s\n", *l);
    return 0;
}

int cli_set(int argc, char **argv)
{
    int status;
    g_autofree char *keys = g_strjoinv(", ", (char **)vm_config_keys());
    g_autofree char *summary = g_strdup_printf(
        "Change a VM's settings. KEYs: %s.\nKEY+=VALUE appends to forward, qemu-arg, share, cd "
        "and usb; KEY= clears. idle-suspend=10m (s, m, h; off by default) pauses the VM when no "
        "vmdesk window, app or command has used it that long; it applies to a running VM at "
        "once.",
        keys);
    if (!cli_parse("set", "NAME KEY=VALUE...", summary, NULL, &argc, &argv, &status) ||
        !cli_expect_args("set", argc, 2, G_MAXINT, &status))
        return status;
    GError *err = NULL;
    g_autoptr(VmConfig) cfg = vm_store_load(argv[1], &err);
    if (!cfg)
        return cli_fail(err);
    g_autoptr(VmStatus) st = vm_status_get(argv[1]);
    bool running = vm_state_is_active(st->state);
    bool later = false, reload = false;
    for (int i = 2; i < argc; i++) {
        bool next = false;
        g_autofree char *a = NULL;
        const char *eq = strchr(argv[i], '=');
        /* Paths are stored absolute, as create stores them. */
        if (eq && (g_str_has_prefix(argv[i], "iso=") || g_str_has_prefix(argv[i], "kernel=") ||
                   g_str_has_prefix(argv[i], "initrd=")) && eq[1]) {
            g_autofree char *p = absolute(eq + 1);
            a = g_strdup_printf("%.*s=%s", (int)(eq - argv[i]), argv[i], p);
        } else {
            a = g_strdup(argv[i]);
        }
        if (!vm_store_set(cfg, a, running, &next, &err))
            return cli_fail(err);
        /* The supervisor reads idle-suspend again below: it applies now. */
        if (g_str_has_prefix(a, "idle-suspend="))
            reload = running;
        else
            later |= next;
    }
    if (!vm_store_save(cfg, &err))
        return cli_fail(err);
    if (reload && !vm_lease_reload(cfg->name, &err))
        return cli_fail(err);
    if (later)
        printf("Saved. The VM is running: the change applies at its next start.\n");
    return 0;
}

int cli_delete(int argc, char **argv)
{
    gboolean keep = FALSE;
    GOptionEntry entries[] = {
        {"keep-disks", 0, 0, G_OPTION_ARG_NONE, &keep, "keep the disk images where they are",
         NULL},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("delete", "NAME", "Delete a stopped VM and its data.", entries, &argc, &argv,
                   &status) ||
        !cli_expect_args("delete", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    g_auto(GStrv) kept = NULL;
    if (!vm_store_delete(argv[1], keep, &kept, &err))
        return cli_fail(err);
    printf("Deleted VM \"%s\".\n", argv[1]);
    /* Its menu entries would start a VM that is gone. */
    guint entries_removed = 0;
    g_autoptr(GError) e = NULL;
    if (!desktop_entry_remove_vm(argv[1], &entries_removed, &e))
        fprintf(stderr, "vmdesk: warning: its menu entries stay: %s (vmdesk apps remove %s)\n",
                e->message, argv[1]);
    else if (entries_removed)
        printf("Removed its %u menu entries.\n", entries_removed);
    for (char **k = kept; k && *k; k++)
        printf("Kept disk: %s\n", *k);
    return 0;
}

int cli_cdrom(int argc, char **argv)
{
    g_autofree char *connect = NULL, *uri = NULL;
    GOptionEntry entries[] = {CLI_CONNECT_ENTRY(&connect), G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("cdrom", "NAME insert PATH | NAME eject",
                   "Put a CD image (an ISO) in the VM's drive, or take it out: at once while the "
                   "VM runs, else for its next start. `vmdesk show` gives the drive's state. "
                   "For a libvirt domain PATH is a file on the daemon's host.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("cdrom", argc, 2, 3, &status))
        return status;
    const char *name = argv[1], *verb = argv[2];
    bool insert = !strcmp(verb, "insert"), eject = !strcmp(verb, "eject");
    if ((!insert && !eject) || (insert && argc != 4) || (eject && argc != 3)) {
        fprintf(stderr, "vmdesk cdrom: write vmdesk cdrom NAME insert PATH or vmdesk cdrom NAME "
                        "eject (see vmdesk cdrom --help)\n");
        return 2;
    }
    GError *err = NULL;
    if (!cli_libvirt_pick(connect, name, &uri, &err))
        return cli_fail(err);
    if (uri) {
        g_autofree char *abs = insert ? g_canonicalize_filename(argv[3], NULL) : NULL;
        return cli_libvirt_cdrom(uri, name, abs);
    }
    bool live = false;
    /* No idle pause while the medium changes. */
    int hold = vm_lease_hold(name, "cdrom", NULL);
    bool ok = insert ? vm_cdrom_insert(name, argv[3], &live, &err)
                     : vm_cdrom_eject(name, &live, &err);
    if (hold >= 0)
        close(hold);
    if (!ok)
        return cli_fail(err);
    g_autofree char *abs = insert ? g_canonicalize_filename(argv[3], NULL) : NULL;
    if (insert)
        printf("%s: %s is in the CD drive%s\n", name, abs,
               live ? "" : " (from the next start)");
    else
        printf("%s: the CD drive is empty%s\n", name, live ? "" : " (from the next start)");
    return 0;
}

int cli_disk(int argc, char **argv)
{
    g_autofree char *format = NULL;
    GOptionEntry entries[] = {
        {"format", 0, 0, G_OPTION_ARG_STRING, &format,
         "export: qcow2 (default), raw, vmdk or vhdx", "FORMAT"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("disk", "NAME resize +SIZE|SIZE | import PATH | export PATH [--format F]",
                   "resize: grow a VM's disk by SIZE (+20G) or to SIZE (80G); units K, M, G, T, "
                   "plain numbers are G. A running guest sees the new size at once (it still "
                   "has to grow its partition and file system). Disks never shrink.\n"
                   "import: replace the stopped VM's disk by an image of any format qemu-img "
                   "reads (converted to qcow2; the old disk and its snapshots are gone).\n"
                   "export: write the stopped VM's disk (base and overlay merged) to PATH as "
                   "qcow2, raw, vmdk or vhdx.\nBoth check the free space first (exit 7).",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("disk", argc, 3, 3, &status))
        return status;
    const char *name = argv[1], *verb = argv[2], *arg = argv[3];
    GError *err = NULL;
    if (format && strcmp(verb, "export")) {
        fprintf(stderr, "vmdesk disk: --format is for export only\n");
        return 2;
    }
    if (!strcmp(verb, "import")) {
        if (!vm_disk_import(name, arg, &err))
            return cli_fail(err);
        g_autofree char *abs = g_canonicalize_filename(arg, NULL);
        printf("%s: the disk is now a qcow2 copy of %s\n", name, abs);
        return 0;
    }
    if (!strcmp(verb, "export")) {
        const char *f = format ? format : "qcow2";
        if (!vm_disk_export(name, arg, f, &err))
            return cli_fail(err);
        g_autofree char *abs = g_canonicalize_filename(arg, NULL);
        printf("%s: the disk was exported to %s (%s)\n", name, abs, f);
        return 0;
    }
    if (strcmp(verb, "resize")) {
        fprintf(stderr, "vmdesk disk: unknown action \"%s\"; write resize, import or export (see "
                        "vmdesk disk --help)\n",
                verb);
        return 2;
    }
    bool live = false;
    uint64_t old_size = 0, new_size = 0;
    if (!vm_disk_resize(name, arg, &live, &old_size, &new_size, &err))
        return cli_fail(err);
    g_autofree char *o = vd_size_format(old_size), *n = vd_size_format(new_size);
    printf("%s: the disk grew from %s to %s%s\n", name, o, n,
           live ? "; the running guest was told" : "");
    return 0;
}
