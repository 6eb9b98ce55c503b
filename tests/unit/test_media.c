/* unit-media: vm_media_check_iso (orchestrator/storage/vm_media.c) against a
 * real ISO made by xorriso, a UDF-only signature, files that are no CD image,
 * and a missing file. */
#include "common/error.h"
#include "storage/vm_media.h"

#include <glib/gstdio.h>
#include <string.h>

static char *tmp;

static char *write_file(const char *name, const char *data, gsize len)
{
    char *path = g_build_filename(tmp, name, NULL);
    g_assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
    return path;
}

static void test_real_iso(void)
{
    g_autofree char *dir = g_build_filename(tmp, "cd", NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_autofree char *readme = g_build_filename(dir, "README", NULL);
    g_assert_true(g_file_set_contents(readme, "an installer\n", -1, NULL));
    g_autofree char *iso = g_build_filename(tmp, "real.iso", NULL);
    const char *argv[] = {"xorriso", "-as", "mkisofs", "-quiet", "-o", iso, dir, NULL};
    int wait = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &wait, &err));
    g_assert_true(g_spawn_check_wait_status(wait, NULL));
    g_assert_true(vm_media_check_iso(iso, &err));
    g_assert_no_error(err);
}

static void test_udf_signature(void)
{
    gsize len = 17 * 2048;
    g_autofree char *data = g_malloc0(len);
    memcpy(data + 16 * 2048 + 1, "BEA01", 5);
    g_autofree char *path = write_file("udf.iso", data, len);
    g_assert_true(vm_media_check_iso(path, NULL));
}

static void test_not_an_iso(void)
{
    gsize len = 64 * 1024;
    g_autofree char *junk = g_malloc(len);
    for (gsize i = 0; i < len; i++)
        junk[i] = (char)g_random_int();
    memcpy(junk + 16 * 2048 + 1, "CD002", 5);
    const struct {
        const char *name;
        const char *data;
        gsize len;
    } cases[] = {{"junk.iso", junk, len}, {"empty.iso", "", 0}, {"short.iso", junk, 32769 + 3}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = write_file(cases[i].name, cases[i].data, cases[i].len);
        g_autoptr(GError) err = NULL;
        g_assert_false(vm_media_check_iso(path, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        g_assert_nonnull(strstr(err->message, path));
        g_assert_nonnull(strstr(err->message, "is not a CD image"));
    }
}

static void test_missing(void)
{
    g_autofree char *path = g_build_filename(tmp, "nowhere.iso", NULL);
    g_autoptr(GError) err = NULL;
    g_assert_false(vm_media_check_iso(path, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, path));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp = g_dir_make_tmp("vmdesk-media-XXXXXX", NULL);
    g_test_add_func("/media/iso/real", test_real_iso);
    g_test_add_func("/media/iso/udf", test_udf_signature);
    g_test_add_func("/media/iso/not-an-iso", test_not_an_iso);
    g_test_add_func("/media/iso/missing", test_missing);
    int rc = g_test_run();
    const char *rm[] = {"rm", "-rf", tmp, NULL};
    g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(tmp);
    return rc;
}
