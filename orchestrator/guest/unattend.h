/* The answer file for a hands-off Windows installation: the template
 * guest-tools/windows/autounattend.xml with {{NAME}} placeholders, rendered
 * with XML-escaped values (never string-built from user input otherwise).
 * Pure functions, no I/O except unattend_generate_password (the kernel's
 * random numbers); any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    const char *user;          /* local account, checked by unattend_validate_user */
    const char *password;      /* its password (the caller wipes it when done) */
    const char *locale;        /* "de-DE": Setup's language, system and user locale */
    const char *keyboard;      /* "de-DE" or "0407:00000407" */
    const char *timezone;      /* Windows time zone name: "W. Europe Standard Time" */
    const char *computer_name; /* NetBIOS name, checked by unattend_computer_name */
} UnattendParams;

/* Windows' rules for a local account name: 1-20 characters, none of
 * \ / [ ] : ; | = , + * ? < > " and no control character, not only dots
 * and spaces, not a built-in account's name. VD_ERROR_INVALID saying which. */
bool unattend_validate_user(const char *user, GError **error);
/* A language tag Setup knows the form of: ll-CC or ll-Scrp-CC ("de-DE",
 * "sr-Latn-RS"). @what names the option in the error. */
bool unattend_validate_locale(const char *what, const char *locale, GError **error);
/* A keyboard: a language tag as above or an input locale "0407:00000407". */
bool unattend_validate_keyboard(const char *keyboard, GError **error);
/* A time zone name: 1-64 of letters, digits, spaces and ().+-_ . */
bool unattend_validate_timezone(const char *tz, GError **error);

/* A NetBIOS computer name from a VM name: letters, digits and hyphens, at
 * most 15, upper case; "VMDESK" when nothing is left. Caller frees. */
char *unattend_computer_name(const char *vm_name);

/* 20 random characters (letters, digits and -_.!#%), with at least one
 * upper-case letter, lower-case letter and digit, from getrandom(2).
 * Caller wipes and frees. */
char *unattend_generate_password(void);

/* @text with & < > " ' escaped for XML text and attribute values. */
char *unattend_xml_escape(const char *text);

/* Render @template_text with @p: {{USER}} {{PASSWORD}} {{LOCALE}}
 * {{KEYBOARD}} {{TIMEZONE}} {{COMPUTER_NAME}} escaped, {{DRIVER_PATHS}}
 * the PathAndCredentials list of the virtio-win storage and network drivers
 * (always there: Setup skips paths that do not exist, so a VM without the
 * virtio CD installs onto SATA with its in-box drivers). An unknown or
 * unterminated placeholder is VD_ERROR_INVALID (a broken template); the
 * values are validated again. Caller wipes (it holds the password) and frees. */
char *unattend_render(const char *template_text, const UnattendParams *p, GError **error);
