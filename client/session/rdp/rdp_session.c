#include "session/rdp/rdp_session_priv.h"

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "session/rdp/cert_pin.h"
#include "session/rdp/rdp_probe.h"

#include <freerdp/channels/channels.h>
#include <freerdp/client/channels.h>
#include <freerdp/client/cliprdr.h>
#include <freerdp/client/cmdline.h>
#include <freerdp/client/disp.h>
#include <freerdp/client/rdpgfx.h>
#include <freerdp/codec/color.h>
#include <freerdp/event.h>
#include <freerdp/freerdp.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/gdi/gfx.h>
#include <freerdp/graphics.h>
#include <freerdp/locale/keyboard.h>
#include <freerdp/settings.h>
#include <winpr/synch.h>
#include <winpr/wlog.h>

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000
/* Resizes are sent at most this often; the last size wins. */
#define RESIZE_INTERVAL_MS 250
#define CF_UNICODETEXT 13

void rdp_target_clear(RdpTarget *t)
{
    g_free(t->host);
    g_free(t->username);
    if (t->password)
        memset(t->password, 0, strlen(t->password));
    g_free(t->password);
    g_free(t->domain);
    g_free(t->pin_file);
    g_free(t->pin_group);
    g_free(t->pin_hint);
    g_strfreev(t->drives);
    g_free(t->remote_app);
    g_free(t->remote_app_args);
    g_free(t->shell);
    memset(t, 0, sizeof(*t));
}

static void target_copy(RdpTarget *dst, const RdpTarget *src)
{
    *dst = *src;
    dst->host = g_strdup(src->host);
    dst->username = g_strdup(src->username);
    dst->password = g_strdup(src->password);
    dst->domain = g_strdup(src->domain);
    dst->pin_file = g_strdup(src->pin_file);
    dst->pin_group = g_strdup(src->pin_group);
    dst->pin_hint = g_strdup(src->pin_hint);
    dst->drives = g_strdupv(src->drives);
    dst->remote_app = g_strdup(src->remote_app);
    dst->remote_app_args = g_strdup(src->remote_app_args);
    dst->shell = g_strdup(src->shell);
}

bool rdp_target_parse(const char *url, RdpTarget *t, GError **error)
{
    memset(t, 0, sizeof(*t));
    if (!g_str_has_prefix(url, "rdp://")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is not an RDP address; write rdp://[USER@]HOST[:PORT]", url);
        return false;
    }
    const char *rest = url + strlen("rdp://");
    g_autofree char *hostport = g_strndup(rest, strcspn(rest, "/"));
    char *at = strrchr(hostport, '@');
    const char *hp = hostport;
    if (at) {
        *at = 0;
        if (strchr(hostport, ':')) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "%s: a password does not belong in the address (it would show in the "
                        "process list); use vmdesk credentials or --password-file",
                        url);
            return false;
        }
        char *bs = strchr(hostport, '\\');
        if (bs) {
            *bs = 0;
            t->domain = g_uri_unescape_string(hostport, NULL);
            t->username = g_uri_unescape_string(bs + 1, NULL);
        } else {
            t->username = g_uri_unescape_string(hostport, NULL);
        }
        hp = at + 1;
    }
    const char *colon = strrchr(hp, ':');
    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (!close) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: unbalanced [", url);
            rdp_target_clear(t);
            return false;
        }
        t->host = g_strndup(hp + 1, (gsize)(close - hp - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        t->host = colon ? g_strndup(hp, (gsize)(colon - hp)) : g_strdup(hp);
    }
    t->port = 3389;
    if (colon) {
        char *end;
        guint64 p = g_ascii_strtoull(colon + 1, &end, 10);
        if (*end || end == colon + 1 || p == 0 || p > 65535) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: \"%s\" is not a port", url,
                        colon + 1);
            rdp_target_clear(t);
            return false;
        }
        t->port = (unsigned)p;
    }
    if (!*t->host) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: no host", url);
        rdp_target_clear(t);
        return false;
    }
    return true;
}

unsigned rdp_device_scale(unsigned pct)
{
    return pct < 120 ? 100 : pct < 160 ? 140 : 180;
}


/* --- pictures --- */

static BOOL on_begin_paint(rdpContext *ctx)
{
    HGDI_WND hwnd = ctx->gdi->primary->hdc->hwnd;
    hwnd->invalid->null = TRUE;
    hwnd->ninvalid = 0;
    return TRUE;
}

/* Copy what changed from FreeRDP's picture into the session's framebuffer:
 * only the invalid rectangles. */
static BOOL on_end_paint(rdpContext *ctx)
{
    Rdp *r = rdp_of(ctx);
    rdpGdi *gdi = ctx->gdi;
    HGDI_WND hwnd = gdi->primary->hdc->hwnd;
    if (hwnd->invalid->null || hwnd->ninvalid <= 0)
        return TRUE;
    SessionFramebuffer *fb = &r->s->fb;
    g_mutex_lock(&fb->lock);
    if (fb->width == (int)gdi->width && fb->height == (int)gdi->height) {
        for (int i = 0; i < hwnd->ninvalid; i++) {
            GDI_RGN *rg = &hwnd->cinvalid[i];
            int x0 = MAX(rg->x, 0), y0 = MAX(rg->y, 0);
            int x1 = MIN(rg->x + rg->w, fb->width), y1 = MIN(rg->y + rg->h, fb->height);
            if (x1 <= x0 || y1 <= y0)
                continue;
            for (int y = y0; y < y1; y++)
                memcpy((uint8_t *)fb->pixels + (size_t)y * fb->stride + (size_t)x0 * 4,
                       gdi->primary_buffer + (size_t)y * gdi->stride + (size_t)x0 * 4,
                       (size_t)(x1 - x0) * 4);
            session_fb_damage(r->s, x0, y0, x1 - x0, y1 - y0);
        }
        session_fb_update_done(r->s);
    }
    g_mutex_unlock(&fb->lock);
    hwnd->invalid->null = TRUE;
    hwnd->ninvalid = 0;
    return TRUE;
}

/* Save Session Info: Windows and xrdp send it once the user's session runs
 * (the picture before it is the server's login or progress screen). */
static BOOL on_save_session_info(rdpContext *ctx, UINT32 type, void *data)
{
    (void)data;
    vd_debug("rdp: logon notification (type %u)", type);
    session_post(rdp_of(ctx)->s, SESSION_EV_LOGON, 0, 0, NULL, NULL);
    return TRUE;
}

static BOOL on_desktop_resize(rdpContext *ctx)
{
    Rdp *r = rdp_of(ctx);
    UINT32 w = freerdp_settings_get_uint32(ctx->settings, FreeRDP_DesktopWidth);
    UINT32 h = freerdp_settings_get_uint32(ctx->settings, FreeRDP_DesktopHeight);
    if (!gdi_resize(ctx->gdi, w, h))
        return FALSE;
    session_fb_resize(r->s, (int)w, (int)h);
    session_post(r->s, SESSION_EV_RESIZED, (int)w, (int)h, NULL, NULL);
    return TRUE;
}

/* --- the pointer's shape --- */

static BOOL pointer_new(rdpContext *ctx, rdpPointer *pointer)
{
    VdPointer *p = (VdPointer *)pointer;
    if (!pointer->width || !pointer->height || pointer->width > 384 || pointer->height > 384)
        return TRUE; /* shown as the system arrow */
    p->argb = g_malloc((size_t)pointer->width * pointer->height * 4);
    if (!freerdp_image_copy_from_pointer_data(
            (BYTE *)p->argb, PIXEL_FORMAT_BGRA32, pointer->width * 4, 0, 0, pointer->width,
            pointer->height, pointer->xorMaskData, pointer->lengthXorMask,
            pointer->andMaskData, pointer->lengthAndMask, pointer->xorBpp,
            &ctx->gdi->palette)) {
        g_clear_pointer(&p->argb, g_free);
    }
    return TRUE;
}

static void pointer_free(rdpContext *ctx, rdpPointer *pointer)
{
    (void)ctx;
    g_clear_pointer(&((VdPointer *)pointer)->argb, g_free);
}

static BOOL pointer_set(rdpContext *ctx, const rdpPointer *pointer)
{
    const VdPointer *p = (const VdPointer *)pointer;
    Session *s = rdp_of(ctx)->s;
    if (!p->argb) {
        session_post_cursor(s, NULL, -1, -1, 0, 0);
        return TRUE;
    }
    size_t n = (size_t)pointer->width * pointer->height;
    session_post_cursor(s, g_memdup2(p->argb, n * 4), (int)pointer->width, (int)pointer->height,
                        (int)pointer->xPos, (int)pointer->yPos);
    return TRUE;
}

static BOOL pointer_set_null(rdpContext *ctx)
{
    session_post_cursor(rdp_of(ctx)->s, NULL, 0, 0, 0, 0);
    return TRUE;
}

static BOOL pointer_set_default(rdpContext *ctx)
{
    session_post_cursor(rdp_of(ctx)->s, NULL, -1, -1, 0, 0);
    return TRUE;
}

static BOOL pointer_set_position(rdpContext *ctx, UINT32 x, UINT32 y)
{
    (void)ctx;
    (void)x;
    (void)y;
    return TRUE; /* the host pointer stays the user's */
}

/* --- clipboard (cliprdr): Unicode text both ways --- */

static UINT clip_send_format_list(Rdp *r)
{
    CLIPRDR_FORMAT fmt = {.formatId = CF_UNICODETEXT};
    CLIPRDR_FORMAT_LIST list = {.msgType = CB_FORMAT_LIST,
                                .numFormats = r->clip_local ? 1 : 0,
                                .formats = &fmt};
    return r->clip->ClientFormatList(r->clip, &list);
}

static UINT clip_monitor_ready(CliprdrClientContext *clip, const CLIPRDR_MONITOR_READY *m)
{
    (void)m;
    Rdp *r = clip->custom;
    CLIPRDR_GENERAL_CAPABILITY_SET general = {
        .capabilitySetType = CB_CAPSTYPE_GENERAL,
        .capabilitySetLength = CB_CAPSTYPE_GENERAL_LEN,
        .version = CB_CAPS_VERSION_2,
        .generalFlags = CB_USE_LONG_FORMAT_NAMES,
    };
    CLIPRDR_CAPABILITIES caps = {.cCapabilitiesSets = 1,
                                 .capabilitySets = (CLIPRDR_CAPABILITY_SET *)&general};
    UINT rc = clip->ClientCapabilities(clip, &caps);
    if (rc != CHANNEL_RC_OK)
        return rc;
    r->clip_ready = true;
    return clip_send_format_list(r);
}

static UINT clip_server_caps(CliprdrClientContext *clip, const CLIPRDR_CAPABILITIES *caps)
{
    (void)clip;
    (void)caps;
    return CHANNEL_RC_OK;
}

static UINT clip_server_format_list(CliprdrClientContext *clip, const CLIPRDR_FORMAT_LIST *list)
{
    CLIPRDR_FORMAT_LIST_RESPONSE resp = {.msgType = CB_FORMAT_LIST_RESPONSE,
                                         .msgFlags = CB_RESPONSE_OK};
    UINT rc = clip->ClientFormatListResponse(clip, &resp);
    if (rc != CHANNEL_RC_OK)
        return rc;
    for (UINT32 i = 0; i < list->numFormats; i++) {
        if (list->formats[i].formatId == CF_UNICODETEXT) {
            CLIPRDR_FORMAT_DATA_REQUEST req = {.msgType = CB_FORMAT_DATA_REQUEST,
                                               .requestedFormatId = CF_UNICODETEXT};
            return clip->ClientFormatDataRequest(clip, &req);
        }
    }
    return CHANNEL_RC_OK;
}

static UINT clip_server_format_list_response(CliprdrClientContext *clip,
                                             const CLIPRDR_FORMAT_LIST_RESPONSE *resp)
{
    (void)clip;
    (void)resp;
    return CHANNEL_RC_OK;
}

static UINT clip_server_data_request(CliprdrClientContext *clip,
                                     const CLIPRDR_FORMAT_DATA_REQUEST *req)
{
    Rdp *r = clip->custom;
    CLIPRDR_FORMAT_DATA_RESPONSE resp = {.msgType = CB_FORMAT_DATA_RESPONSE,
                                         .msgFlags = CB_RESPONSE_FAIL};
    g_autofree gunichar2 *utf16 = NULL;
    glong n = 0;
    if (req->requestedFormatId == CF_UNICODETEXT && r->clip_local) {
        /* Windows text: CRLF line ends, NUL-terminated UTF-16LE. */
        g_auto(GStrv) lines = g_strsplit(r->clip_local, "\n", -1);
        g_autofree char *crlf = g_strjoinv("\r\n", lines);
        utf16 = g_utf8_to_utf16(crlf, -1, NULL, &n, NULL);
        if (utf16) {
            resp.msgFlags = CB_RESPONSE_OK;
            resp.dataLen = (UINT32)((n + 1) * 2);
            resp.requestedFormatData = (const BYTE *)utf16;
        }
    }
    return clip->ClientFormatDataResponse(clip, &resp);
}

static UINT clip_server_data_response(CliprdrClientContext *clip,
                                      const CLIPRDR_FORMAT_DATA_RESPONSE *resp)
{
    Rdp *r = clip->custom;
    if (resp->msgFlags != CB_RESPONSE_OK || resp->dataLen < 2)
        return CHANNEL_RC_OK;
    g_autofree char *text = g_utf16_to_utf8((const gunichar2 *)resp->requestedFormatData,
                                            (glong)(resp->dataLen / 2), NULL, NULL, NULL);
    if (!text)
        return CHANNEL_RC_OK;
    /* Up to the first NUL, with CRLF back to LF. */
    g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
    char *lf = g_strjoinv("\n", lines);
    if (!g_strcmp0(lf, r->clip_remote) || !g_strcmp0(lf, r->clip_local)) {
        g_free(lf);
        return CHANNEL_RC_OK;
    }
    g_free(r->clip_remote);
    r->clip_remote = g_strdup(lf);
    /* The server's clipboard is its own now: the host's earlier text,
     * copied again, is news to it. */
    g_clear_pointer(&r->clip_local, g_free);
    session_post(r->s, SESSION_EV_CLIPBOARD, 0, 0, lf, NULL);
    return CHANNEL_RC_OK;
}

static void clip_set_local(Rdp *r, char *text)
{
    /* The text the server just gave us, coming back from the host clipboard. */
    if (!g_strcmp0(text, r->clip_remote) || !g_strcmp0(text, r->clip_local)) {
        g_free(text);
        return;
    }
    g_free(r->clip_local);
    r->clip_local = text;
    /* The server's clipboard holds ours from now on: its earlier text,
     * copied again on the host, must go back to it. */
    g_clear_pointer(&r->clip_remote, g_free);
    if (r->clip && r->clip_ready)
        clip_send_format_list(r);
}

/* --- dynamic resolution (disp) --- */

static UINT disp_caps(DispClientContext *disp, UINT32 max_monitors, UINT32 a, UINT32 b)
{
    (void)max_monitors;
    (void)a;
    (void)b;
    Rdp *r = disp->custom;
    r->disp_ready = true;
    vd_debug("rdp: the server resizes its desktop on request (display control)");
    return CHANNEL_RC_OK;
}

static void send_resize(Rdp *r)
{
    if (!r->resize_w || !r->disp || !r->disp_ready)
        return;
    gint64 now = g_get_monotonic_time();
    if (now - r->last_resize < RESIZE_INTERVAL_MS * 1000)
        return;
    rdpSettings *st = r->ctx->settings;
    /* Even widths, within what the protocol allows. */
    UINT32 w = (UINT32)CLAMP(r->resize_w, 200, 8192) & ~1u;
    UINT32 h = (UINT32)CLAMP(r->resize_h, 200, 8192);
    unsigned scale = (unsigned)CLAMP(r->resize_scale ? r->resize_scale : 100, 100, 500);
    r->resize_w = r->resize_h = 0;
    if (w == freerdp_settings_get_uint32(st, FreeRDP_DesktopWidth) &&
        h == freerdp_settings_get_uint32(st, FreeRDP_DesktopHeight) &&
        scale == freerdp_settings_get_uint32(st, FreeRDP_DesktopScaleFactor))
        return;
    DISPLAY_CONTROL_MONITOR_LAYOUT layout = {
        .Flags = DISPLAY_CONTROL_MONITOR_PRIMARY,
        .Width = w,
        .Height = h,
        .Orientation = ORIENTATION_LANDSCAPE,
        .DesktopScaleFactor = scale,
        .DeviceScaleFactor = rdp_device_scale(scale),
    };
    /* Physical size in mm at 96 dpi scaled, as Windows expects. */
    layout.PhysicalWidth = (UINT32)(w * 25.4 / 96 * 100 / scale);
    layout.PhysicalHeight = (UINT32)(h * 25.4 / 96 * 100 / scale);
    freerdp_settings_set_uint32(st, FreeRDP_DesktopScaleFactor, scale);
    freerdp_settings_set_uint32(st, FreeRDP_DeviceScaleFactor, rdp_device_scale(scale));
    r->last_resize = now;
    vd_debug("rdp: asking for a %ux%u desktop at %u%%", w, h, scale);
    r->disp->SendMonitorLayout(r->disp, 1, &layout);
}

/* --- channels --- */

static void on_channel_connected(void *data, ChannelConnectedEventArgs *e)
{
    rdpContext *ctx = data;
    Rdp *r = rdp_of(ctx);
    if (!strcmp(e->name, RDPGFX_DVC_CHANNEL_NAME)) {
        gdi_graphics_pipeline_init(ctx->gdi, (RdpgfxClientContext *)e->pInterface);
    } else if (!strcmp(e->name, DISP_DVC_CHANNEL_NAME)) {
        r->disp = e->pInterface;
        r->disp->custom = r;
        r->disp->DisplayControlCaps = disp_caps;
    } else if (!strcmp(e->name, RAIL_SVC_CHANNEL_NAME)) {
        rdp_rail_channel_connected(r, e->pInterface);
    } else if (!strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME)) {
        CliprdrClientContext *clip = e->pInterface;
        r->clip = clip;
        clip->custom = r;
        clip->MonitorReady = clip_monitor_ready;
        clip->ServerCapabilities = clip_server_caps;
        clip->ServerFormatList = clip_server_format_list;
        clip->ServerFormatListResponse = clip_server_format_list_response;
        clip->ServerFormatDataRequest = clip_server_data_request;
        clip->ServerFormatDataResponse = clip_server_data_response;
    }
}

static void on_channel_disconnected(void *data, ChannelDisconnectedEventArgs *e)
{
    rdpContext *ctx = data;
    Rdp *r = rdp_of(ctx);
    if (!strcmp(e->name, RDPGFX_DVC_CHANNEL_NAME)) {
        gdi_graphics_pipeline_uninit(ctx->gdi, (RdpgfxClientContext *)e->pInterface);
    } else if (!strcmp(e->name, DISP_DVC_CHANNEL_NAME)) {
        r->disp = NULL;
        r->disp_ready = false;
    } else if (!strcmp(e->name, RAIL_SVC_CHANNEL_NAME)) {
        rdp_rail_channel_disconnected(r);
    } else if (!strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME)) {
        r->clip = NULL;
        r->clip_ready = false;
    }
}

/* --- connection callbacks --- */

/* A sound server to play to: PulseAudio or PipeWire's pulse socket. */
static bool sound_server_available(void)
{
    if (g_getenv("PULSE_SERVER"))
        return true;
    const char *rt = g_getenv("XDG_RUNTIME_DIR");
    g_autofree char *path = rt ? g_build_filename(rt, "pulse", "native", NULL) : NULL;
    const char *paths[] = {path, "/run/pulse/native"};
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
        if (!paths[i] || strlen(paths[i]) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            continue;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, paths[i]);
        bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (ok)
            return true;
    }
    return false;
}

static BOOL add_channel(rdpSettings *st, bool dynamic, const char *name, const char *arg)
{
    const char *p[] = {name, arg};
    size_t n = arg ? 2 : 1;
    return dynamic ? freerdp_client_add_dynamic_channel(st, n, (char **)p)
                   : freerdp_client_add_static_channel(st, n, (char **)p);
}

static BOOL on_pre_connect(freerdp *instance)
{
    rdpContext *ctx = instance->context;
    Rdp *r = rdp_of(ctx);
    rdpSettings *st = ctx->settings;
    freerdp_settings_set_uint32(st, FreeRDP_OsMajorType, OSMAJORTYPE_UNIX);
    freerdp_settings_set_uint32(st, FreeRDP_OsMinorType, OSMINORTYPE_NATIVE_XSERVER);
    PubSub_SubscribeChannelConnected(ctx->pubSub, on_channel_connected);
    PubSub_SubscribeChannelDisconnected(ctx->pubSub, on_channel_disconnected);
    if (r->target.audio) {
        if (sound_server_available()) {
            freerdp_settings_set_bool(st, FreeRDP_AudioPlayback, TRUE);
            freerdp_settings_set_bool(st, FreeRDP_AudioCapture, TRUE);
            if (!add_channel(st, false, "rdpsnd", "sys:pulse") ||
                !add_channel(st, true, "rdpsnd", "sys:pulse") ||
                !add_channel(st, true, "audin", "sys:pulse"))
                return FALSE;
        } else {
            vd_warn("no sound server (PulseAudio or PipeWire) runs: the RDP session has no sound");
            session_post(r->s, SESSION_EV_STATUS, 0, 0, g_strdup("no sound: no sound server"),
                         NULL);
        }
    }
    for (char **d = r->target.drives; d && *d; d++) {
        const char *eq = strchr(*d, '=');
        g_autofree char *name = g_strndup(*d, (gsize)(eq - *d));
        const char *p[] = {"drive", name, eq + 1};
        freerdp_settings_set_bool(st, FreeRDP_DeviceRedirection, TRUE);
        if (!freerdp_client_add_device_channel(st, 3, (char **)p))
            return FALSE;
    }
    return freerdp_client_load_addins(ctx->channels, st);
}

static BOOL on_post_connect(freerdp *instance)
{
    rdpContext *ctx = instance->context;
    Rdp *r = rdp_of(ctx);
    if (!ctx->gdi && !gdi_init(instance, PIXEL_FORMAT_BGRX32))
        return FALSE;
    VdPointer proto = {.pointer = {.size = sizeof(VdPointer),
                                   .New = pointer_new,
                                   .Free = pointer_free,
                                   .Set = pointer_set,
                                   .SetNull = pointer_set_null,
                                   .SetDefault = pointer_set_default,
                                   .SetPosition = pointer_set_position}};
    graphics_register_pointer(ctx->graphics, &proto.pointer);
    ctx->update->BeginPaint = on_begin_paint;
    ctx->update->EndPaint = on_end_paint;
    ctx->update->DesktopResize = on_desktop_resize;
    ctx->update->SaveSessionInfo = on_save_session_info;
    if (r->target.remote_app)
        rdp_rail_register(r, ctx->update);
    int w = (int)ctx->gdi->width, h = (int)ctx->gdi->height;
    session_fb_resize(r->s, w, h);
    /* The first picture: everything FreeRDP has so far. */
    g_mutex_lock(&r->s->fb.lock);
    for (int y = 0; y < h; y++)
        memcpy((uint8_t *)r->s->fb.pixels + (size_t)y * r->s->fb.stride,
               ctx->gdi->primary_buffer + (size_t)y * ctx->gdi->stride, (size_t)w * 4);
    g_mutex_unlock(&r->s->fb.lock);
    session_post(r->s, r->connected ? SESSION_EV_RESIZED : SESSION_EV_CONNECTED, w, h, NULL,
                 NULL);
    r->connected = true;
    return TRUE;
}

static void on_post_disconnect(freerdp *instance)
{
    rdpContext *ctx = instance->context;
    PubSub_UnsubscribeChannelConnected(ctx->pubSub, on_channel_connected);
    PubSub_UnsubscribeChannelDisconnected(ctx->pubSub, on_channel_disconnected);
    gdi_free(instance);
}

static BOOL on_authenticate(freerdp *instance, char **user, char **password, char **domain)
{
    (void)user;
    (void)password;
    (void)domain;
    /* Never prompt on a terminal: the window or the command says what to do. */
    rdp_of(instance->context)->auth_missing = true;
    return FALSE;
}

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

static int on_logon_error(freerdp *instance, UINT32 data, UINT32 type)
{
    (void)instance;
    vd_debug("rdp: logon info %s [%s]", freerdp_get_logon_error_info_data(data),
             freerdp_get_logon_error_info_type(type));
    return 1;
}

static BOOL client_new(freerdp *instance, rdpContext *ctx)
{
    (void)ctx;
    instance->PreConnect = on_pre_connect;
    instance->PostConnect = on_post_connect;
    instance->PostDisconnect = on_post_disconnect;
    instance->Authenticate = on_authenticate;
    instance->VerifyCertificateEx = on_verify_certificate;
    instance->VerifyChangedCertificateEx = on_verify_changed_certificate;
    instance->LogonErrorInfo = on_logon_error;
    return TRUE;
}

static void client_free(freerdp *instance, rdpContext *ctx)
{
    (void)instance;
    (void)ctx;
}

static void configure(Rdp *r, rdpSettings *st)
{
    const RdpTarget *t = &r->target;
    freerdp_settings_set_string(st, FreeRDP_ServerHostname, t->host);
    freerdp_settings_set_uint32(st, FreeRDP_ServerPort, t->port);
    if (t->username)
        freerdp_settings_set_string(st, FreeRDP_Username, t->username);
    if (t->password)
        freerdp_settings_set_string(st, FreeRDP_Password, t->password);
    if (t->domain)
        freerdp_settings_set_string(st, FreeRDP_Domain, t->domain);
    freerdp_settings_set_uint32(st, FreeRDP_DesktopWidth, (UINT32)(t->width ? t->width : 1024) & ~1u);
    freerdp_settings_set_uint32(st, FreeRDP_DesktopHeight, (UINT32)(t->height ? t->height : 768));
    freerdp_settings_set_uint32(st, FreeRDP_ColorDepth, 32);
    unsigned scale = (unsigned)CLAMP(t->scale_pct ? t->scale_pct : 100, 100, 500);
    freerdp_settings_set_uint32(st, FreeRDP_DesktopScaleFactor, scale);
    freerdp_settings_set_uint32(st, FreeRDP_DeviceScaleFactor, rdp_device_scale(scale));
    freerdp_settings_set_bool(st, FreeRDP_SoftwareGdi, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_SupportGraphicsPipeline, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_GfxH264, FALSE);
    freerdp_settings_set_bool(st, FreeRDP_GfxAVC444, FALSE);
    freerdp_settings_set_bool(st, FreeRDP_SupportDisplayControl, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_DynamicResolutionUpdate, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_RedirectClipboard, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_AutoReconnectionEnabled, t->auto_reconnect);
    freerdp_settings_set_uint32(st, FreeRDP_TcpConnectTimeout, CONNECT_TIMEOUT_MS);
    /* The host's layout: FreeRDP reads it from the X server (xprop), so only
     * where there is one; else US English. */
    freerdp_settings_set_uint32(st, FreeRDP_KeyboardLayout,
                                g_getenv("DISPLAY") ? freerdp_keyboard_init(0)
                                                    : KBD_US);
    freerdp_set_connection_type(st, CONNECTION_TYPE_LAN);
    /* FreeRDP's own certificate store is not consulted (certificates are
     * accepted per session after our pin check); point it at our folder so it
     * never reads another client's trust decisions. */
    g_autofree char *cfg = g_build_filename(g_get_user_data_dir(), "vmdesk", "freerdp", NULL);
    if (vd_mkdir_private(cfg, NULL))
        freerdp_settings_set_string(st, FreeRDP_ConfigPath, cfg);
    if (t->remote_app)
        rdp_rail_configure(r, st);
    if (t->shell)
        freerdp_settings_set_string(st, FreeRDP_AlternateShell, t->shell);
}

/* Why the connection failed, in the user's words. */
static GError *connect_error(Rdp *r)
{
    const RdpTarget *t = &r->target;
    if (r->verify_error)
        return g_steal_pointer(&r->verify_error);
    UINT32 code = freerdp_get_last_error(r->ctx);
    const char *name = freerdp_get_last_error_name(code);
    const char *text = freerdp_get_last_error_string(code);
    if (r->auth_missing)
        return g_error_new(VD_ERROR, VD_ERROR_FAILED,
                           "%s:%u asks for a user name and password before the session (NLA); "
                           "store them with vmdesk credentials",
                           t->host, t->port);
    switch (code) {
    case FREERDP_ERROR_CONNECT_TRANSPORT_FAILED: {
        /* A server that drops the connection during NLA (FreeRDP's own
         * servers do on a wrong password) looks like a transport failure:
         * tell them apart by asking it what it selects. */
        RdpProbeInfo info = {0};
        bool nla = rdp_probe(t->host, t->port, RDP_PROBE_DEFAULT_PROTOCOLS, 1000, &info, NULL) ==
                       RDP_PROBE_READY &&
                   (info.protocol & (RDP_PROTOCOL_HYBRID | RDP_PROTOCOL_HYBRID_EX));
        rdp_probe_info_clear(&info);
        if (nla && t->username)
            return g_error_new(VD_ERROR, VD_ERROR_FAILED,
                               "%s:%u ended the connection during network level authentication "
                               "(NLA): it most likely refused the user name or password for %s",
                               t->host, t->port, t->username);
    }
        /* fall through */
    case FREERDP_ERROR_DNS_ERROR:
    case FREERDP_ERROR_DNS_NAME_NOT_FOUND:
    case FREERDP_ERROR_CONNECT_FAILED:
        return g_error_new(VD_ERROR, VD_ERROR_FAILED, "cannot reach an RDP server at %s:%u (%s)",
                           t->host, t->port, text);
    case FREERDP_ERROR_AUTHENTICATION_FAILED:
    case FREERDP_ERROR_CONNECT_LOGON_FAILURE:
    case FREERDP_ERROR_CONNECT_WRONG_PASSWORD:
    case FREERDP_ERROR_CONNECT_NO_OR_MISSING_CREDENTIALS:
    case FREERDP_ERROR_CONNECT_ACCESS_DENIED:
        return g_error_new(VD_ERROR, VD_ERROR_FAILED,
                           "%s:%u refused the user name or password%s%s (%s)", t->host, t->port,
                           t->username ? " for " : "", t->username ? t->username : "", name);
    default:
        return g_error_new(VD_ERROR, VD_ERROR_FAILED, "RDP connection to %s:%u failed: %s (%s)",
                           t->host, t->port, text, name);
    }
}

static void send_input(Rdp *r, SessionInput *in)
{
    rdpInput *input = r->ctx->input;
    switch (in->type) {
    case SESSION_INPUT_KEY: {
        /* QEMU numbers: 0x80 | code for E0-prefixed keys. */
        DWORD sc = in->qnum & 0x7f;
        if (in->qnum & 0x80)
            sc |= KBDEXT;
        if (in->qnum == 0x1d || in->qnum == 0x9d)
            r->ctrl_down = in->down;
        if (in->qnum == 0xc6 && !r->ctrl_down) {
            /* Pause is E1 1D 45 E1 9D C5, all on the key's press; E0 46 (what
             * QEMU numbers it) is Ctrl+Break. */
            if (in->down)
                freerdp_input_send_keyboard_pause_event(input);
        } else if (in->qnum) {
            freerdp_input_send_keyboard_event_ex(input, in->down, sc);
        }
        break;
    }
    case SESSION_INPUT_POINTER: {
        UINT16 x = (UINT16)CLAMP(in->x, 0, 65535), y = (UINT16)CLAMP(in->y, 0, 65535);
        static const struct {
            unsigned bit;
            UINT16 flag;
        } buttons[] = {{SESSION_BUTTON_LEFT, PTR_FLAGS_BUTTON1},
                       {SESSION_BUTTON_RIGHT, PTR_FLAGS_BUTTON2},
                       {SESSION_BUTTON_MIDDLE, PTR_FLAGS_BUTTON3}};
        unsigned changed = (in->buttons ^ r->buttons) & 7u;
        if (!changed)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_MOVE, x, y);
        for (size_t i = 0; i < G_N_ELEMENTS(buttons); i++)
            if (changed & buttons[i].bit)
                freerdp_input_send_mouse_event(
                    input, buttons[i].flag | ((in->buttons & buttons[i].bit) ? PTR_FLAGS_DOWN : 0),
                    x, y);
        r->buttons = in->buttons & 7u;
        if (in->buttons & SESSION_WHEEL_UP)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_WHEEL | 0x78, x, y);
        if (in->buttons & SESSION_WHEEL_DOWN)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_WHEEL | PTR_FLAGS_WHEEL_NEGATIVE | 0x88,
                                           x, y);
        if (in->buttons & SESSION_WHEEL_RIGHT)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_HWHEEL | 0x78, x, y);
        if (in->buttons & SESSION_WHEEL_LEFT)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_HWHEEL | PTR_FLAGS_WHEEL_NEGATIVE | 0x88,
                                           x, y);
        break;
    }
    case SESSION_INPUT_CLIPBOARD:
        clip_set_local(r, g_steal_pointer(&in->text));
        break;
    case SESSION_INPUT_RESIZE:
        r->resize_w = in->w;
        r->resize_h = in->h;
        r->resize_scale = in->scale;
        break;
    default:
        rdp_rail_input(r, in);
        break;
    }
}

/* client_auto_reconnect_ex asks between attempts whether to go on. */
static BOOL reconnect_continue(freerdp *instance)
{
    return !session_stopping(rdp_of(instance->context)->s);
}

static bool run(Rdp *r, GError **error)
{
    freerdp *instance = r->ctx->instance;
    if (!freerdp_connect(instance)) {
        *error = connect_error(r);
        return false;
    }
    while (!session_stopping(r->s)) {
        HANDLE handles[MAXIMUM_WAIT_OBJECTS];
        DWORD n = freerdp_get_event_handles(r->ctx, handles, MAXIMUM_WAIT_OBJECTS - 1);
        if (!n) {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "FreeRDP has no event handles");
            break;
        }
        handles[n++] = r->wake;
        DWORD timeout = r->resize_w ? RESIZE_INTERVAL_MS : 1000;
        if (WaitForMultipleObjects(n, handles, FALSE, timeout) == WAIT_FAILED) {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "waiting for RDP events failed");
            break;
        }
        session_wake_clear(r->s);
        SessionInput *in;
        while ((in = session_input_pop(r->s))) {
            send_input(r, in);
            session_input_free(in);
        }
        send_resize(r);
        if (session_stopping(r->s))
            break;
        if (!freerdp_check_event_handles(r->ctx) || freerdp_shall_disconnect(instance)) {
            if (r->target.auto_reconnect && !session_stopping(r->s)) {
                session_post(r->s, SESSION_EV_STATUS, 0, 0,
                             g_strdup("connection lost — reconnecting"), NULL);
                if (client_auto_reconnect_ex(instance, reconnect_continue)) {
                    session_post(r->s, SESSION_EV_STATUS, 0, 0, NULL, NULL);
                    continue;
                }
            }
            if (session_stopping(r->s))
                break;
            UINT32 info = freerdp_error_info(instance);
            UINT32 code = freerdp_get_last_error(r->ctx);
            bool logoff = info == ERRINFO_LOGOFF_BY_USER || info == ERRINFO_RPC_INITIATED_LOGOFF;
            if (r->target.shell && (logoff || (!info && (!code || code == FREERDP_ERROR_SUCCESS)))) {
                vd_debug("rdp: the session's program ended");
                break; /* the program exited: that ends its session */
            }
            if (info && !logoff)
                g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "the RDP server ended the session: %s",
                            freerdp_get_error_info_string(info));
            else if (info)
                g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                            "the session ended (logged off on the server)");
            else if (code && code != FREERDP_ERROR_SUCCESS)
                g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "the RDP connection broke: %s",
                            freerdp_get_last_error_string(code));
            else
                g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                            "the RDP server closed the connection");
            break;
        }
    }
    freerdp_disconnect(instance);
    return *error == NULL;
}

/* The session thread: a FreeRDP client for the target, connected and served
 * until it ends or we ask it to. */
static GError *rdp_run(Session *s)
{
    Rdp *r = s->priv;
    GError *err = NULL;
    RDP_CLIENT_ENTRY_POINTS entry = {
        .Version = RDP_CLIENT_INTERFACE_VERSION,
        .Size = sizeof(RDP_CLIENT_ENTRY_POINTS_V1),
        .ContextSize = sizeof(VdContext),
        .ClientNew = client_new,
        .ClientFree = client_free,
    };
    r->ctx = freerdp_client_context_new(&entry);
    if (!r->ctx) {
        g_set_error(&err, VD_ERROR, VD_ERROR_FAILED, "cannot create an RDP client");
    } else {
        ((VdContext *)r->ctx)->rdp = r;
        configure(r, r->ctx->settings);
        run(r, &err);
        freerdp_client_context_free(r->ctx);
        r->ctx = NULL;
    }
    if (session_stopping(s))
        g_clear_error(&err); /* we asked */
    return err;
}

void rdp_session_rail_exec(Session *s, const char *program, const char *args)
{
    session_input_push(s, &(SessionInput){.type = RDP_INPUT_RAIL_EXEC,
                                          .text = g_strdup(program),
                                          .text2 = g_strdup(args)});
}

void rdp_session_rail_command(Session *s, uint32_t id, RdpRailCommand cmd)
{
    session_input_push(s, &(SessionInput){.type = RDP_INPUT_RAIL_COMMAND, .id = id, .qnum = cmd});
}

void rdp_session_rail_move(Session *s, uint32_t id, int x, int y, int w, int h)
{
    session_input_push(s, &(SessionInput){
                              .type = RDP_INPUT_RAIL_MOVE, .id = id, .x = x, .y = y, .w = w, .h = h});
}

void rdp_session_rail_activate(Session *s, uint32_t id, bool active)
{
    session_input_push(
        s, &(SessionInput){.type = RDP_INPUT_RAIL_ACTIVATE, .id = id, .down = active});
}

static void rdp_finish(Session *s)
{
    Rdp *r = s->priv;
    CloseHandle(r->wake);
    rdp_target_clear(&r->target);
    g_free(r->clip_local);
    g_free(r->clip_remote);
    g_clear_error(&r->verify_error);
    rdp_rail_finish(r);
    g_free(r);
}

static const SessionImpl rdp_impl = {
    .protocol = "rdp",
    .can_resize = true,
    .run = rdp_run,
    .finish = rdp_finish,
};

/* FreeRDP logs through WLog to stdout: errors only, unless VMDESK_DEBUG. */
static void quiet_freerdp_logs(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        if (!g_getenv("WLOG_LEVEL"))
            WLog_SetLogLevel(WLog_GetRoot(), g_strcmp0(g_getenv("VMDESK_DEBUG"), "1") ? WLOG_FATAL : WLOG_INFO);
        g_once_init_leave(&once, 1);
    }
}

Session *rdp_session_create(const RdpTarget *target, SessionNotifyFunc notify, void *data)
{
    quiet_freerdp_logs();
    Rdp *r = g_new0(Rdp, 1);
    target_copy(&r->target, target);
    Session *s = session_alloc(&rdp_impl, r, notify, data);
    r->s = s;
    /* The session's wake-up, as a handle FreeRDP's wait takes. */
    r->wake = CreateFileDescriptorEvent(NULL, TRUE, FALSE, session_wake_fd(s), WINPR_FD_READ);
    return s;
}
