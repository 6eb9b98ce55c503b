/* The window side of a confined session's copy of the server's files
 * (client/session/helper/helper_window_clip.c): the window stages what the
 * helper streams, within the announced sizes and its limit. A helper that
 * sends more than announced, a file out of turn or an end before the last
 * byte is cut off with its copy removed; a copy beyond the limit is refused
 * (HELPER_MSG_CLIP_CANCEL) and removed, the session going on; nothing but
 * the staging folder is ever written. */
#include "common/error.h"
#include "session/clip_files.h"
#include "session/helper/helper_window_priv.h"
#include "session/session_priv.h"
#include "test_session_stub.h"
#include "test_util.h"

#include <string.h>
#include <sys/stat.h>

typedef struct {
    char *root;       /* the staging root */
    Session *s;
    HelperClip clip;
    GByteArray *b;    /* the message being built */
    GByteArray *reply;
} Fixture;

static void fixture_init(Fixture *f, uint64_t cap)
{
    f->root = tu_tmpdir();
    f->s = session_alloc(&test_impl, NULL, NULL, NULL);
    f->clip = (HelperClip){.src_fd = -1, .root = f->root, .cap = cap};
    f->b = g_byte_array_new();
    f->reply = g_byte_array_new();
}

/* Entries under @dir, recursively. */
static guint count_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;
    for (const char *e; d && (e = g_dir_read_name(d));) {
        g_autofree char *sub = g_build_filename(dir, e, NULL);
        n += 1 + (g_file_test(sub, G_FILE_TEST_IS_DIR) && !g_file_test(sub, G_FILE_TEST_IS_SYMLINK)
                      ? count_entries(sub)
                      : 0);
    }
    return n;
}

static void fixture_finish(Fixture *f)
{
    helper_clip_clear(&f->clip);
    g_assert_cmpuint(count_entries(f->root), ==, 0); /* nothing left behind */
    tu_rm_rf(f->root);
    g_free(f->root);
    session_destroy(f->s);
    g_byte_array_unref(f->b);
    g_byte_array_unref(f->reply);
}

/* Apply the message built in @f->b: what helper_clip_apply said. */
static bool apply(Fixture *f, GError **error)
{
    HelperMsg m = {.payload = f->b->data + 8, .len = f->b->len - 8, .fd = -1};
    memcpy(&m.type, f->b->data, 4);
    g_byte_array_set_size(f->reply, 0);
    return helper_clip_apply(f->s, &f->clip, &m, f->reply, error);
}

static void apply_ok(Fixture *f)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(apply(f, &err));
    g_assert_no_error(err);
}

/* The helper broke the rule: cut off, and its copy is gone. */
static void apply_broken(Fixture *f, const char *says)
{
    g_autoptr(GError) err = NULL;
    g_assert_false(apply(f, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_nonnull(strstr(err->message, says));
    g_assert_null(f->clip.copy);
}

/* A list of two files, "a.bin" (@a bytes) and "d/b.bin" (@b bytes; with
 * @b_sized false its size comes late), and the folder "d". */
static Fixture *paste(Fixture *f, uint64_t a, uint64_t b, bool b_sized)
{
    ClipFile files[] = {{.name = "a.bin", .has_size = true, .size = a},
                        {.name = "d", .is_dir = true},
                        {.name = "d/b.bin", .has_size = true, .size = b}};
    ClipFileList l = {.files = files, .n = 3};
    size_t n = 0;
    g_autoptr(GError) err = NULL;
    g_autofree uint8_t *raw = clip_files_build(&l, &n, &err);
    g_assert_no_error(err);
    if (!b_sized) /* dwFlags of the third descriptor without FD_FILESIZE */
        raw[4 + 2 * CLIP_FILE_DESCRIPTOR_SIZE] &= (uint8_t)~CLIP_FD_FILESIZE;
    helper_msg_begin(f->b, HELPER_MSG_CLIP_PASTE);
    helper_put_u32(f->b, (uint32_t)n);
    helper_put_bytes(f->b, raw, n);
    return f;
}

static Fixture *file(Fixture *f, uint32_t index, uint64_t size)
{
    helper_msg_begin(f->b, HELPER_MSG_CLIP_FILE);
    helper_put_u32(f->b, index);
    helper_put_u32(f->b, (uint32_t)(size >> 32));
    helper_put_u32(f->b, (uint32_t)size);
    return f;
}

static Fixture *bytes(Fixture *f, size_t n, uint8_t fill)
{
    helper_msg_begin(f->b, HELPER_MSG_CLIP_BYTES);
    helper_put_u32(f->b, (uint32_t)n);
    g_byte_array_set_size(f->b, f->b->len + (guint)n);
    memset(f->b->data + f->b->len - n, fill, n);
    return f;
}

static Fixture *end(Fixture *f, bool complete)
{
    helper_msg_begin(f->b, HELPER_MSG_CLIP_END);
    helper_put_u8(f->b, complete);
    return f;
}

static bool refused(Fixture *f)
{
    uint32_t type = 0;
    if (f->reply->len >= 4)
        memcpy(&type, f->reply->data, 4);
    return f->reply->len == 8 && type == HELPER_MSG_CLIP_CANCEL;
}

/* A whole copy: the files land under their names, the host gets the top
 * paths, and the copy before is removed when the next one is whole. */
static void test_copy(void)
{
    Fixture f;
    fixture_init(&f, 0);
    apply_ok(paste(&f, 5, 3, false));
    g_assert_nonnull(f.clip.copy);
    apply_ok(file(&f, 0, 5));
    apply_ok(bytes(&f, 2, 'a'));
    apply_ok(bytes(&f, 3, 'a'));
    apply_ok(file(&f, 2, 3)); /* the size the descriptor lacked */
    apply_ok(bytes(&f, 3, 'b'));
    apply_ok(end(&f, true));
    g_assert_false(refused(&f));
    SessionEvent *ev = session_next_event(f.s);
    g_assert_nonnull(ev);
    g_assert_cmpint(ev->type, ==, SESSION_EV_CLIPBOARD_FILES);
    g_assert_cmpuint(g_strv_length(ev->paths), ==, 2); /* a.bin, d */
    g_autofree char *a = NULL, *b = NULL;
    g_assert_true(g_file_get_contents(ev->paths[0], &a, NULL, NULL));
    g_assert_cmpstr(a, ==, "aaaaa");
    g_autofree char *b_path = g_build_filename(ev->paths[1], "b.bin", NULL);
    g_assert_true(g_file_get_contents(b_path, &b, NULL, NULL));
    g_assert_cmpstr(b, ==, "bbb");
    g_assert_true(g_str_has_prefix(ev->paths[0], f.root));
    struct stat st;
    g_autofree char *files_dir = g_path_get_dirname(ev->paths[0]);
    g_autofree char *paste_dir = g_path_get_dirname(files_dir);
    g_assert_cmpint(stat(paste_dir, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);

    /* The next copy replaces it once whole; one given up leaves nothing. */
    apply_ok(paste(&f, 0, 0, true));
    apply_ok(file(&f, 0, 0));
    apply_ok(file(&f, 2, 0));
    apply_ok(end(&f, true));
    g_assert_false(g_file_test(paste_dir, G_FILE_TEST_EXISTS));
    session_event_free(ev);
    ev = session_next_event(f.s);
    g_assert_nonnull(ev);
    session_event_free(ev);
    guint before = count_entries(f.root);
    apply_ok(paste(&f, 10, 10, true));
    apply_ok(file(&f, 0, 10));
    apply_ok(bytes(&f, 4, 'x'));
    g_assert_cmpuint(count_entries(f.root), >, before);
    apply_ok(end(&f, false));
    g_assert_null(f.clip.copy);
    g_assert_cmpuint(count_entries(f.root), ==, before); /* the copy before stays */
    fixture_finish(&f);
}

/* More bytes than a file announced: cut off, its copy removed. */
static void test_more_than_announced(void)
{
    Fixture f;
    fixture_init(&f, 0);
    apply_ok(paste(&f, 5, 3, true));
    apply_ok(file(&f, 0, 5));
    apply_ok(bytes(&f, 4, 'a'));
    apply_broken(bytes(&f, 2, 'a'), "more of");
    g_assert_cmpuint(count_entries(f.root), ==, 0);

    /* A size other than the one the list announced. */
    apply_ok(paste(&f, 5, 3, true));
    apply_broken(file(&f, 0, 6), "announced with 5 bytes");
    g_assert_cmpuint(count_entries(f.root), ==, 0);
    fixture_finish(&f);
}

/* What an honest helper never sends: each cuts it off. */
static void test_out_of_turn(void)
{
    Fixture f;
    fixture_init(&f, 0);
    apply_broken(bytes(&f, 1, 'a'), "outside a file");
    apply_broken(file(&f, 0, 1), "outside a copy");
    apply_broken(end(&f, true), "no copy");

    apply_ok(paste(&f, 5, 3, true));
    apply_ok(file(&f, 0, 5));
    /* the first is not whole */
    apply_broken(file(&f, 2, 3), "before the one before");

    apply_ok(paste(&f, 1, 3, true));
    /* a folder */
    apply_broken(file(&f, 1, 0), "no file 1");

    apply_ok(paste(&f, 1, 3, true));
    apply_ok(file(&f, 0, 1));
    apply_ok(bytes(&f, 1, 'a'));
    /* again */
    apply_broken(file(&f, 0, 1), "came already");

    apply_ok(paste(&f, 1, 3, true));
    apply_ok(file(&f, 0, 1));
    apply_ok(bytes(&f, 1, 'a'));
    /* d/b.bin never came */
    apply_broken(end(&f, true), "before all its files");

    /* A list the helper should have refused (its own checks are ours). */
    ClipFile bad_files[] = {{.name = "x", .has_size = true, .size = 1}};
    ClipFileList l = {.files = bad_files, .n = 1};
    size_t n = 0;
    g_autofree uint8_t *raw = clip_files_build(&l, &n, NULL);
    raw[4 + 72] = '.', raw[4 + 74] = '.'; /* ".." */
    helper_msg_begin(f.b, HELPER_MSG_CLIP_PASTE);
    helper_put_u32(f.b, (uint32_t)n);
    helper_put_bytes(f.b, raw, n);
    apply_broken(&f, "'..'");
    g_assert_cmpuint(count_entries(f.root), ==, 0);
    fixture_finish(&f);
}

/* The limit: a list announcing more is refused before a byte comes, and
 * so is a size announced late that takes the total beyond it; the helper
 * is told, its late messages ignored, the session goes on. */
static void test_limit(void)
{
    Fixture f;
    fixture_init(&f, 1000);
    apply_ok(paste(&f, 600, 600, true));
    g_assert_true(refused(&f));
    g_assert_null(f.clip.copy);
    g_assert_cmpuint(count_entries(f.root), ==, 0);
    /* What the helper sent before it heard: ignored, nothing written. */
    apply_ok(file(&f, 0, 600));
    apply_ok(bytes(&f, 600, 'a'));
    g_assert_cmpuint(count_entries(f.root), ==, 0);
    apply_ok(end(&f, false));

    /* Within the limit as listed; the late size is beyond it. */
    apply_ok(paste(&f, 600, 0, false));
    g_assert_false(refused(&f));
    apply_ok(file(&f, 0, 600));
    apply_ok(bytes(&f, 600, 'a'));
    apply_ok(file(&f, 2, 401));
    g_assert_true(refused(&f));
    g_assert_null(f.clip.copy);
    g_assert_cmpuint(count_entries(f.root), ==, 0);
    apply_ok(end(&f, false));

    /* Exactly the limit is fine. */
    apply_ok(paste(&f, 600, 0, false));
    apply_ok(file(&f, 0, 600));
    apply_ok(bytes(&f, 600, 'a'));
    apply_ok(file(&f, 2, 400));
    g_assert_false(refused(&f));
    apply_ok(bytes(&f, 400, 'b'));
    apply_ok(end(&f, true));
    SessionEvent *ev = session_next_event(f.s);
    g_assert_nonnull(ev);
    g_assert_cmpint(ev->type, ==, SESSION_EV_CLIPBOARD_FILES);
    session_event_free(ev);
    fixture_finish(&f);
}

/* The user's Escape: what came is removed at once; the helper's messages
 * of that copy until its end are ignored. */
static void test_cancel(void)
{
    Fixture f;
    fixture_init(&f, 0);
    apply_ok(paste(&f, 10, 3, true));
    apply_ok(file(&f, 0, 10));
    apply_ok(bytes(&f, 5, 'a'));
    SessionInput in = {.type = SESSION_INPUT_CLIP_CANCEL};
    g_assert_true(helper_clip_encode_input(&f.clip, &in, f.b));
    g_assert_cmpuint(count_entries(f.root), ==, 0);
    apply_ok(bytes(&f, 5, 'a'));
    apply_ok(end(&f, false));
    g_assert_cmpuint(count_entries(f.root), ==, 0);
    /* after the end: the rule again */
    apply_broken(bytes(&f, 1, 'a'), "outside a file");
    fixture_finish(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/helper-clip/copy", test_copy);
    g_test_add_func("/helper-clip/more-than-announced", test_more_than_announced);
    g_test_add_func("/helper-clip/out-of-turn", test_out_of_turn);
    g_test_add_func("/helper-clip/limit", test_limit);
    g_test_add_func("/helper-clip/cancel", test_cancel);
    return g_test_run();
}
