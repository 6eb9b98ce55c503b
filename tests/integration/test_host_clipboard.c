/* The host's clipboard beyond text (client/ui/host_clipboard*.c) on a real
 * Xvfb, with xclip as the other program: files copied the way file
 * managers offer them (text/uri-list, x-special/gnome-copied-files) and
 * pictures (image/png, large enough for INCR chunks) are read; files and a
 * picture vmdesk offers are what xclip pastes, byte for byte. No VM, no
 * RDP server: the X selection protocol both ways. */
#include "harness.h"
#include "harness_x.h"
#include "session/clip_image.h"
#include "ui/host_clipboard.h"

#include <SDL.h>
#include <gio/gio.h>
#include <string.h>

static Xvfb xvfb;

/* xclip -i serving @data as @target, in the foreground (-quiet) until it
 * loses the clipboard or is killed. Returns once the clipboard is its. */
static GSubprocess *xclip_serve(const char *target, GBytes *data)
{
    g_autoptr(GError) err = NULL;
    GSubprocess *p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                          G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                                      &err, "xclip", "-quiet", "-selection", "clipboard", "-t",
                                      target, "-i", NULL);
    g_assert_no_error(err);
    GOutputStream *in = g_subprocess_get_stdin_pipe(p);
    gsize n = 0;
    g_assert_true(g_output_stream_write_all(in, g_bytes_get_data(data, NULL),
                                            g_bytes_get_size(data), &n, NULL, &err));
    g_assert_true(g_output_stream_close(in, NULL, &err));
    /* Owned once TARGETS answers with the target. While we still own the
     * clipboard we must answer (timeout: an asker nobody answers hangs). */
    for (int i = 0; i < 100; i++) {
        host_clipboard_dispatch();
        if (host_clipboard_offering()) {
            g_usleep(10 * 1000);
            continue;
        }
        const char *argv[] = {"timeout", "5", "xclip", "-o", "-selection", "clipboard",
                              "-t", "TARGETS", NULL};
        g_autofree char *t = x_run(xvfb.display, argv);
        if (t && strstr(t, target))
            return p;
        g_usleep(50 * 1000);
    }
    g_error("xclip never served %s", target);
}

static void xclip_stop(GSubprocess *p)
{
    g_subprocess_force_exit(p);
    g_subprocess_wait(p, NULL, NULL);
    g_object_unref(p);
}

/* Reads until the owner answered (each call waits at most 100 ms). */
static HostClipboardResult read_any(HostClipboardData *d)
{
    for (int i = 0; i < 100; i++) {
        HostClipboardResult r = host_clipboard_read_any(d);
        if (r != HOST_CLIPBOARD_WAITING)
            return r;
        g_usleep(20 * 1000);
    }
    return HOST_CLIPBOARD_WAITING;
}

static void read_files(void)
{
    const char *list = "file:///tmp/one%20two.txt\r\nfile:///home/u/folder\r\n";
    g_autoptr(GBytes) b = g_bytes_new_static(list, strlen(list));
    GSubprocess *x = xclip_serve("text/uri-list", b);
    HostClipboardData d;
    g_assert_cmpint(read_any(&d), ==, HOST_CLIPBOARD_FILES);
    g_assert_cmpuint(g_strv_length(d.paths), ==, 2);
    g_assert_cmpstr(d.paths[0], ==, "/tmp/one two.txt");
    g_assert_cmpstr(d.paths[1], ==, "/home/u/folder");
    host_clipboard_data_clear(&d);
    xclip_stop(x);

    const char *gnome = "copy\nfile:///srv/a\nfile:///srv/b";
    g_autoptr(GBytes) g = g_bytes_new_static(gnome, strlen(gnome));
    x = xclip_serve("x-special/gnome-copied-files", g);
    g_assert_cmpint(read_any(&d), ==, HOST_CLIPBOARD_FILES);
    g_assert_cmpuint(g_strv_length(d.paths), ==, 2);
    g_assert_cmpstr(d.paths[1], ==, "/srv/b");
    host_clipboard_data_clear(&d);
    xclip_stop(x);

    /* Plain text stays text. */
    g_autoptr(GBytes) t = g_bytes_new_static("just text", 9);
    x = xclip_serve("UTF8_STRING", t);
    g_assert_cmpint(read_any(&d), ==, HOST_CLIPBOARD_TEXT);
    g_assert_cmpstr(d.text, ==, "just text");
    host_clipboard_data_clear(&d);
    xclip_stop(x);
}

/* A noisy picture: its PNG is larger than one X request, so INCR. */
static GBytes *big_png(uint32_t w, uint32_t h)
{
    ClipImage img = {.width = w, .height = h, .rgba = g_malloc((size_t)w * h * 4)};
    guint32 seed = 12345;
    for (size_t i = 0; i < (size_t)w * h * 4; i++) {
        seed = seed * 1103515245 + 12345;
        img.rgba[i] = (uint8_t)(seed >> 16);
    }
    size_t len = 0;
    g_autoptr(GError) err = NULL;
    uint8_t *png = clip_image_to_png(&img, &len, &err);
    g_assert_no_error(err);
    clip_image_clear(&img);
    return g_bytes_new_take(png, len);
}

static void read_png(void)
{
    g_autoptr(GBytes) png = big_png(700, 500); /* ~1.4 MB */
    g_assert_cmpuint(g_bytes_get_size(png), >, 1000000);
    GSubprocess *x = xclip_serve("image/png", png);
    HostClipboardData d;
    g_assert_cmpint(read_any(&d), ==, HOST_CLIPBOARD_PNG);
    g_assert_true(g_bytes_equal(d.png, png));
    host_clipboard_data_clear(&d);
    xclip_stop(x);
}

/* xclip -o -t @target while this process serves: its output. */
static GBytes *paste(const char *target)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err, "xclip",
                                                "-o", "-selection", "clipboard", "-t", target,
                                                NULL);
    g_assert_no_error(err);
    GInputStream *out = g_subprocess_get_stdout_pipe(p);
    g_autoptr(GByteArray) got = g_byte_array_new();
    g_autoptr(GPollableInputStream) pin = G_POLLABLE_INPUT_STREAM(g_object_ref(out));
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    for (;;) {
        host_clipboard_dispatch();
        guint8 buf[65536];
        gssize n = g_pollable_input_stream_read_nonblocking(pin, buf, sizeof(buf), NULL, &err);
        if (n == 0)
            break;
        if (n > 0) {
            g_byte_array_append(got, buf, (guint)n);
            continue;
        }
        g_assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK));
        g_clear_error(&err);
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(2000);
    }
    g_assert_true(g_subprocess_wait_check(p, NULL, &err));
    return g_byte_array_free_to_bytes(g_steal_pointer(&got));
}

static void offer(void)
{
    const char *const paths[] = {"/run/user/1/vmdesk/clipboard/paste-1/files/a b.txt",
                                 "/run/user/1/vmdesk/clipboard/paste-1/files/dir", NULL};
    g_assert_true(host_clipboard_offer_files(paths));
    g_assert_true(host_clipboard_offering());
    g_autoptr(GBytes) targets = paste("TARGETS");
    g_autofree char *t = g_strndup(g_bytes_get_data(targets, NULL), g_bytes_get_size(targets));
    g_assert_nonnull(strstr(t, "text/uri-list"));
    g_assert_nonnull(strstr(t, "x-special/gnome-copied-files"));
    g_autoptr(GBytes) uris = paste("text/uri-list");
    const char *want = "file:///run/user/1/vmdesk/clipboard/paste-1/files/a%20b.txt\r\n"
                       "file:///run/user/1/vmdesk/clipboard/paste-1/files/dir\r\n";
    g_assert_cmpmem(g_bytes_get_data(uris, NULL), g_bytes_get_size(uris), want, strlen(want));
    g_autoptr(GBytes) gnome = paste("x-special/gnome-copied-files");
    const char *want_g = "copy\nfile:///run/user/1/vmdesk/clipboard/paste-1/files/a%20b.txt\n"
                         "file:///run/user/1/vmdesk/clipboard/paste-1/files/dir";
    g_assert_cmpmem(g_bytes_get_data(gnome, NULL), g_bytes_get_size(gnome), want_g,
                    strlen(want_g));
    /* Our own offer is not news from the host. */
    HostClipboardData d;
    g_assert_cmpint(host_clipboard_read_any(&d), ==, HOST_CLIPBOARD_NONE);

    g_autoptr(GBytes) png = big_png(900, 700); /* ~2.5 MB: INCR from us */
    g_assert_true(host_clipboard_offer_png(png));
    g_autoptr(GBytes) got = paste("image/png");
    g_assert_cmpuint(g_bytes_get_size(got), ==, g_bytes_get_size(png));
    g_assert_true(g_bytes_equal(got, png));

    /* Another program's copy ends our offer. */
    g_autoptr(GBytes) text = g_bytes_new_static("later", 5);
    GSubprocess *x = xclip_serve("UTF8_STRING", text);
    for (int i = 0; i < 100 && host_clipboard_offering(); i++) {
        host_clipboard_dispatch();
        g_usleep(10 * 1000);
    }
    g_assert_false(host_clipboard_offering());
    g_assert_cmpint(read_any(&d), ==, HOST_CLIPBOARD_TEXT);
    host_clipboard_data_clear(&d);
    xclip_stop(x);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    xvfb_start(&xvfb);
    g_setenv("DISPLAY", xvfb.display, TRUE);
    g_setenv("SDL_VIDEODRIVER", "x11", TRUE);
    g_assert_cmpint(SDL_Init(SDL_INIT_VIDEO), ==, 0);
    g_test_add_func("/host-clipboard/read-files", read_files);
    g_test_add_func("/host-clipboard/read-png", read_png);
    g_test_add_func("/host-clipboard/offer", offer);
    int rc = g_test_run();
    SDL_Quit();
    xvfb_stop(&xvfb);
    return rc;
}
