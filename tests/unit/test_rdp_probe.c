/* unit-rdp-probe: the RDP readiness probe (client/session/rdp/rdp_probe.c): the
 * request it sends, how it reads every kind of answer (real servers' bytes
 * recorded from freerdp-shadow-cli 2.11 and xrdp 0.9.21), and its deadline,
 * against fake servers on 127.0.0.1 run by threads of this test. The real
 * RDP servers are in tests/integration/test_rdp_probe.c.
 *
 * The exchange runs in `vmdesk-probe-helper` (beside $VMDESK_SESSION_HELPER):
 * the helper must be a confined child of this process, one kept for the
 * next probe, and one that is killed, hangs or answers garbage (this very
 * program, started as a helper that misbehaves on purpose) is a probe
 * error, never a hang, and the next probe works. */
#include "common/error.h"
#include "session/rdp/rdp_probe_priv.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- bytes --- */

static GByteArray *hex(const char *text)
{
    GByteArray *b = g_byte_array_new();
    for (const char *p = text; *p;) {
        if (g_ascii_isspace(*p)) {
            p++;
            continue;
        }
        int hi = g_ascii_xdigit_value(p[0]), lo = g_ascii_xdigit_value(p[1]);
        g_assert_true(hi >= 0 && lo >= 0);
        guint8 v = (guint8)(hi << 4 | lo);
        g_byte_array_append(b, &v, 1);
        p += 2;
    }
    return b;
}

static void test_request(void)
{
    guint8 req[RDP_PROBE_REQUEST_LEN];
    rdp_probe_build_request(RDP_PROBE_DEFAULT_PROTOCOLS, req);
    /* TPKT v3, 19 bytes; X.224 CR (LI 14, code E0, refs 0, class 0);
     * RDP_NEG_REQ type 1, flags 0, length 8, protocols 0x0b (LE). */
    g_autoptr(GByteArray) want = hex("03 00 00 13  0e e0 00 00 00 00 00  01 00 08 00 0b 00 00 00");
    g_assert_cmpmem(req, sizeof(req), want->data, want->len);
    rdp_probe_build_request(RDP_PROTOCOL_RDP, req);
    g_assert_cmpmem(req + 15, 4, "\0\0\0\0", 4);
    rdp_probe_build_request(0x12345678, req);
    g_assert_cmpmem(req + 15, 4, "\x78\x56\x34\x12", 4);
}

/* --- classification --- */

typedef struct {
    const char *name;
    const char *bytes;       /* hex, or text when it starts with "t:" */
    unsigned requested;
    RdpProbeResult result;
    unsigned protocol;       /* READY */
    unsigned flags;          /* READY */
    bool negotiated;         /* READY */
    unsigned failure_code;   /* REFUSED */
    const char *detail_part; /* in the detail */
} Case;

#define DEF RDP_PROBE_DEFAULT_PROTOCOLS

static const Case cases[] = {
    {"shadow-tls", "030000130ed000000000000203080001000000", DEF, RDP_PROBE_READY,
     RDP_PROTOCOL_SSL, 3, true, 0, "the server selected TLS"},
    {"shadow-rdp", "030000130ed000000000000203080000000000", 0, RDP_PROBE_READY,
     RDP_PROTOCOL_RDP, 3, true, 0, "standard RDP"},
    {"xrdp-tls", "030000130ed000001234000201080001000000", DEF, RDP_PROBE_READY,
     RDP_PROTOCOL_SSL, 1, true, 0, "TLS"},
    {"nla", "030000130ed000001234000200080002000000", DEF, RDP_PROBE_READY,
     RDP_PROTOCOL_HYBRID, 0, true, 0, "NLA (CredSSP)"},
    {"nla-ex", "030000130ed000001234000200080008000000", DEF, RDP_PROBE_READY,
     RDP_PROTOCOL_HYBRID_EX, 0, true, 0, "HYBRID_EX"},
    {"rdstls", "030000130ed000001234000200080004000000", RDP_PROTOCOL_RDSTLS, RDP_PROBE_READY,
     RDP_PROTOCOL_RDSTLS, 0, true, 0, "RDSTLS"},
    {"not-asked", "030000130ed000001234000200080002000000", RDP_PROTOCOL_SSL, RDP_PROBE_READY,
     RDP_PROTOCOL_HYBRID, 0, true, 0, "which was not asked for"},
    {"no-negotiation", "0300000b06d00000123400", DEF, RDP_PROBE_READY, RDP_PROTOCOL_RDP, 0,
     false, 0, "does not negotiate"},
    {"fail-ssl-required", "030000130ed000000000000300080001000000", 0, RDP_PROBE_REFUSED, 0, 0,
     false, 1, "the server requires TLS"},
    {"fail-ssl-not-allowed", "030000130ed000000000000300080002000000", DEF, RDP_PROBE_REFUSED,
     0, 0, false, 2, "only standard RDP security"},
    {"fail-no-cert", "030000130ed000000000000300080003000000", DEF, RDP_PROBE_REFUSED, 0, 0,
     false, 3, "no certificate"},
    {"fail-inconsistent", "030000130ed000000000000300080004000000", DEF, RDP_PROBE_REFUSED, 0,
     0, false, 4, "inconsistent"},
    {"fail-hybrid-required", "030000130ed000000000000300080005000000", 1, RDP_PROBE_REFUSED, 0,
     0, false, 5, "Network Level Authentication"},
    {"fail-user-auth", "030000130ed000000000000300080006000000", DEF, RDP_PROBE_REFUSED, 0, 0,
     false, 6, "client certificate"},
    {"fail-unknown", "030000130ed000000000000300080063000000", DEF, RDP_PROBE_REFUSED, 0, 0,
     false, 99, "failure code 99"},
    {"x224-disconnect", "0300000b06800000000002", DEF, RDP_PROBE_REFUSED, 0, 0, false, 0,
     "Disconnect Request, reason 2"},
    {"x224-echoed-cr", "030000130ee000000000000100080003000000", DEF, RDP_PROBE_NOT_RDP, 0, 0,
     false, 0, "type 0xe0"},
    {"neg-unknown-type", "030000130ed000000000000700080001000000", DEF, RDP_PROBE_NOT_RDP, 0, 0,
     false, 0, "unknown type 0x07"},
    {"neg-bad-length", "030000130ed000000000000200090001000000", DEF, RDP_PROBE_NOT_RDP, 0, 0,
     false, 0, "length 9"},
    {"li-too-long", "0300000b20d00000123400", DEF, RDP_PROBE_NOT_RDP, 0, 0, false, 0,
     "malformed X.224 header"},
    {"tpkt-too-short", "03000005ff", DEF, RDP_PROBE_NOT_RDP, 0, 0, false, 0, "too short"},
    {"tpkt-too-long", "0300ffff0ed0", DEF, RDP_PROBE_NOT_RDP, 0, 0, false, 0, "65535 bytes"},
    {"tpkt-version-2", "02000013", DEF, RDP_PROBE_NOT_RDP, 0, 0, false, 0, "4 bytes 02 00 00 13"},
    {"ssh", "t:SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", DEF, RDP_PROBE_NOT_RDP, 0, 0, false,
     0, "\"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\" (an SSH server)"},
    {"http", "t:HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", DEF, RDP_PROBE_NOT_RDP,
     0, 0, false, 0, "\"HTTP/1.1 400 Bad Request\" (a web server)"},
    {"vnc", "t:RFB 003.008\n", DEF, RDP_PROBE_NOT_RDP, 0, 0, false, 0,
     "\"RFB 003.008\" (a VNC server)"},
    {"test-guest", "t:VMDESK-TEST-GUEST ready\n", DEF, RDP_PROBE_NOT_RDP, 0, 0, false, 0,
     "another service answered: \"VMDESK-TEST-GUEST ready\""},
    {"tls-alert", "15030100020232", DEF, RDP_PROBE_NOT_RDP, 0, 0, false, 0,
     "7 bytes 15 03 01 00 02 02 32 (a TLS server)"},
    {"quoted", "t:say \"hi\"\tthere\n", DEF, RDP_PROBE_NOT_RDP, 0, 0, false, 0,
     "\"say \\\"hi\\\"\\tthere\""},
};

static GByteArray *case_bytes(const Case *c)
{
    if (g_str_has_prefix(c->bytes, "t:")) {
        GByteArray *b = g_byte_array_new();
        g_byte_array_append(b, (const guint8 *)c->bytes + 2, (guint)strlen(c->bytes + 2));
        return b;
    }
    return hex(c->bytes);
}

static void check_case(const Case *c, const RdpProbeInfo *info)
{
    if (info->result != c->result || !info->detail || !strstr(info->detail, c->detail_part))
        g_error("case %s: %s \"%s\", expected %s with \"%s\"", c->name,
                rdp_probe_result_to_string(info->result), info->detail,
                rdp_probe_result_to_string(c->result), c->detail_part);
    g_assert_true(g_utf8_validate(info->detail, -1, NULL));
    if (c->result == RDP_PROBE_READY) {
        g_assert_cmpuint(info->protocol, ==, c->protocol);
        g_assert_cmpuint(info->server_flags, ==, c->flags);
        g_assert_cmpint(info->negotiated, ==, c->negotiated);
    }
    if (c->result == RDP_PROBE_REFUSED)
        g_assert_cmpuint(info->failure_code, ==, c->failure_code);
}

/* Whole, then byte by byte as a slow server would send it: same verdict,
 * decided as soon as the answer is complete, never asking beyond the cap. */
static void test_classify(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const Case *c = &cases[i];
        g_autoptr(GByteArray) b = case_bytes(c);
        RdpProbeInfo info = {0};
        size_t want = 0;
        g_assert_true(rdp_probe_classify(b->data, b->len, c->requested, false, false, &want,
                                         &info));
        check_case(c, &info);
        rdp_probe_info_clear(&info);

        size_t decided_at = 0;
        for (size_t n = 0; n <= b->len; n++) {
            want = 0;
            if (rdp_probe_classify(b->data, n, c->requested, false, false, &want, &info)) {
                decided_at = n;
                break;
            }
            g_assert_cmpuint(want, >, n);
            g_assert_cmpuint(want, <=, RDP_PROBE_READ_MAX);
        }
        g_assert_cmpuint(decided_at, >, 0);
        /* An answer that is not RDP is judged by its first bytes; the probe
         * reads on a little to describe it, so only the verdict must match. */
        if (c->result == RDP_PROBE_NOT_RDP)
            g_assert_cmpint(info.result, ==, RDP_PROBE_NOT_RDP);
        else
            check_case(c, &info);
        rdp_probe_info_clear(&info);
    }
}

static void test_classify_closed(void)
{
    RdpProbeInfo info = {0};
    size_t want = 0;
    g_assert_true(rdp_probe_classify(NULL, 0, DEF, true, false, &want, &info));
    g_assert_cmpint(info.result, ==, RDP_PROBE_NO_SERVICE);
    g_assert_cmpstr(info.detail, ==, "the connection was closed without an answer");
    g_assert_true(rdp_probe_classify(NULL, 0, DEF, true, true, &want, &info));
    g_assert_cmpint(info.result, ==, RDP_PROBE_NO_SERVICE);
    g_assert_cmpstr(info.detail, ==, "the connection was reset without an answer");
    /* Half a confirm, then the end: something, but not RDP. */
    g_autoptr(GByteArray) half = hex("030000130ed0000000");
    g_assert_true(rdp_probe_classify(half->data, half->len, DEF, true, false, &want, &info));
    g_assert_cmpint(info.result, ==, RDP_PROBE_NOT_RDP);
    g_assert_nonnull(strstr(info.detail, "in the middle of its answer (9 of 19 bytes)"));
    g_assert_true(rdp_probe_classify(half->data, 2, DEF, true, false, &want, &info));
    g_assert_cmpint(info.result, ==, RDP_PROBE_NOT_RDP);
    rdp_probe_info_clear(&info);
}

static void test_names(void)
{
    g_assert_cmpstr(rdp_probe_protocol_name(RDP_PROTOCOL_SSL), ==, "TLS");
    g_assert_cmpstr(rdp_probe_protocol_name(RDP_PROTOCOL_RDP), ==, "standard RDP");
    g_assert_cmpstr(rdp_probe_protocol_name(RDP_PROTOCOL_HYBRID), ==, "NLA (CredSSP)");
    g_assert_cmpstr(rdp_probe_protocol_name(0x40), ==, "protocol 0x40");
    g_assert_cmpstr(rdp_probe_protocol_id(RDP_PROTOCOL_HYBRID_EX), ==, "nla-ex");
    g_assert_null(rdp_probe_protocol_id(0x40));
    g_assert_cmpstr(rdp_probe_result_to_string(RDP_PROBE_NO_SERVICE), ==, "no-service");
    g_assert_cmpstr(rdp_probe_result_to_string(RDP_PROBE_NOT_RDP), ==, "not-rdp");

    /* Every failure code of MS-RDPBCGR 2.2.1.2.2 has its own sentence. */
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (unsigned code = 1; code <= 6; code++) {
        char *s = rdp_probe_failure_sentence(code);
        g_assert_true(g_str_has_prefix(s, "the server "));
        g_assert_null(strstr(s, "code"));
        g_assert_false(g_hash_table_contains(seen, s));
        g_hash_table_add(seen, s);
    }
    g_hash_table_unref(seen);
    g_autofree char *s1 = rdp_probe_failure_sentence(RDP_NEG_FAILURE_SSL_REQUIRED_BY_SERVER);
    g_assert_cmpstr(s1, ==, "the server requires TLS");

    unsigned p = 99;
    g_autoptr(GError) err = NULL;
    g_assert_true(rdp_probe_protocols_parse("tls,nla,nla-ex", &p, &err));
    g_assert_cmpuint(p, ==, RDP_PROBE_DEFAULT_PROTOCOLS);
    g_assert_true(rdp_probe_protocols_parse("RDP", &p, &err));
    g_assert_cmpuint(p, ==, 0);
    g_assert_true(rdp_probe_protocols_parse(" tls , rdstls ", &p, &err));
    g_assert_cmpuint(p, ==, RDP_PROTOCOL_SSL | RDP_PROTOCOL_RDSTLS);
    g_assert_false(rdp_probe_protocols_parse("tls,ssl3", &p, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "\"ssl3\""));
}

/* --- fake servers on 127.0.0.1 --- */

typedef enum {
    FAKE_CLOSE,       /* accept, close at once */
    FAKE_RESET,       /* accept, reset (SO_LINGER 0) */
    FAKE_SILENT,      /* accept, read, never answer */
    FAKE_SSH,         /* a banner on accept, like sshd */
    FAKE_HTTP,        /* read the request, answer 400 like a web server */
    FAKE_TRICKLE,     /* read the request, send a confirm one byte every 20 ms */
    FAKE_FLOOD,       /* read the request, send "03 00 ff ff" and endless bytes */
} FakeMode;

typedef struct {
    FakeMode mode;
    int listen_fd;
    unsigned port;
    GThread *thread;
    gint stop;          /* atomic: the test is done with it */
    gsize request_len;  /* bytes of request the server read */
    gsize sent;         /* bytes it sent */
} Fake;

static void read_request(Fake *f, int fd)
{
    guint8 buf[64];
    while (f->request_len < RDP_PROBE_REQUEST_LEN) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            return;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        f->request_len += (gsize)n;
    }
}

static void send_text(Fake *f, int fd, const void *data, size_t len)
{
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n > 0)
        f->sent += (gsize)n;
}

/* Until the client closed or the test said stop (at most 10 s). */
static void wait_for_end(Fake *f, int fd)
{
    for (int i = 0; i < 1000 && !g_atomic_int_get(&f->stop); i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10) > 0) {
            char buf[256];
            if (read(fd, buf, sizeof(buf)) <= 0)
                return;
        }
    }
}

static gpointer fake_main(gpointer data)
{
    Fake *f = data;
    struct pollfd p = {.fd = f->listen_fd, .events = POLLIN};
    if (poll(&p, 1, 10000) <= 0)
        return NULL;
    int fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return NULL;
    static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
    static const char http[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    static const guint8 cc[] = {3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0,
                                2, 1, 8, 0, 1, 0, 0, 0};
    switch (f->mode) {
    case FAKE_CLOSE:
        break;
    case FAKE_RESET: {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        break;
    }
    case FAKE_SILENT:
        read_request(f, fd);
        wait_for_end(f, fd);
        break;
    case FAKE_SSH:
        send_text(f, fd, ssh, sizeof(ssh) - 1);
        wait_for_end(f, fd);
        break;
    case FAKE_HTTP:
        read_request(f, fd);
        send_text(f, fd, http, sizeof(http) - 1);
        wait_for_end(f, fd);
        break;
    case FAKE_TRICKLE:
        read_request(f, fd);
        for (size_t i = 0; i < sizeof(cc); i++) {
            send_text(f, fd, cc + i, 1);
            g_usleep(20000);
        }
        wait_for_end(f, fd);
        break;
    case FAKE_FLOOD: {
        read_request(f, fd);
        guint8 junk[4096];
        memset(junk, 0x41, sizeof(junk));
        memcpy(junk, "\x03\x00\xff\xff", 4);
        /* As much as the socket takes within a second or until the client leaves. */
        gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC;
        while (g_get_monotonic_time() < end && !g_atomic_int_get(&f->stop)) {
            ssize_t n = send(fd, junk, sizeof(junk), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                f->sent += (gsize)n;
            else if (n < 0 && errno != EAGAIN)
                break;
            else
                g_usleep(1000);
            memset(junk, 0x41, 4);
        }
        break;
    }
    }
    close(fd);
    return NULL;
}

static int listen_loopback(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(fd, 4), ==, 0);
    socklen_t len = sizeof(a);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void fake_start(Fake *f, FakeMode mode)
{
    memset(f, 0, sizeof(*f));
    f->mode = mode;
    f->listen_fd = listen_loopback(&f->port);
    f->thread = g_thread_new("fake-server", fake_main, f);
}

static void fake_stop(Fake *f)
{
    g_atomic_int_set(&f->stop, 1);
    /* Unblock an accept that never came. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    connect(fd, (struct sockaddr *)&a, sizeof(a));
    g_thread_join(f->thread);
    close(fd);
    close(f->listen_fd);
}

static double ms_since(gint64 t0)
{
    return (double)(g_get_monotonic_time() - t0) / 1000.0;
}

/* A port with nothing behind it: refused at once. */
static void test_closed_port(void)
{
    unsigned port;
    close(listen_loopback(&port));
    RdpProbeInfo info = {0};
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(rdp_probe("127.0.0.1", port, DEF, 2000, &info, &err), ==,
                    RDP_PROBE_NO_SERVICE);
    g_assert_no_error(err);
    g_assert_cmpfloat(ms_since(t0), <, 100);
    g_assert_false(info.connected);
    g_assert_cmpstr(info.detail, ==, "connection refused: nothing listens");
    g_autofree char *addr = g_strdup_printf("127.0.0.1:%u", port);
    g_assert_cmpstr(info.address, ==, addr);
    g_assert_cmpint(info.elapsed_us, >, 0);
    rdp_probe_info_clear(&info);
    /* NULL host is 127.0.0.1; NULL info is allowed. */
    g_assert_cmpint(rdp_probe(NULL, port, DEF, 2000, NULL, NULL), ==, RDP_PROBE_NO_SERVICE);
}

/* What user networking does when no guest service listens: accept, then
 * close or reset. */
static void test_accept_then_close(void)
{
    FakeMode modes[] = {FAKE_CLOSE, FAKE_RESET};
    const char *details[] = {"closed", "reset"};
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        Fake f;
        fake_start(&f, modes[i]);
        RdpProbeInfo info = {0};
        gint64 t0 = g_get_monotonic_time();
        RdpProbeResult r = rdp_probe("127.0.0.1", f.port, DEF, 3000, &info, NULL);
        double ms = ms_since(t0);
        fake_stop(&f);
        g_test_message("%s: %s (%s) in %.2f ms", details[i], rdp_probe_result_to_string(r),
                       info.detail, ms);
        g_assert_cmpint(r, ==, RDP_PROBE_NO_SERVICE);
        g_assert_true(info.connected);
        /* A close may still read as a reset when our request arrived after it. */
        g_assert_true(strstr(info.detail, "without an answer"));
        if (modes[i] == FAKE_RESET)
            g_assert_nonnull(strstr(info.detail, "reset"));
        g_assert_cmpfloat(ms, <, 500);
        rdp_probe_info_clear(&info);
    }
}

static void test_not_rdp_services(void)
{
    struct {
        FakeMode mode;
        const char *detail;
    } t[] = {
        {FAKE_SSH, "another service answered: \"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\" "
                   "(an SSH server)"},
        {FAKE_HTTP, "another service answered: \"HTTP/1.1 400 Bad Request\" "
                    "(a web server)"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
        Fake f;
        fake_start(&f, t[i].mode);
        RdpProbeInfo info = {0};
        gint64 t0 = g_get_monotonic_time();
        RdpProbeResult r = rdp_probe("127.0.0.1", f.port, DEF, 3000, &info, NULL);
        double ms = ms_since(t0);
        fake_stop(&f);
        g_assert_cmpint(r, ==, RDP_PROBE_NOT_RDP);
        g_assert_cmpstr(info.detail, ==, t[i].detail);
        g_assert_cmpfloat(ms, <, 500);
        rdp_probe_info_clear(&info);
    }
}

/* Accepts, reads our request, never answers: TIMEOUT right at the deadline. */
static void test_silent_server(void)
{
    Fake f;
    fake_start(&f, FAKE_SILENT);
    RdpProbeInfo info = {0};
    gint64 t0 = g_get_monotonic_time();
    RdpProbeResult r = rdp_probe("127.0.0.1", f.port, DEF, 300, &info, NULL);
    double ms = ms_since(t0);
    fake_stop(&f);
    g_test_message("silent: %.2f ms", ms);
    g_assert_cmpint(r, ==, RDP_PROBE_TIMEOUT);
    g_assert_cmpstr(info.detail, ==, "no answer in time");
    g_assert_true(info.connected);
    g_assert_cmpuint(f.request_len, ==, RDP_PROBE_REQUEST_LEN);
    g_assert_cmpfloat(ms, >=, 299);
    g_assert_cmpfloat(ms, <, 400);
    rdp_probe_info_clear(&info);
}

/* A confirm in 19 pieces over ~380 ms: assembled, READY. The same with a
 * deadline in the middle of it: TIMEOUT, saying the answer was begun. */
static void test_trickle(void)
{
    Fake f;
    fake_start(&f, FAKE_TRICKLE);
    RdpProbeInfo info = {0};
    g_assert_cmpint(rdp_probe("127.0.0.1", f.port, DEF, 3000, &info, NULL), ==,
                    RDP_PROBE_READY);
    fake_stop(&f);
    g_assert_cmpuint(info.protocol, ==, RDP_PROTOCOL_SSL);
    g_assert_cmpuint(info.server_flags, ==, 1);
    g_assert_cmpint(info.elapsed_us, >=, 300 * 1000);

    fake_start(&f, FAKE_TRICKLE);
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(rdp_probe("127.0.0.1", f.port, DEF, 150, &info, NULL), ==,
                    RDP_PROBE_TIMEOUT);
    double ms = ms_since(t0);
    fake_stop(&f);
    g_assert_cmpstr(info.detail, ==, "the server started an answer but did not finish it in time");
    g_assert_cmpfloat(ms, <, 250);
    rdp_probe_info_clear(&info);
}

/* A server that never stops sending: the probe reads a header, judges it,
 * and leaves. */
static void test_flood(void)
{
    Fake f;
    fake_start(&f, FAKE_FLOOD);
    RdpProbeInfo info = {0};
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(rdp_probe("127.0.0.1", f.port, DEF, 3000, &info, NULL), ==,
                    RDP_PROBE_NOT_RDP);
    double ms = ms_since(t0);
    fake_stop(&f);
    g_assert_nonnull(strstr(info.detail, "65535 bytes"));
    g_assert_cmpfloat(ms, <, 500);
    rdp_probe_info_clear(&info);
}

static void test_bad_input(void)
{
    RdpProbeInfo info = {0};
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(rdp_probe("127.0.0.1", 0, DEF, 100, &info, &err), ==, RDP_PROBE_ERROR);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_cmpint(rdp_probe("127.0.0.1", 70000, DEF, 100, &info, &err), ==, RDP_PROBE_ERROR);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    /* A name that does not resolve: an error, or a timeout when DNS does not
     * answer here; never longer than the deadline. */
    gint64 t0 = g_get_monotonic_time();
    RdpProbeResult r = rdp_probe("no-such-host.invalid", 3389, DEF, 500, &info, &err);
    double ms = ms_since(t0);
    g_test_message("no-such-host.invalid: %s (%s) in %.1f ms", rdp_probe_result_to_string(r),
                   info.detail, ms);
    g_assert_true(r == RDP_PROBE_ERROR || r == RDP_PROBE_TIMEOUT);
    if (r == RDP_PROBE_ERROR)
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    else
        g_assert_no_error(err);
    g_assert_cmpfloat(ms, <, 600);
    rdp_probe_info_clear(&info);
}

/* Names resolve; "[::1]" is an address; each address is tried while they
 * refuse. */
static void test_names_resolve(void)
{
    Fake f;
    fake_start(&f, FAKE_SSH);
    RdpProbeInfo info = {0};
    g_autoptr(GError) err = NULL;
    RdpProbeResult r = rdp_probe("localhost", f.port, DEF, 3000, &info, &err);
    fake_stop(&f);
    g_assert_no_error(err);
    g_assert_cmpint(r, ==, RDP_PROBE_NOT_RDP);
    g_autofree char *addr = g_strdup_printf("127.0.0.1:%u", f.port);
    g_assert_cmpstr(info.address, ==, addr);

    unsigned port;
    close(listen_loopback(&port));
    r = rdp_probe("[::1]", port, DEF, 1000, &info, &err);
    g_assert_no_error(err);
    g_assert_cmpint(r, ==, RDP_PROBE_NO_SERVICE);
    g_autofree char *addr6 = g_strdup_printf("[::1]:%u", port);
    g_assert_cmpstr(info.address, ==, addr6);
    rdp_probe_info_clear(&info);
}

/* The exchange on a socket pair: what the fuzz harness drives. */
static void test_exchange_socketpair(void)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_autoptr(GByteArray) cc = hex("030000130ed000000000000203080002000000");
    g_assert_cmpint(write(sv[1], cc->data, cc->len), ==, (ssize_t)cc->len);
    RdpProbeInfo info = {0};
    rdp_probe_exchange(sv[0], DEF, g_get_monotonic_time() + G_USEC_PER_SEC, &info);
    g_assert_cmpint(info.result, ==, RDP_PROBE_READY);
    g_assert_cmpuint(info.protocol, ==, RDP_PROTOCOL_HYBRID);
    guint8 req[64];
    g_assert_cmpint(read(sv[1], req, sizeof(req)), ==, RDP_PROBE_REQUEST_LEN);
    close(sv[0]);
    close(sv[1]);
    rdp_probe_info_clear(&info);
}

/* Through a tunnel (a program whose standard input and output are the
 * connection, as ssh -W is): nc to the fake servers here. Nothing listens
 * for the tunnel; a tunnel that ends without an answer is "no service"; one
 * that cannot start is an error. */
static void test_tunnel(void)
{
    Fake f;
    fake_start(&f, FAKE_TRICKLE);
    g_autofree char *port = g_strdup_printf("%u", f.port);
    const char *nc[] = {"nc", "127.0.0.1", port, NULL};
    RdpProbeInfo info = {0};
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(rdp_probe_tunnel(nc, "10.0.0.5:3389", DEF, 5000, &info, &err), ==,
                    RDP_PROBE_READY);
    g_assert_no_error(err);
    g_assert_cmpstr(info.address, ==, "10.0.0.5:3389");
    g_assert_true(info.connected);
    rdp_probe_info_clear(&info);
    fake_stop(&f);
    fake_start(&f, FAKE_SSH);
    g_free(port);
    port = g_strdup_printf("%u", f.port);
    nc[2] = port;
    g_assert_cmpint(rdp_probe_tunnel(nc, "h:1", DEF, 5000, &info, NULL), ==, RDP_PROBE_NOT_RDP);
    rdp_probe_info_clear(&info);
    fake_stop(&f);
    const char *ends[] = {"true", NULL};
    g_assert_cmpint(rdp_probe_tunnel(ends, "h:1", DEF, 5000, &info, &err), ==,
                    RDP_PROBE_NO_SERVICE);
    g_assert_no_error(err);
    rdp_probe_info_clear(&info);
    const char *missing[] = {"vmdesk-no-such-tunnel", NULL};
    g_assert_cmpint(rdp_probe_tunnel(missing, "h:1", DEF, 5000, &info, &err), ==,
                    RDP_PROBE_ERROR);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "vmdesk-no-such-tunnel"));
    rdp_probe_info_clear(&info);
}

/* --- the probe helper --- */

/* This process's live `vmdesk-probe-helper` children. */
static GArray *probe_helpers(void)
{
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        if (!g_ascii_isdigit(*e))
            continue;
        g_autofree char *stat_path = g_build_filename("/proc", e, "stat", NULL);
        g_autofree char *cmd_path = g_build_filename("/proc", e, "cmdline", NULL);
        g_autofree char *stat = NULL, *cmd = NULL;
        gsize cmd_len = 0;
        if (!g_file_get_contents(stat_path, &stat, NULL, NULL) ||
            !g_file_get_contents(cmd_path, &cmd, &cmd_len, NULL))
            continue;
        /* "PID (COMM) STATE PPID ...": COMM may hold anything but ends at the last ')'. */
        const char *close_paren = strrchr(stat, ')');
        int ppid = 0;
        if (!close_paren || sscanf(close_paren + 1, " %*c %d", &ppid) != 1 || ppid != getpid())
            continue;
        static const char want[] = "vmdesk-probe-helper";
        if (cmd_len == sizeof(want) && !memcmp(cmd, want, sizeof(want))) {
            int pid = atoi(e);
            g_array_append_val(pids, pid);
        }
    }
    return pids;
}

/* The value of @field ("Seccomp") in /proc/@pid/status. */
static char *proc_status(int pid, const char *field)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    g_autofree char *key = g_strdup_printf("\n%s:", field);
    const char *p = strstr(text, key);
    if (!p)
        return NULL;
    p += strlen(key);
    return g_strstrip(g_strndup(p, strcspn(p, "\n")));
}

/* The server's bytes are read by a confined helper, not by this process:
 * exactly one `vmdesk-probe-helper` child after a probe, with
 * no_new_privs and a seccomp filter, and the same one serves the next. */
static void test_helper_confined(void)
{
    rdp_probe_helpers_close();
    g_autoptr(GArray) none = probe_helpers();
    g_assert_cmpuint(none->len, ==, 0);
    Fake f;
    fake_start(&f, FAKE_HTTP);
    RdpProbeInfo info = {0};
    g_assert_cmpint(rdp_probe("127.0.0.1", f.port, DEF, 3000, &info, NULL), ==,
                    RDP_PROBE_NOT_RDP);
    fake_stop(&f);
    g_autoptr(GArray) pids = probe_helpers();
    g_assert_cmpuint(pids->len, ==, 1);
    int pid = g_array_index(pids, int, 0);
    g_autofree char *seccomp = proc_status(pid, "Seccomp");
    g_autofree char *nnp = proc_status(pid, "NoNewPrivs");
    g_assert_cmpstr(seccomp, ==, "2");
    g_assert_cmpstr(nnp, ==, "1");
    fake_start(&f, FAKE_TRICKLE);
    g_assert_cmpint(rdp_probe("127.0.0.1", f.port, DEF, 3000, &info, NULL), ==,
                    RDP_PROBE_READY);
    fake_stop(&f);
    g_autoptr(GArray) again = probe_helpers();
    g_assert_cmpuint(again->len, ==, 1);
    g_assert_cmpint(g_array_index(again, int, 0), ==, pid);
    rdp_probe_info_clear(&info);
}

typedef struct {
    unsigned port;
    int timeout_ms;
    RdpProbeResult result;
    RdpProbeInfo info;
    GError *error;
    double ms;
} ProbeRun;

static gpointer probe_run(gpointer data)
{
    ProbeRun *r = data;
    gint64 t0 = g_get_monotonic_time();
    r->result = rdp_probe("127.0.0.1", r->port, DEF, r->timeout_ms, &r->info, &r->error);
    r->ms = ms_since(t0);
    return NULL;
}

static void probe_run_clear(ProbeRun *r)
{
    rdp_probe_info_clear(&r->info);
    g_clear_error(&r->error);
}

/* A probe is READY against the trickling fake server: the helper works. */
static void assert_probe_works(void)
{
    Fake f;
    fake_start(&f, FAKE_TRICKLE);
    RdpProbeInfo info = {0};
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(rdp_probe("127.0.0.1", f.port, DEF, 3000, &info, &err), ==,
                    RDP_PROBE_READY);
    g_assert_no_error(err);
    fake_stop(&f);
    rdp_probe_info_clear(&info);
}

/* The helper killed while the server keeps silent: the probe ends at once
 * with an error that says so (not at its deadline, not a crash), the
 * helper is reaped, and the next probe starts a new one. */
static void test_helper_killed(void)
{
    assert_probe_works(); /* a helper is running */
    Fake f;
    fake_start(&f, FAKE_SILENT);
    ProbeRun run = {.port = f.port, .timeout_ms = 10000};
    GThread *t = g_thread_new("probe", probe_run, &run);
    /* The request reached the server: the helper has the socket now. */
    for (int i = 0; i < 300 && __atomic_load_n(&f.request_len, __ATOMIC_ACQUIRE) < RDP_PROBE_REQUEST_LEN; i++)
        g_usleep(10 * 1000);
    g_autoptr(GArray) pids = probe_helpers();
    g_assert_cmpuint(pids->len, ==, 1);
    int pid = g_array_index(pids, int, 0);
    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    g_thread_join(t);
    fake_stop(&f);
    g_test_message("killed helper: %s (%s) in %.1f ms", rdp_probe_result_to_string(run.result),
                   run.info.detail, run.ms);
    g_assert_cmpint(run.result, ==, RDP_PROBE_ERROR);
    g_assert_nonnull(run.error);
    g_assert_cmpstr(run.info.detail, ==, run.error->message);
    g_assert_nonnull(strstr(run.error->message, "the probe helper ended without an answer"));
    g_assert_nonnull(strstr(run.error->message, "signal 9"));
    g_assert_cmpfloat(run.ms, <, run.timeout_ms);
    probe_run_clear(&run);
    /* Reaped: no zombie left. */
    g_autofree char *proc = g_strdup_printf("/proc/%d", pid);
    g_assert_false(g_file_test(proc, G_FILE_TEST_EXISTS));
    assert_probe_works();
    g_autoptr(GArray) after = probe_helpers();
    g_assert_cmpuint(after->len, ==, 1);
    g_assert_cmpint(g_array_index(after, int, 0), !=, pid);
}

/* Helpers that misbehave: this program, started as `vmdesk-probe-helper`
 * (a link to it, named so, in a folder given as $VMDESK_SESSION_HELPER's)
 * with VMDESK_TEST_FAKE_PROBE_HELPER=MODE. Each probe is an error that
 * names the fault, within the deadline and the helper's grace. */
static void test_helper_hostile(void)
{
    static const struct {
        const char *mode;
        const char *error;
    } t[] = {
        {"exit", "ended without an answer (it exited with status 3)"},
        {"hang", "did not answer in time"},
        {"half", "a message stalled"},
        {"garbage", "bytes (at most"},
        {"wrong-type", "a message of type 0x40"},
        {"fd", "a descriptor came with it"},
        {"short", "its fields do not add up"},
        {"trailing", "its fields do not add up"},
        {"result-error", "result 5"},
        {"result-big", "result 4294967295"},
        {"negotiated-refused", "negotiated 1 with result refused"},
        {"negotiated-2", "negotiated 2"},
        {"protocol-alone", "a protocol or flags without a negotiation"},
        {"flags-big", "flags 0x100"},
        {"failure-ready", "a failure code with result ready"},
        {"detail-escape", "its sentence is not printable"},
        {"detail-newline", "its sentence is not printable"},
        {"detail-bidi", "its sentence is not printable"},
        {"detail-bad-utf8", "its fields do not add up"},
        {"detail-empty", "its sentence is not printable"},
        {"detail-none", "its sentence is not printable"},
        {"detail-long", "bytes (at most"},
    };
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *real = g_strdup(g_getenv("VMDESK_SESSION_HELPER"));
    g_assert_nonnull(real);
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *fake = g_build_filename(dir, "vmdesk-probe-helper", NULL);
    g_autofree char *session = g_build_filename(dir, "vmdesk-session-helper", NULL);
    g_assert_cmpint(symlink(self, fake), ==, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
        rdp_probe_helpers_close();
        g_setenv("VMDESK_SESSION_HELPER", session, TRUE);
        g_setenv("VMDESK_TEST_FAKE_PROBE_HELPER", t[i].mode, TRUE);
        Fake f;
        fake_start(&f, FAKE_SILENT);
        ProbeRun run = {.port = f.port, .timeout_ms = 300};
        probe_run(&run);
        fake_stop(&f);
        g_test_message("%s: %s (%s) in %.1f ms", t[i].mode, rdp_probe_result_to_string(run.result),
                       run.info.detail, run.ms);
        g_assert_cmpint(run.result, ==, RDP_PROBE_ERROR);
        g_assert_nonnull(run.error);
        g_assert_nonnull(strstr(run.error->message, t[i].error));
        g_assert_true(rdp_probe_detail_ok(run.info.detail));
        /* The deadline, the helper's grace (1 s) and room for a busy machine. */
        g_assert_cmpfloat(run.ms, <, tu_timeout_ms(run.timeout_ms + 1000 + 1500));
        probe_run_clear(&run);
        g_autoptr(GArray) left = probe_helpers();
        g_assert_cmpuint(left->len, ==, 0);
    }
    g_setenv("VMDESK_SESSION_HELPER", real, TRUE);
    g_unsetenv("VMDESK_TEST_FAKE_PROBE_HELPER");
    tu_rm_rf(dir);
    assert_probe_works();
}

/* A HELPER_MSG_PROBE_ANSWER with these fields, honest or not. */
static void put_answer(GByteArray *b, guint32 result, guint8 negotiated, guint32 protocol,
                       guint32 flags, guint32 failure, const char *detail)
{
    helper_msg_begin(b, HELPER_MSG_PROBE_ANSWER);
    helper_put_u32(b, result);
    helper_put_u8(b, negotiated);
    helper_put_u32(b, protocol);
    helper_put_u32(b, flags);
    helper_put_u32(b, failure);
    helper_put_str(b, detail);
}

/* The answer's checks, without a process: what an honest helper sends
 * passes; each field out of range fails. */
static void test_answer_read(void)
{
    struct {
        guint32 result;
        guint8 negotiated;
        guint32 protocol, flags, failure;
        const char *detail;
        bool ok;
    } t[] = {
        {RDP_PROBE_READY, 1, RDP_PROTOCOL_HYBRID, 0x1f, 0, "the server selected NLA", true},
        {RDP_PROBE_READY, 1, 0x40, 0, 0, "the server selected protocol 0x40", true},
        {RDP_PROBE_READY, 0, 0, 0, 0, "the server does not negotiate", true},
        {RDP_PROBE_REFUSED, 0, 0, 0, 0xdeadbeef, "refused (code 3735928559)", true},
        {RDP_PROBE_NOT_RDP, 0, 0, 0, 0, "another service answered: \"caf\u00e9\"", true},
        {RDP_PROBE_TIMEOUT, 0, 0, 0, 0, "no answer in time", true},
        {RDP_PROBE_NO_SERVICE, 0, 0, 0, 0, "la connexion a \u00e9t\u00e9 ferm\u00e9e", true},
        {RDP_PROBE_ERROR, 0, 0, 0, 0, "an error", false},
        {RDP_PROBE_NOT_RDP, 1, 0, 0, 0, "negotiated", false},
        {RDP_PROBE_READY, 0, 0, 1, 0, "flags alone", false},
        {RDP_PROBE_READY, 1, 1, 0x100, 0, "flags too big", false},
        {RDP_PROBE_TIMEOUT, 0, 0, 0, 1, "failure", false},
        {RDP_PROBE_NOT_RDP, 0, 0, 0, 0, "tab\there", false},
        {RDP_PROBE_NOT_RDP, 0, 0, 0, 0, "\u202egnp.exe", false},
        {RDP_PROBE_NOT_RDP, 0, 0, 0, 0, "\x7f", false},
        {RDP_PROBE_NOT_RDP, 0, 0, 0, 0, "\xc2\x9b" "31m", false},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        put_answer(b, t[i].result, t[i].negotiated, t[i].protocol, t[i].flags, t[i].failure,
                   t[i].detail);
        HelperMsg m = {.type = HELPER_MSG_PROBE_ANSWER, .payload = b->data + 8,
                       .len = b->len - 8, .fd = -1};
        RdpProbeInfo info = {.result = RDP_PROBE_ERROR};
        g_autoptr(GError) err = NULL;
        bool ok = rdp_probe_answer_read(&m, &info, &err);
        g_test_message("%zu: %s", i, err ? err->message : "ok");
        g_assert_cmpint(ok, ==, t[i].ok);
        if (ok) {
            g_assert_no_error(err);
            g_assert_cmpint(info.result, ==, t[i].result);
            g_assert_cmpuint(info.protocol, ==, t[i].protocol);
            g_assert_cmpuint(info.server_flags, ==, t[i].flags);
            g_assert_cmpuint(info.failure_code, ==, t[i].failure);
            g_assert_cmpstr(info.detail, ==, t[i].detail);
        } else {
            g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
            g_assert_cmpint(info.result, ==, RDP_PROBE_ERROR); /* untouched */
            g_assert_null(info.detail);
        }
        rdp_probe_info_clear(&info);
    }
}

/* --- this program as a probe helper that misbehaves (test_helper_hostile) --- */

static int fake_helper_main(const char *mode)
{
    enum { CHAN = 3 };
    struct pollfd p = {.fd = CHAN, .events = POLLIN};
    HelperMsg m;
    if (!mode || poll(&p, 1, 10000) <= 0 || helper_msg_recv(CHAN, &m, NULL) != HELPER_RECV_OK)
        return 2;
    helper_msg_clear(&m);
    if (!strcmp(mode, "exit"))
        return 3;
    g_autoptr(GByteArray) b = g_byte_array_new();
    int pass_fd = -1;
    if (!strcmp(mode, "hang")) {
        g_usleep(60 * G_USEC_PER_SEC);
        return 0;
    }
    if (!strcmp(mode, "garbage")) {
        static const char junk[] = "not a message at all, only bytes";
        g_byte_array_append(b, (const guint8 *)junk, sizeof(junk));
    } else if (!strcmp(mode, "half")) {
        put_answer(b, RDP_PROBE_READY, 0, 0, 0, 0, "the server does not negotiate");
        guint32 len = b->len - 8;
        memcpy(b->data + 4, &len, 4);
        g_byte_array_set_size(b, 14);
    } else if (!strcmp(mode, "wrong-type")) {
        helper_msg_begin(b, HELPER_MSG_FB);
        helper_put_u32(b, 64);
        helper_put_u32(b, 64);
    } else if (!strcmp(mode, "fd")) {
        put_answer(b, RDP_PROBE_READY, 0, 0, 0, 0, "the server does not negotiate");
        pass_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    } else if (!strcmp(mode, "short")) {
        helper_msg_begin(b, HELPER_MSG_PROBE_ANSWER);
        helper_put_u32(b, RDP_PROBE_READY);
    } else if (!strcmp(mode, "trailing")) {
        put_answer(b, RDP_PROBE_READY, 0, 0, 0, 0, "the server does not negotiate");
        helper_put_u32(b, 0);
    } else {
        static const struct {
            const char *mode;
            guint32 result;
            guint8 negotiated;
            guint32 protocol, flags, failure;
            const char *detail;
        } answers[] = {
            {"result-error", RDP_PROBE_ERROR, 0, 0, 0, 0, "an error"},
            {"result-big", G_MAXUINT32, 0, 0, 0, 0, "no such result"},
            {"negotiated-refused", RDP_PROBE_REFUSED, 1, 0, 0, 1, "refused"},
            {"negotiated-2", RDP_PROBE_READY, 2, 1, 0, 0, "selected TLS"},
            {"protocol-alone", RDP_PROBE_READY, 0, RDP_PROTOCOL_SSL, 0, 0, "selected TLS"},
            {"flags-big", RDP_PROBE_READY, 1, RDP_PROTOCOL_SSL, 0x100, 0, "selected TLS"},
            {"failure-ready", RDP_PROBE_READY, 0, 0, 0, 1, "refused"},
            {"detail-escape", RDP_PROBE_NOT_RDP, 0, 0, 0, 0, "\x1b]0;owned\x07\x1b[2J"},
            {"detail-newline", RDP_PROBE_NOT_RDP, 0, 0, 0, 0, "ok\nvmdesk: all fine"},
            {"detail-bidi", RDP_PROBE_NOT_RDP, 0, 0, 0, 0, "file\u202egpj.exe"},
            {"detail-bad-utf8", RDP_PROBE_NOT_RDP, 0, 0, 0, 0, "\xff\xfe"},
            {"detail-empty", RDP_PROBE_NOT_RDP, 0, 0, 0, 0, ""},
            {"detail-none", RDP_PROBE_NOT_RDP, 0, 0, 0, 0, NULL},
        };
        bool found = false;
        for (size_t i = 0; i < G_N_ELEMENTS(answers) && !found; i++) {
            if (strcmp(mode, answers[i].mode))
                continue;
            put_answer(b, answers[i].result, answers[i].negotiated, answers[i].protocol,
                       answers[i].flags, answers[i].failure, answers[i].detail);
            found = true;
        }
        if (!found && !strcmp(mode, "detail-long")) {
            g_autofree char *detail = g_strnfill(RDP_PROBE_DETAIL_MAX + 1, 'a');
            put_answer(b, RDP_PROBE_NOT_RDP, 0, 0, 0, 0, detail);
            found = true;
        }
        if (!found)
            return 4;
    }
    /* Raw: the message's length field is what we wrote ("garbage", "half"). */
    if (!strcmp(mode, "garbage") || !strcmp(mode, "half")) {
        if (write(CHAN, b->data, b->len) != (ssize_t)b->len)
            return 5;
    } else if (!helper_msg_send(CHAN, b, pass_fd, NULL)) {
        return 5;
    }
    g_usleep(60 * G_USEC_PER_SEC); /* the window ends us */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 1 && g_str_has_suffix(argv[0], "vmdesk-probe-helper"))
        return fake_helper_main(g_getenv("VMDESK_TEST_FAKE_PROBE_HELPER"));
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rdp-probe/request", test_request);
    g_test_add_func("/rdp-probe/classify", test_classify);
    g_test_add_func("/rdp-probe/classify-closed", test_classify_closed);
    g_test_add_func("/rdp-probe/names", test_names);
    g_test_add_func("/rdp-probe/closed-port", test_closed_port);
    g_test_add_func("/rdp-probe/accept-then-close", test_accept_then_close);
    g_test_add_func("/rdp-probe/not-rdp-services", test_not_rdp_services);
    g_test_add_func("/rdp-probe/silent-server", test_silent_server);
    g_test_add_func("/rdp-probe/trickle", test_trickle);
    g_test_add_func("/rdp-probe/flood", test_flood);
    g_test_add_func("/rdp-probe/bad-input", test_bad_input);
    g_test_add_func("/rdp-probe/names-resolve", test_names_resolve);
    g_test_add_func("/rdp-probe/exchange-socketpair", test_exchange_socketpair);
    g_test_add_func("/rdp-probe/tunnel", test_tunnel);
    g_test_add_func("/rdp-probe/answer-read", test_answer_read);
    g_test_add_func("/rdp-probe/helper-confined", test_helper_confined);
    g_test_add_func("/rdp-probe/helper-killed", test_helper_killed);
    g_test_add_func("/rdp-probe/helper-hostile", test_helper_hostile);
    return g_test_run();
}
