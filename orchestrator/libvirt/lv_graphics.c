/* A domain's VNC display through virDomainOpenGraphicsFD. */
#include "libvirt/lv_graphics.h"

#include "common/error.h"
#include "libvirt/lv_conn_priv.h"
#include "libvirt/lv_ssh.h"

#include <string.h>

typedef struct {
    int count, vnc;   /* <graphics> seen, index of the first VNC one */
    char *first_type;
    LvVncEndpoint ep; /* of the first VNC one */
} GraphicsScan;

static const char *attr(const char **names, const char **values, const char *key)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], key))
            return values[i];
    return NULL;
}

/* The first VNC display's where-it-listens: its attributes (as libvirt
 * writes them in a running domain's description), then its <listen>. */
static void vnc_attrs(LvVncEndpoint *ep, const char **names, const char **values)
{
    const char *port = attr(names, values, "port");
    ep->port = port ? (int)g_ascii_strtoll(port, NULL, 10) : -1;
    ep->address = g_strdup(attr(names, values, "listen"));
    ep->socket = g_strdup(attr(names, values, "socket"));
}

static void vnc_listen(LvVncEndpoint *ep, const char **names, const char **values)
{
    const char *type = attr(names, values, "type");
    if (type && !strcmp(type, "none"))
        ep->none = true;
    const char *address = attr(names, values, "address");
    const char *socket = attr(names, values, "socket");
    if (address && !ep->address)
        ep->address = g_strdup(address);
    if (socket && !ep->socket)
        ep->socket = g_strdup(socket);
}

static void on_start(GMarkupParseContext *ctx, const char *element, const char **names,
                     const char **values, gpointer data, GError **error)
{
    (void)error;
    GraphicsScan *g = data;
    /* domain/devices/graphics: the stack runs from this element out. */
    const GSList *up = g_markup_parse_context_get_element_stack(ctx);
    if (!strcmp(element, "listen") && g->vnc >= 0 && g->vnc == g->count - 1 &&
        g_slist_length((GSList *)up) == 4 && !strcmp(up->next->data, "graphics")) {
        vnc_listen(&g->ep, names, values);
        return;
    }
    if (!strcmp(element, "graphics") && g_slist_length((GSList *)up) == 3 &&
        !strcmp(up->next->data, "devices") && !strcmp(up->next->next->data, "domain")) {
        const char *type = NULL;
        for (int i = 0; names[i]; i++)
            if (!strcmp(names[i], "type"))
                type = values[i];
        if (!g->count && type)
            g->first_type = g_strdup(type);
        if (g->vnc < 0 && type && !strcmp(type, "vnc")) {
            g->vnc = g->count;
            vnc_attrs(&g->ep, names, values);
        }
        g->count++;
    }
}

void lv_vnc_endpoint_clear(LvVncEndpoint *ep)
{
    g_free(ep->address);
    g_free(ep->socket);
    memset(ep, 0, sizeof(*ep));
}

static bool scan(const char *xml, GraphicsScan *g, GError **error)
{
    static const GMarkupParser parser = {.start_element = on_start};
    *g = (GraphicsScan){.vnc = -1, .ep.port = -1};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, g, NULL);
    GError *e = NULL;
    bool ok = g_markup_parse_context_parse(ctx, xml, -1, &e) &&
              g_markup_parse_context_end_parse(ctx, &e);
    g_markup_parse_context_free(ctx);
    if (!ok) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "libvirt's description of the domain is not XML vmdesk reads: %s",
                    e->message);
        g_error_free(e);
        g_free(g->first_type);
        lv_vnc_endpoint_clear(&g->ep);
    }
    return ok;
}

bool lv_graphics_vnc_endpoint(const char *xml, LvVncEndpoint *ep, GError **error)
{
    GraphicsScan g;
    if (!scan(xml, &g, error))
        return false;
    g_free(g.first_type);
    *ep = g.ep;
    if (g.vnc < 0) {
        lv_vnc_endpoint_clear(ep);
        ep->port = -1;
    }
    return true;
}

bool lv_graphics_vnc_index(const char *xml, int *index, char **first_type, GError **error)
{
    GraphicsScan g;
    if (!scan(xml, &g, error))
        return false;
    lv_vnc_endpoint_clear(&g.ep);
    *index = g.vnc;
    if (first_type)
        *first_type = g.first_type;
    else
        g_free(g.first_type);
    return true;
}

/* The index of @d's first VNC display; the error says what it has instead. */
static bool vnc_index(LvConn *c, virDomainPtr d, int *index, GError **error)
{
    const char *name = virDomainGetName(d);
    char *xml = virDomainGetXMLDesc(d, 0);
    if (!xml) {
        lv_set_error(error, "cannot read domain \"%s\"'s description on %s", name, c->uri);
        return false;
    }
    g_autofree char *first = NULL;
    bool ok = lv_graphics_vnc_index(xml, index, &first, error);
    free(xml);
    if (ok && *index < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "domain \"%s\" on %s has no VNC display%s%s%s; vmdesk shows <graphics "
                    "type='vnc'/> (virsh edit can add one)",
                    name, c->uri, first ? " (only " : "", first ? first : "", first ? ")" : "");
        ok = false;
    }
    return ok;
}

/* virDomainOpenGraphicsFD hands over a file descriptor, which only a
 * connection over this host's unix socket can carry. */
static bool is_local(LvConn *c)
{
    return lv_uri_is_local(c->uri);
}

/* Neither here nor through SSH: TLS or TCP transports carry no fd, and
 * vmdesk has no tunnel of theirs. */
static bool reachable(LvConn *c, GError **error)
{
    if (is_local(c) || lv_uri_is_ssh(c->uri))
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                "vmdesk shows a domain on another host only through qemu+ssh:// (%s carries "
                "neither libvirt's file descriptor nor an SSH tunnel)",
                c->uri);
    return false;
}

char *lv_vnc_endpoint_target(const LvVncEndpoint *ep, const char *name, const char *uri,
                             GError **error)
{
    const char *why = NULL;
    if (ep->none)
        why = "listens nowhere (<listen type='none'/>: only a local libvirt connection "
              "reaches it)";
    else if (ep->socket)
        why = "listens on a unix socket, which OpenSSH's -W cannot reach; give it a TCP "
              "listener on 127.0.0.1 (<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>)";
    else if (ep->port <= 0)
        why = "has no TCP port (is it running?)";
    if (why) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "domain \"%s\" on %s: its VNC display %s", name, uri, why);
        return NULL;
    }
    const char *a = ep->address && *ep->address ? ep->address : "127.0.0.1";
    if (!strcmp(a, "0.0.0.0"))
        a = "127.0.0.1";
    else if (!strcmp(a, "::"))
        a = "::1";
    return strchr(a, ':') ? g_strdup_printf("[%s]:%d", a, ep->port)
                          : g_strdup_printf("%s:%d", a, ep->port);
}

/* @d's VNC endpoint, from its description now (the live one when it runs). */
static bool endpoint(LvConn *c, virDomainPtr d, LvVncEndpoint *ep, GError **error)
{
    char *xml = virDomainGetXMLDesc(d, 0);
    if (!xml) {
        lv_set_error(error, "cannot read domain \"%s\"'s description on %s",
                     virDomainGetName(d), c->uri);
        return false;
    }
    bool ok = lv_graphics_vnc_endpoint(xml, ep, error);
    free(xml);
    return ok;
}

bool lv_domain_check_vnc(LvConn *c, const char *name, GError **error)
{
    if (!reachable(c, error))
        return false;
    virDomainPtr d = lv_lookup(c, name, error);
    int index = -1;
    bool ok = d && vnc_index(c, d, &index, error);
    if (ok && !is_local(c)) {
        /* What SSH cannot reach is refused before anything starts; the port
         * of an autoport display is only known once it runs. */
        LvVncEndpoint ep;
        ok = endpoint(c, d, &ep, error);
        if (ok && (ep.none || ep.socket)) {
            g_free(lv_vnc_endpoint_target(&ep, name, c->uri, error));
            ok = false;
        }
        if (ok)
            lv_vnc_endpoint_clear(&ep);
    }
    if (d)
        virDomainFree(d);
    return ok;
}

/* Through SSH: `ssh -W ADDR:PORT` to the display's TCP listener. */
static int open_remote(LvConn *c, virDomainPtr d, GError **error)
{
    LvVncEndpoint ep;
    if (!endpoint(c, d, &ep, error))
        return -1;
    g_autofree char *target = lv_vnc_endpoint_target(&ep, virDomainGetName(d), c->uri, error);
    lv_vnc_endpoint_clear(&ep);
    return target ? lv_ssh_open(c->uri, target, error) : -1;
}

int lv_domain_open_vnc(LvConn *c, const char *name, GError **error)
{
    if (!reachable(c, error))
        return -1;
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return -1;
    int fd = -1, index = -1;
    if (!is_local(c)) {
        fd = open_remote(c, d, error);
    } else if (vnc_index(c, d, &index, error)) {
        fd = virDomainOpenGraphicsFD(d, (unsigned)index, VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH);
        if (fd < 0)
            lv_set_error(error, "cannot open domain \"%s\"'s VNC display on %s", name, c->uri);
    }
    virDomainFree(d);
    return fd;
}
