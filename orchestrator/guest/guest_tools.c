#include "guest/guest_tools.h"

#include "common/error.h"
#include "common/paths.h"
#include "guest/tools_iso.h"
#include "qemu/qmp_cmd.h"
#include "storage/vm_media.h"
#include "vm/vm_control.h"
#include "vm/vm_store.h"

#include <glib/gstdio.h>
#include <string.h>

#define QMP_TIMEOUT_MS 5000
#define MOUNT_WAIT_MS 30000

/* The index N of drive cdN that holds @path in @cfg's extra CDs, or 0. */
static unsigned extra_cd_index(const VmConfig *cfg, const char *path)
{
    for (unsigned i = 0; cfg->cds && cfg->cds[i]; i++)
        if (!strcmp(cfg->cds[i], path))
            return i + 1;
    return 0;
}

bool guest_tools_attach(const char *name, const char *packages_dir, GuestToolsAttach *how,
                        char **iso_path, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    g_autofree char *src = tools_guest_tools_dir(error);
    if (!src)
        return false;
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *iso = g_build_filename(dir, TOOLS_ISO_FILE, NULL);
    if (!tools_iso_build(iso, src, packages_dir, error))
        return false;
    if (iso_path)
        *iso_path = g_strdup(iso);
    g_autoptr(VmStatus) st = vm_status_get(name);
    bool running = vm_state_is_active(st->state);
    unsigned own = extra_cd_index(cfg, iso);
    bool in_cd0 = cfg->iso && !strcmp(cfg->iso, iso);
    if (running && (own || in_cd0)) {
        /* The file was replaced: reopen it in its drive. Forced: a guest
         * that mounted the CD locks the tray, and this is our own disc. */
        g_autofree char *id = g_strdup_printf("cd%u", own);
        *how = own ? GUEST_TOOLS_LIVE_OWN : GUEST_TOOLS_LIVE_CD0;
        g_autoptr(QmpClient) q = vm_qmp_connect(name, error);
        return q && qmp_cmd_change_medium(q, id, iso, true, QMP_TIMEOUT_MS, error);
    }
    if (running) {
        /* No drive can be added to a running VM's SATA controller: cd0. */
        bool live = false;
        *how = GUEST_TOOLS_LIVE_CD0;
        return vm_cdrom_insert(name, iso, &live, error);
    }
    *how = GUEST_TOOLS_NEXT_START;
    if (own)
        return true;
    g_autofree char *assign = g_strdup_printf("cd+=%s", iso);
    return vm_config_set(cfg, assign, false, NULL, error) && vm_store_save(cfg, error);
}

void guest_tools_status_clear(GuestToolsStatus *st)
{
    g_free(st->agent_version);
    g_free(st->agent_detail);
    g_free(st->os_id);
    g_free(st->os_pretty_name);
    g_free(st->os_version);
    g_free(st->kernel_release);
    rdp_service_info_clear(&st->rdp);
    g_free(st->tools_marker);
    g_free(st->tools_detail);
    memset(st, 0, sizeof(*st));
}

static char *member(JsonNode *node, const char *name)
{
    JsonObject *o = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    const char *v = o ? json_object_get_string_member_with_default(o, name, NULL) : NULL;
    return v ? g_strdup(v) : NULL;
}

/* The first line of the file @path in the guest (at most 4 KiB), or NULL
 * with @error (the agent's refusal when it does not exist). */
static char *read_guest_file(QgaClient *c, const char *path, int timeout_ms, GError **error)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "mode", "r");
    g_autoptr(JsonNode) h = qga_client_execute(c, "guest-file-open", args, timeout_ms, error);
    if (!h)
        return NULL;
    gint64 handle = json_node_get_int(h);
    args = json_object_new();
    json_object_set_int_member(args, "handle", handle);
    json_object_set_int_member(args, "count", 4096);
    g_autoptr(JsonNode) r = qga_client_execute(c, "guest-file-read", args, timeout_ms, error);
    args = json_object_new();
    json_object_set_int_member(args, "handle", handle);
    JsonNode *closed = qga_client_execute(c, "guest-file-close", args, timeout_ms, NULL);
    if (closed)
        json_node_unref(closed);
    g_autofree char *b64 = member(r, "buf-b64");
    if (!b64) {
        if (r)
            g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "guest-file-read gave no data");
        return NULL;
    }
    gsize len = 0;
    g_autofree guchar *data = g_base64_decode(b64, &len);
    g_autofree char *text = g_strndup((const char *)data, len);
    char *nl = strpbrk(text, "\r\n");
    if (nl)
        *nl = '\0';
    return g_strdup(g_strstrip(text));
}

bool guest_tools_status(const char *name, int timeout_ms, GuestToolsStatus *st, GError **error)
{
    memset(st, 0, sizeof(*st));
    st->tools = -1;
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    g_autoptr(VmStatus) vs = vm_status_get(name);
    if (!vm_state_is_active(vs->state)) {
        g_autofree char *plain =
            g_strdup_printf("VM \"%s\" is not running; start it first", name);
        vd_error_set_worded(error, VD_ERROR_STATE, NULL, plain, "%s (vmdesk start %s)", plain,
                            name);
        return false;
    }
    g_autofree char *sock = vm_runtime_path(name, "qga.sock");
    GError *e = NULL;
    g_autoptr(QgaClient) c = qga_client_connect_unix(sock, &e);
    if (!c || !qga_client_sync(c, timeout_ms, &e)) {
        st->agent_detail = g_strdup(e->message);
        g_error_free(e);
        st->rdp.detail = g_strdup(st->agent_detail);
        st->tools_detail = g_strdup("unknown without the guest agent");
        return true;
    }
    st->agent = true;
    g_autoptr(JsonNode) info = qga_client_execute(c, "guest-info", NULL, timeout_ms, NULL);
    st->agent_version = member(info, "version");
    g_autoptr(JsonNode) os = qga_client_execute(c, "guest-get-osinfo", NULL, timeout_ms, NULL);
    st->os_id = member(os, "id");
    st->os_pretty_name = member(os, "pretty-name");
    st->os_version = member(os, "version");
    st->kernel_release = member(os, "kernel-release");
    /* The agent knows better than the config which OS runs. */
    VmOs guest_os = st->os_id ? (!strcmp(st->os_id, "mswindows") ? VM_OS_WINDOWS : VM_OS_LINUX)
                              : cfg->os;
    rdp_service_query(c, guest_os, timeout_ms, &st->rdp);
    const char *marker =
        guest_os == VM_OS_WINDOWS ? GUEST_TOOLS_MARKER_WINDOWS : GUEST_TOOLS_MARKER_LINUX;
    st->tools_marker = read_guest_file(c, marker, timeout_ms, &e);
    if (st->tools_marker) {
        st->tools = 1;
        st->tools_detail = g_strdup_printf("%s says \"%s\"", marker, st->tools_marker);
    } else if (g_error_matches(e, VD_ERROR, VD_ERROR_TIMEOUT)) {
        st->tools_detail = g_strdup(e->message);
    } else {
        st->tools = 0;
        st->tools_detail = g_strdup_printf("no %s (%s)", marker, e->message);
    }
    g_clear_error(&e);
    return true;
}

bool guest_tools_agent_answers(const char *name, int timeout_ms)
{
    g_autofree char *sock = vm_runtime_path(name, "qga.sock");
    g_autoptr(QgaClient) c = qga_client_connect_unix(sock, NULL);
    return c && qga_client_sync(c, timeout_ms, NULL);
}

/* Run @argv in the guest; true when it exited 0 (its output dropped). */
static bool guest_ok(QgaClient *c, const char *const *argv, int timeout_ms)
{
    QgaExecResult r;
    if (!qga_client_exec(c, argv[0], argv, timeout_ms, &r, NULL))
        return false;
    bool ok = r.exit_code == 0;
    qga_exec_result_clear(&r);
    return ok;
}

/* Mount the tools CD on GUEST_TOOLS_LINUX_MOUNT: by label, else the first
 * CD drive with linux/install.sh; retried while the guest notices the disc. */
static bool mount_tools(QgaClient *c, GError **error)
{
    static const char *const devices[] = {"/dev/disk/by-label/" TOOLS_ISO_LABEL, "/dev/sr0",
                                          "/dev/sr1", "/dev/sr2", "/dev/sr3", "/dev/sr4", NULL};
    const char *mkdir_argv[] = {"mkdir", "-p", GUEST_TOOLS_LINUX_MOUNT, NULL};
    const char *test_argv[] = {"test", "-f", GUEST_TOOLS_LINUX_MOUNT "/linux/install.sh", NULL};
    const char *umount_argv[] = {"umount", GUEST_TOOLS_LINUX_MOUNT, NULL};
    guest_ok(c, mkdir_argv, 10000);
    /* Left mounted by an earlier run: use it if it is the tools. */
    if (guest_ok(c, test_argv, 10000))
        return true;
    gint64 deadline = g_get_monotonic_time() + MOUNT_WAIT_MS * (gint64)1000;
    do {
        for (int i = 0; devices[i]; i++) {
            const char *mount_argv[] = {"mount", "-o", "ro", devices[i], GUEST_TOOLS_LINUX_MOUNT,
                                        NULL};
            if (!guest_ok(c, mount_argv, 10000))
                continue;
            if (guest_ok(c, test_argv, 10000))
                return true;
            guest_ok(c, umount_argv, 10000);
        }
        g_usleep(1000 * 1000);
    } while (g_get_monotonic_time() < deadline);
    g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                "the guest found no CD labelled " TOOLS_ISO_LABEL " with linux/install.sh "
                "within %d s (is the tools ISO attached? vmdesk tools NAME install)",
                MOUNT_WAIT_MS / 1000);
    return false;
}

bool guest_tools_run_linux(const char *name, int timeout_ms, QgaExecResult *result,
                           GError **error)
{
    memset(result, 0, sizeof(*result));
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    if (cfg->os == VM_OS_WINDOWS) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "--run runs the Linux installer; in a Windows guest run "
                    "windows\\install.ps1 from the tools CD as administrator");
        return false;
    }
    g_autofree char *sock = vm_runtime_path(name, "qga.sock");
    g_autoptr(QgaClient) c = qga_client_connect_unix(sock, error);
    if (!c || !qga_client_sync(c, 5000, error))
        return false;
    if (!mount_tools(c, error))
        return false;
    const char *argv[] = {"sh", GUEST_TOOLS_LINUX_MOUNT "/linux/install.sh", "--media",
                          GUEST_TOOLS_LINUX_MOUNT, NULL};
    bool ok = qga_client_exec(c, "sh", argv, timeout_ms, result, error);
    const char *umount_argv[] = {"umount", GUEST_TOOLS_LINUX_MOUNT, NULL};
    if (ok)
        guest_ok(c, umount_argv, 10000);
    return ok;
}

bool guest_tools_forget_unattend(const char *name, bool *removed, GError **error)
{
    *removed = false;
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *iso = g_build_filename(dir, TOOLS_UNATTEND_FILE, NULL);
    unsigned n = extra_cd_index(cfg, iso);
    if (n) {
        g_autoptr(VmStatus) st = vm_status_get(name);
        if (vm_state_is_active(st->state)) {
            g_autofree char *id = g_strdup_printf("cd%u", n);
            g_autoptr(QmpClient) q = vm_qmp_connect(name, error);
            if (!q || !qmp_cmd_eject(q, id, true, QMP_TIMEOUT_MS, error))
                return false;
        }
        /* Directly, not through `set`: cd cannot change while running, but
         * dropping a drive that is already empty is safe for the next start. */
        GStrvBuilder *b = g_strv_builder_new();
        for (char **c = cfg->cds; *c; c++)
            if (strcmp(*c, iso))
                g_strv_builder_add(b, *c);
        g_strfreev(cfg->cds);
        cfg->cds = g_strv_builder_end(b);
        g_strv_builder_unref(b);
        if (!*cfg->cds)
            g_clear_pointer(&cfg->cds, g_strfreev);
        if (!vm_store_save(cfg, error))
            return false;
        *removed = true;
    }
    if (g_file_test(iso, G_FILE_TEST_EXISTS)) {
        g_unlink(iso);
        *removed = true;
    }
    return true;
}
