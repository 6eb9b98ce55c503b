/* A VM's guest login for RDP: user name and password. The user (and domain)
 * are kept in the VM's folder in a 0600 file (the folder is 0700); the
 * password goes to the desktop's secret service when one is reachable on the
 * D-Bus session bus (keyring.h), and the file then only says so
 * ("password-in=secret-service"); else it stays in the file. Passwords never
 * go to a log, an argv or a process title; callers wipe them when done
 * (credentials_clear). Calls block for at most a few seconds on a secret
 * service that does not answer (KEYRING_TIMEOUT_MS). Any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef enum {
    CREDENTIALS_IN_FILE,            /* the 0600 file (credentials_path) */
    CREDENTIALS_IN_SECRET_SERVICE,  /* the desktop's secret service */
} CredentialsStore;

typedef struct {
    char *user;
    char *password;
    char *domain;   /* NULL: none */
    CredentialsStore password_in;   /* set by credentials_load: where the password was */
} Credentials;

void credentials_clear(Credentials *c);

/* Load @vm's credentials, the password from wherever the file says it is.
 * None stored: true with c->user == NULL. A password the secret service lost
 * or cannot give now (none reachable, no answer in time) is an error that
 * says what to do. */
bool credentials_load(const char *vm, Credentials *c, GError **error);
/* Only the user name stored for @vm (caller frees), without touching the
 * password or the secret service; NULL when none is stored or the file is
 * unreadable (no error: callers use it as a hint). */
char *credentials_user(const char *vm);
/* Store @c: the password in the secret service when one is reachable, else
 * (or when it fails or does not answer in time: then with a warning) in the
 * file. *@stored_in (may be NULL) says where it went. Fails only when the
 * file cannot be written. */
bool credentials_save(const char *vm, const Credentials *c, CredentialsStore *stored_in,
                      GError **error);
/* Remove them, from the file and the secret service (nothing stored: true,
 * *@removed false). When the file says the password is in a secret service
 * that cannot remove it now, fails and keeps the file. */
bool credentials_forget(const char *vm, bool *removed, GError **error);
/* Where they are kept (for messages): the file. */
char *credentials_path(const char *vm);
/* Where a password stored @where is, for messages: the file's path or
 * "the secret service (org.freedesktop.secrets)". */
char *credentials_password_location(const char *vm, CredentialsStore where);
