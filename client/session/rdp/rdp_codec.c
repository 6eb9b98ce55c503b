/* The graphics pipeline's codecs: what the session announces to the server.
 *
 * H.264 trades decoding work for bandwidth: FreeRDP decodes it in software
 * (FFmpeg) and it is lossy (AVC444 keeps full colour resolution, AVC420
 * halves it). Without it a server picks RemoteFX/progressive or planar. The
 * rule, measured in bench/README ("H.264 or not"): on the same content
 * vmdesk received 0.45 of the bytes with H.264 (AVC444) than with the
 * progressive codec FreeRDP 3's server sends otherwise, at no more CPU; so
 * H.264 (AVC420 and AVC444) is announced whenever this FreeRDP build can decode it (tried
 * once per process), to local and remote servers alike, and planar/RemoteFX
 * otherwise. VMDESK_RDP_CODEC=planar turns H.264 off (pictures exact to the
 * pixel, diagnosis); =h264 is the rule's choice. Session thread. */
#include "session/rdp/rdp_session_priv.h"

#include "common/log.h"

#include <freerdp/codec/h264.h>
#include <freerdp/settings.h>

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

bool rdp_codec_wants_h264(const char *override)
{
    return g_strcmp0(override, "planar") && h264_available();
}

void rdp_codec_configure(Rdp *r, rdpSettings *st)
{
    (void)r;
    bool h264 = rdp_codec_wants_h264(g_getenv("VMDESK_RDP_CODEC"));
    vd_debug("rdp: graphics pipeline with %s", h264 ? "H.264 (AVC420, AVC444)" : "planar/RemoteFX");
    freerdp_settings_set_bool(st, FreeRDP_GfxH264, h264);
    freerdp_settings_set_bool(st, FreeRDP_GfxAVC444, h264);
    freerdp_settings_set_bool(st, FreeRDP_GfxAVC444v2, h264);
}
