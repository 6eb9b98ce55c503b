#include "session/session_words.h"

/* Words for a window that is not a terminal: no command-line syntax. The
 * manager offers no place yet to enter a VM's RDP account or to forget its
 * pinned certificate, so the words say where it is done instead. */
static const char *const plain_words[SESSION_WORDS_COUNT] = {
    [SESSION_WORDS_RDP_CREDENTIALS] =
        "The VM's remote desktop (RDP) service asks for a user name and password before the "
        "session starts, and none are stored for this VM. The manager has no place to enter "
        "them yet: store the guest's account with vmdesk's credentials command in a terminal, "
        "then open the VM again.",
    [SESSION_WORDS_RDP_CERT_CHANGED] =
        "The VM's remote desktop (RDP) service showed a different certificate from the one "
        "it showed the first time, so the connection was refused: someone may be in between. "
        "If the change is expected (the guest was reinstalled, or its RDP service made a new "
        "key), the old certificate has to be forgotten; the manager cannot do that yet: "
        "vmdesk's certificate command does it, in a terminal.",
};

const char *session_words_plain(uint32_t code)
{
    return code < SESSION_WORDS_COUNT ? plain_words[code] : NULL;
}

void session_words_set(GError **error, VdErrorCode code, SessionWords words, const char *format,
                       ...)
{
    if (!error)
        return;
    va_list ap;
    va_start(ap, format);
    g_autofree char *message = g_strdup_vprintf(format, ap);
    va_end(ap);
    vd_error_set_worded(error, code, NULL, session_words_plain(words), "%s", message);
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
