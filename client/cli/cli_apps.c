/* vmdesk apps list | install | remove: a guest's applications (asked through
 * its guest agent, orchestrator/guest/guest_apps.h) and desktop menu entries for
 * them (apps/desktop_entry.h). */
#include "cli/cli.h"
#include "cli/cli_libvirt.h"

#include "apps/desktop_entry.h"
#include "common/error.h"
#include "guest/guest_apps.h"
#include "guest/qga_client.h"
#include "vm/vm_control.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define APPS_SUMMARY                                                                              \
    "The applications installed in a guest, found through its QEMU guest agent (Linux: "     \
    ".desktop files; Windows: Start Menu shortcuts, App Paths, Store apps), and desktop "    \
    "menu entries that start them as `vmdesk app NAME PROGRAM`.\n\n"                           \
    "  list NAME [--json]           the guest's applications (the VM must run)\n"               \
    "  install NAME [PROGRAM...]    menu entries with the programs' icons (all when none "      \
    "given)\n"                                                                                   \
    "  remove NAME [PROGRAM...]     remove them (all of NAME's when none given)\n\n"          \
    "PROGRAM is an application's program path, id or name as `list` shows them. "            \
    "With --start a stopped VM is started and its guest agent awaited. With --connect URI "  \
    "the same on a libvirt domain, its guest agent reached through libvirt (here or over "   \
    "SSH), the entries' Exec carrying the URI; install names programs there even without "  \
    "an agent (entries without icons)."

/* cli_wait_agent()'s try for VM @data: its socket and a sync. */
static int try_vm_agent(void *data, GError **last, GError **error)
{
    const char *name = data;
    g_autofree char *sock = vm_runtime_path(name, "qga.sock");
    g_autoptr(QgaClient) c = qga_client_connect_unix(sock, last);
    if (c && qga_client_sync(c, 2000, last))
        return 1;
    g_autoptr(VmStatus) now = vm_status_get(name);
    if (!vm_state_is_active(now->state)) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE, "VM \"%s\" stopped while booting (%s)",
                    name, vm_state_to_string(now->state));
        return -1;
    }
    return 0;
}

/* Start @name and wait until its guest agent answers (within @timeout_s). */
static bool start_and_wait_agent(const char *name, int timeout_s, GError **error)
{
    g_autoptr(VmStatus) st = vm_status_get(name);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    if (!vm_state_is_active(st->state)) {
        g_autofree char *self = cli_self_exe();
        VmStartOptions opts = {.self_exe = self, .timeout_ms = timeout_s * 1000};
        VmStatus *started = NULL;
        if (!vm_start(name, &opts, &started, error))
            return false;
        vm_status_free(started);
        fprintf(stderr, "Started VM \"%s\"; waiting for its guest agent...\n", name);
    }
    g_autofree char *who = g_strdup_printf("VM \"%s\"", name);
    return cli_wait_agent(try_vm_agent, (void *)name, who, deadline, timeout_s, error);
}

/* The guest's applications, starting the VM first with @start. */
static GPtrArray *list_apps(const char *name, bool start, int timeout_s, GError **error)
{
    if (start && !vm_store_exists(name)) {
        vm_config_free(vm_store_load(name, error)); /* fails: the usual "no VM" error */
        return NULL;
    }
    if (start && !start_and_wait_agent(name, timeout_s, error))
        return NULL;
    int lease = cli_vm_lease(name, "apps");
    GPtrArray *apps = guest_apps_list(name, GUEST_APPS_TIMEOUT_MS, error);
    if (lease >= 0)
        close(lease);
    return apps;
}

static bool app_matches(const GuestApp *app, const char *file_id, const char *want)
{
    g_autofree char *base = g_path_get_basename(app->program);
    const char *bs = strrchr(app->program, '\\');
    return !strcmp(want, app->program) || !strcmp(want, app->id) || !strcmp(want, file_id) ||
           !g_ascii_strcasecmp(want, app->name) || !strcmp(want, base) ||
           (bs && !g_ascii_strcasecmp(want, bs + 1));
}

static void add_strv(JsonObject *o, const char *member, char **v)
{
    JsonArray *a = json_array_new();
    for (char **s = v; s && *s; s++)
        json_array_add_string_element(a, *s);
    json_object_set_array_member(o, member, a);
}

static void set_opt_string(JsonObject *o, const char *member, const char *v)
{
    if (v)
        json_object_set_string_member(o, member, v);
    else
        json_object_set_null_member(o, member);
}

/* @uri: the libvirt URI of domain @name, or NULL for vmdesk's own VM. */
static int apps_list(const char *name, const char *uri, GPtrArray *apps, bool json)
{
    g_auto(GStrv) ids = desktop_entry_assign_ids(apps);
    g_autoptr(JsonArray) arr = json_array_new();
    if (!json)
        printf("%-24s %-28s %-6s %s\n", "ID", "NAME", "ICON", "PROGRAM");
    for (guint i = 0; i < apps->len; i++) {
        const GuestApp *app = g_ptr_array_index(apps, i);
        int w, h;
        g_autofree char *format = desktop_entry_probe_icon(app->icon_data, &w, &h);
        g_autofree char *file_id = desktop_entry_file_id(name, uri, ids[i]);
        const char *want[] = {file_id, NULL};
        g_auto(GStrv) installed = desktop_entry_find(name, uri, want);
        if (!json) {
            g_autofree char *icon = format ? g_strdup_printf("%s", format) : g_strdup("-");
            printf("%-24s %-28s %-6s %s", app->id, app->name, icon, app->program);
            for (char **a = app->args; *a; a++)
                printf(" %s", *a);
            printf("%s\n", *installed ? "   [installed]" : "");
            continue;
        }
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "id", app->id);
        json_object_set_string_member(o, "desktop-id", file_id);
        json_object_set_string_member(o, "name", app->name);
        set_opt_string(o, "generic-name", app->generic_name);
        set_opt_string(o, "comment", app->comment);
        json_object_set_string_member(o, "program", app->program);
        add_strv(o, "args", app->args);
        add_strv(o, "mime-types", app->mime_types);
        add_strv(o, "categories", app->categories);
        set_opt_string(o, "source", app->source);
        JsonObject *icon = NULL;
        if (app->icon_data) {
            icon = json_object_new();
            set_opt_string(icon, "path", app->icon_path);
            json_object_set_int_member(icon, "bytes", (gint64)g_bytes_get_size(app->icon_data));
            set_opt_string(icon, "format", format);
            json_object_set_int_member(icon, "width", w);
            json_object_set_int_member(icon, "height", h);
        }
        if (icon)
            json_object_set_object_member(o, "icon", icon);
        else
            json_object_set_null_member(o, "icon");
        set_opt_string(o, "entry", *installed ? *installed : NULL);
        json_array_add_object_element(arr, o);
    }
    if (json) {
        g_autoptr(JsonObject) root = json_object_new();
        json_object_set_string_member(root, "vm", name);
        if (uri)
            json_object_set_string_member(root, "uri", uri);
        json_object_set_array_member(root, "apps", json_array_ref(arr));
        g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), root);
        cli_print_json(node);
    } else if (!apps->len) {
        printf("(no applications found in the guest)\n");
    }
    return 0;
}

static int apps_install(const char *name, const char *uri, GPtrArray *apps,
                        const char *const *which)
{
    g_auto(GStrv) ids = desktop_entry_assign_ids(apps);
    g_autoptr(GArray) chosen = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < apps->len; i++) {
        const GuestApp *app = g_ptr_array_index(apps, i);
        g_autofree char *file_id = desktop_entry_file_id(name, uri, ids[i]);
        bool take = !which || !*which;
        for (const char *const *w = which; w && *w && !take; w++)
            take = app_matches(app, file_id, *w);
        if (take)
            g_array_append_val(chosen, i);
    }
    /* Every PROGRAM named must be there before anything is written. */
    for (const char *const *w = which; w && *w; w++) {
        bool found = false;
        for (guint k = 0; k < apps->len && !found; k++) {
            g_autofree char *file_id = desktop_entry_file_id(name, uri, ids[k]);
            found = app_matches(g_ptr_array_index(apps, k), file_id, *w);
        }
        if (!found)
            return cli_fail(g_error_new(VD_ERROR, VD_ERROR_NOT_FOUND,
                                        "%s \"%s\" has no application \"%s\" (vmdesk apps list "
                                        "%s%s%s shows what it has)",
                                        uri ? "libvirt domain" : "VM", name, *w, name,
                                        uri ? " --connect " : "", uri ? uri : ""));
    }
    g_autofree char *self = cli_self_exe();
    for (guint k = 0; k < chosen->len; k++) {
        guint i = g_array_index(chosen, guint, k);
        const GuestApp *app = g_ptr_array_index(apps, i);
        g_autofree char *path = NULL, *warning = NULL;
        GError *err = NULL;
        if (!desktop_entry_install(name, uri, app, ids[i], self, &path, &warning, &err)) {
            desktop_entry_refresh_caches();
            return cli_fail(err);
        }
        if (warning)
            fprintf(stderr, "vmdesk: warning: %s\n", warning);
        if (uri)
            printf("Installed %s (%s on %s): %s\n", app->name, app->program, uri, path);
        else
            printf("Installed %s (%s): %s\n", app->name, app->program, path);
    }
    desktop_entry_refresh_caches();
    if (!chosen->len)
        printf("No applications to install: the guest lists none.\n");
    return 0;
}

/* The entries of VM @name, or of libvirt domain @name at @uri (found by
 * their X-Vmdesk-Connect: the domain need not be reachable to lose them). */
static int apps_remove(const char *name, const char *uri, const char *const *which)
{
    bool all = !which || !*which;
    g_auto(GStrv) paths = desktop_entry_find(name, uri, all ? NULL : which);
    if (!*paths && !uri && !vm_store_exists(name)) {
        GError *err = NULL;
        vm_config_free(vm_store_load(name, &err)); /* fails: the usual "no VM" error */
        return cli_fail(err);
    }
    for (const char *const *w = which; !all && *w; w++) {
        const char *one[] = {*w, NULL};
        g_auto(GStrv) hit = desktop_entry_find(name, uri, one);
        if (!*hit)
            return cli_fail(g_error_new(VD_ERROR, VD_ERROR_NOT_FOUND,
                                        "%s \"%s\"%s%s has no menu entry for \"%s\"",
                                        uri ? "libvirt domain" : "VM", name, uri ? " on " : "",
                                        uri ? uri : "", *w));
    }
    guint n = 0;
    for (char **p = paths; *p; p++, n++) {
        GError *err = NULL;
        if (!desktop_entry_remove_file(*p, &err)) {
            desktop_entry_refresh_caches();
            return cli_fail(err);
        }
        printf("Removed %s\n", *p);
    }
    if (n)
        desktop_entry_refresh_caches();
    else
        printf("%s \"%s\"%s%s has no menu entries.\n", uri ? "libvirt domain" : "VM", name,
               uri ? " on " : "", uri ? uri : "");
    return 0;
}

/* Entries for the named programs of libvirt domain @name at @uri, whose
 * Exec runs `vmdesk app --connect URI`, without the guest's list: for a
 * domain that is not running or whose guest agent is not there (a Windows
 * VM without the guest tools), each program is taken as named, without an
 * icon. */
static int apps_install_named(const char *name, const char *uri, const char *const *which)
{
    g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func((GDestroyNotify)guest_app_free);
    for (const char *const *w = which; *w; w++) {
        GuestApp *app = g_new0(GuestApp, 1);
        const char *base = strrchr(*w, '\\') ? strrchr(*w, '\\') + 1
                           : strrchr(*w, '/') ? strrchr(*w, '/') + 1
                                              : *w;
        app->id = g_strdup(*base ? base : *w);
        app->name = g_strdup(app->id);
        if (g_str_has_suffix(app->name, ".exe") || g_str_has_suffix(app->name, ".EXE"))
            app->name[strlen(app->name) - 4] = 0;
        app->program = g_strdup(*w);
        app->args = g_new0(char *, 1);
        app->mime_types = g_new0(char *, 1);
        app->categories = g_new0(char *, 1);
        g_ptr_array_add(apps, app);
    }
    g_auto(GStrv) ids = desktop_entry_assign_ids(apps);
    g_autofree char *self = cli_self_exe();
    for (guint i = 0; i < apps->len; i++) {
        const GuestApp *app = g_ptr_array_index(apps, i);
        g_autofree char *path = NULL, *warning = NULL;
        GError *err = NULL;
        if (!desktop_entry_install(name, uri, app, ids[i], self, &path, &warning, &err)) {
            desktop_entry_refresh_caches();
            return cli_fail(err);
        }
        printf("Installed %s (%s on %s): %s\n", app->name, app->program, uri, path);
    }
    desktop_entry_refresh_caches();
    return 0;
}

int cli_apps(int argc, char **argv)
{
    gboolean json = FALSE, start = FALSE;
    g_autofree char *connect = NULL, *uri = NULL;
    int timeout_s = 300;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "list: JSON output (docs/cli.md)", NULL},
        {"start", 0, 0, G_OPTION_ARG_NONE, &start,
         "list, install: start the VM when it is stopped and wait for its guest agent", NULL},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
         "with --start: seconds to wait for the guest agent (default 300)", "S"},
        CLI_CONNECT_ENTRY(&connect),
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("apps", "list|install|remove NAME [PROGRAM...]", APPS_SUMMARY, entries, &argc,
                   &argv, &status) ||
        !cli_expect_args("apps", argc, 2, G_MAXINT, &status))
        return status;
    const char *verb = argv[1], *name = argv[2];
    g_autoptr(GStrvBuilder) wb = g_strv_builder_new();
    for (int i = 3; i < argc; i++)
        g_strv_builder_add(wb, argv[i]);
    g_auto(GStrv) which_v = g_strv_builder_end(wb);
    const char *const *which = (const char *const *)which_v;
    bool list = !strcmp(verb, "list"), install = !strcmp(verb, "install"),
         remove = !strcmp(verb, "remove");
    if (!list && !install && !remove) {
        fprintf(stderr, "vmdesk apps: unknown action \"%s\"; write vmdesk apps list|install|remove "
                        "NAME (see vmdesk apps --help)\n",
                verb);
        return 2;
    }
    if ((list && argc > 3) || (json && !list) || (start && remove) || timeout_s <= 0) {
        fprintf(stderr, "vmdesk apps: %s (see vmdesk apps --help)\n",
                list && argc > 3 ? "list takes only NAME"
                : json && !list  ? "--json goes with list"
                : start && remove ? "remove needs no running VM: --start does not apply"
                                  : "--timeout must be positive");
        return 2;
    }
    if (remove)
        return apps_remove(name, connect, which);
    GError *err = NULL;
    if (!cli_libvirt_pick(connect, name, &uri, &err))
        return cli_fail(err);
    g_autoptr(GPtrArray) apps = uri ? cli_libvirt_apps(uri, name, start, timeout_s, &err)
                                    : list_apps(name, start, timeout_s, &err);
    if (!apps && uri && install && *which && cli_libvirt_apps_unreachable(err)) {
        /* Named programs need no list: entries without icons. */
        fprintf(stderr, "vmdesk: note: %s; writing entries for the programs as named\n",
                err->message);
        g_error_free(err);
        return apps_install_named(name, uri, which);
    }
    if (!apps)
        return cli_fail(err);
    return list ? apps_list(name, uri, apps, json) : apps_install(name, uri, apps, which);
}
