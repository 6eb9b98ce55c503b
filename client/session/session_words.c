#include "session/session_words.h"

/* Words for a window that is not a terminal: no command-line syntax. Both
 * are mended on the manager's VM page (Settings, Remote Desktop): a changed
 * certificate is forgotten there, and the VM's account stored there. */
static const char *const plain_words[SESSION_WORDS_COUNT] = {
    [SESSION_WORDS_RDP_CREDENTIALS] =
        "the VM's remote desktop (RDP) service asks for a user name and password before the "
        "session, and none are stored for this VM; enter the VM's account on its page "
        "(Settings, Remote Desktop), then open the VM again",
    [SESSION_WORDS_RDP_CERT_CHANGED] =
        "the VM's remote desktop (RDP) service showed another certificate than the one it "
        "showed first, so the connection was refused: someone may be in between. If the "
        "change is expected (the guest was reinstalled, or its RDP service made a new key), "
        "forget the old certificate on the VM's page (Settings, Remote Desktop), then open the "
        "VM again",
};

const char *session_words_plain(uint32_t code)
{
    return code < SESSION_WORDS_COUNT ? plain_words[code] : NULL;
}

SessionWords session_words_of(const GError *error)
{
    const char *plain = vd_error_plain(error);
    for (uint32_t i = SESSION_WORDS_NONE + 1; plain && i < SESSION_WORDS_COUNT; i++)
        if (g_str_equal(plain, plain_words[i]))
            return (SessionWords)i;
    return SESSION_WORDS_NONE;
}

GError *session_words_error(uint32_t code, uint32_t words, const char *message)
{
    /* Our codes only; anything else is a plain failure. */
    VdErrorCode c = code >= VD_ERROR_FAILED && code <= VD_ERROR_NO_SPACE ? (VdErrorCode)code
                                                                          : VD_ERROR_FAILED;
    GError *e = NULL;
    vd_error_set_worded(&e, c, NULL, session_words_plain(words), "%s",
                        message ? message : "the session failed");
    return e;
}
