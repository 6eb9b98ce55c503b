/* The desktop's Secret Service (org.freedesktop.secrets: GNOME Keyring,
 * KeePassXC, KWallet...) as a place for a VM's RDP password, through libsecret.
 *
 * Items use the schema "org.vmdesk.Credentials" with the attributes vm=NAME,
 * user=USER and folder=the VM's folder (so two data folders, e.g. a test's,
 * never share an item). Look one up by hand with: secret-tool lookup vm NAME
 *
 * The session bus is the one DBUS_SESSION_BUS_ADDRESS names; without that
 * variable (or with it empty) these functions fail with VD_ERROR_NOT_FOUND
 * and never touch D-Bus, so no bus is ever autolaunched. A bus on which
 * org.freedesktop.secrets is neither owned nor activatable fails the same way.
 *
 * Every call returns within about KEYRING_TIMEOUT_MS even when the service
 * hangs (a locked keyring waiting at its prompt): the work runs on a thread of
 * its own, cancelled when the time is up (VD_ERROR_TIMEOUT); a thread that
 * ignores the cancellation is left to end by itself and frees its own copy of
 * the password then. Any thread may call them; they block the caller.
 * Passwords are never logged; copies are wiped before they are freed. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define KEYRING_TIMEOUT_MS 5000
/* The service's bus name, for messages. */
#define KEYRING_SERVICE_NAME "org.freedesktop.secrets"

/* Store @password for (@vm, @folder, @user) in the default collection,
 * replacing any item of that VM and folder (whatever its user). The caller
 * keeps @password. Fails with VD_ERROR_NOT_FOUND when no service is reachable,
 * VD_ERROR_TIMEOUT when it did not answer in time, VD_ERROR_FAILED else. */
bool keyring_store(const char *vm, const char *folder, const char *user, const char *password,
                   GError **error);

/* Look up the password of (@vm, @folder, @user): true with *@password a new
 * string (wipe it, then g_free), or true with *@password NULL when there is
 * no such item. Errors as for keyring_store. */
bool keyring_lookup(const char *vm, const char *folder, const char *user, char **password,
                    GError **error);

/* Remove every item of (@vm, @folder); *@removed says whether there was one.
 * Errors as for keyring_store. */
bool keyring_clear(const char *vm, const char *folder, bool *removed, GError **error);
