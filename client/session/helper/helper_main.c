/* The helper side of a confined session (helper.h): start-up, confinement,
 * and the relay between the local session and the window's channel. */
#include "session/helper/helper.h"

#include "session/helper/helper_escape.h"
#include "session/helper/helper_proto.h"
#include "session/clip_image.h"
#include "session/helper/helper_sound.h"
#include "session/helper/helper_window_priv.h"
#include "session/session_priv.h"
#include "session/session_words.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

G_DEFINE_QUARK(vmdesk-helper-resync, helper_resync)

void helper_config_clear(HelperConfig *c)
{
    g_free(c->where);
    if (c->password)
        memset(c->password, 0, strlen(c->password));
    g_free(c->password);
    if (c->options)
        g_bytes_unref(c->options);
    memset(c, 0, sizeof(*c));
}

static bool read_config(HelperConfig *config, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + HELPER_MSG_TIMEOUT_MS * 1000;
    if (vd_fd_wait(HELPER_FD_CHANNEL, POLLIN, deadline) <= 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "no configuration from the window");
        return false;
    }
    HelperMsg m;
    if (helper_msg_recv(HELPER_FD_CHANNEL, &m, error) != HELPER_RECV_OK)
        return false;
    HelperReader r;
    helper_reader_init(&r, m.payload, m.len);
    config->where = helper_get_str(&r, 4096);
    config->password = helper_get_str(&r, 4096);
    uint32_t n = helper_get_u32(&r);
    const uint8_t *options = helper_get_bytes(&r, n);
    config->options = g_bytes_new(options, options ? n : 0);
    bool ok = m.type == HELPER_MSG_CONFIG && config->where && helper_reader_done(&r);
    if (m.payload)
        memset(m.payload, 0, m.len); /* the password */
    helper_msg_clear(&m);
    if (!ok)
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "bad configuration from the window");
    return ok;
}

/* Written by the local session's notify hook, read by helper_serve. */
static int wake_fd = -1;
/* The channel's writers: helper_serve, and helper_check_cert on the
 * session thread. */
static GMutex send_lock;
/* The window's certificate verdicts, for helper_check_cert. */
static GAsyncQueue *verdicts;
/* The window's answers to helper_clip_read (GBytes: u32 serial, u8 ok,
 * data). */
static GAsyncQueue *clip_answers;
/* Who reads the window's protocol messages (0x30-0x3f). */
static HelperInputFunc input_hook;

bool helper_begin(HelperConfig *config, GError **error)
{
    return helper_begin_with(config, NULL, NULL, error);
}

bool helper_begin_with(HelperConfig *config, const char *const *read_only,
                       const char *const *read_write, GError **error)
{
    return helper_begin_read(config, error) && helper_confine(read_only, read_write, error);
}

bool helper_begin_read(HelperConfig *config, GError **error)
{
    memset(config, 0, sizeof(*config));
    /* Only the descriptors the window gave: channel and server socket. */
    close_range(HELPER_FD_SERVER + 1, ~0U, 0);
    if (fcntl(HELPER_FD_CHANNEL, F_GETFD) < 0 || fcntl(HELPER_FD_SERVER, F_GETFD) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "vmdesk-session-helper is started by vmdesk itself, with its descriptors");
        return false;
    }
    fcntl(HELPER_FD_CHANNEL, F_SETFD, FD_CLOEXEC);
    fcntl(HELPER_FD_SERVER, F_SETFD, FD_CLOEXEC);
    /* Before the session exists: its notify hook (helper_session_notify) is
     * fixed when it is made and may run on its thread at once. */
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "eventfd: %s", g_strerror(errno));
        return false;
    }
    /* Never outlive the window's session thread that started it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "the window process is gone");
        return false;
    }
    verdicts = g_async_queue_new();
    clip_answers = g_async_queue_new_full((GDestroyNotify)g_bytes_unref);
    return read_config(config, error);
}

typedef struct {
    Session *s;
    unsigned sent_generation;
    bool sent_fb;
    GByteArray *buf;
} Relay;

static bool send_msg(Relay *r, int pass_fd)
{
    g_autoptr(GError) err = NULL;
    g_mutex_lock(&send_lock);
    bool ok = helper_msg_send(HELPER_FD_CHANNEL, r->buf, pass_fd, &err);
    g_mutex_unlock(&send_lock);
    if (ok)
        return true;
    vd_debug("%s", err->message);
    return false;
}

/* Before any event: the window maps the current framebuffer first. */
static bool sync_fb(Relay *r)
{
    SessionFramebuffer *fb = &r->s->fb;
    bool ok = true;
    g_mutex_lock(&fb->lock);
    if (fb->pixels && fb->memfd >= 0 && (!r->sent_fb || fb->generation != r->sent_generation)) {
        helper_msg_begin(r->buf, HELPER_MSG_FB);
        helper_put_u32(r->buf, (uint32_t)fb->width);
        helper_put_u32(r->buf, (uint32_t)fb->height);
        ok = send_msg(r, fb->memfd);
        r->sent_fb = true;
        r->sent_generation = fb->generation;
    }
    g_mutex_unlock(&fb->lock);
    return ok;
}

static bool send_update(Relay *r)
{
    SessionFramebuffer *fb = &r->s->fb;
    int x, y, w, h;
    g_mutex_lock(&fb->lock);
    bool dirty = session_take_dirty(r->s, &x, &y, &w, &h);
    bool complete = fb->frames > 0;
    g_mutex_unlock(&fb->lock);
    if (!dirty)
        return true;
    helper_msg_begin(r->buf, HELPER_MSG_UPDATE);
    helper_put_i32(r->buf, x);
    helper_put_i32(r->buf, y);
    helper_put_i32(r->buf, w);
    helper_put_i32(r->buf, h);
    helper_put_u8(r->buf, complete);
    return send_msg(r, -1);
}

static bool fill_memfd(int fd, const void *data, size_t len)
{
    if (ftruncate(fd, (off_t)len) != 0)
        return false;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return false;
    memcpy(p, data, len);
    munmap(p, len);
    return true;
}

/* The server's picture (our own PNG, made from its checked DIB) as RGBA
 * pixels in a sealed memfd: the window makes its own PNG of them. */
static bool send_clip_image(Relay *r, GBytes *png)
{
    ClipImage img;
    g_autoptr(GError) err = NULL;
    gsize n = 0;
    const uint8_t *p = png ? g_bytes_get_data(png, &n) : NULL;
    if (!p || !clip_image_from_png(p, n, &img, &err)) {
        vd_warn("clipboard: the server's picture is not passed on: %s",
                err ? err->message : "none");
        return true;
    }
    size_t len = (size_t)img.width * img.height * 4;
    int fd = memfd_create("vmdesk-clipboard", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    bool ok = fd >= 0 && fill_memfd(fd, img.rgba, len) &&
              fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) ==
                  0;
    bool sent = true;
    if (ok) {
        helper_msg_begin(r->buf, HELPER_MSG_CLIP_IMAGE);
        helper_put_u32(r->buf, img.width);
        helper_put_u32(r->buf, img.height);
        sent = send_msg(r, fd);
    } else {
        vd_warn("clipboard: the server's picture is not passed on: %s", g_strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    clip_image_clear(&img);
    return sent;
}

/* Relay one event; false once the session has ended or the window left. */
static bool relay_event(Relay *r, SessionEvent *ev)
{
    if (!sync_fb(r))
        return false;
    switch (ev->type) {
    case SESSION_EV_FRAME:
        return send_update(r);
    case SESSION_EV_CONNECTED:
    case SESSION_EV_RESIZED:
    case SESSION_EV_CLIPBOARD:
    case SESSION_EV_STATUS:
    case SESSION_EV_LOGON:
    case SESSION_EV_CLIP_PROGRESS:
        helper_msg_begin(r->buf, HELPER_MSG_EVENT);
        helper_put_u32(r->buf, ev->type);
        helper_put_str(r->buf, ev->text);
        if (!send_msg(r, -1))
            return false;
        if (ev->type == SESSION_EV_CONNECTED)
            helper_escape_try(); /* a test's exploited library; nothing otherwise */
        return true;
    case SESSION_EV_CURSOR: {
        int n = ev->pixels ? ev->w * ev->h : 0;
        helper_msg_begin(r->buf, HELPER_MSG_CURSOR);
        helper_put_i32(r->buf, ev->w);
        helper_put_i32(r->buf, ev->h);
        helper_put_i32(r->buf, ev->x);
        helper_put_i32(r->buf, ev->y);
        helper_put_u32(r->buf, (uint32_t)n);
        helper_put_bytes(r->buf, ev->pixels, (size_t)n * 4);
        return send_msg(r, -1);
    }
    case SESSION_EV_CLIPBOARD_PNG:
        return send_clip_image(r, ev->bytes);
    case SESSION_EV_RAIL_WINDOW:
    case SESSION_EV_RAIL_DELETE:
    case SESSION_EV_RAIL_ICON:
    case SESSION_EV_RAIL_ACTIVE:
    case SESSION_EV_RAIL_EXEC:
        return !helper_rail_encode_event(ev, r->buf) || send_msg(r, -1);
    case SESSION_EV_CLOSED:
        helper_msg_begin(r->buf, HELPER_MSG_CLOSED);
        helper_put_u32(r->buf, ev->error ? (uint32_t)ev->error->code : 0);
        helper_put_u8(r->buf, ev->error && ev->error->domain == HELPER_RESYNC);
        helper_put_str(r->buf, ev->error ? ev->error->message : NULL);
        /* The words are the window's: only their code goes. */
        helper_put_u32(r->buf, (uint32_t)session_words_of(ev->error));
        send_msg(r, -1);
        return false;
    default:
        return true;
    }
}

/* One message from the window: input for the server. */
static void relay_input(Relay *r, const HelperMsg *m)
{
    HelperReader rd;
    helper_reader_init(&rd, m->payload, m->len);
    switch (m->type) {
    case HELPER_MSG_KEY: {
        uint32_t qnum = helper_get_u32(&rd), keysym = helper_get_u32(&rd);
        bool down = helper_get_u8(&rd);
        if (helper_reader_done(&rd))
            session_key(r->s, qnum, keysym, down);
        break;
    }
    case HELPER_MSG_POINTER: {
        int x = helper_get_i32(&rd), y = helper_get_i32(&rd);
        unsigned buttons = helper_get_u32(&rd);
        if (helper_reader_done(&rd))
            session_pointer(r->s, x, y, buttons);
        break;
    }
    case HELPER_MSG_CLIP_TEXT: {
        g_autofree char *text = helper_get_str(&rd, HELPER_MSG_MAX);
        if (text && helper_reader_done(&rd))
            session_clipboard(r->s, text);
        break;
    }
    case HELPER_MSG_RESIZE: {
        int w = helper_get_i32(&rd), h = helper_get_i32(&rd), scale = helper_get_i32(&rd);
        if (helper_reader_done(&rd))
            session_resize(r->s, w, h, scale);
        break;
    }
    case HELPER_MSG_REFRESH: {
        int x = helper_get_i32(&rd), y = helper_get_i32(&rd);
        int w = helper_get_i32(&rd), h = helper_get_i32(&rd);
        if (helper_reader_done(&rd))
            session_refresh(r->s, x, y, w, h);
        break;
    }
    case HELPER_MSG_INPUT: {
        uint32_t kind = helper_get_u32(&rd), n = helper_get_u32(&rd);
        const uint8_t *bytes = helper_get_bytes(&rd, n);
        if (helper_reader_done(&rd))
            session_input_push(r->s, &(SessionInput){.type = (int)kind,
                                                     .bytes = n ? g_bytes_new(bytes, n) : NULL});
        break;
    }
    case HELPER_MSG_CLIP_CANCEL:
        if (helper_reader_done(&rd))
            session_clip_cancel(r->s);
        break;
    case HELPER_MSG_CLIP_PNG:
    case HELPER_MSG_CLIP_FILES: {
        uint32_t n = helper_get_u32(&rd);
        const uint8_t *bytes = helper_get_bytes(&rd, n);
        if (!helper_reader_done(&rd))
            break;
        /* The files come as their list only (no host path): the session
         * reads their bytes with helper_clip_read. */
        session_input_push(r->s, &(SessionInput){.type = m->type == HELPER_MSG_CLIP_PNG
                                                             ? SESSION_INPUT_CLIPBOARD_PNG
                                                             : SESSION_INPUT_CLIPBOARD_FILES,
                                                 .bytes = g_bytes_new(bytes, n)});
        break;
    }
    case HELPER_MSG_CLIP_DATA:
        g_async_queue_push(clip_answers, g_bytes_new(m->payload, m->len));
        break;
    case HELPER_MSG_CERT_VERDICT: {
        bool trusted = helper_get_u8(&rd);
        if (helper_reader_done(&rd))
            g_async_queue_push(verdicts, GINT_TO_POINTER(trusted ? 2 : 1));
        break;
    }
    default:
        if (helper_sound_msg(m->type))
            helper_sound_input(m); /* the microphone (helper_sound.h) */
        else if (m->type >= HELPER_MSG_RAIL_EXEC && m->type <= HELPER_MSG_RAIL_EXEC + 0xf &&
                 input_hook)
            input_hook(r->s, m); /* RemoteApp's launches and window commands */
        break;
    }
}

bool helper_sound_send(GByteArray *b)
{
    g_autoptr(GError) err = NULL;
    g_mutex_lock(&send_lock);
    bool ok = helper_msg_send(HELPER_FD_CHANNEL, b, -1, &err);
    g_mutex_unlock(&send_lock);
    if (!ok)
        vd_debug("%s", err->message);
    return ok;
}

bool helper_check_cert(const char *host, unsigned port, const char *subject, const char *pem)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_CERT);
    helper_put_str(b, host);
    helper_put_u32(b, port);
    helper_put_str(b, subject);
    helper_put_str(b, pem);
    g_autoptr(GError) err = NULL;
    while (g_async_queue_try_pop(verdicts)) /* a late answer to an earlier question */
        ;
    g_mutex_lock(&send_lock);
    bool sent = helper_msg_send(HELPER_FD_CHANNEL, b, -1, &err);
    g_mutex_unlock(&send_lock);
    if (!sent) {
        vd_debug("%s", err->message);
        return false;
    }
    /* The window answers at once (it reads a file); a minute is plenty. */
    gpointer v = g_async_queue_timeout_pop(verdicts, 60 * G_USEC_PER_SEC);
    return GPOINTER_TO_INT(v) == 2;
}

void helper_set_input_hook(HelperInputFunc hook)
{
    input_hook = hook;
}

/* --- the server's copied files, streamed to the window (helper_clip_sink) --- */

/* The most bytes of a file one HELPER_MSG_CLIP_BYTES carries. */
#define CLIP_BYTES_MAX (4u << 20)

static bool clip_send(GByteArray *b, GError **error)
{
    g_mutex_lock(&send_lock);
    bool ok = helper_msg_send(HELPER_FD_CHANNEL, b, -1, error);
    g_mutex_unlock(&send_lock);
    return ok;
}

static bool sink_start(void *data, const uint8_t *list, size_t len, GError **error)
{
    (void)data;
    if (len > HELPER_MSG_MAX - 4) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the server's file list is too long (%zu bytes)", len);
        return false;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_CLIP_PASTE);
    helper_put_u32(b, (uint32_t)len);
    helper_put_bytes(b, list, len);
    return clip_send(b, error);
}

static bool sink_file(void *data, guint index, uint64_t size, GError **error)
{
    (void)data;
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_CLIP_FILE);
    helper_put_u32(b, index);
    helper_put_u32(b, (uint32_t)(size >> 32));
    helper_put_u32(b, (uint32_t)size);
    return clip_send(b, error);
}

static bool sink_write(void *data, const uint8_t *bytes, size_t len, GError **error)
{
    (void)data;
    g_autoptr(GByteArray) b = g_byte_array_sized_new((guint)MIN(len, CLIP_BYTES_MAX) + 16);
    for (size_t off = 0; off < len;) {
        size_t n = MIN(len - off, CLIP_BYTES_MAX);
        helper_msg_begin(b, HELPER_MSG_CLIP_BYTES);
        helper_put_u32(b, (uint32_t)n);
        helper_put_bytes(b, bytes + off, n);
        if (!clip_send(b, error))
            return false;
        off += n;
    }
    return true;
}

static void sink_finish(void *data, bool complete)
{
    (void)data;
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_CLIP_END);
    helper_put_u8(b, complete);
    g_autoptr(GError) err = NULL;
    if (!clip_send(b, &err))
        vd_debug("%s", err->message);
}

const ClipStageSink helper_clip_sink = {
    .start = sink_start,
    .file = sink_file,
    .write = sink_write,
    .finish = sink_finish,
};

GBytes *helper_clip_read(guint index, uint64_t pos, uint32_t len, bool size)
{
    static gint serials;
    uint32_t serial = (uint32_t)g_atomic_int_add(&serials, 1);
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_CLIP_READ);
    helper_put_u32(b, serial);
    helper_put_u32(b, index);
    helper_put_u32(b, (uint32_t)(pos >> 32));
    helper_put_u32(b, (uint32_t)pos);
    helper_put_u32(b, len);
    helper_put_u8(b, size);
    g_autoptr(GError) err = NULL;
    g_mutex_lock(&send_lock);
    bool sent = helper_msg_send(HELPER_FD_CHANNEL, b, -1, &err);
    g_mutex_unlock(&send_lock);
    if (!sent) {
        vd_debug("%s", err->message);
        return NULL;
    }
    /* The window reads a local file; answers to earlier, timed-out
     * questions are skipped by their serial. */
    for (;;) {
        GBytes *a = g_async_queue_timeout_pop(clip_answers, 30 * G_USEC_PER_SEC);
        if (!a)
            return NULL;
        gsize n = 0;
        const uint8_t *p = g_bytes_get_data(a, &n);
        HelperReader rd;
        helper_reader_init(&rd, p, n);
        uint32_t got = helper_get_u32(&rd);
        bool ok = helper_get_u8(&rd);
        uint32_t k = helper_get_u32(&rd);
        const uint8_t *data = helper_get_bytes(&rd, k);
        GBytes *out = got == serial && ok && helper_reader_done(&rd) ? g_bytes_new(data, k) : NULL;
        bool mine = got == serial;
        g_bytes_unref(a);
        if (mine)
            return out;
    }
}

void helper_session_notify(void *unused)
{
    (void)unused;
    uint64_t one = 1;
    if (write(wake_fd, &one, sizeof(one)) < 0)
        vd_debug("helper eventfd: %s", g_strerror(errno));
}

int helper_serve(Session *s)
{
    Relay r = {.s = s, .buf = g_byte_array_new()};
    bool running = true;
    while (running) {
        struct pollfd p[2] = {{.fd = HELPER_FD_CHANNEL, .events = POLLIN},
                              {.fd = wake_fd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents & POLLIN) {
            uint64_t n;
            if (read(wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                break;
            SessionEvent *ev;
            while (running && (ev = session_next_event(s))) {
                running = relay_event(&r, ev);
                session_event_free(ev);
            }
        }
        if (running && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            HelperMsg m;
            g_autoptr(GError) err = NULL;
            HelperRecv got = helper_msg_recv(HELPER_FD_CHANNEL, &m, &err);
            if (got != HELPER_RECV_OK) {
                running = false; /* the window closed the session, or left */
                if (err)
                    vd_debug("%s", err->message);
            } else {
                relay_input(&r, &m);
                helper_msg_clear(&m);
            }
        }
    }
    session_disconnect_start(s);
    session_destroy(s);
    close(wake_fd);
    wake_fd = -1;
    g_byte_array_unref(r.buf);
    return 0;
}
