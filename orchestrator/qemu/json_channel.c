#include "qemu/json_channel.h"

#include "common/error.h"
#include "common/fd_io.h"
#include "common/unix_socket.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_RETRY_US (20 * 1000)

struct JsonChannel {
    int fd;
    char *peer;
    JsonLines *lines;
    GError *broken;        /* why the stream ended or cannot be trusted; NULL: usable */
};

int json_channel_connect_unix(const char *path, int retry_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)retry_ms * 1000;
    for (;;) {
        /* Non-blocking: a server that accepts no more (QEMU's chardev with
         * a client, its backlog full) gives EAGAIN instead of a connect()
         * that waits for ever. */
        int fd = vd_unix_connect(path, SOCK_NONBLOCK);
        if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED && fd != -EAGAIN) ||
            g_get_monotonic_time() >= deadline)
            return fd;
        g_usleep(CONNECT_RETRY_US);
    }
}

JsonChannel *json_channel_new(int fd, const char *peer, JsonLines *lines)
{
    JsonChannel *ch = g_new0(JsonChannel, 1);
    ch->fd = fd;
    ch->peer = g_strdup(peer);
    ch->lines = lines;
    if (fd >= 0)
        vd_fd_set_nonblocking(fd);
    return ch;
}

void json_channel_destroy(JsonChannel *ch)
{
    if (!ch)
        return;
    if (ch->fd >= 0)
        close(ch->fd);
    json_lines_destroy(ch->lines);
    g_clear_error(&ch->broken);
    g_free(ch->peer);
    g_free(ch);
}

int json_channel_get_fd(JsonChannel *ch)
{
    return ch->fd;
}

bool json_channel_check(JsonChannel *ch, GError **error)
{
    if (!ch->broken)
        return true;
    g_set_error_literal(error, VD_ERROR, ch->broken->code, ch->broken->message);
    return false;
}

/* Break the channel with @e (taken), the first error only being kept. */
static bool fail_with(JsonChannel *ch, GError **error, GError *e)
{
    if (!ch->broken)
        ch->broken = g_error_copy(e);
    g_propagate_error(error, e);
    return false;
}

static bool fail(JsonChannel *ch, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static bool fail(JsonChannel *ch, GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return fail_with(ch, error, g_error_new_literal(VD_ERROR, VD_ERROR_PROTOCOL, msg));
}

bool json_channel_feed(JsonChannel *ch, const char *data, gsize len, GError **error)
{
    if (!json_channel_check(ch, error))
        return false;
    GError *local = NULL;
    if (!json_lines_feed(ch->lines, data, len, &local))
        return fail_with(ch, error, local);
    return true;
}

bool json_channel_read(JsonChannel *ch, GError **error)
{
    if (!json_channel_check(ch, error))
        return false;
    char buf[65536];
    for (;;) {
        ssize_t n = read(ch->fd, buf, sizeof(buf));
        if (n > 0) {
            if (!json_channel_feed(ch, buf, (gsize)n, error))
                return false;
            continue;
        }
        if (n == 0)
            return fail(ch, error, "%s closed the connection", ch->peer);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return true;
        return fail(ch, error, "reading from %s: %s", ch->peer, g_strerror(errno));
    }
}

bool json_channel_wait_read(JsonChannel *ch, gint64 deadline, const char *what, GError **error)
{
    if (!json_channel_check(ch, error))
        return false;
    int r = vd_fd_wait(ch->fd, POLLIN, deadline);
    if (r == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "%s did not answer %s in time", ch->peer,
                    what);
        return false;
    }
    if (r < 0)
        return fail(ch, error, "poll: %s", g_strerror(-r));
    return json_channel_read(ch, error);
}

char *json_request_to_string(const char *command, JsonObject *args, const char *id)
{
    g_autoptr(JsonObject) req = json_object_new();
    json_object_set_string_member(req, "execute", command);
    if (args)
        json_object_set_object_member(req, "arguments", json_object_ref(args));
    if (id)
        json_object_set_string_member(req, "id", id);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), req);
    return json_to_string(node, FALSE);
}

bool json_channel_send_request(JsonChannel *ch, const char *lead, const char *command,
                               JsonObject *args, const char *id, gint64 deadline,
                               GError **error)
{
    if (!json_channel_check(ch, error))
        return false;
    g_autofree char *text = json_request_to_string(command, args, id);
    g_autofree char *line = g_strconcat(lead ? lead : "", text, "\n", NULL);
    int e = vd_fd_send_all(ch->fd, line, strlen(line), deadline);
    if (e == ETIMEDOUT) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "%s did not take %s in time", ch->peer,
                    command);
        return false;
    }
    if (e)
        return fail(ch, error, "writing to %s: %s", ch->peer, g_strerror(e));
    return true;
}

const char *json_channel_refusal_reason(JsonObject *refusal)
{
    const char *desc = json_member_string(refusal, "desc");
    const char *cls = json_member_string(refusal, "class");
    return desc && *desc ? desc : cls && *cls ? cls : "no reason given";
}
