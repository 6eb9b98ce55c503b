/* The servers of integration-fetch (fetch_servers.h). */
#include "fetch_servers.h"

#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

unsigned fetch_servers_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g_assert_cmpint(bind(s, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    socklen_t len = sizeof(a);
    g_assert_cmpint(getsockname(s, (struct sockaddr *)&a, &len), ==, 0);
    close(s);
    return ntohs(a.sin_port);
}

static bool port_answers(unsigned port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(s);
    return ok;
}

static void wait_port(unsigned port, GSubprocess *p, const char *what)
{
    for (int i = 0; i < 200; i++) {
        if (port_answers(port))
            return;
        g_assert_nonnull(g_subprocess_get_identifier(p)); /* still running */
        g_usleep(50 * 1000);
    }
    g_error("%s does not answer on 127.0.0.1:%u", what, port);
}


static void start_nginx(FetchServers *s, const char *root, const char *www)
{
    g_autofree char *prefix = g_build_filename(root, "nginx", NULL);
    g_assert_cmpint(g_mkdir_with_parents(prefix, 0700), ==, 0);
    s->access_log = g_build_filename(prefix, "access.log", NULL);
    s->nginx_port = fetch_servers_free_port();
    s->tls_port = fetch_servers_free_port();
    /* A self-signed certificate: vmdesk must refuse it. */
    g_autofree char *cert = g_build_filename(prefix, "cert.pem", NULL);
    g_autofree char *key = g_build_filename(prefix, "key.pem", NULL);
    const char *openssl[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                             "-keyout", key, "-out", cert, "-days", "2", "-subj",
                             "/CN=127.0.0.1", NULL};
    int wait = 0;
    g_autoptr(GError) oerr = NULL;
    g_spawn_sync(NULL, (char **)openssl, NULL,
                 G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                 NULL, NULL, NULL, NULL, &wait, &oerr);
    g_assert_no_error(oerr);
    g_assert_true(g_spawn_check_wait_status(wait, NULL));
    g_autofree char *conf = g_strdup_printf(
        "daemon off;\n"
        "master_process off;\n"
        "pid %1$s/nginx.pid;\n"
        "error_log %1$s/error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "  log_format fetch '$request_method $request_uri $status \"$http_range\" "
        "$body_bytes_sent';\n"
        "  access_log %2$s fetch;\n"
        "  client_body_temp_path %1$s/tmp-body;\n"
        "  proxy_temp_path %1$s/tmp-proxy;\n"
        "  fastcgi_temp_path %1$s/tmp-fastcgi;\n"
        "  uwsgi_temp_path %1$s/tmp-uwsgi;\n"
        "  scgi_temp_path %1$s/tmp-scgi;\n"
        "  types { }\n"
        "  default_type application/octet-stream;\n"
        "  server {\n"
        "    listen 127.0.0.1:%3$u;\n"
        "    root %4$s;\n"
        "    location /slow/ { alias %4$s/; limit_rate " SLOW_RATE "; }\n"
        "  }\n"
        "  server {\n"
        "    listen 127.0.0.1:%5$u ssl;\n"
        "    ssl_certificate %6$s;\n"
        "    ssl_certificate_key %7$s;\n"
        "    root %4$s;\n"
        "  }\n"
        "}\n",
        prefix, s->access_log, s->nginx_port, www, s->tls_port, cert, key);
    g_autofree char *conf_path = g_build_filename(prefix, "nginx.conf", NULL);
    tu_write_file(conf_path, conf);
    g_autofree char *err_log = g_build_filename(prefix, "error.log", NULL);
    g_autofree char *bin = tu_find_program("nginx", "nginx-light");
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GError) err = NULL;
    s->nginx = g_subprocess_launcher_spawn(l, &err, bin, "-e", err_log, "-p", prefix, "-c",
                                        conf_path, NULL);
    g_assert_no_error(err);
    wait_port(s->nginx_port, s->nginx, "nginx");
}

static void start_python(FetchServers *s, const char *www)
{
    s->python_port = fetch_servers_free_port();
    g_autofree char *port = g_strdup_printf("%u", s->python_port);
    g_autoptr(GSubprocessLauncher) l =
        tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_autoptr(GError) err = NULL;
    s->python = g_subprocess_launcher_spawn(l, &err, "python3", "-m", "http.server", "--bind",
                                         "127.0.0.1", "--directory", www, port, NULL);
    g_assert_no_error(err);
    wait_port(s->python_port, s->python, "python3 -m http.server");
}

/* HTTP/1.0, no Content-Length, no ranges: 64 MiB until the connection closes. */
static const char stream_py[] =
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.0'\n"
    "    def do_GET(self):\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Type', 'application/octet-stream')\n"
    "        self.end_headers()\n"
    "        chunk = b'x' * 65536\n"
    "        try:\n"
    "            for _ in range(1024):\n"
    "                self.wfile.write(chunk)\n"
    "        except OSError:\n"
    "            pass\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    "http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";

static void start_stream(FetchServers *s, const char *root)
{
    s->stream_port = fetch_servers_free_port();
    g_autofree char *script = g_build_filename(root, "stream.py", NULL);
    tu_write_file(script, stream_py);
    g_autofree char *port = g_strdup_printf("%u", s->stream_port);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GError) err = NULL;
    s->stream = g_subprocess_launcher_spawn(l, &err, "python3", script, port, NULL);
    g_assert_no_error(err);
    wait_port(s->stream_port, s->stream, "the streaming test server");
}

static void stop_server(GSubprocess **p)
{
    if (!*p)
        return;
    g_subprocess_send_signal(*p, SIGTERM);
    tu_subprocess_wait(*p, 5000);
    g_clear_object(p);
}

void fetch_servers_start(FetchServers *s, const char *root, const char *www)
{
    start_nginx(s, root, www);
    start_python(s, www);
    start_stream(s, root);
}

void fetch_servers_stop(FetchServers *s)
{
    stop_server(&s->nginx);
    stop_server(&s->python);
    stop_server(&s->stream);
    g_clear_pointer(&s->access_log, g_free);
}
