/* The clipboard's pure parts (client/session/clip_*.c): file lists from a
 * server and from the host, pictures (DIB and PNG), the staging folder. */
#include "common/error.h"
#include "session/clip_files.h"
#include "session/clip_image.h"
#include "session/clip_stage.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One FILEDESCRIPTORW list built by hand, the way a server would. */
typedef struct {
    const char *name; /* UTF-8, '\\'-separated as on the wire */
    uint32_t flags, attributes;
    uint64_t size;
} Desc;

static GByteArray *wire_list(const Desc *d, guint n, uint32_t count)
{
    GByteArray *b = g_byte_array_new();
    uint8_t c[4] = {(uint8_t)count, (uint8_t)(count >> 8), (uint8_t)(count >> 16),
                    (uint8_t)(count >> 24)};
    g_byte_array_append(b, c, 4);
    for (guint i = 0; i < n; i++) {
        uint8_t fd[CLIP_FILE_DESCRIPTOR_SIZE] = {0};
        fd[0] = (uint8_t)d[i].flags;
        fd[1] = (uint8_t)(d[i].flags >> 8);
        fd[36] = (uint8_t)d[i].attributes;
        for (int k = 0; k < 4; k++) {
            fd[64 + k] = (uint8_t)(d[i].size >> (32 + 8 * k));
            fd[68 + k] = (uint8_t)(d[i].size >> (8 * k));
        }
        glong units = 0;
        g_autofree gunichar2 *u = g_utf8_to_utf16(d[i].name, -1, NULL, &units, NULL);
        for (glong k = 0; k < units && k < 260; k++) {
            fd[72 + 2 * k] = (uint8_t)u[k];
            fd[73 + 2 * k] = (uint8_t)(u[k] >> 8);
        }
        g_byte_array_append(b, fd, sizeof(fd));
    }
    return b;
}

#define FILE_FLAGS (CLIP_FD_ATTRIBUTES | CLIP_FD_FILESIZE)

static void files_parse_good(void)
{
    const Desc d[] = {
        {"docs", CLIP_FD_ATTRIBUTES, CLIP_FILE_ATTRIBUTE_DIRECTORY, 0},
        {"docs\\r\xc3\xa9sum\xc3\xa9.txt", FILE_FLAGS, 0x80, 12},
        {"big.iso", FILE_FLAGS, 0x80, 5ULL << 32},
        {"nosize.bin", CLIP_FD_ATTRIBUTES, 0x80, 0},
    };
    g_autoptr(GByteArray) b = wire_list(d, 4, 4);
    ClipFileList l;
    g_autoptr(GError) err = NULL;
    g_assert_true(clip_files_parse(b->data, b->len, &l, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(l.n, ==, 4);
    g_assert_true(l.files[0].is_dir);
    g_assert_cmpstr(l.files[1].name, ==, "docs/r\xc3\xa9sum\xc3\xa9.txt");
    g_assert_cmpuint(l.files[1].size, ==, 12);
    g_assert_cmpuint(l.files[2].size, ==, 5ULL << 32);
    g_assert_false(l.files[3].has_size);

    /* Built again: the same bytes a server would read. */
    size_t len = 0;
    g_autofree uint8_t *again = clip_files_build(&l, &len, &err);
    g_assert_no_error(err);
    ClipFileList l2;
    g_assert_true(clip_files_parse(again, len, &l2, &err));
    g_assert_cmpuint(l2.n, ==, 4);
    for (guint i = 0; i < 4; i++) {
        g_assert_cmpstr(l2.files[i].name, ==, l.files[i].name);
        g_assert_cmpint(l2.files[i].is_dir, ==, l.files[i].is_dir);
        g_assert_cmpuint(l2.files[i].size, ==, l.files[i].size);
    }
    clip_file_list_clear(&l);
    clip_file_list_clear(&l2);
}

static void expect_refused(const Desc *d, guint n, uint32_t count, const char *needle)
{
    g_autoptr(GByteArray) b = wire_list(d, n, count);
    ClipFileList l;
    g_autoptr(GError) err = NULL;
    g_assert_false(clip_files_parse(b->data, b->len, &l, &err));
    g_assert_nonnull(err);
    g_assert_cmpuint(l.n, ==, 0);
    if (!strstr(err->message, needle))
        g_error("\"%s\" does not say \"%s\"", err->message, needle);
}

static void files_parse_hostile(void)
{
    const Desc dotdot[] = {{"..\\..\\.bashrc", FILE_FLAGS, 0x80, 1}};
    expect_refused(dotdot, 1, 1, "'..'");
    const Desc mid[] = {{"a\\..\\..\\b", FILE_FLAGS, 0x80, 1}};
    expect_refused(mid, 1, 1, "'..'");
    const Desc abs[] = {{"\\etc\\passwd", FILE_FLAGS, 0x80, 1}};
    expect_refused(abs, 1, 1, "absolute");
    const Desc drive[] = {{"C:\\Windows\\x", FILE_FLAGS, 0x80, 1}};
    expect_refused(drive, 1, 1, "drive letter");
    const Desc slash[] = {{"a/b", FILE_FLAGS, 0x80, 1}};
    expect_refused(slash, 1, 1, "'/'");
    const Desc ctl[] = {{"a\nb", FILE_FLAGS, 0x80, 1}};
    expect_refused(ctl, 1, 1, "control");
    const Desc trailing[] = {{"docs\\", FILE_FLAGS, 0x80, 1}}; /* found by fuzz-clip */
    expect_refused(trailing, 1, 1, "empty component");
    const Desc empty[] = {{"", FILE_FLAGS, 0x80, 1}};
    expect_refused(empty, 1, 1, "empty");
    const Desc dup[] = {{"a", FILE_FLAGS, 0x80, 1}, {"a", FILE_FLAGS, 0x80, 1}};
    expect_refused(dup, 2, 2, "twice");
    const Desc inside[] = {{"a", FILE_FLAGS, 0x80, 1}, {"a\\b", FILE_FLAGS, 0x80, 1}};
    expect_refused(inside, 2, 2, "inside a file");
    g_autofree char *long_comp = g_strnfill(256, 'x');
    const Desc longer[] = {{long_comp, FILE_FLAGS, 0x80, 1}};
    expect_refused(longer, 1, 1, "longer than 255");
    /* 260 units and no NUL. */
    g_autofree char *unterminated = g_strnfill(260, 'y');
    const Desc unterm[] = {{unterminated, FILE_FLAGS, 0x80, 1}};
    expect_refused(unterm, 1, 1, "not terminated");
    /* Counts that lie, and too many files. */
    const Desc one[] = {{"a", FILE_FLAGS, 0x80, 1}};
    expect_refused(one, 1, 2, "announces 2 files");
    expect_refused(one, 1, 0, "announces 0 files");
    expect_refused(NULL, 0, CLIP_FILES_MAX + 1, "at most");
    ClipFileList l;
    g_autoptr(GError) err = NULL;
    g_assert_false(clip_files_parse((const uint8_t *)"ab", 2, &l, &err));
    /* A lone surrogate. */
    g_autoptr(GByteArray) b = wire_list(one, 1, 1);
    b->data[4 + 72] = 0x00;
    b->data[4 + 73] = 0xd8;
    g_clear_error(&err);
    g_assert_false(clip_files_parse(b->data, b->len, &l, &err));
    g_assert_nonnull(strstr(err->message, "UTF-16"));
}

static void files_uri_list(void)
{
    const char *list = "# a comment\r\nfile:///tmp/a%20b.txt\r\nhttp://example.org/x\r\n"
                       "file://otherhost/etc/passwd\r\nfile:///home/u/dir\r\n";
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) paths = clip_files_from_uri_list(list, strlen(list), false, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(g_strv_length(paths), ==, 2);
    g_assert_cmpstr(paths[0], ==, "/tmp/a b.txt");
    g_assert_cmpstr(paths[1], ==, "/home/u/dir");

    const char *gnome = "copy\nfile:///tmp/x\nfile:///tmp/y";
    g_auto(GStrv) g = clip_files_from_uri_list(gnome, strlen(gnome), true, &err);
    g_assert_cmpuint(g_strv_length(g), ==, 2);
    g_assert_cmpstr(g[1], ==, "/tmp/y");

    const char *none = "http://example.org/\r\n";
    g_assert_null(clip_files_from_uri_list(none, strlen(none), false, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);

    const char *const out[] = {"/tmp/a b", "/tmp/c", NULL};
    g_autofree char *u = clip_files_to_uri_list(out, false);
    g_assert_cmpstr(u, ==, "file:///tmp/a%20b\r\nfile:///tmp/c\r\n");
    g_autofree char *gn = clip_files_to_uri_list(out, true);
    g_assert_cmpstr(gn, ==, "copy\nfile:///tmp/a%20b\nfile:///tmp/c");
}

static void files_collect(void)
{
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *top = g_build_filename(dir, "top", NULL);
    g_autofree char *sub = g_build_filename(top, "sub", NULL);
    g_assert_cmpint(g_mkdir_with_parents(sub, 0700), ==, 0);
    g_autofree char *f1 = g_build_filename(top, "a.txt", NULL);
    g_autofree char *f2 = g_build_filename(sub, "b.txt", NULL);
    g_autofree char *lone = g_build_filename(dir, "lone", NULL);
    g_autofree char *link = g_build_filename(top, "link", NULL);
    tu_write_file(f1, "hello");
    tu_write_file(f2, "world!");
    tu_write_file(lone, "x");
    g_assert_cmpint(symlink("/etc/passwd", link), ==, 0);
    const char *const paths[] = {top, lone, NULL};
    ClipFileList l;
    g_auto(GStrv) sources = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_true(clip_files_collect(paths, &l, &sources, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(l.n, ==, 5);
    g_assert_cmpstr(l.files[0].name, ==, "top");
    g_assert_true(l.files[0].is_dir);
    g_assert_cmpstr(l.files[1].name, ==, "top/a.txt");
    g_assert_cmpuint(l.files[1].size, ==, 5);
    g_assert_cmpstr(l.files[2].name, ==, "top/sub");
    g_assert_cmpstr(l.files[3].name, ==, "top/sub/b.txt");
    g_assert_cmpstr(sources[3], ==, f2);
    g_assert_cmpstr(l.files[4].name, ==, "lone");
    clip_file_list_clear(&l);

    g_autofree char *gone = g_build_filename(dir, "gone", NULL);
    const char *const missing[] = {gone, NULL};
    g_auto(GStrv) s2 = NULL;
    g_assert_false(clip_files_collect(missing, &l, &s2, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    tu_rm_rf(dir);
}

/* A small RGBA picture with every alpha different. */
static ClipImage test_image(uint32_t w, uint32_t h)
{
    ClipImage img = {.width = w, .height = h, .rgba = g_malloc((size_t)w * h * 4)};
    for (size_t i = 0; i < (size_t)w * h; i++) {
        img.rgba[4 * i] = (uint8_t)i;
        img.rgba[4 * i + 1] = (uint8_t)(i * 3);
        img.rgba[4 * i + 2] = (uint8_t)(i * 7);
        img.rgba[4 * i + 3] = (uint8_t)(255 - i);
    }
    return img;
}

static void image_dib_round_trip(void)
{
    ClipImage img = test_image(5, 3);
    for (int v5 = 0; v5 <= 1; v5++) {
        size_t len = 0;
        g_autofree uint8_t *dib = clip_image_to_dib(&img, v5, &len);
        ClipImage back;
        g_autoptr(GError) err = NULL;
        g_assert_true(clip_image_from_dib(dib, len, &back, &err));
        g_assert_no_error(err);
        g_assert_cmpuint(back.width, ==, 5);
        g_assert_cmpuint(back.height, ==, 3);
        for (size_t i = 0; i < 15; i++) {
            g_assert_cmpmem(back.rgba + 4 * i, 3, img.rgba + 4 * i, 3);
            /* CF_DIB's 32 bits are BI_RGB: no alpha; CF_DIBV5's keep it. */
            g_assert_cmpuint(back.rgba[4 * i + 3], ==, v5 ? img.rgba[4 * i + 3] : 255);
        }
        clip_image_clear(&back);
    }
    clip_image_clear(&img);
}

/* A BITMAPINFOHEADER of @w x @h at @bpp, @colors palette entries. */
static GByteArray *dib_header(int32_t w, int32_t h, uint16_t bpp, uint32_t compression,
                              uint32_t colors)
{
    uint8_t hd[40] = {40};
    memcpy(hd + 4, &w, 4);
    memcpy(hd + 8, &h, 4);
    hd[12] = 1;
    memcpy(hd + 14, &bpp, 2);
    memcpy(hd + 16, &compression, 4);
    memcpy(hd + 32, &colors, 4);
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, hd, sizeof(hd));
    return b;
}

static void image_dib_depths(void)
{
    g_autoptr(GError) err = NULL;
    ClipImage img;
    /* 8 bits, 2 colours, top down, 3 x 2: rows padded to 4 bytes. */
    g_autoptr(GByteArray) p8 = dib_header(3, -2, 8, 0, 2);
    const uint8_t pal[] = {0, 0, 255, 0, 255, 0, 0, 0}; /* red, blue (B G R x) */
    const uint8_t px8[] = {0, 1, 7, 0, 1, 0, 0, 0};     /* 7: outside the palette -> black */
    g_byte_array_append(p8, pal, sizeof(pal));
    g_byte_array_append(p8, px8, sizeof(px8));
    g_assert_true(clip_image_from_dib(p8->data, p8->len, &img, &err));
    g_assert_no_error(err);
    const uint8_t want8[] = {255, 0, 0, 255, 0, 0, 255, 255, 0, 0, 0, 255,
                             0, 0, 255, 255, 255, 0, 0, 255, 255, 0, 0, 255};
    g_assert_cmpmem(img.rgba, 24, want8, 24);
    clip_image_clear(&img);

    /* 24 bits, bottom up, 1 x 2. */
    g_autoptr(GByteArray) p24 = dib_header(1, 2, 24, 0, 0);
    const uint8_t px24[] = {1, 2, 3, 0, 4, 5, 6, 0};
    g_byte_array_append(p24, px24, sizeof(px24));
    g_assert_true(clip_image_from_dib(p24->data, p24->len, &img, &err));
    const uint8_t want24[] = {6, 5, 4, 255, 3, 2, 1, 255};
    g_assert_cmpmem(img.rgba, 8, want24, 8);
    clip_image_clear(&img);

    /* 16 bits 5-6-5 through BI_BITFIELDS masks after the header. */
    g_autoptr(GByteArray) p16 = dib_header(1, 1, 16, 3, 0);
    const uint8_t masks[] = {0x00, 0xf8, 0, 0, 0xe0, 0x07, 0, 0, 0x1f, 0, 0, 0};
    const uint8_t px16[] = {0xff, 0xff, 0, 0};
    g_byte_array_append(p16, masks, sizeof(masks));
    g_byte_array_append(p16, px16, sizeof(px16));
    g_assert_true(clip_image_from_dib(p16->data, p16->len, &img, &err));
    const uint8_t white[] = {255, 255, 255, 255};
    g_assert_cmpmem(img.rgba, 4, white, 4);
    clip_image_clear(&img);
}

static void expect_dib_refused(GByteArray *b, const char *needle)
{
    ClipImage img;
    g_autoptr(GError) err = NULL;
    g_assert_false(clip_image_from_dib(b->data, b->len, &img, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_null(img.rgba);
    if (!strstr(err->message, needle))
        g_error("\"%s\" does not say \"%s\"", err->message, needle);
    g_byte_array_unref(b);
}

static void image_dib_hostile(void)
{
    expect_dib_refused(dib_header(100000, 10, 32, 0, 0), "pixels");
    expect_dib_refused(dib_header(16384, 16384, 32, 0, 0), "pixels");
    expect_dib_refused(dib_header(0, 10, 32, 0, 0), "size");
    expect_dib_refused(dib_header(10, 0, 32, 0, 0), "size");
    expect_dib_refused(dib_header(10, INT32_MIN, 32, 0, 0), "size");
    expect_dib_refused(dib_header(10, 10, 7, 0, 0), "depth");
    expect_dib_refused(dib_header(10, 10, 0, 0, 0), "depth");
    expect_dib_refused(dib_header(10, 10, 24, 1, 0), "compression"); /* RLE8 */
    expect_dib_refused(dib_header(10, 10, 8, 0, 300), "colour table");
    expect_dib_refused(dib_header(10, 10, 32, 0, 0), "need 400 bytes");
    expect_dib_refused(dib_header(10, 10, 16, 3, 0), "masks");
    GByteArray *bad_masks = dib_header(1, 1, 32, 3, 0);
    const uint8_t m[] = {0xff, 0xff, 0, 0, 0, 0xff, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0};
    g_byte_array_append(bad_masks, m, sizeof(m)); /* red and green overlap */
    expect_dib_refused(bad_masks, "masks");
    GByteArray *planes = dib_header(1, 1, 32, 0, 0);
    planes->data[12] = 2;
    expect_dib_refused(planes, "planes");
    GByteArray *header = g_byte_array_new();
    g_byte_array_append(header, (const uint8_t *)"\x0c\0\0\0", 4);
    expect_dib_refused(header, "bytes long");
    GByteArray *hsize = dib_header(1, 1, 32, 0, 0);
    hsize->data[0] = 64;
    expect_dib_refused(hsize, "header size");
}

static void image_png(void)
{
    ClipImage img = test_image(7, 4);
    size_t len = 0;
    g_autoptr(GError) err = NULL;
    g_autofree uint8_t *png = clip_image_to_png(&img, &len, &err);
    g_assert_no_error(err);
    g_assert_cmpmem(png, 4, "\x89PNG", 4);
    ClipImage back;
    g_assert_true(clip_image_from_png(png, len, &back, &err));
    g_assert_cmpuint(back.width, ==, 7);
    g_assert_cmpmem(back.rgba, 7 * 4 * 4, img.rgba, 7 * 4 * 4);
    clip_image_clear(&back);
    g_assert_false(clip_image_from_png(png, len / 2, &back, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    /* An IHDR claiming 1000000 x 1000000: refused before any allocation. */
    png[16] = 0x00, png[17] = 0x0f, png[18] = 0x42, png[19] = 0x40;
    png[20] = 0x00, png[21] = 0x0f, png[22] = 0x42, png[23] = 0x40;
    g_assert_false(clip_image_from_png(png, len, &back, &err));
    g_assert_nonnull(err);
    clip_image_clear(&img);
}

static ClipFileList stage_list(void)
{
    ClipFileList l = {.n = 4, .files = g_new0(ClipFile, 4)};
    l.files[0] = (ClipFile){.name = g_strdup("d/e/f.txt"), .has_size = true, .size = 6};
    l.files[1] = (ClipFile){.name = g_strdup("d"), .is_dir = true};
    l.files[2] = (ClipFile){.name = g_strdup("top.bin"), .has_size = true, .size = 3,
                            .mtime = 1000000000};
    l.files[3] = (ClipFile){.name = g_strdup("unsized")};
    return l;
}

static void stage_files(void)
{
    g_autofree char *root = tu_tmpdir();
    ClipFileList l = stage_list();
    g_autoptr(GError) err = NULL;
    ClipStage *st = clip_stage_create(root, &l, 0, &err);
    g_assert_no_error(err);
    clip_file_list_clear(&l);
    uint64_t done, total;
    clip_stage_progress(st, &done, &total);
    g_assert_cmpuint(total, ==, 9);

    g_assert_true(clip_stage_begin(st, 0, &err));
    g_assert_true(clip_stage_write(st, (const uint8_t *)"abc", 3, &err));
    g_assert_cmpuint(clip_stage_missing(st), ==, 3);
    g_auto(GStrv) paths = clip_stage_paths(st);
    g_assert_cmpuint(g_strv_length(paths), ==, 3); /* d, top.bin, unsized */
    g_autofree char *f = g_build_filename(paths[0], "e", "f.txt", NULL);
    g_assert_false(g_file_test(f, G_FILE_TEST_EXISTS)); /* not yet under its name */
    g_assert_true(clip_stage_write(st, (const uint8_t *)"def", 3, &err));
    g_assert_true(clip_stage_end(st, &err));
    g_assert_no_error(err);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(f, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "abcdef");

    /* More bytes than announced. */
    g_assert_true(clip_stage_begin(st, 2, &err));
    g_assert_false(clip_stage_write(st, (const uint8_t *)"1234", 4, &err));
    g_assert_nonnull(strstr(err->message, "more of"));
    g_clear_error(&err);
    /* Fewer: refused, and nothing left under the name or in partial/. */
    g_assert_true(clip_stage_write(st, (const uint8_t *)"12", 2, &err));
    g_assert_false(clip_stage_end(st, &err));
    g_assert_nonnull(strstr(err->message, "sent 2 bytes"));
    g_clear_error(&err);
    g_assert_false(g_file_test(paths[1], G_FILE_TEST_EXISTS));
    clip_stage_progress(st, &done, &total);
    g_assert_cmpuint(done, ==, 6);
    g_assert_true(clip_stage_begin(st, 2, &err));
    g_assert_true(clip_stage_write(st, (const uint8_t *)"123", 3, &err));
    g_assert_true(clip_stage_end(st, &err));
    struct stat sb;
    g_assert_cmpint(stat(paths[1], &sb), ==, 0);
    g_assert_cmpint(sb.st_mtime, ==, 1000000000);

    /* No size in the descriptor: it comes before the bytes, once. */
    g_assert_true(clip_stage_begin(st, 3, &err));
    g_assert_false(clip_stage_write(st, (const uint8_t *)"x", 1, &err));
    g_clear_error(&err);
    g_assert_true(clip_stage_set_size(st, 1, &err));
    g_assert_false(clip_stage_set_size(st, 2, &err));
    g_clear_error(&err);
    g_assert_true(clip_stage_write(st, (const uint8_t *)"x", 1, &err));
    clip_stage_abort(st); /* cancelled: nothing under the name */
    g_assert_false(g_file_test(paths[2], G_FILE_TEST_EXISTS));
    g_assert_false(clip_stage_begin(st, 1, &err)); /* a folder */
    g_clear_error(&err);

    /* The staging folder is private and goes away whole. */
    g_autofree char *files_dir = g_path_get_dirname(paths[1]);
    g_autofree char *top_dir = g_path_get_dirname(files_dir);
    g_assert_cmpint(stat(top_dir, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 0777, ==, 0700);
    clip_stage_destroy(st);
    g_assert_false(g_file_test(top_dir, G_FILE_TEST_EXISTS));
    tu_rm_rf(root);
}

/* A link planted where a folder of the list should be is not followed. */
static void stage_no_escape(void)
{
    g_autofree char *root = tu_tmpdir();
    g_autofree char *outside = tu_tmpdir();
    ClipFileList l = {.n = 1, .files = g_new0(ClipFile, 1)};
    l.files[0] = (ClipFile){.name = g_strdup("x/y"), .has_size = true, .size = 1};
    g_autoptr(GError) err = NULL;
    ClipStage *st = clip_stage_create(root, &l, 0, &err);
    g_assert_no_error(err);
    clip_file_list_clear(&l);
    g_auto(GStrv) paths = clip_stage_paths(st);
    g_assert_cmpuint(g_strv_length(paths), ==, 0);
    g_autofree char *files_dir = NULL;
    {
        /* files/x was made as a folder: swap it for a link outside. */
        g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
        const char *paste = g_dir_read_name(d);
        files_dir = g_build_filename(root, paste, "files", NULL);
    }
    g_autofree char *x = g_build_filename(files_dir, "x", NULL);
    g_assert_cmpint(rmdir(x), ==, 0);
    g_assert_cmpint(symlink(outside, x), ==, 0);
    g_assert_true(clip_stage_begin(st, 0, &err));
    g_assert_true(clip_stage_write(st, (const uint8_t *)"!", 1, &err));
    g_assert_false(clip_stage_end(st, &err));
    g_assert_nonnull(err);
    g_autofree char *escaped = g_build_filename(outside, "y", NULL);
    g_assert_false(g_file_test(escaped, G_FILE_TEST_EXISTS));
    clip_stage_destroy(st);
    g_assert_true(g_file_test(outside, G_FILE_TEST_IS_DIR)); /* the link's target stays */
    tu_rm_rf(root);
    tu_rm_rf(outside);
}

/* Announced sizes beyond the free space are refused up front. */
static void stage_no_space(void)
{
    g_autofree char *root = tu_tmpdir();
    ClipFileList l = {.n = 1, .files = g_new0(ClipFile, 1)};
    l.files[0] = (ClipFile){.name = g_strdup("huge"), .has_size = true, .size = G_MAXINT64};
    g_autoptr(GError) err = NULL;
    g_assert_null(clip_stage_create(root, &l, 0, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NO_SPACE);
    clip_file_list_clear(&l);
    g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
    g_assert_null(g_dir_read_name(d)); /* nothing left behind */
    tu_rm_rf(root);
}

/* The cap: the list's total beyond it is refused up front, a size that
 * comes late and takes the total beyond it too; exactly the cap is fine. */
static void stage_cap(void)
{
    g_autofree char *root = tu_tmpdir();
    ClipFileList l = stage_list(); /* 6 + 3 announced, one unsized */
    g_autoptr(GError) err = NULL;
    g_assert_null(clip_stage_create(root, &l, 8, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NO_SPACE);
    g_assert_nonnull(strstr(err->message, "at most 8 bytes may be staged"));
    g_clear_error(&err);
    g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
    g_assert_null(g_dir_read_name(d));
    ClipStage *st = clip_stage_create(root, &l, 10, &err);
    g_assert_no_error(err);
    clip_file_list_clear(&l);
    g_assert_cmpuint(clip_stage_limit(st), ==, 10);
    g_assert_true(clip_stage_begin(st, 3, &err));
    g_assert_false(clip_stage_set_size(st, 2, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NO_SPACE);
    g_clear_error(&err);
    g_assert_false(clip_stage_set_size(st, G_MAXUINT64, &err)); /* no overflow */
    g_assert_error(err, VD_ERROR, VD_ERROR_NO_SPACE);
    g_clear_error(&err);
    g_assert_true(clip_stage_set_size(st, 1, &err));
    g_assert_true(clip_stage_write(st, (const uint8_t *)"x", 1, &err));
    g_assert_true(clip_stage_end(st, &err));
    g_assert_false(clip_stage_complete(st));
    clip_stage_destroy(st);
    tu_rm_rf(root);
}

/* A streamed stage: the same checks, its bytes to a sink, no folder. */
static bool rec_start(void *data, const uint8_t *list, size_t len, GError **error)
{
    (void)error;
    g_string_append_printf(data, "start %zu %02x;", len, list[0]);
    return true;
}

static bool rec_file(void *data, guint index, uint64_t size, GError **error)
{
    (void)error;
    g_string_append_printf(data, "file %u %" G_GUINT64_FORMAT ";", index, size);
    return true;
}

static bool rec_write(void *data, const uint8_t *bytes, size_t len, GError **error)
{
    (void)error;
    g_string_append_printf(data, "write %.*s;", (int)len, (const char *)bytes);
    return true;
}

static void rec_finish(void *data, bool complete)
{
    g_string_append_printf(data, "finish %d;", complete);
}

static const ClipStageSink recorder = {rec_start, rec_file, rec_write, rec_finish};

static void stage_streamed(void)
{
    ClipFileList l = stage_list();
    g_autoptr(GString) log = g_string_new(NULL);
    const uint8_t raw[] = {0x42};
    g_autoptr(GError) err = NULL;
    ClipStage *st = clip_stage_create_streamed(&l, raw, 1, &recorder, log, &err);
    g_assert_no_error(err);
    g_assert_null(clip_stage_paths(st));
    g_assert_true(clip_stage_begin(st, 0, &err));
    g_assert_true(clip_stage_write(st, (const uint8_t *)"abcdef", 6, &err));
    g_assert_true(clip_stage_end(st, &err));
    g_assert_true(clip_stage_begin(st, 2, &err));
    g_assert_false(clip_stage_write(st, (const uint8_t *)"1234", 4, &err)); /* more of */
    g_clear_error(&err);
    g_assert_true(clip_stage_write(st, (const uint8_t *)"123", 3, &err));
    g_assert_true(clip_stage_end(st, &err));
    g_assert_false(clip_stage_begin(st, 2, &err)); /* came already */
    g_clear_error(&err);
    g_assert_true(clip_stage_begin(st, 3, &err)); /* unsized: the size first */
    g_assert_true(clip_stage_set_size(st, 0, &err));
    g_assert_true(clip_stage_end(st, &err));
    g_assert_true(clip_stage_complete(st));
    clip_stage_finish(st);
    clip_stage_destroy(st);
    g_assert_cmpstr(log->str, ==,
                    "start 1 42;file 0 6;write abcdef;file 2 3;write 123;file 3 0;finish 1;");
    /* One given up tells the sink so. */
    g_string_truncate(log, 0);
    st = clip_stage_create_streamed(&l, raw, 1, &recorder, log, &err);
    clip_stage_destroy(st);
    g_assert_cmpstr(log->str, ==, "start 1 42;finish 0;");
    clip_file_list_clear(&l);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/clip/files/parse-good", files_parse_good);
    g_test_add_func("/clip/files/parse-hostile", files_parse_hostile);
    g_test_add_func("/clip/files/uri-list", files_uri_list);
    g_test_add_func("/clip/files/collect", files_collect);
    g_test_add_func("/clip/stage/cap", stage_cap);
    g_test_add_func("/clip/stage/streamed", stage_streamed);
    g_test_add_func("/clip/image/dib-round-trip", image_dib_round_trip);
    g_test_add_func("/clip/image/dib-depths", image_dib_depths);
    g_test_add_func("/clip/image/dib-hostile", image_dib_hostile);
    g_test_add_func("/clip/image/png", image_png);
    g_test_add_func("/clip/stage/files", stage_files);
    g_test_add_func("/clip/stage/no-escape", stage_no_escape);
    g_test_add_func("/clip/stage/no-space", stage_no_space);
    return g_test_run();
}
