/* A domain's XML, read back for show. */
#include "libvirt/lv_describe.h"

#include "common/error.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

void lv_description_free(LvDescription *d)
{
    if (!d)
        return;
    g_free(d->arch);
    g_free(d->machine);
    g_free(d->type);
    g_strfreev(d->disks);
    g_free(d->cd);
    g_free(d->cd_dev);
    g_free(d->cd_bus);
    g_free(d->graphics);
    g_free(d->kernel);
    g_free(d->initrd);
    g_free(d->cmdline);
    g_free(d);
}

static bool is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static char *prop(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, BAD_CAST name);
    char *s = v ? g_strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static char *text(xmlNodePtr n)
{
    xmlChar *v = xmlNodeGetContent(n);
    char *s = g_strdup(v ? (const char *)v : "");
    xmlFree(v);
    return s;
}

static bool prop_is(xmlNodePtr n, const char *name, const char *value)
{
    g_autofree char *v = prop(n, name);
    return !g_strcmp0(v, value);
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

static void read_os(LvDescription *d, xmlNodePtr os)
{
    d->uefi = prop_is(os, "firmware", "efi");
    for (xmlNodePtr n = os->children; n; n = n->next) {
        if (is(n, "type")) {
            d->arch = prop(n, "arch");
            d->machine = prop(n, "machine");
        } else if (is(n, "loader")) {
            d->uefi |= prop_is(n, "type", "pflash");
            d->secure_boot |= prop_is(n, "secure", "yes");
        } else if (is(n, "firmware")) {
            for (xmlNodePtr f = n->children; f; f = f->next)
                if (is(f, "feature") && prop_is(f, "name", "secure-boot"))
                    d->secure_boot = prop_is(f, "enabled", "yes");
        } else if (is(n, "kernel")) {
            d->kernel = text(n);
        } else if (is(n, "initrd")) {
            d->initrd = text(n);
        } else if (is(n, "cmdline")) {
            d->cmdline = text(n);
        }
    }
}

static void read_disk(LvDescription *d, xmlNodePtr disk, GPtrArray *disks)
{
    xmlNodePtr src = child(disk, "source"), tgt = child(disk, "target");
    g_autofree char *dev = tgt ? prop(tgt, "dev") : NULL;
    g_autofree char *file = src ? prop(src, "file") : NULL;
    g_autofree char *pool = src ? prop(src, "pool") : NULL;
    g_autofree char *vol = src ? prop(src, "volume") : NULL;
    g_autofree char *blk = src ? prop(src, "dev") : NULL;
    if (prop_is(disk, "device", "cdrom")) {
        if (!d->have_cd && dev) {
            d->have_cd = true;
            d->cd = g_steal_pointer(&file);
            d->cd_dev = g_steal_pointer(&dev);
            d->cd_bus = prop(tgt, "bus");
        }
        return;
    }
    if (!prop_is(disk, "device", "disk"))
        return;
    const char *where = file ? file : blk ? blk : "?";
    g_ptr_array_add(disks, pool && vol ? g_strdup_printf("%s %s/%s", dev ? dev : "?", pool, vol)
                                       : g_strdup_printf("%s %s", dev ? dev : "?", where));
}

static void read_devices(LvDescription *d, xmlNodePtr devs)
{
    GPtrArray *disks = g_ptr_array_new();
    for (xmlNodePtr n = devs->children; n; n = n->next) {
        if (is(n, "disk")) {
            read_disk(d, n, disks);
        } else if (is(n, "graphics") && !d->graphics) {
            d->graphics = prop(n, "type");
        } else if (is(n, "tpm")) {
            d->tpm = true;
        } else if (is(n, "channel")) {
            xmlNodePtr t = child(n, "target");
            d->agent |= t && prop_is(t, "name", "org.qemu.guest_agent.0");
        }
    }
    g_ptr_array_add(disks, NULL);
    d->disks = (char **)g_ptr_array_free(disks, FALSE);
}

LvDescription *lv_describe(const char *xml, GError **error)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !is(root, "domain")) {
        xmlFreeDoc(doc);
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "libvirt's description of the domain is not domain XML");
        return NULL;
    }
    LvDescription *d = g_new0(LvDescription, 1);
    d->type = prop(root, "type");
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (is(n, "os")) {
            read_os(d, n);
        } else if (is(n, "memory")) {
            g_autofree char *unit = prop(n, "unit"), *v = text(n);
            uint64_t m = g_ascii_strtoull(v, NULL, 10);
            /* libvirt writes KiB unless told otherwise. */
            int shift = !unit || !strcmp(unit, "KiB") ? 10 : !strcmp(unit, "MiB") ? 20
                      : !strcmp(unit, "GiB")          ? 30 : 0;
            d->memory = m << shift;
        } else if (is(n, "vcpu")) {
            g_autofree char *v = text(n);
            d->cpus = (unsigned)g_ascii_strtoull(v, NULL, 10);
        } else if (is(n, "devices")) {
            read_devices(d, n);
        }
    }
    if (!d->disks)
        d->disks = g_new0(char *, 1);
    xmlFreeDoc(doc);
    return d;
}
