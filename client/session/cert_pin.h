/* Trust on first use for RDP server certificates: the first fingerprint seen
 * for a VM (or a host:port) is pinned in a 0600 keyfile; a different one is
 * refused until the user forgets the pin (vmdesk certificate --forget). */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Check @fingerprint (as FreeRDP gives it: SHA-256, hex pairs with colons)
 * against the pin in @file, group @group. No pin yet: pin it (*@first_use =
 * true). A different pin: false with an error that names both fingerprints
 * and @hint (how to forget the old one). */
bool cert_pin_check(const char *file, const char *group, const char *where,
                    const char *fingerprint, const char *subject, const char *hint,
                    bool *first_use, GError **error);

/* Where a VM's pin is: file @vm's folder's CERT_PIN_VM_FILE, group
 * CERT_PIN_VM_GROUP (`vmdesk certificate NAME`, the manager's VM page).
 * Caller frees. */
#define CERT_PIN_VM_FILE "rdp-certificate"
#define CERT_PIN_VM_GROUP "rdp"
char *cert_pin_vm_path(const char *vm);

/* The pinned fingerprint, or NULL. */
char *cert_pin_get(const char *file, const char *group);

/* Remove the pin (no pin: true, *@removed = false). */
bool cert_pin_forget(const char *file, const char *group, bool *removed, GError **error);
