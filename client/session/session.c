/* The session base: what both protocols share. The session thread (started
 * here, running the protocol's @run), the input queue with its stop flag and
 * wake-up, the events for the main thread, the framebuffer, and teardown
 * (session.h, Teardown). */
#include "session/session_priv.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

void session_event_free(SessionEvent *ev)
{
    if (!ev)
        return;
    g_free(ev->text);
    g_free(ev->pixels);
    g_clear_error(&ev->error);
    g_clear_pointer(&ev->bytes, g_bytes_unref);
    g_strfreev(ev->paths);
    if (ev->rail)
        g_free(ev->rail->title);
    g_free(ev->rail);
    g_free(ev);
}

void session_input_free(SessionInput *in)
{
    if (!in)
        return;
    g_free(in->text);
    g_free(in->text2);
    g_strfreev(in->paths);
    g_clear_pointer(&in->bytes, g_bytes_unref);
    g_free(in);
}

Session *session_alloc(const SessionImpl *impl, void *priv, SessionNotifyFunc notify,
                       void *notify_data)
{
    Session *s = g_new0(Session, 1);
    s->impl = impl;
    s->priv = priv;
    s->events = g_async_queue_new_full((GDestroyNotify)session_event_free);
    s->input = g_async_queue_new_full((GDestroyNotify)session_input_free);
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->notify = notify;
    s->notify_data = notify_data;
    s->fb.memfd = -1;
    g_mutex_init(&s->fb.lock);
    return s;
}

/* Free the framebuffer's pixels, allocated or mapped. */
static void fb_release(SessionFramebuffer *fb)
{
    if (fb->map_len)
        munmap(fb->pixels, fb->map_len);
    else
        g_free(fb->pixels);
    if (fb->memfd >= 0)
        close(fb->memfd);
    fb->pixels = NULL;
    fb->map_len = 0;
    fb->memfd = -1;
}

/* Free what the session holds; its thread has ended. */
static void session_free(Session *s)
{
    s->impl->finish(s);
    g_async_queue_unref(s->events);
    g_async_queue_unref(s->input);
    close(s->wake_fd);
    fb_release(&s->fb);
    g_mutex_clear(&s->fb.lock);
    g_free(s);
}

static gpointer session_thread(gpointer data)
{
    Session *s = data;
    GError *err = s->impl->run(s);
    session_post(s, SESSION_EV_CLOSED, 0, 0, NULL, err);
    return NULL;
}

bool session_connect(Session *s, GError **error)
{
    s->thread = g_thread_try_new(s->impl->protocol, session_thread, s, error);
    return s->thread != NULL;
}

static void wake(Session *s)
{
    uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        vd_debug("eventfd write: %s", g_strerror(errno));
}

void session_disconnect_start(Session *s)
{
    if (!s)
        return;
    g_atomic_int_set(&s->stop, 1);
    wake(s);
}

void session_destroy(Session *s)
{
    if (!s)
        return;
    session_disconnect_start(s);
    if (s->thread)
        g_thread_join(s->thread);
    session_free(s);
}

bool session_stopping(Session *s)
{
    return g_atomic_int_get(&s->stop);
}

int session_wake_fd(Session *s)
{
    return s->wake_fd;
}

void session_wake_clear(Session *s)
{
    uint64_t n;
    while (read(s->wake_fd, &n, sizeof(n)) == sizeof(n))
        ;
}

void session_input_push(Session *s, const SessionInput *in)
{
    g_async_queue_push(s->input, g_memdup2(in, sizeof(*in)));
    wake(s);
}

SessionInput *session_input_pop(Session *s)
{
    return g_async_queue_try_pop(s->input);
}

void session_key(Session *s, unsigned qnum, uint32_t keysym, bool down)
{
    session_input_push(s, &(SessionInput){.type = SESSION_INPUT_KEY,
                                          .qnum = qnum,
                                          .keysym = keysym,
                                          .down = down});
}

void session_pointer(Session *s, int x, int y, unsigned buttons)
{
    session_input_push(
        s, &(SessionInput){.type = SESSION_INPUT_POINTER, .x = x, .y = y, .buttons = buttons});
}

void session_clipboard(Session *s, const char *utf8)
{
    session_input_push(s, &(SessionInput){.type = SESSION_INPUT_CLIPBOARD,
                                          .text = g_strdup(utf8)});
}

void session_clipboard_files(Session *s, const char *const *paths)
{
    session_input_push(s, &(SessionInput){.type = SESSION_INPUT_CLIPBOARD_FILES,
                                          .paths = g_strdupv((char **)paths)});
}

void session_clipboard_png(Session *s, GBytes *png)
{
    session_input_push(s, &(SessionInput){.type = SESSION_INPUT_CLIPBOARD_PNG,
                                          .bytes = g_bytes_ref(png)});
}

void session_clip_cancel(Session *s)
{
    session_input_push(s, &(SessionInput){.type = SESSION_INPUT_CLIP_CANCEL});
}

void session_resize(Session *s, int w, int h, int scale_pct)
{
    if (s->impl->can_resize)
        session_input_push(s, &(SessionInput){.type = SESSION_INPUT_RESIZE,
                                              .w = w,
                                              .h = h,
                                              .scale = scale_pct});
}

void session_refresh(Session *s, int x, int y, int w, int h)
{
    session_input_push(s, &(SessionInput){.type = SESSION_INPUT_REFRESH,
                                          .x = x,
                                          .y = y,
                                          .w = w,
                                          .h = h});
}

SessionEvent *session_next_event(Session *s)
{
    return g_async_queue_try_pop(s->events);
}

static void push_event(Session *s, SessionEvent *ev)
{
    g_async_queue_push(s->events, ev);
    if (s->notify)
        s->notify(s->notify_data);
}

void session_post(Session *s, SessionEventType type, int w, int h, char *text, GError *error)
{
    SessionEvent *ev = g_new0(SessionEvent, 1);
    ev->type = type;
    ev->w = w;
    ev->h = h;
    ev->text = text;
    ev->error = error;
    push_event(s, ev);
}

void session_post_clipboard(Session *s, SessionEventType type, GBytes *bytes, char **paths)
{
    SessionEvent *ev = g_new0(SessionEvent, 1);
    ev->type = type;
    ev->bytes = bytes;
    ev->paths = paths;
    push_event(s, ev);
}

void session_post_cursor(Session *s, uint32_t *argb, int w, int h, int hot_x, int hot_y)
{
    SessionEvent *ev = g_new0(SessionEvent, 1);
    ev->type = SESSION_EV_CURSOR;
    ev->w = w;
    ev->h = h;
    ev->x = hot_x;
    ev->y = hot_y;
    ev->pixels = argb;
    push_event(s, ev);
}

void session_post_rail(Session *s, SessionEventType type, SessionRailWindow *rail, uint32_t *argb,
                       int w, int h)
{
    SessionEvent *ev = g_new0(SessionEvent, 1);
    ev->type = type;
    ev->rail = rail;
    ev->pixels = argb;
    ev->w = w;
    ev->h = h;
    push_event(s, ev);
}

/* @len bytes of zeros in a memfd sealed against shrinking (a mapping of it
 * in the window process can never fault), mapped here. Like g_malloc, it
 * aborts when there is no memory. */
static uint32_t *fb_alloc_shared(SessionFramebuffer *fb, size_t len)
{
    int fd = memfd_create("vmdesk-framebuffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        g_error("shared framebuffer of %zu bytes: %s", len, g_strerror(errno));
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        g_error("mapping the shared framebuffer: %s", g_strerror(errno));
    fb->memfd = fd;
    fb->map_len = len;
    return p;
}

static void fb_reset(SessionFramebuffer *fb, int w, int h)
{
    fb->width = w;
    fb->height = h;
    fb->stride = w * 4;
    fb->dirty_x0 = fb->dirty_y0 = fb->dirty_x1 = fb->dirty_y1 = 0;
    fb->frames = 0;
    fb->covered = 0;
    fb->generation++;
}

void session_fb_resize(Session *s, int w, int h)
{
    g_mutex_lock(&s->fb.lock);
    fb_release(&s->fb);
    size_t len = (size_t)w * (size_t)h * 4 + 4;
    s->fb.pixels = s->fb_shared ? fb_alloc_shared(&s->fb, len) : g_malloc0(len);
    fb_reset(&s->fb, w, h);
    g_mutex_unlock(&s->fb.lock);
}

void session_fb_adopt(Session *s, uint32_t *pixels, size_t map_len, int w, int h)
{
    g_mutex_lock(&s->fb.lock);
    fb_release(&s->fb);
    s->fb.pixels = pixels;
    s->fb.map_len = map_len;
    fb_reset(&s->fb, w, h);
    g_mutex_unlock(&s->fb.lock);
}

void session_fb_damage(Session *s, int x, int y, int w, int h)
{
    SessionFramebuffer *fb = &s->fb;
    int x1 = MIN(x + w, fb->width), y1 = MIN(y + h, fb->height);
    x = MAX(x, 0);
    y = MAX(y, 0);
    if (x >= x1 || y >= y1)
        return;
    fb->covered += (uint64_t)(x1 - x) * (uint64_t)(y1 - y);
    fb->last_damage = g_get_monotonic_time();
    if (fb->dirty_x1 == 0) {
        fb->dirty_x0 = x;
        fb->dirty_y0 = y;
        fb->dirty_x1 = x1;
        fb->dirty_y1 = y1;
    } else {
        fb->dirty_x0 = MIN(fb->dirty_x0, x);
        fb->dirty_y0 = MIN(fb->dirty_y0, y);
        fb->dirty_x1 = MAX(fb->dirty_x1, x1);
        fb->dirty_y1 = MAX(fb->dirty_y1, y1);
    }
}

bool session_take_dirty(Session *s, int *x, int *y, int *w, int *h)
{
    SessionFramebuffer *fb = &s->fb;
    fb->frame_posted = false;
    if (fb->dirty_x1 == 0)
        return false;
    *x = fb->dirty_x0;
    *y = fb->dirty_y0;
    *w = fb->dirty_x1 - fb->dirty_x0;
    *h = fb->dirty_y1 - fb->dirty_y0;
    fb->dirty_x0 = fb->dirty_y0 = fb->dirty_x1 = fb->dirty_y1 = 0;
    return true;
}

void session_fb_update_done(Session *s)
{
    SessionFramebuffer *fb = &s->fb;
    /* The first update after connecting or a resize may hold only
     * pseudo-rectangles; a picture is complete once every pixel came. */
    if (fb->frames || fb->covered >= (uint64_t)fb->width * (uint64_t)fb->height)
        fb->frames++;
    /* One FRAME event per complete update, not per rectangle: the window
     * then draws whole frames (no tearing) and presents once per update. */
    if (fb->dirty_x1 && !fb->frame_posted) {
        fb->frame_posted = true;
        /* Posting takes no fb lock, so doing it under the lock is safe. */
        session_post(s, SESSION_EV_FRAME, 0, 0, NULL, NULL);
    }
}

double session_fb_lit_share(const SessionFramebuffer *fb)
{
    long n = 0, lit = 0;
    for (int y = 0; y < fb->height; y += 4) {
        const uint32_t *row = (const uint32_t *)((const uint8_t *)fb->pixels + (size_t)y * fb->stride);
        for (int x = 0; x < fb->width; x += 4, n++)
            if (row[x] & 0xffffff)
                lit++;
    }
    return n ? (double)lit / (double)n : 0.0;
}

bool session_fb_all_black(const SessionFramebuffer *fb)
{
    for (int y = 0; y < fb->height; y++) {
        const uint32_t *row = (const uint32_t *)((const uint8_t *)fb->pixels + (size_t)y * fb->stride);
        for (int x = 0; x < fb->width; x++)
            if (row[x] & 0xffffff)
                return false;
    }
    return true;
}
