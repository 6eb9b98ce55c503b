/* The RDP probe's confined exchange, the window's side (rdp_probe_priv.h):
 * the window connects, `vmdesk-probe-helper` (rdp_probe_helper.c)
 * sends the request and classifies what the server answers, and the window
 * checks that verdict as hostile. Here: a pool of helpers, the request, the
 * answer's checks.
 *
 * One helper serves many probes: the session switch probes every 100 ms,
 * and starting a process each time would cost more than the probe. Helpers
 * are pooled per process rather than shared under one lock, so that a
 * probe waiting on a silent server (seconds) never holds up another
 * thread's (the hang watch counts on its probe's timing; a process may
 * probe several servers at once); a process that probes from one thread at
 * a time has exactly one helper. A helper that dies, hangs past the
 * deadline or answers anything but a well-formed verdict is killed and the
 * probe is RDP_PROBE_ERROR; the next probe starts a new one. */
#include "session/rdp/rdp_probe_priv.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "common/spawn.h"
#include "session/helper/helper.h"
#include "session/helper/helper_proto.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long past the probe's deadline the window waits for the helper's
 * answer before it calls the helper hung: the helper answers TIMEOUT at the
 * deadline itself, so this only covers a busy machine's scheduling. */
#define PROBE_HELPER_GRACE_MS 1000
/* Idle helpers a process keeps; more are ended when their probe is done. */
#define PROBE_HELPER_IDLE_MAX 2
/* The answer's payload: four u32, a u8, the detail's length and bytes. */
#define PROBE_ANSWER_MAX (4 * 4 + 1 + 4 + RDP_PROBE_DETAIL_MAX)

typedef struct {
    pid_t pid;
    int chan;
} ProbeHelper;

/* The idle helpers (ProbeHelper *): process-wide, like the helpers
 * themselves, which serve any thread. */
static GMutex pool_lock;
static GPtrArray *pool;

/* --- the window side: the answer --- */

bool rdp_probe_detail_ok(const char *detail)
{
    if (!detail || !*detail || strlen(detail) > RDP_PROBE_DETAIL_MAX ||
        !g_utf8_validate(detail, -1, NULL))
        return false;
    for (const char *p = detail; *p; p = g_utf8_next_char(p))
        if (!g_unichar_isprint(g_utf8_get_char(p)))
            return false;
    return true;
}

static bool bad_answer(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool bad_answer(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "the probe helper's answer is malformed: %s",
                why);
    return false;
}

bool rdp_probe_answer_read(const HelperMsg *m, RdpProbeInfo *info, GError **error)
{
    if (m->type != HELPER_MSG_PROBE_ANSWER)
        return bad_answer(error, "a message of type 0x%x", m->type);
    if (m->fd >= 0)
        return bad_answer(error, "a descriptor came with it");
    HelperReader r;
    helper_reader_init(&r, m->payload, m->len);
    uint32_t result = helper_get_u32(&r);
    uint8_t negotiated = helper_get_u8(&r);
    uint32_t protocol = helper_get_u32(&r);
    uint32_t flags = helper_get_u32(&r);
    uint32_t failure = helper_get_u32(&r);
    g_autofree char *detail = helper_get_str(&r, RDP_PROBE_DETAIL_MAX);
    if (!helper_reader_done(&r))
        return bad_answer(error, "its fields do not add up (%zu bytes)", m->len);
    /* ERROR is the window's own: the exchange never ends in it. */
    if (result >= RDP_PROBE_ERROR)
        return bad_answer(error, "result %u", result);
    if (negotiated > 1 || (negotiated && result != RDP_PROBE_READY))
        return bad_answer(error, "negotiated %u with result %s", negotiated,
                          rdp_probe_result_to_string(result));
    if (!negotiated && (protocol != RDP_PROTOCOL_RDP || flags))
        return bad_answer(error, "a protocol or flags without a negotiation");
    if (flags > 0xff)
        return bad_answer(error, "flags 0x%x (one byte on the wire)", flags);
    if (failure && result != RDP_PROBE_REFUSED)
        return bad_answer(error, "a failure code with result %s",
                          rdp_probe_result_to_string(result));
    if (!rdp_probe_detail_ok(detail))
        return bad_answer(error, "its sentence is not printable UTF-8 of 1 to %d bytes",
                          RDP_PROBE_DETAIL_MAX);
    info->result = result;
    info->negotiated = negotiated;
    info->protocol = protocol;
    info->server_flags = flags;
    info->failure_code = failure;
    g_free(info->detail);
    info->detail = g_steal_pointer(&detail);
    return true;
}

/* --- the window side: the helpers --- */

/* Kill and reap @p; its wait status. */
static int helper_end(ProbeHelper *p)
{
    int status = 0;
    close(p->chan);
    kill(p->pid, SIGKILL);
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    g_free(p);
    return status;
}

static ProbeHelper *helper_start(GError **error)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "socketpair: %s", g_strerror(errno));
        return NULL;
    }
    pid_t pid = helper_spawn(HELPER_PROBE_PROGRAM, NULL, sv[1], -1, error);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return NULL;
    }
    /* A helper that does not read must not block a send for good. */
    vd_fd_set_nonblocking(sv[0]);
    ProbeHelper *p = g_new0(ProbeHelper, 1);
    p->pid = pid;
    p->chan = sv[0];
    return p;
}

/* An idle helper that still waits for a request, or NULL: one that died
 * meanwhile, or sent something unasked, is ended. */
static ProbeHelper *helper_take_idle(void)
{
    for (;;) {
        g_mutex_lock(&pool_lock);
        ProbeHelper *p = pool && pool->len ? g_ptr_array_steal_index(pool, pool->len - 1) : NULL;
        g_mutex_unlock(&pool_lock);
        if (!p)
            return NULL;
        struct pollfd pfd = {.fd = p->chan, .events = POLLIN};
        if (poll(&pfd, 1, 0) == 0)
            return p;
        helper_end(p);
    }
}

/* @p answered well: keep it for the next probe, or end it when enough are
 * kept. */
static void helper_give_back(ProbeHelper *p)
{
    g_mutex_lock(&pool_lock);
    if (!pool)
        pool = g_ptr_array_new();
    bool keep = pool->len < PROBE_HELPER_IDLE_MAX;
    if (keep)
        g_ptr_array_add(pool, p);
    g_mutex_unlock(&pool_lock);
    if (!keep)
        helper_end(p);
}

void rdp_probe_helpers_close(void)
{
    ProbeHelper *p;
    while ((p = helper_take_idle()))
        helper_end(p);
}

/* Send the request for @fd to a helper (a kept one, or a new one if that
 * one is gone). The helper, or NULL with @error. */
static ProbeHelper *helper_request(int fd, unsigned requested, gint64 deadline, GError **error)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_PROBE);
    helper_put_u32(b, requested);
    helper_put_u32(b, (uint32_t)((guint64)deadline >> 32));
    helper_put_u32(b, (uint32_t)deadline);
    ProbeHelper *p = helper_take_idle();
    if (p && helper_msg_send(p->chan, b, fd, NULL))
        return p;
    if (p)
        helper_end(p); /* it left between the check and the send: a new one */
    p = helper_start(error);
    if (!p)
        return NULL;
    GError *err = NULL;
    if (helper_msg_send(p->chan, b, fd, &err))
        return p;
    int status = helper_end(p);
    g_autofree char *how = vd_describe_wait_status(status);
    g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "the probe helper did not take the request "
                "(%s; it %s)", err->message, how);
    g_error_free(err);
    return NULL;
}

bool rdp_probe_exchange_confined(int fd, unsigned requested, gint64 deadline, RdpProbeInfo *info,
                                 GError **error)
{
    GError *err = NULL;
    ProbeHelper *p = helper_request(fd, requested, deadline, &err);
    if (p) {
        gint64 give_up = deadline + PROBE_HELPER_GRACE_MS * 1000;
        HelperMsg m = {.fd = -1};
        HelperRecv got = vd_fd_wait(p->chan, POLLIN, give_up) > 0
                             ? helper_msg_recv_by(p->chan, &m, PROBE_ANSWER_MAX, give_up, &err)
                             : HELPER_RECV_ERROR;
        bool ok = got == HELPER_RECV_OK && rdp_probe_answer_read(&m, info, &err);
        helper_msg_clear(&m);
        if (ok) {
            helper_give_back(p);
            return true;
        }
        int status = helper_end(p);
        if (got == HELPER_RECV_EOF) {
            g_autofree char *how = vd_describe_wait_status(status);
            err = g_error_new(VD_ERROR, VD_ERROR_FAILED,
                              "the probe helper ended without an answer (it %s)", how);
        } else if (!err) {
            err = g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                              "the probe helper did not answer in time (killed)");
        } else if (got == HELPER_RECV_ERROR) {
            GError *channel = err;
            err = g_error_new(VD_ERROR, VD_ERROR_PROTOCOL, "the probe helper's answer is broken "
                              "(%s)", channel->message);
            g_error_free(channel);
        }
    }
    /* The server's answer is unknown: this probe could not be made. */
    info->result = RDP_PROBE_ERROR;
    info->negotiated = false;
    info->protocol = RDP_PROTOCOL_RDP;
    info->server_flags = 0;
    info->failure_code = 0;
    g_free(info->detail);
    info->detail = g_strdup(err->message);
    g_propagate_error(error, err);
    return false;
}
