/* `vmdesk-probe-helper` (rdp_probe.h): the RDP probe's exchange
 * with a server, confined. It serves the window process that started it,
 * one request at a time, until the window closes the channel: each request
 * brings a connected socket, the requested protocols and the deadline; the
 * answer is the verdict (HELPER_MSG_PROBE_ANSWER, checked by the window in
 * rdp_probe_confined.c). */
#include "session/rdp/rdp_probe_priv.h"

#include "common/text.h"
#include "session/helper/helper.h"
#include "session/helper/helper_escape.h"
#include "session/helper/helper_proto.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

static bool send_answer(GByteArray *b, const RdpProbeInfo *info)
{
    helper_msg_begin(b, HELPER_MSG_PROBE_ANSWER);
    helper_put_u32(b, info->result);
    helper_put_u8(b, info->negotiated);
    helper_put_u32(b, info->protocol);
    helper_put_u32(b, info->server_flags);
    helper_put_u32(b, info->failure_code);
    const char *detail = info->detail ? info->detail : "";
    g_autofree char *cut =
        g_strndup(detail, vd_text_cut(detail, strlen(detail), RDP_PROBE_DETAIL_MAX));
    helper_put_str(b, cut);
    g_autoptr(GError) err = NULL;
    if (helper_msg_send(HELPER_FD_CHANNEL, b, -1, &err))
        return true;
    fprintf(stderr, "vmdesk-probe-helper: %s\n", err->message);
    return false;
}

int rdp_probe_helper_main(void)
{
    g_autoptr(GError) err = NULL;
    if (!helper_begin_probe(&err)) {
        fprintf(stderr, "vmdesk-probe-helper: %s\n", err->message);
        return 1;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    bool tried_escape = false;
    for (;;) {
        /* Idle as long as the window keeps this helper. */
        struct pollfd pfd = {.fd = HELPER_FD_CHANNEL, .events = POLLIN};
        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        HelperMsg m;
        if (helper_msg_recv(HELPER_FD_CHANNEL, &m, NULL) != HELPER_RECV_OK)
            return 0; /* the window left, or ended this helper */
        HelperReader r;
        helper_reader_init(&r, m.payload, m.len);
        unsigned requested = helper_get_u32(&r);
        guint64 hi = helper_get_u32(&r), lo = helper_get_u32(&r);
        if (m.type != HELPER_MSG_PROBE || m.fd < 0 || !helper_reader_done(&r)) {
            helper_msg_clear(&m);
            fprintf(stderr, "vmdesk-probe-helper: a malformed request\n");
            return 1;
        }
        RdpProbeInfo info = {0};
        rdp_probe_exchange(m.fd, requested, (gint64)(hi << 32 | lo), &info);
        helper_msg_clear(&m); /* closes the server's socket */
        if (!tried_escape) {
            helper_escape_try(); /* a test's exploited parser; nothing otherwise */
            tried_escape = true;
        }
        bool sent = send_answer(b, &info);
        rdp_probe_info_clear(&info);
        if (!sent)
            return 1;
    }
}
