/* unit-credentials-file: a malformed credentials file gives a clear error
 * that never repeats the file's words (GLib's key-file parse error quotes the
 * offending line, and that line may be a password). No D-Bus: a file that
 * does not say password-in=secret-service never reaches the keyring. */
#include "common/error.h"
#include "secrets/credentials.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <string.h>

#define SECRET "hunter2-s3cret"

static char *root;

static void write_credentials(const char *vm, const char *text)
{
    g_autofree char *path = credentials_path(vm);
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    tu_write_file(path, text);
    g_assert_cmpint(g_chmod(path, 0600), ==, 0);
}

/* Neither the message nor the plain words name @secret; both say malformed. */
static void expect_malformed(const char *vm, const char *text, const char *secret)
{
    write_credentials(vm, text);
    Credentials c;
    g_autoptr(GError) err = NULL;
    g_assert_false(credentials_load(vm, &c, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    const char *plain = vd_error_plain(err);
    g_assert_nonnull(plain);
    g_assert_nonnull(strstr(err->message, "is malformed"));
    g_assert_nonnull(strstr(plain, "is malformed"));
    g_assert_null(strstr(err->message, secret));
    g_assert_null(strstr(plain, secret));
    g_assert_null(strstr(err->message, "password"));
    g_assert_null(strstr(plain, "password"));
    credentials_clear(&c);
}

static void test_parse_error_hides_line(void)
{
    /* A line that is not key=value: GLib's message would quote it. */
    expect_malformed("a", "[rdp]\nuser=alice\npassword " SECRET "\n", SECRET);
    /* No group first: GLib quotes nothing here, but the rule is the same. */
    expect_malformed("b", "password=" SECRET "\n", SECRET);
    /* An invalid group line. */
    expect_malformed("c", "[rdp " SECRET "\nuser=alice\n", SECRET);
}

static void test_no_user(void)
{
    expect_malformed("d", "[rdp]\npassword=" SECRET "\n", SECRET);
}

static void test_good_file_loads(void)
{
    write_credentials("e", "[rdp]\nuser=alice\npassword=" SECRET "\n");
    Credentials c;
    g_autoptr(GError) err = NULL;
    g_assert_true(credentials_load("e", &c, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(c.user, ==, "alice");
    g_assert_cmpstr(c.password, ==, SECRET);
    credentials_clear(&c);
}

int main(int argc, char **argv)
{
    /* Before GLib caches the user folders: everything under our own. */
    root = tu_tmpdir();
    g_autofree char *data = g_build_filename(root, "data", NULL);
    g_setenv("XDG_DATA_HOME", data, TRUE);
    g_unsetenv("DBUS_SESSION_BUS_ADDRESS");
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/credentials-file/parse-error-hides-line", test_parse_error_hides_line);
    g_test_add_func("/credentials-file/no-user", test_no_user);
    g_test_add_func("/credentials-file/good-file-loads", test_good_file_loads);
    int rc = g_test_run();
    tu_rm_rf(root);
    g_free(root);
    return rc;
}
