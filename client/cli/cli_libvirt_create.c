/* vmdesk create --engine libvirt[:URI]: the VM vmdesk would run, defined as a
 * libvirt domain instead (orchestrator/libvirt/lv_create.h). */
#include "cli/cli.h"
#include "cli/cli_libvirt.h"

#include "common/error.h"
#include "common/size.h"
#include "libvirt/lv_create.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <string.h>

bool cli_libvirt_engine(const char *engine, bool *libvirt, char **uri, GError **error)
{
    *libvirt = false;
    *uri = NULL;
    if (!engine || !strcmp(engine, "vmdesk"))
        return true;
    if (strcmp(engine, "libvirt") && !g_str_has_prefix(engine, "libvirt:")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "unknown engine \"%s\": write vmdesk, libvirt or libvirt:URI", engine);
        return false;
    }
    *libvirt = true;
    if (engine[strlen("libvirt")] == ':' && engine[strlen("libvirt:")]) {
        *uri = g_strdup(engine + strlen("libvirt:"));
        return true;
    }
    if (!lv_uri_default(uri, error))
        return false;
    if (!*uri) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "--engine libvirt needs a URI: --engine libvirt:qemu:///system, or set "
                    "$VMDESK_CONNECT");
        return false;
    }
    return true;
}

int cli_libvirt_create(const char *uri, VmConfig *cfg, uint64_t disk_size, const char *pool)
{
    GError *err = NULL;
    /* The forward is on the daemon host's 127.0.0.1; a port none of vmdesk's
     * own VMs uses here is the best guess for a local daemon. */
    if (!cfg->rdp_port && !vm_store_pick_port(cfg->name, &cfg->rdp_port, &err))
        return cli_fail(err);
    if (!vm_config_validate(cfg, &err))
        return cli_fail(err);
    g_autoptr(LvConn) c = lv_conn_open(uri, &err);
    LvCreateOptions opts = {.disk_size = disk_size, .pool = pool};
    if (!c || !lv_domain_create(c, cfg, &opts, NULL, &err))
        return cli_fail(err);
    g_autofree char *mem = vd_size_format(cfg->memory);
    g_autofree char *disk = disk_size ? vd_size_format(disk_size) : NULL;
    printf("Created libvirt domain \"%s\" on %s (%s %s, %s RAM, %u CPUs, %s firmware%s%s%s%s)\n",
           cfg->name, uri, vm_arch_to_string(cfg->arch), vm_os_to_string(cfg->os), mem,
           cfg->cpus, vm_firmware_to_string(cfg->firmware), cfg->tpm ? ", TPM 2.0" : "",
           disk ? ", " : "", disk ? disk : "", disk ? " disk" : "");
    printf("RDP will be forwarded from 127.0.0.1:%u on the daemon's host. Start it with: "
           "vmdesk start %s --connect %s\n",
           cfg->rdp_port, cfg->name, uri);
    return 0;
}
