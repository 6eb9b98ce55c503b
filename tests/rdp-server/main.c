/* vmdesk-test-rdp-server: command line, listening socket, signals, and the
 * one peer thread. See srv.h for the threads and README.md for the flags. */
#include "common/nla_crypto.h"
#include "srv.h"
#include "srv_clip_rich.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>


#include <freerdp/channels/wtsvc.h>
#include <freerdp/listener.h>
#include <freerdp/log.h>
#include <freerdp/primitives.h>
#include <winpr/ssl.h>
#include <winpr/synch.h>
#include <winpr/tools/makecert.h>
#include <winpr/wlog.h>

#define PROG "vmdesk-test-rdp-server"

void srv_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    flockfile(stdout);
    fputs("VMDESK-SRV ", stdout);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    funlockfile(stdout);
    va_end(ap);
}

void srv_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    flockfile(stderr);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}

char *srv_escape(const guint8 *b, size_t n)
{
    GString *s = g_string_sized_new(n + 16);
    for (size_t i = 0; i < n; i++) {
        guint8 c = b[i];
        if (c == '\\')
            g_string_append(s, "\\\\");
        else if (c == '\n')
            g_string_append(s, "\\n");
        else if (c == '\r')
            g_string_append(s, "\\r");
        else if (c == '\t')
            g_string_append(s, "\\t");
        else if (c >= 0x20 && c < 0x7F)
            g_string_append_c(s, (char)c);
        else
            g_string_append_printf(s, "\\x%02x", c);
    }
    return g_string_free(s, FALSE);
}

/* --- command line --- */

typedef struct {
    int port;
    char *cert, *key, *size, *tone, *sam, *clipboard, *clipboard_offer;
    char **reads, **writes, **times;
    int drive_piece;
    int frames;
    int frames_pause;
    int mic_hz;
    gboolean rail;
} Options;

static void drive_op_free(gpointer p)
{
    SrvDriveOp *op = p;
    g_free(op->drive);
    g_free(op->path);
    g_free(op->text);
    g_free(op);
}

/* "NAME/RELPATH" (@with_text: "NAME/RELPATH=TEXT") into an op. */
static SrvDriveOp *drive_op_parse(const char *arg, bool with_text, GError **error)
{
    const char *form = with_text ? "NAME/RELPATH=TEXT" : "NAME/RELPATH";
    const char *slash = strchr(arg, '/');
    const char *eq = with_text ? strchr(arg, '=') : NULL;
    if (!slash || slash == arg || (with_text && (!eq || eq < slash))) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "%s: write %s (NAME is the drive's name as the client announces it)", arg,
                    form);
        return NULL;
    }
    const char *path_end = eq ? eq : arg + strlen(arg);
    if ((size_t)(slash - arg) > 8 || path_end == slash + 1) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "%s: NAME has 1 to 8 characters (RDP's device names) and RELPATH is not "
                    "empty; write %s", arg, form);
        return NULL;
    }
    if (eq && strlen(eq + 1) > 2048) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "%.*s: TEXT has at most 2048 bytes", (int)(eq - arg), arg);
        return NULL;
    }
    SrvDriveOp *op = g_new0(SrvDriveOp, 1);
    op->drive = g_strndup(arg, (gsize)(slash - arg));
    op->path = g_strndup(slash + 1, (gsize)(path_end - slash - 1));
    op->text = eq ? g_strdup(eq + 1) : NULL;
    return op;
}

static bool parse_config(Options *o, SrvConfig *cfg, GError **error)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->drive_ops = g_ptr_array_new_with_free_func(drive_op_free);
    if (o->port < 0 || o->port > 65535) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--port %d: give a TCP port, 1-65535 (0: any free port)", o->port);
        return false;
    }
    cfg->port = (unsigned)o->port;
    if (!o->cert != !o->key) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--cert and --key go together (or leave both out for a generated pair)");
        return false;
    }
    const char *files[] = {o->cert, o->key, o->sam};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        if (files[i] && g_access(files[i], R_OK) != 0) {
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "%s: cannot read it (%s)", files[i], g_strerror(errno));
            return false;
        }
    }
    cfg->cert_file = g_strdup(o->cert);
    cfg->key_file = g_strdup(o->key);
    cfg->sam_file = g_strdup(o->sam);
    cfg->width = 1024;
    cfg->height = 768;
    if (o->size && strcmp(o->size, "client") == 0) {
        cfg->width = cfg->height = 0;
    } else if (o->size) {
        unsigned w = 0, h = 0;
        char end = 0;
        if (sscanf(o->size, "%ux%u%c", &w, &h, &end) != 2 || w < 64 || h < 64 || w > 8192 ||
            h > 8192) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--size %s: write WxH, 64-8192 each (or \"client\")", o->size);
            return false;
        }
        cfg->width = w;
        cfg->height = h;
    }
    if (o->tone) {
        unsigned hz = 0, ms = 0;
        char end = 0;
        if (sscanf(o->tone, "%u:%u%c", &hz, &ms, &end) != 2 || hz < 20 || hz > 20000 || ms < 1 ||
            ms > 600000) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--sound-tone %s: write HZ:MS, 20-20000 Hz for 1-600000 ms", o->tone);
            return false;
        }
        cfg->tone_hz = hz;
        cfg->tone_ms = ms;
    }
    char **kinds[] = {o->reads, o->writes, o->times};
    for (int pass = 0; pass < 3; pass++) {
        char **args = kinds[pass];
        for (size_t i = 0; args && args[i]; i++) {
            SrvDriveOp *op = drive_op_parse(args[i], pass == 1, error);
            if (!op)
                return false;
            op->timed = pass == 2;
            g_ptr_array_add(cfg->drive_ops, op);
        }
    }
    if (o->drive_piece < 0 || (o->drive_piece && (o->drive_piece < 512 ||
                                                   o->drive_piece > 4 * 1024 * 1024))) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--drive-piece %d: give 512 to 4194304 bytes", o->drive_piece);
        return false;
    }
    cfg->drive_piece = o->drive_piece ? (unsigned)o->drive_piece : 65536;
    if (o->frames < 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--frames %d: 0 or more",
                    o->frames);
        return false;
    }
    cfg->frames = (unsigned)o->frames;
    if (o->frames_pause < 0 || o->frames_pause > 60000) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--frames-pause %d: 0-60000 ms", o->frames_pause);
        return false;
    }
    cfg->frames_pause_ms = (unsigned)o->frames_pause;
    if (o->mic_hz && (o->mic_hz < 100 || o->mic_hz > 5000)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--microphone %d: 100-5000 Hz", o->mic_hz);
        return false;
    }
    cfg->mic_hz = (unsigned)o->mic_hz;
    cfg->rail = o->rail;
    if (o->clipboard && !g_utf8_validate(o->clipboard, -1, NULL)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--clipboard: the text is not UTF-8");
        return false;
    }
    cfg->clipboard = g_strdup(o->clipboard);
    if (o->clipboard_offer) {
        SrvClipRich *check = srv_clip_rich_new(o->clipboard_offer, error);
        if (!check)
            return false;
        srv_clip_rich_free(check);
        cfg->clipboard_offer = g_strdup(o->clipboard_offer);
        if (!cfg->clipboard)
            cfg->clipboard = g_strdup(""); /* the channel, without text of ours */
    }
    return true;
}

static void config_clear(SrvConfig *cfg)
{
    g_free(cfg->cert_file);
    g_free(cfg->key_file);
    g_free(cfg->sam_file);
    g_free(cfg->clipboard);
    g_free(cfg->clipboard_offer);
    if (cfg->drive_ops)
        g_ptr_array_unref(cfg->drive_ops);
    memset(cfg, 0, sizeof(*cfg));
}

/* --- certificate, when none is given --- */

/* A fresh self-signed pair in a new private folder (returned; the caller
 * removes it). */
static char *make_certificate(SrvConfig *cfg, GError **error)
{
    char *dir = g_dir_make_tmp("vmdesk-test-rdp-server-XXXXXX", error);
    if (!dir)
        return NULL;
    const char *argv[] = {"makecert", "-rdp", "-live", "-silent", "-y", "1", "-n", "localhost"};
    MAKECERT_CONTEXT *mc = makecert_context_new();
    bool ok = mc && makecert_context_process(mc, G_N_ELEMENTS(argv), (char **)argv) >= 0 &&
              makecert_context_set_output_file_name(mc, "server") == 1 &&
              makecert_context_output_certificate_file(mc, dir) == 1 &&
              makecert_context_output_private_key_file(mc, dir) == 1;
    makecert_context_free(mc);
    if (!ok) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "could not generate a certificate in %s; give --cert and --key", dir);
        g_rmdir(dir);
        g_free(dir);
        return NULL;
    }
    cfg->cert_file = g_build_filename(dir, "server.crt", NULL);
    cfg->key_file = g_build_filename(dir, "server.key", NULL);
    return dir;
}

static void remove_certificate(SrvConfig *cfg, char *dir)
{
    if (!dir)
        return;
    g_unlink(cfg->cert_file);
    g_unlink(cfg->key_file);
    g_rmdir(dir);
    g_free(dir);
}

/* --- the listener and the one session --- */

typedef struct {
    SrvConfig cfg;
    HANDLE stop;       /* manual-reset event: SIGTERM/SIGINT arrived */
    GThread *thread;   /* the session thread, joined by the main thread */
    gint busy;         /* atomic: the session thread still runs */
} Server;

typedef struct {
    Server *server;
    freerdp_peer *client;
} PeerStart;

static gpointer peer_main(gpointer data)
{
    PeerStart *ps = data;
    srv_peer_run(ps->client, &ps->server->cfg, ps->server->stop);
    g_atomic_int_set(&ps->server->busy, 0);
    g_free(ps);
    return NULL;
}

static BOOL peer_accepted(freerdp_listener *listener, freerdp_peer *client)
{
    Server *server = listener->info;
    if (server->thread && g_atomic_int_get(&server->busy)) {
        srv_log("refused %s: a client is connected already", client->hostname);
        return FALSE;
    }
    if (server->thread)
        g_thread_join(server->thread);
    PeerStart *ps = g_new0(PeerStart, 1);
    ps->server = server;
    ps->client = client;
    g_atomic_int_set(&server->busy, 1);
    server->thread = g_thread_new("rdp-peer", peer_main, ps);
    return TRUE;
}

/* A TCP socket listening on 127.0.0.1:@port (0: any); -1 and @error on failure. */
static int listen_loopback(unsigned port, unsigned *bound, GError **error)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socket: %s",
                    g_strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot listen on 127.0.0.1:%u (%s); pick another --port", port, g_strerror(e));
        close(fd);
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

/* FreeRDP's own log goes to stderr, so stdout carries only our lines. */
static void route_wlog_to_stderr(void)
{
    wLog *root = WLog_GetRoot();
    if (!root || !WLog_SetLogAppenderType(root, WLOG_APPENDER_CONSOLE))
        return;
    wLogAppender *app = WLog_GetLogAppender(root);
    if (app)
        WLog_ConfigureAppender(app, "outputstream", (void *)"stderr");
}

static int serve(Server *server, GError **error)
{
    unsigned port = 0;
    int fd = listen_loopback(server->cfg.port, &port, error);
    if (fd < 0)
        return 1;
    freerdp_listener *listener = freerdp_listener_new();
    if (!listener || !listener->OpenFromSocket(listener, fd)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "FreeRDP's listener refused the socket");
        freerdp_listener_free(listener);
        close(fd);
        return 1;
    }
    listener->info = server;
    listener->PeerAccepted = peer_accepted;

    /* SIGTERM and SIGINT arrive through a signalfd; the threads created
     * later inherit the blocked mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    HANDLE sig_event = sfd >= 0 ? CreateFileDescriptorEvent(NULL, TRUE, FALSE, sfd, WINPR_FD_READ)
                                : NULL;
    if (!sig_event) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot watch for SIGTERM");
        listener->Close(listener);
        freerdp_listener_free(listener);
        return 1;
    }

    srv_log("listening 127.0.0.1:%u", port);
    int status = 0;
    for (;;) {
        HANDLE handles[34];
        DWORD n = listener->GetEventHandles(listener, handles, 32);
        if (n == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the listener has no socket");
            status = 1;
            break;
        }
        handles[n++] = sig_event;
        if (WaitForMultipleObjects(n, handles, FALSE, INFINITE) == WAIT_FAILED) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "waiting for clients failed");
            status = 1;
            break;
        }
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            srv_log("stopping on signal %u", si.ssi_signo);
            break;
        }
        if (!listener->CheckFileDescriptor(listener)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "accepting a client failed");
            status = 1;
            break;
        }
    }
    SetEvent(server->stop);
    if (server->thread)
        g_thread_join(server->thread);
    server->thread = NULL;
    listener->Close(listener);
    freerdp_listener_free(listener);
    CloseHandle(sig_event);
    close(sfd);
    return status;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    Options o = {0};
    GOptionEntry entries[] = {
        {"port", 0, 0, G_OPTION_ARG_INT, &o.port, "TCP port on 127.0.0.1 (0: any free)", "P"},
        {"cert", 0, 0, G_OPTION_ARG_FILENAME, &o.cert, "PEM certificate for TLS", "FILE"},
        {"key", 0, 0, G_OPTION_ARG_FILENAME, &o.key, "PEM private key for TLS", "FILE"},
        {"size", 0, 0, G_OPTION_ARG_STRING, &o.size, "desktop size (default 1024x768; "
         "\"client\": the client's)", "WxH"},
        {"sound-tone", 0, 0, G_OPTION_ARG_STRING, &o.tone, "play a sine over rdpsnd", "HZ:MS"},
        {"microphone", 0, 0, G_OPTION_ARG_INT, &o.mic_hz,
         "open audin (the client's microphone) and measure a HZ tone in what it sends", "HZ"},
        {"drive-read", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.reads,
         "read a file on the client's redirected drive NAME and log it", "NAME/RELPATH"},
        {"drive-write", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.writes,
         "write TEXT to a file on the client's drive NAME", "NAME/RELPATH=TEXT"},
        {"drive-time", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.times,
         "read all of a file on the client's drive NAME; log its size, time and SHA-256",
         "NAME/RELPATH"},
        {"drive-piece", 0, 0, G_OPTION_ARG_INT, &o.drive_piece,
         "bytes per Read request of --drive-time (default 65536)", "BYTES"},
        {"frames", 0, 0, G_OPTION_ARG_INT, &o.frames,
         "after connect, push N full-screen frames as fast as the client acknowledges", "N"},
        {"frames-pause", 0, 0, G_OPTION_ARG_INT, &o.frames_pause,
         "wait MS after the first picture is acknowledged before the frames", "MS"},
        {"sam", 0, 0, G_OPTION_ARG_FILENAME, &o.sam, "NTLM SAM file (turns NLA on)", "FILE"},
        {"rail", 0, 0, G_OPTION_ARG_NONE, &o.rail,
         "RemoteApp for clients that ask for it; window commands on stdin", NULL},
        {"clipboard", 0, 0, G_OPTION_ARG_STRING, &o.clipboard,
         "open the clipboard channel and put TEXT on it (\"\": no text of ours)", "TEXT"},
        {"clipboard-offer", 0, 0, G_OPTION_ARG_STRING, &o.clipboard_offer,
         "open the clipboard channel and put a picture or files on it: picture:WxH, "
         "files:N:SIZE[:MS], or hostile:dotdot|absolute|drive|long|count|more|less|picture "
         "(srv_clip_rich.c); the client's pictures and files are fetched and logged", "SPEC"},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) oc = g_option_context_new("- an RDP server for vmdesk's tests");
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) err = NULL;
    Server server = {0};
    if (!g_option_context_parse(oc, &argc, &argv, &err) || !parse_config(&o, &server.cfg, &err)) {
        srv_warn("%s", err->message);
        config_clear(&server.cfg);
        return 2;
    }
    if (argc > 1) {
        srv_warn("unexpected argument %s; see --help", argv[1]);
        config_clear(&server.cfg);
        return 2;
    }

    route_wlog_to_stderr();
    if (!nla_crypto_load(&err))
        srv_warn("%s; NLA (--sam) will fail", err->message);
    g_clear_error(&err);
    winpr_InitializeSSL(WINPR_SSL_INIT_DEFAULT);
    /* The codecs' first use of FreeRDP's primitives would otherwise pick
     * generic or CPU-optimised ones by a benchmark: 2 x 150 ms of work
     * that took 1.3 s on a loaded 2-core machine, on the peer thread,
     * between the client's activation and its first picture. The
     * benchmark picks the CPU-optimised ones anyway (Debian's build has no
     * OpenCL). */
    primitives_set_hints(PRIMITIVES_ONLY_CPU);

    char *cert_dir = NULL;
    int status = 1;
    if (!srv_wts_install()) {
        srv_warn("cannot register FreeRDP's WTS API");
    } else if (!server.cfg.cert_file && !(cert_dir = make_certificate(&server.cfg, &err))) {
        srv_warn("%s", err->message);
    } else if ((server.stop = CreateEvent(NULL, TRUE, FALSE, NULL)) == NULL) {
        srv_warn("cannot create an event");
    } else {
        status = serve(&server, &err);
        if (status != 0)
            srv_warn("%s", err->message);
        CloseHandle(server.stop);
    }
    remove_certificate(&server.cfg, cert_dir);
    config_clear(&server.cfg);
    g_free(o.cert);
    g_free(o.key);
    g_free(o.size);
    g_free(o.tone);
    g_free(o.sam);
    g_free(o.clipboard);
    g_free(o.clipboard_offer);
    g_strfreev(o.reads);
    g_strfreev(o.writes);
    g_strfreev(o.times);
    return status;
}
