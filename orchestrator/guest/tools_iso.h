/* The media vmdesk attaches to guests as CDs, built with xorriso (argv
 * only, never a shell):
 *
 *   the tools ISO, volume label VMDESK_TOOLS: /windows and /linux from the
 *   guest-tools folder, and optionally the .deb files in /packages/debian and
 *   the .rpm files in /packages/fedora that the Linux installer installs from;
 *
 *   the answer-file ISO, volume label VMDESK_UNATTEND: /autounattend.xml at
 *   its root (Windows Setup looks for it at the root of every removable
 *   medium). It holds the account's password: the ISO is created 0600 in the
 *   VM's 0700 folder and removed once the guest tools report they are in.
 *
 * Blocking (xorriso runs to completion, at most a minute); any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define TOOLS_ISO_LABEL "VMDESK_TOOLS"
#define TOOLS_UNATTEND_LABEL "VMDESK_UNATTEND"
#define TOOLS_ISO_FILE "tools.iso"
#define TOOLS_UNATTEND_FILE "unattend.iso"

/* The guest-tools folder (holding windows/ and linux/): $VMDESK_GUEST_TOOLS_DIR
 * when set; else, when this binary runs from the build tree, the source
 * tree's guest-tools/; else the installed share/vmdesk/guest-tools beside
 * the binary's prefix (../share/vmdesk/guest-tools), then the configured
 * install prefix. VD_ERROR_NOT_FOUND naming the places tried. Caller frees. */
char *tools_guest_tools_dir(GError **error);

/* Build the tools ISO at @out (replaced atomically; mode 0644: nothing in it
 * is secret) from @guest_tools_dir and, when @packages_dir is not NULL, the
 * .deb and .rpm files directly in that folder. VD_ERROR_NOT_FOUND when
 * xorriso is missing (with the package to install), VD_ERROR_FAILED with
 * xorriso's last lines when it fails. */
bool tools_iso_build(const char *out, const char *guest_tools_dir, const char *packages_dir,
                     GError **error);

/* Build the answer-file ISO at @out (mode 0600 from its creation on) with
 * @xml (@len bytes, a rendered autounattend.xml) as /autounattend.xml. The
 * XML goes through a 0600 temporary file next to @out, removed before this
 * returns. */
bool tools_unattend_iso_build(const char *out, const char *xml, gsize len, GError **error);
