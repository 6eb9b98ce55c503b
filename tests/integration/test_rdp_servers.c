/* integration-rdp-servers: the RDP readiness probe against real RDP servers
 * on 127.0.0.1, no VM needed:
 *
 *   freerdp-shadow-cli3 (FreeRDP 3.10) sharing our own Xvfb, as it comes
 *     (-auth: no NLA) and restricted to /sec:tls;
 *   xrdp 0.9 run by us (--nodaemon, a config copy in a temporary folder with
 *     our port on 127.0.0.1, our own certificate, no fork, logs in the
 *     folder: a system xrdp is not touched), negotiating, and with
 *     security_layer=tls;
 *   a delaying proxy in front of the shadow server (the slow server);
 *
 * and `vmdesk probe HOST:PORT` on them (lines and exit statuses). Prints the
 * probe's answer times (g_test_message; run with --verbose to see them).
 * Every process it starts dies with it (PR_SET_PDEATHSIG). */
#include "common/error.h"
#include "session/rdp/rdp_probe.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEF RDP_PROBE_DEFAULT_PROTOCOLS

static char *root;

typedef struct {
    const char *name;
    GSubprocess *proc;
    unsigned port;
    char *log;
} Server;

static struct {
    GSubprocess *xvfb;
    char *display;
    Server shadow;      /* as it comes */
    Server shadow_tls;  /* /sec:tls */
    Server xrdp;        /* security_layer=negotiate */
    Server xrdp_tls;    /* security_layer=tls */
} s;

/* --- processes --- */

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_accepts(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* Does the X server of display @n take connections on its unix socket? */
static bool x_socket_accepts(int n)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    g_snprintf(a.sun_path, sizeof(a.sun_path), "/tmp/.X11-unix/X%d", n);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* One try at our own Xvfb on a free display (-displayfd), killed with us.
 * Another X server starting at the same moment can take the display Xvfb
 * reported: then it dies, and we try again. */
static bool xvfb_try_start(void)
{
    int fds[2];
    g_assert_true(g_unix_open_pipe(fds, FD_CLOEXEC, NULL));
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_subprocess_launcher_take_fd(l, fds[1], 10);
    g_autoptr(GError) err = NULL;
    s.xvfb = g_subprocess_launcher_spawn(l, &err, "Xvfb", "-displayfd", "10", "-screen", "0",
                                         "1024x768x24", "-nolisten", "tcp", "-noreset", NULL);
    g_assert_no_error(err);
    /* Read through the newline: Xvfb writes the number and the newline apart. */
    char buf[32] = {0};
    size_t got = 0;
    while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            break;
        ssize_t n = read(fds[0], buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    int display = memchr(buf, '\n', got) ? atoi(buf) : -1;
    /* Alive a moment later, and answering on its own socket. (-noreset: an
     * X server resets when its last client leaves, refusing clients meanwhile;
     * this check and the shadow servers come and go.) */
    g_usleep(100 * 1000);
    if (display >= 0 && g_subprocess_get_identifier(s.xvfb) && x_socket_accepts(display)) {
        s.display = g_strdup_printf(":%d", display);
        return true;
    }
    g_test_message("Xvfb (display %d) did not come up; starting another", display);
    g_subprocess_force_exit(s.xvfb);
    tu_subprocess_wait(s.xvfb, 5000);
    g_clear_object(&s.xvfb);
    return false;
}

static void xvfb_start(void)
{
    for (int i = 0; i < 5; i++)
        if (xvfb_try_start())
            return;
    g_error("no Xvfb could be started");
}

/* Wait until @srv accepts connections; fail with its log if it died. */
static void wait_listening(Server *srv)
{
    gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        if (port_accepts(srv->port))
            return;
        if (!g_subprocess_get_identifier(srv->proc))
            break;
        g_usleep(20 * 1000);
    }
    g_autofree char *text = NULL;
    g_file_get_contents(srv->log, &text, NULL, NULL);
    g_error("%s did not listen on 127.0.0.1:%u (Xvfb %s %s): %s", srv->name, srv->port,
            s.display, g_subprocess_get_identifier(s.xvfb) ? "alive" : "dead", text ? text : "");
}

static void shadow_start(Server *srv, const char *name, const char *extra)
{
    srv->name = name;
    srv->port = free_port();
    srv->log = g_strdup_printf("%s/%s.log", root, name);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_setenv(l, "DISPLAY", s.display, TRUE);
    g_subprocess_launcher_set_stdout_file_path(l, srv->log);
    g_subprocess_launcher_set_stderr_file_path(l, srv->log);
    g_autofree char *port = g_strdup_printf("/port:%u", srv->port);
    g_autoptr(GError) err = NULL;
    /* @extra may be NULL: it then ends the list. */
    srv->proc = g_subprocess_launcher_spawn(l, &err, "freerdp-shadow-cli3",
                                            "/bind-address:127.0.0.1", port, "-auth", extra,
                                            NULL);
    g_assert_no_error(err);
}

/* xrdp with a copy of the system's xrdp.ini: our port on 127.0.0.1, one
 * process (fork=false, so nothing outlives us), our own certificate, logs
 * in our folder, @security_layer. */
static void xrdp_start(Server *srv, const char *name, const char *security_layer)
{
    srv->name = name;
    srv->port = free_port();
    srv->log = g_strdup_printf("%s/%s.log", root, name);
    g_autofree char *dir = g_build_filename(root, name, NULL);
    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    g_autofree char *cert = g_build_filename(dir, "cert.pem", NULL);
    g_autofree char *key = g_build_filename(dir, "key.pem", NULL);
    const char *openssl[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                             "-keyout", key, "-out", cert, "-days", "2", "-subj",
                             "/CN=vmdesk-test", NULL};
    int status = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)openssl, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                   G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(status, ==, 0);

    g_autofree char *ini = NULL;
    g_file_get_contents("/etc/xrdp/xrdp.ini", &ini, NULL, &err);
    g_assert_no_error(err);
    struct {
        const char *key;
        char *value;
    } set[] = {
        {"port", g_strdup_printf("tcp://127.0.0.1:%u", srv->port)},
        {"fork", g_strdup("false")},
        {"security_layer", g_strdup(security_layer)},
        {"certificate", g_strdup(cert)},
        {"key_file", g_strdup(key)},
        {"LogFile", g_strdup(srv->log)},
        {"EnableSyslog", g_strdup("false")},
    };
    GString *out = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(ini, "\n", -1);
    for (char **line = lines; *line; line++) {
        size_t i = 0;
        for (; i < G_N_ELEMENTS(set); i++) {
            g_autofree char *prefix = g_strdup_printf("%s=", set[i].key);
            if (g_str_has_prefix(*line, prefix))
                break;
        }
        if (i < G_N_ELEMENTS(set))
            g_string_append_printf(out, "%s=%s\n", set[i].key, set[i].value);
        else
            g_string_append_printf(out, "%s\n", *line);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(set); i++)
        g_free(set[i].value);
    g_autofree char *conf = g_build_filename(dir, "xrdp.ini", NULL);
    tu_write_file(conf, out->str);
    g_string_free(out, TRUE);

    g_autofree char *xrdp = tu_find_program("xrdp", "xrdp");
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_subprocess_launcher_set_cwd(l, dir);
    srv->proc = g_subprocess_launcher_spawn(l, &err, xrdp, "--nodaemon", "--config", conf, NULL);
    g_assert_no_error(err);
}

static void server_stop(Server *srv)
{
    if (!srv->proc)
        return;
    g_subprocess_send_signal(srv->proc, SIGTERM);
    if (!tu_subprocess_wait(srv->proc, 5000))
        g_test_message("%s needed SIGKILL", srv->name);
    g_clear_object(&srv->proc);
    g_free(srv->log);
}

/* --- probing --- */

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Probe @srv @n times, each READY with @protocol; report the times. */
static void probe_ready_timed(Server *srv, unsigned requested, unsigned protocol, int n)
{
    GArray *ms = g_array_new(FALSE, FALSE, sizeof(double));
    for (int i = 0; i < n; i++) {
        RdpProbeInfo info = {0};
        g_autoptr(GError) err = NULL;
        RdpProbeResult r = rdp_probe("127.0.0.1", srv->port, requested, 3000, &info, &err);
        g_assert_no_error(err);
        if (r != RDP_PROBE_READY)
            g_error("%s: %s (%s)", srv->name, rdp_probe_result_to_string(r), info.detail);
        g_assert_true(info.connected);
        g_assert_true(info.negotiated);
        g_assert_cmpuint(info.protocol, ==, protocol);
        double d = (double)info.elapsed_us / 1000.0;
        g_array_append_val(ms, d);
        rdp_probe_info_clear(&info);
    }
    g_array_sort(ms, cmp_double);
    double med = g_array_index(ms, double, n / 2);
    g_test_message("%s: READY (%s) in min %.2f / median %.2f / max %.2f ms over %d probes",
                   srv->name, rdp_probe_protocol_name(protocol), g_array_index(ms, double, 0),
                   med, g_array_index(ms, double, n - 1), n);
    g_assert_cmpfloat(med, <, 500);
    g_array_unref(ms);
}

static void test_shadow_ready(void)
{
    /* FreeRDP's default request: the shadow server without authentication
     * has no NLA to offer and picks TLS. */
    probe_ready_timed(&s.shadow, DEF, RDP_PROTOCOL_SSL, 20);
    probe_ready_timed(&s.shadow, RDP_PROTOCOL_SSL, RDP_PROTOCOL_SSL, 3);
    probe_ready_timed(&s.shadow, RDP_PROTOCOL_RDP, RDP_PROTOCOL_RDP, 3);
    RdpProbeInfo info = {0};
    g_assert_cmpint(rdp_probe("127.0.0.1", s.shadow.port, DEF, 3000, &info, NULL), ==,
                    RDP_PROBE_READY);
    /* FreeRDP 3.10 announces extended client data and the graphics pipeline. */
    g_assert_cmpuint(info.server_flags, ==, 0x03);
    g_assert_cmpstr(info.detail, ==, "the server selected TLS");
    rdp_probe_info_clear(&info);
}

static void expect_refused(Server *srv, unsigned requested, unsigned code, const char *sentence)
{
    RdpProbeInfo info = {0};
    g_autoptr(GError) err = NULL;
    RdpProbeResult r = rdp_probe("127.0.0.1", srv->port, requested, 3000, &info, &err);
    g_assert_no_error(err);
    g_test_message("%s asked for 0x%x: %s, code %u (%s) in %.2f ms", srv->name, requested,
                   rdp_probe_result_to_string(r), info.failure_code, info.detail,
                   (double)info.elapsed_us / 1000.0);
    g_assert_cmpint(r, ==, RDP_PROBE_REFUSED);
    g_assert_cmpuint(info.failure_code, ==, code);
    g_assert_cmpstr(info.detail, ==, sentence);
    rdp_probe_info_clear(&info);
}

static void test_shadow_refused(void)
{
    /* /sec:tls, asked for standard RDP security only. */
    expect_refused(&s.shadow_tls, RDP_PROTOCOL_RDP, RDP_NEG_FAILURE_SSL_REQUIRED_BY_SERVER,
                   "the server requires TLS");
    /* Without authentication it has no NLA: asked for NLA only, FreeRDP
     * answers SSL_NOT_ALLOWED_BY_SERVER. */
    expect_refused(&s.shadow, RDP_PROTOCOL_HYBRID, RDP_NEG_FAILURE_SSL_NOT_ALLOWED_BY_SERVER,
                   "the server allows only standard RDP security, not TLS or NLA");
    /* And what it does accept still works. */
    probe_ready_timed(&s.shadow_tls, DEF, RDP_PROTOCOL_SSL, 3);
}

static void test_xrdp_ready(void)
{
    probe_ready_timed(&s.xrdp, DEF, RDP_PROTOCOL_SSL, 20);
    probe_ready_timed(&s.xrdp, RDP_PROTOCOL_RDP, RDP_PROTOCOL_RDP, 3);
    RdpProbeInfo info = {0};
    g_assert_cmpint(rdp_probe("127.0.0.1", s.xrdp.port, DEF, 3000, &info, NULL), ==,
                    RDP_PROBE_READY);
    g_assert_cmpuint(info.server_flags, ==, RDP_NEG_FLAG_EXTENDED_CLIENT_DATA);
    rdp_probe_info_clear(&info);
}

static void test_xrdp_refused(void)
{
    expect_refused(&s.xrdp_tls, RDP_PROTOCOL_RDP, RDP_NEG_FAILURE_SSL_REQUIRED_BY_SERVER,
                   "the server requires TLS");
    probe_ready_timed(&s.xrdp_tls, DEF, RDP_PROTOCOL_SSL, 3);
}

/* --- the slow server: a proxy that holds the server's answer back --- */

typedef struct {
    int listen_fd;
    unsigned port;
    unsigned upstream;
    int delay_ms;
    gint stop;
    GThread *thread;
} Proxy;

/* One connection: client bytes go up at once, the server's come down only
 * @delay_ms after the connection was accepted. Ends when either side closes
 * or the proxy stops. */
static void proxy_one(Proxy *p, int c)
{
    int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->upstream),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(u, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(u);
        return;
    }
    gint64 release = g_get_monotonic_time() + (gint64)p->delay_ms * 1000;
    GByteArray *held = g_byte_array_new();
    bool up_open = true;
    while (!g_atomic_int_get(&p->stop)) {
        struct pollfd fds[2] = {{.fd = c, .events = POLLIN}, {.fd = u, .events = POLLIN}};
        poll(fds, up_open ? 2 : 1, 5);
        char buf[4096];
        if (fds[0].revents) {
            ssize_t n = read(c, buf, sizeof(buf));
            if (n <= 0)
                break; /* the client left */
            send(u, buf, (size_t)n, MSG_NOSIGNAL);
        }
        if (up_open && fds[1].revents) {
            ssize_t n = read(u, buf, sizeof(buf));
            if (n > 0)
                g_byte_array_append(held, (guint8 *)buf, (guint)n);
            else
                up_open = false;
        }
        if (held->len && g_get_monotonic_time() >= release) {
            send(c, held->data, held->len, MSG_NOSIGNAL);
            g_byte_array_set_size(held, 0);
        }
        if (!up_open && !held->len)
            break;
    }
    g_byte_array_unref(held);
    close(u);
}

static gpointer proxy_main(gpointer data)
{
    Proxy *p = data;
    while (!g_atomic_int_get(&p->stop)) {
        struct pollfd fd = {.fd = p->listen_fd, .events = POLLIN};
        if (poll(&fd, 1, 20) <= 0)
            continue;
        int c = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        proxy_one(p, c);
        close(c);
    }
    return NULL;
}

static void proxy_start(Proxy *p, unsigned upstream, int delay_ms)
{
    memset(p, 0, sizeof(*p));
    p->upstream = upstream;
    p->delay_ms = delay_ms;
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    g_assert_cmpint(bind(p->listen_fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(p->listen_fd, 4), ==, 0);
    g_assert_cmpint(getsockname(p->listen_fd, (struct sockaddr *)&a, &len), ==, 0);
    p->port = ntohs(a.sin_port);
    p->thread = g_thread_new("delaying-proxy", proxy_main, p);
}

static void proxy_stop(Proxy *p)
{
    g_atomic_int_set(&p->stop, 1);
    g_thread_join(p->thread);
    close(p->listen_fd);
}

static void test_slow_server(void)
{
    Proxy p;
    proxy_start(&p, s.shadow.port, 1500);
    RdpProbeInfo info = {0};
    /* Slow but within the deadline: READY, after the delay. */
    g_assert_cmpint(rdp_probe("127.0.0.1", p.port, DEF, 3000, &info, NULL), ==, RDP_PROBE_READY);
    double ms = (double)info.elapsed_us / 1000.0;
    g_test_message("through a 1500 ms proxy, 3000 ms deadline: READY in %.1f ms", ms);
    g_assert_cmpuint(info.protocol, ==, RDP_PROTOCOL_SSL);
    g_assert_cmpfloat(ms, >=, 1500);
    g_assert_cmpfloat(ms, <, 2500);
    /* Too slow for the deadline: TIMEOUT, on time (the call as a whole). */
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(rdp_probe("127.0.0.1", p.port, DEF, 500, &info, NULL), ==,
                    RDP_PROBE_TIMEOUT);
    ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
    g_test_message("through a 1500 ms proxy, 500 ms deadline: TIMEOUT in %.1f ms", ms);
    g_assert_true(info.connected);
    g_assert_cmpstr(info.detail, ==, "no answer in time");
    g_assert_cmpfloat(ms, >=, 499);
    g_assert_cmpfloat(ms, <, 600);
    rdp_probe_info_clear(&info);
    proxy_stop(&p);
}

/* --- the command line --- */

typedef struct {
    int status;
    char *out;
    char *err;
} Run;

static Run vmdesk(const char *arg0, ...) G_GNUC_NULL_TERMINATED;

static Run vmdesk(const char *arg0, ...)
{
    const char *bin = g_getenv("VMDESK_BIN");
    g_assert_nonnull(bin);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)bin);
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    Run r = {0};
    int wait = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &wait, &err));
    g_assert_no_error(err);
    g_assert_true(WIFEXITED(wait));
    r.status = WEXITSTATUS(wait);
    g_autofree char *line = g_strjoinv(" ", (char **)argv->pdata + 1);
    g_test_message("vmdesk %s -> %d\n%s%s", line, r.status, r.out, r.err);
    g_ptr_array_free(argv, TRUE);
    return r;
}

static void run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
}

static void test_cli(void)
{
    g_autofree char *shadow = g_strdup_printf("127.0.0.1:%u", s.shadow.port);
    Run r = vmdesk("probe", shadow, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_autofree char *want = g_strdup_printf("ready: TLS (%s)\n", shadow);
    g_assert_cmpstr(r.out, ==, want);
    run_clear(&r);

    g_autofree char *xrdp = g_strdup_printf("rdp://127.0.0.1:%u", s.xrdp.port);
    r = vmdesk("probe", xrdp, "--json", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, r.out, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(o, "result"), ==, "ready");
    g_assert_true(json_object_get_boolean_member(o, "ready"));
    g_assert_cmpstr(json_object_get_string_member(o, "protocol"), ==, "tls");
    g_assert_cmpstr(json_object_get_string_member(o, "protocol-name"), ==, "TLS");
    g_assert_cmpint(json_object_get_int_member(o, "server-flags"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(o, "port"), ==, s.xrdp.port);
    g_assert_true(json_object_get_null_member(o, "vm"));
    g_assert_true(json_object_get_null_member(o, "guest-agent"));
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "requested")), ==, 3);
    run_clear(&r);

    g_autofree char *tls_only = g_strdup_printf("127.0.0.1:%u", s.shadow_tls.port);
    r = vmdesk("probe", tls_only, "--protocols", "rdp", NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_autofree char *want_refused =
        g_strdup_printf("refused: the server requires TLS (%s)\n", tls_only);
    g_assert_cmpstr(r.out, ==, want_refused);
    run_clear(&r);

    unsigned closed = free_port();
    g_autofree char *closed_addr = g_strdup_printf("127.0.0.1:%u", closed);
    r = vmdesk("probe", closed_addr, NULL);
    g_assert_cmpint(r.status, ==, 5);
    g_autofree char *want_closed =
        g_strdup_printf("not ready: nothing listens on %s (connection refused)\n", closed_addr);
    g_assert_cmpstr(r.out, ==, want_closed);
    run_clear(&r);

    Proxy slow;
    proxy_start(&slow, s.shadow.port, 1500);
    g_autofree char *slow_addr = g_strdup_printf("127.0.0.1:%u", slow.port);
    r = vmdesk("probe", slow_addr, "--timeout", "500", NULL);
    g_assert_cmpint(r.status, ==, 5);
    g_autofree char *want_slow =
        g_strdup_printf("not ready: no answer from %s within 500 ms\n", slow_addr);
    g_assert_cmpstr(r.out, ==, want_slow);
    run_clear(&r);
    proxy_stop(&slow);

    r = vmdesk("probe", shadow, "--protocols", "tls,ssl3", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "unknown RDP security protocol \"ssl3\""));
    run_clear(&r);
    r = vmdesk("probe", "127.0.0.1:99999", NULL);
    g_assert_cmpint(r.status, ==, 2);
    run_clear(&r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    root = tu_tmpdir();
    xvfb_start();
    shadow_start(&s.shadow, "shadow", NULL);
    shadow_start(&s.shadow_tls, "shadow-tls", "/sec:tls");
    xrdp_start(&s.xrdp, "xrdp", "negotiate");
    xrdp_start(&s.xrdp_tls, "xrdp-tls", "tls");
    Server *all[] = {&s.shadow, &s.shadow_tls, &s.xrdp, &s.xrdp_tls};
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        wait_listening(all[i]);

    g_test_add_func("/rdp-servers/shadow/ready", test_shadow_ready);
    g_test_add_func("/rdp-servers/shadow/refused", test_shadow_refused);
    g_test_add_func("/rdp-servers/xrdp/ready", test_xrdp_ready);
    g_test_add_func("/rdp-servers/xrdp/refused", test_xrdp_refused);
    g_test_add_func("/rdp-servers/slow-server", test_slow_server);
    g_test_add_func("/rdp-servers/cli", test_cli);
    int status = g_test_run();

    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        server_stop(all[i]);
    g_subprocess_send_signal(s.xvfb, SIGTERM);
    tu_subprocess_wait(s.xvfb, 5000);
    g_clear_object(&s.xvfb);
    g_free(s.display);
    tu_rm_rf(root);
    return status;
}
