/* vmdesk view DOMAIN --connect URI: a libvirt domain in vmdesk's window.
 * Its picture comes through libvirt (virDomainOpenGraphicsFD), its state
 * from libvirt's lifecycle events (lv_watch.c): the window's hooks read what
 * the last event said. Through qemu+ssh:// the picture comes through an SSH
 * tunnel to the display's TCP listener (lv_graphics.c), and RDP, when libvirt
 * tells where it answers, through an SSH relay (cli_libvirt_rdp.c). */
#include "cli/cli_libvirt.h"

#include "cli/cli.h"
#include "common/error.h"
#include "common/log.h"
#include "libvirt/lv_domain.h"
#include "libvirt/lv_graphics.h"
#include "libvirt/lv_watch.h"

#include <string.h>

typedef struct {
    LvConn *conn;
    LvWatch *watch;
    const char *name;
} LvView;

/* On the VNC session's thread, for each connection. */
static int open_vnc(void *data, GError **error)
{
    LvView *v = data;
    return lv_domain_open_vnc(v->conn, v->name, error);
}

static void hook_status(void *data, WindowVmStatus *out)
{
    LvView *v = data;
    LvWatchState st = lv_watch_get(v->watch);
    if (st.lost) {
        out->phase = WINDOW_VM_FAILED;
        out->state = g_strdup("UNREACHABLE");
        out->reason = g_strdup_printf("the connection to %s closed", lv_conn_uri(v->conn));
        return;
    }
    out->phase = st.state == VM_STATE_ERROR      ? WINDOW_VM_FAILED
                 : st.state == VM_STATE_STOPPED  ? WINDOW_VM_STOPPED
                 : st.state == VM_STATE_STOPPING ? WINDOW_VM_STOPPING
                                                 : WINDOW_VM_ACTIVE;
    out->state = g_strdup(vm_state_to_string(st.state));
    out->reason = st.state == VM_STATE_ERROR ? g_strdup_printf("libvirt: %s", st.libvirt) : NULL;
}

/* libvirt keeps no on-shutdown question of vmdesk's. */
static bool hook_overlay_pending(void *data)
{
    (void)data;
    return false;
}

/* The RDP target for @opts->protocol: none for vnc; for auto, none (with
 * a note) when libvirt tells no address yet; for rdp, an error then. */
static bool rdp_side(LvConn *c, const char *name, WindowOptions *opts, RdpTarget *t,
                     GError **error)
{
    memset(t, 0, sizeof(*t));
    if (opts->protocol == WINDOW_PROTOCOL_VNC)
        return true;
    GError *e = NULL;
    if (cli_libvirt_rdp_target(c, name, t, &e)) {
        opts->rdp = t;
        return true;
    }
    if (opts->protocol == WINDOW_PROTOCOL_RDP) {
        g_propagate_error(error, e);
        return false;
    }
    vd_info("showing VNC only: %s", e->message);
    g_error_free(e);
    opts->protocol = WINDOW_PROTOCOL_VNC;
    return true;
}

/* Whether the guest's RDP service runs is not asked of a domain's agent
 * yet: the probe of its RDP address alone decides. */
static SwitchRdpService hook_rdp_service(void *data, int timeout_ms, char **detail)
{
    (void)data;
    (void)timeout_ms;
    *detail = g_strdup("not asked for a libvirt domain");
    return SWITCH_RDP_SERVICE_UNKNOWN;
}

int cli_libvirt_view(const char *uri, const char *name, WindowOptions *opts)
{
    GError *err = NULL;
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    /* Nothing is started for a domain vmdesk could not show. */
    if (!c || (opts->protocol != WINDOW_PROTOCOL_RDP && !lv_domain_check_vnc(c, name, &err)))
        return cli_fail(err);
    g_autoptr(LvWatch) watch = lv_watch_new(c, name, &err);
    if (!watch)
        return cli_fail(err);
    VmState state = lv_watch_get(watch).state;
    if (state == VM_STATE_STOPPED && !lv_domain_start(c, name, &err))
        return cli_fail(err);
    LvView v = {.conn = c, .watch = watch, .name = name};
    g_autofree char *label = g_strdup_printf("libvirt domain \"%s\" on %s", name, uri);
    VncTarget t = {.open_fd = open_vnc, .open_data = &v, .label = label};
    WindowVmHooks hooks = {
        .data = &v,
        .status = hook_status,
        .rdp_service = hook_rdp_service,
        .overlay_pending = hook_overlay_pending};
    RdpTarget rdp;
    opts->vm = &hooks;
    opts->vnc = opts->protocol == WINDOW_PROTOCOL_RDP ? NULL : &t;
    opts->rdp = NULL;
    if (!rdp_side(c, name, opts, &rdp, &err))
        return cli_fail(err);
    bool ok = window_run(opts, &err);
    rdp_target_clear(&rdp);
    return ok ? 0 : cli_fail(err);
}
