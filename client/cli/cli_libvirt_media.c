/* vmdesk show|screenshot|cdrom|snapshot --connect URI: libvirt's domains,
 * through libvirt's own calls (orchestrator/libvirt/lv_media.h,
 * lv_snapshot.h). */
#include "cli/cli.h"
#include "cli/cli_libvirt.h"

#include "common/error.h"
#include "common/json_build.h"
#include "common/size.h"
#include "libvirt/lv_domain.h"
#include "libvirt/lv_media.h"
#include "libvirt/lv_ppm.h"
#include "libvirt/lv_snapshot.h"
#include "ui/png_writer.h"

#include <stdio.h>
#include <string.h>

static char *date_text(gint64 date)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(date);
    return t ? g_date_time_format(t, "%F %T") : g_strdup("?");
}

static JsonNode *snapshots_json(GPtrArray *snaps)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < snaps->len; i++) {
        LvSnapshot *s = g_ptr_array_index(snaps, i);
        json_builder_begin_object(b);
        vd_json_add_string_or_null(b, "tag", s->name);
        json_builder_set_member_name(b, "date");
        json_builder_add_int_value(b, s->date);
        json_builder_set_member_name(b, "live");
        json_builder_add_boolean_value(b, s->live);
        json_builder_set_member_name(b, "current");
        json_builder_add_boolean_value(b, s->current);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return json_builder_get_root(b);
}

static void snapshots_print(GPtrArray *snaps, const char *indent, bool header)
{
    if (header)
        printf("%s%-20s %-19s %s\n", indent, "TAG", "DATE", "KIND");
    for (guint i = 0; i < snaps->len; i++) {
        LvSnapshot *s = g_ptr_array_index(snaps, i);
        g_autofree char *d = date_text(s->date);
        printf("%s%-20s %-19s %s%s\n", indent, s->name, d, s->live ? "live" : "disk only",
               s->current ? " (current)" : "");
    }
}

static void show_json(const char *uri, const char *name, VmState state, const char *word,
                      const LvDescription *d, GPtrArray *snaps)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    vd_json_add_string_or_null(b, "name", name);
    vd_json_add_string_or_null(b, "engine", "libvirt");
    vd_json_add_string_or_null(b, "uri", uri);
    vd_json_add_string_or_null(b, "arch", d->arch);
    vd_json_add_string_or_null(b, "state", vm_state_to_string(state));
    vd_json_add_string_or_null(b, "libvirt-state", word);
    json_builder_set_member_name(b, "config");
    json_builder_begin_object(b);
    vd_json_add_string_or_null(b, "machine", d->machine);
    vd_json_add_string_or_null(b, "domain-type", d->type);
    json_builder_set_member_name(b, "memory-bytes");
    json_builder_add_int_value(b, (gint64)d->memory);
    json_builder_set_member_name(b, "cpus");
    json_builder_add_int_value(b, d->cpus);
    vd_json_add_string_or_null(b, "firmware", d->uefi ? "uefi" : "bios");
    json_builder_set_member_name(b, "secure-boot");
    json_builder_add_boolean_value(b, d->secure_boot);
    json_builder_set_member_name(b, "tpm");
    json_builder_add_boolean_value(b, d->tpm);
    json_builder_set_member_name(b, "disks");
    json_builder_begin_array(b);
    for (char **k = d->disks; *k; k++)
        json_builder_add_string_value(b, *k);
    json_builder_end_array(b);
    vd_json_add_string_or_null(b, "kernel", d->kernel);
    vd_json_add_string_or_null(b, "initrd", d->initrd);
    vd_json_add_string_or_null(b, "append", d->cmdline);
    vd_json_add_string_or_null(b, "graphics", d->graphics);
    json_builder_set_member_name(b, "guest-agent");
    json_builder_add_boolean_value(b, d->agent);
    json_builder_end_object(b);
    if (d->have_cd) {
        json_builder_set_member_name(b, "cdrom");
        json_builder_begin_object(b);
        vd_json_add_string_or_null(b, "medium", d->cd);
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "snapshots");
    json_builder_add_value(b, snapshots_json(snaps));
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    cli_print_json(root);
}

int cli_libvirt_show(const char *uri, const char *name, bool json)
{
    GError *err = NULL;
    VmState state = VM_STATE_ERROR;
    const char *word = NULL;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    if (!c || !lv_domain_state(c, name, &state, &word, &err))
        return cli_fail(err);
    g_autoptr(LvDescription) d = lv_domain_describe(c, name, &err);
    g_autoptr(GPtrArray) snaps = d ? lv_snapshot_list(c, name, &err) : NULL;
    if (!snaps)
        return cli_fail(err);
    if (json) {
        show_json(uri, name, state, word, d, snaps);
        return 0;
    }
    g_autofree char *mem = vd_size_format(d->memory);
    printf("name:         %s\n", name);
    printf("state:        %s (libvirt domain on %s: %s)\n", vm_state_to_string(state), uri, word);
    printf("arch:         %s (machine %s, %s)\n", d->arch ? d->arch : "?",
           d->machine ? d->machine : "?", d->type ? d->type : "?");
    printf("memory:       %s\n", mem);
    printf("cpus:         %u\n", d->cpus);
    printf("firmware:     %s%s%s\n", d->uefi ? "uefi" : "bios",
           d->secure_boot ? ", Secure Boot" : "", d->tpm ? ", TPM 2.0" : "");
    for (char **k = d->disks; *k; k++)
        printf("disk:         %s\n", *k);
    if (!*d->disks)
        printf("disk:         (none)\n");
    if (d->have_cd)
        printf("cd:           %s\n", d->cd ? d->cd : "(empty)");
    if (d->kernel)
        printf("kernel:       %s\ninitrd:       %s\nappend:       %s\n", d->kernel,
               d->initrd ? d->initrd : "-", d->cmdline ? d->cmdline : "");
    printf("display:      %s\n", !d->graphics ? "(none)"
                                 : !strcmp(d->graphics, "vnc")
                                     ? "vnc (through libvirt: vmdesk view, screenshot)"
                                     : d->graphics);
    printf("guest agent:  %s\n", d->agent ? "channel org.qemu.guest_agent.0" : "(none)");
    if (snaps->len) {
        printf("snapshots:\n");
        snapshots_print(snaps, "  ", false);
    }
    return 0;
}

int cli_libvirt_screenshot(const char *uri, const char *name, const char *file)
{
    GError *err = NULL;
    g_autoptr(GBytes) data = NULL;
    g_autofree char *mime = NULL;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    if (!c || !lv_screenshot(c, name, &data, &mime, &err))
        return cli_fail(err);
    gsize len = 0;
    const uint8_t *bytes = g_bytes_get_data(data, &len);
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len > sizeof png_sig && !memcmp(bytes, png_sig, sizeof png_sig)) {
        /* QEMU wrote PNG itself: kept as it came. */
        if (!g_file_set_contents_full(file, (const char *)bytes, (gssize)len,
                                      G_FILE_SET_CONTENTS_CONSISTENT, 0644, &err))
            return cli_fail(err);
    } else {
        g_autofree uint32_t *px = NULL;
        int w = 0, h = 0;
        if (!lv_ppm_parse(bytes, len, &px, &w, &h, &err) ||
            !png_write_xrgb(file, px, w, h, w * 4, &err))
            return cli_fail(err);
    }
    printf("Saved the picture of libvirt domain \"%s\" (%s) to %s\n", name, mime, file);
    return 0;
}

int cli_libvirt_cdrom(const char *uri, const char *name, const char *path)
{
    GError *err = NULL;
    bool live = false;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    if (!c || !lv_cdrom_change(c, name, path, &live, &err))
        return cli_fail(err);
    if (path)
        printf("%s: %s is in the CD drive%s\n", name, path, live ? "" : " (from the next start)");
    else
        printf("%s: the CD drive is empty%s\n", name, live ? "" : " (from the next start)");
    return 0;
}

int cli_libvirt_snapshot(const char *uri, const char *name, const char *verb, const char *tag,
                         bool force, bool json)
{
    GError *err = NULL;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    if (!c)
        return cli_fail(err);
    if (!strcmp(verb, "list")) {
        g_autoptr(GPtrArray) l = lv_snapshot_list(c, name, &err);
        if (!l)
            return cli_fail(err);
        if (json) {
            cli_snapshot_list_json(snapshots_json(l));
        } else if (l->len) {
            snapshots_print(l, "", true);
        } else {
            printf("VM \"%s\" has no snapshots; take one with vmdesk snapshot %s save TAG "
                   "--connect %s\n",
                   name, name, uri);
        }
        return 0;
    }
    bool live = false, save = !strcmp(verb, "save"), restore = !strcmp(verb, "restore");
    bool ok = save      ? lv_snapshot_save(c, name, tag, &live, &err)
              : restore ? lv_snapshot_restore(c, name, tag, force, &live, &err)
                        : lv_snapshot_delete(c, name, tag, &err);
    if (!ok)
        return cli_fail(err);
    cli_snapshot_done(name, verb, tag, live);
    return 0;
}
