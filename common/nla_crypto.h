/* OpenSSL's providers for NLA, loaded in our own process (vmdesk's RDP
 * session and the test RDP server both take them from here).
 *
 * NLA authenticates with NTLM, which needs MD4 and RC4. OpenSSL 3 keeps
 * both in its legacy provider, which it does not load unless its system
 * configuration says so (Debian's does not). Loading a provider by hand
 * stops OpenSSL from loading the default one implicitly, so both are
 * loaded, for this process only: no system file is read or changed. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Load OpenSSL's default and legacy providers, once per process (later
 * calls return the first call's result); they are unloaded at exit, before
 * OpenSSL's own clean-up. Call it before the first RDP connection or
 * listener, from one thread at a time. False with @error naming the
 * provider that did not load (NLA will then fail; plain TLS still works
 * when only legacy is missing). */
bool nla_crypto_load(GError **error);
