/* The window side of a confined session's clipboard pictures and files
 * (helper_window_priv.h). The helper writes no file: it streams the
 * server's files (their list, then each file's size and bytes), and the
 * window stages them itself (clip_stage.h), parsing the list again and
 * counting every byte: a file no longer than announced, all of them within
 * the stage's limit. A helper that sends what its own checks would have
 * refused (a bad list, more than announced, a file out of turn) is cut off
 * and its copy removed; a copy beyond the limit, or one the file system
 * has no room for, is refused and removed with a log line, and the helper
 * told (HELPER_MSG_CLIP_CANCEL). The host's files are read here, and only
 * the bytes the server asks for go to the helper: it never learns a host
 * path nor opens a host file. */
#include "session/helper/helper_window_priv.h"

#include "session/clip_image.h"
#include "session/clip_le.h"
#include "session/clip_stage.h"
#include "session/session_priv.h"

#include "common/error.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The most the window reads for one request of the helper's. */
#define CLIP_READ_MAX (4u << 20)

static bool bad(GError **error, const char *what)
{
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "the session helper sent %s", what);
    return false;
}

void helper_clip_drop_copy(HelperClip *c)
{
    g_clear_pointer(&c->copy, clip_stage_destroy);
    c->dropping = false;
}

void helper_clip_clear(HelperClip *c)
{
    helper_clip_drop_copy(c);
    g_clear_pointer(&c->done, clip_stage_destroy);
    helper_clip_forget_files(c);
}

void helper_clip_forget_files(HelperClip *c)
{
    clip_file_list_clear(&c->files);
    g_clear_pointer(&c->sources, g_strfreev);
    if (c->src_fd >= 0)
        close(c->src_fd);
    c->src_fd = -1;
}

bool helper_clip_encode_input(HelperClip *c, const SessionInput *in, GByteArray *b)
{
    switch (in->type) {
    case SESSION_INPUT_CLIP_CANCEL:
        /* The user's Escape: what came is removed now; the helper's
         * messages of the copy are ignored until it ends it. */
        c->dropping = c->copy != NULL;
        g_clear_pointer(&c->copy, clip_stage_destroy);
        helper_msg_begin(b, HELPER_MSG_CLIP_CANCEL);
        return true;
    case SESSION_INPUT_CLIPBOARD_PNG: {
        helper_clip_forget_files(c);
        gsize n = 0;
        const void *png = in->bytes ? g_bytes_get_data(in->bytes, &n) : NULL;
        if (!png || n > HELPER_MSG_MAX - 4) {
            vd_warn("clipboard: the host's picture is too large for the RDP session (%zu bytes)",
                    (size_t)n);
            return false;
        }
        helper_msg_begin(b, HELPER_MSG_CLIP_PNG);
        helper_put_u32(b, (uint32_t)n);
        helper_put_bytes(b, png, n);
        return true;
    }
    case SESSION_INPUT_CLIPBOARD_FILES: {
        helper_clip_forget_files(c);
        g_autoptr(GError) err = NULL;
        size_t n = 0;
        g_autofree uint8_t *list = NULL;
        if (in->paths && clip_files_collect((const char *const *)in->paths, &c->files,
                                            &c->sources, &err))
            list = clip_files_build(&c->files, &n, &err);
        if (!list || n > HELPER_MSG_MAX - 4) {
            vd_warn("clipboard: the host's files are not offered to the server: %s",
                    err ? err->message : "too many");
            clip_file_list_clear(&c->files);
            g_clear_pointer(&c->sources, g_strfreev);
            return false;
        }
        helper_msg_begin(b, HELPER_MSG_CLIP_FILES);
        helper_put_u32(b, (uint32_t)n);
        helper_put_bytes(b, list, n);
        return true;
    }
    default:
        return false;
    }
}

/* The server's picture: RGBA pixels in a sealed memfd, made a PNG here (the
 * host's programs never see a byte the helper chose). */
static bool apply_image(Session *s, const HelperMsg *m, HelperReader *r, GError **error)
{
    uint32_t w = helper_get_u32(r), h = helper_get_u32(r);
    if (!helper_reader_done(r) || m->fd < 0)
        return bad(error, "a malformed clipboard picture");
    if (w < 1 || h < 1 || w > CLIP_IMAGE_MAX_SIDE || h > CLIP_IMAGE_MAX_SIDE ||
        (uint64_t)w * h > CLIP_IMAGE_MAX_PIXELS)
        return bad(error, "a clipboard picture of an impossible size");
    size_t len = (size_t)w * h * 4;
    void *p = helper_map_sealed(m->fd, len);
    if (!p)
        return bad(error, "a clipboard picture that is not a sealed memfd of its size");
    ClipImage img = {.width = w, .height = h, .rgba = g_memdup2(p, len)};
    munmap(p, len);
    g_autoptr(GError) err = NULL;
    size_t n = 0;
    uint8_t *png = clip_image_to_png(&img, &n, &err);
    clip_image_clear(&img);
    if (!png) {
        vd_warn("clipboard: the server's picture is not passed on: %s", err->message);
        return true;
    }
    session_post_clipboard(s, SESSION_EV_CLIPBOARD_PNG, g_bytes_new_take(png, n), NULL);
    return true;
}

/* The window gives the copy up (@why: beyond the limit, no space, a file
 * that cannot be written): what came is removed, and the helper told. */
static bool refuse_copy(HelperClip *c, GByteArray *reply, const GError *why)
{
    vd_warn("clipboard: the server's files are not copied: %s", why->message);
    g_clear_pointer(&c->copy, clip_stage_destroy);
    c->dropping = true;
    helper_msg_begin(reply, HELPER_MSG_CLIP_CANCEL);
    return true;
}

/* A check of the stage failed with @err: the window's refusal when the
 * copy is too large or the disk full (VD_ERROR_NO_SPACE) or a write failed
 * (VD_ERROR_FAILED); otherwise what the helper's own checks refuse, so the
 * helper broke the rule. */
static bool stage_failed(HelperClip *c, GByteArray *reply, GError *err, GError **error)
{
    if (err->code == VD_ERROR_NO_SPACE || err->code == VD_ERROR_FAILED)
        return refuse_copy(c, reply, err);
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "the session helper sent %s",
                err->message);
    return false;
}

/* The server's list: a copy begins (the one before, if any, is over). */
static bool apply_paste(HelperClip *c, HelperReader *r, GByteArray *reply, GError **error)
{
    uint32_t n = helper_get_u32(r);
    const uint8_t *list = helper_get_bytes(r, n);
    if (!helper_reader_done(r))
        return bad(error, "a malformed file list");
    ClipFileList l;
    g_autoptr(GError) err = NULL;
    if (!clip_files_parse(list, n, &l, &err)) {
        /* The helper parses it as we do and never sends one it refused. */
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "the session helper sent a file list that is refused: %s", err->message);
        return false;
    }
    helper_clip_drop_copy(c);
    c->copy = clip_stage_create(c->root, &l, c->cap, &err);
    clip_file_list_clear(&l);
    return c->copy ? true : refuse_copy(c, reply, err);
}

/* A file of the copy begins, with its size. */
static bool apply_file(HelperClip *c, HelperReader *r, GByteArray *reply, GError **error)
{
    uint32_t index = helper_get_u32(r);
    uint32_t hi = helper_get_u32(r), lo = helper_get_u32(r);
    if (!helper_reader_done(r))
        return bad(error, "a malformed file start");
    if (c->dropping)
        return true;
    if (!c->copy || clip_stage_is_open(c->copy))
        return bad(error, "a file outside a copy, or before the one before came whole");
    g_autoptr(GError) err = NULL;
    uint64_t size = (uint64_t)hi << 32 | lo;
    if (!clip_stage_begin(c->copy, index, &err) || !clip_stage_set_size(c->copy, size, &err))
        return stage_failed(c, reply, err, error);
    if (size == 0 && !clip_stage_end(c->copy, &err))
        return stage_failed(c, reply, err, error);
    return true;
}

/* The next bytes of the file begun; it ends with its last byte. */
static bool apply_bytes(HelperClip *c, HelperReader *r, GByteArray *reply, GError **error)
{
    uint32_t n = helper_get_u32(r);
    const uint8_t *bytes = helper_get_bytes(r, n);
    if (!helper_reader_done(r))
        return bad(error, "malformed file bytes");
    if (c->dropping)
        return true;
    if (!c->copy || !clip_stage_is_open(c->copy))
        return bad(error, "file bytes outside a file");
    g_autoptr(GError) err = NULL;
    if (!clip_stage_write(c->copy, bytes, n, &err))
        return stage_failed(c, reply, err, error);
    if (clip_stage_missing(c->copy) == 0 && !clip_stage_end(c->copy, &err))
        return stage_failed(c, reply, err, error);
    return true;
}

/* The copy's end: whole (every file came: its paths go to the host), or
 * given up. */
static bool apply_end(Session *s, HelperClip *c, HelperReader *r, GError **error)
{
    bool complete = helper_get_u8(r);
    if (!helper_reader_done(r))
        return bad(error, "a malformed copy end");
    if (c->dropping) {
        c->dropping = false;
        return true;
    }
    if (!c->copy)
        return bad(error, "the end of no copy");
    if (!complete) {
        helper_clip_drop_copy(c);
        return true;
    }
    if (!clip_stage_complete(c->copy))
        return bad(error, "a copy's end before all its files came");
    /* The paste before is over (as in-process sessions keep one). */
    clip_stage_destroy(c->done);
    c->done = g_steal_pointer(&c->copy);
    const ClipFileList *l = clip_stage_list(c->done);
    vd_info("clipboard: %u files from the server are on the host clipboard", l->n);
    session_post_clipboard(s, SESSION_EV_CLIPBOARD_FILES, NULL, clip_stage_paths(c->done));
    return true;
}

/* The server reads one of the host's files: the window reads it. */
static bool apply_read(HelperClip *c, HelperReader *r, GByteArray *reply, GError **error)
{
    uint32_t serial = helper_get_u32(r), index = helper_get_u32(r);
    uint32_t hi = helper_get_u32(r), lo = helper_get_u32(r), len = helper_get_u32(r);
    bool size_only = helper_get_u8(r);
    if (!helper_reader_done(r))
        return bad(error, "a malformed file read");
    uint64_t pos = (uint64_t)hi << 32 | lo;
    g_autofree uint8_t *buf = NULL;
    size_t got = 0;
    bool ok = index < c->files.n && !c->files.files[index].is_dir && c->sources &&
              pos <= INT64_MAX;
    if (ok && (c->src_fd < 0 || c->src_index != index)) {
        if (c->src_fd >= 0)
            close(c->src_fd);
        c->src_fd = clip_files_open_source(&c->files.files[index], c->sources[index]);
        c->src_index = index;
        if (c->src_fd < 0)
            vd_warn("clipboard: cannot read %s: %s", c->sources[index], g_strerror(errno));
        ok = c->src_fd >= 0;
    }
    struct stat st;
    if (ok && size_only) {
        ok = fstat(c->src_fd, &st) == 0;
        buf = g_malloc(8);
        got = 8;
        clip_put_le64(buf, ok ? (uint64_t)st.st_size : 0);
    } else if (ok) {
        size_t want = MIN(len, CLIP_READ_MAX);
        buf = g_malloc(want ? want : 1);
        while (got < want) {
            ssize_t k = pread(c->src_fd, buf + got, want - got, (off_t)(pos + got));
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            got += (size_t)k;
        }
    }
    helper_msg_begin(reply, HELPER_MSG_CLIP_DATA);
    helper_put_u32(reply, serial);
    helper_put_u8(reply, ok);
    helper_put_u32(reply, ok ? (uint32_t)got : 0);
    if (ok)
        helper_put_bytes(reply, buf, got);
    return true;
}

bool helper_clip_apply(Session *s, HelperClip *c, const HelperMsg *m, GByteArray *reply,
                       GError **error)
{
    HelperReader r;
    helper_reader_init(&r, m->payload, m->len);
    bool ok;
    if (m->fd >= 0 && m->type != HELPER_MSG_CLIP_IMAGE)
        return bad(error, "a descriptor with a message that takes none");
    switch (m->type) {
    case HELPER_MSG_CLIP_IMAGE:
        return apply_image(s, m, &r, error);
    case HELPER_MSG_CLIP_READ:
        return apply_read(c, &r, reply, error);
    case HELPER_MSG_CLIP_PASTE:
        ok = apply_paste(c, &r, reply, error);
        break;
    case HELPER_MSG_CLIP_FILE:
        ok = apply_file(c, &r, reply, error);
        break;
    case HELPER_MSG_CLIP_BYTES:
        ok = apply_bytes(c, &r, reply, error);
        break;
    case HELPER_MSG_CLIP_END:
        ok = apply_end(s, c, &r, error);
        break;
    default:
        return bad(error, "a message of unknown type");
    }
    if (!ok)
        helper_clip_drop_copy(c); /* the helper is cut off: nothing of its copy stays */
    return ok;
}
