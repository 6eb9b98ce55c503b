/* unit-common: names, sizes, atomic files, private folders, exit statuses,
 * running helper programs (common/). */
#include "common/error.h"
#include "common/fd_io.h"
#include "common/json_build.h"
#include "common/json_check.h"
#include "common/keyfile.h"
#include "common/paths.h"
#include "common/size.h"
#include "common/spawn.h"
#include "common/text.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- vd_fd_peer_is_local --- */

/* Connect a client of family @family to a fresh listener at @addr; returns
 * the client and sets *@served to the accepted end. */
static int connect_pair(struct sockaddr *addr, socklen_t len, int *served)
{
    int l = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(l, >=, 0);
    g_assert_cmpint(bind(l, addr, len), ==, 0);
    g_assert_cmpint(listen(l, 1), ==, 0);
    g_assert_cmpint(getsockname(l, addr, &len), ==, 0); /* the port chosen */
    int c = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(connect(c, addr, len), ==, 0);
    *served = accept(l, NULL, NULL);
    g_assert_cmpint(*served, >=, 0);
    close(l);
    return c;
}

static void test_peer_is_local(void)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    g_assert_false(vd_fd_peer_is_local(sv[0])); /* ssh -W, libvirt's fd: anywhere */
    close(sv[0]);
    close(sv[1]);

    g_autofree char *dir = g_dir_make_tmp("vd-peer-XXXXXX", NULL);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    g_snprintf(un.sun_path, sizeof(un.sun_path), "%s/vnc.sock", dir);
    int served;
    int c = connect_pair((struct sockaddr *)&un, sizeof(un), &served);
    g_assert_true(vd_fd_peer_is_local(c));        /* peer: the named listener */
    g_assert_false(vd_fd_peer_is_local(served));  /* peer: an unnamed client */
    close(c);
    close(served);
    g_unlink(un.sun_path);
    g_rmdir(dir);

    struct sockaddr_in in = {.sin_family = AF_INET};
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c = connect_pair((struct sockaddr *)&in, sizeof(in), &served);
    g_assert_true(vd_fd_peer_is_local(c));
    g_assert_true(vd_fd_peer_is_local(served));
    close(c);
    close(served);

    int unconnected = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_false(vd_fd_peer_is_local(unconnected));
    close(unconnected);
    g_assert_false(vd_fd_peer_is_local(-1));
}

/* --- vd_name_validate --- */

static void test_name_accept(void)
{
    static const char *const good[] = {
        "win11", "a.b-c_d", "A", "9front", "debian-12.5_amd64",
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv", /* 48 */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) err = NULL;
        g_assert_true(vd_name_validate(good[i], &err));
        g_assert_no_error(err);
    }
    g_assert_cmpuint(strlen(good[G_N_ELEMENTS(good) - 1]), ==, 48);
}

static void test_name_reject(void)
{
    static const struct {
        const char *name;
        const char *in_message; /* part of the error message */
    } bad[] = {
        {"", "empty"},
        {"a/b", "slash"},
        {"..", "\"..\""},
        {"a..b", "\"..\""},
        {".hidden", "start with a letter or digit"},
        {"-x", "start with a letter or digit"},
        {"_x", "start with a letter or digit"},
        {"a\nb", "control character"},
        {"a\001b", "control character"},
        {"a\x7f", "control character"},
        {"a b", "contains \" \""},
        {"a,b", "contains \",\""},
        /* the whole character, not its first byte; a bad byte escaped */
        {"caf\xc3\xa9", "contains \"\xc3\xa9\""},
        {"a\xf0\x9f\x98\x80", "contains \"\xf0\x9f\x98\x80\""},
        {"a\xff", "contains \"\\xff\""},
        {"a\x1b[2J", "\"a\\x1b[2J\" contains a control character"},
        {"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvw", "49 bytes long"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(vd_name_validate(bad[i].name, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        if (!strstr(err->message, bad[i].in_message))
            g_error("name #%zu: message \"%s\" lacks \"%s\"", i, err->message,
                    bad[i].in_message);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        /* Every message is UTF-8 without control characters. */
        g_autoptr(GError) err = NULL;
        vd_name_validate(bad[i].name, &err);
        g_assert_true(g_utf8_validate(err->message, -1, NULL));
        g_assert_null(vd_text_find_control(err->message));
    }
    g_autoptr(GError) err = NULL;
    g_assert_false(vd_name_validate(NULL, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    /* A NULL error pointer is allowed. */
    g_assert_false(vd_name_validate("a/b", NULL));
}

/* --- vd_size_parse / vd_size_format --- */

static void test_size_parse_good(void)
{
    static const struct {
        const char *text;
        char default_unit;
        uint64_t bytes;
    } cases[] = {
        {"4G", 0, 4ull << 30},
        {"512M", 0, 512ull << 20},
        {"64GiB", 0, 64ull << 30},
        {"64GB", 0, 64ull << 30},
        {"1T", 0, 1ull << 40},
        {"1t", 0, 1ull << 40},
        {"100", 0, 100},
        {"100", 'M', 100ull << 20},
        {"100", 'G', 100ull << 30},
        {"2048K", 'G', 2ull << 20},
        {"0", 0, 0},
        {"16777215T", 0, 16777215ull << 40}, /* largest that fits */
        {"18446744073709551615", 0, G_MAXUINT64},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        uint64_t b = 12345;
        if (!vd_size_parse(cases[i].text, cases[i].default_unit, &b, &err))
            g_error("\"%s\": %s", cases[i].text, err->message);
        g_assert_cmpuint(b, ==, cases[i].bytes);
    }
}

static void test_size_parse_bad(void)
{
    static const char *const bad[] = {
        "", "G", "4X", "-1", "99999999999T", "16777216T", "18446744073709551616", " 4G",
        "4 G", "4GX", "4iB", "4.5G", "0x10", "+4G", "4GiBB",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        uint64_t b = 777;
        if (vd_size_parse(bad[i], 0, &b, &err))
            g_error("\"%s\" was accepted as %" G_GUINT64_FORMAT, bad[i], b);
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        g_assert_cmpuint(b, ==, 777); /* untouched on failure */
        g_assert_nonnull(strstr(err->message, bad[i]));
    }
    g_autoptr(GError) err = NULL;
    uint64_t b;
    g_assert_false(vd_size_parse("99999999999T", 0, &b, &err));
    g_assert_nonnull(strstr(err->message, "too large"));
    g_clear_error(&err);
    g_assert_false(vd_size_parse(NULL, 'M', &b, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
}

static void test_size_format(void)
{
    static const struct {
        uint64_t bytes;
        const char *text;
    } cases[] = {
        {4ull << 30, "4G"},      {1536ull << 20, "1536M"}, {512ull << 10, "512K"},
        {100, "100"},            {0, "0"},                 {1ull << 40, "1T"},
        {1ull << 50, "1024T"},   {1025, "1025"},           {(4ull << 30) + 1024, "4194305K"},
        {64ull << 30, "64G"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *s = vd_size_format(cases[i].bytes);
        g_assert_cmpstr(s, ==, cases[i].text);
        /* What we print, we read back. */
        uint64_t back = 0;
        g_assert_true(vd_size_parse(s, 0, &back, NULL));
        g_assert_cmpuint(back, ==, cases[i].bytes);
    }
}

/* --- vd_file_write_atomic / vd_keyfile_save --- */

static unsigned file_mode(const char *path)
{
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    return st.st_mode & 07777;
}

static void test_write_atomic(void)
{
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *path = g_build_filename(dir, "vm.conf", NULL);
    g_autoptr(GError) err = NULL;
    static const char data[] = "line1\nbinary\0tail";

    g_assert_true(vd_file_write_atomic(path, data, sizeof(data) - 1, 0600, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(file_mode(path), ==, 0600);
    g_autofree char *got = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpmem(got, len, data, sizeof(data) - 1);

    /* Replacing a looser file: new content, and the new file is 0600. */
    g_assert_cmpint(chmod(path, 0644), ==, 0);
    g_assert_true(vd_file_write_atomic(path, "second", -1, 0600, &err));
    g_assert_cmpuint(file_mode(path), ==, 0600);
    g_clear_pointer(&got, g_free);
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpstr(got, ==, "second");

    /* No temporary file is left beside it. */
    GDir *d = g_dir_open(dir, 0, NULL);
    int n = 0;
    while (g_dir_read_name(d))
        n++;
    g_dir_close(d);
    g_assert_cmpint(n, ==, 1);

    /* A folder that does not exist: an error, not a crash. */
    g_autofree char *missing = g_build_filename(dir, "no", "such", "file", NULL);
    g_assert_false(vd_file_write_atomic(missing, "x", 1, 0600, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);

    /* vd_keyfile_save writes 0600 too. */
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, "g", "k", "v;w");
    g_autofree char *kpath = g_build_filename(dir, "state", NULL);
    g_assert_true(vd_keyfile_save(kf, kpath, &err));
    g_assert_cmpuint(file_mode(kpath), ==, 0600);
    g_autoptr(GKeyFile) back = g_key_file_new();
    g_assert_true(g_key_file_load_from_file(back, kpath, G_KEY_FILE_NONE, NULL));
    g_autofree char *v = g_key_file_get_string(back, "g", "k", NULL);
    g_assert_cmpstr(v, ==, "v;w");
    tu_rm_rf(dir);
}

/* --- vd_mkdir_private --- */

static void test_mkdir_private(void)
{
    g_autofree char *dir = tu_tmpdir();
    g_autoptr(GError) err = NULL;
    mode_t old_umask = umask(022);

    /* Missing parents are created; the last component gets 0700. */
    g_autofree char *deep = g_build_filename(dir, "a", "b", "c", NULL);
    g_assert_true(vd_mkdir_private(deep, &err));
    g_assert_no_error(err);
    g_assert_true(g_file_test(deep, G_FILE_TEST_IS_DIR));
    g_assert_cmpuint(file_mode(deep), ==, 0700);
    /* Again: an existing private folder is fine. */
    g_assert_true(vd_mkdir_private(deep, &err));

    /* An existing 0755 folder is tightened. */
    g_autofree char *loose = g_build_filename(dir, "loose", NULL);
    g_assert_cmpint(mkdir(loose, 0755), ==, 0);
    g_assert_cmpint(chmod(loose, 0755), ==, 0);
    g_assert_true(vd_mkdir_private(loose, &err));
    g_assert_cmpuint(file_mode(loose), ==, 0700);

    /* A file, or a symlink to a folder, is refused. */
    g_autofree char *file = g_build_filename(dir, "file", NULL);
    tu_write_file(file, "x");
    g_assert_false(vd_mkdir_private(file, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, file));
    g_clear_error(&err);
    g_autofree char *link = g_build_filename(dir, "link", NULL);
    g_assert_cmpint(symlink(loose, link), ==, 0);
    g_assert_false(vd_mkdir_private(link, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_cmpuint(file_mode(loose), ==, 0700);

    umask(old_umask);
    tu_rm_rf(dir);
}

/* --- vd_error_exit_status --- */

static void test_exit_status(void)
{
    static const struct {
        int code;
        int status;
    } vd[] = {
        {VD_ERROR_FAILED, 1},  {VD_ERROR_INVALID, 2},  {VD_ERROR_NOT_FOUND, 3},
        {VD_ERROR_EXISTS, 2},  {VD_ERROR_STATE, 4},    {VD_ERROR_TIMEOUT, 5},
        {VD_ERROR_VM, 6},      {VD_ERROR_PROTOCOL, 6}, {VD_ERROR_NO_SPACE, 7},
        {999, 1},
    };
    g_assert_cmpint(vd_error_exit_status(NULL), ==, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(vd); i++) {
        g_autoptr(GError) e = g_error_new_literal(VD_ERROR, vd[i].code, "x");
        g_assert_cmpint(vd_error_exit_status(e), ==, vd[i].status);
    }
    const struct {
        GQuark domain;
        int code;
        int status;
    } other[] = {
        {G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, 2},
        {G_IO_ERROR, G_IO_ERROR_NO_SPACE, 7},
        {G_FILE_ERROR, G_FILE_ERROR_NOSPC, 7},
        {G_IO_ERROR, G_IO_ERROR_TIMED_OUT, 5},
        {G_IO_ERROR, G_IO_ERROR_NOT_FOUND, 1},
        {G_FILE_ERROR, G_FILE_ERROR_NOENT, 1},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(other); i++) {
        g_autoptr(GError) e = g_error_new_literal(other[i].domain, other[i].code, "x");
        g_assert_cmpint(vd_error_exit_status(e), ==, other[i].status);
    }
    g_assert_cmpstr(g_quark_to_string(VD_ERROR), ==, "VdError");
}

/* An error worded for front ends: the command line's message unchanged, the
 * field and plain text beside it, kept by a copy and a prefix; none on other
 * errors. */
static void test_error_worded(void)
{
    g_autoptr(GError) e = NULL;
    vd_error_set_worded(&e, VD_ERROR_INVALID, "keyboard", "\"x\" is no keyboard",
                        "--keyboard %s", "\"x\" is no keyboard");
    g_assert_error(e, VD_ERROR, VD_ERROR_INVALID);
    g_assert_cmpstr(e->message, ==, "--keyboard \"x\" is no keyboard");
    g_assert_cmpstr(vd_error_field(e), ==, "keyboard");
    g_assert_cmpstr(vd_error_plain(e), ==, "\"x\" is no keyboard");
    g_autoptr(GError) copy = g_error_copy(e);
    g_assert_cmpstr(vd_error_field(copy), ==, "keyboard");
    g_assert_cmpstr(vd_error_plain(copy), ==, "\"x\" is no keyboard");
    vd_error_prefix(&e, "%s: ", "win");
    g_assert_cmpstr(e->message, ==, "win: --keyboard \"x\" is no keyboard");
    g_assert_cmpstr(vd_error_plain(e), ==, "win: \"x\" is no keyboard");
    vd_error_set_worded(NULL, VD_ERROR_INVALID, "f", "p", "m");

    g_autoptr(GError) plain = g_error_new_literal(VD_ERROR, VD_ERROR_FAILED, "m");
    g_assert_null(vd_error_field(plain));
    g_assert_null(vd_error_plain(plain));
    g_autoptr(GError) io = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED, "m");
    g_assert_null(vd_error_field(io));
    g_assert_null(vd_error_plain(io));
    vd_error_prefix(&io, "a: ");
    g_assert_cmpstr(io->message, ==, "a: m");
    g_assert_null(vd_error_field(NULL));
}

/* An error as a command writes it on stderr: the message line alone, as it
 * always was; on a front end's words pipe, each line of the message, the
 * field and the plain text after its prefix. */
static void test_error_lines(void)
{
    g_autoptr(GError) e = NULL;
    vd_error_set_worded(&e, VD_ERROR_INVALID, "keyboard", "\"x\" is no keyboard\nsee the list",
                        "--keyboard \"x\" is no keyboard");
    g_autofree char *cli = vd_error_lines(e, FALSE);
    g_assert_cmpstr(cli, ==, "vmdesk: error: --keyboard \"x\" is no keyboard\n");
    g_autofree char *words = vd_error_lines(e, TRUE);
    g_assert_cmpstr(words, ==,
                    "vmdesk: error: --keyboard \"x\" is no keyboard\n"
                    "vmdesk: error-field: keyboard\n"
                    "vmdesk: error-plain: \"x\" is no keyboard\n"
                    "vmdesk: error-plain: see the list\n");
    /* Without words to add: on stderr a message's own lines stay as they
     * are; on the pipe each has the prefix, so that a line of it (a log's
     * tail) never poses as a field or plain line. */
    g_autoptr(GError) other = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED,
                                                  "a\nvmdesk: error-plain: b");
    g_autofree char *o1 = vd_error_lines(other, TRUE), *o2 = vd_error_lines(other, FALSE);
    g_assert_cmpstr(o1, ==, "vmdesk: error: a\nvmdesk: error: vmdesk: error-plain: b\n");
    g_assert_cmpstr(o2, ==, "vmdesk: error: a\nvmdesk: error-plain: b\n");
}

/* --- vd_run / vd_run_check --- */

static void test_run_status(void)
{
    const char *argv[] = {"sh", "-c", "exit 3", NULL};
    VdRunResult r;
    g_autoptr(GError) err = NULL;
    g_assert_true(vd_run(argv, 5000, &r, &err));
    g_assert_no_error(err);
    g_assert_true(WIFEXITED(r.wait_status));
    g_assert_cmpint(WEXITSTATUS(r.wait_status), ==, 3);
    g_assert_false(r.timed_out);
    g_assert_cmpstr(r.output, ==, "");
    vd_run_result_clear(&r);
    g_assert_null(r.output);

    const char *ok[] = {"true", NULL};
    g_assert_true(vd_run(ok, 5000, &r, &err));
    g_assert_true(WIFEXITED(r.wait_status));
    g_assert_cmpint(WEXITSTATUS(r.wait_status), ==, 0);
    vd_run_result_clear(&r);

    const char *sig[] = {"sh", "-c", "kill -TERM $$", NULL};
    g_assert_true(vd_run(sig, 5000, &r, &err));
    g_assert_true(WIFSIGNALED(r.wait_status));
    g_assert_cmpint(WTERMSIG(r.wait_status), ==, SIGTERM);
    g_autofree char *how = vd_describe_wait_status(r.wait_status);
    g_assert_cmpstr(how, ==, "was killed by signal 15 (Terminated)");
    vd_run_result_clear(&r);
}

static void test_run_output(void)
{
    /* stdout and stderr, interleaved in the order written. */
    const char *argv[] = {"sh", "-c", "echo out1; echo err1 >&2; echo out2", NULL};
    VdRunResult r;
    g_assert_true(vd_run(argv, 5000, &r, NULL));
    g_assert_cmpstr(r.output, ==, "out1\nerr1\nout2\n");
    vd_run_result_clear(&r);

    /* stdin is /dev/null: cat ends at once with nothing. */
    const char *cat[] = {"cat", NULL};
    g_assert_true(vd_run(cat, 5000, &r, NULL));
    g_assert_false(r.timed_out);
    g_assert_cmpstr(r.output, ==, "");
    vd_run_result_clear(&r);

    /* Output is capped at 1 MiB; the child still runs to its end. */
    const char *big[] = {"sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x; exit 4", NULL};
    g_assert_true(vd_run(big, 10000, &r, NULL));
    g_assert_cmpuint(strlen(r.output), ==, 1u << 20);
    g_assert_true(WIFEXITED(r.wait_status));
    g_assert_cmpint(WEXITSTATUS(r.wait_status), ==, 4);
    vd_run_result_clear(&r);

    /* The child gets no fds of ours beyond 0-2. */
    int fd = dup(1);
    g_assert_cmpint(fd, >, 2);
    g_autofree char *script = g_strdup_printf("test -e /proc/self/fd/%d && echo leaked", fd);
    const char *fds[] = {"sh", "-c", script, NULL};
    g_assert_true(vd_run(fds, 5000, &r, NULL));
    g_assert_cmpstr(r.output, ==, "");
    vd_run_result_clear(&r);
    close(fd);
}

static void test_run_timeout(void)
{
    const char *argv[] = {"sleep", "10", NULL};
    VdRunResult r;
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(vd_run(argv, 300, &r, NULL));
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_true(r.timed_out);
    g_assert_cmpint(ms, >=, 290);
    g_assert_cmpint(ms, <, 2000);
    g_assert_true(WIFSIGNALED(r.wait_status));
    g_assert_cmpint(WTERMSIG(r.wait_status), ==, SIGKILL);
    vd_run_result_clear(&r);

    g_autoptr(GError) err = NULL;
    t0 = g_get_monotonic_time();
    g_assert_false(vd_run_check(argv, 300, "waiting", &err));
    g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, <, 2000);
    g_assert_error(err, VD_ERROR, VD_ERROR_FAILED);
    g_assert_true(g_str_has_prefix(err->message, "waiting failed: sleep did not finish"));
}

static void test_run_missing(void)
{
    const char *argv[] = {"vmdesk-no-such-program-xyz", "--help", NULL};
    VdRunResult r;
    g_autoptr(GError) err = NULL;
    g_assert_false(vd_run(argv, 1000, &r, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, "vmdesk-no-such-program-xyz"));
    g_clear_error(&err);
    const char *abs[] = {"/nonexistent/bin/tool", NULL};
    g_assert_false(vd_run(abs, 1000, &r, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_clear_error(&err);
    g_assert_false(vd_run_check(argv, 1000, "probing", &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
}

static void test_run_check(void)
{
    g_autoptr(GError) err = NULL;
    const char *ok[] = {"sh", "-c", "echo fine", NULL};
    g_assert_true(vd_run_check(ok, 5000, "saying fine", &err));
    g_assert_no_error(err);

    const char *bad[] = {"sh", "-c", "echo first; echo 'disk full' >&2; exit 2", NULL};
    g_assert_false(vd_run_check(bad, 5000, "qemu-img create", &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_FAILED);
    g_assert_cmpstr(err->message, ==,
                    "qemu-img create failed: sh exited with status 2: \"first\\ndisk full\"");
    g_clear_error(&err);

    const char *quiet[] = {"false", NULL};
    g_assert_false(vd_run_check(quiet, 5000, "false", &err));
    g_assert_cmpstr(err->message, ==, "false failed: false exited with status 1");
}

static void test_describe_wait_status(void)
{
    g_autofree char *a = vd_describe_wait_status(3 << 8);
    g_assert_cmpstr(a, ==, "exited with status 3");
    g_autofree char *b = vd_describe_wait_status(SIGKILL);
    g_assert_cmpstr(b, ==, "was killed by signal 9 (Killed)");
    g_autofree char *c = vd_describe_wait_status(-1);
    g_assert_cmpstr(c, ==, "was not reaped");
}

static void test_json_build(void)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    vd_json_add_string_or_null(b, "a", "x\"y");
    vd_json_add_string_or_null(b, "b", NULL);
    json_builder_end_object(b);
    g_autofree char *text = vd_json_builder_to_string(b);
    g_assert_cmpstr(text, ==, "{\"a\":\"x\\\"y\",\"b\":null}");
    g_autoptr(JsonNode) n = json_from_string("[1]", NULL);
    g_autofree char *pretty = vd_json_node_to_string(n, TRUE);
    g_assert_cmpstr(pretty, ==, "[\n  1\n]");
}

/* --- vd_text_*: outside text in messages --- */

static void test_text_find_control(void)
{
    g_assert_null(vd_text_find_control(""));
    g_assert_null(vd_text_find_control("plain text, caf\xc3\xa9 \xf0\x9f\x98\x80 ~"));
    const char *vt = "\v8080:80";
    g_assert_true(vd_text_find_control(vt) == vt);
    const char *del = "ab\x7f";
    g_assert_true(vd_text_find_control(del) == del + 2);
    g_assert_nonnull(vd_text_find_control("a\tb"));
    g_assert_nonnull(vd_text_find_control("a\x1b[31m"));
    /* Bytes of UTF-8 characters are not control characters. */
    g_assert_null(vd_text_find_control("\xc2\xa0\xe2\x80\xa6"));
}

static void test_text_cut(void)
{
    g_assert_cmpuint(vd_text_cut("abc", 3, 200), ==, 3);
    g_assert_cmpuint(vd_text_cut("abcdef", 6, 4), ==, 4);
    /* A 4-byte character is never split: it stays whole or goes. */
    GString *s = g_string_new(NULL);
    for (gsize before = 190; before <= 200; before++) {
        g_string_truncate(s, 0);
        for (gsize i = 0; i < before; i++)
            g_string_append_c(s, 'a');
        g_string_append(s, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"); /* U+1F600 */
        gsize want = before;
        while (want + 4 <= 200)
            want += 4;
        gsize cut = vd_text_cut(s->str, s->len, 200);
        g_assert_cmpuint(cut, ==, want);
        g_assert_true(g_utf8_validate(s->str, (gssize)cut, NULL));
    }
    g_string_free(s, TRUE);
    g_assert_cmpuint(vd_text_char_len("a", 1), ==, 1);
    g_assert_cmpuint(vd_text_char_len("\xc3\xa9z", 3), ==, 2);
    g_assert_cmpuint(vd_text_char_len("\xf0\x9f\x98\x80", 4), ==, 4);
    g_assert_cmpuint(vd_text_char_len("\xf0\x9f\x98\x80", 3), ==, 1); /* cut short */
    g_assert_cmpuint(vd_text_char_len("\xff", 1), ==, 1);
    /* 2- and 3-byte characters at the edge. */
    g_assert_cmpuint(vd_text_cut("a\xc3\xa9", 3, 2), ==, 1);
    g_assert_cmpuint(vd_text_cut("a\xe2\x80\xa6", 4, 3), ==, 1);
    /* Invalid bytes count one each; a truncated sequence is bytes too. */
    g_assert_cmpuint(vd_text_cut("\xff\xfe\xfd", 3, 2), ==, 2);
    g_assert_cmpuint(vd_text_cut("a\xf0\x9f\x98", 4, 3), ==, 3);
}

static void test_text_quote(void)
{
    static const struct {
        const char *in;
        gssize len;
        const char *out;
    } cases[] = {
        {"plain", -1, "\"plain\""},
        {"", -1, "\"\""},
        {"\v8080:80", -1, "\"\\x0b8080:80\""},
        {"a\nb\tc\rd\x1b[31m\x7f", -1, "\"a\\nb\\tc\\rd\\x1b[31m\\x7f\""},
        {"say \"hi\" C:\\x", -1, "\"say \\\"hi\\\" C:\\\\x\""},
        {"caf\xc3\xa9 \xf0\x9f\x98\x80", -1, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
        /* invalid UTF-8: a lone continuation byte, a cut sequence, an
         * overlong '/', a surrogate, 0xff */
        {"a\x80z", -1, "\"a\\x80z\""},
        {"\xc3(", -1, "\"\\xc3(\""},
        {"\xc0\xaf", -1, "\"\\xc0\\xaf\""},
        {"\xed\xa0\x80", -1, "\"\\xed\\xa0\\x80\""},
        {"\xff", -1, "\"\\xff\""},
        /* C1 control characters (CSI) */
        {"\xc2\x9b" "2J", -1, "\"\\u009b2J\""},
        /* a NUL inside the given length */
        {"a\0b", 3, "\"a\\x00b\""},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *q = vd_text_quote(cases[i].in, cases[i].len);
        if (strcmp(q, cases[i].out))
            g_error("quote #%zu: got %s, want %s", i, q, cases[i].out);
    }
    g_autofree char *none = vd_text_quote(NULL, -1);
    g_assert_cmpstr(none, ==, "(none)");
}

/* Whatever comes in, what goes out is short, valid UTF-8 without control
 * characters, and shows the input's beginning up to a character boundary. */
static void assert_quote_safe(const char *in, gsize len)
{
    g_autofree char *q = vd_text_quote(in, (gssize)len);
    g_assert_true(g_utf8_validate(q, -1, NULL));
    g_assert_null(vd_text_find_control(q));
    for (const char *p = q; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        g_assert_false(c >= 0x80 && c < 0xa0);
    }
    /* Each shown byte takes at most 4 ("\xNN"), plus quotes and the tail. */
    g_assert_cmpuint(strlen(q), <=, 4 * VD_TEXT_QUOTE_MAX + 64);
    if (len > VD_TEXT_QUOTE_MAX) {
        g_autofree char *tail = g_strdup_printf("\"\u2026 (%zu bytes)", len);
        g_assert_true(g_str_has_suffix(q, tail));
    }
}

static void test_text_quote_hostile(void)
{
    /* 1 MiB of text with a 4-byte character across the cut. */
    gsize big = 1u << 20;
    char *text = g_malloc(big + 1);
    memset(text, 'x', big);
    text[big] = 0;
    memcpy(text + 198, "\xf0\x9f\x98\x80", 4);
    g_autofree char *q = vd_text_quote(text, -1);
    g_autofree char *want = g_strdup_printf("\"%.198s\"\u2026 (1048576 bytes)", text);
    g_assert_cmpstr(q, ==, want);
    assert_quote_safe(text, big);
    /* 1 MiB of random bytes, and many short random strings. */
    for (gsize i = 0; i < big; i++)
        text[i] = (char)g_test_rand_int_range(0, 256);
    assert_quote_safe(text, big);
    for (int round = 0; round < 2000; round++) {
        gsize len = (gsize)g_test_rand_int_range(0, 260);
        for (gsize i = 0; i < len; i++)
            text[i] = (char)g_test_rand_int_range(0, 256);
        assert_quote_safe(text, len);
    }
    g_free(text);
}

/* --- vd_json_check_strict --- */

static const char *check_strict(const char *s, int max_depth)
{
    return vd_json_check_strict(s, strlen(s), max_depth);
}

static void test_json_check_strict(void)
{
    g_assert_null(check_strict("{\"a\":[1,{\"b\":\"\\u00e9\"}]}\n", 3));
    g_assert_cmpstr(check_strict("{\"a\":[1,{\"b\":2}]}", 2), ==, "it is nested too deeply");
    g_assert_nonnull(check_strict("{} {}", 4));
    g_assert_nonnull(check_strict("]]][[[", 4));
    g_assert_nonnull(check_strict("{'a':1}", 4));
    g_assert_nonnull(check_strict("[\"\\u12\"]", 4));
    /* 4 million brackets: refused at the limit, in constant stack. */
    gsize n = 4u << 20;
    char *deep = g_malloc(n);
    memset(deep, '[', n);
    g_assert_cmpstr(vd_json_check_strict(deep, n, 1024), ==, "it is nested too deeply");
    g_free(deep);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/common/fd/peer-is-local", test_peer_is_local);
    g_test_add_func("/common/json/build", test_json_build);
    g_test_add_func("/common/json/check-strict", test_json_check_strict);
    g_test_add_func("/common/text/find-control", test_text_find_control);
    g_test_add_func("/common/text/cut", test_text_cut);
    g_test_add_func("/common/text/quote", test_text_quote);
    g_test_add_func("/common/text/quote-hostile", test_text_quote_hostile);
    g_test_add_func("/common/name/accept", test_name_accept);
    g_test_add_func("/common/name/reject", test_name_reject);
    g_test_add_func("/common/size/parse-good", test_size_parse_good);
    g_test_add_func("/common/size/parse-bad", test_size_parse_bad);
    g_test_add_func("/common/size/format", test_size_format);
    g_test_add_func("/common/file/write-atomic", test_write_atomic);
    g_test_add_func("/common/file/mkdir-private", test_mkdir_private);
    g_test_add_func("/common/error/exit-status", test_exit_status);
    g_test_add_func("/common/error/worded", test_error_worded);
    g_test_add_func("/common/error/lines", test_error_lines);
    g_test_add_func("/common/run/status", test_run_status);
    g_test_add_func("/common/run/output", test_run_output);
    g_test_add_func("/common/run/timeout", test_run_timeout);
    g_test_add_func("/common/run/missing", test_run_missing);
    g_test_add_func("/common/run/check", test_run_check);
    g_test_add_func("/common/run/describe", test_describe_wait_status);
    return g_test_run();
}
