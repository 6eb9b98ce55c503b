/* Clipboard pictures and files for the test server (--clipboard-offer and
 * whatever the client offers), beside srv_clip.c's text. Everything runs on
 * the library's cliprdr thread.
 *
 * Offers (--clipboard-offer SPEC):
 *   picture:WxH     a CF_DIB (24 bits) of a fixed pattern; logs
 *                   "clipboard offered-picture WxH SHA256" (of its RGBA rows)
 *   files:N:SIZE[:MS]  folder vmdesk-clip with N files of SIZE bytes each
 *                   (FileGroupDescriptorW; contents by FILECONTENTS ranges,
 *                   each answer MS milliseconds late: a slow server);
 *                   logs "clipboard offered-file NAME SIZE SHA256" for each
 *   hostile:KIND    a bad copy: dotdot, absolute, drive, long (a 256-byte
 *                   name), count (10001 files), more / less (a file that
 *                   sends more / fewer bytes than announced), nul (the
 *                   name "nul.txt", a NUL, then "..\escaped.txt"; its 100
 *                   bytes are sent), picture (100000 x 100000 pixels),
 *                   huge (a file announced with 5 GiB, beyond the
 *                   client's limit), huge-late (the same size, announced
 *                   only when asked: no size in the list)
 * From the client: its files are fetched ("clipboard from-client-file NAME
 * SIZE SHA256") or, without files, its CF_DIBV5 / CF_DIB picture
 * ("clipboard from-client-picture WxH SHA256", of RGBA rows, alpha 255 for
 * CF_DIB). Parsing is vmdesk's own checked units (session/clip_*.c). */
#include "srv_clip_rich.h"

#include "session/clip_files.h"
#include "session/clip_image.h"

#include <string.h>
#include <winpr/user.h>

#define FILES_ID 0xC0B1
#define CHUNK (4u << 20)

struct SrvClipRich {
    char kind[16];          /* "picture", "files", "hostile" */
    char hostile[16];
    unsigned w, h, n;
    unsigned delay_ms;      /* files: each FILECONTENTS answer this late */
    uint64_t size;
    ClipFileList list;      /* what we offer */
    /* fetching the client's files */
    ClipFileList from;
    guint from_index;
    uint64_t from_pos;
    GChecksum *sum;
    UINT32 stream;
    UINT32 lock;            /* our lock on the client's files being fetched; 0: none */
};

static uint8_t pattern(guint file, uint64_t pos)
{
    return (uint8_t)(pos * 7 + file * 13 + (pos >> 12));
}

SrvClipRich *srv_clip_rich_new(const char *spec, GError **error)
{
    SrvClipRich *r = g_new0(SrvClipRich, 1);
    guint64 size = 0;
    if (!spec) {
        return r;
    } else if (sscanf(spec, "picture:%ux%u", &r->w, &r->h) == 2 && r->w && r->h &&
               r->w <= 4096 && r->h <= 4096) {
        g_strlcpy(r->kind, "picture", sizeof(r->kind));
    } else if (sscanf(spec, "files:%u:%" G_GUINT64_FORMAT ":%u", &r->n, &size, &r->delay_ms) >= 2 &&
               r->n && r->n <= 1000 && r->delay_ms <= 60000) {
        g_strlcpy(r->kind, "files", sizeof(r->kind));
        r->size = size;
    } else if (g_str_has_prefix(spec, "hostile:")) {
        g_strlcpy(r->kind, "hostile", sizeof(r->kind));
        g_strlcpy(r->hostile, spec + 8, sizeof(r->hostile));
        const char *kinds[] = {"dotdot", "absolute", "drive",   "long", "nul",
                               "count",  "more",     "less",    "picture", "huge",
                               "huge-late"};
        bool known = false;
        for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
            known |= !strcmp(r->hostile, kinds[i]);
        if (!known)
            goto bad;
    } else {
        goto bad;
    }
    if (!strcmp(r->kind, "files")) {
        r->list.n = r->n + 1;
        r->list.files = g_new0(ClipFile, r->list.n);
        r->list.files[0] = (ClipFile){.name = g_strdup("vmdesk-clip"), .is_dir = true};
        for (guint i = 1; i <= r->n; i++)
            r->list.files[i] = (ClipFile){.name = g_strdup_printf("vmdesk-clip/file-%u.bin", i),
                                          .has_size = true,
                                          .size = r->size};
    }
    return r;
bad:
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--clipboard-offer: %s is not picture:WxH, files:N:SIZE[:MS] or hostile:KIND", spec);
    g_free(r);
    return NULL;
}

void srv_clip_rich_free(SrvClipRich *r)
{
    if (!r)
        return;
    clip_file_list_clear(&r->list);
    clip_file_list_clear(&r->from);
    if (r->sum)
        g_checksum_free(r->sum);
    g_free(r);
}

UINT32 srv_clip_rich_formats(SrvClipRich *r, CLIPRDR_FORMAT *fmts)
{
    if (!strcmp(r->kind, "picture") || !strcmp(r->hostile, "picture")) {
        fmts[0] = (CLIPRDR_FORMAT){.formatId = CF_DIB};
        return 1;
    }
    if (*r->kind) {
        fmts[0] = (CLIPRDR_FORMAT){.formatId = FILES_ID, .formatName = "FileGroupDescriptorW"};
        return 1;
    }
    return 0;
}

static void log_sum(const char *what, const char *name, uint64_t size, GChecksum *sum)
{
    srv_log("clipboard %s %s %" G_GUINT64_FORMAT " %s", what, name, size,
            g_checksum_get_string(sum));
}

/* The offered picture: 24-bit CF_DIB, bottom up; logs its RGBA hash. */
static uint8_t *picture_dib(SrvClipRich *r, size_t *len)
{
    if (!strcmp(r->hostile, "picture")) {
        ClipImage tiny = {.width = 1, .height = 1, .rgba = (uint8_t[4]){0}};
        uint8_t *d = clip_image_to_dib(&tiny, false, len);
        d[4] = 0xa0, d[5] = 0x86, d[6] = 0x01; /* 100000 */
        d[8] = 0xa0, d[9] = 0x86, d[10] = 0x01;
        srv_log("clipboard offered-picture 100000x100000 hostile");
        return d;
    }
    size_t stride = ((size_t)r->w * 3 + 3) & ~(size_t)3;
    *len = 40 + stride * r->h;
    uint8_t *d = g_malloc0(*len);
    uint32_t v[5] = {40, r->w, r->h, 1 | 24 << 16, 0};
    memcpy(d, v, sizeof(v));
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    for (unsigned y = 0; y < r->h; y++) {
        uint8_t *row = d + 40 + stride * (r->h - 1 - y);
        for (unsigned x = 0; x < r->w; x++) {
            uint8_t rgba[4] = {(uint8_t)(x * 255 / r->w), (uint8_t)(y * 255 / r->h),
                               (uint8_t)((x ^ y) & 0xff), 255};
            row[3 * x] = rgba[2];
            row[3 * x + 1] = rgba[1];
            row[3 * x + 2] = rgba[0];
            g_checksum_update(sum, rgba, 4);
        }
    }
    g_autofree char *dims = g_strdup_printf("%ux%u", r->w, r->h);
    srv_log("clipboard offered-picture %s %s", dims, g_checksum_get_string(sum));
    g_checksum_free(sum);
    return d;
}

/* A hostile list, built by hand (our builder would refuse it). */
static uint8_t *hostile_list(SrvClipRich *r, size_t *len)
{
    const char *name = !strcmp(r->hostile, "dotdot")     ? "..\\escaped.txt"
                       : !strcmp(r->hostile, "absolute") ? "\\tmp\\escaped.txt"
                       : !strcmp(r->hostile, "drive")    ? "C:\\escaped.txt"
                       : !strcmp(r->hostile, "nul")      ? "nul.txt"
                                                         : "lying.bin";
    g_autofree char *long_name = NULL;
    if (!strcmp(r->hostile, "long"))
        name = long_name = g_strnfill(256, 'x');
    uint32_t count = !strcmp(r->hostile, "count") ? CLIP_FILES_MAX + 1 : 1;
    *len = 4 + (size_t)count * CLIP_FILE_DESCRIPTOR_SIZE;
    uint8_t *d = g_malloc0(*len);
    memcpy(d, &count, 4);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *fd = d + 4 + (size_t)i * CLIP_FILE_DESCRIPTOR_SIZE;
        uint32_t flags = CLIP_FD_ATTRIBUTES | CLIP_FD_FILESIZE, attrs = 0x80, size = 100;
        uint32_t size_high = 0;
        if (g_str_has_prefix(r->hostile, "huge")) /* 5 GiB */
            size = 1u << 30, size_high = 1;
        if (!strcmp(r->hostile, "huge-late"))
            flags &= ~(uint32_t)CLIP_FD_FILESIZE;
        memcpy(fd, &flags, 4);
        memcpy(fd + 36, &attrs, 4);
        memcpy(fd + 64, &size_high, 4);
        memcpy(fd + 68, &size, 4);
        glong units = 0;
        g_autofree gunichar2 *u = g_utf8_to_utf16(name, -1, NULL, &units, NULL);
        memcpy(fd + 72, u, (size_t)MIN(units, 259) * 2);
        if (!strcmp(r->hostile, "nul")) { /* "nul.txt" NUL "..\\escaped.txt" */
            g_autofree gunichar2 *rest = g_utf8_to_utf16("..\\escaped.txt", -1, NULL, &units, NULL);
            memcpy(fd + 72 + 8 * 2, rest, (size_t)units * 2);
        }
    }
    srv_log("clipboard offered-hostile %s", r->hostile);
    return d;
}

uint8_t *srv_clip_rich_data(SrvClipRich *r, UINT32 id, size_t *len)
{
    if (id == CF_DIB && (!strcmp(r->kind, "picture") || !strcmp(r->hostile, "picture")))
        return picture_dib(r, len);
    if (id != FILES_ID)
        return NULL;
    if (!strcmp(r->kind, "hostile"))
        return hostile_list(r, len);
    for (guint i = 1; i < r->list.n; i++) {
        GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
        uint8_t buf[65536];
        for (uint64_t pos = 0; pos < r->size;) {
            size_t n = (size_t)MIN((uint64_t)sizeof(buf), r->size - pos);
            for (size_t k = 0; k < n; k++)
                buf[k] = pattern(i, pos + k);
            g_checksum_update(sum, buf, n);
            pos += n;
        }
        log_sum("offered-file", r->list.files[i].name, r->size, sum);
        g_checksum_free(sum);
    }
    return clip_files_build(&r->list, len, NULL);
}

UINT srv_clip_rich_contents(SrvClipRich *r, CliprdrServerContext *ctx,
                            const CLIPRDR_FILE_CONTENTS_REQUEST *req)
{
    CLIPRDR_FILE_CONTENTS_RESPONSE resp = {
        .common = {.msgType = CB_FILECONTENTS_RESPONSE, .msgFlags = CB_RESPONSE_OK},
        .streamId = req->streamId};
    uint64_t pos = (uint64_t)req->nPositionHigh << 32 | req->nPositionLow;
    bool lying = !strcmp(r->hostile, "more") || !strcmp(r->hostile, "less");
    uint64_t size = lying ? (!strcmp(r->hostile, "more") ? 200 : 50)
                    : !strcmp(r->hostile, "nul")              ? 100
                    : g_str_has_prefix(r->hostile, "huge")    ? (uint64_t)5 << 30
                        : (req->listIndex >= 1 && req->listIndex < r->list.n ? r->size : 0);
    g_autofree uint8_t *buf = NULL;
    uint64_t size_le = 0;
    if (r->delay_ms)
        g_usleep((gulong)r->delay_ms * 1000);
    if (req->dwFlags & FILECONTENTS_SIZE) {
        size_le = lying ? 100 : size;
        resp.cbRequested = 8;
        resp.requestedData = (const BYTE *)&size_le;
    } else {
        uint32_t n = pos >= size ? 0 : (uint32_t)MIN((uint64_t)req->cbRequested, size - pos);
        if (!strcmp(r->hostile, "more"))
            n = 200; /* more than asked for, more than announced */
        buf = g_malloc(n ? n : 1);
        for (uint32_t k = 0; k < n; k++)
            buf[k] = pattern(req->listIndex, pos + k);
        resp.cbRequested = n;
        resp.requestedData = buf;
    }
    return ctx->ServerFileContentsResponse(ctx, &resp);
}

UINT32 srv_clip_rich_choose(SrvClipRich *r, const CLIPRDR_FORMAT_LIST *list)
{
    UINT32 dib = 0;
    for (UINT32 i = 0; i < list->numFormats; i++) {
        const CLIPRDR_FORMAT *f = &list->formats[i];
        if (f->formatName && !strcmp(f->formatName, "FileGroupDescriptorW"))
            return f->formatId | 0x80000000u; /* files first; marked */
        if (f->formatId == CF_DIBV5 || (f->formatId == CF_DIB && !dib))
            dib = f->formatId;
    }
    return dib;
}

/* Where both sides can lock, the client's copy is locked while it is
 * fetched (as a Windows server does), and let go of at the end. */
static UINT lock_client(SrvClipRich *r, CliprdrServerContext *ctx)
{
    if (!ctx->canLockClipData)
        return CHANNEL_RC_OK;
    static UINT32 next = 0x5000;
    r->lock = ++next;
    CLIPRDR_LOCK_CLIPBOARD_DATA lock = {.common.msgType = CB_LOCK_CLIPDATA, .clipDataId = r->lock};
    return ctx->ServerLockClipboardData(ctx, &lock);
}

static UINT unlock_client(SrvClipRich *r, CliprdrServerContext *ctx)
{
    if (!r->lock)
        return CHANNEL_RC_OK;
    CLIPRDR_UNLOCK_CLIPBOARD_DATA u = {.common.msgType = CB_UNLOCK_CLIPDATA, .clipDataId = r->lock};
    r->lock = 0;
    return ctx->ServerUnlockClipboardData(ctx, &u);
}

static UINT ask_range(SrvClipRich *r, CliprdrServerContext *ctx)
{
    while (r->from_index < r->from.n && r->from.files[r->from_index].is_dir)
        r->from_index++;
    if (r->from_index >= r->from.n)
        return unlock_client(r, ctx);
    const ClipFile *f = &r->from.files[r->from_index];
    if (!r->sum)
        r->sum = g_checksum_new(G_CHECKSUM_SHA256);
    if (r->from_pos >= f->size) {
        log_sum("from-client-file", f->name, f->size, r->sum);
        g_checksum_free(r->sum);
        r->sum = NULL;
        r->from_index++;
        r->from_pos = 0;
        return ask_range(r, ctx);
    }
    CLIPRDR_FILE_CONTENTS_REQUEST req = {
        .common.msgType = CB_FILECONTENTS_REQUEST,
        .streamId = ++r->stream,
        .listIndex = r->from_index,
        .dwFlags = FILECONTENTS_RANGE,
        .nPositionLow = (UINT32)r->from_pos,
        .nPositionHigh = (UINT32)(r->from_pos >> 32),
        .cbRequested = (UINT32)MIN((uint64_t)CHUNK, f->size - r->from_pos),
        .haveClipDataId = r->lock != 0,
        .clipDataId = r->lock};
    return ctx->ServerFileContentsRequest(ctx, &req);
}

UINT srv_clip_rich_response(SrvClipRich *r, CliprdrServerContext *ctx, UINT32 chosen,
                            const uint8_t *data, size_t len)
{
    g_autoptr(GError) err = NULL;
    if (chosen & 0x80000000u) {
        clip_file_list_clear(&r->from);
        if (!clip_files_parse(data, len, &r->from, &err)) {
            srv_log("clipboard from-client-files-refused %s", err->message);
            return CHANNEL_RC_OK;
        }
        srv_log("clipboard from-client-files %u", r->from.n);
        r->from_index = 0;
        r->from_pos = 0;
        unlock_client(r, ctx); /* a copy before, not fetched to its end */
        UINT rc = lock_client(r, ctx);
        return rc != CHANNEL_RC_OK ? rc : ask_range(r, ctx);
    }
    ClipImage img;
    if (!clip_image_from_dib(data, len, &img, &err)) {
        srv_log("clipboard from-client-picture-refused %s", err->message);
        return CHANNEL_RC_OK;
    }
    g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, img.rgba,
                                                       (gsize)img.width * img.height * 4);
    srv_log("clipboard from-client-picture %ux%u %s", img.width, img.height, sum);
    clip_image_clear(&img);
    return CHANNEL_RC_OK;
}

UINT srv_clip_rich_contents_response(SrvClipRich *r, CliprdrServerContext *ctx,
                                     const CLIPRDR_FILE_CONTENTS_RESPONSE *resp)
{
    if (resp->streamId != r->stream || r->from_index >= r->from.n)
        return CHANNEL_RC_OK;
    if (resp->common.msgFlags != CB_RESPONSE_OK || resp->cbRequested == 0) {
        srv_log("clipboard from-client-file-failed %s", r->from.files[r->from_index].name);
        r->from_index = r->from.n;
        return unlock_client(r, ctx);
    }
    g_checksum_update(r->sum, resp->requestedData, resp->cbRequested);
    r->from_pos += resp->cbRequested;
    return ask_range(r, ctx);
}
