/* The session helper's parts that need no server (client/session/helper/):
 * the wire format over a real socket pair with a real memfd, the window
 * side's checks on a framebuffer shared with a helper-side session, and the
 * confinement itself in a forked child. The whole helper against real VNC
 * servers: integration-confine, integration-vnc. */
#include "common/error.h"
#include "session/helper/confine.h"
#include "session/helper/helper_proto.h"
#include "session/helper/helper_window_priv.h"
#include "session/session_priv.h"
#include "session/session_words.h"
#include "test_session_stub.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_roundtrip(void)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    int memfd = memfd_create("t", MFD_CLOEXEC);
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_EVENT);
    helper_put_u32(b, 7);
    helper_put_str(b, "Grüße");
    helper_put_str(b, NULL);
    helper_put_i32(b, -5);
    g_assert_true(helper_msg_send(sv[0], b, memfd, NULL));
    HelperMsg m;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(helper_msg_recv(sv[1], &m, &err), ==, HELPER_RECV_OK);
    g_assert_cmpuint(m.type, ==, HELPER_MSG_EVENT);
    struct stat a, c;
    g_assert_cmpint(fstat(memfd, &a), ==, 0);
    g_assert_cmpint(fstat(m.fd, &c), ==, 0);
    g_assert_cmpuint(a.st_ino, ==, c.st_ino); /* the same memfd came across */
    HelperReader r;
    helper_reader_init(&r, m.payload, m.len);
    g_assert_cmpuint(helper_get_u32(&r), ==, 7);
    g_autofree char *s = helper_get_str(&r, 100);
    g_assert_cmpstr(s, ==, "Grüße");
    g_assert_null(helper_get_str(&r, 100));
    g_assert_cmpint(helper_get_i32(&r), ==, -5);
    g_assert_true(helper_reader_done(&r));
    g_assert_cmpint(helper_get_u8(&r), ==, 0); /* past the end: bad, not a read */
    g_assert_false(helper_reader_done(&r));
    helper_msg_clear(&m);
    close(memfd);

    /* Oversize, then cut short, then the end. */
    uint32_t big[2] = {HELPER_MSG_UPDATE, HELPER_MSG_MAX + 1};
    g_assert_cmpint(write(sv[0], big, sizeof(big)), ==, sizeof(big));
    g_assert_cmpint(helper_msg_recv(sv[1], &m, &err), ==, HELPER_RECV_ERROR);
    g_assert_nonnull(strstr(err->message, "at most"));
    g_clear_error(&err);
    uint32_t part[3] = {HELPER_MSG_UPDATE, 100, 1};
    g_assert_cmpint(write(sv[0], part, sizeof(part)), ==, sizeof(part));
    close(sv[0]);
    g_assert_cmpint(helper_msg_recv(sv[1], &m, &err), ==, HELPER_RECV_ERROR);
    g_assert_nonnull(strstr(err->message, "cut short"));
    g_clear_error(&err);
    g_assert_cmpint(helper_msg_recv(sv[1], &m, &err), ==, HELPER_RECV_EOF);
    close(sv[1]);
}

static HelperMsg fb_msg(int fd, uint32_t w, uint32_t h, GByteArray *b)
{
    helper_msg_begin(b, HELPER_MSG_FB);
    helper_put_u32(b, w);
    helper_put_u32(b, h);
    return (HelperMsg){.type = HELPER_MSG_FB, .payload = b->data + 8, .len = b->len - 8, .fd = fd};
}

/* The helper side's framebuffer, mapped by the window side: the same
 * pixels, no copy; claims beyond the memfd are refused. */
static void test_shared_framebuffer(void)
{
    Session *helper = session_alloc(&test_impl, NULL, NULL, NULL);
    helper->fb_shared = true;
    session_fb_resize(helper, 64, 48);
    g_assert_cmpint(helper->fb.memfd, >=, 0);
    int seals = fcntl(helper->fb.memfd, F_GET_SEALS);
    g_assert_true(seals & F_SEAL_SHRINK);

    Session *win = session_alloc(&test_impl, NULL, NULL, NULL);
    HelperClosed closed = {0};
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    HelperMsg too_big = fb_msg(helper->fb.memfd, 64, 49, b);
    g_assert_false(helper_window_apply(win, &too_big, &closed, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_clear_error(&err);
    g_assert_null(win->fb.pixels);
    HelperMsg ok = fb_msg(helper->fb.memfd, 64, 48, b);
    g_assert_true(helper_window_apply(win, &ok, &closed, &err));
    g_assert_no_error(err);
    helper->fb.pixels[47 * 64 + 63] = 0x00abcdef;
    g_assert_cmphex(win->fb.pixels[47 * 64 + 63], ==, 0x00abcdef);

    /* An update inside counts; one outside is refused. */
    helper_msg_begin(b, HELPER_MSG_UPDATE);
    int32_t rect[4] = {0, 0, 64, 48};
    helper_put_bytes(b, rect, sizeof(rect));
    helper_put_u8(b, 1);
    HelperMsg upd = {.type = HELPER_MSG_UPDATE, .payload = b->data + 8, .len = b->len - 8, .fd = -1};
    g_assert_true(helper_window_apply(win, &upd, &closed, &err));
    g_assert_cmpuint(win->fb.frames, ==, 1);
    rect[2] = 65;
    memcpy(b->data + 16, &rect[2], 4);
    g_assert_false(helper_window_apply(win, &upd, &closed, &err));
    g_clear_error(&err);

    /* An unsealed memfd could be truncated under the window's mapping. */
    int loose = memfd_create("loose", MFD_CLOEXEC);
    g_assert_cmpint(ftruncate(loose, 64 * 48 * 4), ==, 0);
    HelperMsg unsealed = fb_msg(loose, 64, 48, b);
    g_assert_false(helper_window_apply(win, &unsealed, &closed, &err));
    g_assert_nonnull(strstr(err->message, "sealed"));
    close(loose);
    session_destroy(win);
    session_destroy(helper);
}

/* confine_apply in a child: what it may still do, and what not. */
/* A HELPER_MSG_CLOSED with @code, @message and @words, as a helper sends it. */
static HelperMsg closed_msg(GByteArray *b, uint32_t code, const char *message, uint32_t words)
{
    helper_msg_begin(b, HELPER_MSG_CLOSED);
    helper_put_u32(b, code);
    helper_put_u8(b, 0);
    helper_put_str(b, message);
    helper_put_u32(b, words);
    return (HelperMsg){.type = HELPER_MSG_CLOSED, .payload = b->data + 8, .len = b->len - 8,
                       .fd = -1};
}

/* The helper's end of session through the window's checks: its message and
 * code as they were, and plain words only from the window's own table. */
static GError *window_closed(uint32_t code, const char *message, uint32_t words)
{
    Session *win = session_alloc(&test_impl, NULL, NULL, NULL);
    g_autoptr(GByteArray) b = g_byte_array_new();
    HelperClosed closed = {0};
    g_autoptr(GError) err = NULL;
    HelperMsg m = closed_msg(b, code, message, words);
    g_assert_true(helper_window_apply(win, &m, &closed, &err));
    g_assert_no_error(err);
    g_assert_true(closed.seen);
    session_destroy(win);
    return closed.error;
}

static void test_closed_words(void)
{
    /* Every code the window knows: its own words, whatever the helper's
     * message says, when the helper may make that code (credentials), none
     * when only the window makes it (a changed certificate); and the helper
     * side finds the code of its error. */
    for (uint32_t w = SESSION_WORDS_NONE + 1; w < SESSION_WORDS_COUNT; w++) {
        const char *plain = session_words_plain(w);
        g_assert_nonnull(plain);
        g_assert_null(strstr(plain, "--"));
        g_autoptr(GError) e =
            window_closed(VD_ERROR_FAILED, "store them with vmdesk credentials", w);
        g_assert_error(e, VD_ERROR, VD_ERROR_FAILED);
        g_assert_cmpstr(e->message, ==, "store them with vmdesk credentials");
        g_assert_null(vd_error_field(e));
        if (w == SESSION_WORDS_RDP_CREDENTIALS) {
            g_assert_cmpstr(vd_error_plain(e), ==, plain);
            g_assert_cmpint(session_words_of(e), ==, w);
        } else {
            g_assert_null(vd_error_plain(e));
            g_assert_cmpint(session_words_of(e), ==, SESSION_WORDS_NONE);
        }
        g_autoptr(GError) set = NULL;
        vd_error_set_worded(&set, VD_ERROR_TIMEOUT, NULL, plain, "x %d", 1);
        g_assert_error(set, VD_ERROR, VD_ERROR_TIMEOUT);
        g_assert_cmpstr(set->message, ==, "x 1");
        g_assert_cmpint(session_words_of(set), ==, w);
        g_autofree char *lines = vd_error_lines(set, TRUE);
        g_autofree char *want = g_strdup_printf(VD_ERROR_LINE_PREFIX "x 1\n" VD_ERROR_PLAIN_PREFIX
                                                "%s\n", plain);
        g_assert_cmpstr(lines, ==, want);
    }
    /* Codes a hostile helper may send: no words, never a crash, the
     * message unchanged. */
    const uint32_t hostile[] = {SESSION_WORDS_NONE, SESSION_WORDS_COUNT, SESSION_WORDS_COUNT + 1,
                                0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
    for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++) {
        g_assert_null(session_words_plain(hostile[i]));
        g_autoptr(GError) e = window_closed(VD_ERROR_FAILED, "the helper's own words", hostile[i]);
        g_assert_cmpstr(e->message, ==, "the helper's own words");
        g_assert_null(vd_error_plain(e));
        g_assert_cmpint(session_words_of(e), ==, SESSION_WORDS_NONE);
        g_autofree char *lines = vd_error_lines(e, TRUE);
        g_assert_null(strstr(lines, VD_ERROR_PLAIN_PREFIX));
    }
    /* A helper's plain-looking text is never taken for words: its error
     * has none, and a code out of VdError's range is a plain failure. */
    g_autoptr(GError) mimic = window_closed(
        0xdead, session_words_plain(SESSION_WORDS_RDP_CREDENTIALS), SESSION_WORDS_NONE);
    g_assert_error(mimic, VD_ERROR, VD_ERROR_FAILED);
    g_assert_null(vd_error_plain(mimic));
    /* A changed certificate is the window's word alone: from the helper,
     * none. */
    g_autoptr(GError) cert =
        window_closed(VD_ERROR_FAILED, "certificate", SESSION_WORDS_RDP_CERT_CHANGED);
    g_assert_null(vd_error_plain(cert));
    g_assert_cmpint(session_words_of(cert), ==, SESSION_WORDS_NONE);
    /* The helper's text is one line: a new line, a carriage return or any
     * other control character becomes a space, so nothing in it can pose
     * as a line of its own (a forged "vmdesk: error-plain:" line). */
    g_autoptr(GError) forged =
        window_closed(VD_ERROR_FAILED, "lost\n" VD_ERROR_PLAIN_PREFIX "forged\r\tx\x7f",
                      SESSION_WORDS_RDP_CREDENTIALS);
    g_assert_cmpstr(forged->message, ==, "lost " VD_ERROR_PLAIN_PREFIX "forged  x ");
    g_assert_null(strchr(forged->message, '\n'));
    g_assert_cmpstr(vd_error_plain(forged), ==,
                    session_words_plain(SESSION_WORDS_RDP_CREDENTIALS));
    /* Ended as asked: no error, whatever the words code. */
    g_assert_null(window_closed(0, NULL, SESSION_WORDS_RDP_CREDENTIALS));
    /* Without its words field (or with bytes after it): malformed. */
    Session *win = session_alloc(&test_impl, NULL, NULL, NULL);
    g_autoptr(GByteArray) b = g_byte_array_new();
    HelperClosed closed = {0};
    g_autoptr(GError) err = NULL;
    HelperMsg m = closed_msg(b, VD_ERROR_FAILED, "cut", SESSION_WORDS_RDP_CREDENTIALS);
    m.len -= 4;
    g_assert_false(helper_window_apply(win, &m, &closed, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_clear_error(&err);
    m = closed_msg(b, VD_ERROR_FAILED, "long", SESSION_WORDS_RDP_CREDENTIALS);
    helper_put_u8(b, 1);
    m.payload = b->data + 8;
    m.len = b->len - 8;
    g_assert_false(helper_window_apply(win, &m, &closed, &err));
    g_assert_false(closed.seen);
    session_destroy(win);
    /* An error whose words were changed after they were set is no longer
     * the table's: no code goes. */
    g_autoptr(GError) prefixed = NULL;
    vd_error_set_worded(&prefixed, VD_ERROR_FAILED, NULL,
                        session_words_plain(SESSION_WORDS_RDP_CERT_CHANGED), "m");
    vd_error_prefix(&prefixed, "p: ");
    g_assert_cmpint(session_words_of(prefixed), ==, SESSION_WORDS_NONE);
    g_assert_cmpint(session_words_of(NULL), ==, SESSION_WORDS_NONE);
}

static void test_confine(void)
{
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        static const char *const ro[] = {"/usr", NULL};
        ConfinePolicy policy = {.read_only = ro};
        ConfineReport rep;
        if (!confine_apply(&policy, &rep, NULL))
            _exit(10);
        int fail = 0;
        if (socket(AF_UNIX, SOCK_STREAM, 0) >= 0 || errno != EPERM)
            fail |= 1;
        if (fork() >= 0) /* a child would exit at once; none may come */
            fail |= 2;
        char *argv[] = {"/bin/true", NULL};
        execve(argv[0], argv, argv + 1);
        fail |= 4; /* reached only when execve failed: good */
        if (rep.landlock_abi && open("/etc/hostname", O_RDONLY) >= 0)
            fail |= 8;
        if (open("/usr/share/dict/../../lib/os-release", O_RDONLY) < 0 &&
            open("/usr/lib/os-release", O_RDONLY) < 0)
            fail |= 16;
        _exit(fail == 4 ? 0 : 20 + fail);
    }
    int st;
    g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 0);
}

/* Both ends send a message larger than the socket's buffers at once, as a
 * host paste may meet a burst from the helper: the window's end takes the
 * helper's messages while it waits for room, so both complete; with plain
 * sends on both ends they would wait on each other until the time limit. */
typedef struct {
    int fd;
    size_t size;
    bool ok;
    size_t got;            /* what it read after its send, as the helper's loop */
} PeerSend;

static gpointer peer_send(gpointer data)
{
    PeerSend *p = data;
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, 7);
    g_autofree char *big = g_malloc(p->size);
    memset(big, 'h', p->size);
    helper_put_bytes(b, big, p->size);
    p->ok = helper_msg_send(p->fd, b, -1, NULL); /* blocking, as the helper's */
    HelperMsg m;
    if (p->ok && helper_msg_recv(p->fd, &m, NULL) == HELPER_RECV_OK) {
        p->got = m.len;
        helper_msg_clear(&m);
    }
    return NULL;
}

typedef struct {
    int fd;
    size_t got;
} DrainCount;

static bool take_one(void *data, GError **error)
{
    DrainCount *d = data;
    HelperMsg m;
    if (helper_msg_recv(d->fd, &m, error) != HELPER_RECV_OK)
        return false;
    d->got += m.len;
    helper_msg_clear(&m);
    return true;
}

static void test_send_while_peer_sends(void)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK); /* the window's end */
    const size_t size = 4 * 1024 * 1024;
    PeerSend p = {.fd = sv[1], .size = size};
    GThread *t = g_thread_new("peer", peer_send, &p);
    g_usleep(100 * 1000); /* the peer's send is blocked: nobody reads it */
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, 8);
    g_autofree char *big = g_malloc(size);
    memset(big, 'w', size);
    helper_put_bytes(b, big, size);
    DrainCount d = {.fd = sv[0]};
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GError) err = NULL;
    g_assert_true(helper_msg_send_draining(sv[0], b, take_one, &d, &err) ||
                  (g_printerr("%s\n", err ? err->message : "?"), FALSE));
    g_thread_join(t);
    g_assert_true(p.ok);
    g_assert_cmpuint(d.got, ==, size);
    g_assert_cmpuint(p.got, ==, size);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, HELPER_MSG_TIMEOUT_MS * 1000);
    close(sv[0]);
    close(sv[1]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/helper/wire-roundtrip", test_roundtrip);
    g_test_add_func("/helper/shared-framebuffer", test_shared_framebuffer);
    g_test_add_func("/helper/closed-words", test_closed_words);
    g_test_add_func("/helper/confine", test_confine);
    g_test_add_func("/helper/send-while-peer-sends", test_send_while_peer_sends);
    return g_test_run();
}
