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

/* The SHA-256 of a PNG's RGBA rows. */
static char *png_sum(GBytes *png, unsigned *w, unsigned *h)
{
    ClipImage img;
    g_autoptr(GError) err = NULL;
    gsize n = 0;
    const uint8_t *p = g_bytes_get_data(png, &n);
    g_assert_true(clip_image_from_png(p, n, &img, &err));
    *w = img.width;
    *h = img.height;
    char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, img.rgba,
                                            (gsize)img.width * img.height * 4);
    clip_image_clear(&img);
    return sum;
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
    g_autofree char *sum = png_sum(png, &w, &h);
    g_assert_cmpuint(w, ==, 97);
    g_assert_cmpuint(h, ==, 61);
    g_assert_cmpstr(sum, ==, want);

    /* The same picture copied on the host goes back, as CF_DIBV5. */
    g_autofree char *file = g_strdup_printf("%s/%s.png", rt_world.dir, name);
    g_assert_true(g_file_set_contents(file, g_bytes_get_data(png, NULL), (gssize)g_bytes_get_size(png), NULL));
    gsize mark = rt_log_mark(&s);
    GSubprocess *xclip = host_serve(name, "image/png", file);
    g_usleep(300 * 1000);
    rt_clip_refocus(win);
    g_autofree char *pattern = g_strdup_printf("clipboard from-client-picture 97x61 %s", want);
    g_free(rt_expect_next(&s, &mark, pattern, 15000));
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    rt_stop(xclip, SIGTERM);
    g_object_unref(xclip);
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

static void files(const char *program)
{
    RtSession s = {0};
    const char *name = program ? "vmdesk-rail-clip-files" : "vmdesk-clip-files";
    start(&s, name, "files:3:6000000", program); /* 18 MB: chunks of 4 MiB */
    g_autofree char *win = client_window(&s, program);
    g_free(rt_expect_line(&s, "clipboard offered-file vmdesk-clip/file-1.bin 6000000 *", CONNECT_MS));
    g_autoptr(GBytes) uris = wait_paste(&s, "text/uri-list", 60000);
    g_autofree char *text = g_strndup(g_bytes_get_data(uris, NULL), g_bytes_get_size(uris));
    g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
    g_autofree char *dir = g_filename_from_uri(lines[0], NULL, NULL);
    g_assert_nonnull(dir);
    g_assert_true(g_str_has_suffix(dir, "/files/vmdesk-clip"));
    for (int i = 1; i <= 3; i++) {
        g_autofree char *f = g_strdup_printf("%s/file-%d.bin", dir, i);
        gsize len = 0;
        g_autofree char *sum = file_sum(f, &len);
        g_autofree char *pattern = g_strdup_printf("clipboard offered-file vmdesk-clip/file-%d.bin 6000000 %s", i, sum);
        g_free(rt_expect_line(&s, pattern, 1000));
    }
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
    gsize mark = rt_log_mark(&s);
    GSubprocess *xclip = host_serve(name, "text/uri-list", list);
    g_usleep(300 * 1000);
    rt_clip_refocus(win);
    g_autofree char *base = g_path_get_basename(src);
    g_autofree char *pattern = g_strdup_printf("clipboard from-client-file %s 9000000 %s", base, sum);
    g_free(rt_expect_next(&s, &mark, pattern, 30000));
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    rt_stop(xclip, SIGTERM);
    g_object_unref(xclip);
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

/* Each hostile copy: refused with a log line, nothing on the clipboard,
 * nothing outside the staging folder, the session goes on. */
static void test_hostile(void)
{
    const char *kinds[] = {"dotdot", "absolute", "drive", "long", "count", "more", "less", "picture"};
    const char *says[] = {"'..'", "absolute", "drive letter", "longer than 255", "at most",
                          "more of", "sent 50 bytes", "pixels"};
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
        /* Still connected: vmdesk exits 0 on SIGTERM, not with an error. */
        g_assert_cmpint(rt_client_stop(&s), ==, 0);
        rt_session_finish(&s);
    }
}

void rt_add_clip_rich_tests(void)
{
    g_test_add_func("/rdp-server/vmdesk/clipboard-pictures", test_pictures);
    g_test_add_func("/rdp-server/vmdesk/rail-clipboard-pictures", test_rail_pictures);
    g_test_add_func("/rdp-server/vmdesk/clipboard-files", test_files);
    g_test_add_func("/rdp-server/vmdesk/rail-clipboard-files", test_rail_files);
    g_test_add_func("/rdp-server/vmdesk/clipboard-hostile", test_hostile);
}
