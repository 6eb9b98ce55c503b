/* The commands on libvirt's domains (issue 16): `--connect URI` on list,
 * start, stop, pause, resume and status (cli_libvirt.c). Main thread only. */
#pragma once

#include "libvirt/lv_conn.h"
#include "libvirt/lv_ssh.h"
#include "ui/window.h"
#include "vm/vm_config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

/* The --connect option every such command takes; @uri is the command's. */
#define CLI_CONNECT_ENTRY(uri)                                                                 \
    {"connect", 0, 0, G_OPTION_ARG_STRING, (uri),                                              \
     "a libvirt domain at this URI (qemu:///system, qemu+ssh://HOST/system), or \"vmdesk\" " \
     "for vmdesk's own VM (default: $VMDESK_CONNECT, else connect= in [libvirt] of "        \
     "~/.config/vmdesk/vmdesk.conf, else $LIBVIRT_DEFAULT_URI, else vmdesk)",                 \
     "URI"}

/* Whose is @name: sets *@uri (owned) to the libvirt URI when it means a
 * libvirt domain, NULL for vmdesk's own VM. @connect is the --connect value
 * (may be NULL: the default URI). With only a default URI, a name vmdesk has
 * is vmdesk's unless libvirt has it too: then it fails (VD_ERROR_INVALID)
 * rather than guess. */
bool cli_libvirt_pick(const char *connect, const char *name, char **uri, GError **error);

/* The libvirt URI `list` shows beside vmdesk's VMs (*@uri, owned), or NULL;
 * false when the default cannot be read. */
bool cli_libvirt_list_uri(const char *connect, char **uri, GError **error);
/* Add the domains of @uri to list's output: table rows (the last column
 * says libvirt's and where) or, with @json, a "libvirt" member of @b's open
 * object. Returns the exit status. */
int cli_libvirt_list(const char *uri, bool json, JsonBuilder *b, bool header_printed);

/* start, stop, pause, resume and status of libvirt domain @name at @uri;
 * each returns the exit status, having printed what happened. */
int cli_libvirt_start(const char *uri, const char *name);
int cli_libvirt_stop(const char *uri, const char *name, bool force, int timeout_s);
int cli_libvirt_pause(const char *uri, const char *name, bool pause);
/* With @wait (a state word), status first waits for that state through
 * libvirt's events, up to @timeout_s seconds. */
int cli_libvirt_status(const char *uri, const char *name, bool json, const char *wait,
                       int timeout_s);

/* The RDP target of running domain @name of @c (the caller clears it):
 * its address as libvirt finds it (lv_rdp.h), on another host through the
 * target's tunnel (ssh -W, its login shared: lv_ssh.h), so nothing listens
 * here; no user name (the server asks); the certificate pinned under
 * "libvirt:HOST[:PORT]/UUID" in the known-hosts file (cli_libvirt_rdp.c). */
bool cli_libvirt_rdp_target(LvConn *c, const char *name, RdpTarget *t, GError **error);

/* app: program @program (with @args, NULL-terminated) of domain @name as
 * RemoteApp windows of class @wm_class (NULL: vmdesk-NAME), the domain
 * started first when it is shut off; waits up to @timeout_s for its RDP
 * service; the connection ends @linger_s after the last window
 * (cli_libvirt_app.c). Returns the exit status. */
int cli_libvirt_app(const char *uri, const char *name, const char *program, char **args,
                    const char *wm_class, int timeout_s, int linger_s);

/* view: domain @name in vmdesk's window with @opts (title, scale, full
 * screen, protocol; the rest is filled here), started first when it is
 * shut off. VNC through libvirt (or SSH), RDP once its service answers when
 * libvirt tells its address, the state from libvirt's events
 * (cli_libvirt_view.c). */
int cli_libvirt_view(const char *uri, const char *name, WindowOptions *opts);

/* create --engine @engine: *@libvirt set when it names libvirt ("libvirt" or
 * "libvirt:URI"; NULL or "vmdesk": vmdesk's own), *@uri (owned) the URI, the
 * default URI when none is given. VD_ERROR_INVALID for another engine or
 * when libvirt has no URI. */
bool cli_libvirt_engine(const char *engine, bool *libvirt, char **uri, GError **error);
/* create's work for a libvirt domain: @cfg (rdp-port 0: a free one is
 * picked) defined on @uri with a new disk volume of @disk_size bytes (0:
 * none) in @pool (NULL: "default"). Returns the exit status, having printed
 * what was made (cli_libvirt_create.c). */
int cli_libvirt_create(const char *uri, VmConfig *cfg, uint64_t disk_size, const char *pool);

/* show, screenshot, cdrom and snapshot of libvirt domain @name at @uri, with
 * the output vmdesk gives for its own VMs (cli_libvirt_media.c); each
 * returns the exit status. @path NULL ejects the CD; @verb is list, save,
 * restore or delete. */
int cli_libvirt_show(const char *uri, const char *name, bool json);
int cli_libvirt_screenshot(const char *uri, const char *name, const char *file);
int cli_libvirt_cdrom(const char *uri, const char *name, const char *path);
int cli_libvirt_snapshot(const char *uri, const char *name, const char *verb, const char *tag,
                         bool force, bool json);

/* apps list|install: the applications of domain @name at @uri through its
 * guest agent by way of libvirt (guest_apps_list_client), the OS as the
 * agent tells; with @start a shut off domain is booted first and its agent
 * awaited up to @timeout_s seconds (cli_libvirt_apps.c). Errors: no domain
 * (VD_ERROR_NOT_FOUND), not running (VD_ERROR_STATE), and the agent's
 * (lv_agent.h), which name the guest tools to install. */
GPtrArray *cli_libvirt_apps(const char *uri, const char *name, bool start, int timeout_s,
                            GError **error);
/* Whether @error says the domain is not running, has no guest agent or none
 * answers: named programs can still be installed without the list. */
bool cli_libvirt_apps_unreachable(const GError *error);
