/* The RDP server's certificate: FreeRDP hands it over whole (external
 * certificate management) and the answer is our pin (session/cert_pin.c,
 * trust on first use), never FreeRDP's own certificate store or the system's
 * certificate authorities. A refusal is kept in @verify_error for the
 * connection's error message. Session thread. */
#include "session/rdp/rdp_session_priv.h"

#include "common/error.h"
#include "common/log.h"
#include "session/helper/helper.h"
#include "session/cert_pin.h"

#include <freerdp/crypto/certificate.h>
#include <freerdp/settings.h>

bool rdp_cert_check_pin(const RdpTarget *t, const char *host, unsigned port, const char *subject,
                        const char *fingerprint, GError **error)
{
    g_autofree char *where = g_strdup_printf("%s:%u", host, port);
    bool first = false;
    if (!t->pin_file) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "no place to pin the certificate of %s",
                    where);
        return false;
    }
    if (!cert_pin_check(t->pin_file, t->pin_group, where, fingerprint, subject, t->pin_hint,
                        &first, error))
        return false;
    if (first)
        vd_info("trusting %s's RDP certificate on first use (SHA-256 %s)", where, fingerprint);
    return true;
}

/* @data: the server's certificate (PEM, @length bytes, from the server:
 * hostile). 1 accepts it for this connection (and its reconnections), 0
 * refuses. The fingerprint is FreeRDP's (SHA-256 of the DER, hex pairs with
 * colons), as pinned by earlier versions. */
static int on_verify_x509(freerdp *instance, const BYTE *data, size_t length, const char *host,
                          UINT16 port, DWORD flags)
{
    (void)flags;
    Rdp *r = rdp_of(instance->context);
    g_autofree char *pem = g_strndup((const char *)data, length);
    rdpCertificate *cert = freerdp_certificate_new_from_pem(pem);
    char *fingerprint = cert ? freerdp_certificate_get_fingerprint(cert) : NULL;
    char *subject = cert ? freerdp_certificate_get_subject(cert) : NULL;
    bool ok = false;
    if (!fingerprint) {
        g_clear_error(&r->verify_error);
        g_set_error(&r->verify_error, VD_ERROR, VD_ERROR_FAILED,
                    "%s:%u sent a certificate that cannot be read", host, port);
    } else if (r->server_fd != RDP_CONNECT_HERE) {
        /* Confined: the window judges the certificate, never the helper. */
        ok = helper_check_cert(host, port, subject ? subject : "", pem);
    } else {
        g_clear_error(&r->verify_error);
        ok = rdp_cert_check_pin(&r->target, host, port, subject ? subject : "", fingerprint,
                                &r->verify_error);
    }
    free(fingerprint);
    free(subject);
    freerdp_certificate_free(cert);
    return ok ? 1 : 0;
}

void rdp_cert_register(freerdp *instance)
{
    freerdp_settings_set_bool(instance->context->settings, FreeRDP_ExternalCertificateManagement,
                              TRUE);
    instance->VerifyX509Certificate = on_verify_x509;
    instance->VerifyCertificateEx = NULL;
    instance->VerifyChangedCertificateEx = NULL;
}
