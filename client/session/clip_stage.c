#include "session/clip_stage.h"

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h> /* renameat2, sscanf */
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct ClipStage {
    char *dir;         /* ROOT/paste-PID-XXXXXX; NULL: streamed */
    int files_fd;      /* dir/files */
    int partial_fd;    /* dir/partial */
    const ClipStageSink *sink; /* streamed: where the bytes go */
    void *sink_data;
    bool finished;     /* streamed: the sink heard the end */
    ClipFileList list; /* a copy */
    uint64_t *sizes;   /* per file, once known */
    bool *sized;
    bool *came;        /* per file: complete */
    uint64_t limit;    /* bytes in all, at most */
    /* The open file. */
    int fd;            /* streamed: 0 while open */
    guint index;
    uint64_t written;
    uint64_t done, total;
};

static bool fail_errno(GError **error, int e, const char *what, const char *name)
{
    g_autofree char *q = vd_text_quote(name, -1);
    g_set_error(error, VD_ERROR, e == ENOSPC ? VD_ERROR_NO_SPACE : VD_ERROR_FAILED,
                "clipboard staging: cannot %s %s: %s", what, q, g_strerror(e));
    return false;
}

/* The folder that holds @name (relative to @root_fd, components already
 * checked), opened without following a link; *@base points at the last
 * component. -1 with errno on failure. */
static int open_parent(int root_fd, const char *name, const char **base)
{
    int fd = dup(root_fd);
    const char *c = name;
    for (const char *slash; fd >= 0 && (slash = strchr(c, '/')); c = slash + 1) {
        g_autofree char *comp = g_strndup(c, (gsize)(slash - c));
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(fd);
        fd = next;
        errno = e;
    }
    *base = c;
    return fd;
}

void clip_stage_rm_tree_at(int dir_fd, const char *name)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        DIR *d = fdopendir(fd);
        if (d) {
            for (struct dirent *e; (e = readdir(d));)
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                    clip_stage_rm_tree_at(dirfd(d), e->d_name);
            closedir(d);
        } else {
            close(fd);
        }
        unlinkat(dir_fd, name, AT_REMOVEDIR);
    } else {
        unlinkat(dir_fd, name, 0);
    }
}

void clip_stage_rm_path(const char *path)
{
    g_autofree char *parent = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) {
        clip_stage_rm_tree_at(pfd, base);
        close(pfd);
    }
}

void clip_stage_destroy(ClipStage *st)
{
    if (!st)
        return;
    clip_stage_abort(st);
    if (st->sink && !st->finished)
        st->sink->finish(st->sink_data, false);
    if (st->files_fd >= 0)
        close(st->files_fd);
    if (st->partial_fd >= 0)
        close(st->partial_fd);
    if (st->dir)
        clip_stage_rm_path(st->dir);
    clip_file_list_clear(&st->list);
    g_free(st->sizes);
    g_free(st->sized);
    g_free(st->came);
    g_free(st->dir);
    g_free(st);
}

/* The most @dir may take: @cap, or its free space less the margin if less. */
static uint64_t space_limit(const char *dir, uint64_t cap)
{
    struct statvfs vfs;
    if (statvfs(dir, &vfs) < 0)
        return cap; /* unknown: the writes will tell */
    uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    uint64_t margin = MAX(CLIP_STAGE_MARGIN_MIN, (uint64_t)vfs.f_blocks * vfs.f_frsize / 20);
    return MIN(cap, free_bytes > margin ? free_bytes - margin : 0);
}

/* Whether @more bytes beyond @base stay within the stage's limit. */
static bool check_limit(const ClipStage *st, uint64_t base, uint64_t more, GError **error)
{
    if (more <= st->limit && base <= st->limit - more)
        return true;
    uint64_t total = base > G_MAXUINT64 - more ? G_MAXUINT64 : base + more;
    const GFormatSizeFlags exact = G_FORMAT_SIZE_IEC_UNITS | G_FORMAT_SIZE_LONG_FORMAT;
    g_autofree char *want = g_format_size_full(total, exact);
    g_autofree char *room = g_format_size_full(st->limit, exact);
    g_autofree char *cap = g_format_size_full(CLIP_STAGE_CAP, G_FORMAT_SIZE_IEC_UNITS);
    g_autofree char *where = st->dir ? g_path_get_dirname(st->dir) : g_strdup("the window");
    g_set_error(error, VD_ERROR, VD_ERROR_NO_SPACE,
                "the copy needs %s; at most %s may be staged in %s (%s at most, and "
                "never the last of its free space)",
                want, room, where, cap);
    return false;
}

/* Staging folders of processes that are gone (paste-PID-*), under @root. */
static void remove_stale(const char *root)
{
    g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d));) {
        int pid = 0;
        if (sscanf(n, "paste-%d-", &pid) == 1 && pid > 0 && pid != getpid() &&
            kill(pid, 0) < 0 && errno == ESRCH) {
            g_autofree char *path = g_build_filename(root, n, NULL);
            clip_stage_rm_path(path);
        }
    }
}

/* A stage for @list (copied) with no folder yet. */
static ClipStage *stage_new(const ClipFileList *list)
{
    ClipStage *st = g_new0(ClipStage, 1);
    st->files_fd = st->partial_fd = st->fd = -1;
    st->list.n = list->n;
    st->list.files = g_new0(ClipFile, list->n ? list->n : 1);
    st->sizes = g_new0(uint64_t, list->n ? list->n : 1);
    st->sized = g_new0(bool, list->n ? list->n : 1);
    st->came = g_new0(bool, list->n ? list->n : 1);
    for (guint i = 0; i < list->n; i++) {
        st->list.files[i] = list->files[i];
        st->list.files[i].name = g_strdup(list->files[i].name);
        st->sizes[i] = list->files[i].size;
        st->sized[i] = list->files[i].has_size;
        st->came[i] = list->files[i].is_dir;
        if (st->sized[i]) /* saturating: 10000 sizes of up to 2^63 */
            st->total = st->total > G_MAXUINT64 - st->sizes[i] ? G_MAXUINT64
                                                                : st->total + st->sizes[i];
    }
    return st;
}

ClipStage *clip_stage_create_streamed(const ClipFileList *list, const uint8_t *raw,
                                      size_t raw_len, const ClipStageSink *sink, void *data,
                                      GError **error)
{
    ClipStage *st = stage_new(list);
    st->limit = G_MAXUINT64; /* the window that writes keeps its own */
    st->sink = sink;
    st->sink_data = data;
    if (!sink->start(data, raw, raw_len, error)) {
        st->finished = true; /* nothing began */
        clip_stage_destroy(st);
        return NULL;
    }
    return st;
}

ClipStage *clip_stage_create(const char *root, const ClipFileList *list, uint64_t cap,
                             GError **error)
{
    g_autofree char *runtime = root ? NULL : vd_paths_runtime_root();
    g_autofree char *def = root ? NULL : g_build_filename(runtime, "clipboard", NULL);
    const char *base = root ? root : def;
    if (!vd_mkdir_private(base, error))
        return NULL;
    remove_stale(base);
    g_autofree char *tmpl = g_strdup_printf("%s/paste-%d-XXXXXX", base, (int)getpid());
    if (!g_mkdtemp_full(tmpl, 0700)) {
        fail_errno(error, errno, "create a folder in", base);
        return NULL;
    }
    ClipStage *st = stage_new(list);
    st->dir = g_steal_pointer(&tmpl);
    st->limit = space_limit(st->dir, cap ? cap : CLIP_STAGE_CAP);
    if (!check_limit(st, 0, st->total, error))
        goto fail;
    int dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0 || mkdirat(dfd, "files", 0700) < 0 || mkdirat(dfd, "partial", 0700) < 0) {
        fail_errno(error, errno, "fill", st->dir);
        if (dfd >= 0)
            close(dfd);
        goto fail;
    }
    st->files_fd = openat(dfd, "files", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    st->partial_fd = openat(dfd, "partial", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(dfd);
    if (st->files_fd < 0 || st->partial_fd < 0) {
        fail_errno(error, errno, "open", st->dir);
        goto fail;
    }
    /* The folders, parents first whatever the list's order. */
    for (guint i = 0; i < list->n; i++) {
        if (!list->files[i].is_dir && !strchr(list->files[i].name, '/'))
            continue;
        g_auto(GStrv) parts = g_strsplit(list->files[i].name, "/", -1);
        guint n = g_strv_length(parts) - (list->files[i].is_dir ? 0 : 1);
        int fd = dup(st->files_fd);
        for (guint p = 0; fd >= 0 && p < n; p++) {
            if (mkdirat(fd, parts[p], 0700) < 0 && errno != EEXIST) {
                close(fd);
                fd = -1;
                break;
            }
            int next = openat(fd, parts[p], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            close(fd);
            fd = next;
        }
        if (fd < 0) {
            fail_errno(error, errno, "make the folder", list->files[i].name);
            goto fail;
        }
        close(fd);
    }
    return st;
fail:
    clip_stage_destroy(st);
    return NULL;
}

const ClipFileList *clip_stage_list(const ClipStage *st)
{
    return &st->list;
}

static char *partial_name(guint index)
{
    return g_strdup_printf("%u", index);
}

bool clip_stage_begin(ClipStage *st, guint index, GError **error)
{
    clip_stage_abort(st);
    if (index >= st->list.n || st->list.files[index].is_dir || st->came[index]) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    index < st->list.n && st->came[index] && !st->list.files[index].is_dir
                        ? "clipboard staging: file %u came already"
                        : "clipboard staging: no file %u",
                    index);
        return false;
    }
    if (st->sink) {
        if (st->sized[index] && !st->sink->file(st->sink_data, index, st->sizes[index], error))
            return false;
        st->fd = 0;
    } else {
        g_autofree char *name = partial_name(index);
        st->fd = openat(st->partial_fd, name,
                        O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (st->fd < 0)
            return fail_errno(error, errno, "create", st->list.files[index].name);
    }
    st->index = index;
    st->written = 0;
    return true;
}

bool clip_stage_set_size(ClipStage *st, uint64_t size, GError **error)
{
    g_return_val_if_fail(st->fd >= 0, false);
    guint i = st->index;
    if (st->sized[i] && st->sizes[i] != size) {
        g_autofree char *q = vd_text_quote(st->list.files[i].name, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the file %s was announced with %" G_GUINT64_FORMAT " bytes, now with %" G_GUINT64_FORMAT,
                    q, st->sizes[i], size);
        return false;
    }
    if (!st->sized[i]) {
        if (!check_limit(st, st->total, size, error))
            return false;
        if (st->sink && !st->sink->file(st->sink_data, i, size, error))
            return false;
        st->sizes[i] = size;
        st->sized[i] = true;
        st->total += size;
    }
    return true;
}

uint64_t clip_stage_missing(const ClipStage *st)
{
    if (st->fd < 0 || !st->sized[st->index])
        return 0;
    return st->sizes[st->index] - st->written;
}

bool clip_stage_is_open(const ClipStage *st)
{
    return st->fd >= 0;
}

bool clip_stage_write(ClipStage *st, const uint8_t *data, size_t len, GError **error)
{
    g_return_val_if_fail(st->fd >= 0, false);
    guint i = st->index;
    if (!st->sized[i] || len > st->sizes[i] - st->written) {
        g_autofree char *q = vd_text_quote(st->list.files[i].name, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the server sends more of %s than the %" G_GUINT64_FORMAT " bytes it announced",
                    q, st->sizes[i]);
        return false;
    }
    /* Within the announced sizes, and they within the limit: this holds
     * unless the bookkeeping is wrong, and then nothing more is written. */
    if (!check_limit(st, st->done, len, error))
        return false;
    if (st->sink) {
        if (!st->sink->write(st->sink_data, data, len, error))
            return false;
    } else {
        for (size_t off = 0; off < len;) {
            ssize_t n = write(st->fd, data + off, len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return fail_errno(error, errno, "write", st->list.files[i].name);
            off += (size_t)n;
        }
    }
    st->written += len;
    st->done += len;
    return true;
}

void clip_stage_abort(ClipStage *st)
{
    if (st->fd < 0)
        return;
    if (!st->sink) {
        close(st->fd);
        g_autofree char *name = partial_name(st->index);
        unlinkat(st->partial_fd, name, 0);
    }
    st->fd = -1;
    st->done -= st->written;
    st->written = 0;
}

bool clip_stage_end(ClipStage *st, GError **error)
{
    g_return_val_if_fail(st->fd >= 0, false);
    guint i = st->index;
    const ClipFile *f = &st->list.files[i];
    if (!st->sized[i] || st->written != st->sizes[i]) {
        g_autofree char *q = vd_text_quote(f->name, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the server sent %" G_GUINT64_FORMAT " bytes of %s, not the %" G_GUINT64_FORMAT
                    " it announced",
                    st->written, q, st->sizes[i]);
        clip_stage_abort(st);
        return false;
    }
    if (st->sink) {
        st->fd = -1;
        st->came[i] = true;
        return true;
    }
    if (f->mtime > 0) {
        struct timespec t[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = f->mtime}};
        futimens(st->fd, t);
    }
    int rc = close(st->fd);
    st->fd = -1;
    g_autofree char *partial = partial_name(i);
    const char *base;
    int pfd = rc == 0 ? open_parent(st->files_fd, f->name, &base) : -1;
    if (pfd < 0 || renameat2(st->partial_fd, partial, pfd, base, RENAME_NOREPLACE) < 0) {
        int e = errno;
        if (pfd >= 0)
            close(pfd);
        unlinkat(st->partial_fd, partial, 0);
        st->done -= st->written;
        return fail_errno(error, e, "finish", f->name);
    }
    close(pfd);
    st->came[i] = true;
    return true;
}

bool clip_stage_complete(const ClipStage *st)
{
    for (guint i = 0; i < st->list.n; i++)
        if (!st->came[i])
            return false;
    return st->fd < 0;
}

void clip_stage_finish(ClipStage *st)
{
    if (st->sink && !st->finished)
        st->sink->finish(st->sink_data, true);
    st->finished = true;
}

void clip_stage_progress(const ClipStage *st, uint64_t *done, uint64_t *total)
{
    *done = st->done;
    *total = st->total;
}

uint64_t clip_stage_limit(const ClipStage *st)
{
    return st->limit;
}

char **clip_stage_paths(const ClipStage *st)
{
    if (!st->dir)
        return NULL;
    GPtrArray *paths = g_ptr_array_new();
    for (guint i = 0; i < st->list.n; i++)
        if (!strchr(st->list.files[i].name, '/'))
            g_ptr_array_add(paths, g_build_filename(st->dir, "files", st->list.files[i].name, NULL));
    g_ptr_array_add(paths, NULL);
    return (char **)g_ptr_array_free(paths, FALSE);
}
