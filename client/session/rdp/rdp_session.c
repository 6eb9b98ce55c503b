/* The RDP session (FreeRDP 3): its thread and the connection. The settings
 * made from the target, FreeRDP's connection callbacks, the channels (routed
 * to the files of their concern), sound and drives, the errors in the user's
 * words, and the loop that serves the connection: FreeRDP's events, the
 * session's inputs, reconnecting. The other concerns are files of their own
 * (rdp_session_priv.h has the map). */
#include "session/rdp/rdp_session_priv.h"

#include "common/error.h"
#include "common/log.h"
#include "common/nla_crypto.h"
#include "common/paths.h"
#include "session/rdp/rdp_probe.h"
#include "session/rdp/rdp_sound_relay.h"
#include "session/session_words.h"

#include <freerdp/channels/channels.h>
#include <freerdp/client/channels.h>
#include <freerdp/client/cmdline.h>
#include <freerdp/client/rdpgfx.h>
#include <freerdp/event.h>
#include <freerdp/locale/keyboard.h>
#include <freerdp/primitives.h>
#include <freerdp/settings.h>
#include <freerdp/transport_io.h>
#include <winpr/synch.h>
#include <winpr/wlog.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000

/* --- channels --- */

/* FreeRDP's client code takes the channels it knows (the graphics pipeline
 * into the GDI); ours go to the files of their concern. */
static void on_channel_connected(void *data, const ChannelConnectedEventArgs *e)
{
    rdpContext *ctx = data;
    Rdp *r = rdp_of(ctx);
    freerdp_client_OnChannelConnectedEventHandler(data, e);
    if (!strcmp(e->name, DISP_DVC_CHANNEL_NAME))
        rdp_display_connected(r, e->pInterface);
    else if (!strcmp(e->name, RAIL_SVC_CHANNEL_NAME))
        rdp_rail_channel_connected(r, e->pInterface);
    else if (!strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME))
        rdp_clipboard_connected(r, e->pInterface);
}

static void on_channel_disconnected(void *data, const ChannelDisconnectedEventArgs *e)
{
    rdpContext *ctx = data;
    Rdp *r = rdp_of(ctx);
    freerdp_client_OnChannelDisconnectedEventHandler(data, e);
    if (!strcmp(e->name, DISP_DVC_CHANNEL_NAME))
        rdp_display_disconnected(r);
    else if (!strcmp(e->name, RAIL_SVC_CHANNEL_NAME))
        rdp_rail_channel_disconnected(r);
    else if (!strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME))
        rdp_clipboard_disconnected(r);
}

/* --- connection callbacks --- */

static BOOL add_channel(rdpSettings *st, bool dynamic, const char *name, const char *arg)
{
    const char *const p[] = {name, arg};
    size_t n = arg ? 2 : 1;
    return dynamic ? freerdp_client_add_dynamic_channel(st, n, p)
                   : freerdp_client_add_static_channel(st, n, p);
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
        /* Confined, the window plays and records (it checked for a sound
         * server before it started the helper, which cannot connect). */
        bool relayed = r->server_fd != RDP_CONNECT_HERE;
        const char *device = relayed ? RDP_SOUND_RELAY_DEVICE : "sys:pulse";
        if (relayed)
            rdp_sound_relay_register();
        if (relayed || rdp_sound_server_available()) {
            freerdp_settings_set_bool(st, FreeRDP_AudioPlayback, TRUE);
            freerdp_settings_set_bool(st, FreeRDP_AudioCapture, TRUE);
            if (!add_channel(st, false, "rdpsnd", device) ||
                !add_channel(st, true, "rdpsnd", device) || !add_channel(st, true, "audin", device))
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
        const char *const p[] = {"drive", name, eq + 1};
        freerdp_settings_set_bool(st, FreeRDP_DeviceRedirection, TRUE);
        if (!freerdp_client_add_device_channel(st, 3, p))
            return FALSE;
    }
    /* FreeRDP loads the channels named here after PreConnect (LoadChannels). */
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

static BOOL on_post_connect(freerdp *instance)
{
    rdpContext *ctx = instance->context;
    Rdp *r = rdp_of(ctx);
    int w, h;
    if (!rdp_picture_start(r, &w, &h))
        return FALSE;
    rdp_pointer_register(r);
    ctx->update->SaveSessionInfo = on_save_session_info;
    if (r->target.remote_app)
        rdp_rail_register(r, ctx->update);
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
    rdp_picture_stop(rdp_of(ctx));
}

/* FreeRDP asks before every TLS or standard RDP security connection, and
 * before NLA when it lacks a user name or password. Never prompt on a
 * terminal: without NLA the server asks (xrdp shows its login); NLA without
 * credentials ends here, and the window or the command says what to do. */
static BOOL on_authenticate(freerdp *instance, char **user, char **password, char **domain,
                            rdp_auth_reason reason)
{
    (void)user;
    (void)password;
    (void)domain;
    if (reason == AUTH_TLS || reason == AUTH_RDP)
        return TRUE;
    rdp_of(instance->context)->auth_missing = true;
    return FALSE;
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
    instance->Authenticate = NULL;
    instance->AuthenticateEx = on_authenticate;
    /* FreeRDP's terminal defaults, which would prompt or block: not ours. */
    instance->GatewayAuthenticate = NULL;
    instance->ChooseSmartcard = NULL;
    instance->PresentGatewayMessage = NULL;
    instance->GetAccessToken = NULL;
    instance->RetryDialog = NULL;
    rdp_cert_register(instance);
    instance->LogonErrorInfo = on_logon_error;
    return TRUE;
}

static void client_free(freerdp *instance, rdpContext *ctx)
{
    (void)instance;
    (void)ctx;
}

/* FreeRDP's TCP connect, confined: the socket the window connected, once
 * (a reconnection or a redirection would need a new one, which the helper
 * cannot make). */
static int connect_given(rdpContext *ctx, rdpSettings *st, const char *host, int port,
                         DWORD timeout)
{
    (void)st;
    (void)host;
    (void)port;
    (void)timeout;
    Rdp *r = rdp_of(ctx);
    int fd = r->server_fd;
    r->server_fd = -1;
    if (fd < 0)
        freerdp_set_last_error_if_not(ctx, FREERDP_ERROR_CONNECT_FAILED);
    return fd;
}

/* FreeRDP's TCP connect through the target's tunnel (ssh -W): a new one
 * each time, a reconnection's too. */
static int connect_tunnel(rdpContext *ctx, rdpSettings *st, const char *host, int port,
                          DWORD timeout)
{
    (void)st;
    (void)host;
    (void)port;
    (void)timeout;
    GError *e = NULL;
    int fd = rdp_target_connect(&rdp_of(ctx)->target, 0, &e);
    if (fd < 0) {
        vd_warn("%s", e->message);
        g_error_free(e);
        freerdp_set_last_error_if_not(ctx, FREERDP_ERROR_CONNECT_FAILED);
    }
    return fd;
}

static void configure_confined(Rdp *r)
{
    rdpTransportIo io = *freerdp_get_io_callbacks(r->ctx);
    io.TCPConnect = connect_given;
    freerdp_set_io_callbacks(r->ctx, &io);
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
    unsigned scale = rdp_desktop_scale(t->scale_pct);
    freerdp_settings_set_uint32(st, FreeRDP_DesktopScaleFactor, scale);
    freerdp_settings_set_uint32(st, FreeRDP_DeviceScaleFactor, rdp_device_scale(scale));
    rdp_display_configure(r, st);
    freerdp_settings_set_bool(st, FreeRDP_SoftwareGdi, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_SupportGraphicsPipeline, TRUE);
    rdp_codec_configure(r, st);
    freerdp_settings_set_bool(st, FreeRDP_SupportDisplayControl, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_DynamicResolutionUpdate, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_RedirectClipboard, TRUE);
    freerdp_settings_set_bool(st, FreeRDP_AutoReconnectionEnabled,
                              t->auto_reconnect && r->server_fd == RDP_CONNECT_HERE);
    freerdp_settings_set_uint32(st, FreeRDP_TcpConnectTimeout, CONNECT_TIMEOUT_MS);
    /* The host's layout: FreeRDP reads it from the X server (xprop), so only
     * where there is one; else US English. */
    freerdp_settings_set_uint32(st, FreeRDP_KeyboardLayout,
                                t->keyboard_layout ? t->keyboard_layout : rdp_keyboard_layout());
    freerdp_set_connection_type(st, CONNECTION_TYPE_LAN);
    /* TLS or NLA only: legacy RDP security has no certificate for the pin
     * to check, so a man in the middle could offer it instead of TLS. */
    freerdp_settings_set_bool(st, FreeRDP_RdpSecurity, FALSE);
    if (t->remote_app)
        rdp_rail_configure(r, st);
    if (t->shell)
        freerdp_settings_set_string(st, FreeRDP_AlternateShell, t->shell);
    if (r->server_fd != RDP_CONNECT_HERE) {
        configure_confined(r); /* no store, no folder: the window pins */
        return;
    }
    if (t->tunnel) {
        rdpTransportIo io = *freerdp_get_io_callbacks(r->ctx);
        io.TCPConnect = connect_tunnel;
        freerdp_set_io_callbacks(r->ctx, &io);
    }
    /* FreeRDP's own certificate store is not consulted (certificates are
     * accepted per session after our pin check); point it at our folder so it
     * never reads another client's trust decisions. */
    g_autofree char *cfg = g_build_filename(g_get_user_data_dir(), "vmdesk", "freerdp", NULL);
    if (vd_mkdir_private(cfg, NULL))
        freerdp_settings_set_string(st, FreeRDP_ConfigPath, cfg);
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
    if (r->auth_missing) {
        GError *e = NULL;
        vd_error_set_worded(&e, VD_ERROR_FAILED, NULL,
                            session_words_plain(SESSION_WORDS_RDP_CREDENTIALS),
                            "%s:%u asks for a user name and password before the session (NLA); "
                            "store them with vmdesk credentials",
                            t->host, t->port);
        return e;
    }
    switch (code) {
    case FREERDP_ERROR_CONNECT_TRANSPORT_FAILED: {
        if (r->server_fd != RDP_CONNECT_HERE) /* the helper makes no socket to probe with */
            return g_error_new(VD_ERROR, VD_ERROR_FAILED,
                               "%s:%u ended the connection during the handshake (%s)%s", t->host,
                               t->port, text,
                               t->username ? "; a refused user name or password ends NLA so" : "");

        /* A server that drops the connection during NLA (FreeRDP's own
         * servers do on a wrong password) looks like a transport failure:
         * tell them apart by asking it what it selects. */
        RdpProbeInfo info = {0};
        bool nla = rdp_target_probe(t, 1000, &info) == RDP_PROBE_READY &&
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

/* --- the session thread --- */

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
        DWORD timeout = rdp_display_wait_ms(r);
        if (WaitForMultipleObjects(n, handles, FALSE, timeout) == WAIT_FAILED) {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "waiting for RDP events failed");
            break;
        }
        session_wake_clear(r->s);
        rdp_input_flush(r);
        rdp_display_send(r);
        if (session_stopping(r->s))
            break;
        if (!freerdp_check_event_handles(r->ctx) || freerdp_shall_disconnect_context(r->ctx)) {
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

static void rdp_finish(Session *s)
{
    Rdp *r = s->priv;
    CloseHandle(r->wake);
    rdp_target_clear(&r->target);
    rdp_clipboard_finish(r);
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

/* Once per process, before the first client: OpenSSL's providers for NLA,
 * FreeRDP's pixel routines, and FreeRDP's log (WLog, to stdout) to errors
 * only, unless VMDESK_DEBUG. */
static void rdp_process_init(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        g_autoptr(GError) err = NULL;
        if (!nla_crypto_load(&err))
            vd_warn("%s", err->message);
        /* Left to itself, FreeRDP 3 times its generic and its CPU-optimised
         * (SSE/AVX/NEON) colour conversions against each other before the
         * first picture: 150 ms of CPU each, over a second on a busy host.
         * Without OpenCL (Debian builds none) the optimised ones win; take
         * them at once. */
        primitives_set_hints(PRIMITIVES_ONLY_CPU);
        if (!g_getenv("WLOG_LEVEL"))
            WLog_SetLogLevel(WLog_GetRoot(), g_strcmp0(g_getenv("VMDESK_DEBUG"), "1") ? WLOG_FATAL : WLOG_INFO);
        g_once_init_leave(&once, 1);
    }
}

unsigned rdp_keyboard_layout(void)
{
    return g_getenv("DISPLAY") ? freerdp_keyboard_init(0) : KBD_US;
}

Session *rdp_session_create_local(const RdpTarget *target, int fd, SessionNotifyFunc notify,
                                  void *data)
{
    rdp_process_init();
    Rdp *r = g_new0(Rdp, 1);
    r->clip_src_fd = -1; /* the clipboard reads no host file yet */
    r->server_fd = fd;
    rdp_target_copy(&r->target, target);
    Session *s = session_alloc(&rdp_impl, r, notify, data);
    s->fb_shared = fd != RDP_CONNECT_HERE;
    r->s = s;
    /* The session's wake-up, as a handle FreeRDP's wait takes. */
    r->wake = CreateFileDescriptorEvent(NULL, TRUE, FALSE, session_wake_fd(s), WINPR_FD_READ);
    return s;
}

Session *rdp_session_create(const RdpTarget *target, SessionNotifyFunc notify, void *data)
{
    if (target->confined)
        return rdp_helper_session_create(target, notify, data);
    return rdp_session_create_local(target, RDP_CONNECT_HERE, notify, data);
}
