/* A connection to libvirt (issue 16): the domains libvirt runs, on this host
 * (qemu:///system) or another (qemu+ssh://host/system), beside vmdesk's own
 * VMs. One connection per command, owned by its caller; main thread only. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct LvConn LvConn;

/* The libvirt URI vmdesk uses when no --connect is given (*@uri, newly
 * allocated, or NULL: vmdesk's own VMs only): $VMDESK_CONNECT, else
 * connect= in the [libvirt] group of vmdesk's config file (lv_config_path),
 * else $LIBVIRT_DEFAULT_URI. Empty values count as unset. False with @error
 * (VD_ERROR_INVALID) when the config file is there but unreadable. */
bool lv_uri_default(char **uri, GError **error);
/* $XDG_CONFIG_HOME/vmdesk/vmdesk.conf (newly allocated). */
char *lv_config_path(void);

/* Whether @s is the word that selects vmdesk's own VMs ("vmdesk") rather than
 * a libvirt URI: `--connect vmdesk` overrides a default URI. */
bool lv_uri_is_vmdesk(const char *s);

/* Open a connection to libvirt at @uri (not NULL). Registers libvirt's
 * default event loop first, so that lv_domain_stop() can wait for state
 * events. Fails (VD_ERROR_FAILED) with libvirt's own reason: daemon not
 * running, host unreachable, key refused. Caller owns the result. */
LvConn *lv_conn_open(const char *uri, GError **error);
/* Close @c; accepts NULL. */
void lv_conn_close(LvConn *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvConn, lv_conn_close)

/* The URI @c was opened with (borrowed). */
const char *lv_conn_uri(const LvConn *c);
