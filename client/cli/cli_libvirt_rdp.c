/* The RDP side of a libvirt domain: where its RDP service answers (found
 * through libvirt: port forward, guest agent, DHCP lease), reached directly
 * on this host and through an ssh -W tunnel on another (a socket FreeRDP
 * and the probe are handed: nothing listens here); its certificate pinned
 * per libvirt host (with its port) and domain UUID. */
#include "cli/cli_libvirt.h"

#include "cli/cli.h"
#include "common/error.h"
#include "common/log.h"
#include "libvirt/lv_rdp.h"
#include "libvirt/lv_ssh.h"

#include <string.h>

bool cli_libvirt_rdp_target(LvConn *c, const char *name, RdpTarget *t, GError **error)
{
    memset(t, 0, sizeof(*t));
    const char *uri = lv_conn_uri(c);
    g_autofree char *host = NULL;
    unsigned port = 0;
    const char *how = NULL;
    if (!lv_domain_rdp_address(c, name, &host, &port, &how, error))
        return false;
    g_autofree char *uuid = lv_domain_uuid(c, name, error);
    if (!uuid)
        return false;
    if (lv_uri_is_ssh(uri)) {
        g_autofree char *target = strchr(host, ':') ? g_strdup_printf("[%s]:%u", host, port)
                                                    : g_strdup_printf("%s:%u", host, port);
        t->tunnel = lv_ssh_tunnel_argv(uri, target, error);
        if (!t->tunnel)
            return false;
        vd_debug("RDP of domain %s: %s on %s (%s), through ssh -W", name, target, uri, how);
        t->host = g_steal_pointer(&host);
        t->port = port;
    } else if (lv_uri_is_local(uri)) {
        vd_debug("RDP of domain %s: %s:%u (%s)", name, host, port, how);
        t->host = g_steal_pointer(&host);
        t->port = port;
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "vmdesk reaches the RDP service of a domain on another host only through "
                    "qemu+ssh:// (%s)",
                    uri);
        return false;
    }
    g_autofree char *where = lv_uri_host_key(uri);
    t->pin_file = cli_known_hosts_path();
    t->pin_group = g_strdup_printf("libvirt:%s/%s", where, uuid);
    t->pin_hint = g_strdup_printf("remove the group [%s] from %s", t->pin_group, t->pin_file);
    t->audio = true;
    return true;
}
