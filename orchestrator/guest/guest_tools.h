/* The guest tools of a VM (issue 6): attaching the tools ISO, running the
 * Linux installer through the guest agent, and asking the agent what it sees
 * (agent version, OS, RDP service, the installers' marker). Blocking with
 * deadlines; any thread; no global state. */
#pragma once

#include "guest/qga_client.h"
#include "guest/rdp_service.h"

#include <glib.h>
#include <stdbool.h>

/* What the Linux and Windows installers write when they are done. */
#define GUEST_TOOLS_MARKER_LINUX "/var/lib/vmdesk-tools/installed"
#define GUEST_TOOLS_MARKER_WINDOWS "C:\\ProgramData\\vmdesk\\tools-installed"
/* Where --run mounts the tools CD in a Linux guest. */
#define GUEST_TOOLS_LINUX_MOUNT "/run/vmdesk-tools"

/* How the tools ISO reached the VM. */
typedef enum {
    GUEST_TOOLS_NEXT_START, /* in the config (an extra CD drive) for the next start */
    GUEST_TOOLS_LIVE_CD0,   /* in the running VM's cd0 (the config's iso= too) */
    GUEST_TOOLS_LIVE_OWN,   /* in the running VM's own tools drive (cdN) */
} GuestToolsAttach;

/* Build the VM's tools ISO (VM folder/tools.iso, from the guest-tools folder
 * and the .deb/.rpm files in @packages_dir when not NULL) and attach it: to
 * its own drive when the config has one for it (live when running), else
 * into cd0 when running, else as a new extra CD for the next start.
 * *@iso_path (may be NULL) gets the ISO's path. */
bool guest_tools_attach(const char *name, const char *packages_dir, GuestToolsAttach *how,
                        char **iso_path, GError **error);

typedef struct {
    bool agent;            /* the agent answered */
    char *agent_version;   /* guest-info's version */
    char *agent_detail;    /* why not, when !agent */
    char *os_id;           /* guest-get-osinfo: "debian", "mswindows"; NULL if unknown */
    char *os_pretty_name;  /* "Debian GNU/Linux 12 (bookworm)" */
    char *os_version;
    char *kernel_release;
    RdpServiceInfo rdp;    /* the RDP service as the agent sees it */
    int tools;             /* 1 installed, 0 not, -1 unknown (no agent) */
    char *tools_marker;    /* the marker's first line when installed */
    char *tools_detail;
} GuestToolsStatus;

void guest_tools_status_clear(GuestToolsStatus *st);

/* Ask the running VM's agent, within @timeout_ms per question. Fails only
 * for a VM that does not exist (VD_ERROR_NOT_FOUND) or does not run
 * (VD_ERROR_STATE); an agent that does not answer is st->agent false. */
bool guest_tools_status(const char *name, int timeout_ms, GuestToolsStatus *st, GError **error);

/* Does the running VM's guest agent answer a sync within @timeout_ms? */
bool guest_tools_agent_answers(const char *name, int timeout_ms);

/* In a running Linux guest, through the agent: mount the tools CD (by its
 * label, else the first /dev/srN holding linux/install.sh) on
 * GUEST_TOOLS_LINUX_MOUNT, run `sh linux/install.sh --media MOUNT` as root
 * within @timeout_ms, unmount. *@result gets the installer's exit status and
 * output; failing to mount is VD_ERROR_NOT_FOUND, a Windows VM
 * VD_ERROR_INVALID. */
bool guest_tools_run_linux(const char *name, int timeout_ms, QgaExecResult *result,
                           GError **error);

/* Once the tools are installed the answer file's media is no longer needed:
 * eject it (live when running), drop it from the config and delete it (it
 * holds the account's password). *@removed says whether there was one. */
bool guest_tools_forget_unattend(const char *name, bool *removed, GError **error);
