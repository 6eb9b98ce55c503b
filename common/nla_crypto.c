/* OpenSSL's default and legacy providers for NLA (nla_crypto.h). */
#include "common/nla_crypto.h"

#include "common/error.h"

#include <openssl/provider.h>
#include <stdlib.h>

static OSSL_PROVIDER *loaded[2]; /* default, legacy */
static char *failed;             /* the name that did not load, or NULL */

/* At exit, before OpenSSL's own clean-up (atexit runs last registered
 * first, and OpenSSL registered its own when the first provider loaded):
 * the providers go back as they came, nothing is left behind. */
static void unload(void)
{
    for (size_t i = G_N_ELEMENTS(loaded); i-- > 0;)
        if (loaded[i])
            OSSL_PROVIDER_unload(loaded[i]);
    loaded[0] = loaded[1] = NULL;
    g_clear_pointer(&failed, g_free);
}

bool nla_crypto_load(GError **error)
{
    static bool done;
    if (!done) {
        done = true;
        const char *names[] = {"default", "legacy"};
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
            if (!(loaded[i] = OSSL_PROVIDER_load(NULL, names[i])) && !failed)
                failed = g_strdup(names[i]);
        atexit(unload);
    }
    if (failed) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "OpenSSL's %s provider does not load: network level authentication (NLA) "
                    "will fail%s", failed,
                    g_str_equal(failed, "legacy")
                        ? " (it needs MD4 and RC4); is libssl3's ossl-modules/legacy.so installed?"
                        : "");
        return false;
    }
    return true;
}
