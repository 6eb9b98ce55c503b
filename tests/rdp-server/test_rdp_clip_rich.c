/* Clipboard pictures and files against vmdesk-test-rdp-server
 * --clipboard-offer (srv_clip_rich.c): the server's picture and files land
 * on the host's X clipboard (read with xclip -o -t image/png / text/uri-list
 * and checked against the SHA-256 the server logged), the host's picture
 * and files (an xclip serving them) reach the server, which logs their
 * SHA-256; hostile copies are refused with a log line and the session goes
 * on. The desktop window and a RemoteApp window. */
#include "rdp_test_harness.h"
#include "session/clip_image.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#define CONNECT_MS 20000

/* xclip -o -t @target's output (NULL: it failed), bounded by timeout. */
static GBytes *host_paste(const char *target)
{
    g_autofree char *out = g_strdup_printf("%s/paste.out", rt_world.dir);
    g_autofree char *cmd_out = NULL;
    const char *argv[] = {"timeout", "5", "sh", "-c", "xclip -o -selection clipboard -t \"$0\" > \"$1\"",
                          target, out, NULL};
    if (rt_run_all(argv, rt_world.env, &cmd_out) != 0)
        return NULL;
    gchar *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(out, &data, &len, NULL))
        return NULL;
    return g_bytes_new_take(data, len);
}

static GBytes *wait_paste(RtSession *s, const char *target, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)tu_timeout_ms(timeout_ms) * 1000;
    for (;;) {
        GBytes *b = host_paste(target);
        if (b && g_bytes_get_size(b) > 0)
            return b;
        if (b)
            g_bytes_unref(b);
        if (g_get_monotonic_time() > end) {
            g_autofree char *cli = rt_read_text(s->client_log);
            g_error("the host clipboard never offered %s\n%s", target, cli);
        }
        g_usleep(200 * 1000);
    }
}

/* An xclip serving @file as @target on the host's clipboard. */
static GSubprocess *host_serve(const char *name, const char *target, const char *file)
{
    g_autofree char *log = g_strdup_printf("%s/%s-xclip.log", rt_world.dir, name);
    const char *argv[] = {"xclip", "-quiet", "-selection", "clipboard", "-t", target, "-i", file,
                          NULL};
    return rt_spawn(argv, rt_world.env, log, log);
}

static void start(RtSession *s, const char *name, const char *offer, const char *program)
{
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--size", "800x600",
                          program ? "--rail" : "--clipboard-offer", program ? "--clipboard-offer" : offer,
                          program ? offer : NULL, NULL};
    rt_server_start(s, name, args);
    const char *vargs[] = {"--no-audio", program ? "--app" : NULL, program, NULL};
    g_auto(GStrv) env = rt_vmdesk_env(name, NULL, true);
    rt_vmdesk_start(s, name, env, vargs);
    g_free(rt_expect_line(s, "clipboard ready", CONNECT_MS));
}

static char *client_window(RtSession *s, const char *program)
{
    if (program) {
        char *win = rt_wait_window(s, "notepad - vmdesk test", NULL, CONNECT_MS);
        rt_wait_window_viewable(s, win, 10000);
        return win;
    }
    g_autofree char *prefix = g_strdup_printf("rdp://127.0.0.1:%u ", s->port);
    return rt_wait_window(s, prefix, "RDP", CONNECT_MS);
}

/* The host copies @picture (an xclip serving it as @target); the server
 * logs it as a 97x61 picture whose RGBA rows hash to @want. @win: vmdesk's window, to
 * come back to (xfreerdp3 hears of the copy by itself: NULL). Returns the
 * xclip, for the caller to stop once the client is gone. */
static GSubprocess *host_picture_reaches_server(RtSession *s, const char *name,
                                                const char *target, GBytes *picture,
                                                const char *want, const char *win)
{
    g_autofree char *file = g_strdup_printf("%s/%s.picture", rt_world.dir, name);
    g_assert_true(g_file_set_contents(file, g_bytes_get_data(picture, NULL),
                                      (gssize)g_bytes_get_size(picture), NULL));
    gsize mark = rt_log_mark(s);
    GSubprocess *xclip = host_serve(name, target, file);
    if (win) {
        g_usleep(300 * 1000);
        rt_clip_refocus(win);
    }
    g_autofree char *pattern = g_strdup_printf("clipboard from-client-picture 97x61 %s", want);
    g_free(rt_expect_next(s, &mark, pattern, 15000));
    return xclip;
}

static void stop_xclip(GSubprocess *xclip)
{
    rt_stop(xclip, SIGTERM);
    g_object_unref(xclip);
}

static void pictures(const char *program)
{
    RtSession s = {0};
    const char *name = program ? "vmdesk-rail-clip-picture" : "vmdesk-clip-picture";
    start(&s, name, "picture:97x61", program);
    g_autofree char *win = client_window(&s, program);
    g_autofree char *line = rt_expect_line(&s, "clipboard offered-picture 97x61 *", CONNECT_MS);
    const char *want = strrchr(line, ' ') + 1;
    g_autoptr(GBytes) png = wait_paste(&s, "image/png", 10000);
    unsigned w, h;
    g_autofree char *sum = rt_png_sum(png, &w, &h);
    g_assert_cmpuint(w, ==, 97);
    g_assert_cmpuint(h, ==, 61);
    g_assert_cmpstr(sum, ==, want);

    /* The same picture copied on the host goes back, as CF_DIBV5. */
    GSubprocess *xclip = host_picture_reaches_server(&s, name, "image/png", png, want, win);
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    stop_xclip(xclip);
}

static void test_pictures(void)
{
    pictures(NULL);
}

static void test_rail_pictures(void)
{
    pictures("notepad");
}

static char *file_sum(const char *path, gsize *len)
{
    g_autofree char *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, *len);
}

/* The host copies a 9 MB file (an xclip serving text/uri-list); the server
 * fetches it in 4 MiB ranges and logs its SHA-256. @win as above. */
static GSubprocess *host_file_reaches_server(RtSession *s, const char *name, const char *win)
{
    g_autofree char *src = g_strdup_printf("%s/%s-host.bin", rt_world.dir, name);
    g_autofree uint8_t *bytes = g_malloc(9000000);
    for (gsize i = 0; i < 9000000; i++)
        bytes[i] = (uint8_t)(i * 31 + (i >> 10));
    g_assert_true(g_file_set_contents(src, (const char *)bytes, 9000000, NULL));
    gsize len = 0;
    g_autofree char *sum = file_sum(src, &len);
    g_autofree char *uri = g_filename_to_uri(src, NULL, NULL);
    g_autofree char *list = g_strdup_printf("%s/%s-list.txt", rt_world.dir, name);
    g_autofree char *list_text = g_strdup_printf("%s\r\n", uri);
    tu_write_file(list, list_text);
    gsize mark = rt_log_mark(s);
    GSubprocess *xclip = host_serve(name, "text/uri-list", list);
    if (win) {
        g_usleep(300 * 1000);
        rt_clip_refocus(win);
    }
    g_autofree char *base = g_path_get_basename(src);
    g_autofree char *pattern = g_strdup_printf("clipboard from-client-file %s 9000000 %s", base, sum);
    g_free(rt_expect_next(s, &mark, pattern, 30000));
    return xclip;
}

/* The server's folder vmdesk-clip of @n files of 6000000 bytes, pasted on
 * the host (text/uri-list): each file's bytes are those the server logged.
 * Returns the folder's host path. */
static char *paste_server_files(RtSession *s, int n, int timeout_ms)
{
    g_autoptr(GBytes) uris = wait_paste(s, "text/uri-list", timeout_ms);
    g_autofree char *text = g_strndup(g_bytes_get_data(uris, NULL), g_bytes_get_size(uris));
    g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
    char *dir = g_filename_from_uri(lines[0], NULL, NULL);
    g_assert_nonnull(dir);
    g_assert_true(g_str_has_suffix(dir, "/vmdesk-clip"));
    for (int i = 1; i <= n; i++) {
        g_autofree char *f = g_strdup_printf("%s/file-%d.bin", dir, i);
        gsize len = 0;
        g_autofree char *sum = file_sum(f, &len);
        g_autofree char *pattern = g_strdup_printf("clipboard offered-file vmdesk-clip/file-%d.bin 6000000 %s", i, sum);
        g_free(rt_expect_line(s, pattern, 1000));
    }
    return dir;
}

static void files(const char *program)
{
    RtSession s = {0};
    const char *name = program ? "vmdesk-rail-clip-files" : "vmdesk-clip-files";
    start(&s, name, "files:3:6000000", program); /* 18 MB: chunks of 4 MiB */
    g_autofree char *win = client_window(&s, program);
    g_free(rt_expect_line(&s, "clipboard offered-file vmdesk-clip/file-1.bin 6000000 *", CONNECT_MS));
    g_autofree char *dir = paste_server_files(&s, 3, 60000);
    g_assert_true(g_str_has_suffix(dir, "/files/vmdesk-clip"));
    /* Private staging; nothing left in partial/. */
    g_autofree char *files_dir = g_path_get_dirname(dir);
    g_autofree char *stage = g_path_get_dirname(files_dir);
    struct stat st;
    g_assert_cmpint(stat(stage, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);
    g_autofree char *partial = g_build_filename(stage, "partial", NULL);
    g_autoptr(GDir) d = g_dir_open(partial, 0, NULL);
    g_assert_nonnull(d);
    g_assert_null(g_dir_read_name(d));

    /* Host files go to the server. */
    GSubprocess *xclip = host_file_reaches_server(&s, name, win);
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    stop_xclip(xclip);
    /* The session's staging folder went with it. */
    g_assert_false(g_file_test(stage, G_FILE_TEST_EXISTS));
}

static void test_files(void)
{
    files(NULL);
}

static void test_rail_files(void)
{
    files("notepad");
}

/* --- xfreerdp3, the peer: proves the server's picture and file modes --- */

static void xfreerdp_start(RtSession *s, const char *name, const char *offer)
{
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--size", "800x600",
                          "--clipboard-offer", offer, NULL};
    rt_server_start(s, name, args);
    const char *cargs[] = {"/u:x", "/p:x", "+clipboard", "-sound", NULL};
    rt_xfreerdp_start(s, name, cargs);
    g_free(rt_expect_line(s, "clipboard ready", CONNECT_MS));
}

/* The server's picture on the host through xfreerdp3, and the host's
 * picture (an xclip serving image/png) on the server. xfreerdp3 3.10 offers
 * the server's CF_DIB as image/bmp only, and that without the BMP file
 * header ("BM..."): the bytes are the DIB itself. */
static void test_xfreerdp_pictures(void)
{
    RtSession s = {0};
    xfreerdp_start(&s, "xfreerdp-clip-picture", "picture:97x61");
    g_autoptr(GBytes) bmp = wait_paste(&s, "image/bmp", 15000);
    g_autofree char *line = rt_expect_line(&s, "clipboard offered-picture 97x61 *", 5000);
    const char *want = strrchr(line, ' ') + 1;
    gsize n = 0;
    const uint8_t *dib = g_bytes_get_data(bmp, &n);
    if (n > 14 && dib[0] == 'B' && dib[1] == 'M')
        dib += 14, n -= 14;
    ClipImage img;
    g_autoptr(GError) err = NULL;
    g_assert_true(clip_image_from_dib(dib, n, &img, &err));
    g_assert_cmpuint(img.width, ==, 97);
    g_assert_cmpuint(img.height, ==, 61);
    g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, img.rgba, 97 * 61 * 4);
    g_assert_cmpstr(sum, ==, want);
    /* Back as a BMP file (this xfreerdp3 takes no image/png from the host). */
    size_t dib_len = 0;
    g_autofree uint8_t *back = clip_image_to_dib(&img, false, &dib_len);
    clip_image_clear(&img);
    uint8_t head[14] = {'B', 'M'};
    uint32_t file_len = (uint32_t)(14 + dib_len), bits_at = 14 + 40;
    memcpy(head + 2, &file_len, 4);
    memcpy(head + 10, &bits_at, 4);
    GByteArray *bmp_file = g_byte_array_new();
    g_byte_array_append(bmp_file, head, 14);
    g_byte_array_append(bmp_file, back, (guint)dib_len);
    g_autoptr(GBytes) picture = g_byte_array_free_to_bytes(bmp_file);

    GSubprocess *xclip = host_picture_reaches_server(&s, "xfreerdp-clip-picture", "image/bmp", picture,
                                                     want, NULL);
    rt_session_finish(&s);
    stop_xclip(xclip);
}

/* The server's files on the host through xfreerdp3 (it shows them in a
 * FUSE folder of its own and reads them on demand, under a lock), and the
 * host's file (an xclip serving text/uri-list) on the server, 9 MB in the
 * server's 4 MiB ranges. */
static void test_xfreerdp_files(void)
{
    RtSession s = {0};
    xfreerdp_start(&s, "xfreerdp-clip-files", "files:2:6000000");
    g_free(paste_server_files(&s, 2, 15000));
    g_free(rt_expect_line(&s, "clipboard locked *", 5000));
    GSubprocess *xclip = host_file_reaches_server(&s, "xfreerdp-clip-files", NULL);
    rt_session_finish(&s);
    stop_xclip(xclip);
}

/* The first partial file under @dir (a partial/ folder at most @depth
 * levels down), with its size; NULL while there is none. */
static char *partial_under(const char *dir, int depth, goffset *size)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    for (const char *n; d && depth > 0 && (n = g_dir_read_name(d));) {
        g_autofree char *sub = g_build_filename(dir, n, NULL);
        if (!strcmp(n, "partial")) {
            g_autoptr(GDir) p = g_dir_open(sub, 0, NULL);
            const char *f = p ? g_dir_read_name(p) : NULL;
            if (f) {
                char *path = g_build_filename(sub, f, NULL);
                struct stat st;
                *size = stat(path, &st) == 0 ? st.st_size : 0;
                return path;
            }
        } else if (g_file_test(sub, G_FILE_TEST_IS_DIR)) {
            char *found = partial_under(sub, depth - 1, size);
            if (found)
                return found;
        }
    }
    return NULL;
}

/* The first staging folder's partial file in @run_dir, with its size; NULL
 * while there is none. Sessions stage in vmdesk/clipboard/ (a confined
 * one's window does, from what its helper streams). */
static char *partial_file(const char *run_dir, goffset *size)
{
    g_autofree char *root = g_build_filename(run_dir, "vmdesk", NULL);
    return partial_under(root, 3, size);
}

static bool dir_empty(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    return !d || !g_dir_read_name(d);
}

/* A large copy from a slow server, cancelled with Escape in the window
 * whose title shows its progress: the partial file and the staging
 * folder go, the server is told (its lock on the copy is released), the
 * Escape is not the guest's, the host clipboard gets nothing, and the
 * session goes on (the next Escape is the guest's). */
static void files_cancel(const char *program)
{
    RtSession s = {0};
    const char *name = program ? "vmdesk-rail-clip-cancel" : "vmdesk-clip-cancel";
    start(&s, name, "files:1:100000000:400", program); /* 25 answers of 4 MiB, 0.4 s each */
    g_autofree char *win = client_window(&s, program);
    g_autofree char *locked = rt_expect_line(&s, "clipboard locked *", CONNECT_MS);
    const char *id = strrchr(locked, ' ') + 1;
    /* The progress is in the title (of the RemoteApp window, too). */
    g_autofree char *title_prefix = program ? g_strdup("notepad - vmdesk test")
                                            : g_strdup_printf("rdp://127.0.0.1:%u ", s.port);
    g_autofree char *copying = rt_wait_window(&s, title_prefix, "copying 1 file from the server",
                                              CONNECT_MS);
    g_assert_cmpstr(copying, ==, win);
    g_autofree char *run = g_strdup_printf("%s/%s-run", rt_world.dir, name);
    gint64 end = g_get_monotonic_time() + tu_timeout_ms(20000) * 1000LL;
    goffset size = 0;
    g_autofree char *partial = NULL;
    while (!(partial = partial_file(run, &size)) || size < (4 << 20)) {
        g_clear_pointer(&partial, g_free);
        if (g_get_monotonic_time() > end)
            g_error("no partial file of 4 MiB under %s", run);
        g_usleep(100 * 1000);
    }
    g_autofree char *stage = g_path_get_dirname(partial);
    g_autofree char *stage_top = g_path_get_dirname(stage);
    gsize mark = rt_log_mark(&s), esc_mark = mark;
    rt_clip_refocus(win);
    rt_xdo("key", "--window", win, "Escape", NULL);
    g_autofree char *unlocked = g_strdup_printf("clipboard unlocked %s", id);
    g_free(rt_expect_next(&s, &mark, unlocked, 10000));
    end = g_get_monotonic_time() + tu_timeout_ms(10000) * 1000LL;
    while (g_file_test(stage_top, G_FILE_TEST_EXISTS)) {
        if (g_get_monotonic_time() > end)
            g_error("the staging folder %s is still there after the cancel", stage_top);
        g_usleep(100 * 1000);
    }
    g_autofree char *clip_root = g_build_filename(run, "vmdesk", "clipboard", NULL);
    g_assert_true(dir_empty(clip_root));
    g_autofree char *cli = rt_read_text(s.client_log);
    g_assert_nonnull(strstr(cli, "the copy of the server's files was cancelled at"));
    /* The title says no more of it; the guest got no Escape; the host's
     * clipboard offers no files. */
    end = g_get_monotonic_time() + tu_timeout_ms(5000) * 1000LL;
    for (;;) {
        const char *argv[] = {"xwininfo", "-root", "-tree", NULL};
        g_autofree char *tree = rt_run(argv, rt_world.env);
        if (!strstr(tree, "copying 1 file"))
            break;
        if (g_get_monotonic_time() > end)
            g_error("the title still shows the copy:\n%s", tree);
        g_usleep(100 * 1000);
    }
    g_autofree char *srv = rt_read_text(s.log);
    g_assert_null(strstr(srv + esc_mark, "input key 0x01"));
    g_assert_null(host_paste("text/uri-list"));
    /* No copy runs: Escape is the guest's again. */
    rt_xdo("key", "--window", win, "Escape", NULL);
    g_free(rt_expect_next(&s, &mark, "input key 0x01 down", 5000));
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
}

static void test_files_cancel(void)
{
    files_cancel(NULL);
}

static void test_rail_files_cancel(void)
{
    files_cancel("notepad");
}

/* Each hostile copy: refused with a log line, nothing on the clipboard,
 * nothing outside the staging folder, the session goes on. A copy beyond
 * the window's limit (5 GiB announced in the list, or only when asked) is
 * refused by the window, which stages the files: nothing of it stays. */
static void test_hostile(void)
{
    const char *kinds[] = {"dotdot", "absolute", "drive", "long", "count", "more", "less", "picture",
                           "huge", "huge-late"};
    const char *says[] = {"'..'", "absolute", "drive letter", "longer than 255", "at most",
                          "more of", "sent 50 bytes", "pixels", "may be staged", "may be staged"};
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        RtSession s = {0};
        g_autofree char *name = g_strdup_printf("vmdesk-clip-hostile-%s", kinds[i]);
        g_autofree char *offer = g_strdup_printf("hostile:%s", kinds[i]);
        start(&s, name, offer, NULL);
        /* "offered-hostile KIND", or "offered-picture ... hostile" */
        g_free(rt_expect_line(&s, "clipboard offered-*", CONNECT_MS));
        gint64 end = g_get_monotonic_time() + tu_timeout_ms(15000) * 1000LL;
        for (;;) {
            g_autofree char *cli = rt_read_text(s.client_log);
            if (strstr(cli, "refused") && strstr(cli, says[i]))
                break;
            if (strstr(cli, "are not copied") && strstr(cli, says[i]))
                break;
            if (g_get_monotonic_time() > end)
                g_error("%s: vmdesk logged no refusal saying %s:\n%s", kinds[i], says[i], cli);
            g_usleep(200 * 1000);
        }
        g_autofree char *escaped = g_build_filename(g_get_tmp_dir(), "escaped.txt", NULL);
        g_assert_false(g_file_test(escaped, G_FILE_TEST_EXISTS));
        /* Nothing staged stays (the window's staging folder is empty). */
        g_autofree char *clip_root = g_strdup_printf("%s/%s-run/vmdesk/clipboard", rt_world.dir, name);
        gint64 gone = g_get_monotonic_time() + tu_timeout_ms(5000) * 1000LL;
        while (!dir_empty(clip_root) && g_get_monotonic_time() < gone)
            g_usleep(100 * 1000);
        g_assert_true(dir_empty(clip_root));
        /* Still connected: vmdesk exits 0 on SIGTERM, not with an error. */
        g_assert_cmpint(rt_client_stop(&s), ==, 0);
        rt_session_finish(&s);
    }
}

void rt_add_clip_rich_tests(void)
{
    g_test_add_func("/rdp-server/xfreerdp/clipboard-pictures", test_xfreerdp_pictures);
    g_test_add_func("/rdp-server/xfreerdp/clipboard-files", test_xfreerdp_files);
    g_test_add_func("/rdp-server/vmdesk/clipboard-pictures", test_pictures);
    g_test_add_func("/rdp-server/vmdesk/rail-clipboard-pictures", test_rail_pictures);
    g_test_add_func("/rdp-server/vmdesk/clipboard-files", test_files);
    g_test_add_func("/rdp-server/vmdesk/rail-clipboard-files", test_rail_files);
    g_test_add_func("/rdp-server/vmdesk/clipboard-hostile", test_hostile);
    g_test_add_func("/rdp-server/vmdesk/clipboard-files-cancel", test_files_cancel);
    g_test_add_func("/rdp-server/vmdesk/rail-clipboard-files-cancel", test_rail_files_cancel);
}
