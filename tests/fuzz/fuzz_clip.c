/* libFuzzer harness for the clipboard's parsers of a server's (and the
 * host's) bytes (client/session/clip_files.c, clip_image.c):
 *
 *  1. The input as a FileGroupDescriptorW list: taken lists hold only names
 *     clip_files_name_check() takes (no "..", nothing absolute, no ':'),
 *     and build back to the very same bytes' list.
 *  2. The input as CF_DIB/CF_DIBV5: a taken picture is within the limits,
 *     and its CF_DIBV5 form is taken again with the same pixels.
 *  3. The input as PNG, then as text/uri-list and gnome-copied-files: only
 *     absolute local paths come out.
 *
 * Any GLib critical or warning aborts. Built as a fuzzer with VMDESK_FUZZ=ON
 * and clang; replayed over tests/fuzz/corpus/clip by unit-fuzz-replay. */
#include "fuzz_common.h"
#include "session/clip_files.h"
#include "session/clip_image.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return fuzz_common_initialize();
}

static void fuzz_files(const uint8_t *data, size_t size)
{
    ClipFileList l, again;
    GError *err = NULL;
    if (!clip_files_parse(data, size, &l, &err)) {
        fuzz_check_message(err);
        if (l.n || l.files)
            abort();
        g_error_free(err);
        return;
    }
    for (guint i = 0; i < l.n; i++) {
        const char *n = l.files[i].name;
        if (!clip_files_name_check(n, NULL) || n[0] == '/' || strchr(n, ':') || strchr(n, '\\'))
            abort();
        char **parts = g_strsplit(n, "/", -1);
        for (guint p = 0; parts[p]; p++)
            if (!*parts[p] || !strcmp(parts[p], ".") || !strcmp(parts[p], ".."))
                abort();
        g_strfreev(parts);
    }
    size_t len = 0;
    uint8_t *built = clip_files_build(&l, &len, NULL);
    if (!built || !clip_files_parse(built, len, &again, NULL) || again.n != l.n)
        abort();
    for (guint i = 0; i < l.n; i++)
        if (strcmp(again.files[i].name, l.files[i].name) ||
            again.files[i].is_dir != l.files[i].is_dir ||
            again.files[i].size != l.files[i].size)
            abort();
    g_free(built);
    clip_file_list_clear(&again);
    clip_file_list_clear(&l);
}

static void fuzz_dib(const uint8_t *data, size_t size)
{
    ClipImage img, again;
    GError *err = NULL;
    if (!clip_image_from_dib(data, size, &img, &err)) {
        fuzz_check_message(err);
        if (img.rgba)
            abort();
        g_error_free(err);
        return;
    }
    if (!img.width || !img.height || img.width > CLIP_IMAGE_MAX_SIDE ||
        img.height > CLIP_IMAGE_MAX_SIDE || (uint64_t)img.width * img.height > CLIP_IMAGE_MAX_PIXELS)
        abort();
    size_t len = 0;
    uint8_t *dib = clip_image_to_dib(&img, true, &len);
    if (!clip_image_from_dib(dib, len, &again, NULL) || again.width != img.width ||
        again.height != img.height)
        abort();
    /* The same colours; alpha comes back as it went unless it was all 0. */
    for (size_t i = 0; i < (size_t)img.width * img.height; i++)
        if (memcmp(again.rgba + 4 * i, img.rgba + 4 * i, 3))
            abort();
    g_free(dib);
    clip_image_clear(&again);
    clip_image_clear(&img);
}

static void fuzz_png(const uint8_t *data, size_t size)
{
    ClipImage img;
    GError *err = NULL;
    if (!clip_image_from_png(data, size, &img, &err)) {
        fuzz_check_message(err);
        g_error_free(err);
        return;
    }
    if (!img.width || img.width > CLIP_IMAGE_MAX_SIDE || img.height > CLIP_IMAGE_MAX_SIDE)
        abort();
    clip_image_clear(&img);
}

static void fuzz_uris(const uint8_t *data, size_t size, bool gnome)
{
    GError *err = NULL;
    char **paths = clip_files_from_uri_list((const char *)data, size, gnome, &err);
    if (!paths) {
        fuzz_check_message(err);
        g_error_free(err);
        return;
    }
    if (!paths[0])
        abort();
    for (guint i = 0; paths[i]; i++)
        if (!g_path_is_absolute(paths[i]))
            abort();
    g_strfreev(paths);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_files(data, size);
    fuzz_dib(data, size);
    fuzz_png(data, size);
    fuzz_uris(data, size, false);
    fuzz_uris(data, size, true);
    return 0;
}
