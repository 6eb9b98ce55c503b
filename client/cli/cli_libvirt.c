/* vmdesk list|start|stop|pause|resume|status --connect URI: libvirt's domains. */
#include "cli/cli_libvirt.h"

#include "cli/cli.h"
#include "common/error.h"
#include "common/json_build.h"
#include "libvirt/lv_domain.h"
#include "vm/vm_store.h"

#include <stdio.h>

bool cli_libvirt_pick(const char *connect, const char *name, char **uri, GError **error)
{
    *uri = NULL;
    if (lv_uri_is_vmdesk(connect))
        return true;
    if (connect && *connect) {
        *uri = g_strdup(connect);
        return true;
    }
    g_autofree char *def = NULL;
    if (!lv_uri_default(&def, error))
        return false;
    if (!def)
        return true;
    if (!vm_store_exists(name)) {
        *uri = g_steal_pointer(&def);
        return true;
    }
    /* vmdesk has it: libvirt must not have it too, or the name is ambiguous. */
    g_autoptr(LvConn) c = lv_conn_open(def, error);
    bool both = false;
    if (!c || !lv_domain_exists(c, name, &both, error))
        return false;
    if (both) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "\"%s\" is both vmdesk's VM and a libvirt domain on %s: say which with "
                    "--connect vmdesk or --connect %s",
                    name, def, def);
        return false;
    }
    return true;
}

bool cli_libvirt_list_uri(const char *connect, char **uri, GError **error)
{
    *uri = NULL;
    if (lv_uri_is_vmdesk(connect))
        return true;
    if (connect && *connect) {
        *uri = g_strdup(connect);
        return true;
    }
    return lv_uri_default(uri, error);
}

int cli_libvirt_list(const char *uri, bool json, JsonBuilder *b, bool header_printed)
{
    GError *err = NULL;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    g_autoptr(GPtrArray) doms = c ? lv_domain_list(c, &err) : NULL;
    if (!doms)
        return cli_fail(err);
    if (json) {
        json_builder_set_member_name(b, "libvirt");
        json_builder_begin_object(b);
        vd_json_add_string_or_null(b, "uri", uri);
        json_builder_set_member_name(b, "domains");
        json_builder_begin_array(b);
        for (guint i = 0; i < doms->len; i++) {
            LvDomainInfo *d = g_ptr_array_index(doms, i);
            json_builder_begin_object(b);
            vd_json_add_string_or_null(b, "name", d->name);
            vd_json_add_string_or_null(b, "state", vm_state_to_string(d->state));
            vd_json_add_string_or_null(b, "libvirt-state", d->libvirt_state);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
        return 0;
    }
    if (!header_printed && doms->len)
        printf("%-20s %-12s %-6s %-21s %s\n", "NAME", "STATE", "ACCEL", "RDP", "VNC");
    for (guint i = 0; i < doms->len; i++) {
        LvDomainInfo *d = g_ptr_array_index(doms, i);
        printf("%-20s %-12s %-6s %-21s libvirt %s (%s)\n", d->name,
               vm_state_to_string(d->state), "-", "-", uri, d->libvirt_state);
    }
    if (!doms->len)
        printf("No libvirt domains on %s.\n", uri);
    return 0;
}

int cli_libvirt_start(const char *uri, const char *name)
{
    GError *err = NULL;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    if (!c || !lv_domain_start(c, name, &err))
        return cli_fail(err);
    printf("libvirt domain \"%s\" on %s is RUNNING.\n", name, uri);
    return 0;
}

int cli_libvirt_stop(const char *uri, const char *name, bool force, int timeout_s)
{
    GError *err = NULL;
    bool forced = false;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    if (!c || !lv_domain_stop(c, name, force, timeout_s, &forced, &err))
        return cli_fail(err);
    printf("libvirt domain \"%s\" on %s is STOPPED%s.\n", name, uri,
           forced ? " (forced off)" : "");
    return 0;
}

int cli_libvirt_pause(const char *uri, const char *name, bool pause)
{
    GError *err = NULL;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    if (!c || !(pause ? lv_domain_pause(c, name, &err) : lv_domain_resume(c, name, &err)))
        return cli_fail(err);
    printf("libvirt domain \"%s\" on %s is %s.\n", name, uri, pause ? "PAUSED" : "RUNNING");
    return 0;
}

int cli_libvirt_status(const char *uri, const char *name, bool json, const char *wait,
                       int timeout_s)
{
    GError *err = NULL;
    VmState state = VM_STATE_ERROR, want = VM_STATE_STOPPED;
    const char *word = NULL;
    if (wait && !vm_state_from_string(wait, &want, &err))
        return cli_fail(err);
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    if (!c || (wait && !lv_domain_wait(c, name, want, timeout_s, &err)) ||
        !lv_domain_state(c, name, &state, &word, &err))
        return cli_fail(err);
    if (!json) {
        printf("%s (libvirt domain on %s: %s)\n", vm_state_to_string(state), uri, word);
        return 0;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    vd_json_add_string_or_null(b, "name", name);
    vd_json_add_string_or_null(b, "engine", "libvirt");
    vd_json_add_string_or_null(b, "uri", uri);
    vd_json_add_string_or_null(b, "state", vm_state_to_string(state));
    vd_json_add_string_or_null(b, "libvirt-state", word);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    cli_print_json(root);
    return 0;
}
