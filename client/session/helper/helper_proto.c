/* The session helper's wire format (helper_proto.h). */
#include "session/helper/helper_proto.h"

#include "common/error.h"
#include "common/fd_io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADER_LEN 8

void helper_msg_begin(GByteArray *b, uint32_t type)
{
    g_byte_array_set_size(b, 0);
    uint32_t h[2] = {type, 0};
    g_byte_array_append(b, (const guint8 *)h, sizeof(h));
}

void helper_put_bytes(GByteArray *b, const void *data, size_t len)
{
    g_byte_array_append(b, data, (guint)len);
}

void helper_put_u32(GByteArray *b, uint32_t v)
{
    helper_put_bytes(b, &v, sizeof(v));
}

void helper_put_i32(GByteArray *b, int32_t v)
{
    helper_put_bytes(b, &v, sizeof(v));
}

void helper_put_u8(GByteArray *b, uint8_t v)
{
    helper_put_bytes(b, &v, 1);
}

void helper_put_str(GByteArray *b, const char *s)
{
    if (!s) {
        helper_put_u32(b, HELPER_STR_NONE);
        return;
    }
    size_t n = strlen(s);
    helper_put_u32(b, (uint32_t)n);
    helper_put_bytes(b, s, n);
}

/* Wait for room on @fd, taking messages through @drain (if any) meanwhile:
 * 1 room (or an error the send will tell), 0 the deadline passed, -1 @drain
 * ended it. */
static int wait_room(int fd, gint64 *deadline, HelperDrainFunc drain, void *data, GError **error)
{
    for (;;) {
        if (!drain)
            return vd_fd_wait(fd, POLLOUT, *deadline) > 0;
        gint64 left_ms = (*deadline - g_get_monotonic_time()) / 1000;
        if (left_ms <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLOUT | POLLIN};
        int r = poll(&p, 1, (int)MIN(left_ms, G_MAXINT));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? 1 : 0;
        if (p.revents & POLLOUT)
            return 1;
        if (p.revents & POLLIN) {
            if (!drain(data, error))
                return -1;
            *deadline = g_get_monotonic_time() + HELPER_MSG_TIMEOUT_MS * 1000;
            continue;
        }
        return 1; /* POLLHUP, POLLERR: the send says which */
    }
}

static bool send_msg(int fd, GByteArray *b, int pass_fd, HelperDrainFunc drain, void *data,
                     GError **error)
{
    uint32_t len = b->len - HEADER_LEN;
    memcpy(b->data + 4, &len, sizeof(len));
    gint64 deadline = g_get_monotonic_time() + HELPER_MSG_TIMEOUT_MS * 1000;
    size_t done = 0;
    while (done < b->len) {
        struct iovec iov = {.iov_base = b->data + done, .iov_len = b->len - done};
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } ctl;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (done == 0 && pass_fd >= 0) {
            memset(&ctl, 0, sizeof(ctl));
            mh.msg_control = ctl.buf;
            mh.msg_controllen = sizeof(ctl.buf);
            struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            int room = wait_room(fd, &deadline, drain, data, error);
            if (room < 0)
                return false;
            if (room > 0)
                continue;
        }
        if (n <= 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "session helper channel: %s",
                        g_strerror(n < 0 ? errno : EPIPE));
            return false;
        }
        done += (size_t)n;
        deadline = g_get_monotonic_time() + HELPER_MSG_TIMEOUT_MS * 1000;
    }
    return true;
}

bool helper_msg_send(int fd, GByteArray *b, int pass_fd, GError **error)
{
    return send_msg(fd, b, pass_fd, NULL, NULL, error);
}

bool helper_msg_send_draining(int fd, GByteArray *b, HelperDrainFunc drain, void *data,
                              GError **error)
{
    return send_msg(fd, b, -1, drain, data, error);
}

void helper_msg_clear(HelperMsg *m)
{
    g_clear_pointer(&m->payload, g_free);
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
    m->len = 0;
}

/* Wait until @fd is readable (or in error: the read says which); false when
 * the deadline passed first. */
static bool wait_readable(int fd, gint64 deadline)
{
    return vd_fd_wait(fd, POLLIN, deadline) != 0;
}

static HelperRecv fail(HelperMsg *m, GError **error, const char *why)
{
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "session helper channel: %s", why);
    helper_msg_clear(m);
    return HELPER_RECV_ERROR;
}

/* Take the descriptors that came with a header; keep one, close the rest. */
static void take_fds(struct msghdr *mh, HelperMsg *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (m->fd < 0)
                m->fd = fd;
            else
                close(fd);
        }
    }
}

HelperRecv helper_msg_recv(int fd, HelperMsg *m, GError **error)
{
    return helper_msg_recv_by(fd, m, HELPER_MSG_MAX,
                              g_get_monotonic_time() + HELPER_MSG_TIMEOUT_MS * 1000, error);
}

HelperRecv helper_msg_recv_by(int fd, HelperMsg *m, size_t max, gint64 deadline, GError **error)
{
    memset(m, 0, sizeof(*m));
    m->fd = -1;
    uint8_t header[HEADER_LEN];
    size_t got = 0;
    while (got < HEADER_LEN) {
        if (!wait_readable(fd, deadline))
            return fail(m, error, "a message stalled");
        struct iovec iov = {.iov_base = header + got, .iov_len = HEADER_LEN - got};
        union {
            char buf[CMSG_SPACE(4 * sizeof(int))];
            struct cmsghdr align;
        } ctl;
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n >= 0)
            take_fds(&mh, m);
        if (n == 0 && got == 0) {
            helper_msg_clear(m);
            return HELPER_RECV_EOF;
        }
        if (n <= 0 || (mh.msg_flags & MSG_CTRUNC))
            return fail(m, error, n < 0 ? g_strerror(errno) : "cut short");
        got += (size_t)n;
    }
    uint32_t len;
    memcpy(&m->type, header, 4);
    memcpy(&len, header + 4, 4);
    if (len > max) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "session helper message of %u bytes (at most %zu)", len, max);
        helper_msg_clear(m);
        return HELPER_RECV_ERROR;
    }
    m->payload = g_malloc(len ? len : 1);
    m->len = len;
    got = 0;
    while (got < len) {
        if (!wait_readable(fd, deadline))
            return fail(m, error, "a message stalled");
        ssize_t n = read(fd, m->payload + got, len - got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return fail(m, error, n < 0 ? g_strerror(errno) : "cut short");
        got += (size_t)n;
    }
    return HELPER_RECV_OK;
}

void helper_reader_init(HelperReader *r, const uint8_t *p, size_t len)
{
    *r = (HelperReader){.p = p, .len = len};
}

const uint8_t *helper_get_bytes(HelperReader *r, size_t n)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint32_t helper_get_u32(HelperReader *r)
{
    const uint8_t *p = helper_get_bytes(r, 4);
    uint32_t v = 0;
    if (p)
        memcpy(&v, p, 4);
    return v;
}

int32_t helper_get_i32(HelperReader *r)
{
    return (int32_t)helper_get_u32(r);
}

uint8_t helper_get_u8(HelperReader *r)
{
    const uint8_t *p = helper_get_bytes(r, 1);
    return p ? *p : 0;
}

char *helper_get_str(HelperReader *r, size_t max)
{
    uint32_t n = helper_get_u32(r);
    if (r->bad || n == HELPER_STR_NONE)
        return NULL;
    const uint8_t *p = n <= max ? helper_get_bytes(r, n) : NULL;
    if (!p || !g_utf8_validate_len((const char *)p, n, NULL)) {
        r->bad = true;
        return NULL;
    }
    return g_strndup((const char *)p, n);
}

bool helper_reader_done(const HelperReader *r)
{
    return !r->bad && r->pos == r->len;
}
