/* vmdesk app DOMAIN PROGRAM --connect URI: a program of a libvirt domain's
 * guest as its own window (RemoteApp), over the domain's RDP address as
 * libvirt tells it, through SSH for another host (cli_libvirt_rdp.c). */
#include "cli/cli_libvirt.h"

#include "apps/app_args.h"
#include "cli/cli.h"
#include "common/error.h"
#include "common/paths.h"
#include "libvirt/lv_domain.h"
#include "libvirt/lv_rdp.h"
#include "session/rdp/rdp_probe.h"

#include <string.h>

typedef struct {
    LvConn *conn;
    const char *name;
    const RdpTarget *rdp;
} LvReady;

/* The status window's readiness check: the domain runs and its RDP
 * address answers an RDP connection request. */
static bool domain_ready(void *data, char **status, GError **error)
{
    LvReady *r = data;
    VmState state = VM_STATE_ERROR;
    const char *word = NULL;
    if (!lv_domain_state(r->conn, r->name, &state, &word, error))
        return false;
    if (!vm_state_is_active(state)) {
        g_set_error(error, VD_ERROR, VD_ERROR_VM,
                    "libvirt domain \"%s\" is %s before its RDP service answered", r->name,
                    word);
        return false;
    }
    RdpProbeInfo info = {0};
    RdpProbeResult res = rdp_target_probe(r->rdp, 3000, &info);
    rdp_probe_info_clear(&info);
    if (res == RDP_PROBE_READY)
        return true;
    *status = g_strdup_printf("domain %s, RDP not answering yet", vm_state_to_string(state));
    return false;
}

/* The control socket of the one process that holds @name's RemoteApp
 * connection: per libvirt host (its port too) and domain UUID, hashed into
 * a short name so a long host name still fits a socket address. */
static char *control_path(LvConn *c, const char *name, GError **error)
{
    g_autofree char *uuid = lv_domain_uuid(c, name, error);
    if (!uuid)
        return NULL;
    g_autofree char *root = vd_paths_runtime_root();
    if (!vd_mkdir_private(root, error))
        return NULL;
    g_autofree char *file = lv_domain_socket_name("apps-libvirt", lv_conn_uri(c), uuid);
    char *path = g_build_filename(root, file, NULL);
    if (strlen(path) > VD_UNIX_PATH_MAX) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the RemoteApp control socket %s is longer than a unix socket address "
                    "takes (%d bytes): run vmdesk with XDG_RUNTIME_DIR set to a shorter folder",
                    path, VD_UNIX_PATH_MAX);
        g_free(path);
        return NULL;
    }
    return path;
}

int cli_libvirt_app(const char *uri, const char *name, const char *program, char **args,
                    const char *wm_class, int timeout_s, int linger_s)
{
    GError *err = NULL;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    VmState state = VM_STATE_ERROR;
    if (!c || !lv_domain_state(c, name, &state, NULL, &err))
        return cli_fail(err);
    if (state == VM_STATE_STOPPED && !lv_domain_start(c, name, &err))
        return cli_fail(err);
    g_autofree char *control = control_path(c, name, &err);
    if (!control)
        return cli_fail(err);
    /* The address: a guest agent answers only once the guest has booted. */
    RdpTarget t;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    while (!cli_libvirt_rdp_target(c, name, &t, &err)) {
        if (!g_error_matches(err, VD_ERROR, VD_ERROR_NOT_FOUND) ||
            g_get_monotonic_time() > deadline)
            return cli_fail(err);
        g_clear_error(&err);
        g_usleep(2 * G_USEC_PER_SEC);
    }
    t.remote_app = g_strdup(program);
    t.remote_app_args = app_command_line(args, NULL);
    g_autofree char *title = g_strdup_printf("%s (libvirt %s)", name, uri);
    g_autofree char *cls = wm_class ? g_strdup(wm_class) : g_strdup_printf("vmdesk-%s", name);
    LvReady ready = {.conn = c, .name = name, .rdp = &t};
    int rc = cli_app_run(title, &t, cls, control, domain_ready, &ready, timeout_s, linger_s);
    rdp_target_clear(&t);
    return rc;
}
