/* A confined RDP session (session/helper/helper.h): FreeRDP runs in
 * `vmdesk-session-helper rdp`, on the socket the window connected; the
 * window judges and pins the server's certificate. Both sides are here: the
 * window's (the target as the helper's settings, the connection, the
 * certificate) and the helper's (rdp_helper_main). */
#include "session/rdp/rdp_session_priv.h"

#include "common/error.h"
#include "common/log.h"
#include "session/helper/helper.h"
#include "session/rdp/rdp_sound_relay.h"

#include <winpr/wlog.h>

#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_S 10

/* --- the target as the helper's settings (a{sv}; the password travels
 * apart) --- */

static GBytes *encode_target(const RdpTarget *t)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "host", g_variant_new_string(t->host));
    g_variant_builder_add(&b, "{sv}", "port", g_variant_new_uint32(t->port));
    if (t->username)
        g_variant_builder_add(&b, "{sv}", "username", g_variant_new_string(t->username));
    if (t->domain)
        g_variant_builder_add(&b, "{sv}", "domain", g_variant_new_string(t->domain));
    if (t->shell)
        g_variant_builder_add(&b, "{sv}", "shell", g_variant_new_string(t->shell));
    if (t->remote_app)
        g_variant_builder_add(&b, "{sv}", "remote-app", g_variant_new_string(t->remote_app));
    if (t->remote_app_args)
        g_variant_builder_add(&b, "{sv}", "remote-app-args",
                              g_variant_new_string(t->remote_app_args));
    g_variant_builder_add(&b, "{sv}", "audio", g_variant_new_boolean(t->audio));
    g_variant_builder_add(&b, "{sv}", "width", g_variant_new_int32(t->width));
    g_variant_builder_add(&b, "{sv}", "height", g_variant_new_int32(t->height));
    g_variant_builder_add(&b, "{sv}", "scale", g_variant_new_int32(t->scale_pct));
    g_variant_builder_add(&b, "{sv}", "keyboard",
                          g_variant_new_uint32(t->keyboard_layout ? t->keyboard_layout
                                                                  : rdp_keyboard_layout()));
    if (t->drives)
        g_variant_builder_add(&b, "{sv}", "drives",
                              g_variant_new_strv((const char *const *)t->drives, -1));
    int n = CLAMP(t->n_monitors, 0, RDP_MONITORS_MAX);
    g_variant_builder_add(&b, "{sv}", "monitors",
                          g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, t->monitors,
                                                    (gsize)n * sizeof(RdpMonitor), 1));
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_builder_end(&b));
    return g_variant_get_data_as_bytes(v);
}

/* The window's settings (the helper trusts its window). */
static void decode_target(GBytes *options, RdpTarget *t)
{
    g_autoptr(GVariant) v =
        g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE_VARDICT, options, FALSE));
    g_variant_lookup(v, "host", "s", &t->host);
    g_variant_lookup(v, "port", "u", &t->port);
    g_variant_lookup(v, "username", "s", &t->username);
    g_variant_lookup(v, "domain", "s", &t->domain);
    g_variant_lookup(v, "shell", "s", &t->shell);
    g_variant_lookup(v, "remote-app", "s", &t->remote_app);
    g_variant_lookup(v, "remote-app-args", "s", &t->remote_app_args);
    gboolean audio = FALSE;
    g_variant_lookup(v, "audio", "b", &audio);
    t->audio = audio;
    g_variant_lookup(v, "width", "i", &t->width);
    g_variant_lookup(v, "height", "i", &t->height);
    g_variant_lookup(v, "scale", "i", &t->scale_pct);
    g_variant_lookup(v, "keyboard", "u", &t->keyboard_layout);
    g_variant_lookup(v, "drives", "^as", &t->drives);
    g_autoptr(GVariant) mons = g_variant_lookup_value(v, "monitors", G_VARIANT_TYPE_BYTESTRING);
    gsize len = 0;
    const void *m = mons ? g_variant_get_fixed_array(mons, &len, 1) : NULL;
    t->n_monitors = (int)MIN(len / sizeof(RdpMonitor), RDP_MONITORS_MAX);
    if (t->n_monitors > 0)
        memcpy(t->monitors, m, (size_t)t->n_monitors * sizeof(RdpMonitor));
}

/* --- the window's side --- */

static int connect_server(void *data, GError **error)
{
    return rdp_target_connect(data, CONNECT_TIMEOUT_S, error);
}

/* FreeRDP's fingerprint of a PEM certificate (SHA-256 of its DER, hex pairs
 * with colons), computed here: the window parses no X.509 from the helper.
 * NULL when @pem holds no certificate. */
static char *pem_fingerprint(const char *pem)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    const char *b = strstr(pem, begin);
    const char *e = b ? strstr(b, end) : NULL;
    if (!e)
        return NULL;
    g_autofree char *body = g_strndup(b + strlen(begin), (gsize)(e - b - strlen(begin)));
    gsize n = 0;
    g_autofree guchar *der = g_base64_decode(g_strstrip(body), &n);
    if (n == 0)
        return NULL;
    guint8 sum[32];
    gsize sum_len = sizeof(sum);
    g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(c, der, n);
    g_checksum_get_digest(c, sum, &sum_len);
    GString *s = g_string_new(NULL);
    for (gsize i = 0; i < sum_len; i++)
        g_string_append_printf(s, "%s%02x", i ? ":" : "", sum[i]);
    return g_string_free(s, FALSE);
}

static bool check_cert(void *data, const char *host, unsigned port, const char *subject,
                       const char *pem, GError **error)
{
    const RdpTarget *t = data;
    g_autofree char *fingerprint = pem_fingerprint(pem);
    if (!fingerprint) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "%s:%u sent a certificate that cannot be read", t->host, t->port);
        return false;
    }
    (void)host; /* the helper's word; the pin is for the host we connected */
    (void)port;
    bool ok = rdp_cert_check_pin(t, t->host, t->port, subject, fingerprint, error);
    if (ok)
        vd_debug("rdp: %s:%u's certificate is the pinned one", t->host, t->port);
    return ok;
}

/* RemoteApp's launches and window commands (rdp_session_rail_*) as the
 * helper's messages; rail_input reads them there. */
static bool encode_input(const SessionInput *in, GByteArray *b)
{
    switch (in->type) {
    case RDP_INPUT_RAIL_EXEC:
        helper_msg_begin(b, HELPER_MSG_RAIL_EXEC);
        helper_put_str(b, in->text);
        helper_put_str(b, in->text2);
        return true;
    case RDP_INPUT_RAIL_COMMAND:
        helper_msg_begin(b, HELPER_MSG_RAIL_COMMAND);
        helper_put_u32(b, in->id);
        helper_put_u32(b, in->qnum);
        return true;
    case RDP_INPUT_RAIL_MOVE:
        helper_msg_begin(b, HELPER_MSG_RAIL_MOVE);
        helper_put_u32(b, in->id);
        helper_put_i32(b, in->x);
        helper_put_i32(b, in->y);
        helper_put_i32(b, in->w);
        helper_put_i32(b, in->h);
        return true;
    case RDP_INPUT_RAIL_ACTIVATE:
        helper_msg_begin(b, HELPER_MSG_RAIL_ACTIVATE);
        helper_put_u32(b, in->id);
        helper_put_u8(b, in->down);
        return true;
    default:
        return false;
    }
}

static void free_target(void *data)
{
    rdp_target_clear(data);
    g_free(data);
}

Session *rdp_helper_session_create(const RdpTarget *target, SessionNotifyFunc notify, void *data)
{
    RdpTarget *t = g_new0(RdpTarget, 1);
    rdp_target_copy(t, target);
    /* The window plays and records the helper's sound (rdp_sound_relay.c). */
    if (t->audio && !rdp_sound_server_available()) {
        vd_warn("no sound server (PulseAudio or PipeWire) runs: the RDP session has no sound");
        t->audio = false;
    }
    g_autofree char *where = g_strdup_printf("%s:%u", t->host, t->port);
    /* The server's copied files come to the window as messages; it stages
     * them itself (helper_window_clip.c): the helper writes no file but in
     * the shares. */
    g_autoptr(GBytes) options = encode_target(t);
    HelperSpec spec = {.protocol = "rdp",
                       .where = where,
                       .password = t->password,
                       .options = options,
                       .connect = connect_server,
                       .check_cert = check_cert,
                       .connect_data = t,
                       .free_connect_data = free_target,
                       .sound = t->audio,
                       .encode_input = encode_input};
    return helper_session_create(&spec, notify, data);
}

/* --- the helper's side --- */

/* The window's RemoteApp messages (encode_input's), for the local session. */
static void rail_input(Session *s, const HelperMsg *m)
{
    HelperReader rd;
    helper_reader_init(&rd, m->payload, m->len);
    uint32_t id;
    switch (m->type) {
    case HELPER_MSG_RAIL_EXEC: {
        g_autofree char *program = helper_get_str(&rd, HELPER_MSG_MAX);
        g_autofree char *args = helper_get_str(&rd, HELPER_MSG_MAX);
        if (program && helper_reader_done(&rd))
            rdp_session_rail_exec(s, program, args);
        break;
    }
    case HELPER_MSG_RAIL_COMMAND: {
        id = helper_get_u32(&rd);
        uint32_t cmd = helper_get_u32(&rd);
        if (helper_reader_done(&rd))
            rdp_session_rail_command(s, id, (RdpRailCommand)cmd);
        break;
    }
    case HELPER_MSG_RAIL_MOVE: {
        id = helper_get_u32(&rd);
        int x = helper_get_i32(&rd), y = helper_get_i32(&rd);
        int w = helper_get_i32(&rd), h = helper_get_i32(&rd);
        if (helper_reader_done(&rd))
            rdp_session_rail_move(s, id, x, y, w, h);
        break;
    }
    case HELPER_MSG_RAIL_ACTIVATE: {
        id = helper_get_u32(&rd);
        bool active = helper_get_u8(&rd);
        if (helper_reader_done(&rd))
            rdp_session_rail_activate(s, id, active);
        break;
    }
    default:
        break;
    }
}

int rdp_helper_main(void)
{
    HelperConfig cfg;
    g_autoptr(GError) err = NULL;
    /* OpenSSL's configuration (NLA's providers) and nothing else of /etc. */
    static const char *const read_only[] = {"/etc/ssl", NULL};
    RdpTarget t = {0};
    bool ok = helper_begin_read(&cfg, &err);
    if (ok)
        decode_target(cfg.options, &t);
    /* Read-write: the shares (drives), nothing else. */
    g_autoptr(GPtrArray) rw = g_ptr_array_new_with_free_func(g_free);
    for (char **d = t.drives; d && *d; d++)
        if (strchr(*d, '='))
            g_ptr_array_add(rw, g_strdup(strchr(*d, '=') + 1));
    g_ptr_array_add(rw, NULL);
    if (!ok || !helper_confine(read_only, (const char *const *)rw->pdata, &err)) {
        vd_err("RDP session helper: %s", err->message);
        helper_config_clear(&cfg);
        rdp_target_clear(&t);
        return 1;
    }
    helper_set_input_hook(rail_input);
    /* FreeRDP's client settings want a home; the helper has none to reach
     * (Debian's name for no home, before any thread). */
    g_setenv("HOME", "/nonexistent", TRUE);
    /* FreeRDP's log (WLog) writes its debug levels to stdout, which is
     * /dev/null here: all of it goes to stderr, the window's. */
    wLogAppender *log = WLog_GetLogAppender(WLog_GetRoot());
    if (log)
        WLog_ConfigureAppender(log, "outputstream", "stderr");
    t.password = g_steal_pointer(&cfg.password);
    helper_config_clear(&cfg);
    if (!t.host) {
        vd_err("RDP session helper: no server in the window's settings");
        return 1;
    }
    Session *s = rdp_session_create_local(&t, HELPER_FD_SERVER, helper_session_notify, NULL);
    rdp_target_clear(&t);
    Rdp *r = s->priv;
    r->clip_read = helper_clip_read;
    r->clip_sink = &helper_clip_sink;
    if (!session_connect(s, &err)) {
        vd_err("RDP session helper: %s", err->message);
        session_destroy(s);
        return 1;
    }
    return helper_serve(s);
}
