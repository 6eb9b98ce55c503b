/* The window side's checks on what the helper sends (helper_window_priv.h).
 * The helper runs the protocol library a guest may have taken over: every
 * size, rectangle, count and string is checked before use. */
#include "session/helper/helper_window_priv.h"

#include "session/session_priv.h"
#include "session/session_words.h"

#include "common/error.h"
#include "common/text.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define STATUS_MAX 1024
#define CURSOR_MAX 512

static bool bad(GError **error, const char *what)
{
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "the session helper sent %s", what);
    return false;
}

void *helper_map_sealed(int fd, size_t len)
{
    /* Sealed against shrinking, or a helper could truncate it under our
     * mapping and make the window fault. */
    int seals = fcntl(fd, F_GET_SEALS);
    struct stat st;
    if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(fd, &st) != 0 ||
        (uint64_t)st.st_size < len)
        return NULL;
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

static bool apply_fb(Session *s, const HelperMsg *m, HelperReader *r, GError **error)
{
    uint32_t w = helper_get_u32(r), h = helper_get_u32(r);
    if (!helper_reader_done(r) || m->fd < 0)
        return bad(error, "a malformed framebuffer message");
    if (w < 1 || h < 1 || w > HELPER_FB_MAX_SIDE || h > HELPER_FB_MAX_SIDE ||
        (uint64_t)w * h > HELPER_FB_MAX_PIXELS)
        return bad(error, "a framebuffer of an impossible size");
    size_t len = (size_t)w * h * 4;
    void *p = helper_map_sealed(m->fd, len);
    if (!p)
        return bad(error, "a framebuffer that is not a sealed memfd of its size");
    session_fb_adopt(s, p, len, (int)w, (int)h);
    return true;
}

static bool apply_update(Session *s, HelperReader *r, GError **error)
{
    int x = helper_get_i32(r), y = helper_get_i32(r), w = helper_get_i32(r), h = helper_get_i32(r);
    bool complete = helper_get_u8(r);
    if (!helper_reader_done(r))
        return bad(error, "a malformed update");
    SessionFramebuffer *fb = &s->fb;
    g_mutex_lock(&fb->lock);
    bool inside = fb->pixels && x >= 0 && y >= 0 && w > 0 && h > 0 && x <= fb->width - w &&
                  y <= fb->height - h;
    if (inside) {
        session_fb_damage(s, x, y, w, h);
        uint64_t area = (uint64_t)fb->width * (uint64_t)fb->height;
        if (complete && fb->covered < area)
            fb->covered = area;
        session_fb_update_done(s);
    }
    g_mutex_unlock(&fb->lock);
    return inside || bad(error, "an update outside the picture");
}

static bool apply_event(Session *s, HelperReader *r, GError **error)
{
    uint32_t type = helper_get_u32(r);
    char *text = helper_get_str(r, type == SESSION_EV_CLIPBOARD ? HELPER_MSG_MAX : STATUS_MAX);
    if (!helper_reader_done(r)) {
        g_free(text);
        return bad(error, "a malformed event");
    }
    g_mutex_lock(&s->fb.lock);
    int w = s->fb.width, h = s->fb.height;
    bool have_fb = s->fb.pixels != NULL;
    g_mutex_unlock(&s->fb.lock);
    bool ok;
    switch (type) {
    case SESSION_EV_CONNECTED:
    case SESSION_EV_RESIZED:
        /* The size is the mapped framebuffer's, not a claim. */
        ok = have_fb && !text;
        if (ok)
            session_post(s, type, w, h, NULL, NULL);
        break;
    case SESSION_EV_CLIPBOARD:
        ok = text != NULL;
        if (ok)
            session_post(s, type, 0, 0, g_steal_pointer(&text), NULL);
        break;
    case SESSION_EV_STATUS:
    case SESSION_EV_LOGON:
    case SESSION_EV_CLIP_PROGRESS:
        ok = true;
        session_post(s, type, 0, 0, g_steal_pointer(&text), NULL);
        break;
    default:
        ok = false;
    }
    g_free(text);
    return ok || bad(error, "an event it may not send");
}

static bool apply_cursor(Session *s, HelperReader *r, GError **error)
{
    int w = helper_get_i32(r), h = helper_get_i32(r);
    int hx = helper_get_i32(r), hy = helper_get_i32(r);
    uint32_t n = helper_get_u32(r);
    if (r->bad)
        return bad(error, "a malformed pointer shape");
    if (n == 0) { /* hidden, or the system's arrow when w < 0 */
        if (!helper_reader_done(r))
            return bad(error, "a malformed pointer shape");
        session_post_cursor(s, NULL, w < 0 ? -1 : 0, 0, 0, 0);
        return true;
    }
    if (w < 1 || h < 1 || w > CURSOR_MAX || h > CURSOR_MAX || n != (uint32_t)(w * h) ||
        hx < 0 || hy < 0 || hx >= w || hy >= h)
        return bad(error, "an impossible pointer shape");
    const uint8_t *px = helper_get_bytes(r, (size_t)n * 4);
    if (!px || !helper_reader_done(r))
        return bad(error, "a malformed pointer shape");
    session_post_cursor(s, g_memdup2(px, (gsize)n * 4), w, h, hx, hy);
    return true;
}

static bool apply_closed(HelperReader *r, HelperClosed *closed, GError **error)
{
    uint32_t code = helper_get_u32(r);
    bool resync = helper_get_u8(r);
    g_autofree char *msg = helper_get_str(r, 4096);
    uint32_t words = helper_get_u32(r);
    if (!helper_reader_done(r) || closed->seen)
        return bad(error, "a malformed end of session");
    closed->seen = true;
    closed->resync = resync;
    /* The helper's text goes into logs and onto stderr: one line of it,
     * whatever it holds, so that it can never pose as a line of its own. */
    for (char *c = msg; c && (c = (char *)vd_text_find_control(c));)
        *c = ' ';
    /* The words of a code the helper may make itself, from the window's own
     * table; any other code (one the window alone makes, such as a changed
     * certificate) means no words. The helper's text is never a front end's
     * plain words. */
    if (words != SESSION_WORDS_RDP_CREDENTIALS)
        words = SESSION_WORDS_NONE;
    if (msg || code)
        closed->error = session_words_error(code, words, msg);
    return true;
}

bool helper_window_read_cert(const HelperMsg *m, HelperCertQuestion *q, GError **error)
{
    HelperReader r;
    helper_reader_init(&r, m->payload, m->len);
    memset(q, 0, sizeof(*q));
    q->host = helper_get_str(&r, 1024);
    uint32_t port = helper_get_u32(&r);
    q->subject = helper_get_str(&r, STATUS_MAX);
    q->pem = helper_get_str(&r, HELPER_CERT_PEM_MAX);
    if (m->type != HELPER_MSG_CERT || m->fd >= 0 || !q->host || !q->pem || port > 65535 ||
        !helper_reader_done(&r))
        return bad(error, "a malformed certificate question");
    q->port = port;
    if (!q->subject)
        q->subject = g_strdup("");
    return true;
}

void helper_cert_question_clear(HelperCertQuestion *q)
{
    g_free(q->host);
    g_free(q->subject);
    g_free(q->pem);
    memset(q, 0, sizeof(*q));
}

bool helper_window_apply(Session *s, const HelperMsg *m, HelperClosed *closed, GError **error)
{
    HelperReader r;
    helper_reader_init(&r, m->payload, m->len);
    if (closed->seen)
        return bad(error, "messages after the end of the session");
    if (m->fd >= 0 && m->type != HELPER_MSG_FB)
        return bad(error, "a descriptor with a message that takes none");
    switch (m->type) {
    case HELPER_MSG_FB:
        return apply_fb(s, m, &r, error);
    case HELPER_MSG_UPDATE:
        return apply_update(s, &r, error);
    case HELPER_MSG_EVENT:
        return apply_event(s, &r, error);
    case HELPER_MSG_CURSOR:
        return apply_cursor(s, &r, error);
    case HELPER_MSG_CLOSED:
        return apply_closed(&r, closed, error);
    default:
        return bad(error, "a message of unknown type");
    }
}
