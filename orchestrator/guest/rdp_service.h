/* Does the guest run its RDP service? Asked through the guest agent
 * (qga_client.h), as a second opinion beside the RDP probe
 * (client/session/rdp/rdp_probe.h): the probe says whether the forwarded
 * port completes an RDP handshake, the agent says whether the service is up
 * in the guest (and so whether waiting makes sense). The question depends on the guest's OS (VmConfig.os):
 *
 *   linux, other: systemctl is-active xrdp gnome-remote-desktop
 *                 (then pidof xrdp gnome-remote-desktop-daemon without systemd)
 *   windows:      sc.exe query TermService, STATE RUNNING
 *
 * Blocking with one deadline; any thread; no global state. */
#pragma once

#include "guest/qga_client.h"
#include "vm/vm_config.h"

#include <glib.h>
#include <stdbool.h>

typedef enum {
    RDP_SERVICE_UNKNOWN, /* no agent, or it could not tell */
    RDP_SERVICE_RUNNING,
    RDP_SERVICE_STOPPED,
} RdpServiceState;

typedef struct {
    RdpServiceState state;
    char *service;  /* RUNNING: which one ("xrdp", "TermService") */
    char *detail;   /* one sentence: "xrdp is active", "no guest agent: ..." */
} RdpServiceInfo;

void rdp_service_info_clear(RdpServiceInfo *info);

/* "running", "stopped", "unknown". */
const char *rdp_service_state_to_string(RdpServiceState state);

/* Ask the agent behind @c (synchronized or not) about a guest running @os.
 * Never fails: what goes wrong makes the answer UNKNOWN, with the reason in
 * @info->detail. @info is cleared first. */
RdpServiceState rdp_service_query(QgaClient *c, VmOs os, int timeout_ms, RdpServiceInfo *info);

/* The same for the VM @name: its OS from its config, its agent on
 * $XDG_RUNTIME_DIR/vmdesk/NAME/qga.sock. UNKNOWN with a detail starting with
 * "no guest agent" when the VM is not running or no agent answers within
 * @timeout_ms (about a second keeps a readiness loop fast; it bounds the
 * exchange with the agent, after reading the config and connecting). */
RdpServiceState rdp_service_running(const char *name, int timeout_ms, RdpServiceInfo *info);
