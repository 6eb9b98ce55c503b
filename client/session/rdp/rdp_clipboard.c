/* Clipboard text in the RDP session (cliprdr, MS-RDPECLIP): Unicode text both
 * ways, CRLF and UTF-16LE on the wire, LF and UTF-8 here. What we offered and
 * what the server gave us are remembered so that neither side's text comes
 * back to it as news. Session thread. */
#include "session/rdp/rdp_session_priv.h"

#include <string.h>

#define CF_UNICODETEXT 13

static UINT clip_send_format_list(Rdp *r)
{
    CLIPRDR_FORMAT fmts[4] = {{.formatId = CF_UNICODETEXT}};
    guint n = r->clip_local ? 1 : rdp_clip_rich_formats(r, fmts);
    CLIPRDR_FORMAT_LIST list = {.common.msgType = CB_FORMAT_LIST,
                                .numFormats = n,
                                .formats = fmts};
    return r->clip->ClientFormatList(r->clip, &list);
}

void rdp_clipboard_offer_rich(Rdp *r)
{
    g_clear_pointer(&r->clip_remote, g_free);
    if (r->clip && r->clip_ready)
        clip_send_format_list(r);
}

static UINT clip_monitor_ready(CliprdrClientContext *clip, const CLIPRDR_MONITOR_READY *m)
{
    (void)m;
    Rdp *r = clip->custom;
    CLIPRDR_GENERAL_CAPABILITY_SET general = {
        .capabilitySetType = CB_CAPSTYPE_GENERAL,
        .capabilitySetLength = CB_CAPSTYPE_GENERAL_LEN,
        .version = CB_CAPS_VERSION_2,
        /* Files by their contents (no paths on the host's disk to share). */
        .generalFlags = CB_USE_LONG_FORMAT_NAMES | CB_STREAM_FILECLIP_ENABLED |
                        CB_FILECLIP_NO_FILE_PATHS,
    };
    CLIPRDR_CAPABILITIES caps = {.cCapabilitiesSets = 1,
                                 .capabilitySets = (CLIPRDR_CAPABILITY_SET *)&general};
    UINT rc = clip->ClientCapabilities(clip, &caps);
    if (rc != CHANNEL_RC_OK)
        return rc;
    r->clip_ready = true;
    return clip_send_format_list(r);
}

static UINT clip_server_caps(CliprdrClientContext *clip, const CLIPRDR_CAPABILITIES *caps)
{
    (void)clip;
    (void)caps;
    return CHANNEL_RC_OK;
}

static UINT clip_server_format_list(CliprdrClientContext *clip, const CLIPRDR_FORMAT_LIST *list)
{
    CLIPRDR_FORMAT_LIST_RESPONSE resp = {
        .common = {.msgType = CB_FORMAT_LIST_RESPONSE, .msgFlags = CB_RESPONSE_OK}};
    UINT rc = clip->ClientFormatListResponse(clip, &resp);
    if (rc != CHANNEL_RC_OK)
        return rc;
    Rdp *r = clip->custom;
    /* A new copy on the server ends the fetch of its earlier files. */
    rdp_clip_rich_cancel(r, "the server copied something else");
    r->clip_requested = rdp_clip_rich_choose(r, list);
    if (r->clip_requested) {
        CLIPRDR_FORMAT_DATA_REQUEST req = {.common.msgType = CB_FORMAT_DATA_REQUEST,
                                           .requestedFormatId = r->clip_requested};
        return clip->ClientFormatDataRequest(clip, &req);
    }
    for (UINT32 i = 0; i < list->numFormats; i++) {
        if (list->formats[i].formatId == CF_UNICODETEXT) {
            r->clip_requested = CF_UNICODETEXT;
            CLIPRDR_FORMAT_DATA_REQUEST req = {.common.msgType = CB_FORMAT_DATA_REQUEST,
                                               .requestedFormatId = CF_UNICODETEXT};
            return clip->ClientFormatDataRequest(clip, &req);
        }
    }
    return CHANNEL_RC_OK;
}

static UINT clip_server_format_list_response(CliprdrClientContext *clip,
                                             const CLIPRDR_FORMAT_LIST_RESPONSE *resp)
{
    (void)clip;
    (void)resp;
    return CHANNEL_RC_OK;
}

static UINT clip_server_data_request(CliprdrClientContext *clip,
                                     const CLIPRDR_FORMAT_DATA_REQUEST *req)
{
    Rdp *r = clip->custom;
    CLIPRDR_FORMAT_DATA_RESPONSE resp = {
        .common = {.msgType = CB_FORMAT_DATA_RESPONSE, .msgFlags = CB_RESPONSE_FAIL}};
    g_autofree gunichar2 *utf16 = NULL;
    glong n = 0;
    if (rdp_clip_rich_has_local(r)) {
        size_t len = 0;
        g_autofree uint8_t *data = rdp_clip_rich_data(r, req->requestedFormatId, &len);
        if (data && len <= G_MAXUINT32) {
            resp.common.msgFlags = CB_RESPONSE_OK;
            resp.common.dataLen = (UINT32)len;
            resp.requestedFormatData = data;
        }
        return clip->ClientFormatDataResponse(clip, &resp);
    }
    if (req->requestedFormatId == CF_UNICODETEXT && r->clip_local) {
        /* Windows text: CRLF line ends, NUL-terminated UTF-16LE. */
        g_auto(GStrv) lines = g_strsplit(r->clip_local, "\n", -1);
        g_autofree char *crlf = g_strjoinv("\r\n", lines);
        utf16 = g_utf8_to_utf16(crlf, -1, NULL, &n, NULL);
        if (utf16) {
            resp.common.msgFlags = CB_RESPONSE_OK;
            resp.common.dataLen = (UINT32)((n + 1) * 2);
            resp.requestedFormatData = (const BYTE *)utf16;
        }
    }
    return clip->ClientFormatDataResponse(clip, &resp);
}

static UINT clip_server_data_response(CliprdrClientContext *clip,
                                      const CLIPRDR_FORMAT_DATA_RESPONSE *resp)
{
    Rdp *r = clip->custom;
    if (resp->common.msgFlags == CB_RESPONSE_OK && r->clip_requested &&
        r->clip_requested != CF_UNICODETEXT) {
        rdp_clip_rich_response(r, r->clip_requested, resp->requestedFormatData,
                               resp->common.dataLen);
        return CHANNEL_RC_OK;
    }
    if (resp->common.msgFlags != CB_RESPONSE_OK || resp->common.dataLen < 2)
        return CHANNEL_RC_OK;
    g_autofree char *text = g_utf16_to_utf8((const gunichar2 *)resp->requestedFormatData,
                                            (glong)(resp->common.dataLen / 2), NULL, NULL, NULL);
    if (!text)
        return CHANNEL_RC_OK;
    /* Up to the first NUL, with CRLF back to LF. */
    g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
    char *lf = g_strjoinv("\n", lines);
    if (!g_strcmp0(lf, r->clip_remote) || !g_strcmp0(lf, r->clip_local)) {
        g_free(lf);
        return CHANNEL_RC_OK;
    }
    g_free(r->clip_remote);
    r->clip_remote = g_strdup(lf);
    /* The server's clipboard is its own now: the host's earlier text,
     * copied again, is news to it. */
    g_clear_pointer(&r->clip_local, g_free);
    session_post(r->s, SESSION_EV_CLIPBOARD, 0, 0, lf, NULL);
    return CHANNEL_RC_OK;
}

void rdp_clipboard_set_local(Rdp *r, char *text)
{
    /* The text the server just gave us, coming back from the host clipboard. */
    if (!g_strcmp0(text, r->clip_remote) || !g_strcmp0(text, r->clip_local)) {
        g_free(text);
        return;
    }
    g_free(r->clip_local);
    r->clip_local = text;
    rdp_clip_rich_drop_local(r);
    /* The server's clipboard holds ours from now on: its earlier text,
     * copied again on the host, must go back to it. */
    g_clear_pointer(&r->clip_remote, g_free);
    if (r->clip && r->clip_ready)
        clip_send_format_list(r);
}

void rdp_clipboard_connected(Rdp *r, CliprdrClientContext *clip)
{
    r->clip = clip;
    clip->custom = r;
    clip->MonitorReady = clip_monitor_ready;
    clip->ServerCapabilities = clip_server_caps;
    clip->ServerFormatList = clip_server_format_list;
    clip->ServerFormatListResponse = clip_server_format_list_response;
    clip->ServerFormatDataRequest = clip_server_data_request;
    clip->ServerFormatDataResponse = clip_server_data_response;
    rdp_clip_rich_connected(r, clip);
}

void rdp_clipboard_disconnected(Rdp *r)
{
    r->clip = NULL;
    r->clip_ready = false;
}

void rdp_clipboard_finish(Rdp *r)
{
    g_free(r->clip_local);
    g_free(r->clip_remote);
    rdp_clip_rich_finish(r);
}
