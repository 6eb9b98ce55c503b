/* `vmdesk create --engine libvirt`: a vmdesk VM defined as a libvirt domain
 * (lv_xml.h) on this host or another, its disk a volume of one of libvirt's
 * storage pools. Main thread; @c is borrowed. */
#pragma once

#include "libvirt/lv_conn.h"
#include "vm/vm_config.h"

#include <stdint.h>

typedef struct {
    uint64_t disk_size;   /* a new qcow2 volume NAME.qcow2 of this size; 0: no disk */
    const char *pool;     /* its storage pool; NULL: "default" */
} LvCreateOptions;

/* Define domain @cfg->name on @c (virDomainDefineXMLFlags, validated by
 * libvirt against its schema): KVM when @cfg says so, or (accel auto) when
 * the daemon's host offers it for the architecture; the disk as a new volume.
 * *@xml_out (may be NULL) gets the XML defined (caller frees). A domain of
 * that name exists: VD_ERROR_EXISTS; a volume of that name exists or the pool
 * is missing: VD_ERROR_EXISTS / VD_ERROR_NOT_FOUND. On failure nothing is
 * left behind (the new volume is deleted again). */
bool lv_domain_create(LvConn *c, const VmConfig *cfg, const LvCreateOptions *opts,
                      char **xml_out, GError **error);
