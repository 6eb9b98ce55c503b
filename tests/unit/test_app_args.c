/* What `vmdesk app` sends: Windows command lines and guest paths. */
#include "apps/app_args.h"
#include "common/error.h"

#include <glib/gstdio.h>

static void check_line(const char *const *args, const char *extra, const char *want)
{
    g_autofree char *got = app_command_line((char **)args, extra);
    g_assert_cmpstr(got, ==, want);
}

static void test_command_line(void)
{
    check_line(NULL, NULL, NULL);
    check_line((const char *[]){"a", "b", NULL}, NULL, "a b");
    check_line((const char *[]){"two words", NULL}, NULL, "\"two words\"");
    check_line((const char *[]){"", NULL}, NULL, "\"\"");
    /* CommandLineToArgvW: backslashes are literal unless before a quote. */
    check_line((const char *[]){"C:\\Program Files\\x\\", NULL}, NULL,
               "\"C:\\Program Files\\x\\\\\"");
    check_line((const char *[]){"say \"hi\"", NULL}, NULL, "\"say \\\"hi\\\"\"");
    check_line((const char *[]){"a\\\\\"b", NULL}, NULL, "\"a\\\\\\\\\\\"b\"");
    check_line((const char *[]){"/p", NULL}, "\\\\tsclient\\Z\\My File.txt",
               "/p \"\\\\tsclient\\Z\\My File.txt\"");
}

static void test_guest_path(void)
{
    g_autofree char *dir = g_dir_make_tmp("vmdesk-args-XXXXXX", NULL);
    g_autofree char *sub = g_build_filename(dir, "docs", "a b", NULL);
    g_assert_cmpint(g_mkdir_with_parents(sub, 0700), ==, 0);
    g_autofree char *file = g_build_filename(sub, "report.txt", NULL);
    g_assert_true(g_file_set_contents(file, "x", 1, NULL));
    g_autofree char *share = g_strdup_printf("Z=%s/docs", dir);
    char *drives[] = {share, NULL};
    g_autoptr(GError) err = NULL;

    g_autofree char *win = app_guest_path("w", true, drives, "u", file, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(win, ==, "\\\\tsclient\\Z\\a b\\report.txt");
    g_autofree char *lin = app_guest_path("l", false, drives, "demo", file, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(lin, ==, "/home/demo/thinclient_drives/Z/a b/report.txt");

    /* A file outside every share: refused, with the command that shares it. */
    g_autofree char *outside = g_build_filename(dir, "elsewhere.txt", NULL);
    g_assert_true(g_file_set_contents(outside, "y", 1, NULL));
    g_autofree char *none = app_guest_path("w", true, drives, "u", outside, &err);
    g_assert_null(none);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_autofree char *hint = g_strdup_printf("vmdesk share w %s", dir);
    g_assert_nonnull(strstr(err->message, hint));
    g_clear_error(&err);
    /* A share's name is a prefix of a path only at a folder boundary. */
    g_autofree char *sibling = g_strdup_printf("%s/docs2", dir);
    g_assert_cmpint(g_mkdir(sibling, 0700), ==, 0);
    g_autofree char *sfile = g_build_filename(sibling, "f", NULL);
    g_assert_true(g_file_set_contents(sfile, "z", 1, NULL));
    g_autofree char *sib = app_guest_path("w", true, drives, "u", sfile, &err);
    g_assert_null(sib);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    g_autofree char *missing = app_guest_path("w", true, drives, "u", "/nonexistent/x", &err);
    g_assert_null(missing);
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);

    g_remove(sfile);
    g_rmdir(sibling);
    g_remove(outside);
    g_remove(file);
    g_rmdir(sub);
    g_autofree char *docs = g_build_filename(dir, "docs", NULL);
    g_rmdir(docs);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/app-args/command-line", test_command_line);
    g_test_add_func("/app-args/guest-path", test_guest_path);
    return g_test_run();
}
