/* The graphics pipeline's codecs: what the session announces to the server.
 *
 * H.264 (AVC420, AVC444) trades the client's CPU for bandwidth: FreeRDP
 * decodes it in software (FFmpeg) and the pictures are lossy, while planar
 * and RemoteFX cost little CPU to decode and many more bytes on the wire.
 * The rule (measured in bench/README, "H.264 or not"):
 *   - a server on this machine (a loopback address: a local VM's forwarded
 *     port) gets no H.264: bytes cost nothing there and CPU does;
 *   - a server elsewhere gets AVC420 and AVC444 when this FreeRDP build can
 *     decode H.264 (tried once per process), planar/RemoteFX otherwise.
 * VMDESK_RDP_CODEC=h264 or =planar overrides the rule (benchmarks,
 * diagnosis); H.264 still needs the decoder. Session thread. */
#include "session/rdp/rdp_session_priv.h"

#include "common/log.h"

#include <freerdp/codec/h264.h>
#include <freerdp/settings.h>
#include <gio/gio.h>

/* Whether FreeRDP can decode H.264 here (its build and FFmpeg at runtime). */
static bool h264_available(void)
{
    static gsize once;
    static bool available;
    if (g_once_init_enter(&once)) {
        H264_CONTEXT *h = h264_context_new(FALSE);
        available = h && h264_context_reset(h, 64, 64);
        h264_context_free(h);
        vd_debug("rdp: this FreeRDP %s decode H.264", available ? "can" : "cannot");
        g_once_init_leave(&once, 1);
    }
    return available;
}

static bool host_is_local(const char *host)
{
    if (!g_ascii_strcasecmp(host, "localhost"))
        return true;
    g_autoptr(GInetAddress) a = g_inet_address_new_from_string(host);
    return a && g_inet_address_get_is_loopback(a);
}

bool rdp_codec_wants_h264(const char *host, const char *override)
{
    if (!g_strcmp0(override, "planar"))
        return false;
    if (!g_strcmp0(override, "h264"))
        return h264_available();
    return !host_is_local(host) && h264_available();
}

void rdp_codec_configure(Rdp *r, rdpSettings *st)
{
    bool h264 = rdp_codec_wants_h264(r->target.host, g_getenv("VMDESK_RDP_CODEC"));
    vd_debug("rdp: graphics pipeline with %s", h264 ? "H.264 (AVC420, AVC444)" : "planar/RemoteFX");
    freerdp_settings_set_bool(st, FreeRDP_GfxH264, h264);
    freerdp_settings_set_bool(st, FreeRDP_GfxAVC444, h264);
    freerdp_settings_set_bool(st, FreeRDP_GfxAVC444v2, h264);
}
