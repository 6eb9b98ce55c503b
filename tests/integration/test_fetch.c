/* integration-fetch: `vmdesk fetch` against real HTTP servers on 127.0.0.1
 * (fetch_servers.h): nginx serving a 64 MiB random file at full speed, under
 * `limit_rate` and over TLS with a self-signed certificate; python3's
 * http.server, which ignores Range; a stream without a Content-Length.
 * Covers a full verified download, parallel byte ranges (nginx's access
 * log), resume after `kill -9`, the progress bar on a pty (none off a
 * terminal), Ctrl-C, a wrong checksum, a changed remote file, HTTP 404,
 * connection refused, a server that never answers (timeout after 60 s),
 * non-HTTP schemes, a damaged state file beside a .part (refused, both kept),
 * HTTPS without a trusted certificate
 * (refused), a server without ranges, a full disk (a 16 MiB tmpfs mounted
 * here: needs root) before writing and while writing a stream, and the
 * catalog through VMDESK_FETCH_MIRROR. Each case tags its URL with
 * ?case=NAME so its lines in the access log can be told apart. The servers
 * die with the test; the tmpfs is unmounted even when an assertion fails. */
#include "fetch/fetch.h"
#include "fetch/fetch_catalog.h"
#include "fetch/fetch_priv.h"
#include "fetch_servers.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG_SIZE (64u << 20)

static char *root;      /* everything of this test */
static char *www;       /* the servers' document root */
static char big_sha[65];
static FetchServers srv;
static char *mnt;       /* the tmpfs mount point while mounted, else NULL */

/* ---- helpers ---- */

typedef struct {
    int status;
    char *out;
    char *err;
} Run;

static void run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
}

/* vmdesk with @args (NULL-terminated); @mirror sets VMDESK_FETCH_MIRROR. */
static Run vmdesk(const char *mirror, const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)g_getenv("VMDESK_BIN"));
    g_ptr_array_add(argv, "fetch");
    for (int i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) env = g_get_environ();
    env = mirror ? g_environ_setenv(env, "VMDESK_FETCH_MIRROR", mirror, TRUE)
                 : g_environ_unsetenv(env, "VMDESK_FETCH_MIRROR");
    Run r = {0};
    int wait = 0;
    g_autoptr(GError) err = NULL;
    g_spawn_sync(root, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err,
                 &wait, &err);
    g_assert_no_error(err);
    r.status = WIFEXITED(wait) ? WEXITSTATUS(wait) : 128 + WTERMSIG(wait);
    g_autofree char *line = g_strjoinv(" ", (char **)argv->pdata + 1);
    g_test_message("vmdesk %s -> %d\n%s%s", line, r.status, r.out, r.err);
    g_ptr_array_free(argv, TRUE);
    return r;
}
#define VMDESK(mirror, ...) vmdesk(mirror, (const char *const[]){__VA_ARGS__, NULL})

static char *url(unsigned port, const char *path, const char *tag)
{
    return g_strdup_printf("http://127.0.0.1:%u/%s?case=%s", port, path, tag);
}

/* A fresh output folder for one case. */
static char *out_dir(const char *tag)
{
    char *d = g_build_filename(root, "out", tag, NULL);
    g_assert_cmpint(g_mkdir_with_parents(d, 0755), ==, 0);
    return d;
}

static bool exists(const char *dir, const char *name)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    return g_file_test(p, G_FILE_TEST_EXISTS);
}

static void assert_sha(const char *dir, const char *name, const char *sha)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    char have[65];
    g_autoptr(GError) err = NULL;
    g_assert_true(fetch_sha256_file(p, have, &err));
    g_assert_cmpstr(have, ==, sha);
}

typedef struct {
    int status;
    char range[64];   /* "bytes=A-B" or "-" */
    uint64_t start;   /* of the range, 0 without one */
    uint64_t bytes;   /* body bytes sent */
} LogLine;

/* The access log's lines for ?case=@tag, oldest first. */
static GArray *log_lines(const char *tag)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(LogLine));
    g_autofree char *text = NULL;
    g_file_get_contents(srv.access_log, &text, NULL, NULL);
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    g_autofree char *needle = g_strdup_printf("?case=%s ", tag);
    for (char **l = lines; *l; l++) {
        if (!strstr(*l, needle))
            continue;
        LogLine x = {0};
        char method[16];
        char uri[512];
        unsigned long long bytes = 0;
        if (sscanf(*l, "%15s %511s %d \"%63[^\"]\" %llu", method, uri, &x.status, x.range,
                   &bytes) != 5)
            continue;
        x.bytes = bytes;
        unsigned long long s = 0;
        if (sscanf(x.range, "bytes=%llu-", &s) == 1)
            x.start = s;
        g_array_append_val(a, x);
    }
    return a;
}

static uint64_t log_bytes(GArray *lines)
{
    uint64_t n = 0;
    for (guint i = 0; i < lines->len; i++)
        n += g_array_index(lines, LogLine, i).bytes;
    return n;
}

/* ---- cases ---- */

static void test_full(void)
{
    g_autofree char *dir = out_dir("full");
    g_autofree char *u = url(srv.nginx_port, "big.bin", "full");
    Run r = VMDESK(NULL, u, "--sha256", big_sha, "-o", dir);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "verified"));
    g_assert_null(strchr(r.err, '\r')); /* no progress bar off a terminal */
    assert_sha(dir, "big.bin", big_sha);
    g_assert_false(exists(dir, "big.bin.part"));
    g_assert_false(exists(dir, "big.bin.part.json"));
    run_clear(&r);

    /* Again: the file is there with the right digest. */
    r = VMDESK(NULL, u, "--sha256", big_sha, "-o", dir);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "already downloaded"));
    run_clear(&r);
    /* Without a digest there is nothing to compare: refused, file untouched. */
    r = VMDESK(NULL, u, "-o", dir);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "already exists"));
    assert_sha(dir, "big.bin", big_sha);
    run_clear(&r);
}

static void test_parallel(void)
{
    g_autofree char *dir = out_dir("parallel");
    g_autofree char *u = url(srv.nginx_port, "big.bin", "parallel");
    Run r = VMDESK(NULL, u, "--sha256", big_sha, "--connections", "4", "-o", dir);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "4 connections"));
    assert_sha(dir, "big.bin", big_sha);
    run_clear(&r);
    g_autoptr(GArray) lines = log_lines("parallel");
    guint ranges = 0;
    for (guint i = 0; i < lines->len; i++) {
        LogLine *l = &g_array_index(lines, LogLine, i);
        g_assert_cmpint(l->status, ==, 206);
        if (strcmp(l->range, "bytes=0-0"))
            ranges++;
    }
    g_test_message("%u range requests", ranges);
    g_assert_cmpuint(ranges, >=, 4);
    /* Every byte once (the probe's one byte aside). */
    g_assert_cmpuint(log_bytes(lines), ==, BIG_SIZE + 1);
}

static uint64_t state_done_bytes(const char *state_path)
{
    FetchState st;
    fetch_state_init(&st);
    uint64_t n = fetch_state_load(state_path, &st, NULL) ? fetch_ranges_total(st.done) : 0;
    fetch_state_clear(&st);
    return n;
}

static void test_resume(void)
{
    g_autofree char *dir = out_dir("resume");
    g_autofree char *u = url(srv.nginx_port, "slow/big.bin", "resume");
    g_autofree char *state = g_build_filename(dir, "big.bin.part.json", NULL);
    g_autoptr(GSubprocessLauncher) l =
        tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_autoptr(GError) err = NULL;
    /* One rate-limited connection: 8 s for the whole file; killed at 8+ MiB. */
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawn(
        l, &err, g_getenv("VMDESK_BIN"), "fetch", u, "--sha256", big_sha, "--connections", "1",
        "-o", dir, NULL);
    g_assert_no_error(err);
    uint64_t done = 0;
    for (int i = 0; i < 300 && done < (8u << 20); i++) {
        g_usleep(50 * 1000);
        done = state_done_bytes(state);
    }
    g_assert_cmpuint(done, >=, 8u << 20);
    g_subprocess_force_exit(p); /* SIGKILL */
    g_subprocess_wait(p, NULL, NULL);
    g_assert_true(g_subprocess_get_if_signaled(p));
    g_assert_cmpint(g_subprocess_get_term_sig(p), ==, SIGKILL);
    g_assert_false(exists(dir, "big.bin"));
    g_assert_true(exists(dir, "big.bin.part"));
    done = state_done_bytes(state);
    g_test_message("killed with %" G_GUINT64_FORMAT " bytes recorded", done);
    g_assert_cmpuint(done, <, BIG_SIZE);

    /* nginx logs the cut request once it notices the closed connection. */
    guint before = 0;
    for (int i = 0; i < 100 && before < 2; i++) {
        g_autoptr(GArray) lines = log_lines("resume");
        before = lines->len;
        if (before < 2)
            g_usleep(50 * 1000);
    }
    g_assert_cmpuint(before, ==, 2); /* the probe and the one cut data request */

    Run r = VMDESK(NULL, u, "--sha256", big_sha, "--connections", "4", "-o", dir);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.err, "resuming"));
    assert_sha(dir, "big.bin", big_sha);
    g_assert_false(exists(dir, "big.bin.part"));
    g_assert_false(exists(dir, "big.bin.part.json"));
    run_clear(&r);

    g_autoptr(GArray) lines = log_lines("resume");
    uint64_t first_start = UINT64_MAX;
    for (guint i = before; i < lines->len; i++) {
        LogLine *x = &g_array_index(lines, LogLine, i);
        g_assert_cmpint(x->status, ==, 206);
        if (strcmp(x->range, "bytes=0-0"))
            first_start = MIN(first_start, x->start);
    }
    g_test_message("rerun: %u requests, lowest range start %" G_GUINT64_FORMAT
                   ", all requests sent %" G_GUINT64_FORMAT " bytes",
                   lines->len - before, first_start, log_bytes(lines));
    /* The rerun asked only for what was missing... */
    g_assert_cmpuint(first_start, >=, done);
    g_assert_cmpuint(first_start, >, 0);
    /* ...so both runs together moved well under twice the file. */
    g_assert_cmpuint(log_bytes(lines), <, BIG_SIZE + BIG_SIZE / 2);
}

/* On a terminal (a pty as stderr): a bar with percent, bytes, rate and ETA,
 * redrawn at most about 5 times a second. */
static void test_progress(void)
{
    g_autofree char *dir = out_dir("progress");
    g_autofree char *u = url(srv.nginx_port, "slow/big.bin", "progress");
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    g_assert_cmpint(master, >=, 0);
    g_assert_cmpint(grantpt(master), ==, 0);
    g_assert_cmpint(unlockpt(master), ==, 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    g_assert_cmpint(slave, >=, 0);
    GSubprocessLauncher *l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_subprocess_launcher_take_stderr_fd(l, slave);
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawn(
        l, &err, g_getenv("VMDESK_BIN"), "fetch", u, "--connections", "4", "-o", dir, NULL);
    g_object_unref(l); /* closes our copy of the pty's slave side */
    g_assert_no_error(err);
    GString *text = g_string_new(NULL);
    char buf[4096];
    for (;;) {
        struct pollfd pfd = {.fd = master, .events = POLLIN};
        if (poll(&pfd, 1, 30000) <= 0)
            break;
        ssize_t n = read(master, buf, sizeof(buf));
        if (n <= 0)
            break; /* EIO once vmdesk, the last holder of the slave, ended */
        g_string_append_len(text, buf, n);
    }
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    close(master);
    g_assert_true(tu_subprocess_wait(p, 10000));
    g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
    guint redraws = 0;
    for (const char *q = text->str; (q = strstr(q, "\r\033[K[")); q++)
        redraws++;
    const char *last = g_strrstr(text->str, "\r\033[K[");
    g_test_message("%u redraws in %.1f s; last: %s", redraws, secs, last ? last : "");
    g_assert_nonnull(strstr(text->str, "% "));
    g_assert_nonnull(strstr(text->str, "MiB / 64.0 MiB"));
    g_assert_nonnull(strstr(text->str, "MiB/s"));
    g_assert_nonnull(strstr(text->str, "ETA 0:"));
    g_assert_cmpuint(redraws, >=, 3);
    g_assert_cmpuint(redraws, <=, (guint)(secs * 5) + 2);
    g_string_free(text, TRUE);
    assert_sha(dir, "big.bin", big_sha);
}

/* Ctrl-C: the transfer stops, the state is saved, exit status 130. */
static void test_interrupt(void)
{
    g_autofree char *dir = out_dir("interrupt");
    g_autofree char *u = url(srv.nginx_port, "slow/big.bin", "interrupt");
    g_autofree char *state = g_build_filename(dir, "big.bin.part.json", NULL);
    g_autoptr(GSubprocessLauncher) l =
        tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawn(
        l, &err, g_getenv("VMDESK_BIN"), "fetch", u, "--connections", "2", "-o", dir, NULL);
    g_assert_no_error(err);
    uint64_t done = 0;
    for (int i = 0; i < 300 && done < (4u << 20); i++) {
        g_usleep(50 * 1000);
        done = state_done_bytes(state);
    }
    g_assert_cmpuint(done, >=, 4u << 20);
    /* A second download to the same file while this one runs: refused, and
     * it neither truncates nor removes the first one's .part (another URL
     * would otherwise mean "starting over"). */
    g_autofree char *other = url(srv.nginx_port, "big.bin", "interrupt-other");
    Run r = VMDESK(NULL, other, "-o", dir);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "another vmdesk fetch is writing"));
    run_clear(&r);
    g_assert_cmpuint(state_done_bytes(state), >=, done);
    g_subprocess_send_signal(p, SIGINT);
    g_assert_true(tu_subprocess_wait(p, 10000));
    g_autofree char *text = tu_subprocess_stderr(p);
    g_test_message("%s", text);
    g_assert_true(g_subprocess_get_if_exited(p));
    g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 130);
    g_assert_nonnull(strstr(text, "interrupted"));
    g_assert_false(exists(dir, "big.bin"));
    g_assert_true(exists(dir, "big.bin.part"));
    /* The saved state covers at least what it had before the signal. */
    g_assert_cmpuint(state_done_bytes(state), >=, done);
}

static void test_wrong_checksum_and_change(void)
{
    g_autofree char *dir = out_dir("checksum");
    g_autofree char *file = g_build_filename(www, "small.bin", NULL);
    g_autofree char *u = url(srv.nginx_port, "small.bin", "checksum");
    /* 4 MiB of a pattern; its digest computed here. */
    g_autofree char *data = g_malloc(4 << 20);
    for (guint i = 0; i < (4u << 20); i++)
        data[i] = (char)(i * 7 + 3);
    g_assert_true(g_file_set_contents(file, data, 4 << 20, NULL));
    char sha[65];
    g_assert_true(fetch_sha256_file(file, sha, NULL));
    const char *wrong = "00000000000000000000000000000000000000000000000000000000000000aa";

    Run r = VMDESK(NULL, u, "--sha256", wrong, "-o", dir);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "SHA-256 mismatch"));
    g_assert_nonnull(strstr(r.err, wrong));
    g_assert_nonnull(strstr(r.err, sha));
    g_assert_nonnull(strstr(r.err, "small.bin.part")); /* says where the data went */
    g_assert_false(exists(dir, "small.bin"));
    g_assert_true(exists(dir, "small.bin.part"));
    run_clear(&r);

    /* With the right digest the kept .part is checked again, not downloaded. */
    g_autoptr(GArray) before = log_lines("checksum");
    r = VMDESK(NULL, u, "--sha256", sha, "-o", dir);
    g_assert_cmpint(r.status, ==, 0);
    assert_sha(dir, "small.bin", sha);
    run_clear(&r);
    g_autoptr(GArray) after = log_lines("checksum");
    g_assert_cmpuint(log_bytes(after) - log_bytes(before), ==, 1); /* the probe's byte */

    /* A .part whose file changed on the server (new ETag) starts over. */
    g_autofree char *final = g_build_filename(dir, "small.bin", NULL);
    g_assert_cmpint(g_unlink(final), ==, 0);
    r = VMDESK(NULL, u, "--sha256", wrong, "-o", dir);
    g_assert_cmpint(r.status, ==, 1);
    run_clear(&r);
    for (guint i = 0; i < (4u << 20); i++)
        data[i] = (char)(i * 5 + 1);
    g_usleep(1100 * 1000); /* nginx's ETag has the modification time in seconds */
    g_assert_true(g_file_set_contents(file, data, 4 << 20, NULL));
    g_assert_true(fetch_sha256_file(file, sha, NULL));
    r = VMDESK(NULL, u, "--sha256", sha, "-o", dir);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.err, "starting over"));
    g_assert_nonnull(strstr(r.err, "changed"));
    assert_sha(dir, "small.bin", sha);
    run_clear(&r);
}

/* A damaged state file beside a .part: refused (exit 2) with what to do,
 * and neither file is touched; json-glib never sees the deep nesting. */
static void test_damaged_state(void)
{
    g_autofree char *dir = out_dir("damaged");
    g_autofree char *u = url(srv.nginx_port, "big.bin", "damaged");
    g_autofree char *part = g_build_filename(dir, "big.bin.part", NULL);
    g_autofree char *state = g_build_filename(dir, "big.bin.part.json", NULL);
    g_autofree char *head = g_strdup_printf("{\"url\":\"%s\",\"size\":%u,\"done\":", u, BIG_SIZE);
    g_autofree char *deep_json = tu_deep_json(head, 100000, "}");
    g_autofree char *typed_json = g_strdup_printf(
        "{\"url\":\"%s\",\"size\":%u,\"done\":[[0,1024],[\"a\",{}]]}", u, BIG_SIZE);
    const struct {
        const char *json, *why;
    } cases[] = {
        {deep_json, "nested too deeply"},
        {typed_json, "not a pair of byte offsets"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_true(g_file_set_contents(part, "some downloaded bytes", -1, NULL));
        g_assert_true(g_file_set_contents(state, cases[i].json, -1, NULL));
        Run r = VMDESK(NULL, u, "-o", dir);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_nonnull(strstr(r.err, cases[i].why));
        g_assert_nonnull(strstr(r.err, "Nothing was changed; delete"));
        g_assert_null(strstr(r.err, "CRITICAL"));
        run_clear(&r);
        g_autofree char *part_now = NULL, *state_now = NULL;
        g_assert_true(g_file_get_contents(part, &part_now, NULL, NULL));
        g_assert_true(g_file_get_contents(state, &state_now, NULL, NULL));
        g_assert_cmpstr(part_now, ==, "some downloaded bytes");
        g_assert_cmpstr(state_now, ==, cases[i].json);
        g_assert_false(exists(dir, "big.bin"));
    }
}

static void test_errors(void)
{
    g_autofree char *dir = out_dir("errors");
    g_autofree char *u404 = url(srv.nginx_port, "no-such.iso", "404");
    Run r = VMDESK(NULL, u404, "-o", dir);
    g_assert_cmpint(r.status, ==, 3);
    g_assert_nonnull(strstr(r.err, "404"));
    g_assert_nonnull(strstr(r.err, u404));
    run_clear(&r);

    g_autofree char *refused = g_strdup_printf("http://127.0.0.1:%u/x.iso", fetch_servers_free_port());
    r = VMDESK(NULL, refused, "-o", dir);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "Connection refused"));
    g_assert_nonnull(strstr(r.err, refused));
    run_clear(&r);

    /* HTTPS with a certificate nobody vouches for: refused, nothing written. */
    g_autofree char *tls = g_strdup_printf("https://127.0.0.1:%u/big.bin", srv.tls_port);
    r = VMDESK(NULL, tls, "-o", dir);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "certificate"));
    g_assert_nonnull(strstr(r.err, tls));
    run_clear(&r);

    r = VMDESK(NULL, "ftp://127.0.0.1/x.iso", "-o", dir);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "only http:// and https://"));
    run_clear(&r);
    r = VMDESK(NULL, "file:///etc/passwd", "-o", dir);
    g_assert_cmpint(r.status, ==, 2);
    run_clear(&r);

    g_autofree char *u = url(srv.nginx_port, "big.bin", "errors");
    r = VMDESK(NULL, u, "--connections", "17", "-o", dir);
    g_assert_cmpint(r.status, ==, 2);
    run_clear(&r);
    r = VMDESK(NULL, u, "--sha256", "xyz", "-o", dir);
    g_assert_cmpint(r.status, ==, 2);
    run_clear(&r);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_null(g_dir_read_name(d)); /* nothing written by any of these */
}

/* A server that takes the connection and never answers: after 60 s without
 * a byte, a timeout (exit 5) naming the URL. */
static void test_stall(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g_assert_cmpint(bind(s, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(s, 4), ==, 0); /* the kernel accepts; nobody reads */
    socklen_t len = sizeof(a);
    g_assert_cmpint(getsockname(s, (struct sockaddr *)&a, &len), ==, 0);
    g_autofree char *dir = out_dir("stall");
    g_autofree char *u = g_strdup_printf("http://127.0.0.1:%u/x.iso", ntohs(a.sin_port));
    gint64 t0 = g_get_monotonic_time();
    Run r = VMDESK(NULL, u, "-o", dir);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    close(s);
    g_assert_cmpint(r.status, ==, 5);
    g_assert_nonnull(strstr(r.err, "timed out"));
    g_assert_nonnull(strstr(r.err, u));
    g_assert_cmpfloat(secs, >=, 59);
    g_assert_cmpfloat(secs, <, 90);
    run_clear(&r);
}

static void test_no_ranges(void)
{
    g_autofree char *dir = out_dir("noranges");
    g_autofree char *u = g_strdup_printf("http://127.0.0.1:%u/big.bin", srv.python_port);
    Run r = VMDESK(NULL, u, "--sha256", big_sha, "--connections", "4", "-o", dir);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.err, "one connection"));
    g_assert_nonnull(strstr(r.out, "1 connection;"));
    assert_sha(dir, "big.bin", big_sha);
    run_clear(&r);
}

static void unmount_tmpfs(void)
{
    if (mnt) {
        umount2(mnt, MNT_DETACH);
        g_clear_pointer(&mnt, g_free);
    }
}

static void on_abort(int sig)
{
    if (mnt)
        umount2(mnt, MNT_DETACH);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void test_disk_full(void)
{
    g_autofree char *dir = out_dir("diskfull");
    /* Needs root, as CI and this project's machines run the tests. */
    g_assert_cmpint(geteuid(), ==, 0);
    const char *argv[] = {"mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", dir, NULL};
    int wait = 0;
    g_autoptr(GError) err = NULL;
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &wait,
                 &err);
    g_assert_no_error(err);
    g_assert_true(g_spawn_check_wait_status(wait, NULL));
    mnt = g_strdup(dir);

    g_autofree char *u = url(srv.nginx_port, "big.bin", "diskfull");
    Run r = VMDESK(NULL, u, "--sha256", big_sha, "-o", dir);
    g_assert_cmpint(r.status, ==, 7);
    g_assert_nonnull(strstr(r.err, "not enough disk space"));
    g_assert_nonnull(strstr(r.err, "needs 64.0 MiB"));
    g_assert_nonnull(strstr(r.err, "16.0 MiB"));
    run_clear(&r);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_null(g_dir_read_name(d)); /* nothing left behind */
    /* Nothing but the probe asked the server. */
    g_autoptr(GArray) lines = log_lines("diskfull");
    g_assert_cmpuint(lines->len, ==, 1);

    /* No size announced: no check before; the write that finds the disk full
     * fails clearly, and without ranges nothing is worth keeping. */
    g_autofree char *su = g_strdup_printf("http://127.0.0.1:%u/stream.iso", srv.stream_port);
    r = VMDESK(NULL, su, "-o", dir);
    g_assert_cmpint(r.status, ==, 7);
    g_assert_nonnull(strstr(r.err, "does not say how large"));
    g_assert_nonnull(strstr(r.err, "the disk is full"));
    g_assert_nonnull(strstr(r.err, "deleted"));
    run_clear(&r);
    g_autoptr(GDir) d2 = g_dir_open(dir, 0, NULL);
    g_assert_null(g_dir_read_name(d2));
    unmount_tmpfs();

    /* With room, the same stream arrives whole (its size learnt at the end). */
    g_autofree char *dir2 = out_dir("stream");
    r = VMDESK(NULL, su, "-o", dir2);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "64.0 MiB"));
    run_clear(&r);
    g_autofree char *got = g_build_filename(dir2, "stream.iso", NULL);
    struct stat st;
    g_assert_cmpint(stat(got, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, BIG_SIZE);
}

static void test_catalog_mirror(void)
{
    /* A mirror folder like Debian's: two releases in SHA256SUMS, one file. */
    g_autofree char *mirror_dir = g_build_filename(www, "mirror", NULL);
    g_assert_cmpint(g_mkdir_with_parents(mirror_dir, 0755), ==, 0);
    g_autofree char *iso = g_build_filename(mirror_dir, "debian-12.10.0-amd64-netinst.iso", NULL);
    g_autofree char *big = g_build_filename(www, "big.bin", NULL);
    g_assert_cmpint(link(big, iso), ==, 0);
    g_autofree char *sums = g_strdup_printf(
        "%s  debian-12.9.0-amd64-netinst.iso\n%s  debian-12.10.0-amd64-netinst.iso\n"
        "%s  debian-12.10.0-amd64-DVD-1.iso\n",
        "1111111111111111111111111111111111111111111111111111111111111111", big_sha,
        "2222222222222222222222222222222222222222222222222222222222222222");
    g_autofree char *sums_path = g_build_filename(mirror_dir, "SHA256SUMS", NULL);
    tu_write_file(sums_path, sums);
    g_autofree char *mirror = g_strdup_printf("http://127.0.0.1:%u/mirror", srv.nginx_port);

    g_autofree char *dir = out_dir("catalog");
    Run r = VMDESK(mirror, "debian-12-netinst", "-o", dir);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "verified"));
    assert_sha(dir, "debian-12.10.0-amd64-netinst.iso", big_sha);
    run_clear(&r);

    /* The checksum list's digest is enforced. */
    g_autofree char *bad = g_strdup_printf(
        "%s  debian-12.10.0-amd64-netinst.iso\n",
        "3333333333333333333333333333333333333333333333333333333333333333");
    tu_write_file(sums_path, bad);
    g_autofree char *dir2 = out_dir("catalog-bad");
    r = VMDESK(mirror, "debian-12-netinst", "-o", dir2);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "3333333333"));
    g_assert_false(exists(dir2, "debian-12.10.0-amd64-netinst.iso"));
    run_clear(&r);

    r = VMDESK(mirror, "windows-11");
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "https://www.microsoft.com/software-download/windows11"));
    run_clear(&r);
    r = VMDESK(NULL, "no-such-os");
    g_assert_cmpint(r.status, ==, 3);
    run_clear(&r);

    r = VMDESK(mirror, "--list", "--json");
    g_assert_cmpint(r.status, ==, 0);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, r.out, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(o, "mirror"), ==, mirror);
    JsonArray *isos = json_object_get_array_member(o, "isos");
    bool win = false, deb = false;
    for (guint i = 0; i < json_array_get_length(isos); i++) {
        JsonObject *e = json_array_get_object_element(isos, i);
        const char *id = json_object_get_string_member(e, "id");
        if (!strcmp(id, "windows-11")) {
            win = !json_object_get_boolean_member(e, "downloadable");
            g_assert_nonnull(strstr(json_object_get_string_member(e, "manual-page"),
                                    "microsoft.com"));
        }
        if (!strcmp(id, "debian-12-netinst"))
            deb = g_str_has_prefix(json_object_get_string_member(e, "checksum-url"), mirror);
    }
    g_assert_true(win && deb);
    run_clear(&r);
    r = VMDESK(NULL, "--list");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "https://cdimage.debian.org/"));
    g_assert_nonnull(strstr(r.out, "virtio-win"));
    run_clear(&r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    root = tu_tmpdir();
    /* nginx and python read the files: a plain readable tree. */
    g_assert_cmpint(chmod(root, 0755), ==, 0);
    www = g_build_filename(root, "www", NULL);
    g_assert_cmpint(g_mkdir_with_parents(www, 0755), ==, 0);
    g_autofree char *big = g_build_filename(www, "big.bin", NULL);
    {
        g_autofree char *data = g_malloc(BIG_SIZE);
        g_autoptr(GRand) rnd = g_rand_new();
        for (guint i = 0; i < BIG_SIZE / 4; i++)
            ((guint32 *)data)[i] = g_rand_int(rnd);
        g_assert_true(g_file_set_contents(big, data, BIG_SIZE, NULL));
    }
    g_assert_true(fetch_sha256_file(big, big_sha, NULL));
    signal(SIGABRT, on_abort);
    fetch_servers_start(&srv, root, www);
    g_test_add_func("/fetch/full", test_full);
    g_test_add_func("/fetch/parallel", test_parallel);
    g_test_add_func("/fetch/resume", test_resume);
    g_test_add_func("/fetch/progress", test_progress);
    g_test_add_func("/fetch/interrupt", test_interrupt);
    g_test_add_func("/fetch/wrong-checksum-and-change", test_wrong_checksum_and_change);
    g_test_add_func("/fetch/damaged-state", test_damaged_state);
    g_test_add_func("/fetch/errors", test_errors);
    g_test_add_func("/fetch/no-ranges", test_no_ranges);
    g_test_add_func("/fetch/stall", test_stall);
    g_test_add_func("/fetch/disk-full", test_disk_full);
    g_test_add_func("/fetch/catalog-mirror", test_catalog_mirror);
    int status = g_test_run();
    unmount_tmpfs();
    fetch_servers_stop(&srv);
    tu_rm_rf(root);
    return status;
}
