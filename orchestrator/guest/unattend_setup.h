/* A hands-off Windows installation set up for a new VM, as `vmdesk create
 * --unattended` and the manager's assistant both do it: the answer file
 * rendered before anything is created, then (after vm_create) the guest
 * tools and answer-file CDs built in the VM's folder and attached, and the
 * account stored through the credentials module (secrets/credentials.h).
 * The password never leaves memory but for the credentials store and the
 * answer-file CD (0600 in the 0700 VM folder). Any thread; blocking. */
#pragma once

#include "secrets/credentials.h"
#include "vm/vm_config.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    /* Set by the caller (owned strings; NULL: the default). */
    char *user;       /* default: the host user's name when Windows accepts it, else "vmdesk" */
    char *password;   /* default: generated (unattend_generate_password); wiped by clear */
    char *locale;     /* default en-US */
    char *keyboard;   /* default: the locale */
    char *timezone;   /* Windows time zone name; default UTC */
    /* Set by unattend_setup_prepare: */
    char *tools_dir;  /* the guest-tools folder */
    char *xml;        /* the rendered answer file; wiped by clear */
    gsize xml_len;
} UnattendSetup;

void unattend_setup_clear(UnattendSetup *u);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(UnattendSetup, unattend_setup_clear)

/* Before anything is created for VM @name: fill the defaults, validate the
 * account, locale, keyboard and time zone (VD_ERROR_INVALID), find the guest
 * tools and xorriso (VD_ERROR_NOT_FOUND), generate the password when none
 * was given and render the answer file. */
bool unattend_setup_prepare(const char *name, UnattendSetup *u, GError **error);

/* After vm_create of @cfg: build the tools and answer-file ISOs in the VM's
 * folder, attach them as extra CDs (saved), store the account; *@where says
 * where the password went. On failure the caller deletes the VM (and
 * credentials_forget): nothing is undone here. */
bool unattend_setup_apply(VmConfig *cfg, const UnattendSetup *u, CredentialsStore *where,
                          GError **error);

/* This host's settings in Windows' terms, for the defaults a person sees:
 * the locale from LC_ALL/LC_MESSAGES/LANG ("de_DE.UTF-8" -> "de-DE"; en-US
 * when there is none or it is C/POSIX), the time zone from /etc/localtime
 * mapped to its Windows name (UTC when not in the table). Caller frees. */
char *unattend_host_locale(void);
char *unattend_host_timezone(void);
