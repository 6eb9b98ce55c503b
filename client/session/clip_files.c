#include "session/clip_files.h"
#include "session/clip_le.h"

#include "common/error.h"
#include "common/log.h"
#include "common/text.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* FILEDESCRIPTORW field offsets (MS-RDPECLIP 2.2.5.2.3.1.1). */
#define FD_OFF_FLAGS 0
#define FD_OFF_ATTRIBUTES 36
#define FD_OFF_WRITE_TIME 56
#define FD_OFF_SIZE_HIGH 64
#define FD_OFF_SIZE_LOW 68
#define FD_OFF_NAME 72

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define FILETIME_UNIX_EPOCH 116444736000000000ULL


int64_t clip_files_filetime_to_unix(uint64_t ft)
{
    if (ft < FILETIME_UNIX_EPOCH)
        return 0;
    return (int64_t)((ft - FILETIME_UNIX_EPOCH) / 10000000ULL);
}

uint64_t clip_files_unix_to_filetime(int64_t t)
{
    if (t <= 0)
        return 0;
    return (uint64_t)t * 10000000ULL + FILETIME_UNIX_EPOCH;
}

bool clip_files_name_check(const char *name, GError **error)
{
    const char *why = NULL;
    if (!*name)
        why = "it is empty";
    else if (!g_utf8_validate(name, -1, NULL))
        why = "it is not valid text";
    else if (vd_text_find_control(name))
        why = "it holds a control character";
    else if (name[0] == '/')
        why = "it is absolute";
    else if (g_str_has_suffix(name, "/"))
        why = "it has an empty component";
    else if (strchr(name, ':'))
        why = "it holds ':' (a drive letter or a stream)";
    else if (strchr(name, '\\'))
        why = "it holds '\\'";
    else {
        for (const char *c = name; *c && !why;) {
            const char *end = strchrnul(c, '/');
            size_t n = (size_t)(end - c);
            if (n == 0)
                why = "it has an empty component";
            else if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                why = "it has a '.' or '..' component";
            else if (n > CLIP_FILES_COMPONENT_MAX)
                why = "a component is longer than 255 bytes";
            c = *end ? end + 1 : end;
        }
    }
    if (why) {
        g_autofree char *q = vd_text_quote(name, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the file name %s is refused: %s", q, why);
        return false;
    }
    return true;
}

void clip_file_list_clear(ClipFileList *list)
{
    for (guint i = 0; i < list->n; i++)
        g_free(list->files[i].name);
    g_clear_pointer(&list->files, g_free);
    list->n = 0;
}

/* The name of the descriptor at @d, '/'-separated, or NULL (error set). */
static char *descriptor_name(const uint8_t *d, guint index, GError **error)
{
    gunichar2 units[CLIP_FILES_NAME_UNITS];
    glong n = -1;
    for (glong i = 0; i < CLIP_FILES_NAME_UNITS; i++) {
        units[i] = (gunichar2)(d[FD_OFF_NAME + 2 * i] | d[FD_OFF_NAME + 2 * i + 1] << 8);
        if (!units[i]) {
            n = i;
            break;
        }
    }
    if (n < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "file %u of the list: its name is not terminated within 260 characters",
                    index + 1);
        return NULL;
    }
    for (glong i = 0; i < n; i++) {
        if (units[i] == '/') {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "file %u of the list: its name holds '/'", index + 1);
            return NULL;
        }
        if (units[i] == '\\')
            units[i] = '/';
    }
    char *name = g_utf16_to_utf8(units, n, NULL, NULL, NULL);
    if (!name)
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "file %u of the list: its name is not valid UTF-16", index + 1);
    return name;
}

/* No name twice, and no entry inside something listed as a file. */
static bool check_tree(const ClipFileList *list, GError **error)
{
    g_autoptr(GHashTable) kinds = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < list->n; i++) {
        if (!g_hash_table_insert(kinds, list->files[i].name,
                                 GINT_TO_POINTER(list->files[i].is_dir ? 2 : 1))) {
            g_autofree char *q = vd_text_quote(list->files[i].name, -1);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the file list names %s twice", q);
            return false;
        }
    }
    for (guint i = 0; i < list->n; i++) {
        g_autofree char *parent = g_strdup(list->files[i].name);
        for (char *slash; (slash = strrchr(parent, '/'));) {
            *slash = '\0';
            if (GPOINTER_TO_INT(g_hash_table_lookup(kinds, parent)) == 1) {
                g_autofree char *q = vd_text_quote(list->files[i].name, -1);
                g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                            "the file list puts %s inside a file", q);
                return false;
            }
        }
    }
    return true;
}

bool clip_files_parse(const uint8_t *data, size_t len, ClipFileList *out, GError **error)
{
    memset(out, 0, sizeof(*out));
    if (len < 4) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "the file list is %zu bytes long", len);
        return false;
    }
    uint32_t count = clip_le32(data);
    if (count > CLIP_FILES_MAX) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the file list has %" G_GUINT32_FORMAT " files; at most %d are taken", count,
                    CLIP_FILES_MAX);
        return false;
    }
    if (len - 4 != (size_t)count * CLIP_FILE_DESCRIPTOR_SIZE) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "the file list announces %" G_GUINT32_FORMAT " files in %zu bytes", count,
                    len);
        return false;
    }
    out->files = g_new0(ClipFile, count ? count : 1);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *d = data + 4 + (size_t)i * CLIP_FILE_DESCRIPTOR_SIZE;
        char *name = descriptor_name(d, i, error);
        if (!name)
            goto fail;
        ClipFile *f = &out->files[out->n++];
        f->name = name;
        if (!clip_files_name_check(name, error))
            goto fail;
        uint32_t flags = clip_le32(d + FD_OFF_FLAGS);
        f->is_dir = (flags & CLIP_FD_ATTRIBUTES) &&
                    (clip_le32(d + FD_OFF_ATTRIBUTES) & CLIP_FILE_ATTRIBUTE_DIRECTORY);
        f->has_size = !f->is_dir && (flags & CLIP_FD_FILESIZE);
        if (f->has_size)
            f->size = (uint64_t)clip_le32(d + FD_OFF_SIZE_HIGH) << 32 | clip_le32(d + FD_OFF_SIZE_LOW);
        if (f->size > (uint64_t)G_MAXINT64) {
            g_autofree char *q = vd_text_quote(name, -1);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the file %s announces %" G_GUINT64_FORMAT " bytes", q, f->size);
            goto fail;
        }
        if (flags & CLIP_FD_WRITESTIME)
            f->mtime = clip_files_filetime_to_unix((uint64_t)clip_le32(d + FD_OFF_WRITE_TIME + 4) << 32 |
                                                   clip_le32(d + FD_OFF_WRITE_TIME));
    }
    if (!check_tree(out, error))
        goto fail;
    return true;
fail:
    clip_file_list_clear(out);
    return false;
}

uint8_t *clip_files_build(const ClipFileList *list, size_t *len, GError **error)
{
    *len = 4 + (size_t)list->n * CLIP_FILE_DESCRIPTOR_SIZE;
    g_autofree uint8_t *buf = g_malloc0(*len);
    clip_put_le32(buf, list->n);
    for (guint i = 0; i < list->n; i++) {
        const ClipFile *f = &list->files[i];
        uint8_t *d = buf + 4 + (size_t)i * CLIP_FILE_DESCRIPTOR_SIZE;
        glong units = 0;
        g_autofree gunichar2 *name = g_utf8_to_utf16(f->name, -1, NULL, &units, NULL);
        if (!name || units >= CLIP_FILES_NAME_UNITS) {
            g_autofree char *q = vd_text_quote(f->name, -1);
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "the file name %s is too long for the guest (259 characters at most)", q);
            return NULL;
        }
        uint32_t flags = CLIP_FD_ATTRIBUTES | CLIP_FD_SHOWPROGRESSUI;
        clip_put_le32(d + FD_OFF_ATTRIBUTES,
              f->is_dir ? CLIP_FILE_ATTRIBUTE_DIRECTORY : CLIP_FILE_ATTRIBUTE_NORMAL);
        if (!f->is_dir) {
            flags |= CLIP_FD_FILESIZE;
            clip_put_le32(d + FD_OFF_SIZE_HIGH, (uint32_t)(f->size >> 32));
            clip_put_le32(d + FD_OFF_SIZE_LOW, (uint32_t)f->size);
        }
        if (f->mtime > 0) {
            uint64_t ft = clip_files_unix_to_filetime(f->mtime);
            flags |= CLIP_FD_WRITESTIME;
            clip_put_le32(d + FD_OFF_WRITE_TIME, (uint32_t)ft);
            clip_put_le32(d + FD_OFF_WRITE_TIME + 4, (uint32_t)(ft >> 32));
        }
        clip_put_le32(d + FD_OFF_FLAGS, flags);
        for (glong u = 0; u < units; u++) {
            gunichar2 c = name[u] == '/' ? '\\' : name[u];
            d[FD_OFF_NAME + 2 * u] = (uint8_t)c;
            d[FD_OFF_NAME + 2 * u + 1] = (uint8_t)(c >> 8);
        }
    }
    return g_steal_pointer(&buf);
}

static bool local_host(const char *host)
{
    return !host || !*host || !g_ascii_strcasecmp(host, "localhost") ||
           !g_ascii_strcasecmp(host, g_get_host_name());
}

char **clip_files_from_uri_list(const char *data, size_t len, bool gnome, GError **error)
{
    g_autofree char *text = g_strndup(data, len);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        if (!*line || line[0] == '#')
            continue;
        if (gnome && i == 0 && (!strcmp(line, "copy") || !strcmp(line, "cut")))
            continue;
        g_autofree char *host = NULL;
        char *path = g_filename_from_uri(line, &host, NULL);
        if (!path)
            continue;
        if (!local_host(host) || !g_path_is_absolute(path)) {
            g_free(path);
            continue;
        }
        g_ptr_array_add(paths, path);
    }
    if (!paths->len) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the host's clipboard names no file on this computer");
        return NULL;
    }
    g_ptr_array_add(paths, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&paths), FALSE);
}

char *clip_files_to_uri_list(const char *const *paths, bool gnome)
{
    GString *s = g_string_new(gnome ? "copy" : NULL);
    for (guint i = 0; paths[i]; i++) {
        g_autofree char *uri = g_filename_to_uri(paths[i], NULL, NULL);
        if (!uri)
            continue;
        /* text/uri-list lines end in CRLF (RFC 2483); gnome's list in LF. */
        if (gnome)
            g_string_append_printf(s, "\n%s", uri);
        else
            g_string_append_printf(s, "%s\r\n", uri);
    }
    return g_string_free(s, FALSE);
}

typedef struct {
    GArray *files;      /* ClipFile */
    GPtrArray *sources; /* char *, NULL-terminated at the end */
} Collect;

static bool collect_add(Collect *c, const char *name, const char *source, const struct stat *st,
                        GError **error)
{
    if (c->files->len >= CLIP_FILES_MAX) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "more than %d files are copied; copy fewer at a time", CLIP_FILES_MAX);
        return false;
    }
    g_autoptr(GError) why = NULL;
    if (!clip_files_name_check(name, &why)) {
        vd_warn("clipboard: %s is left out: %s", source, why->message);
        return true;
    }
    ClipFile f = {.name = g_strdup(name),
                  .is_dir = S_ISDIR(st->st_mode),
                  .has_size = !S_ISDIR(st->st_mode),
                  .size = S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size,
                  .mtime = st->st_mtime,
                  .dev = (uint64_t)st->st_dev,
                  .ino = (uint64_t)st->st_ino};
    g_array_append_val(c->files, f);
    g_ptr_array_add(c->sources, g_strdup(source));
    return true;
}

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool collect_dir(Collect *c, const char *name, const char *dir, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &err);
    if (!d) {
        vd_warn("clipboard: the folder %s is left out: %s", dir, err->message);
        return true;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    for (const char *n; (n = g_dir_read_name(d));)
        g_ptr_array_add(names, g_strdup(n));
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *n = names->pdata[i];
        g_autofree char *src = g_build_filename(dir, n, NULL);
        g_autofree char *child = g_strconcat(name, "/", n, NULL);
        struct stat st;
        if (lstat(src, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
            continue; /* links and devices inside a folder stay behind */
        if (!collect_add(c, child, src, &st, error))
            return false;
        if (S_ISDIR(st.st_mode) && !collect_dir(c, child, src, error))
            return false;
    }
    return true;
}

bool clip_files_collect(const char *const *paths, ClipFileList *out, char ***sources,
                        GError **error)
{
    memset(out, 0, sizeof(*out));
    *sources = NULL;
    Collect c = {.files = g_array_new(FALSE, TRUE, sizeof(ClipFile)),
                 .sources = g_ptr_array_new_with_free_func(g_free)};
    bool ok = true;
    for (guint i = 0; ok && paths[i]; i++) {
        struct stat st;
        if (stat(paths[i], &st) < 0) {
            g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "cannot copy %s: %s", paths[i],
                        g_strerror(errno));
            ok = false;
            break;
        }
        if (!(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
            continue;
        g_autofree char *base = g_path_get_basename(paths[i]);
        ok = collect_add(&c, base, paths[i], &st, error) &&
             (!S_ISDIR(st.st_mode) || collect_dir(&c, base, paths[i], error));
    }
    out->n = c.files->len;
    out->files = (ClipFile *)g_array_free(c.files, FALSE);
    g_ptr_array_add(c.sources, NULL);
    *sources = (char **)g_ptr_array_free(c.sources, FALSE);
    if (ok && !out->n) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "none of the copied files can be sent");
        ok = false;
    }
    if (!ok) {
        clip_file_list_clear(out);
        g_clear_pointer(sources, g_strfreev);
    }
    return ok;
}

int clip_files_open_source(const ClipFile *f, const char *source)
{
    int fd = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != f->dev ||
        (uint64_t)st.st_ino != f->ino) {
        close(fd);
        errno = ESTALE;
        return -1;
    }
    return fd;
}
