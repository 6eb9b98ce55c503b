/* A VM's guest login for RDP: user name and password, kept in the VM's folder
 * in a 0600 file (the folder is 0700). Passwords never go to a log, an argv
 * or a process title; callers wipe them when done (credentials_clear). */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *user;
    char *password;
    char *domain;   /* NULL: none */
} Credentials;

void credentials_clear(Credentials *c);

/* Load @vm's credentials. None stored: true with c->user == NULL. */
bool credentials_load(const char *vm, Credentials *c, GError **error);
bool credentials_save(const char *vm, const Credentials *c, GError **error);
/* Remove them (none stored: true, *@removed false). */
bool credentials_forget(const char *vm, bool *removed, GError **error);
/* Where they are kept (for messages). */
char *credentials_path(const char *vm);
