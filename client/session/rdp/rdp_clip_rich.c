/* Clipboard pictures and files in the RDP session (cliprdr, MS-RDPECLIP),
 * beside rdp_clipboard.c's text. The parsing, the checks and the staging
 * folder are FreeRDP-free units (session/clip_*.c); this file moves their
 * bytes over the channel. Session thread.
 *
 *  - Pictures: the host's image/png is offered as CF_DIB, CF_DIBV5 and the
 *    registered "PNG"; the server's "PNG", CF_DIBV5 or CF_DIB (that order)
 *    comes to the host as image/png, checked first (clip_image.h).
 *  - Files, host to server: "FileGroupDescriptorW" built from the host's
 *    paths; CB_FILECONTENTS_SIZE and _RANGE requests read the files.
 *  - Files, server to host: its list is checked (clip_files.h), a staging
 *    folder made (clip_stage.h), each file fetched in RANGE chunks of
 *    CHUNK bytes, written under a partial name and renamed when complete
 *    (confined: the stage is streamed, r->clip_sink, and the window writes
 *    the files, with its own checks and limit);
 *    progress goes out as SESSION_EV_CLIP_PROGRESS; once all is there the
 *    paths go to the host (SESSION_EV_CLIPBOARD_FILES). The user (Escape,
 *    session_clip_cancel) or a new copy on either side cancels the fetch:
 *    the partial file and the folder are removed, and a server that can
 *    lock its clipboard data (CB_CAN_LOCK_CLIPDATA) is told by the unlock
 *    of the lock taken when the fetch began. A server that lies about a
 *    size, or sends a bad list, gets its copy refused with a log line; the
 *    session goes on.
 *  - A server's own lock on our files names the host's copy of that moment:
 *    its requests under that lock are served while the host's copy is still
 *    the same, and refused (CB_RESPONSE_FAIL) once the host copied
 *    something else, never answered with another copy's bytes. */
#include "common/log.h"
#include "session/clip_files.h"
#include "session/clip_image.h"
#include "session/clip_le.h"
#include "session/clip_stage.h"
#include "session/rdp/rdp_session_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#define CF_DIB_ID 8
#define CF_DIBV5_ID 17
/* The ids we give our registered formats in our lists. */
#define OUR_PNG_ID 0xC0A0
#define OUR_FILES_ID 0xC0A1
#define CHUNK (4u << 20)
#define PROGRESS_EVERY_US (250 * 1000)

static void clear_local(Rdp *r)
{
    r->clip_local_gen++; /* the server's locks on the copy before no longer hold */
    /* A new copy on the host ends the fetch of the server's files. */
    rdp_clip_rich_cancel(r, "the host copied something else");
    g_clear_pointer(&r->clip_local_png, g_bytes_unref);
    clip_file_list_clear(&r->clip_local_files);
    g_clear_pointer(&r->clip_local_sources, g_strfreev);
    if (r->clip_src_fd >= 0)
        close(r->clip_src_fd);
    r->clip_src_fd = -1;
}

/* The server may let go of the data we locked for the fetch. */
static void unlock_server(Rdp *r)
{
    if (!r->clip_lock_id)
        return;
    if (r->clip && r->clip_ready) {
        CLIPRDR_UNLOCK_CLIPBOARD_DATA u = {.common.msgType = CB_UNLOCK_CLIPDATA,
                                           .clipDataId = r->clip_lock_id};
        r->clip->ClientUnlockClipboardData(r->clip, &u);
    }
    r->clip_lock_id = 0;
}

void rdp_clip_rich_cancel(Rdp *r, const char *why)
{
    if (!r->clip_stage)
        return;
    if (why)
        vd_warn("clipboard: the server's files are not copied: %s", why);
    clip_stage_destroy(r->clip_stage);
    r->clip_stage = NULL;
    unlock_server(r);
    session_post(r->s, SESSION_EV_CLIP_PROGRESS, 0, 0, NULL, NULL);
}

void rdp_clip_rich_user_cancel(Rdp *r)
{
    if (!r->clip_stage)
        return;
    uint64_t done, total;
    clip_stage_progress(r->clip_stage, &done, &total);
    g_autofree char *d = g_format_size(done), *t = g_format_size(total);
    vd_info("clipboard: the copy of the server's files was cancelled at %s of %s; its partial "
            "files are removed", d, t);
    rdp_clip_rich_cancel(r, NULL);
}

void rdp_clip_rich_server_caps(Rdp *r, UINT32 flags)
{
    r->clip_can_lock = (flags & CB_CAN_LOCK_CLIPDATA) != 0;
}

void rdp_clip_rich_finish(Rdp *r)
{
    clip_stage_destroy(r->clip_stage); /* first: no progress event after the end */
    r->clip_stage = NULL;
    r->clip_lock_id = 0; /* the channel is gone, and the lock with it */
    clear_local(r);
    clip_stage_destroy(r->clip_done);
    r->clip_done = NULL;
    g_clear_pointer(&r->clip_server_locks, g_hash_table_unref);
}

bool rdp_clip_rich_has_local(Rdp *r)
{
    return r->clip_local_png || r->clip_local_files.n;
}

guint rdp_clip_rich_formats(Rdp *r, CLIPRDR_FORMAT *fmts)
{
    guint n = 0;
    if (r->clip_local_png) {
        fmts[n++] = (CLIPRDR_FORMAT){.formatId = CF_DIB_ID};
        fmts[n++] = (CLIPRDR_FORMAT){.formatId = CF_DIBV5_ID};
        fmts[n++] = (CLIPRDR_FORMAT){.formatId = OUR_PNG_ID, .formatName = "PNG"};
    } else if (r->clip_local_files.n) {
        fmts[n++] = (CLIPRDR_FORMAT){.formatId = OUR_FILES_ID,
                                     .formatName = "FileGroupDescriptorW"};
    }
    return n;
}

void rdp_clip_rich_drop_local(Rdp *r)
{
    clear_local(r);
}

void rdp_clip_rich_set_png(Rdp *r, GBytes *png)
{
    g_clear_pointer(&r->clip_local, g_free);
    clear_local(r);
    r->clip_local_png = png;
}

void rdp_clip_rich_set_files(Rdp *r, char **paths)
{
    g_clear_pointer(&r->clip_local, g_free);
    clear_local(r);
    g_autoptr(GError) err = NULL;
    if (!clip_files_collect((const char *const *)paths, &r->clip_local_files,
                            &r->clip_local_sources, &err))
        vd_warn("clipboard: the host's files are not offered to the server: %s", err->message);
    g_strfreev(paths);
}

void rdp_clip_rich_set_list(Rdp *r, GBytes *list)
{
    g_clear_pointer(&r->clip_local, g_free);
    clear_local(r);
    gsize n = 0;
    const uint8_t *p = g_bytes_get_data(list, &n);
    g_autoptr(GError) err = NULL;
    if (!clip_files_parse(p, n, &r->clip_local_files, &err))
        vd_warn("clipboard: the host's files are not offered to the server: %s", err->message);
    g_bytes_unref(list);
}

/* The window's answer for one of the host's files (confined). */
static UINT window_file_request(Rdp *r, CliprdrClientContext *clip,
                                const CLIPRDR_FILE_CONTENTS_REQUEST *req,
                                CLIPRDR_FILE_CONTENTS_RESPONSE *resp)
{
    uint64_t pos = (uint64_t)req->nPositionHigh << 32 | req->nPositionLow;
    bool size = req->dwFlags & FILECONTENTS_SIZE;
    g_autoptr(GBytes) data = (size || (req->dwFlags & FILECONTENTS_RANGE))
                                 ? r->clip_read(req->listIndex, pos, req->cbRequested, size)
                                 : NULL;
    gsize n = 0;
    const void *p = data ? g_bytes_get_data(data, &n) : NULL;
    if (data && (!size || n == 8)) {
        resp->common.msgFlags = CB_RESPONSE_OK;
        resp->cbRequested = (UINT32)n;
        resp->requestedData = p;
    }
    return clip->ClientFileContentsResponse(clip, resp);
}

/* The data of our format @id, or NULL; *@len its size. */
uint8_t *rdp_clip_rich_data(Rdp *r, UINT32 id, size_t *len)
{
    g_autoptr(GError) err = NULL;
    if (r->clip_local_png && (id == CF_DIB_ID || id == CF_DIBV5_ID)) {
        ClipImage img;
        gsize n = 0;
        const uint8_t *png = g_bytes_get_data(r->clip_local_png, &n);
        if (!clip_image_from_png(png, n, &img, &err)) {
            vd_warn("clipboard: the host's picture is not sent: %s", err->message);
            return NULL;
        }
        uint8_t *dib = clip_image_to_dib(&img, id == CF_DIBV5_ID, len);
        clip_image_clear(&img);
        return dib;
    }
    if (r->clip_local_png && id == OUR_PNG_ID) {
        gsize n = 0;
        const void *png = g_bytes_get_data(r->clip_local_png, &n);
        *len = n;
        return g_memdup2(png, n);
    }
    if (r->clip_local_files.n && id == OUR_FILES_ID) {
        uint8_t *list = clip_files_build(&r->clip_local_files, len, &err);
        if (!list)
            vd_warn("clipboard: the host's files are not sent: %s", err->message);
        return list;
    }
    return NULL;
}

/* The server asks for a size or a range of one of our files. */
static UINT server_file_request(CliprdrClientContext *clip,
                                const CLIPRDR_FILE_CONTENTS_REQUEST *req)
{
    Rdp *r = clip->custom;
    CLIPRDR_FILE_CONTENTS_RESPONSE resp = {
        .common = {.msgType = CB_FILECONTENTS_RESPONSE, .msgFlags = CB_RESPONSE_FAIL},
        .streamId = req->streamId};
    g_autofree uint8_t *buf = NULL;
    uint8_t size[8]; /* a CB_FILECONTENTS_SIZE answer: 64 bits, little-endian */
    gpointer gen = NULL;
    if (req->haveClipDataId &&
        (!r->clip_server_locks ||
         !g_hash_table_lookup_extended(r->clip_server_locks, GUINT_TO_POINTER(req->clipDataId),
                                       NULL, &gen) ||
         GPOINTER_TO_UINT(gen) != r->clip_local_gen))
        goto send; /* a copy the host has replaced since, or no lock of the server's */
    if (req->listIndex >= r->clip_local_files.n ||
        r->clip_local_files.files[req->listIndex].is_dir)
        goto send;
    if (!r->clip_local_sources && r->clip_read)
        return window_file_request(r, clip, req, &resp);
    if (!r->clip_local_sources)
        goto send;
    if (r->clip_src_fd < 0 || r->clip_src_index != req->listIndex) {
        if (r->clip_src_fd >= 0)
            close(r->clip_src_fd);
        r->clip_src_fd = clip_files_open_source(&r->clip_local_files.files[req->listIndex],
                                                r->clip_local_sources[req->listIndex]);
        r->clip_src_index = req->listIndex;
        if (r->clip_src_fd < 0) {
            vd_warn("clipboard: cannot read %s: %s", r->clip_local_sources[req->listIndex],
                    g_strerror(errno));
            goto send;
        }
    }
    if (req->dwFlags & FILECONTENTS_SIZE) {
        struct stat st;
        if (fstat(r->clip_src_fd, &st) < 0)
            goto send;
        clip_put_le64(size, (uint64_t)st.st_size);
        resp.common.msgFlags = CB_RESPONSE_OK;
        resp.cbRequested = sizeof(size);
        resp.requestedData = size;
    } else if (req->dwFlags & FILECONTENTS_RANGE) {
        off_t pos = (off_t)((uint64_t)req->nPositionHigh << 32 | req->nPositionLow);
        size_t want = MIN(req->cbRequested, (UINT32)(16u << 20));
        buf = g_malloc(want ? want : 1);
        size_t got = 0;
        while (got < want) {
            ssize_t n = pread(r->clip_src_fd, buf + got, want - got, pos + (off_t)got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        resp.common.msgFlags = CB_RESPONSE_OK;
        resp.cbRequested = (UINT32)got;
        resp.requestedData = buf;
    }
send:
    return clip->ClientFileContentsResponse(clip, &resp);
}

/* --- the server's files --- */

static UINT request_next(Rdp *r);

static UINT ask_range(Rdp *r)
{
    guint i = r->clip_stage_index;
    uint64_t pos = r->clip_stage_pos;
    CLIPRDR_FILE_CONTENTS_REQUEST req = {
        .common.msgType = CB_FILECONTENTS_REQUEST,
        .streamId = ++r->clip_stream,
        .listIndex = i,
        .dwFlags = FILECONTENTS_RANGE,
        .nPositionLow = (UINT32)pos,
        .nPositionHigh = (UINT32)(pos >> 32),
        .cbRequested = (UINT32)MIN((uint64_t)CHUNK, clip_stage_missing(r->clip_stage)),
        .haveClipDataId = r->clip_lock_id != 0,
        .clipDataId = r->clip_lock_id,
    };
    r->clip_asked = req.cbRequested;
    return r->clip->ClientFileContentsRequest(r->clip, &req);
}

static void post_progress(Rdp *r, bool force)
{
    gint64 now = g_get_monotonic_time();
    if (!force && now - r->clip_progress_at < PROGRESS_EVERY_US)
        return;
    r->clip_progress_at = now;
    uint64_t done, total;
    clip_stage_progress(r->clip_stage, &done, &total);
    g_autofree char *d = g_format_size(done), *t = g_format_size(total);
    const ClipFileList *l = clip_stage_list(r->clip_stage);
    guint n = 0;
    for (guint i = 0; i < l->n; i++)
        n += !l->files[i].is_dir;
    session_post(r->s, SESSION_EV_CLIP_PROGRESS, 0, 0,
                 g_strdup_printf("copying %u file%s from the server: %s of %s (Esc cancels)", n,
                                 n == 1 ? "" : "s", d, t),
                 NULL);
}

/* Start the next file, or hand the paths to the host when all are there. */
static UINT request_next(Rdp *r)
{
    const ClipFileList *l = clip_stage_list(r->clip_stage);
    g_autoptr(GError) err = NULL;
    while (r->clip_stage_index < l->n && l->files[r->clip_stage_index].is_dir)
        r->clip_stage_index++;
    if (r->clip_stage_index >= l->n) {
        clip_stage_finish(r->clip_stage);
        char **paths = clip_stage_paths(r->clip_stage); /* streamed: none, the window's */
        vd_info("clipboard: %u files from the server are on the host clipboard", l->n);
        clip_stage_destroy(r->clip_done); /* the copy before: its paste is over */
        r->clip_done = r->clip_stage;
        r->clip_stage = NULL;
        unlock_server(r);
        session_post(r->s, SESSION_EV_CLIP_PROGRESS, 0, 0, NULL, NULL);
        if (paths)
            session_post_clipboard(r->s, SESSION_EV_CLIPBOARD_FILES, NULL, paths);
        return CHANNEL_RC_OK;
    }
    if (!clip_stage_begin(r->clip_stage, r->clip_stage_index, &err)) {
        rdp_clip_rich_cancel(r, err->message);
        return CHANNEL_RC_OK;
    }
    r->clip_stage_pos = 0;
    if (!l->files[r->clip_stage_index].has_size) {
        CLIPRDR_FILE_CONTENTS_REQUEST req = {.common.msgType = CB_FILECONTENTS_REQUEST,
                                             .streamId = ++r->clip_stream,
                                             .listIndex = r->clip_stage_index,
                                             .dwFlags = FILECONTENTS_SIZE,
                                             .cbRequested = 8,
                                             .haveClipDataId = r->clip_lock_id != 0,
                                             .clipDataId = r->clip_lock_id};
        r->clip_asked = 0;
        return r->clip->ClientFileContentsRequest(r->clip, &req);
    }
    if (clip_stage_missing(r->clip_stage) == 0)
        goto complete;
    return ask_range(r);
complete:
    if (!clip_stage_end(r->clip_stage, &err)) {
        rdp_clip_rich_cancel(r, err->message);
        return CHANNEL_RC_OK;
    }
    r->clip_stage_index++;
    return request_next(r);
}

static UINT server_file_response(CliprdrClientContext *clip,
                                 const CLIPRDR_FILE_CONTENTS_RESPONSE *resp)
{
    Rdp *r = clip->custom;
    g_autoptr(GError) err = NULL;
    if (!r->clip_stage || resp->streamId != r->clip_stream)
        return CHANNEL_RC_OK; /* a cancelled copy's answer */
    if (resp->common.msgFlags != CB_RESPONSE_OK) {
        rdp_clip_rich_cancel(r, "the server refused to send a file");
        return CHANNEL_RC_OK;
    }
    if (r->clip_asked == 0) { /* a size */
        if (resp->cbRequested != 8) {
            rdp_clip_rich_cancel(r, "the server's file size answer is not 8 bytes");
            return CHANNEL_RC_OK;
        }
        if (!clip_stage_set_size(r->clip_stage, clip_le64(resp->requestedData), &err)) {
            rdp_clip_rich_cancel(r, err->message);
            return CHANNEL_RC_OK;
        }
    } else {
        if (resp->cbRequested > r->clip_asked) {
            rdp_clip_rich_cancel(r, "the server sent more of a file than was asked");
            return CHANNEL_RC_OK;
        }
        if (resp->cbRequested == 0) {
            /* The end came early: fewer bytes than announced. */
            clip_stage_end(r->clip_stage, &err);
            rdp_clip_rich_cancel(r, err ? err->message : "a file ended early");
            return CHANNEL_RC_OK;
        }
        if (!clip_stage_write(r->clip_stage, resp->requestedData, resp->cbRequested, &err)) {
            rdp_clip_rich_cancel(r, err->message);
            return CHANNEL_RC_OK;
        }
        r->clip_stage_pos += resp->cbRequested;
        post_progress(r, false);
    }
    if (clip_stage_missing(r->clip_stage) > 0)
        return ask_range(r);
    if (!clip_stage_end(r->clip_stage, &err)) {
        rdp_clip_rich_cancel(r, err->message);
        return CHANNEL_RC_OK;
    }
    r->clip_stage_index++;
    return request_next(r);
}

/* What to ask of a server's format list: its files, a picture, or 0. */
UINT32 rdp_clip_rich_choose(Rdp *r, const CLIPRDR_FORMAT_LIST *list)
{
    UINT32 dib = 0, dibv5 = 0, png = 0, files = 0;
    for (UINT32 i = 0; i < list->numFormats; i++) {
        const CLIPRDR_FORMAT *f = &list->formats[i];
        if (f->formatId == CF_DIB_ID)
            dib = f->formatId;
        else if (f->formatId == CF_DIBV5_ID)
            dibv5 = f->formatId;
        else if (f->formatName && !strcmp(f->formatName, "PNG"))
            png = f->formatId;
        else if (f->formatName && !strcmp(f->formatName, "FileGroupDescriptorW"))
            files = f->formatId;
    }
    r->clip_files_id = files;
    r->clip_png_id = png;
    return files ? files : png ? png : dibv5 ? dibv5 : dib;
}

/* The server's data for format @id, which rdp_clip_rich_choose picked. */
void rdp_clip_rich_response(Rdp *r, UINT32 id, const uint8_t *data, size_t len)
{
    g_autoptr(GError) err = NULL;
    if (id == r->clip_files_id && id) {
        ClipFileList l;
        if (!clip_files_parse(data, len, &l, &err)) {
            vd_warn("clipboard: the server's file list is refused: %s", err->message);
            return;
        }
        r->clip_stage = r->clip_sink
                            ? clip_stage_create_streamed(&l, data, len, r->clip_sink, NULL, &err)
                            : clip_stage_create(NULL, &l, 0, &err);
        clip_file_list_clear(&l);
        if (!r->clip_stage) {
            vd_warn("clipboard: the server's files are not copied: %s", err->message);
            return;
        }
        r->clip_stage_index = 0;
        if (r->clip_can_lock) {
            /* Ask the server to keep this copy's data until we unlock it. */
            r->clip_lock_id = ++r->clip_lock_seq ? r->clip_lock_seq : ++r->clip_lock_seq;
            CLIPRDR_LOCK_CLIPBOARD_DATA lock = {.common.msgType = CB_LOCK_CLIPDATA,
                                                .clipDataId = r->clip_lock_id};
            r->clip->ClientLockClipboardData(r->clip, &lock);
        }
        post_progress(r, true);
        request_next(r);
        return;
    }
    ClipImage img;
    bool ok = id == r->clip_png_id && id ? clip_image_from_png(data, len, &img, &err)
                                          : clip_image_from_dib(data, len, &img, &err);
    if (!ok) {
        vd_warn("clipboard: the server's picture is refused: %s", err->message);
        return;
    }
    size_t n = 0;
    uint8_t *png = clip_image_to_png(&img, &n, &err);
    clip_image_clear(&img);
    if (!png) {
        vd_warn("clipboard: %s", err->message);
        return;
    }
    session_post_clipboard(r->s, SESSION_EV_CLIPBOARD_PNG, g_bytes_new_take(png, n), NULL);
}

/* The server locks our copy of now, or lets go of a lock (see the top). */
static UINT server_lock(CliprdrClientContext *clip, const CLIPRDR_LOCK_CLIPBOARD_DATA *lock)
{
    Rdp *r = clip->custom;
    if (!r->clip_server_locks)
        r->clip_server_locks = g_hash_table_new(NULL, NULL);
    if (g_hash_table_size(r->clip_server_locks) < 64) /* a server's, bounded */
        g_hash_table_insert(r->clip_server_locks, GUINT_TO_POINTER(lock->clipDataId),
                            GUINT_TO_POINTER(r->clip_local_gen));
    return CHANNEL_RC_OK;
}

static UINT server_unlock(CliprdrClientContext *clip, const CLIPRDR_UNLOCK_CLIPBOARD_DATA *lock)
{
    Rdp *r = clip->custom;
    if (r->clip_server_locks)
        g_hash_table_remove(r->clip_server_locks, GUINT_TO_POINTER(lock->clipDataId));
    return CHANNEL_RC_OK;
}

void rdp_clip_rich_connected(Rdp *r, CliprdrClientContext *clip)
{
    (void)r;
    clip->ServerLockClipboardData = server_lock;
    clip->ServerUnlockClipboardData = server_unlock;
    clip->ServerFileContentsRequest = server_file_request;
    clip->ServerFileContentsResponse = server_file_response;
}
