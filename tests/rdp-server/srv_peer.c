/* One client session: FreeRDP peer settings and callbacks, the session loop,
 * input logging, the picture and benchmark frames, and the client's monitor
 * layout through the disp dynamic channel. Everything here runs on the peer
 * thread except on_disp_layout (the library's disp thread), which only posts
 * the new size. Model: FreeRDP's server/Sample/sfreerdp.c. */
#include "srv.h"

#include <string.h>

#include <freerdp/channels/wtsvc.h>
#include <freerdp/constants.h>
#include <freerdp/crypto/certificate.h>
#include <freerdp/crypto/privatekey.h>
#include <freerdp/input.h>
#include <freerdp/server/disp.h>
#include <freerdp/update.h>
#include <winpr/synch.h>

#define ACK_TIMEOUT_MS 5000
/* MS-RDPERP 2.2.1.1.2 wndSupportLevel (FreeRDP keeps the constant private).
 * FreeRDP clients accept every window order field only at this level. */
#define WINDOW_LEVEL_SUPPORTED_EX 0x00000002

typedef struct {
    rdpContext base;             /* FreeRDP's part; must come first */
    const SrvConfig *cfg;        /* borrowed */
    HANDLE vcm;                  /* virtual channel manager */
    HANDLE wake;                 /* manual-reset (WinPR has no auto-reset): a layout is posted */
    SrvPicture *picture;
    SrvSound *sound;
    SrvDrive *drive;
    SrvClip *clip;               /* with --clipboard */
    SrvAudin *audin;             /* with --microphone */
    bool audin_tried;
    SrvRail *rail;               /* RemoteApp clients with --rail */
    DispServerContext *disp;
    bool disp_tried;
    bool size_sent;              /* --size went out in the first Demand Active */
    UINT32 disp_channel_id;      /* its dynamic channel, once opened */
    bool active;                 /* activated and not in a resize */
    bool redraw;                 /* send the picture again at the next turn */
    uint32_t frame_no;           /* picture content: 0, then benchmark frames 1..N */
    uint32_t next_frame_id;      /* surface frame marker ids */
    bool awaiting_ack;
    uint32_t awaited_id;
    gint64 sent_at;              /* when the awaited frame went out */
    bool acks_off;               /* the client stopped acknowledging: pace by TCP */
    gint64 pause_t0;             /* --frames-pause began (first picture acknowledged); 0: not yet */
    gint64 bench_t0;             /* first benchmark frame sent; 0: not yet */
    bool bench_done;
    GMutex lock;                 /* guards layout_* (disp thread) */
    unsigned layout_w, layout_h; /* pending monitor layout; 0: none */
} Peer;

/* --- input --- */

static BOOL on_sync(rdpInput *input, UINT32 flags)
{
    srv_log("input sync 0x%x", flags);
    return TRUE;
}

static BOOL on_key(rdpInput *input, UINT16 flags, UINT8 code)
{
    const char *prefix = (flags & KBD_FLAGS_EXTENDED) ? "e0" : (flags & KBD_FLAGS_EXTENDED1) ? "e1"
                                                                                               : "";
    srv_log("input key 0x%s%02x %s", prefix, code & 0xFF,
            (flags & KBD_FLAGS_RELEASE) ? "up" : "down");
    return TRUE;
}

static BOOL on_unicode(rdpInput *input, UINT16 flags, UINT16 code)
{
    srv_log("input unicode 0x%04x %s", code, (flags & KBD_FLAGS_RELEASE) ? "up" : "down");
    return TRUE;
}

static BOOL on_mouse(rdpInput *input, UINT16 flags, UINT16 x, UINT16 y)
{
    srv_log("input mouse %u %u 0x%04x", x, y, flags);
    return TRUE;
}

static BOOL on_xmouse(rdpInput *input, UINT16 flags, UINT16 x, UINT16 y)
{
    srv_log("input xmouse %u %u 0x%04x", x, y, flags);
    return TRUE;
}

/* --- updates the client asks for --- */

static BOOL on_refresh_rect(rdpContext *context, BYTE count, const RECTANGLE_16 *areas)
{
    ((Peer *)context)->redraw = true;
    return TRUE;
}

static BOOL on_suppress_output(rdpContext *context, BYTE allow, const RECTANGLE_16 *area)
{
    srv_log("suppress-output %s", allow ? "off" : "on");
    if (allow)
        ((Peer *)context)->redraw = true;
    return TRUE;
}

static BOOL on_frame_ack(rdpContext *context, UINT32 frame_id)
{
    Peer *p = (Peer *)context;
    if (p->awaiting_ack && frame_id == p->awaited_id)
        p->awaiting_ack = false;
    return TRUE;
}

/* --- monitor layout (disp) --- */

/* RemoteApp: the library sends the RAIL and window list capability sets in
 * every Demand Active when the client's info had INFO_RAIL
 * (RemoteApplicationMode). The window level defaults to 3 and is the
 * client's after its Confirm Active; the protocol knows 0-2 and FreeRDP
 * clients take 3 as "unknown" and drop window orders. HandshakeEx in the
 * support level offers HiDef RemoteApp (srv_rail.c sends the HandshakeEx PDU
 * when the client can take it). */
static void rail_caps(Peer *p, rdpSettings *st)
{
    if (!p->cfg->rail)
        return;
    freerdp_settings_set_uint32(st, FreeRDP_RemoteApplicationSupportLevel,
                                RAIL_LEVEL_SUPPORTED | RAIL_LEVEL_DOCKED_LANGBAR_SUPPORTED |
                                    RAIL_LEVEL_HANDSHAKE_EX_SUPPORTED);
    freerdp_settings_set_bool(st, FreeRDP_RemoteAppLanguageBarSupported, TRUE);
    freerdp_settings_set_uint32(st, FreeRDP_RemoteWndSupportLevel, WINDOW_LEVEL_SUPPORTED_EX);
    freerdp_settings_set_uint32(st, FreeRDP_RemoteAppNumIconCaches, 3);
    freerdp_settings_set_uint32(st, FreeRDP_RemoteAppNumIconCacheEntries, 12);
}

/* disp thread: post the layout's bounding box (one monitor: its size) to
 * the peer thread. */
static UINT on_disp_layout(DispServerContext *disp, const DISPLAY_CONTROL_MONITOR_LAYOUT_PDU *pdu)
{
    Peer *p = disp->custom;
    const DISPLAY_CONTROL_MONITOR_LAYOUT *m = NULL;
    INT64 x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    for (UINT32 i = 0; i < pdu->NumMonitors; i++) {
        const DISPLAY_CONTROL_MONITOR_LAYOUT *o = &pdu->Monitors[i];
        if (!m || (o->Flags & DISPLAY_CONTROL_MONITOR_PRIMARY))
            m = o;
        x0 = MIN(x0, o->Left);
        y0 = MIN(y0, o->Top);
        x1 = MAX(x1, (INT64)o->Left + o->Width);
        y1 = MAX(y1, (INT64)o->Top + o->Height);
    }
    if (!m)
        return CHANNEL_RC_OK;
    srv_log("disp layout %u monitors, primary %ux%u scale %u device %u", pdu->NumMonitors,
            m->Width, m->Height, m->DesktopScaleFactor, m->DeviceScaleFactor);
    for (UINT32 i = 0; i < pdu->NumMonitors; i++) {
        const DISPLAY_CONTROL_MONITOR_LAYOUT *o = &pdu->Monitors[i];
        srv_log("disp monitor %u %d %d %ux%u scale %u device %u mm %ux%u%s", i, o->Left, o->Top,
                o->Width, o->Height, o->DesktopScaleFactor, o->DeviceScaleFactor,
                o->PhysicalWidth, o->PhysicalHeight,
                o->Flags & DISPLAY_CONTROL_MONITOR_PRIMARY ? " primary" : "");
    }
    g_mutex_lock(&p->lock);
    p->layout_w = (unsigned)CLAMP(x1 - x0, 0, 16384) & ~1u; /* even widths, as Windows servers use */
    p->layout_h = (unsigned)CLAMP(y1 - y0, 0, 16384);
    g_mutex_unlock(&p->lock);
    SetEvent(p->wake);
    return CHANNEL_RC_OK;
}

static BOOL on_disp_channel_id(DispServerContext *disp, UINT32 id)
{
    ((Peer *)disp->custom)->disp_channel_id = id;
    return TRUE;
}

/* Peer thread, from the channel manager: the client answered a dynamic
 * channel's creation. Caps go out once disp is really open: a client without
 * the disp plugin refuses the channel. */
static BOOL on_dvc_created(void *data, UINT32 id, INT32 status)
{
    Peer *p = data;
    if (!p->disp || id != p->disp_channel_id)
        return TRUE;
    if (status < 0) {
        srv_log("disp unavailable");
        return TRUE;
    }
    UINT rc = p->disp->DisplayControlCaps(p->disp);
    if (rc != CHANNEL_RC_OK)
        srv_warn("disp: sending the caps failed (error %u); no resizing", rc);
    else
        srv_log("disp ready");
    return TRUE;
}

static void open_disp(Peer *p)
{
    p->disp_tried = true;
    p->disp = disp_server_context_new(p->vcm);
    if (!p->disp) {
        srv_warn("disp: cannot create the channel context");
        return;
    }
    p->disp->custom = p;
    p->disp->rdpcontext = &p->base;
    p->disp->MaxNumMonitors = 16;
    p->disp->MaxMonitorAreaFactorA = 8192;
    p->disp->MaxMonitorAreaFactorB = 8192;
    p->disp->DispMonitorLayout = on_disp_layout;
    p->disp->ChannelIdAssigned = on_disp_channel_id;
    UINT rc = p->disp->Open(p->disp);
    if (rc != CHANNEL_RC_OK)
        srv_warn("disp: the channel did not open (error %u); no resizing", rc);
}

static void apply_layout(Peer *p, freerdp_peer *client)
{
    g_mutex_lock(&p->lock);
    ResetEvent(p->wake);
    unsigned w = p->layout_w, h = p->layout_h;
    p->layout_w = p->layout_h = 0;
    g_mutex_unlock(&p->lock);
    rdpSettings *st = client->context->settings;
    if (!w || !h || !freerdp_settings_get_bool(st, FreeRDP_DesktopResize) ||
        (w == freerdp_settings_get_uint32(st, FreeRDP_DesktopWidth) &&
         h == freerdp_settings_get_uint32(st, FreeRDP_DesktopHeight)))
        return;
    freerdp_settings_set_uint32(st, FreeRDP_DesktopWidth, w);
    freerdp_settings_set_uint32(st, FreeRDP_DesktopHeight, h);
    srv_log("resize %ux%u", w, h);
    /* Deactivation-reactivation; Activate runs again when the client is back.
     * The library sends the Demand Active itself, without Capabilities. */
    rail_caps(p, st);
    p->active = false;
    p->awaiting_ack = false;
    client->context->update->DesktopResize(client->context);
}

/* --- connection sequence --- */

static BOOL on_capabilities(freerdp_peer *client)
{
    Peer *p = (Peer *)client->context;
    rdpSettings *st = client->context->settings;
    /* Sent in the Demand Active PDU; clients that can resize take it. Once:
     * libfreerdp 3 calls this again before every reactivation (a resize). */
    if (p->cfg->width && !p->size_sent) {
        p->size_sent = true;
        freerdp_settings_set_uint32(st, FreeRDP_DesktopWidth, p->cfg->width);
        freerdp_settings_set_uint32(st, FreeRDP_DesktopHeight, p->cfg->height);
    }
    freerdp_settings_set_uint32(st, FreeRDP_ColorDepth, 32);
    /* The tiles are compressed already; bulk compression would only cost
     * time (and RemoteApp's window orders go out uncompressed, srv_rail_win.c). */
    freerdp_settings_set_bool(st, FreeRDP_CompressionEnabled, FALSE);
    rail_caps(p, st);
    return TRUE;
}

static BOOL on_post_connect(freerdp_peer *client)
{
    Peer *p = (Peer *)client->context;
    rdpSettings *st = client->context->settings;
    srv_log("client-connected %ux%u", freerdp_settings_get_uint32(st, FreeRDP_DesktopWidth),
            freerdp_settings_get_uint32(st, FreeRDP_DesktopHeight));
    /* TS_UD_CS_CORE's desktopScaleFactor and deviceScaleFactor (the library
     * keeps its defaults when the client sent none). */
    srv_log("client-scale %u device %u", freerdp_settings_get_uint32(st, FreeRDP_DesktopScaleFactor),
            freerdp_settings_get_uint32(st, FreeRDP_DeviceScaleFactor));
    /* TS_UD_CS_MONITOR (and _EX: each monitor's scale), when the client
     * sent several monitors. */
    UINT32 monitors = freerdp_settings_get_uint32(st, FreeRDP_MonitorCount);
    for (UINT32 i = 0; i < monitors; i++) {
        const rdpMonitor *m = freerdp_settings_get_pointer_array(st, FreeRDP_MonitorDefArray, i);
        if (m)
            srv_log("client-monitor %u %d %d %dx%d scale %u device %u mm %ux%u%s", i, m->x, m->y,
                    m->width, m->height, m->attributes.desktopScaleFactor,
                    m->attributes.deviceScaleFactor, m->attributes.physicalWidth,
                    m->attributes.physicalHeight, m->is_primary ? " primary" : "");
    }
    const char *user = freerdp_settings_get_string(st, FreeRDP_Username);
    const char *domain = freerdp_settings_get_string(st, FreeRDP_Domain);
    if (user && *user)
        srv_log("logon %s%s%s", domain && *domain ? domain : "", domain && *domain ? "\\" : "",
                user);
    if (WTSVirtualChannelManagerIsChannelJoined(p->vcm, "rdpsnd"))
        p->sound = srv_sound_create(p->vcm, &p->base, p->cfg->tone_hz, p->cfg->tone_ms);
    if (WTSVirtualChannelManagerIsChannelJoined(p->vcm, "rdpdr"))
        p->drive = srv_drive_create(p->vcm, &p->base, p->cfg->drive_ops,
                                    p->cfg->drive_piece);
    if (p->cfg->clipboard && WTSVirtualChannelManagerIsChannelJoined(p->vcm, "cliprdr"))
        p->clip = srv_clip_create(p->vcm, &p->base, p->cfg->clipboard, p->cfg->clipboard_offer);
    if (freerdp_settings_get_bool(st, FreeRDP_RemoteApplicationMode)) {
        srv_log("remoteapp-requested");
        if (!p->cfg->rail)
            srv_warn("the client asks for RemoteApp; start the server with --rail");
        else if (!WTSVirtualChannelManagerIsChannelJoined(p->vcm, "rail"))
            srv_warn("the client asks for RemoteApp but did not join the rail channel");
        else
            p->rail = srv_rail_create(p->vcm, client);
        srv_rail_set_clip(p->rail, p->clip);
    }
    return TRUE;
}

static BOOL on_activate(freerdp_peer *client)
{
    Peer *p = (Peer *)client->context;
    rdpSettings *st = client->context->settings;
    srv_log("activated %ux%u %s", freerdp_settings_get_uint32(st, FreeRDP_DesktopWidth),
            freerdp_settings_get_uint32(st, FreeRDP_DesktopHeight), srv_picture_codec(client));
    p->active = true;
    p->redraw = true;
    p->awaiting_ack = false;
    srv_rail_activated(p->rail);
    return TRUE;
}

/* --- pictures and benchmark frames --- */

static bool acks_expected(Peer *p, freerdp_peer *client)
{
    const rdpSettings *st = client->context->settings;
    return !p->acks_off && freerdp_settings_get_uint32(st, FreeRDP_FrameAcknowledge) > 0 &&
           freerdp_settings_get_bool(st, FreeRDP_SurfaceFrameMarkerEnabled);
}

/* Whether the frames wait out --frames-pause (the first picture is
 * acknowledged, and the client sits still on it). */
static bool pausing(Peer *p)
{
    return p->pause_t0 && !p->bench_t0 &&
           g_get_monotonic_time() - p->pause_t0 < (gint64)p->cfg->frames_pause_ms * 1000;
}

/* Sends what is due; false when the connection failed. */
static bool send_pictures(Peer *p, freerdp_peer *client)
{
    if (!p->active)
        return true;
    if (p->awaiting_ack) {
        if (g_get_monotonic_time() - p->sent_at < ACK_TIMEOUT_MS * 1000)
            return true;
        srv_warn("no frame acknowledge in %d ms; pacing by TCP from now on", ACK_TIMEOUT_MS);
        p->acks_off = true;
        p->awaiting_ack = false;
    }
    if (!p->redraw) {
        if (p->bench_done || p->cfg->frames == 0)
            return true;
        if (p->frame_no >= p->cfg->frames) {
            /* The last frame is acknowledged (or sent, without acks). */
            gint64 ms = (g_get_monotonic_time() - p->bench_t0) / 1000;
            srv_log("frames-done %u %" G_GINT64_FORMAT, p->cfg->frames, ms);
            p->bench_done = true;
            return true;
        }
        if (!p->bench_t0 && p->cfg->frames_pause_ms) {
            if (!p->pause_t0) {
                p->pause_t0 = g_get_monotonic_time();
                srv_log("frames-pause %u", p->cfg->frames_pause_ms);
            }
            if (pausing(p))
                return true;
            srv_log("frames-start");
        }
        if (!p->bench_t0)
            p->bench_t0 = g_get_monotonic_time();
        p->frame_no++;
    }
    p->redraw = false;
    uint32_t id = p->next_frame_id++;
    if (!srv_picture_send(p->picture, client, p->frame_no, id, p->rail ? srv_rail_paint : NULL,
                          p->rail))
        return false;
    if (acks_expected(p, client)) {
        p->awaiting_ack = true;
        p->awaited_id = id;
        p->sent_at = g_get_monotonic_time();
    }
    return true;
}

/* Whether send_pictures has something to do without waiting. */
static bool pictures_due(Peer *p)
{
    return p->active && !p->awaiting_ack &&
           (p->redraw || (!p->bench_done && p->cfg->frames > 0 && !pausing(p)));
}

/* --- context and loop --- */

static BOOL peer_context_new(freerdp_peer *client, rdpContext *context)
{
    Peer *p = (Peer *)context;
    p->cfg = client->ContextExtra;
    g_mutex_init(&p->lock);
    p->picture = srv_picture_create();
    p->wake = CreateEvent(NULL, TRUE, FALSE, NULL);
    p->vcm = WTSOpenServerA((LPSTR)client->context);
    if (!p->wake || !p->vcm || p->vcm == INVALID_HANDLE_VALUE) {
        p->vcm = NULL;
        return FALSE;
    }
    WTSVirtualChannelManagerSetDVCCreationCallback(p->vcm, on_dvc_created, p);
    return TRUE;
}

static void peer_context_free(freerdp_peer *client, rdpContext *context)
{
    Peer *p = (Peer *)context;
    /* Channel threads first: they use the channel manager. */
    if (p->disp)
        disp_server_context_free(p->disp);
    srv_sound_destroy(p->sound);
    srv_audin_destroy(p->audin);
    srv_drive_destroy(p->drive);
    srv_clip_destroy(p->clip);
    srv_rail_destroy(p->rail);
    if (p->vcm)
        WTSCloseServer(p->vcm);
    if (p->wake)
        CloseHandle(p->wake);
    srv_picture_destroy(p->picture);
    g_mutex_clear(&p->lock);
}

/* The server's settings for @client; false (logged) when the certificate
 * or key cannot be loaded or a setting is refused. */
static bool configure(freerdp_peer *client, const SrvConfig *cfg)
{
    rdpSettings *st = client->context->settings;
    /* The settings own the certificate and the key once set. */
    rdpCertificate *cert = freerdp_certificate_new_from_file(cfg->cert_file);
    rdpPrivateKey *key = freerdp_key_new_from_file(cfg->key_file);
    if (!cert || !key) {
        srv_warn("cannot load the certificate %s or the key %s", cfg->cert_file, cfg->key_file);
        freerdp_certificate_free(cert);
        freerdp_key_free(key);
        return false;
    }
    bool ok = freerdp_settings_set_pointer_len(st, FreeRDP_RdpServerCertificate, cert, 1);
    if (!ok)
        freerdp_certificate_free(cert);
    if (!freerdp_settings_set_pointer_len(st, FreeRDP_RdpServerRsaKey, key, 1)) {
        freerdp_key_free(key);
        ok = false;
    }
    const struct {
        FreeRDP_Settings_Keys_Bool key;
        BOOL value;
    } bools[] = {
        {FreeRDP_RdpSecurity, FALSE},
        {FreeRDP_TlsSecurity, TRUE},
        {FreeRDP_NlaSecurity, cfg->sam_file != NULL},
        {FreeRDP_RemoteFxCodec, TRUE},
        {FreeRDP_NSCodec, FALSE},
        {FreeRDP_SupportGraphicsPipeline, FALSE},
        {FreeRDP_SurfaceFrameMarkerEnabled, TRUE},
        {FreeRDP_FrameMarkerCommandEnabled, TRUE},
        {FreeRDP_RefreshRect, TRUE},
        {FreeRDP_SuppressOutput, TRUE},
        {FreeRDP_DesktopResize, TRUE},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bools); i++)
        ok = ok && freerdp_settings_set_bool(st, bools[i].key, bools[i].value);
    ok = ok && freerdp_settings_set_uint32(st, FreeRDP_ColorDepth, 32);
    /* Our multifragment limit: RemoteFX frames go out whole. */
    ok = ok && freerdp_settings_set_uint32(st, FreeRDP_MultifragMaxRequestSize, 0xFFFFFF);
    if (ok && cfg->sam_file)
        ok = freerdp_settings_set_string(st, FreeRDP_NtlmSamFile, cfg->sam_file);
    if (!ok) {
        srv_warn("FreeRDP refused the server settings");
        return false;
    }

    client->Capabilities = on_capabilities;
    client->PostConnect = on_post_connect;
    client->Activate = on_activate;
    rdpInput *input = client->context->input;
    input->SynchronizeEvent = on_sync;
    input->KeyboardEvent = on_key;
    input->UnicodeKeyboardEvent = on_unicode;
    input->MouseEvent = on_mouse;
    input->ExtendedMouseEvent = on_xmouse;
    rdpUpdate *update = client->context->update;
    update->RefreshRect = on_refresh_rect;
    update->SuppressOutput = on_suppress_output;
    update->SurfaceFrameAcknowledge = on_frame_ack;
    return true;
}

bool srv_peer_run(freerdp_peer *client, const SrvConfig *cfg, HANDLE stop)
{
    client->ContextSize = sizeof(Peer);
    client->ContextNew = peer_context_new;
    client->ContextFree = peer_context_free;
    client->ContextExtra = (void *)cfg;
    if (!freerdp_peer_context_new(client)) {
        srv_warn("cannot set up a session for %s", client->hostname);
        freerdp_peer_free(client);
        return false;
    }
    Peer *p = (Peer *)client->context;
    if (!configure(client, cfg) || !client->Initialize(client)) {
        srv_warn("cannot start a session for %s (certificate or key unusable?)",
                 client->hostname);
        freerdp_peer_context_free(client);
        freerdp_peer_free(client);
        return false;
    }

    for (;;) {
        HANDLE handles[40];
        DWORD n = client->GetEventHandles(client, handles, 32);
        if (n == 0)
            break;
        handles[n++] = WTSVirtualChannelManagerGetEventHandle(p->vcm);
        handles[n++] = stop;
        handles[n++] = p->wake;
        srv_rail_add_handles(p->rail, handles, &n);
        DWORD timeout = srv_rail_timeout_ms(p->rail);
        if (pictures_due(p))
            timeout = 0;
        else if (p->awaiting_ack)
            timeout = MIN(timeout, 100); /* to notice a missing acknowledge */
        else if (pausing(p))
            timeout = MIN(timeout, 20);
        if (WaitForMultipleObjects(n, handles, FALSE, timeout) == WAIT_FAILED)
            break;
        if (WaitForSingleObject(stop, 0) == WAIT_OBJECT_0)
            break;
        if (!client->CheckFileDescriptor(client))
            break;
        /* Not before the channels are joined (PostConnect): libfreerdp 3.10
         * opens drdynvc at its first call, once and only once, and a
         * drdynvc not joined yet stays closed for the session (no disp, no
         * audin). */
        if (client->connected && !WTSVirtualChannelManagerCheckFileDescriptor(p->vcm))
            break;
        if (!p->disp_tried && WTSVirtualChannelManagerIsChannelJoined(p->vcm, "drdynvc") &&
            WTSVirtualChannelManagerGetDrdynvcState(p->vcm) == DRDYNVC_STATE_READY)
            open_disp(p);
        if (p->cfg->mic_hz && !p->audin_tried &&
            WTSVirtualChannelManagerIsChannelJoined(p->vcm, "drdynvc") &&
            WTSVirtualChannelManagerGetDrdynvcState(p->vcm) == DRDYNVC_STATE_READY) {
            p->audin_tried = true;
            p->audin = srv_audin_create(p->vcm, &p->base, p->cfg->mic_hz);
        }
        apply_layout(p, client);
        if (!srv_rail_dispatch(p->rail))
            break;
        if (srv_rail_take_redraw(p->rail))
            p->redraw = true;
        if (!send_pictures(p, client))
            break;
    }

    client->Disconnect(client);
    freerdp_peer_context_free(client);
    freerdp_peer_free(client);
    srv_log("disconnected");
    return true;
}
