/* The libvirt domain XML of a vmdesk VM (`vmdesk create --engine libvirt`):
 * a pure function from its config to the same machine that vmdesk's own QEMU
 * argv (qemu/qemu_argv.h) describes, written with libxml2's xmlTextWriter so
 * every value is escaped. No I/O: golden files in tests/golden pin it.
 *
 * What libvirt does itself instead of vmdesk: the UEFI firmware is picked from
 * the daemon host's firmware descriptors and each domain gets its own copy of
 * the variable store (/var/lib/libvirt/qemu/nvram); libvirt runs swtpm for the
 * TPM, owns the monitor, and makes the guest agent's socket and the VNC socket
 * (in the domain's private folder, owned by the QEMU user). The user-mode
 * network with its 127.0.0.1 port forwards goes through <qemu:commandline>,
 * because libvirt 9.0's user backend ignores <portForward>. */
#pragma once

#include "vm/vm_config.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool kvm;                 /* domain type kvm; else qemu (TCG) */
    unsigned host_cpus;       /* for performance=turbo (the daemon host's) */
    const char *disk_pool;    /* the disk is volume @disk_volume of this storage pool; */
    const char *disk_volume;  /* both NULL: cfg->disk (absolute) as a file, or no disk */
    const char *serial_log;   /* file on the daemon's host the serial console is logged to
                                 (virtlogd writes it); NULL: a pty only */
} LvXmlEnv;

/* The domain description (caller frees). Fails with VD_ERROR_INVALID when a
 * value cannot be written as XML (not UTF-8, a control character) or has no
 * libvirt equivalent (a USB device named by port). */
char *lv_xml_domain(const VmConfig *cfg, const LvXmlEnv *env, GError **error);

/* A new qcow2 storage volume @name of @capacity bytes, as
 * virStorageVolCreateXML takes it (caller frees). VD_ERROR_INVALID as above. */
char *lv_xml_volume(const char *name, uint64_t capacity, GError **error);

/* A CD drive at target @dev on bus @bus with image @path (NULL: empty), as
 * virDomainUpdateDeviceFlags takes it (caller frees). */
char *lv_xml_cdrom(const char *dev, const char *bus, const char *path, GError **error);

/* A snapshot named @name, as virDomainSnapshotCreateXML takes it. */
char *lv_xml_snapshot(const char *name, GError **error);
