/* A vmdesk VM defined in libvirt: volume, then domain. */
#include "libvirt/lv_create.h"

#include "common/error.h"
#include "libvirt/lv_conn_priv.h"
#include "libvirt/lv_domain.h"
#include "libvirt/lv_xml.h"
#include "qemu/qemu_arch.h"

#include <string.h>

/* Whether the daemon's host runs @cfg's architecture under KVM. */
static bool want_kvm(LvConn *c, const VmConfig *cfg)
{
    if (cfg->accel != VM_ACCEL_AUTO)
        return cfg->accel == VM_ACCEL_KVM;
    char *caps = virConnectGetDomainCapabilities(c->conn, NULL, vm_arch_to_string(cfg->arch),
                                                 qemu_arch_get(cfg->arch)->machine, "kvm", 0);
    free(caps);
    return caps != NULL;
}

/* Where virtlogd keeps the serial console's log for a system daemon (the
 * domain's own log is beside it); none for a session daemon. */
static char *serial_log(LvConn *c, const char *name)
{
    g_autoptr(GUri) u = g_uri_parse(c->uri, G_URI_FLAGS_NONE, NULL);
    if (!u || strcmp(g_uri_get_path(u), "/system"))
        return NULL;
    return g_strdup_printf("/var/log/libvirt/qemu/%s-serial.log", name);
}

static virStorageVolPtr make_volume(LvConn *c, const char *name, const LvCreateOptions *o,
                                    char **pool_name, GError **error)
{
    const char *pn = o->pool ? o->pool : "default";
    virStoragePoolPtr pool = virStoragePoolLookupByName(c->conn, pn);
    if (!pool) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "libvirt on %s has no storage pool \"%s\" for the disk: make one (virsh "
                    "pool-define-as %s dir --target /var/lib/libvirt/images; virsh pool-start "
                    "%s), name another with --pool, or create without a disk (--disk 0)",
                    c->uri, pn, pn, pn);
        return NULL;
    }
    g_autofree char *vol_name = g_strconcat(name, ".qcow2", NULL);
    virStorageVolPtr old = virStorageVolLookupByName(pool, vol_name);
    if (old) {
        virStorageVolFree(old);
        virStoragePoolFree(pool);
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "pool \"%s\" on %s has a volume \"%s\" already (left from another domain?); "
                    "remove it first (virsh vol-delete %s --pool %s)",
                    pn, c->uri, vol_name, vol_name, pn);
        return NULL;
    }
    g_autofree char *xml = lv_xml_volume(vol_name, o->disk_size, error);
    virStorageVolPtr vol = xml ? virStorageVolCreateXML(pool, xml, 0) : NULL;
    if (xml && !vol)
        lv_set_error(error, "cannot make the disk \"%s\" in pool \"%s\" on %s", vol_name, pn,
                     c->uri);
    virStoragePoolFree(pool);
    if (vol)
        *pool_name = g_strdup(pn);
    return vol;
}

bool lv_domain_create(LvConn *c, const VmConfig *cfg, const LvCreateOptions *opts,
                      char **xml_out, GError **error)
{
    bool exists = false;
    if (!lv_domain_exists(c, cfg->name, &exists, error))
        return false;
    if (exists) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS, "libvirt on %s has a domain \"%s\" already",
                    c->uri, cfg->name);
        return false;
    }
    virNodeInfo node = {0};
    g_autofree char *log = serial_log(c, cfg->name);
    LvXmlEnv env = {.kvm = want_kvm(c, cfg),
                    .host_cpus = virNodeGetInfo(c->conn, &node) == 0 ? node.cpus : 1,
                    .serial_log = log};
    /* The whole description is checked before a volume is made. */
    g_autofree char *check = lv_xml_domain(cfg, &env, error);
    if (!check)
        return false;
    g_autofree char *pool = NULL;
    virStorageVolPtr vol = NULL;
    const char *vol_name = NULL;
    if (opts->disk_size) {
        vol = make_volume(c, cfg->name, opts, &pool, error);
        if (!vol)
            return false;
        vol_name = virStorageVolGetName(vol);
        env.disk_pool = pool;
        env.disk_volume = vol_name;
    }
    g_autofree char *xml = lv_xml_domain(cfg, &env, error);
    virDomainPtr d = xml ? virDomainDefineXMLFlags(c->conn, xml, VIR_DOMAIN_DEFINE_VALIDATE)
                         : NULL;
    if (xml && !d)
        lv_set_error(error, "libvirt on %s refused the domain \"%s\"", c->uri, cfg->name);
    if (!d && vol)
        virStorageVolDelete(vol, 0);
    if (vol)
        virStorageVolFree(vol);
    if (!d)
        return false;
    virDomainFree(d);
    if (xml_out)
        *xml_out = g_steal_pointer(&xml);
    return true;
}
