/* CD media and screenshots of libvirt domains. */
#include "libvirt/lv_media.h"

#include "common/error.h"
#include "libvirt/lv_conn_priv.h"
#include "libvirt/lv_describe.h"
#include "libvirt/lv_xml.h"

#include <string.h>

#define SHOT_MAX_BYTES (64u << 20)

static LvDescription *describe(LvConn *c, virDomainPtr d, const char *name, GError **error)
{
    char *xml = virDomainGetXMLDesc(d, 0);
    if (!xml) {
        lv_set_error(error, "cannot read domain \"%s\" on %s", name, c->uri);
        return NULL;
    }
    LvDescription *desc = lv_describe(xml, error);
    free(xml);
    return desc;
}

LvDescription *lv_domain_describe(LvConn *c, const char *name, GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return NULL;
    LvDescription *desc = describe(c, d, name, error);
    virDomainFree(d);
    return desc;
}

bool lv_cdrom_change(LvConn *c, const char *name, const char *path, bool *live, GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return false;
    g_autoptr(LvDescription) desc = describe(c, d, name, error);
    bool ok = false;
    if (desc && !desc->have_cd) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "domain \"%s\" on %s has no CD drive", name, c->uri);
    } else if (desc) {
        g_autofree char *disk = lv_xml_cdrom(desc->cd_dev, desc->cd_bus, path, error);
        *live = virDomainIsActive(d) == 1;
        unsigned flags = VIR_DOMAIN_AFFECT_CONFIG | (*live ? VIR_DOMAIN_AFFECT_LIVE : 0);
        if (virDomainIsPersistent(d) != 1)
            flags &= ~(unsigned)VIR_DOMAIN_AFFECT_CONFIG;
        ok = disk && virDomainUpdateDeviceFlags(d, disk, flags) == 0;
        if (disk && !ok)
            lv_set_error(error, "cannot change the CD of domain \"%s\" on %s", name, c->uri);
    }
    virDomainFree(d);
    return ok;
}

bool lv_screenshot(LvConn *c, const char *name, GBytes **data, char **mime, GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return false;
    if (virDomainIsActive(d) != 1) {
        virDomainFree(d);
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "domain \"%s\" on %s is not running: no picture", name, c->uri);
        return false;
    }
    virStreamPtr st = virStreamNew(c->conn, 0);
    char *type = st ? virDomainScreenshot(d, st, 0, 0) : NULL;
    bool ok = false;
    if (!type) {
        lv_set_error(error, "cannot take a screenshot of domain \"%s\" on %s", name, c->uri);
    } else {
        GByteArray *buf = g_byte_array_new();
        char chunk[65536];
        int got;
        while ((got = virStreamRecv(st, chunk, sizeof chunk)) > 0 &&
               buf->len + (guint)got <= SHOT_MAX_BYTES)
            g_byte_array_append(buf, (const guint8 *)chunk, (guint)got);
        if (got < 0)
            lv_set_error(error, "the screenshot of domain \"%s\" broke off", name);
        else if (got > 0)
            g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                        "the screenshot of domain \"%s\" is larger than %u MiB", name,
                        SHOT_MAX_BYTES >> 20);
        else if (virStreamFinish(st) < 0)
            lv_set_error(error, "the screenshot of domain \"%s\" did not end well", name);
        else
            ok = true;
        if (got != 0)
            virStreamAbort(st);
        if (ok) {
            *data = g_byte_array_free_to_bytes(buf);
            *mime = g_strdup(type);
        } else {
            g_byte_array_unref(buf);
        }
        free(type);
    }
    if (st)
        virStreamFree(st);
    virDomainFree(d);
    return ok;
}
