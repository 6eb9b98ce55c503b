/* vmdesk overlay | snapshot | disposable: a VM's disk state */
#include "cli/cli.h"
#include "cli/cli_libvirt.h"

#include "common/error.h"
#include "common/size.h"
#include "storage/vm_overlay.h"
#include "storage/vm_snapshot.h"
#include "vm/vm_control.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <string.h>

static char *format_time(gint64 unix_s)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(unix_s);
    return t ? g_date_time_format(t, "%F %T") : g_strdup("?");
}

/* "12.3 MiB": sizes as measured, not as typed. */
static char *human(uint64_t bytes)
{
    return g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
}

JsonNode *cli_overlay_json(const VmOverlayStatus *st)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "base");
    json_builder_add_string_value(b, st->base);
    json_builder_set_member_name(b, "base-format");
    json_builder_add_string_value(b, st->base_format ? st->base_format : "");
    json_builder_set_member_name(b, "base-allocated-bytes");
    json_builder_add_int_value(b, (gint64)st->base_allocated);
    json_builder_set_member_name(b, "overlay");
    json_builder_add_string_value(b, st->overlay);
    json_builder_set_member_name(b, "overlay-allocated-bytes");
    json_builder_add_int_value(b, (gint64)st->overlay_allocated);
    json_builder_set_member_name(b, "virtual-size-bytes");
    json_builder_add_int_value(b, (gint64)st->virtual_size);
    json_builder_set_member_name(b, "changed-bytes");
    json_builder_add_int_value(b, (gint64)st->changed_bytes);
    json_builder_set_member_name(b, "uefi-vars-changed");
    json_builder_add_boolean_value(b, st->vars_changed);
    json_builder_set_member_name(b, "tpm-changed");
    json_builder_add_boolean_value(b, st->tpm_changed);
    json_builder_set_member_name(b, "on-shutdown");
    json_builder_add_string_value(b, vm_on_shutdown_to_string(st->policy));
    json_builder_set_member_name(b, "pending");
    json_builder_add_boolean_value(b, st->pending);
    if (st->pending) {
        json_builder_set_member_name(b, "pending-since");
        json_builder_add_int_value(b, st->pending_since);
    }
    if (st->recovered) {
        json_builder_set_member_name(b, "recovered");
        json_builder_add_string_value(b, st->recovered);
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

void cli_overlay_print(const char *name, const VmOverlayStatus *st, const char *indent)
{
    g_autofree char *ba = human(st->base_allocated), *oa = human(st->overlay_allocated),
                    *ch = human(st->changed_bytes), *vs = human(st->virtual_size);
    if (st->recovered)
        printf("%sAn interrupted %s was completed now.\n", indent, st->recovered);
    printf("%sbase:         %s (%s, %s on disk, read-only for the VM)\n", indent, st->base,
           st->base_format ? st->base_format : "?", ba);
    printf("%soverlay:      %s (%s on disk, disk size %s)\n", indent, st->overlay, oa, vs);
    printf("%schanged:      %s of disk data%s%s\n", indent, ch,
           st->vars_changed ? ", UEFI variables" : "", st->tpm_changed ? ", TPM state" : "");
    printf("%son-shutdown:  %s\n", indent, vm_on_shutdown_to_string(st->policy));
    if (st->pending) {
        g_autofree char *since = format_time(st->pending_since);
        printf("%spending:      the guest shut down at %s; keep these changes?\n", indent, since);
        printf("%s              vmdesk overlay %s commit    merge them into the base\n", indent,
               name);
        printf("%s              vmdesk overlay %s discard   throw them away\n", indent, name);
        printf("%s              vmdesk overlay %s keep      keep the overlay, ask no more\n",
               indent, name);
    }
}

int cli_overlay(int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output (status)", NULL},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("overlay", "NAME status [--json] | commit | discard | keep",
                   "A VM's overlay on its read-only base (vmdesk create --base IMAGE --overlay): "
                   "status gives the sizes of base and overlay, what changed and a question "
                   "left by on-shutdown=ask; commit merges the overlay (with the UEFI variables "
                   "and TPM state) into the base; discard throws it away; keep answers the "
                   "question by keeping it. The VM must be stopped for commit and discard.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("overlay", argc, 2, 2, &status))
        return status;
    const char *name = argv[1], *verb = argv[2];
    GError *err = NULL;
    if (!strcmp(verb, "status")) {
        g_autoptr(VmOverlayStatus) st = NULL;
        if (!vm_overlay_status(name, &st, &err))
            return cli_fail(err);
        if (json) {
            g_autoptr(JsonNode) n = cli_overlay_json(st);
            cli_print_json(n);
        } else {
            cli_overlay_print(name, st, "");
        }
        return 0;
    }
    VmOverlayAction a;
    if (!strcmp(verb, "commit"))
        a = VM_OVERLAY_COMMIT;
    else if (!strcmp(verb, "discard"))
        a = VM_OVERLAY_DISCARD;
    else if (!strcmp(verb, "keep"))
        a = VM_OVERLAY_KEEP;
    else {
        fprintf(stderr, "vmdesk overlay: unknown action \"%s\"; write status, commit, discard or "
                        "keep (see vmdesk overlay --help)\n",
                verb);
        return 2;
    }
    if (!vm_overlay_apply(name, a, &err))
        return cli_fail(err);
    printf("%s: %s\n", name,
           a == VM_OVERLAY_COMMIT    ? "the overlay was committed into the base; it is empty now"
           : a == VM_OVERLAY_DISCARD ? "the overlay was discarded; the VM is back at its base"
                                     : "the overlay is kept");
    return 0;
}

JsonNode *cli_snapshots_json(GPtrArray *list)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        VmSnapshot *s = g_ptr_array_index(list, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "tag");
        json_builder_add_string_value(b, s->tag);
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, s->id);
        json_builder_set_member_name(b, "date");
        json_builder_add_int_value(b, s->date);
        json_builder_set_member_name(b, "live");
        json_builder_add_boolean_value(b, s->vm_state_size > 0);
        json_builder_set_member_name(b, "vm-state-bytes");
        json_builder_add_int_value(b, (gint64)s->vm_state_size);
        json_builder_set_member_name(b, "vm-clock-ms");
        json_builder_add_int_value(b, (gint64)s->vm_clock_ms);
        json_builder_set_member_name(b, "side-bytes");
        json_builder_add_int_value(b, (gint64)s->side_size);
        json_builder_set_member_name(b, "uefi-vars");
        json_builder_add_boolean_value(b, s->has_vars);
        json_builder_set_member_name(b, "tpm");
        json_builder_add_boolean_value(b, s->has_tpm);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return json_builder_get_root(b);
}

void cli_snapshots_print(GPtrArray *list)
{
    printf("%-20s %-19s %-10s %-10s %s\n", "TAG", "DATE", "VM-STATE", "COPIES", "KIND");
    for (guint i = 0; i < list->len; i++) {
        VmSnapshot *s = g_ptr_array_index(list, i);
        g_autofree char *date = format_time(s->date);
        g_autofree char *vm = s->vm_state_size ? human(s->vm_state_size) : g_strdup("-");
        g_autofree char *side = human(s->side_size);
        printf("%-20s %-19s %-10s %-10s %s%s%s\n", s->tag, date, vm, side,
               s->vm_state_size ? "live" : "disk only", s->has_vars ? ", UEFI vars" : "",
               s->has_tpm ? ", TPM" : "");
    }
}

int cli_snapshot(int argc, char **argv)
{
    gboolean json = FALSE, force = FALSE;
    g_autofree char *connect = NULL, *uri = NULL;
    GOptionEntry entries[] = {
        CLI_CONNECT_ENTRY(&connect),
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output (list)", NULL},
        {"force", 0, 0, G_OPTION_ARG_NONE, &force,
         "restore even though unsaved state is lost (restore)", NULL},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("snapshot",
                   "NAME save TAG | restore TAG [--force] | list [--json] | delete TAG",
                   "Snapshots of a VM's disk with its UEFI variables and TPM state. Taken while "
                   "the VM runs they hold its memory too (live); while it is stopped, the disk "
                   "only. restore refuses to destroy unsaved state without --force: a running "
                   "VM, or a stopped one whose disk or UEFI variables changed since the last "
                   "snapshot save or restore. A libvirt domain (--connect) gets libvirt's own "
                   "snapshots (internal, with its memory while it runs).",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("snapshot", argc, 2, 3, &status))
        return status;
    const char *name = argv[1], *verb = argv[2], *tag = argc > 3 ? argv[3] : NULL;
    GError *err = NULL;
    bool list = !strcmp(verb, "list");
    bool save = !strcmp(verb, "save"), restore = !strcmp(verb, "restore"),
         del = !strcmp(verb, "delete");
    if ((!list && !save && !restore && !del) || (list && tag) || (!list && !tag)) {
        fprintf(stderr, "vmdesk snapshot: write vmdesk snapshot NAME save TAG | restore TAG | "
                        "list | delete TAG (see vmdesk snapshot --help)\n");
        return 2;
    }
    if (!cli_libvirt_pick(connect, name, &uri, &err))
        return cli_fail(err);
    if (uri)
        return cli_libvirt_snapshot(uri, name, verb, tag, force, json);
    if (list) {
        g_autoptr(GPtrArray) l = vm_snapshot_list(name, &err);
        if (!l)
            return cli_fail(err);
        if (json) {
            cli_snapshot_list_json(cli_snapshots_json(l));
        } else if (l->len) {
            cli_snapshots_print(l);
        } else {
            printf("VM \"%s\" has no snapshots; take one with vmdesk snapshot %s save TAG\n",
                   name, name);
        }
        return 0;
    }
    bool live = false;
    bool ok = save      ? vm_snapshot_save(name, tag, &live, &err)
              : restore ? vm_snapshot_restore(name, tag, force, &live, &err)
                        : vm_snapshot_delete(name, tag, &live, &err);
    if (!ok)
        return cli_fail(err);
    cli_snapshot_done(name, verb, tag, live);
    return 0;
}

void cli_snapshot_list_json(JsonNode *list)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "snapshots");
    json_builder_add_value(b, list);
    json_builder_end_object(b);
    g_autoptr(JsonNode) n = json_builder_get_root(b);
    cli_print_json(n);
}

void cli_snapshot_done(const char *name, const char *verb, const char *tag, bool live)
{
    bool save = !strcmp(verb, "save");
    printf("%s: snapshot \"%s\" %s%s\n", name, tag,
           save ? "saved" : !strcmp(verb, "restore") ? "restored" : "deleted",
           live ? (save ? " (live: with the VM's memory)" : " (live)") : "");
}

int cli_disposable(int argc, char **argv)
{
    gboolean fullscreen = FALSE, no_window = FALSE;
    g_autofree char *scale = NULL, *protocol = NULL;
    GOptionEntry entries[] = {
        {"fullscreen", 0, 0, G_OPTION_ARG_NONE, &fullscreen, "start in full screen", NULL},
        {"scale", 0, 0, G_OPTION_ARG_STRING, &scale, "as for vmdesk view", "SCALE"},
        {"protocol", 0, 0, G_OPTION_ARG_STRING, &protocol, "as for vmdesk view", "PROTO"},
        {"no-window", 0, 0, G_OPTION_ARG_NONE, &no_window,
         "only start the disposable run (stop it to throw it away)", NULL},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("disposable", "NAME",
                   "Run a stopped VM on a throw-away overlay, with throw-away copies of its "
                   "UEFI variables and TPM state, and show it like vmdesk view: whatever the "
                   "guest changes is gone when it shuts down. The VM's own disk is not "
                   "written.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("disposable", argc, 1, 1, &status))
        return status;
    const char *name = argv[1];
    GError *err = NULL;
    g_autoptr(VmConfig) cfg = vm_store_load(name, &err);
    if (!cfg)
        return cli_fail(err);
    g_autoptr(VmStatus) st = vm_status_get(name);
    if (vm_state_is_active(st->state)) {
        g_set_error(&err, VD_ERROR, VD_ERROR_STATE,
                    "VM \"%s\" is running; a disposable run starts it fresh: stop it first "
                    "(vmdesk stop %s)",
                    name, name);
        return cli_fail(err);
    }
    g_autofree char *self = cli_self_exe();
    VmStartOptions opts = {.self_exe = self, .disposable = true};
    g_autoptr(VmStatus) started = NULL;
    printf("Starting VM \"%s\" disposable: its changes are thrown away when it shuts down\n",
           name);
    fflush(stdout);
    if (!vm_start(name, &opts, &started, &err))
        return cli_fail(err);
    if (no_window)
        return 0;
    GPtrArray *v = g_ptr_array_new();
    g_ptr_array_add(v, "view");
    g_ptr_array_add(v, (char *)name);
    if (fullscreen)
        g_ptr_array_add(v, "--fullscreen");
    if (scale) {
        g_ptr_array_add(v, "--scale");
        g_ptr_array_add(v, scale);
    }
    if (protocol) {
        g_ptr_array_add(v, "--protocol");
        g_ptr_array_add(v, protocol);
    }
    g_ptr_array_add(v, NULL);
    int rc = cli_view((int)v->len - 1, (char **)v->pdata);
    g_ptr_array_free(v, TRUE);
    return rc;
}
