/* The RDP server's certificate: FreeRDP asks whether to accept it, and the
 * answer is our pin (session/rdp/cert_pin.c, trust on first use), never
 * FreeRDP's own certificate store. A refusal is kept in @verify_error for the
 * connection's error message. Session thread. */
#include "session/rdp/rdp_session_priv.h"

#include "common/error.h"
#include "common/log.h"
#include "session/rdp/cert_pin.h"

static DWORD check_certificate(Rdp *r, const char *host, UINT16 port, const char *subject,
                               const char *fingerprint)
{
    g_autofree char *where = g_strdup_printf("%s:%u", host, port);
    bool first = false;
    g_clear_error(&r->verify_error);
    if (!r->target.pin_file) {
        g_set_error(&r->verify_error, VD_ERROR, VD_ERROR_FAILED,
                    "no place to pin the certificate of %s", where);
        return 0;
    }
    if (!cert_pin_check(r->target.pin_file, r->target.pin_group, where, fingerprint, subject,
                        r->target.pin_hint, &first, &r->verify_error))
        return 0;
    if (first)
        vd_info("trusting %s's RDP certificate on first use (SHA-256 %s)", where, fingerprint);
    return 2; /* accepted for this session; FreeRDP's own store stays out of it */
}

static DWORD on_verify_certificate(freerdp *instance, const char *host, UINT16 port,
                                   const char *common_name, const char *subject,
                                   const char *issuer, const char *fingerprint, DWORD flags)
{
    (void)common_name;
    (void)issuer;
    (void)flags;
    return check_certificate(rdp_of(instance->context), host, port, subject, fingerprint);
}

static DWORD on_verify_changed_certificate(freerdp *instance, const char *host, UINT16 port,
                                           const char *common_name, const char *subject,
                                           const char *issuer, const char *fingerprint,
                                           const char *old_subject, const char *old_issuer,
                                           const char *old_fingerprint, DWORD flags)
{
    (void)common_name;
    (void)issuer;
    (void)old_subject;
    (void)old_issuer;
    (void)old_fingerprint;
    (void)flags;
    return check_certificate(rdp_of(instance->context), host, port, subject, fingerprint);
}

void rdp_cert_register(freerdp *instance)
{
    instance->VerifyCertificateEx = on_verify_certificate;
    instance->VerifyChangedCertificateEx = on_verify_changed_certificate;
}
