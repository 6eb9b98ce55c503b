/* The applications installed in a guest, asked through its QEMU guest agent
 * (qga_client.h), never through an RDP session: a discovery script of ours
 * (guest-tools/linux/list-apps.sh, guest-tools/windows/list-apps.ps1,
 * embedded in the binary) runs in the guest through guest-exec with the
 * script as standard input, so nothing is installed there, and prints JSON
 * lines that guest_apps_parse() reads:
 *
 *   {"vmdesk-list-apps":1,"os":"linux"}      first
 *   {"id":..., "name":..., "program":..., ...}   one per application
 *   {"end":N}                                 last; N = the number of apps
 *
 * Blocking; any thread; no global state. */
#pragma once

#include "guest/qga_client.h"
#include "vm/vm_config.h"

#include <glib.h>
#include <stdbool.h>

/* Most applications one listing may hold (a guard against runaway output). */
#define GUEST_APPS_MAX 4096
/* Longest line: one application with its icon in base64 (the Linux script
 * sends icons up to 1 MiB). */
#define GUEST_APPS_LINE_MAX (4u << 20)
/* Time the script may take in the guest (a Windows guest extracting icons,
 * a Linux guest on TCG). */
#define GUEST_APPS_TIMEOUT_MS 120000

typedef struct {
    char *id;            /* the guest's id: desktop file id, shortcut name, AppID */
    char *name;          /* what people read: "XTerm", "Microsoft Word" */
    char *generic_name;  /* NULL when absent */
    char *comment;       /* NULL when absent */
    char *program;       /* what `vmdesk app VM PROGRAM` starts: an absolute path
                          * in the guest ("/usr/bin/xterm", "C:\\...\\WINWORD.EXE")
                          * or "shell:AppsFolder\\APPID" */
    char **args;         /* fixed arguments before the files; never NULL */
    char **mime_types;   /* types it opens; never NULL (may be empty) */
    char **categories;   /* freedesktop categories; never NULL */
    char *source;        /* where the guest has it (a .desktop or .lnk path); may be NULL */
    char *icon_path;     /* the icon file in the guest, or NULL */
    GBytes *icon_data;   /* its bytes (PNG, SVG, XPM or ICO), or NULL */
} GuestApp;

void guest_app_free(GuestApp *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestApp, guest_app_free)

/* Parse the script's whole output (@len bytes, need not be NUL-terminated).
 * Returns GuestApp* in the script's order (the array owns them) and the OS the
 * script said in *@os (may be NULL; caller frees). VD_ERROR_PROTOCOL with the
 * line number and what is wrong for anything malformed: not JSON, no header,
 * an application without id, name or program, a member of the wrong type,
 * icon data that is not base64, a missing or wrong "end" (output cut short),
 * more than GUEST_APPS_MAX applications. Never crashes on any input. */
GPtrArray *guest_apps_parse(const char *out, gsize len, char **os, GError **error);

/* The embedded discovery script for @os (Linux's for linux and other). */
const char *guest_apps_script(VmOs os, gsize *len);

/* Run the discovery script through @c (synchronized or not) in a guest running
 * @os, for the guest users @users (NULL-terminated; NULL or empty: every
 * regular user; Linux only), and parse its output. Fails with the agent's
 * errors ("no guest agent ..."), VD_ERROR_NOT_FOUND when the guest lacks sh
 * or powershell, VD_ERROR_VM when the script fails (its stderr in the
 * message), or guest_apps_parse()'s errors. */
GPtrArray *guest_apps_query(QgaClient *c, VmOs os, const char *const *users, int timeout_ms,
                            GError **error);

/* What a guest runs, as its agent tells (guest-get-osinfo: "mswindows" or a
 * "Windows..." kernel is Windows, anything else Linux; an agent without that
 * command is taken for Linux's). The agent's errors otherwise. */
bool guest_apps_agent_os(QgaClient *c, int timeout_ms, VmOs *os, GError **error);

/* The listing through @c, a socket's or an exchange's client (a libvirt
 * domain's: libvirt/lv_agent.h): a short sync first, so that a guest
 * without an agent fails at once, with an error that names the guest tools
 * to install; then the OS from *@os (NULL: the agent's word,
 * guest_apps_agent_os) and guest_apps_query() for @users. */
GPtrArray *guest_apps_list_client(QgaClient *c, const VmOs *os, const char *const *users,
                                  int timeout_ms, GError **error);

/* The same for VM @name: its OS from its config, its agent on its qga.sock,
 * the user from `vmdesk credentials` when stored. VD_ERROR_NOT_FOUND for no
 * such VM, VD_ERROR_STATE when it is not running, and when no agent answers
 * an error that names the guest tools to install (qemu-guest-agent). */
GPtrArray *guest_apps_list(const char *name, int timeout_ms, GError **error);
