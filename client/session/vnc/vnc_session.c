/* The VNC session: vnc_session_create gives the window a confined session
 * (session/helper/) whose helper process runs this file's local session:
 * libvncclient on the session thread, on the socket the window connected,
 * drawing straight into the shared framebuffer, inputs from the session's
 * queue (vnc_helper.c). */
#include "session/vnc/vnc_session.h"

#include "session/helper/helper.h"
#include "session/session_priv.h"
#include "session/vnc/vnc_priv.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "common/log.h"

#include <errno.h>
#include <poll.h>
#include <rfb/rfbclient.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char *password;         /* or NULL; never logged */
    char *where;            /* the server, for messages */
    int fd;                 /* the connected socket, until libvncclient takes it */
    rfbClient *client;      /* session thread only */
    bool ext_keys_checked;
    bool paused;            /* session thread: no server message is read (VNC_INPUT_PAUSE) */
} Vnc;

/* The VNC session's own input (session_input_push): @bytes is one byte, 1
 * to pause reading updates, 0 to resume (vnc_session_pause). */
enum {
    VNC_INPUT_PAUSE = SESSION_INPUT_PROTOCOL,
};

static char client_tag;      /* address used as libvncclient's client-data tag */
static GPrivate last_error = G_PRIVATE_INIT(g_free);  /* last rfbClientErr message */
static GPrivate last_log = G_PRIVATE_INIT(g_free);    /* last rfbClientLog message */

void vnc_target_clear(VncTarget *t)
{
    g_free(t->host);
    g_free(t->socket_path);
    g_free(t->label);
    if (t->password)
        memset(t->password, 0, strlen(t->password));
    g_free(t->password);
    memset(t, 0, sizeof(*t));
}

bool vnc_target_parse(const char *url, VncTarget *t, GError **error)
{
    memset(t, 0, sizeof(*t));
    if (g_str_has_prefix(url, "vnc+unix://")) {
        const char *path = url + strlen("vnc+unix://");
        if (*path != '/') {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "%s: write vnc+unix:///absolute/path/to/socket", url);
            return false;
        }
        t->socket_path = g_strdup(path);
        return true;
    }
    if (!g_str_has_prefix(url, "vnc://")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is not a VNC address; write vnc://HOST[:PORT] or vnc+unix:///PATH", url);
        return false;
    }
    const char *rest = url + strlen("vnc://");
    g_autofree char *hostport = g_strndup(rest, strcspn(rest, "/"));
    const char *colon = strrchr(hostport, ':');
    if (hostport[0] == '[') { /* [::1]:5900 */
        const char *close = strchr(hostport, ']');
        if (!close) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: unbalanced [", url);
            return false;
        }
        t->host = g_strndup(hostport + 1, (gsize)(close - hostport - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        t->host = colon ? g_strndup(hostport, (gsize)(colon - hostport)) : g_strdup(hostport);
    }
    t->port = 5900;
    if (colon) {
        guint64 p;
        if (!g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &p, NULL)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: \"%s\" is not a port", url,
                        colon + 1);
            vnc_target_clear(t);
            return false;
        }
        t->port = p < 100 ? 5900 + (int)p : (int)p;
    }
    if (!*t->host) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s has no host", url);
        vnc_target_clear(t);
        return false;
    }
    return true;
}

/* libvncclient logs through two global function pointers: route them to our
 * log, and keep the last error of this thread for the failure message. */
static void log_info(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void log_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vd_debug("libvncclient: %s", g_strchomp(msg));
    g_private_replace(&last_log, msg);
}

static void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_strchomp(msg);
    vd_debug("libvncclient error: %s", msg);
    g_private_replace(&last_error, msg);
}

static Session *session_of(rfbClient *c)
{
    return rfbClientGetClientData(c, &client_tag);
}

static rfbBool on_malloc_fb(rfbClient *c)
{
    Session *s = session_of(c);
    bool first = s->fb.pixels == NULL;
    session_fb_resize(s, c->width, c->height);
    /* The library draws straight into the shared memory the window maps:
     * no copy per frame. The session owns it (never freed by us). */
    c->frameBuffer = (uint8_t *)s->fb.pixels;
    if (!first)
        session_post(s, SESSION_EV_RESIZED, c->width, c->height, NULL, NULL);
    return TRUE;
}

/* libvncclient drew a rectangle into the framebuffer: mark it. */
static void on_update(rfbClient *c, int x, int y, int w, int h)
{
    Session *s = session_of(c);
    g_mutex_lock(&s->fb.lock);
    if (s->fb.width == c->width && s->fb.height == c->height) {
        int x1 = MIN(x + w, c->width), y1 = MIN(y + h, c->height);
        x = MAX(x, 0);
        y = MAX(y, 0);
        session_fb_damage(s, x, y, x1 - x, y1 - y);
    }
    g_mutex_unlock(&s->fb.lock);
}

static void on_finished(rfbClient *c)
{
    Session *s = session_of(c);
    g_mutex_lock(&s->fb.lock);
    session_fb_update_done(s);
    g_mutex_unlock(&s->fb.lock);
}

static void on_cut_text(rfbClient *c, const char *text, int len)
{
    /* RFB cut text is Latin-1. */
    g_autofree char *utf8 = g_convert(text, len, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
    if (utf8)
        session_post(session_of(c), SESSION_EV_CLIPBOARD, 0, 0, g_steal_pointer(&utf8), NULL);
}

/* The server's pointer shape (rich cursor): shown as the window's own
 * pointer, so it moves without network lag and there is only one. */
static void on_cursor_shape(rfbClient *c, int xhot, int yhot, int w, int h, int bpp)
{
    if (w <= 0 || h <= 0 || w > 512 || h > 512 || bpp != 4 || !c->rcSource)
        return;
    uint32_t *argb = g_new(uint32_t, (gsize)w * h);
    const uint32_t *src = (const uint32_t *)c->rcSource;
    for (int i = 0; i < w * h; i++) {
        bool opaque = c->rcMask ? c->rcMask[i] != 0 : true;
        argb[i] = opaque ? 0xff000000u | (src[i] & 0xffffff) : 0;
    }
    session_post_cursor(session_of(c), argb, w, h, xhot, yhot);
}

static char *on_password(rfbClient *c)
{
    Vnc *v = session_of(c)->priv;
    /* libvncclient frees what we return. */
    return strdup(v->password ? v->password : "");
}

static void send_input(Vnc *v, SessionInput *in)
{
    rfbClient *c = v->client;
    switch (in->type) {
    case SESSION_INPUT_KEY:
        /* QEMU's extended key event carries the physical key, so the guest's
         * layout decides the character; other servers get the keysym. */
        if (!in->qnum || !SendExtendedKeyEvent(c, in->keysym, in->qnum, in->down))
            if (in->keysym)
                SendKeyEvent(c, in->keysym, in->down);
        break;
    case SESSION_INPUT_POINTER: {
        int mask = 0;
        if (in->buttons & SESSION_BUTTON_LEFT)
            mask |= rfbButton1Mask;
        if (in->buttons & SESSION_BUTTON_MIDDLE)
            mask |= rfbButton2Mask;
        if (in->buttons & SESSION_BUTTON_RIGHT)
            mask |= rfbButton3Mask;
        int wheel = 0;
        if (in->buttons & SESSION_WHEEL_UP)
            wheel = rfbButton4Mask;
        else if (in->buttons & SESSION_WHEEL_DOWN)
            wheel = rfbButton5Mask;
        else if (in->buttons & SESSION_WHEEL_LEFT)
            wheel = 1 << 5;
        else if (in->buttons & SESSION_WHEEL_RIGHT)
            wheel = 1 << 6;
        if (wheel) {
            SendPointerEvent(c, in->x, in->y, mask | wheel);
        }
        SendPointerEvent(c, in->x, in->y, mask);
        break;
    }
    case SESSION_INPUT_CLIPBOARD: {
        gsize len = 0;
        g_autofree char *latin1 =
            g_convert_with_fallback(in->text, -1, "ISO-8859-1", "UTF-8", "?", NULL, &len, NULL);
        if (latin1)
            SendClientCutText(c, latin1, (int)len);
        break;
    }
    case VNC_INPUT_PAUSE: {
        gsize n = 0;
        const uint8_t *b = in->bytes ? g_bytes_get_data(in->bytes, &n) : NULL;
        v->paused = n == 1 && b[0];
        break;
    }
    default:
        break; /* no resizing: VNC servers choose their size */
    }
}

void vnc_session_pause(Session *s, bool paused)
{
    uint8_t b = paused;
    session_input_push(s, &(SessionInput){.type = VNC_INPUT_PAUSE, .bytes = g_bytes_new(&b, 1)});
}

/* Hand shake on the connected socket; NULL with @error set on failure. */
static rfbClient *open_client(Session *s, const char *where, GError **error)
{
    Vnc *v = s->priv;
    rfbClient *c = rfbGetClient(8, 3, 4);
    /* Pixels as 0x00RRGGBB words: what the window's texture and PNGs use. */
    c->format.redShift = 16;
    c->format.greenShift = 8;
    c->format.blueShift = 0;
    c->canHandleNewFBSize = TRUE;
    /* A server on this host (a VM's QEMU on its vnc.sock, a server on a
     * loopback address) gets raw only: compressing and JPEG-coding pixels
     * that never leave the machine only burns CPU on both ends (QEMU's VNC
     * worker shares the cores with the guest's TCG vCPUs), where raw is
     * lossless and costs a copy. Listing only raw (and copyrect, a copy
     * inside our own framebuffer) is what gets it: QEMU uses the first
     * encoding listed, but Xvnc, asked for raw first, still sends TightJPEG
     * or ZRLE for photo-like areas when the client lists them at all. A
     * socket pair (ssh -W, a descriptor from libvirt) may lead to another
     * host: compressed encodings there. */
    bool local = vd_fd_peer_is_local(v->fd);
    c->appData.encodingsString =
        local ? "raw copyrect" : "tight zrle ultra copyrect hextile zlib corre rre raw";
    vd_info("VNC to %s: %s, so asking for %s", where,
            local ? "a server on this host" : "a server that may be on another host",
            c->appData.encodingsString);
    c->appData.compressLevel = 1;
    c->appData.qualityLevel = 9;
    c->appData.useRemoteCursor = TRUE;
    c->GotCursorShape = on_cursor_shape;
    c->MallocFrameBuffer = on_malloc_fb;
    c->GotFrameBufferUpdate = on_update;
    c->FinishedFrameBufferUpdate = on_finished;
    c->GotXCutText = on_cut_text;
    c->GetPassword = on_password;
    rfbClientSetClientData(c, &client_tag, s);
    /* Connected by the window process: libvncclient only talks (with
     * listenSpecified it connects nothing). */
    c->sock = v->fd;
    v->fd = -1;
    c->listenSpecified = TRUE;
    c->serverHost = strdup(where);
    g_private_replace(&last_error, NULL);
    g_private_replace(&last_log, NULL);
    /* rfbInitClient frees the client itself when it fails. */
    if (!rfbInitClient(c, NULL, NULL)) {
        const char *why = g_private_get(&last_error);
        if (!why)
            why = g_private_get(&last_log);
        bool auth = why && (strstr(why, "uthentication") || strstr(why, "password"));
        g_set_error(error, VD_ERROR, auth ? VD_ERROR_INVALID : VD_ERROR_FAILED,
                    "cannot connect to the VNC server at %s%s%s%s", where, why ? ": " : "",
                    why ? why : "", auth ? " (wrong password?)" : "");
        return NULL;
    }
    return c;
}

static void close_client(rfbClient *c)
{
    if (c->sock != RFB_INVALID_SOCKET)
        close(c->sock);
    c->sock = RFB_INVALID_SOCKET;
    c->frameBuffer = NULL; /* the session's */
    rfbClientCleanup(c);
}

/* Serve the connection until it ends or we are asked to stop. Returns false
 * with @error when it broke; *@resync when it broke in a way a fresh
 * connection mends (see below). */
static bool run_client(Session *s, rfbClient *c, const char *where, bool *resync, GError **error)
{
    Vnc *v = s->priv;
    *resync = false;
    while (!session_stopping(s)) {
        /* Paused, the socket is not read: after the update in flight the
         * server gets no request, so it sends nothing more. */
        struct pollfd p[2] = {{.fd = v->paused ? -1 : c->sock, .events = POLLIN},
                              {.fd = session_wake_fd(s), .events = POLLIN}};
        int r = c->buffered && !v->paused ? 1 : poll(p, 2, 500);
        if (r < 0 && errno != EINTR) {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "poll: %s", g_strerror(errno));
            return false;
        }
        if (p[1].revents & POLLIN)
            session_wake_clear(s);
        SessionInput *in;
        while ((in = session_input_pop(s))) {
            send_input(v, in);
            session_input_free(in);
        }
        if (v->paused)
            continue;
        if (c->buffered || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            g_private_replace(&last_error, NULL);
            if (!HandleRFBServerMessage(c)) {
                const char *log = g_private_get(&last_log);
                const char *why = g_private_get(&last_error);
                if (!why && log && strstr(log, "too large"))
                    why = log;
                /* QEMU may send a rectangle of the new size before the
                 * resize when the guest switches modes; libvncclient then
                 * stops mid-message. The stream cannot be resynced, a new
                 * connection can. */
                *resync = why && strstr(why, "Rect too large");
                g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                            "the VNC connection to %s was lost%s%s", where, why ? ": " : "",
                            why ? why : "");
                return false;
            }
        }
    }
    return true;
}

/* The session thread: hand shake and serve the one connection. A broken
 * stream that a new connection mends ends with HELPER_RESYNC: the window
 * process connects again (the helper cannot). */
static GError *vnc_run(Session *s)
{
    Vnc *v = s->priv;
    GError *err = NULL;
    rfbClient *c = open_client(s, v->where, &err);
    if (!c)
        return err;
    v->client = c;
    session_post(s, SESSION_EV_CONNECTED, c->width, c->height, NULL, NULL);
    bool resync = false;
    if (!run_client(s, c, v->where, &resync, &err) && resync)
        err->domain = HELPER_RESYNC;
    v->client = NULL;
    close_client(c);
    return err;
}

static void vnc_finish(Session *s)
{
    Vnc *v = s->priv;
    if (v->password)
        memset(v->password, 0, strlen(v->password));
    g_free(v->password);
    g_free(v->where);
    if (v->fd >= 0)
        close(v->fd);
    g_free(v);
}

static const SessionImpl vnc_impl = {
    .protocol = "vnc",
    .can_resize = false,
    .run = vnc_run,
    .finish = vnc_finish,
};

char *vnc_target_where(const VncTarget *t)
{
    if (t->open_fd)
        return g_strdup(t->label ? t->label : "the VNC server");
    return t->socket_path ? g_strdup(t->socket_path) : g_strdup_printf("%s:%d", t->host, t->port);
}

static void vnc_target_copy(VncTarget *to, const VncTarget *from)
{
    to->host = g_strdup(from->host);
    to->port = from->port;
    to->socket_path = g_strdup(from->socket_path);
    to->password = g_strdup(from->password);
    to->open_fd = from->open_fd;
    to->open_data = from->open_data;
    to->label = g_strdup(from->label);
}

Session *vnc_session_create_local(const char *where, const char *password, int fd,
                                  SessionNotifyFunc notify, void *data)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        rfbClientLog = log_info;
        rfbClientErr = log_error;
        g_once_init_leave(&once, 1);
    }
    Vnc *v = g_new0(Vnc, 1);
    v->password = g_strdup(password);
    v->where = g_strdup(where);
    v->fd = fd;
    Session *s = session_alloc(&vnc_impl, v, notify, data);
    s->fb_shared = true;
    return s;
}

static int connect_target(void *data, GError **error)
{
    return vnc_connect(data, error);
}

static void free_target(void *data)
{
    vnc_target_clear(data);
    g_free(data);
}

Session *vnc_session_create(const VncTarget *target, SessionNotifyFunc notify, void *data)
{
    VncTarget *t = g_new0(VncTarget, 1);
    vnc_target_copy(t, target);
    g_autofree char *where = vnc_target_where(target);
    HelperSpec spec = {.protocol = "vnc",
                       .where = where,
                       .password = target->password,
                       .connect = connect_target,
                       .connect_data = t,
                       .free_connect_data = free_target};
    return helper_session_create(&spec, notify, data);
}
