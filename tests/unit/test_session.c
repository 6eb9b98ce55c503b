/* unit-session: the session base (client/session/session.c) with a fake
 * protocol, no server: the one input queue both protocols read, the stop flag
 * and the wake-up, the session thread and its CLOSED event, and teardown
 * (session_destroy after CLOSED). */
#include "session/session_priv.h"

#include "common/error.h"

#include <glib.h>
#include <poll.h>

/* The fake protocol's state, owned by the test (the session's @priv). */
typedef struct {
    GError *fail;           /* run ends at once with this error */
    GAsyncQueue *seen;      /* SessionInput* the session thread took */
    gint finished;          /* atomic: finish ran */
    GThread *finish_thread; /* where it ran */
    gint notified;          /* atomic: notify calls */
} Fake;

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static GError *fake_run(Session *s)
{
    Fake *f = s->priv;
    if (f->fail)
        return g_steal_pointer(&f->fail);
    session_post(s, SESSION_EV_CONNECTED, 640, 480, NULL, NULL);
    while (!session_stopping(s)) {
        struct pollfd p = {.fd = session_wake_fd(s), .events = POLLIN};
        poll(&p, 1, 1000);
        session_wake_clear(s);
        SessionInput *in;
        while ((in = session_input_pop(s)))
            g_async_queue_push(f->seen, in);
    }
    return NULL;
}

static void fake_finish(Session *s)
{
    Fake *f = s->priv;
    f->finish_thread = g_thread_self();
    g_atomic_int_set(&f->finished, 1);
}

static const SessionImpl fake_impl = {
    .protocol = "fake",
    .can_resize = true,
    .run = fake_run,
    .finish = fake_finish,
};

static const SessionImpl fixed_impl = {
    .protocol = "fixed",
    .can_resize = false,
    .run = fake_run,
    .finish = fake_finish,
};

static void fake_notify(void *data)
{
    Fake *f = data;
    g_atomic_int_inc(&f->notified);
}

static Fake *fake_new(void)
{
    Fake *f = g_new0(Fake, 1);
    f->seen = g_async_queue_new_full((GDestroyNotify)session_input_free);
    return f;
}

static void fake_free(Fake *f)
{
    g_async_queue_unref(f->seen);
    g_clear_error(&f->fail);
    g_free(f);
}

/* The next event, waiting up to 5 s for it. */
static SessionEvent *next_event(Session *s)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    SessionEvent *ev;
    while (!(ev = session_next_event(s)) && g_get_monotonic_time() < deadline)
        g_usleep(1000);
    g_assert_nonnull(ev);
    return ev;
}


/* The main thread's inputs arrive in order, as they were given, and wake. */
static void test_input_queue(void)
{
    Fake *f = fake_new();
    Session *s = session_alloc(&fake_impl, f, NULL, NULL);
    g_assert_false(readable(session_wake_fd(s)));
    char clip[] = "copied";
    session_key(s, 0x1e, 'a', true);
    session_pointer(s, 10, 20, SESSION_BUTTON_LEFT | SESSION_WHEEL_UP);
    session_clipboard(s, clip);
    clip[0] = 'X'; /* the session took a copy */
    session_resize(s, 800, 600, 140);
    session_clip_cancel(s);
    char *program = g_strdup("notepad");
    session_input_push(s, &(SessionInput){.type = SESSION_INPUT_PROTOCOL, .id = 7,
                                          .text = program});
    g_assert_true(readable(session_wake_fd(s)));
    session_wake_clear(s);
    g_assert_false(readable(session_wake_fd(s)));

    SessionInput *in = session_input_pop(s);
    g_assert_cmpint(in->type, ==, SESSION_INPUT_KEY);
    g_assert_cmpuint(in->qnum, ==, 0x1e);
    g_assert_cmpuint(in->keysym, ==, 'a');
    g_assert_true(in->down);
    session_input_free(in);
    in = session_input_pop(s);
    g_assert_cmpint(in->type, ==, SESSION_INPUT_POINTER);
    g_assert_cmpint(in->x, ==, 10);
    g_assert_cmpint(in->y, ==, 20);
    g_assert_cmpuint(in->buttons, ==, SESSION_BUTTON_LEFT | SESSION_WHEEL_UP);
    session_input_free(in);
    in = session_input_pop(s);
    g_assert_cmpint(in->type, ==, SESSION_INPUT_CLIPBOARD);
    g_assert_cmpstr(in->text, ==, "copied");
    session_input_free(in);
    in = session_input_pop(s);
    g_assert_cmpint(in->type, ==, SESSION_INPUT_RESIZE);
    g_assert_cmpint(in->w, ==, 800);
    g_assert_cmpint(in->h, ==, 600);
    g_assert_cmpint(in->scale, ==, 140);
    session_input_free(in);
    in = session_input_pop(s);
    g_assert_cmpint(in->type, ==, SESSION_INPUT_CLIP_CANCEL);
    session_input_free(in);
    in = session_input_pop(s);
    g_assert_cmpint(in->type, ==, SESSION_INPUT_PROTOCOL);
    g_assert_cmpuint(in->id, ==, 7);
    g_assert_true(in->text == program); /* ownership moved */
    session_input_free(in);
    g_assert_null(session_input_pop(s));
    session_input_free(NULL);

    /* Inputs still queued are freed with the session; so is @priv. */
    session_key(s, 0x1e, 'a', false);
    session_clipboard(s, "left behind");
    g_assert_false(session_stopping(s));
    session_destroy(s); /* never connected: nothing to wait for */
    g_assert_true(g_atomic_int_get(&f->finished));
    fake_free(f);
}

/* A protocol that cannot resize gets no resize inputs. */
static void test_no_resize(void)
{
    Fake *f = fake_new();
    Session *s = session_alloc(&fixed_impl, f, NULL, NULL);
    g_assert_false(session_can_resize(s));
    session_resize(s, 800, 600, 100);
    g_assert_null(session_input_pop(s));
    g_assert_false(readable(session_wake_fd(s)));
    session_destroy(s);
    fake_free(f);
}

/* The thread runs the protocol, sees the inputs, ends when asked, and the
 * base posts CLOSED without an error; destroy after CLOSED. */
static void test_run_and_close(void)
{
    Fake *f = fake_new();
    Session *s = session_alloc(&fake_impl, f, fake_notify, f);
    g_autoptr(GError) err = NULL;
    g_assert_true(session_connect(s, &err));
    SessionEvent *ev = next_event(s);
    g_assert_cmpint(ev->type, ==, SESSION_EV_CONNECTED);
    session_event_free(ev);
    session_pointer(s, 1, 2, 0);
    session_key(s, 0x1c, 0xff0d, true);
    SessionInput *in = g_async_queue_timeout_pop(f->seen, 5 * G_USEC_PER_SEC);
    g_assert_nonnull(in);
    g_assert_cmpint(in->type, ==, SESSION_INPUT_POINTER);
    session_input_free(in);
    in = g_async_queue_timeout_pop(f->seen, 5 * G_USEC_PER_SEC);
    g_assert_nonnull(in);
    g_assert_cmpint(in->type, ==, SESSION_INPUT_KEY);
    session_input_free(in);

    session_disconnect_start(s);
    session_disconnect_start(s); /* idempotent */
    g_assert_true(session_stopping(s));
    ev = next_event(s);
    g_assert_cmpint(ev->type, ==, SESSION_EV_CLOSED);
    g_assert_no_error(ev->error);
    session_event_free(ev);
    g_assert_cmpint(g_atomic_int_get(&f->notified), ==, 2);
    session_destroy(s);
    g_assert_true(g_atomic_int_get(&f->finished));
    g_assert_true(f->finish_thread == g_thread_self());
    session_disconnect_start(NULL);
    session_destroy(NULL);
    fake_free(f);
}

/* What run returns is CLOSED's error. */
static void test_run_error(void)
{
    Fake *f = fake_new();
    f->fail = g_error_new_literal(VD_ERROR, VD_ERROR_FAILED, "refused");
    Session *s = session_alloc(&fake_impl, f, NULL, NULL);
    g_assert_true(session_connect(s, NULL));
    SessionEvent *ev = next_event(s);
    g_assert_cmpint(ev->type, ==, SESSION_EV_CLOSED);
    g_assert_error(ev->error, VD_ERROR, VD_ERROR_FAILED);
    session_event_free(ev);
    session_destroy(s);
    fake_free(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/session/input-queue", test_input_queue);
    g_test_add_func("/session/no-resize", test_no_resize);
    g_test_add_func("/session/run-and-close", test_run_and_close);
    g_test_add_func("/session/run-error", test_run_error);
    return g_test_run();
}
