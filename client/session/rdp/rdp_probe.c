#include "session/rdp/rdp_probe_priv.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "common/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* X.224 TPDU codes (ITU-T X.224 13.3), the high nibble of the second byte. */
#define X224_CONNECTION_REQUEST 0xE0
#define X224_CONNECTION_CONFIRM 0xD0
#define X224_DISCONNECT_REQUEST 0x80
/* RDP negotiation message types (MS-RDPBCGR 2.2.1.1.1, 2.2.1.2.1, 2.2.1.2.2). */
#define RDP_NEG_REQ 0x01
#define RDP_NEG_RSP 0x02
#define RDP_NEG_FAILURE 0x03

/* TPKT header (RFC 1006): version 3, reserved, big-endian total length. */
#define TPKT_HEADER_LEN 4
/* X.224 Connection Confirm without variable part: LI, code, dst-ref(2), src-ref(2), class. */
#define X224_CC_LEN 7
#define RDP_NEG_LEN 8

void rdp_probe_info_clear(RdpProbeInfo *info)
{
    if (!info)
        return;
    g_free(info->address);
    g_free(info->detail);
    memset(info, 0, sizeof(*info));
}

const char *rdp_probe_result_to_string(RdpProbeResult result)
{
    switch (result) {
    case RDP_PROBE_READY:
        return "ready";
    case RDP_PROBE_NO_SERVICE:
        return "no-service";
    case RDP_PROBE_NOT_RDP:
        return "not-rdp";
    case RDP_PROBE_REFUSED:
        return "refused";
    case RDP_PROBE_TIMEOUT:
        return "timeout";
    case RDP_PROBE_ERROR:
        break;
    }
    return "error";
}

static const struct {
    unsigned flag;
    const char *id;
    const char *name;
} protocols[] = {
    {RDP_PROTOCOL_RDP, "rdp", "standard RDP"},
    {RDP_PROTOCOL_SSL, "tls", "TLS"},
    {RDP_PROTOCOL_HYBRID, "nla", "NLA (CredSSP)"},
    {RDP_PROTOCOL_RDSTLS, "rdstls", "RDSTLS"},
    {RDP_PROTOCOL_HYBRID_EX, "nla-ex", "NLA (CredSSP, HYBRID_EX)"},
    {RDP_PROTOCOL_RDSAAD, "aad", "RDS AAD"},
};

const char *rdp_probe_protocol_name(unsigned protocol)
{
    for (size_t i = 0; i < G_N_ELEMENTS(protocols); i++)
        if (protocols[i].flag == protocol)
            return protocols[i].name;
    static GPrivate buf = G_PRIVATE_INIT(g_free);
    char *s = g_strdup_printf("protocol 0x%x", protocol);
    g_private_replace(&buf, s);
    return s;
}

const char *rdp_probe_protocol_id(unsigned protocol)
{
    for (size_t i = 0; i < G_N_ELEMENTS(protocols); i++)
        if (protocols[i].flag == protocol)
            return protocols[i].id;
    return NULL;
}

bool rdp_probe_protocols_parse(const char *text, unsigned *out, GError **error)
{
    g_auto(GStrv) words = g_strsplit(text, ",", -1);
    unsigned flags = 0;
    for (char **w = words; *w; w++) {
        g_strstrip(*w);
        size_t i = 0;
        while (i < G_N_ELEMENTS(protocols) && g_ascii_strcasecmp(*w, protocols[i].id))
            i++;
        if (i == G_N_ELEMENTS(protocols)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "unknown RDP security protocol \"%s\" (use rdp, tls, nla, nla-ex, "
                        "rdstls or aad, separated by commas)",
                        *w);
            return false;
        }
        flags |= protocols[i].flag;
    }
    *out = flags;
    return true;
}

char *rdp_probe_failure_sentence(unsigned code)
{
    switch (code) {
    case RDP_NEG_FAILURE_SSL_REQUIRED_BY_SERVER:
        return g_strdup("the server requires TLS");
    case RDP_NEG_FAILURE_SSL_NOT_ALLOWED_BY_SERVER:
        return g_strdup("the server allows only standard RDP security, not TLS or NLA");
    case RDP_NEG_FAILURE_SSL_CERT_NOT_ON_SERVER:
        return g_strdup("the server has no certificate for TLS");
    case RDP_NEG_FAILURE_INCONSISTENT_FLAGS:
        return g_strdup("the server found the requested security protocols inconsistent");
    case RDP_NEG_FAILURE_HYBRID_REQUIRED_BY_SERVER:
        return g_strdup("the server requires Network Level Authentication (CredSSP)");
    case RDP_NEG_FAILURE_SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER:
        return g_strdup("the server requires TLS with a client certificate");
    }
    return g_strdup_printf("the server refused the connection (negotiation failure code %u)",
                           code);
}

void rdp_probe_build_request(unsigned protocols_wanted, guint8 out[RDP_PROBE_REQUEST_LEN])
{
    const guint8 req[RDP_PROBE_REQUEST_LEN] = {
        /* TPKT */
        3, 0, 0, RDP_PROBE_REQUEST_LEN,
        /* X.224 CR: length indicator (the header less this byte), code,
         * dst-ref, src-ref, class 0. No cookie: it names a user. */
        RDP_PROBE_REQUEST_LEN - TPKT_HEADER_LEN - 1, X224_CONNECTION_REQUEST, 0, 0, 0, 0, 0,
        /* RDP_NEG_REQ: type, flags, length (LE), requestedProtocols (LE) */
        RDP_NEG_REQ, 0, RDP_NEG_LEN, 0,
        (guint8)protocols_wanted, (guint8)(protocols_wanted >> 8),
        (guint8)(protocols_wanted >> 16), (guint8)(protocols_wanted >> 24),
    };
    memcpy(out, req, sizeof(req));
}

/* --- describing an answer that is not RDP --- */

static const struct {
    const char *prefix;
    size_t len;
    const char *what;
} known_services[] = {
    {"SSH-", 4, "an SSH server"},
    {"HTTP/", 5, "a web server"},
    {"RFB ", 4, "a VNC server"},
    {"\x15\x03", 2, "a TLS server"}, /* an alert record */
    {"\x16\x03", 2, "a TLS server"}, /* a handshake record */
    {"220", 3, "an FTP or mail server"},
};

/* The first line of @d if it is printable ASCII, else NULL. */
static char *first_text_line(const guint8 *d, size_t len)
{
    size_t n = 0;
    while (n < len && n < RDP_PROBE_SHOW_MAX && d[n] != '\r' && d[n] != '\n') {
        if ((d[n] < 0x20 || d[n] > 0x7e) && d[n] != '\t')
            return NULL;
        n++;
    }
    if (n == 0)
        return NULL;
    GString *s = g_string_new_len((const char *)d, (gssize)n);
    if (n < len && d[n] != '\r' && d[n] != '\n')
        g_string_append(s, "...");
    return g_string_free(s, FALSE);
}

static char *describe_not_rdp(const guint8 *d, size_t len)
{
    const char *what = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(known_services) && !what; i++)
        if (len >= known_services[i].len && !memcmp(d, known_services[i].prefix,
                                                     known_services[i].len))
            what = known_services[i].what;
    g_autofree char *text = first_text_line(d, len);
    GString *s = g_string_new(NULL);
    if (text) {
        g_autofree char *q = g_strescape(text, NULL);
        g_string_printf(s, "another service answered: \"%s\"", q);
    } else {
        g_string_printf(s, "the answer is not RDP: %zu byte%s", len, len == 1 ? "" : "s");
        for (size_t i = 0; i < len && i < 16; i++)
            g_string_append_printf(s, " %02x", d[i]);
        if (len > 16)
            g_string_append(s, " ...");
    }
    if (what)
        g_string_append_printf(s, " (%s)", what);
    return g_string_free(s, FALSE);
}

/* --- classifying the answer --- */

static bool decide(RdpProbeInfo *info, RdpProbeResult result, char *detail)
{
    info->result = result;
    g_free(info->detail);
    info->detail = detail;
    return true;
}

static bool not_rdp(RdpProbeInfo *info, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool not_rdp(RdpProbeInfo *info, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return decide(info, RDP_PROBE_NOT_RDP, why);
}

static guint32 le32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

bool rdp_probe_classify(const guint8 *d, size_t len, unsigned requested, bool closed,
                        bool reset, size_t *want, RdpProbeInfo *info)
{
    info->negotiated = false;
    info->protocol = RDP_PROTOCOL_RDP;
    info->server_flags = 0;
    info->failure_code = 0;
    if (len == 0 && closed)
        return decide(info, RDP_PROBE_NO_SERVICE,
                      g_strdup(reset ? "the connection was reset without an answer"
                                     : "the connection was closed without an answer"));
    if ((len >= 1 && d[0] != 3) || (len >= 2 && d[1] != 0))
        return decide(info, RDP_PROBE_NOT_RDP, describe_not_rdp(d, len));
    if (len < TPKT_HEADER_LEN) {
        if (closed)
            return not_rdp(info, "the server %s the connection in the middle of its answer "
                           "(%zu bytes)", reset ? "reset" : "closed", len);
        *want = TPKT_HEADER_LEN;
        return false;
    }
    size_t tpkt = (size_t)d[2] << 8 | d[3];
    if (tpkt < TPKT_HEADER_LEN + X224_CC_LEN)
        return not_rdp(info, "the answer is a TPKT packet of %zu bytes, too short for an X.224 "
                       "Connection Confirm", tpkt);
    if (tpkt > RDP_PROBE_READ_MAX)
        return not_rdp(info, "the answer is a TPKT packet of %zu bytes, longer than any X.224 "
                       "Connection Confirm", tpkt);
    if (len < tpkt) {
        if (closed)
            return not_rdp(info, "the server %s the connection in the middle of its answer "
                           "(%zu of %zu bytes)", reset ? "reset" : "closed", len, tpkt);
        *want = tpkt;
        return false;
    }
    const guint8 *x = d + TPKT_HEADER_LEN;
    size_t li = x[0];
    unsigned code = x[1] & 0xF0;
    if (li < X224_CC_LEN - 1 || TPKT_HEADER_LEN + 1 + li > tpkt)
        return not_rdp(info, "the answer has a malformed X.224 header (length %zu in a "
                       "%zu-byte packet)", li, tpkt);
    if (code == X224_DISCONNECT_REQUEST)
        return decide(info, RDP_PROBE_REFUSED,
                      g_strdup_printf("the server turned the connection down (X.224 "
                                      "Disconnect Request, reason %u)", x[6]));
    if (code != X224_CONNECTION_CONFIRM)
        return not_rdp(info, "the answer is an X.224 packet of type 0x%02x, not a Connection "
                       "Confirm", code);
    if (li < X224_CC_LEN - 1 + RDP_NEG_LEN)
        /* Servers from before RDP 5.2 confirm without negotiating. */
        return decide(info, RDP_PROBE_READY,
                      g_strdup("the server does not negotiate: standard RDP security"));
    const guint8 *neg = x + X224_CC_LEN;
    unsigned neg_len = neg[2] | (unsigned)neg[3] << 8;
    guint32 value = le32(neg + 4);
    if (neg_len != RDP_NEG_LEN)
        return not_rdp(info, "the answer's RDP negotiation data is malformed (length %u)",
                       neg_len);
    if (neg[0] == RDP_NEG_RSP) {
        info->negotiated = true;
        info->protocol = value;
        info->server_flags = neg[1];
        if (value != RDP_PROTOCOL_RDP && !(value & requested))
            return decide(info, RDP_PROBE_READY,
                          g_strdup_printf("the server selected %s, which was not asked for",
                                          rdp_probe_protocol_name(value)));
        return decide(info, RDP_PROBE_READY,
                      g_strdup_printf("the server selected %s", rdp_probe_protocol_name(value)));
    }
    if (neg[0] == RDP_NEG_FAILURE) {
        info->failure_code = value;
        return decide(info, RDP_PROBE_REFUSED, rdp_probe_failure_sentence(value));
    }
    return not_rdp(info, "the answer's RDP negotiation data has an unknown type 0x%02x", neg[0]);
}

/* --- the exchange --- */

void rdp_probe_exchange(int fd, unsigned requested, gint64 deadline, RdpProbeInfo *info)
{
    vd_fd_set_nonblocking(fd);
    guint8 req[RDP_PROBE_REQUEST_LEN];
    rdp_probe_build_request(requested, req);
    /* A failed send (the server closed at once) is not the verdict yet: what
     * the server sent before closing is still to be read. */
    int send_err = vd_fd_send_all(fd, req, sizeof(req), deadline);
    if (send_err == ETIMEDOUT) {
        decide(info, RDP_PROBE_TIMEOUT,
               g_strdup("the server did not take the connection request in time"));
        return;
    }
    guint8 buf[RDP_PROBE_READ_MAX];
    size_t have = 0, want = TPKT_HEADER_LEN;
    while (!rdp_probe_classify(buf, have, requested, false, false, &want, info)) {
        int r = vd_fd_wait(fd, POLLIN, deadline);
        if (r == 0) {
            decide(info, RDP_PROBE_TIMEOUT,
                   g_strdup(have ? "the server started an answer but did not finish it in time"
                                 : "no answer in time"));
            return;
        }
        if (r < 0) {
            decide(info, RDP_PROBE_NO_SERVICE,
                   g_strdup_printf("waiting for the answer failed: %s", g_strerror(-r)));
            return;
        }
        ssize_t n = recv(fd, buf + have, want - have, 0);
        if (n > 0) {
            have += (size_t)n;
            /* Not RDP: take what else is already there, to say what it is. */
            if (buf[0] != 3 && have < sizeof(buf)) {
                n = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
                have += n > 0 ? (size_t)n : 0;
            }
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
            rdp_probe_classify(buf, have, requested, true, n < 0 || send_err == ECONNRESET, &want,
                               info);
            return;
        }
    }
}

/* --- connecting --- */

typedef struct {
    gint refs;
    bool done;
    GList *addrs;
    GError *error;
} Lookup;

static void lookup_unref(Lookup *l)
{
    if (g_atomic_int_dec_and_test(&l->refs)) {
        g_resolver_free_addresses(l->addrs);
        g_clear_error(&l->error);
        g_free(l);
    }
}

static void lookup_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Lookup *l = data;
    l->addrs = g_resolver_lookup_by_name_finish(G_RESOLVER(source), res, &l->error);
    l->done = true;
    lookup_unref(l);
}

static gboolean wake(gpointer data)
{
    return G_SOURCE_REMOVE;
}

/* The addresses of @host by @deadline (GInetAddress*, caller frees with
 * g_resolver_free_addresses). NULL with *@timed_out, or with @error. A
 * numeric address needs no lookup; a name is looked up on GLib's resolver
 * thread while we wait on a private context, so the deadline holds even when
 * DNS hangs (an abandoned lookup finishes, or not, on its own). */
static GList *resolve(const char *host, gint64 deadline, bool *timed_out, GError **error)
{
    *timed_out = false;
    GInetAddress *numeric = g_inet_address_new_from_string(host);
    if (numeric)
        return g_list_append(NULL, numeric);
    Lookup *l = g_new0(Lookup, 1);
    l->refs = 2; /* ours and the callback's */
    GMainContext *ctx = g_main_context_new();
    GCancellable *cancel = g_cancellable_new();
    GResolver *resolver = g_resolver_get_default();
    g_main_context_push_thread_default(ctx);
    g_resolver_lookup_by_name_async(resolver, host, cancel, lookup_done, l);
    g_main_context_pop_thread_default(ctx);
    while (!l->done) {
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0)
            break;
        GSource *t = g_timeout_source_new((guint)MIN((left + 999) / 1000, G_MAXUINT));
        g_source_set_callback(t, wake, NULL, NULL);
        g_source_attach(t, ctx);
        g_main_context_iteration(ctx, TRUE);
        g_source_destroy(t);
        g_source_unref(t);
    }
    GList *addrs = NULL;
    if (!l->done) {
        *timed_out = true;
        g_cancellable_cancel(cancel);
        /* The cancelled lookup usually reports at once; if not, it keeps
         * its reference to @l and frees it whenever it does. */
        g_main_context_iteration(ctx, FALSE);
    } else if (l->error) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "cannot resolve %s: %s", host,
                    l->error->message);
    } else {
        addrs = g_steal_pointer(&l->addrs);
    }
    lookup_unref(l);
    g_object_unref(resolver);
    g_object_unref(cancel);
    g_main_context_unref(ctx);
    return addrs;
}

/* "127.0.0.1:3389", "[::1]:3389". */
static char *format_address(GInetAddress *a, unsigned port)
{
    g_autofree char *s = g_inet_address_to_string(a);
    return g_inet_address_get_family(a) == G_SOCKET_FAMILY_IPV6
               ? g_strdup_printf("[%s]:%u", s, port)
               : g_strdup_printf("%s:%u", s, port);
}

typedef enum {
    CONNECTED,
    CONNECT_RESET,   /* accepted, then reset before we looked: the answer is "nothing" */
    CONNECT_REFUSED,
    CONNECT_TIMEOUT,
    CONNECT_FAILED,
} ConnectResult;

/* A non-blocking connect to @a:@port by @deadline. *@fd is the socket when
 * CONNECTED; *@err the errno otherwise. */
static ConnectResult connect_by(GInetAddress *a, unsigned port, gint64 deadline, int *fd,
                                int *err)
{
    g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(a, (guint16)port);
    struct sockaddr_storage ss;
    gssize sl = g_socket_address_get_native_size(sa);
    if (sl <= 0 || !g_socket_address_to_native(sa, &ss, sizeof(ss), NULL)) {
        *err = EINVAL;
        return CONNECT_FAILED;
    }
    int s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        *err = errno;
        return CONNECT_FAILED;
    }
    int r = connect(s, (struct sockaddr *)&ss, (socklen_t)sl);
    if (r < 0 && errno == EINPROGRESS) {
        int w = vd_fd_wait(s, POLLOUT, deadline);
        if (w == 0) {
            close(s);
            return CONNECT_TIMEOUT;
        }
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (w < 0)
            soerr = -w;
        else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            soerr = errno;
        errno = soerr;
        r = soerr ? -1 : 0;
    }
    if (r == 0) {
        *fd = s;
        return CONNECTED;
    }
    *err = errno;
    close(s);
    return *err == ECONNREFUSED ? CONNECT_REFUSED
           : *err == ECONNRESET ? CONNECT_RESET
                                : CONNECT_FAILED;
}

/* Connect to each address in turn while they refuse (the deadline is
 * shared) and run the exchange on the first that accepts. */
static RdpProbeResult probe_addresses(GList *addrs, unsigned port, unsigned requested,
                                      gint64 deadline, RdpProbeInfo *out, GError **error)
{
    bool refused = false;
    int last_err = ECONNREFUSED;
    for (GList *a = addrs; a; a = a->next) {
        g_free(out->address);
        out->address = format_address(a->data, port);
        int fd = -1, err = 0;
        switch (connect_by(a->data, port, deadline, &fd, &err)) {
        case CONNECTED:
            out->connected = true;
            rdp_probe_exchange_confined(fd, requested, deadline, out, error);
            close(fd);
            return out->result;
        case CONNECT_RESET: {
            size_t want;
            out->connected = true;
            rdp_probe_classify(NULL, 0, requested, true, true, &want, out);
            return out->result;
        }
        case CONNECT_TIMEOUT:
            decide(out, RDP_PROBE_TIMEOUT, g_strdup("the connection was not accepted in time"));
            return out->result;
        case CONNECT_REFUSED:
            refused = true;
            break;
        case CONNECT_FAILED:
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
                err == EINVAL) {
                g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot connect to %s: %s",
                            out->address, g_strerror(err));
                decide(out, RDP_PROBE_ERROR, g_strdup(g_strerror(err)));
                return out->result;
            }
            last_err = err;
            break;
        }
    }
    decide(out, RDP_PROBE_NO_SERVICE,
           refused ? g_strdup("connection refused: nothing listens")
                   : g_strdup_printf("cannot connect: %s", g_strerror(last_err)));
    return out->result;
}

RdpProbeResult rdp_probe(const char *host, unsigned port, unsigned requested, int timeout_ms,
                         RdpProbeInfo *info, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    gint64 deadline = t0 + (gint64)MAX(timeout_ms, 0) * 1000;
    RdpProbeInfo scratch = {0};
    RdpProbeInfo *out = info ? info : &scratch;
    rdp_probe_info_clear(out);
    if (!host)
        host = "127.0.0.1";
    out->address = g_strdup_printf("%s:%u", host, port);
    if (port == 0 || port > 65535) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "invalid port %u (use 1-65535)", port);
        decide(out, RDP_PROBE_ERROR, g_strdup("invalid port"));
    } else {
        /* "[::1]", as people write IPv6 addresses before a port. */
        g_autofree char *bare = host[0] == '[' && g_str_has_suffix(host, "]")
                                    ? g_strndup(host + 1, strlen(host) - 2)
                                    : g_strdup(host);
        bool lookup_timed_out = false;
        GError *local = NULL;
        GList *addrs = resolve(bare, deadline, &lookup_timed_out, &local);
        if (addrs) {
            probe_addresses(addrs, port, requested, deadline, out, error);
            g_resolver_free_addresses(addrs);
        } else if (lookup_timed_out) {
            decide(out, RDP_PROBE_TIMEOUT,
                   g_strdup_printf("the name %s was not resolved in time", bare));
        } else {
            decide(out, RDP_PROBE_ERROR, g_strdup(local->message));
            g_propagate_error(error, local);
        }
    }
    out->elapsed_us = g_get_monotonic_time() - t0;
    RdpProbeResult result = out->result;
    rdp_probe_info_clear(&scratch);
    return result;
}

RdpProbeResult rdp_probe_tunnel(const char *const *tunnel, const char *address,
                                unsigned requested, int timeout_ms, RdpProbeInfo *info,
                                GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    RdpProbeInfo scratch = {0};
    RdpProbeInfo *out = info ? info : &scratch;
    rdp_probe_info_clear(out);
    out->address = g_strdup(address);
    int fd = vd_spawn_tunnel(tunnel, address, error);
    if (fd < 0) {
        decide(out, RDP_PROBE_ERROR, g_strdup_printf("cannot run %s", tunnel[0]));
    } else {
        /* The tunnel's end takes anything: whether its far end connected
         * shows only in the answer (or the tunnel closing without one). */
        out->connected = true;
        rdp_probe_exchange_confined(fd, requested, t0 + (gint64)MAX(timeout_ms, 0) * 1000, out,
                                    error);
        close(fd);
    }
    out->elapsed_us = g_get_monotonic_time() - t0;
    RdpProbeResult result = out->result;
    rdp_probe_info_clear(&scratch);
    return result;
}
