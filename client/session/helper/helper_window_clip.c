/* The window side of a confined session's clipboard pictures and files
 * (helper_window_priv.h). The helper may write only in its staging folder;
 * the server's files it staged there are moved out, checked (folders and
 * plain files only, nothing linked) and only then offered to the host. The
 * host's files are read here, and only the bytes the server asks for go to
 * the helper: it never learns a host path nor opens a host file. */
#include "session/helper/helper_window_priv.h"

#include "session/clip_image.h"
#include "session/clip_le.h"
#include "session/clip_stage.h"
#include "session/session_priv.h"

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
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

void helper_clip_clear(HelperClip *c)
{
    if (c->paste)
        clip_stage_rm_path(c->paste);
    g_clear_pointer(&c->paste, g_free);
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

/* One name component the helper gave: no '/', not "." or "..", not empty. */
static bool plain_name(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
           strlen(name) <= CLIP_FILES_COMPONENT_MAX;
}

/* Whether everything under @fd (a folder) is a folder or a plain file with
 * one link: no symbolic link, device, socket or pipe a host program could be
 * led through. Closes @fd. */
static bool tree_is_plain(int fd, int depth)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    bool ok = depth < 64;
    for (struct dirent *e; ok && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            ok = false;
        else if (S_ISDIR(st.st_mode))
            ok = tree_is_plain(openat(dirfd(d), e->d_name,
                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
                               depth + 1);
        else
            ok = S_ISREG(st.st_mode) && st.st_nlink == 1;
    }
    closedir(d);
    return ok;
}

/* Move STAGE/@paste out of the helper's reach (into the host's clipboard
 * folder) and check it there: the absolute paths of @names in its files/,
 * or NULL (refused: removed). */
static char **take_paste(HelperClip *c, const char *paste, char **names, GError **error)
{
    g_autofree char *runtime = vd_paths_runtime_root();
    g_autofree char *root = g_build_filename(runtime, "clipboard", NULL);
    if (!vd_mkdir_private(root, error))
        return NULL;
    g_autofree char *holder = g_strdup_printf("%s/paste-%d-XXXXXX", root, (int)getpid());
    if (!g_mkdtemp_full(holder, 0700)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot make a folder in %s: %s", root,
                    g_strerror(errno));
        return NULL;
    }
    int stage_fd = open(c->stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int holder_fd = open(holder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    bool moved = stage_fd >= 0 && holder_fd >= 0 && renameat(stage_fd, paste, holder_fd, "p") == 0;
    if (stage_fd >= 0) {
        if (!moved)
            clip_stage_rm_tree_at(stage_fd, paste);
        close(stage_fd);
    }
    /* Out of the staging folder the helper can no longer change it:
     * checked now, it stays as checked. */
    int files_fd = -1;
    if (moved) {
        int p_fd = openat(holder_fd, "p", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        files_fd = p_fd >= 0 ? openat(p_fd, "files", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                                        O_CLOEXEC)
                             : -1;
        bool plain = p_fd >= 0 && tree_is_plain(dup(p_fd), 0);
        if (p_fd >= 0)
            close(p_fd);
        if (!plain && files_fd >= 0) {
            close(files_fd);
            files_fd = -1;
        }
    }
    bool ok = files_fd >= 0;
    for (char **n = names; ok && *n; n++) {
        struct stat st;
        ok = fstatat(files_fd, *n, &st, AT_SYMLINK_NOFOLLOW) == 0;
    }
    if (files_fd >= 0)
        close(files_fd);
    if (holder_fd >= 0)
        close(holder_fd);
    if (!ok) {
        clip_stage_rm_path(holder);
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "the session helper staged files that are not plain files and folders, or "
                    "not the ones it named");
        return NULL;
    }
    /* The paste before is over (as in-process sessions keep one). */
    if (c->paste)
        clip_stage_rm_path(c->paste);
    g_free(c->paste);
    c->paste = g_steal_pointer(&holder);
    guint n = g_strv_length(names);
    char **out = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++)
        out[i] = g_build_filename(c->paste, "p", "files", names[i], NULL);
    return out;
}

static bool apply_staged(Session *s, HelperClip *c, HelperReader *r, GError **error)
{
    g_autofree char *paste = helper_get_str(r, CLIP_FILES_COMPONENT_MAX);
    uint32_t n = helper_get_u32(r);
    if (r->bad || !c->stage || !plain_name(paste) || n < 1 || n > CLIP_FILES_MAX)
        return bad(error, "a malformed list of staged files");
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (uint32_t i = 0; i < n; i++) {
        char *name = helper_get_str(r, CLIP_FILES_COMPONENT_MAX);
        if (!plain_name(name) || !g_hash_table_add(seen, name)) {
            g_free(name);
            return bad(error, "a staged file's name that is not one plain name");
        }
        g_ptr_array_add(names, name);
    }
    if (!helper_reader_done(r))
        return bad(error, "a malformed list of staged files");
    g_ptr_array_add(names, NULL);
    g_autoptr(GError) err = NULL;
    char **paths = take_paste(c, paste, (char **)names->pdata, &err);
    if (!paths) {
        /* The helper broke the rule: its session ends. */
        g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    session_post_clipboard(s, SESSION_EV_CLIPBOARD_FILES, NULL, paths);
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
    if (m->fd >= 0 && m->type != HELPER_MSG_CLIP_IMAGE)
        return bad(error, "a descriptor with a message that takes none");
    switch (m->type) {
    case HELPER_MSG_CLIP_IMAGE:
        return apply_image(s, m, &r, error);
    case HELPER_MSG_CLIP_STAGED:
        return apply_staged(s, c, &r, error);
    case HELPER_MSG_CLIP_READ:
        return apply_read(c, &r, reply, error);
    default:
        return bad(error, "a message of unknown type");
    }
}
