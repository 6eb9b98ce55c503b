/* A domain's RDP address: its port forward, its guest agent, its lease. */
#include "libvirt/lv_rdp.h"

#include "common/error.h"
#include "libvirt/lv_conn_priv.h"
#include "libvirt/lv_ssh.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned guest_port;
    char *host;
    unsigned port;
} FwdScan;

/* "[tcp]:[ADDR]:PORT-[GADDR]:GPORT" (QEMU's -netdev user,hostfwd=). */
static bool parse_fwd(const char *rule, FwdScan *f)
{
    g_auto(GStrv) sides = g_strsplit(rule, "-", 2);
    if (g_strv_length(sides) != 2)
        return false;
    g_auto(GStrv) h = g_strsplit(sides[0], ":", 3);
    const char *gport = strrchr(sides[1], ':');
    if (g_strv_length(h) != 3 || (*h[0] && strcmp(h[0], "tcp")) || !gport)
        return false;
    char *end;
    guint64 hp = g_ascii_strtoull(h[2], &end, 10), gp;
    if (*end || !hp || hp > 65535)
        return false;
    gp = g_ascii_strtoull(gport + 1, &end, 10);
    if (*end || gp != f->guest_port)
        return false;
    const char *a = h[1];
    f->host = g_strdup(!*a || !strcmp(a, "0.0.0.0") ? "127.0.0.1" : a);
    f->port = (unsigned)hp;
    return true;
}

static void on_start(GMarkupParseContext *ctx, const char *element, const char **names,
                     const char **values, gpointer data, GError **error)
{
    (void)ctx;
    (void)error;
    FwdScan *f = data;
    /* <qemu:commandline><qemu:arg value='...'/>; libvirt writes the
     * prefix "qemu" for its QEMU namespace. */
    if (f->host || strcmp(element, "qemu:arg"))
        return;
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], "value"))
            continue;
        g_auto(GStrv) opts = g_strsplit(values[i], ",", -1);
        for (char **o = opts; *o && !f->host; o++)
            if (g_str_has_prefix(*o, "hostfwd="))
                parse_fwd(*o + strlen("hostfwd="), f);
    }
}

bool lv_rdp_hostfwd(const char *xml, unsigned guest_port, char **host, unsigned *port)
{
    static const GMarkupParser parser = {.start_element = on_start};
    FwdScan f = {.guest_port = guest_port};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &f, NULL);
    bool ok = g_markup_parse_context_parse(ctx, xml, -1, NULL) &&
              g_markup_parse_context_end_parse(ctx, NULL);
    g_markup_parse_context_free(ctx);
    if (!ok || !f.host) {
        g_free(f.host);
        return false;
    }
    *host = f.host;
    *port = f.port;
    return true;
}

char *lv_rdp_guest_address(const char *text)
{
    struct in_addr a;
    if (!text || inet_pton(AF_INET, text, &a) != 1)
        return NULL;
    uint32_t v = ntohl(a.s_addr);
    uint8_t first = v >> 24;
    if (first == 0 || first == 127 || first >= 224 || (v >> 16) == 0xA9FE) /* 169.254/16 */
        return NULL;
    char out[INET_ADDRSTRLEN];
    return g_strdup(inet_ntop(AF_INET, &a, out, sizeof(out)));
}

/* The first address @d's interfaces have as @source tells that
 * lv_rdp_guest_address() accepts, or NULL. What a guest agent says is the
 * guest's word: only a plain unicast IPv4 address goes on. */
static char *iface_address(virDomainPtr d, unsigned source)
{
    virDomainInterfacePtr *ifaces = NULL;
    int n = virDomainInterfaceAddresses(d, &ifaces, source, 0);
    char *found = NULL;
    for (int i = 0; i < n; i++) {
        for (unsigned j = 0; !found && j < ifaces[i]->naddrs; j++) {
            const virDomainIPAddress *a = &ifaces[i]->addrs[j];
            if (a->type == VIR_IP_ADDR_TYPE_IPV4)
                found = lv_rdp_guest_address(a->addr);
        }
        virDomainInterfaceFree(ifaces[i]);
    }
    free(ifaces);
    return found;
}

bool lv_domain_rdp_address(LvConn *c, const char *name, char **host, unsigned *port,
                           const char **how, GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return false;
    bool ok = false;
    int active = virDomainIsActive(d);
    char *xml = active == 1 ? virDomainGetXMLDesc(d, 0) : NULL;
    if (active != 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "domain \"%s\" on %s is not running: its RDP address is not known yet",
                    name, c->uri);
    } else if (xml && lv_rdp_hostfwd(xml, LV_RDP_GUEST_PORT, host, port)) {
        *how = "hostfwd";
        ok = true;
    } else if ((*host = iface_address(d, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE))) {
        *how = "DHCP lease"; /* the host's dnsmasq handed it out: asked first */
        *port = LV_RDP_GUEST_PORT;
        ok = true;
    } else if ((*host = iface_address(d, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT))) {
        *how = "guest agent";
        *port = LV_RDP_GUEST_PORT;
        ok = true;
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no address for domain \"%s\"'s RDP service on %s: libvirt's networks "
                    "lease it none, no guest agent told one, and it has no user-mode forward "
                    "to port %d (<qemu:arg value='...,hostfwd=tcp:127.0.0.1:PORT-:%d'/>)",
                    name, c->uri, LV_RDP_GUEST_PORT, LV_RDP_GUEST_PORT);
    }
    free(xml);
    virDomainFree(d);
    return ok;
}

char *lv_domain_uuid(LvConn *c, const char *name, GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return NULL;
    char buf[VIR_UUID_STRING_BUFLEN];
    char *uuid = NULL;
    if (virDomainGetUUIDString(d, buf) == 0)
        uuid = g_strdup(buf);
    else
        lv_set_error(error, "cannot read domain \"%s\"'s UUID on %s", name, c->uri);
    virDomainFree(d);
    return uuid;
}

char *lv_uri_host_key(const char *uri)
{
    g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NON_DNS, NULL);
    g_autofree char *host = lv_uri_host(uri);
    int port = u ? g_uri_get_port(u) : -1;
    if (port <= 0 || (port == 22 && lv_uri_is_ssh(uri)))
        return g_steal_pointer(&host);
    return strchr(host, ':') ? g_strdup_printf("[%s]:%d", host, port)
                             : g_strdup_printf("%s:%d", host, port);
}

char *lv_domain_socket_name(const char *prefix, const char *uri, const char *uuid)
{
    g_autofree char *host = lv_uri_host_key(uri);
    g_autofree char *key = g_strdup_printf("%s/%s", host, uuid);
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
    sum[24] = '\0';
    return g_strdup_printf("%s-%s.sock", prefix, sum);
}

char *lv_uri_host(const char *uri)
{
    g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NON_DNS, NULL);
    const char *host = u ? g_uri_get_host(u) : NULL;
    return g_strdup(host && *host ? host : "localhost");
}
