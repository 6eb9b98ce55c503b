/* vmdesk create --os windows --unattended: the answer file, the tools and
 * answer-file ISOs, the account's password (issue 6). */
#include "cli/cli.h"

#include "common/error.h"
#include "common/paths.h"
#include "guest/tools_iso.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void cli_unattend_clear(CliUnattend *u)
{
    g_free(u->virtio_iso);
    unattend_setup_clear(&u->setup);
    memset(u, 0, sizeof(*u));
}

/* An ISO the user named: it must be a readable file (exit 2 otherwise:
 * nothing has been created yet). Returns the absolute path. */
static char *check_iso(const char *option, const char *path, GError **error)
{
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    if (!g_file_test(abs, G_FILE_TEST_IS_REGULAR) || access(abs, R_OK) != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s %s: no such readable file%s", option,
                    path, !strcmp(option, "--iso") ? " (the Windows installation ISO)" : "");
        return NULL;
    }
    return g_steal_pointer(&abs);
}

bool cli_unattend_prepare(const char *name, bool windows, const char *iso, CliUnattend *u,
                          GError **error)
{
    if (u->virtio_iso) {
        char *abs = check_iso("--virtio-iso", u->virtio_iso, error);
        if (!abs)
            return false;
        g_free(u->virtio_iso);
        u->virtio_iso = abs;
    }
    UnattendSetup *set = &u->setup;
    bool any = set->user || set->locale || set->keyboard || set->timezone;
    if (!u->unattended) {
        if (any) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "--user, --locale, --keyboard and --timezone go with --unattended");
            return false;
        }
        return true;
    }
    if (!windows) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "--unattended installs Windows hands-off: add --os windows");
        return false;
    }
    if (!iso) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "--unattended needs the Windows installation ISO: --iso Win.iso");
        return false;
    }
    g_autofree char *abs_iso = check_iso("--iso", iso, error);
    return abs_iso && unattend_setup_prepare(name, set, error);
}

bool cli_unattend_finish(VmConfig *cfg, CliUnattend *u, GError **error)
{
    if (!u->unattended)
        return true;
    const UnattendSetup *set = &u->setup;
    CredentialsStore where;
    if (!unattend_setup_apply(cfg, set, &where, error))
        return false;
    g_autofree char *dir = vd_paths_vm_dir(cfg->name);
    g_autofree char *tools = g_build_filename(dir, TOOLS_ISO_FILE, NULL);
    g_autofree char *answer = g_build_filename(dir, TOOLS_UNATTEND_FILE, NULL);
    g_autofree char *loc = credentials_password_location(cfg->name, where);
    g_autofree char *virtio = u->virtio_iso
                                  ? g_strdup_printf("%s (virtio drivers), ", u->virtio_iso)
                                  : g_strdup("");
    printf("Hands-off installation prepared:\n"
           "  CDs: the Windows ISO (boots), %s%s (tools), %s (answer file)\n"
           "  account \"%s\" (administrator) with a generated password, kept in %s\n"
           "    (RDP logs in with it by itself; vmdesk credentials %s --show says where)\n"
           "  locale %s, keyboard %s, time zone \"%s\", no online account\n",
           virtio, tools, answer, set->user, loc, cfg->name, set->locale, set->keyboard, set->timezone);
    printf("On first boot (vmdesk view %s): Windows Setup partitions the disk (UEFI/GPT)\n"
           "  and installs%s;\n"
           "  Windows logs in once and runs the guest tools from the tools CD: Remote Desktop\n"
           "  with NLA, RemoteApp, %sthe drive mapping at logon, time\n"
           "  resync after host sleep, no guest sleep. The window switches to RDP when it answers.\n"
           "The answer-file CD holds the password in plain text (0600, this user only); it\n"
           "  is removed when `vmdesk tools %s status` first sees the tools installed.\n",
           cfg->name, u->virtio_iso ? " onto the virtio disk (drivers from the virtio CD)" : "",
           u->virtio_iso ? "the virtio drivers and guest agent, " : "", cfg->name);
    if (!u->virtio_iso)
        printf("Without --virtio-iso the guest agent is not installed: `vmdesk tools %s status`\n"
               "  and the probe's second opinion need it (attach virtio-win.iso later with vmdesk\n"
               "  set %s cd+=PATH and run the installer again).\n",
               cfg->name, cfg->name);
    return true;
}
