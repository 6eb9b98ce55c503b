/* A domain's VNC display through virDomainOpenGraphicsFD. */
#include "libvirt/lv_graphics.h"

#include "common/error.h"
#include "libvirt/lv_conn_priv.h"

#include <string.h>

typedef struct {
    int count, vnc;   /* <graphics> seen, index of the first VNC one */
    char *first_type;
} GraphicsScan;

static void on_start(GMarkupParseContext *ctx, const char *element, const char **names,
                     const char **values, gpointer data, GError **error)
{
    (void)error;
    GraphicsScan *g = data;
    /* domain/devices/graphics: the stack runs from this element out. */
    const GSList *up = g_markup_parse_context_get_element_stack(ctx);
    if (!strcmp(element, "graphics") && g_slist_length((GSList *)up) == 3 &&
        !strcmp(up->next->data, "devices") && !strcmp(up->next->next->data, "domain")) {
        const char *type = NULL;
        for (int i = 0; names[i]; i++)
            if (!strcmp(names[i], "type"))
                type = values[i];
        if (!g->count && type)
            g->first_type = g_strdup(type);
        if (g->vnc < 0 && type && !strcmp(type, "vnc"))
            g->vnc = g->count;
        g->count++;
    }
}

bool lv_graphics_vnc_index(const char *xml, int *index, char **first_type, GError **error)
{
    static const GMarkupParser parser = {.start_element = on_start};
    GraphicsScan g = {.vnc = -1};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &g, NULL);
    GError *e = NULL;
    bool ok = g_markup_parse_context_parse(ctx, xml, -1, &e) &&
              g_markup_parse_context_end_parse(ctx, &e);
    g_markup_parse_context_free(ctx);
    if (!ok) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "libvirt's description of the domain is not XML vmdesk reads: %s",
                    e->message);
        g_error_free(e);
        g_free(g.first_type);
        return false;
    }
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
 * connection over this host's unix socket can carry (SSH cannot). */
static bool local_only(LvConn *c, GError **error)
{
    /* Local: no host (qemu:///system) and no transport but unix. */
    g_autoptr(GUri) u = g_uri_parse(c->uri, G_URI_FLAGS_NON_DNS, NULL);
    const char *plus = u ? strchr(g_uri_get_scheme(u), '+') : NULL;
    const char *host = u ? g_uri_get_host(u) : NULL;
    if (u && (!host || !*host) && (!plus || !strcmp(plus, "+unix")))
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                "showing a domain on another host (%s) is not there yet: libvirt hands its "
                "display over as a file descriptor, which an SSH connection cannot carry",
                c->uri);
    return false;
}

bool lv_domain_check_vnc(LvConn *c, const char *name, GError **error)
{
    if (!local_only(c, error))
        return false;
    virDomainPtr d = lv_lookup(c, name, error);
    int index = -1;
    bool ok = d && vnc_index(c, d, &index, error);
    if (d)
        virDomainFree(d);
    return ok;
}

int lv_domain_open_vnc(LvConn *c, const char *name, GError **error)
{
    if (!local_only(c, error))
        return -1;
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return -1;
    int fd = -1, index = -1;
    if (vnc_index(c, d, &index, error)) {
        fd = virDomainOpenGraphicsFD(d, (unsigned)index, VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH);
        if (fd < 0)
            lv_set_error(error, "cannot open domain \"%s\"'s VNC display on %s", name, c->uri);
    }
    virDomainFree(d);
    return fd;
}
