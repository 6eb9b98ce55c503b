/* The window side of a confined session (helper.h): a SessionImpl whose
 * thread connects the server socket, starts the helper with it, feeds it
 * the input queue and applies what it sends (helper_window_apply.c). A
 * helper that dies or breaks the protocol ends the session with an error;
 * it is always reaped, its framebuffer unmapped with the session. */
#include "session/helper/helper.h"

#include "session/helper/helper_proto.h"
#include "session/helper/helper_sound.h"
#include "session/helper/helper_window_priv.h"
#include "session/session_priv.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "common/log.h"
#include "common/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    char *protocol;
    char *where;
    char *password;
    GBytes *options;
    HelperConnectFunc connect;
    HelperCertFunc check_cert;
    void *connect_data;
    GDestroyNotify free_connect_data;
    GError *cert_error;   /* why the window refused the server's certificate */
    bool sound_on;        /* the session has sound (HelperSpec.sound) */
    HelperSound *sound;   /* the current helper's relayed sound, or NULL */
    HelperClip clip;      /* RDP: clipboard pictures and files */
    HelperEncodeFunc encode_input;
} Helper;

/* Reap the helper: it leaves once the channel closes; kill it if it does
 * not within a second (a hung or hostile one). Returns the wait status. */
static int reap_helper(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 100; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return status;
        g_usleep(10 * 1000);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* What the relay's sends need to take the helper's messages meanwhile. */
typedef struct {
    Session *s;
    int chan;
    HelperClosed *closed;
    GError **broken;       /* what the helper did wrong, as the relay's reads */
    unsigned depth;        /* sends in progress that take messages meanwhile */
} Drain;

/* A question (a certificate, a piece of a file) is answered while another
 * answer is being sent, but not deeper: an honest helper waits for its
 * answer; one that keeps asking without reading would nest the window's
 * sends (and their buffers) without end. */
#define DRAIN_ANSWER_DEPTH 1

static bool answer_too_deep(Drain *d)
{
    if (d->depth <= DRAIN_ANSWER_DEPTH)
        return false;
    g_set_error(d->broken, VD_ERROR, VD_ERROR_PROTOCOL,
                "the session helper asked again without reading the window's answer");
    return true;
}

static bool drain_one(void *data, GError **unused);

static Helper *h_of(Drain *d)
{
    return d->s->priv;
}

/* The server's certificate, which the helper asks the window to judge: the
 * verdict goes back, a refusal's reason is kept for the session's error. */
static bool answer_cert(Drain *d, const HelperMsg *m)
{
    Helper *h = d->s->priv;
    HelperCertQuestion q;
    bool read = helper_window_read_cert(m, &q, d->broken);
    if (read && !h->check_cert)
        g_set_error(d->broken, VD_ERROR, VD_ERROR_PROTOCOL,
                    "the session helper asked about a certificate its protocol has none of");
    if (!read || !h->check_cert) {
        helper_cert_question_clear(&q);
        return false;
    }
    g_clear_error(&h->cert_error);
    bool trusted = h->check_cert(h->connect_data, q.host, q.port, q.subject, q.pem,
                                 &h->cert_error);
    helper_cert_question_clear(&q);
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_CERT_VERDICT);
    helper_put_u8(b, trusted);
    if (!helper_msg_send_draining(d->chan, b, drain_one, d, NULL))
        return false;
    if (!trusted && !*d->broken) {
        /* The verdict is sent, but a helper taken over before the check
         * could ignore it: the session ends here and the helper is killed;
         * the session's error is the refusal's reason (h->cert_error). */
        g_set_error(d->broken, VD_ERROR, VD_ERROR_PROTOCOL,
                    "the window refused the server's certificate");
        return false;
    }
    return true;
}

/* Take one message from the helper: a question for the window, or what
 * helper_window_apply checks and applies. False: the session ended or
 * broke (@d->broken, @d->closed). */
static bool take_msg(Drain *d)
{
    HelperMsg m;
    HelperRecv got = helper_msg_recv(d->chan, &m, d->broken);
    if (got != HELPER_RECV_OK)
        return false;
    bool ok;
    if (m.type == HELPER_MSG_CERT) {
        ok = !answer_too_deep(d) && answer_cert(d, &m);
    } else if (helper_sound_msg(m.type)) {
        /* A helper of a session without sound never plays nor records. */
        ok = h_of(d)->sound ? helper_sound_apply(h_of(d)->sound, &m, d->broken)
                            : (g_set_error(d->broken, VD_ERROR, VD_ERROR_PROTOCOL,
                                           "the session helper sent sound in a session without"),
                               false);
    } else if (m.type >= HELPER_MSG_CLIP_IMAGE && m.type <= HELPER_MSG_CLIP_END &&
               !d->closed->seen && g_str_equal(h_of(d)->protocol, "rdp")) {
        g_autoptr(GByteArray) reply = g_byte_array_new();
        ok = helper_clip_apply(d->s, &h_of(d)->clip, &m, reply, d->broken) &&
             (!reply->len || (!answer_too_deep(d) &&
                              helper_msg_send_draining(d->chan, reply, drain_one, d, NULL)));
    } else if (m.type >= HELPER_MSG_RAIL_WINDOW && m.type <= HELPER_MSG_RAIL_WINDOW + 0xf &&
               !d->closed->seen && g_str_equal(h_of(d)->protocol, "rdp")) {
        ok = helper_rail_apply(d->s, &m, d->broken);
    } else {
        ok = helper_window_apply(d->s, &m, d->closed, d->broken);
    }
    helper_msg_clear(&m);
    return ok && !d->closed->seen;
}

/* One message from the helper while an input waits for room (the helper may
 * be blocked sending to us), handled as the relay's reads are. */
static bool drain_one(void *data, GError **unused)
{
    (void)unused;
    Drain *d = data;
    d->depth++;
    bool ok = take_msg(d);
    d->depth--;
    return ok;
}

/* False: the helper is gone (a failed send says nothing: the caller's
 * wait status does), or @d's drain ended the session. */
static bool send_input(Drain *d, GByteArray *b, const SessionInput *in)
{
    switch (in->type) {
    case SESSION_INPUT_KEY:
        helper_msg_begin(b, HELPER_MSG_KEY);
        helper_put_u32(b, in->qnum);
        helper_put_u32(b, in->keysym);
        helper_put_u8(b, in->down);
        break;
    case SESSION_INPUT_POINTER:
        helper_msg_begin(b, HELPER_MSG_POINTER);
        helper_put_i32(b, in->x);
        helper_put_i32(b, in->y);
        helper_put_u32(b, in->buttons);
        break;
    case SESSION_INPUT_CLIPBOARD:
        /* The host copied something else: its earlier files are no longer
         * the server's to read. */
        helper_clip_forget_files(&h_of(d)->clip);
        if (!in->text || strlen(in->text) > HELPER_MSG_MAX - 4)
            return true;
        helper_msg_begin(b, HELPER_MSG_CLIP_TEXT);
        helper_put_str(b, in->text);
        break;
    case SESSION_INPUT_RESIZE:
        helper_msg_begin(b, HELPER_MSG_RESIZE);
        helper_put_i32(b, in->w);
        helper_put_i32(b, in->h);
        helper_put_i32(b, in->scale);
        break;
    case SESSION_INPUT_CLIPBOARD_PNG:
    case SESSION_INPUT_CLIPBOARD_FILES:
    case SESSION_INPUT_CLIP_CANCEL:
        if (!g_str_equal(h_of(d)->protocol, "rdp") ||
            !helper_clip_encode_input(&h_of(d)->clip, in, b))
            return true; /* VNC has neither */
        break;
    case SESSION_INPUT_REFRESH:
        helper_msg_begin(b, HELPER_MSG_REFRESH);
        helper_put_i32(b, in->x);
        helper_put_i32(b, in->y);
        helper_put_i32(b, in->w);
        helper_put_i32(b, in->h);
        break;
    default: {
        /* A protocol's own input: one of its own messages (RDP:
         * RemoteApp's), or one that carries bytes or nothing (RDP: the
         * monitor layout). */
        if (h_of(d)->encode_input && h_of(d)->encode_input(in, b))
            break;
        gsize n = 0;
        const void *p = in->bytes ? g_bytes_get_data(in->bytes, &n) : NULL;
        if (in->type < SESSION_INPUT_PROTOCOL || in->text || in->paths || n > HELPER_MSG_MAX - 8)
            return true; /* not relayed yet */
        helper_msg_begin(b, HELPER_MSG_INPUT);
        helper_put_u32(b, (uint32_t)in->type);
        helper_put_u32(b, (uint32_t)n);
        helper_put_bytes(b, p, n);
    }
    }
    return helper_msg_send_draining(d->chan, b, drain_one, d, NULL);
}

/* Relay between the session and a started helper until either ends. */
static void relay(Session *s, int chan, HelperClosed *closed, GError **broken)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    Drain d = {.s = s, .chan = chan, .closed = closed, .broken = broken};
    while (!session_stopping(s)) {
        struct pollfd p[2] = {{.fd = chan, .events = POLLIN},
                              {.fd = session_wake_fd(s), .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            g_set_error(broken, VD_ERROR, VD_ERROR_FAILED, "poll: %s", g_strerror(errno));
            return;
        }
        if (p[1].revents & POLLIN) {
            session_wake_clear(s);
            SessionInput *in;
            bool ok = true;
            while ((in = session_input_pop(s))) {
                ok = ok && send_input(&d, b, in);
                session_input_free(in);
            }
            HelperSound *sound = ((Helper *)s->priv)->sound;
            while (ok && sound && helper_sound_next_mic(sound, b))
                ok = helper_msg_send_draining(chan, b, drain_one, &d, NULL);
            /* The helper is gone, broke a rule or ended the session while
             * we waited to send: @broken or @closed says which. */
            if (!ok)
                return;
        }
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !take_msg(&d))
            return; /* the session ended: the helper is reaped next */
    }
}

/* One helper for one connection. Returns why it ended (NULL: asked). */
static GError *serve_once(Session *s, Helper *h, int server, bool *resync)
{
    GError *err = NULL;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        close(server);
        return g_error_new(VD_ERROR, VD_ERROR_FAILED, "socketpair: %s", g_strerror(errno));
    }
    pid_t pid = helper_spawn(HELPER_SESSION_PROGRAM, h->protocol, sv[1], server, &err);
    close(sv[1]);
    close(server);
    /* A hung helper must not block this thread in a send for good. */
    vd_fd_set_nonblocking(sv[0]);
    if (pid < 0) {
        close(sv[0]);
        return err;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_CONFIG);
    helper_put_str(b, h->where);
    helper_put_str(b, h->password);
    gsize n = 0;
    const void *options = h->options ? g_bytes_get_data(h->options, &n) : NULL;
    helper_put_u32(b, (uint32_t)n);
    helper_put_bytes(b, options, n);
    HelperClosed closed = {0};
    GError *broken = NULL;
    bool sent = helper_msg_send(sv[0], b, -1, NULL);
    memset(b->data, 0, b->len); /* the password */
    if (h->sound_on)
        h->sound = helper_sound_create(s, h->where);
    if (sent)
        relay(s, sv[0], &closed, &broken);
    g_clear_pointer(&h->sound, helper_sound_destroy);
    helper_clip_drop_copy(&h->clip); /* a copy of its server's files it had not ended */
    if (broken)
        kill(pid, SIGKILL); /* it broke the protocol: no second chance */
    close(sv[0]);
    int status = reap_helper(pid);
    *resync = closed.resync;
    if (session_stopping(s)) {
        g_clear_error(&broken);
        g_clear_error(&closed.error);
        return NULL;
    }
    if (h->cert_error) {
        /* The window refused the certificate: its reason, not the helper's. */
        g_clear_error(&broken);
        g_clear_error(&closed.error);
        return g_steal_pointer(&h->cert_error);
    }
    if (broken) {
        vd_warn("%s session to %s: %s", h->protocol, h->where, broken->message);
        g_clear_error(&closed.error);
        err = g_error_new(VD_ERROR, VD_ERROR_PROTOCOL,
                          "the %s connection to %s was lost: its helper process misbehaved (%s)",
                          h->protocol, h->where, broken->message);
        g_error_free(broken);
        return err;
    }
    if (closed.seen)
        return closed.error;
    g_autofree char *how = vd_describe_wait_status(status);
    return g_error_new(VD_ERROR, VD_ERROR_FAILED,
                       "the %s connection to %s was lost: its helper process %s", h->protocol,
                       h->where, how);
}

static GError *helper_run(Session *s)
{
    Helper *h = s->priv;
    int resyncs = 0;
    gint64 window_start = g_get_monotonic_time();
    for (;;) {
        GError *err = NULL;
        int server = h->connect(h->connect_data, &err);
        if (server < 0)
            return err;
        bool resync = false;
        err = serve_once(s, h, server, &resync);
        if (!err || !resync || session_stopping(s))
            return err;
        /* A stream that cannot be resynced (VNC: QEMU changing modes): a
         * new connection mends it; at most a few a minute. */
        if (g_get_monotonic_time() - window_start > 60 * G_USEC_PER_SEC) {
            window_start = g_get_monotonic_time();
            resyncs = 0;
        }
        if (++resyncs > 5)
            return err;
        vd_debug("reconnecting after: %s", err->message);
        g_error_free(err);
    }
}

static void helper_finish(Session *s)
{
    Helper *h = s->priv;
    g_free(h->protocol);
    g_free(h->where);
    if (h->password)
        memset(h->password, 0, strlen(h->password));
    g_free(h->password);
    if (h->options)
        g_bytes_unref(h->options);
    g_clear_error(&h->cert_error);
    helper_clip_clear(&h->clip);
    if (h->free_connect_data)
        h->free_connect_data(h->connect_data);
    g_free(h);
}

static const SessionImpl helper_vnc_impl = {
    .protocol = "vnc",
    .can_resize = false,
    .run = helper_run,
    .finish = helper_finish,
};

static const SessionImpl helper_rdp_impl = {
    .protocol = "rdp",
    .can_resize = true,
    .run = helper_run,
    .finish = helper_finish,
};

Session *helper_session_create(const HelperSpec *spec, SessionNotifyFunc notify, void *data)
{
    bool rdp = g_str_equal(spec->protocol, "rdp");
    g_assert(rdp || g_str_equal(spec->protocol, "vnc"));
    Helper *h = g_new0(Helper, 1);
    h->protocol = g_strdup(spec->protocol);
    h->where = g_strdup(spec->where);
    h->sound_on = spec->sound;
    h->password = g_strdup(spec->password);
    h->options = spec->options ? g_bytes_ref(spec->options) : NULL;
    h->connect = spec->connect;
    h->check_cert = spec->check_cert;
    h->connect_data = spec->connect_data;
    h->free_connect_data = spec->free_connect_data;
    h->clip.src_fd = -1;
    h->encode_input = spec->encode_input;
    return session_alloc(rdp ? &helper_rdp_impl : &helper_vnc_impl, h, notify, data);
}
