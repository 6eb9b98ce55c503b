/* Clipboard: libfreerdp-server3's cliprdr server on the static "cliprdr"
 * channel. The library's thread sends our capabilities and Monitor Ready as
 * soon as it starts; the client answers with its capabilities (and maybe a
 * temporary folder) and its first format list, and from then on the channel
 * is ready. We then announce CF_UNICODETEXT when there is a --clipboard text
 * and serve it when the client asks; whenever the client announces text
 * (CF_UNICODETEXT, else CF_TEXT) we ask for it and log it. Only text: other
 * formats are refused. Every callback runs on the library's cliprdr thread;
 * the peer thread may put a new text on the clipboard (srv_clip_copy, the
 * RemoteApp `copy` command): the lock guards what both touch. */
#include "srv.h"
#include "srv_clip_rich.h"

#include <string.h>

#include <freerdp/server/cliprdr.h>
#include <winpr/user.h>

struct SrvClip {
    CliprdrServerContext *ctx;
    bool started;         /* Start succeeded: Stop joins the thread */
    GMutex lock;          /* guards text and ready */
    char *text;           /* the server's clipboard text, UTF-8; NULL: none */
    bool ready;           /* the client's first format list came */
    bool announce_due;    /* announce our text once the client's data is in (cliprdr thread) */
    UINT32 requested;     /* the format we asked the client for; 0: none pending (cliprdr thread) */
    SrvClipRich *rich;    /* pictures and files (srv_clip_rich.c; cliprdr thread) */
    UINT32 rich_requested; /* the client's picture or files we asked for */
};

static UINT announce(SrvClip *c)
{
    CLIPRDR_FORMAT fmt = {.formatId = CF_UNICODETEXT};
    CLIPRDR_FORMAT_LIST list = {.common.msgType = CB_FORMAT_LIST, .numFormats = 1, .formats = &fmt};
    CLIPRDR_FORMAT rich[1];
    if (c->rich && srv_clip_rich_formats(c->rich, rich)) { /* instead of the text */
        list.numFormats = 1;
        list.formats = rich;
    }
    c->announce_due = false;
    UINT rc = c->ctx->ServerFormatList(c->ctx, &list);
    if (rc != CHANNEL_RC_OK)
        srv_warn("cliprdr: announcing the text failed (error %u)", rc);
    return rc;
}

static UINT on_client_caps(CliprdrServerContext *ctx, const CLIPRDR_CAPABILITIES *caps)
{
    /* The library has already narrowed our flags to the client's. */
    return CHANNEL_RC_OK;
}

static UINT on_temp_dir(CliprdrServerContext *ctx, const CLIPRDR_TEMP_DIRECTORY *dir)
{
    return CHANNEL_RC_OK;
}

static UINT on_client_format_list(CliprdrServerContext *ctx, const CLIPRDR_FORMAT_LIST *list)
{
    SrvClip *c = ctx->custom;
    CLIPRDR_FORMAT_LIST_RESPONSE resp = {.common.msgType = CB_FORMAT_LIST_RESPONSE,
                                         .common.msgFlags = CB_RESPONSE_OK};
    UINT rc = ctx->ServerFormatListResponse(ctx, &resp);
    if (rc != CHANNEL_RC_OK)
        return rc;
    srv_log("clipboard client-formats %u", list->numFormats);
    c->rich_requested = srv_clip_rich_choose(c->rich, list);
    UINT32 want = 0;
    for (UINT32 i = 0; i < list->numFormats; i++) {
        UINT32 id = list->formats[i].formatId;
        if (id == CF_UNICODETEXT)
            want = id;
        else if (id == CF_TEXT && !want)
            want = id;
    }
    g_mutex_lock(&c->lock);
    if (!c->ready) {
        c->ready = true;
        srv_log("clipboard ready");
        c->announce_due = c->text != NULL || srv_clip_rich_formats(c->rich, (CLIPRDR_FORMAT[1]){0});
    }
    g_mutex_unlock(&c->lock);
    if (c->rich_requested) {
        CLIPRDR_FORMAT_DATA_REQUEST req = {.common.msgType = CB_FORMAT_DATA_REQUEST,
                                           .common.dataLen = 4,
                                           .requestedFormatId = c->rich_requested & 0x7fffffffu};
        c->requested = req.requestedFormatId;
        return ctx->ServerFormatDataRequest(ctx, &req);
    }
    if (want) {
        /* Our own announcement waits for the answer: a client may no
         * longer serve its text once the server owns the clipboard. */
        CLIPRDR_FORMAT_DATA_REQUEST req = {.common.msgType = CB_FORMAT_DATA_REQUEST,
                                           .common.dataLen = 4, .requestedFormatId = want};
        c->requested = want;
        rc = ctx->ServerFormatDataRequest(ctx, &req);
        if (rc != CHANNEL_RC_OK)
            srv_warn("cliprdr: asking for the client's text failed (error %u)", rc);
        return rc;
    }
    return c->announce_due ? announce(c) : CHANNEL_RC_OK;
}

static UINT on_client_format_list_response(CliprdrServerContext *ctx,
                                           const CLIPRDR_FORMAT_LIST_RESPONSE *resp)
{
    if (resp->common.msgFlags != CB_RESPONSE_OK)
        srv_warn("cliprdr: the client refused our format list");
    return CHANNEL_RC_OK;
}

static UINT on_client_data_request(CliprdrServerContext *ctx,
                                   const CLIPRDR_FORMAT_DATA_REQUEST *req)
{
    SrvClip *c = ctx->custom;
    CLIPRDR_FORMAT_DATA_RESPONSE resp = {.common.msgType = CB_FORMAT_DATA_RESPONSE,
                                         .common.msgFlags = CB_RESPONSE_FAIL};
    g_autofree gunichar2 *utf16 = NULL;
    glong n = 0;
    g_mutex_lock(&c->lock);
    g_autofree char *text = g_strdup(c->text);
    g_mutex_unlock(&c->lock);
    size_t rich_len = 0;
    g_autofree uint8_t *rich = srv_clip_rich_data(c->rich, req->requestedFormatId, &rich_len);
    if (rich) {
        resp.common.msgFlags = CB_RESPONSE_OK;
        resp.common.dataLen = (UINT32)rich_len;
        resp.requestedFormatData = rich;
        return ctx->ServerFormatDataResponse(ctx, &resp);
    }
    if (req->requestedFormatId == CF_UNICODETEXT && text) {
        /* Windows text: CRLF line ends, NUL-terminated UTF-16LE. */
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        g_autofree char *crlf = g_strjoinv("\r\n", lines);
        utf16 = g_utf8_to_utf16(crlf, -1, NULL, &n, NULL);
        if (utf16) {
            resp.common.msgFlags = CB_RESPONSE_OK;
            resp.common.dataLen = (UINT32)((n + 1) * 2);
            resp.requestedFormatData = (const BYTE *)utf16;
        }
    }
    UINT rc = ctx->ServerFormatDataResponse(ctx, &resp);
    if (rc != CHANNEL_RC_OK)
        srv_warn("cliprdr: sending the text failed (error %u)", rc);
    else if (resp.common.msgFlags == CB_RESPONSE_OK)
        srv_log("clipboard served %ld", g_utf8_strlen(text, -1));
    else
        srv_log("clipboard refused 0x%x", req->requestedFormatId);
    return rc;
}

static UINT on_client_data_response(CliprdrServerContext *ctx,
                                    const CLIPRDR_FORMAT_DATA_RESPONSE *resp)
{
    SrvClip *c = ctx->custom;
    UINT32 format = c->requested;
    c->requested = 0;
    if (!format)
        return CHANNEL_RC_OK;
    if (c->rich_requested && resp->common.msgFlags == CB_RESPONSE_OK) {
        UINT32 chosen = c->rich_requested;
        c->rich_requested = 0;
        UINT rc = srv_clip_rich_response(c->rich, ctx, chosen, resp->requestedFormatData,
                                         resp->common.dataLen);
        if (rc != CHANNEL_RC_OK)
            return rc;
        return c->announce_due ? announce(c) : CHANNEL_RC_OK;
    }
    if (resp->common.msgFlags != CB_RESPONSE_OK) {
        srv_log("clipboard from-client-failed 0x%x", format);
    } else {
        g_autofree char *text = NULL;
        const BYTE *d = resp->requestedFormatData;
        if (format == CF_UNICODETEXT)
            /* Stops at the first NUL. */
            text = g_utf16_to_utf8((const gunichar2 *)d, (glong)(resp->common.dataLen / 2), NULL, NULL,
                                   NULL);
        else
            text = g_strndup((const char *)d, resp->common.dataLen);
        if (!text) {
            srv_log("clipboard from-client-failed 0x%x", format);
        } else {
            g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
            g_autofree char *lf = g_strjoinv("\n", lines);
            g_autofree char *esc = srv_escape((const guint8 *)lf, strlen(lf));
            srv_log("clipboard from-client %s", esc);
        }
    }
    return c->announce_due ? announce(c) : CHANNEL_RC_OK;
}

static UINT on_client_contents_request(CliprdrServerContext *ctx,
                                       const CLIPRDR_FILE_CONTENTS_REQUEST *req)
{
    SrvClip *c = ctx->custom;
    return srv_clip_rich_contents(c->rich, ctx, req);
}

static UINT on_client_contents_response(CliprdrServerContext *ctx,
                                        const CLIPRDR_FILE_CONTENTS_RESPONSE *resp)
{
    SrvClip *c = ctx->custom;
    return srv_clip_rich_contents_response(c->rich, ctx, resp);
}

void srv_clip_copy(SrvClip *c, const char *text)
{
    g_mutex_lock(&c->lock);
    g_free(c->text);
    c->text = g_strdup(text);
    bool ready = c->ready; /* before that, the first format list announces it */
    g_mutex_unlock(&c->lock);
    srv_log("clipboard copied %ld", g_utf8_strlen(text, -1));
    if (ready)
        announce(c);
}

SrvClip *srv_clip_create(HANDLE vcm, rdpContext *context, const char *text, const char *offer)
{
    SrvClip *c = g_new0(SrvClip, 1);
    g_mutex_init(&c->lock);
    c->rich = srv_clip_rich_new(offer, NULL); /* checked on the command line */
    c->text = text && *text ? g_strdup(text) : NULL;
    c->ctx = cliprdr_server_context_new(vcm);
    if (!c->ctx) {
        srv_warn("cliprdr: cannot create the channel context");
        srv_clip_destroy(c);
        return NULL;
    }
    CliprdrServerContext *ctx = c->ctx;
    ctx->custom = c;
    ctx->rdpcontext = context;
    ctx->useLongFormatNames = TRUE;
    ctx->autoInitializationSequence = TRUE; /* capabilities and Monitor Ready at Start */
    ctx->ClientCapabilities = on_client_caps;
    ctx->TempDirectory = on_temp_dir;
    ctx->ClientFormatList = on_client_format_list;
    ctx->ClientFormatListResponse = on_client_format_list_response;
    ctx->ClientFormatDataRequest = on_client_data_request;
    ctx->ClientFormatDataResponse = on_client_data_response;
    ctx->ClientFileContentsRequest = on_client_contents_request;
    ctx->ClientFileContentsResponse = on_client_contents_response;
    /* Files by their contents, both ways. */
    ctx->hasHugeFileSupport = TRUE;
    ctx->streamFileClipEnabled = TRUE;
    ctx->fileClipNoFilePaths = TRUE;
    UINT rc = ctx->Start(ctx);
    if (rc != CHANNEL_RC_OK) {
        srv_warn("cliprdr: the channel did not start (error %u)", rc);
        srv_clip_destroy(c);
        return NULL;
    }
    c->started = true;
    return c;
}

void srv_clip_destroy(SrvClip *c)
{
    if (!c)
        return;
    if (c->ctx) {
        /* Stop joins the library's thread and closes the channel. */
        if (c->started)
            c->ctx->Stop(c->ctx);
        cliprdr_server_context_free(c->ctx);
    }
    g_free(c->text);
    srv_clip_rich_free(c->rich);
    g_mutex_clear(&c->lock);
    g_free(c);
}
