/* vmdesk-test-rdp-server against two clients, each case with its own server
 * under our own Xvfb and a private PulseAudio (rdp_test_harness.h):
 *
 * - xfreerdp, the reference client: proves the server and the checks work;
 * - vmdesk, the real binary ($VMDESK_BIN), through the same checks: the
 *   picture in its window, keys as scancodes, clicks and the wheel at the
 *   right desktop point, the tone recorded from the sink's monitor (and a
 *   session without a sound server), files read from and written to a
 *   redirected folder, a VM's shared folder and stored credentials with NLA,
 *   the desktop following the window (disp), and the scale factors it sends.
 *
 * ctest runs each vmdesk case as a test of its own (-p PATH), so one vmdesk
 * bug does not hide the others. Every process started here gets SIGKILL
 * when the test process dies, so a failed check leaves nothing running. */
#include "rdp_test_harness.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define TONE_HZ 440
#define TONE_MS 1500
/* NT hash (MD4 of UTF-16LE) of the password "secret", as winpr-hash prints it. */
#define SECRET_NT_HASH "878d8014606cda29677a44efa1353fc7"
/* The file the server reads, and how its log line escapes it. */
#define HELLO "hello from the client\n\\ and a tab\t."
#define HELLO_LOGGED "hello from the client\\n\\\\ and a tab\\t."
#define WRITTEN "written by the server"
#define CONNECT_MS 20000

/* --- xfreerdp --- */

static void xfreerdp_start(RtSession *s, const char *name, const char *const *args)
{
    rt_xfreerdp_start(s, name, args);
}

/* --- vmdesk --- */

static const char *vmdesk_bin(void)
{
    const char *bin = g_getenv("VMDESK_BIN");
    g_assert_nonnull(bin);
    return bin;
}

/* vmdesk's window: no decorations (no window manager), its title starts
 * with the address and says RDP once connected. */
static char *vmdesk_window(RtSession *s)
{
    g_autofree char *url = g_strdup_printf("rdp://127.0.0.1:%u ", s->port);
    return rt_wait_window(s, url, "RDP", CONNECT_MS);
}

/* vmdesk ends the session and exits 0 on SIGTERM. */
static void vmdesk_stop(RtSession *s)
{
    int status = rt_client_stop(s);
    if (status != 0) {
        g_autofree char *log = rt_read_text(s->client_log);
        g_error("vmdesk exited with %d on SIGTERM, not 0; its output:\n%s", status, log);
    }
}

/* Runs `vmdesk ARGS...` (NULL-terminated) to completion: its exit status
 * (-1: killed), its stdout and stderr together in *@out. */
static int vmdesk_cmd(char **env, char **out, const char *arg0, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)vmdesk_bin());
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    int status = rt_run_all((const char *const *)argv->pdata, env, out);
    g_autofree char *cmd = g_strjoinv(" ", (char **)argv->pdata + 1);
    g_test_message("vmdesk %s:\n%s", cmd, *out);
    g_ptr_array_free(argv, TRUE);
    return status;
}

/* --- the checks both clients pass --- */

/* big.bin: BIG_SIZE bytes, read whole by --drive-time in BIG_PIECE pieces
 * (four full ones and a short one). */
#define BIG_SIZE 4500
#define BIG_PIECE "1024"

static guint8 *big_bytes(void)
{
    guint8 *b = g_malloc(BIG_SIZE);
    for (int i = 0; i < BIG_SIZE; i++)
        b[i] = (guint8)(i * 7 + i / 256);
    return b;
}

/* A folder to redirect, holding hello.txt and big.bin. */
static char *make_share(const char *name)
{
    g_autofree char *dir = g_build_filename(rt_world.dir, name, NULL);
    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    g_autofree char *hello = g_build_filename(dir, "hello.txt", NULL);
    tu_write_file(hello, HELLO);
    g_autofree char *big = g_build_filename(dir, "big.bin", NULL);
    g_autofree guint8 *bytes = big_bytes();
    g_assert_true(g_file_set_contents(big, (const char *)bytes, BIG_SIZE, NULL));
    return g_steal_pointer(&dir);
}

/* The server's work on drive @drive: read hello.txt, time big.bin's read,
 * write out.txt, read a missing file. Appended to @args as strings it owns. */
static void add_drive_ops(GPtrArray *args, const char *drive)
{
    g_ptr_array_add(args, g_strdup("--drive-read"));
    g_ptr_array_add(args, g_strdup_printf("%s/hello.txt", drive));
    g_ptr_array_add(args, g_strdup("--drive-write"));
    g_ptr_array_add(args, g_strdup_printf("%s/out.txt=" WRITTEN, drive));
    g_ptr_array_add(args, g_strdup("--drive-read"));
    g_ptr_array_add(args, g_strdup_printf("%s/missing.txt", drive));
    g_ptr_array_add(args, g_strdup("--drive-time"));
    g_ptr_array_add(args, g_strdup_printf("%s/big.bin", drive));
    g_ptr_array_add(args, g_strdup("--drive-piece"));
    g_ptr_array_add(args, g_strdup(BIG_PIECE));
}

/* The server's base arguments (our certificate) and @extra (NULL-terminated),
 * as a NULL-terminated array of strings it owns. */
static GPtrArray *server_args(const char *extra0, ...)
{
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
    const char *base[] = {"--cert", rt_world.cert, "--key", rt_world.key};
    for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
        g_ptr_array_add(args, g_strdup(base[i]));
    va_list ap;
    va_start(ap, extra0);
    for (const char *a = extra0; a; a = va_arg(ap, const char *))
        g_ptr_array_add(args, g_strdup(a));
    va_end(ap);
    return args;
}

static void server_start_with(RtSession *s, const char *name, GPtrArray *args)
{
    g_ptr_array_add(args, NULL);
    rt_server_start(s, name, (const char *const *)args->pdata);
    g_ptr_array_unref(args);
}

/* The client announced drive @drive on folder @dir, and the server's
 * add_drive_ops went through: the file read (with escapes), the missing
 * file's NTSTATUS, big.bin read whole (its size and SHA-256), the file
 * written and found in @dir. */
static void expect_drive_ops(RtSession *s, const char *drive, const char *dir)
{
    g_autofree char *device = g_strdup_printf("rdpdr device drive %s id ", drive);
    g_autofree char *read = g_strdup_printf("rdpdr read %s/hello.txt: " HELLO_LOGGED, drive);
    g_autofree char *missing = g_strdup_printf("rdpdr failed %s/missing.txt open 0xc000000f",
                                               drive);
    g_autofree char *wrote = g_strdup_printf("rdpdr wrote %s/out.txt %zu", drive,
                                             strlen(WRITTEN));
    g_free(rt_expect_line(s, device, 10000));
    g_free(rt_expect_line(s, read, 10000));
    g_free(rt_expect_line(s, missing, 10000));
    g_free(rt_expect_line(s, wrote, 10000));
    g_autofree char *timed = g_strdup_printf("rdpdr timed %s/big.bin %d bytes ", drive, BIG_SIZE);
    g_autofree char *line = rt_expect_line(s, timed, 10000);
    g_autofree guint8 *bytes = big_bytes();
    g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, bytes, BIG_SIZE);
    g_autofree char *tail = g_strdup_printf(" ms " BIG_PIECE "-byte pieces sha256 %s", sum);
    g_assert_nonnull(strstr(line, tail));
    g_autofree char *out_path = g_build_filename(dir, "out.txt", NULL);
    g_autofree char *written = rt_read_text(out_path);
    g_assert_cmpstr(written, ==, WRITTEN);
}

/* `xdotool ARGS...` (NULL-terminated in @xdo): the server logs the key-down
 * scancodes @downs in this order, then the key-ups @ups in any order. */
static void press(RtSession *s, const char *const *xdo, const char *const *downs,
                  const char *const *ups)
{
    gsize mark = rt_log_mark(s);
    const char *argv[12] = {"xdotool"};
    for (size_t i = 0; xdo[i]; i++) {
        g_assert_cmpuint(i + 2, <, G_N_ELEMENTS(argv));
        argv[i + 1] = xdo[i];
    }
    g_autofree char *out = rt_run(argv, rt_world.env);
    g_assert_nonnull(out);
    for (size_t i = 0; downs[i]; i++) {
        g_autofree char *what = g_strdup_printf("input key %s down", downs[i]);
        g_free(rt_expect_next(s, &mark, what, 5000));
    }
    for (size_t i = 0; ups[i]; i++) {
        gsize after_downs = mark;
        g_autofree char *what = g_strdup_printf("input key %s up", ups[i]);
        g_free(rt_expect_next(s, &after_downs, what, 5000));
    }
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* In window @win, which shows the desktop 1:1 from its top left corner: a
 * click and the wheel at (100,200) arrive there, then keys once the window
 * has the focus arrive as the scancodes of the keys pressed (X keycodes
 * where the host layout must not matter). */
static void expect_mouse_and_keys(RtSession *s, const char *win)
{
    gsize mark = rt_log_mark(s);
    rt_xdo("mousemove", "--window", win, "100", "200", NULL);
    rt_xdo("click", "1", NULL);
    g_free(rt_expect_next(s, &mark, "input mouse 100 200 0x9000", 5000));
    g_free(rt_expect_next(s, &mark, "input mouse 100 200 0x1000", 5000));
    /* The far corner of vmdesk's 800x600 desktop (inside xfreerdp's
     * 1024x768), where an off-by-one would show. */
    rt_xdo("mousemove", "--window", win, "799", "599", NULL);
    g_free(rt_expect_next(s, &mark, "input mouse 799 599 0x0800", 5000));
    rt_xdo("mousemove", "--window", win, "100", "200", NULL);
    g_free(rt_expect_next(s, &mark, "input mouse 100 200 0x0800", 5000));
    /* PTR_FLAGS_WHEEL with 120 up; with PTR_FLAGS_WHEEL_NEGATIVE and -120
     * (9 bits) down. Servers ignore a wheel event's position (xfreerdp sends 0,0). */
    rt_xdo("click", "4", NULL);
    g_free(rt_expect_next(s, &mark, "input mouse * * 0x0278", 5000));
    rt_xdo("click", "5", NULL);
    g_free(rt_expect_next(s, &mark, "input mouse * * 0x0388", 5000));

    rt_xdo("windowfocus", "--sync", win, NULL);
    press(s, KEYS("key", "a"), KEYS("0x1e"), KEYS("0x1e"));
    press(s, KEYS("key", "shift+b"), KEYS("0x2a", "0x30"), KEYS("0x30", "0x2a"));
    press(s, KEYS("key", "Up"), KEYS("0xe048"), KEYS("0xe048"));
    /* The right Alt key (X keycode 108) is AltGr for the guest's layout:
     * E0 38, whatever it means on the host. AltGr+Q is @ on a German guest. */
    const char *const *altgr_q = KEYS("keydown", "108", "key", "24", "keyup", "108");
    press(s, altgr_q, KEYS("0xe038", "0x10"), KEYS("0x10", "0xe038"));
    /* With a German host layout, where that key is ISO_Level3_Shift and the
     * key left of 1 (keycode 49) a dead circumflex: the same scancodes. */
    rt_x("setxkbmap", "-layout", "de", NULL);
    press(s, altgr_q, KEYS("0xe038", "0x10"), KEYS("0x10", "0xe038"));
    press(s, KEYS("key", "49"), KEYS("0x29"), KEYS("0x29"));
    rt_x("setxkbmap", "-layout", "us", NULL);
    /* Pause (keycode 127) is E1 1D 45, as PC keyboards send it and xfreerdp
     * does; E0 46 would be Ctrl+Break. */
    g_test_message("Pause must arrive as 0xe11d 0x45 (E0 46 is Break)");
    press(s, KEYS("key", "127"), KEYS("0xe11d", "0x45"), KEYS("0xe11d", "0x45"));
}

/* The client's window @win resized to @ww x @wh: it sends a monitor layout
 * of @dw x @dh, the server resizes the desktop to it and reactivates the
 * client, and @win shows frame @frame_no at that size. */
static void expect_resize(RtSession *s, const char *win, unsigned ww, unsigned wh, unsigned dw,
                          unsigned dh, unsigned frame_no)
{
    gsize mark = rt_log_mark(s);
    g_autofree char *w = g_strdup_printf("%u", ww), *h = g_strdup_printf("%u", wh);
    rt_xdo("windowsize", win, w, h, NULL);
    g_autofree char *layout = g_strdup_printf("disp layout 1 monitors, primary %ux%u ", dw, dh);
    g_autofree char *resize = g_strdup_printf("resize %ux%u", dw, dh);
    g_autofree char *activated = g_strdup_printf("activated %ux%u ", dw, dh);
    g_autofree char *line = rt_expect_next(s, &mark, layout, 10000);
    g_test_message("%s", line);
    g_free(rt_expect_next(s, &mark, resize, 10000));
    g_free(rt_expect_next(s, &mark, activated, 10000));
    rt_expect_bars(win, dw, dh, frame_no, 0);
}

/* Waits for the client's activation at @w x @h; the tolerance its codec
 * needs (RemoteFX is lossy, planar exact). */
static int expect_activated(RtSession *s, unsigned w, unsigned h)
{
    g_autofree char *what = g_strdup_printf("activated %ux%u ", w, h);
    g_autofree char *line = rt_expect_line(s, what, CONNECT_MS);
    return g_str_has_suffix(line, " rfx") ? 40 : 0;
}

/* --- xfreerdp --- */

/* Default xfreerdp (it announces RemoteFX): picture, sound, drive, input. */
static void test_xfreerdp_default(void)
{
    g_autofree char *share = make_share("share");
    g_autofree char *tone = g_strdup_printf("%d:%d", TONE_HZ, TONE_MS);
    RtSession s = {0};
    GPtrArray *sargs = server_args("--sound-tone", tone, NULL);
    add_drive_ops(sargs, "share");
    server_start_with(&s, "xfreerdp", sargs);

    g_autofree char *rec = g_build_filename(rt_world.dir, "xfreerdp-tone.raw", NULL);
    g_autoptr(GSubprocess) recorder = rt_recorder_start(rec);
    g_autofree char *drive = g_strdup_printf("/drive:share,%s", share);
    xfreerdp_start(&s, "xfreerdp", KEYS("/sound:sys:pulse", drive, "/u:x", "/p:x"));

    g_free(rt_expect_line(&s, "client-connected 1024x768", CONNECT_MS));
    g_free(rt_expect_line(&s, "logon x", 1000));
    g_assert_cmpint(expect_activated(&s, 1024, 768), ==, 40); /* rfx */
    expect_drive_ops(&s, "share", share);
    rt_expect_sound(&s, recorder, rec, TONE_HZ, TONE_MS);

    g_autofree char *win = rt_wait_window(&s, "FreeRDP", NULL, 10000);
    rt_expect_bars(win, 1024, 768, 0, 40);
    expect_mouse_and_keys(&s, win);
    rt_session_finish(&s);
}

/* xfreerdp on a LAN profile (no RemoteFX: planar bitmaps) with dynamic
 * resolution: benchmark frames, then a smaller window resizes the desktop. */
static void test_xfreerdp_frames_and_resize(void)
{
    RtSession s = {0};
    server_start_with(&s, "frames", server_args("--frames", "60", NULL));
    xfreerdp_start(&s, "frames", KEYS("/network:lan", "/dynamic-resolution", "/u:x", "/p:x"));
    g_free(rt_expect_line(&s, "activated 1024x768 planar", CONNECT_MS));
    g_autofree char *done = rt_expect_line(&s, "frames-done 60 ", 30000);
    g_test_message("%s", done);
    g_autofree char *win = rt_wait_window(&s, "FreeRDP", NULL, 10000);
    rt_expect_bars(win, 1024, 768, 60, 0);
    g_free(rt_expect_line(&s, "disp ready", 10000));
    expect_resize(&s, win, 800, 600, 800, 600, 60);
    rt_session_finish(&s);
}

/* --sam turns NLA on: the right password gets in, a wrong one does not.
 * No --cert: the server makes its own. */
static void test_xfreerdp_nla(void)
{
    g_autofree char *sam = g_build_filename(rt_world.dir, "sam", NULL);
    tu_write_file(sam, "x:::" SECRET_NT_HASH ":::\n");
    RtSession s = {0};
    rt_server_start(&s, "nla", KEYS("--sam", sam));

    xfreerdp_start(&s, "nla-wrong", KEYS("/u:x", "/p:wrong"));
    g_assert_true(tu_subprocess_wait(s.client, 20000)); /* it gives up by itself */
    g_assert_false(g_subprocess_get_if_exited(s.client) &&
                   g_subprocess_get_exit_status(s.client) == 0);
    g_clear_object(&s.client);
    g_clear_pointer(&s.client_log, g_free);
    g_assert_null(rt_find_line(s.log, "client-connected"));

    xfreerdp_start(&s, "nla", KEYS("/u:x", "/p:secret"));
    g_free(rt_expect_line(&s, "client-connected", CONNECT_MS));
    g_free(rt_expect_line(&s, "logon x", 1000));
    rt_session_finish(&s);
}

/* --- vmdesk --- */

/* `vmdesk connect --no-audio` in a window on a larger screen: the server's
 * 800x600 desktop at 1:1 in a window of that size (the window follows the
 * server's size, not the 1024x768 it opened with), and input. */
static void test_vmdesk_picture_keys_mouse(void)
{
    RtSession s = {0};
    server_start_with(&s, "vmdesk-input", server_args("--size", "800x600", NULL));
    g_auto(GStrv) env = rt_vmdesk_env("vmdesk", rt_world.run_dir, false);
    rt_vmdesk_start(&s, "vmdesk-input", env, KEYS("--no-audio"));
    g_free(rt_expect_line(&s, "client-connected 800x600", CONNECT_MS));
    int tolerance = expect_activated(&s, 800, 600);
    g_autofree char *win = vmdesk_window(&s);
    rt_expect_bars(win, 800, 600, 0, tolerance);
    expect_mouse_and_keys(&s, win);
    vmdesk_stop(&s);
    rt_session_finish(&s);
}

/* The window's PulseAudio stream of a confined session's sound
 * (session/helper/helper_sound_window.c). */
#define RELAYED_STREAM "RDP sound (relayed from the session helper)"

/* `vmdesk connect` plays sound by default: PulseAudio found at
 * $XDG_RUNTIME_DIR/pulse/native, the tone in the sink's monitor. FreeRDP
 * runs in the session helper; the window relays the sound (its stream). */
static void test_vmdesk_sound(void)
{
    const char *name = "vmdesk-sound";
    g_autofree char *tone = g_strdup_printf("%d:%d", TONE_HZ, TONE_MS);
    RtSession s = {0};
    server_start_with(&s, name, server_args("--sound-tone", tone, NULL));
    g_autofree char *rec_name = g_strdup_printf("%s-tone.raw", name);
    g_autofree char *rec = g_build_filename(rt_world.dir, rec_name, NULL);
    g_autoptr(GSubprocess) recorder = rt_recorder_start(rec);
    g_auto(GStrv) env = rt_vmdesk_env("vmdesk", rt_world.run_dir, false);
    rt_vmdesk_start(&s, name, env, KEYS(NULL));
    g_free(rt_expect_line(&s, "client-connected 1024x768", CONNECT_MS));
    expect_activated(&s, 1024, 768);
    g_free(rt_expect_line(&s, "rdpsnd playing ", 10000));
    rt_expect_relayed_sound(&s, "sink-inputs", RELAYED_STREAM, 5000);
    rt_expect_sound(&s, recorder, rec, TONE_HZ, TONE_MS);
    g_autofree char *log = rt_read_text(s.client_log);
    g_assert_null(strstr(log, "no sound server"));
    vmdesk_stop(&s);
    rt_session_finish(&s);
}

/* With no sound server to reach (an empty XDG_RUNTIME_DIR, no PULSE_SERVER)
 * the session still connects and shows the desktop, and vmdesk says why
 * there is no sound. */
static void test_vmdesk_no_sound_server(void)
{
    if (g_file_test("/run/pulse/native", G_FILE_TEST_EXISTS)) {
        g_test_skip("a system-wide PulseAudio (/run/pulse/native) is always reachable");
        return;
    }
    const char *name = "vmdesk-no-sound";
    g_autofree char *run_name = g_strdup_printf("run-%s", name);
    g_autofree char *run_dir = g_build_filename(rt_world.dir, run_name, NULL);
    g_assert_cmpint(g_mkdir(run_dir, 0700), ==, 0);
    RtSession s = {0};
    server_start_with(&s, name, server_args(NULL));
    g_auto(GStrv) env = rt_vmdesk_env("vmdesk", run_dir, false);
    rt_vmdesk_start(&s, name, env, KEYS(NULL));
    g_free(rt_expect_line(&s, "client-connected 1024x768", CONNECT_MS));
    int tolerance = expect_activated(&s, 1024, 768);
    g_autofree char *win = vmdesk_window(&s);
    rt_expect_bars(win, 1024, 768, 0, tolerance);
    g_autofree char *log = rt_read_text(s.client_log);
    g_test_message("vmdesk said:\n%s", log);
    g_assert_nonnull(strstr(log, "vmdesk: warning: no sound server"));
    vmdesk_stop(&s);
    rt_session_finish(&s);
}

/* `vmdesk connect --drive share=DIR`: the server reads and writes files in DIR. */
static void test_vmdesk_drives(void)
{
    g_autofree char *share = make_share("vmdesk-share");
    RtSession s = {0};
    GPtrArray *sargs = server_args(NULL);
    add_drive_ops(sargs, "share");
    server_start_with(&s, "vmdesk-drives", sargs);
    g_auto(GStrv) env = rt_vmdesk_env("vmdesk", rt_world.run_dir, false);
    g_autofree char *drive = g_strdup_printf("share=%s", share);
    rt_vmdesk_start(&s, "vmdesk-drives", env, KEYS("--no-audio", "--drive", drive));
    g_free(rt_expect_line(&s, "client-connected 1024x768", CONNECT_MS));
    expect_drive_ops(&s, "share", share);
    vmdesk_stop(&s);
    rt_session_finish(&s);
}

/* A VM that never boots, whose RDP port is the server's: `vmdesk share`
 * reaches rdpdr as drive Z, and `vmdesk credentials` logs on through NLA
 * (the server's --sam), both through `vmdesk screenshot VM --protocol rdp`.
 * A wrong stored password is refused and said so. */
static void test_vmdesk_vm_share_nla(void)
{
    g_autofree char *share = make_share("vm-share");
    g_autofree char *sam = g_build_filename(rt_world.dir, "vm-sam", NULL);
    tu_write_file(sam, "x:::" SECRET_NT_HASH ":::\n");
    g_autofree char *right = g_build_filename(rt_world.dir, "right-password", NULL);
    g_autofree char *wrong = g_build_filename(rt_world.dir, "wrong-password", NULL);
    tu_write_file(right, "secret\n");
    tu_write_file(wrong, "wrong\n");
    RtSession s = {0};
    GPtrArray *sargs = server_args("--sam", sam, NULL);
    add_drive_ops(sargs, "Z");
    server_start_with(&s, "vmdesk-vm", sargs);
    g_auto(GStrv) env = rt_vmdesk_env("vmdesk", rt_world.run_dir, false);
    g_autofree char *port = g_strdup_printf("%u", s.port);
    g_autofree char *shot = g_build_filename(rt_world.dir, "vm-shot.png", NULL);
    g_autofree char *out = NULL;

    g_assert_cmpint(vmdesk_cmd(env, &out, "create", "t", "--disk", "0", "--os", "other",
                               "--rdp-port", port, NULL), ==, 0);
    g_clear_pointer(&out, g_free);
    g_assert_cmpint(vmdesk_cmd(env, &out, "share", "t", share, "--as", "Z", NULL), ==, 0);
    g_clear_pointer(&out, g_free);
    g_assert_cmpint(vmdesk_cmd(env, &out, "share", "t", "--list", NULL), ==, 0);
    g_autofree char *listed = g_strdup_printf("%s (RDP drive Z:", share);
    g_assert_nonnull(strstr(out, listed));
    g_clear_pointer(&out, g_free);

    /* A wrong password: NLA refuses it, no session. */
    g_assert_cmpint(vmdesk_cmd(env, &out, "credentials", "t", "--user", "x", "--password-file",
                               wrong, NULL), ==, 0);
    g_clear_pointer(&out, g_free);
    g_assert_cmpint(vmdesk_cmd(env, &out, "screenshot", "t", shot, "--protocol", "rdp", NULL),
                    !=, 0);
    g_assert_nonnull(strstr(out, "refused the user name or password for x"));
    g_clear_pointer(&out, g_free);
    g_assert_null(rt_find_line(s.log, "client-connected"));

    /* The right one: logged on, drive Z, the picture. */
    g_assert_cmpint(vmdesk_cmd(env, &out, "credentials", "t", "--user", "x", "--password-file",
                               right, NULL), ==, 0);
    g_clear_pointer(&out, g_free);
    g_assert_cmpint(vmdesk_cmd(env, &out, "screenshot", "t", shot, "--protocol", "rdp", NULL),
                    ==, 0);
    g_free(rt_expect_line(&s, "client-connected 1024x768", 1000));
    g_free(rt_expect_line(&s, "logon x", 1000));
    expect_drive_ops(&s, "Z", share);
    rt_expect_bars_in_png(shot, 1024, 768, 0, 0);
    rt_session_finish(&s);
}

/* The server takes the client's size (--size client): the desktop follows
 * vmdesk's window when it is resized, with even widths, and the window
 * shows the picture at the new size. */
static void test_vmdesk_dynamic_resolution(void)
{
    RtSession s = {0};
    server_start_with(&s, "vmdesk-resize", server_args("--size", "client", NULL));
    g_auto(GStrv) env = rt_vmdesk_env("vmdesk", rt_world.run_dir, false);
    rt_vmdesk_start(&s, "vmdesk-resize", env, KEYS("--no-audio"));
    /* The window opens at 1024x768. */
    g_free(rt_expect_line(&s, "client-connected 1024x768", CONNECT_MS));
    int tolerance = expect_activated(&s, 1024, 768);
    g_assert_cmpint(tolerance, ==, 0); /* planar: exact colours after the resizes */
    g_autofree char *win = vmdesk_window(&s);
    rt_expect_bars(win, 1024, 768, 0, 0);
    g_free(rt_expect_line(&s, "disp ready", 10000));
    expect_resize(&s, win, 900, 700, 900, 700, 0);
    /* An odd width: the layout has the even width below it, and the window
     * takes the desktop's size. */
    expect_resize(&s, win, 851, 651, 850, 651, 0);
    vmdesk_stop(&s);
    rt_session_finish(&s);
}

/* HiDPI: --scale 150 goes out as DesktopScaleFactor 150 and
 * DeviceScaleFactor 140 in the connection's core data and in every monitor
 * layout; without --scale the display's scale (GDK_SCALE=2: 200 and 180). */
static void test_vmdesk_hidpi(void)
{
    RtSession s = {0};
    server_start_with(&s, "vmdesk-hidpi", server_args("--size", "client", NULL));
    g_auto(GStrv) env = rt_vmdesk_env("vmdesk", rt_world.run_dir, false);
    rt_vmdesk_start(&s, "vmdesk-hidpi", env, KEYS("--no-audio", "--scale", "150"));
    gsize mark = 0;
    g_free(rt_expect_next(&s, &mark, "client-connected 1024x768", CONNECT_MS));
    g_free(rt_expect_next(&s, &mark, "client-scale 150 device 140", 1000));
    g_free(rt_expect_next(&s, &mark, "disp ready", 10000));
    g_autofree char *win = vmdesk_window(&s);
    rt_xdo("windowsize", win, "900", "700", NULL);
    g_free(rt_expect_next(&s, &mark, "disp layout 1 monitors, primary 900x700 scale 150 device 140",
                          10000));
    g_free(rt_expect_next(&s, &mark, "resize 900x700", 10000));
    vmdesk_stop(&s);
    g_free(rt_expect_next(&s, &mark, "disconnected", 10000));
    g_clear_pointer(&s.client_log, g_free);

    char **env2 = g_environ_setenv(g_strdupv(env), "GDK_SCALE", "2", TRUE);
    rt_vmdesk_start(&s, "vmdesk-hidpi-gdk", env2, KEYS("--no-audio"));
    g_strfreev(env2);
    g_free(rt_expect_next(&s, &mark, "client-connected 1024x768", CONNECT_MS));
    g_free(rt_expect_next(&s, &mark, "client-scale 200 device 180", 1000));
    g_free(rt_expect_next(&s, &mark, "disp ready", 10000));
    g_free(win);
    win = vmdesk_window(&s);
    rt_xdo("windowsize", win, "900", "700", NULL);
    g_free(rt_expect_next(&s, &mark, "disp layout 1 monitors, primary 900x700 scale 200 device 180",
                          10000));
    vmdesk_stop(&s);
    g_free(rt_expect_next(&s, &mark, "disconnected", 10000));
    rt_session_finish(&s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    rt_world_start();
    g_test_add_func("/rdp-server/xfreerdp/default", test_xfreerdp_default);
    g_test_add_func("/rdp-server/xfreerdp/frames-and-resize", test_xfreerdp_frames_and_resize);
    g_test_add_func("/rdp-server/xfreerdp/nla", test_xfreerdp_nla);
    rt_add_rail_tests();
    g_test_add_func("/rdp-server/vmdesk/picture-keys-mouse", test_vmdesk_picture_keys_mouse);
    g_test_add_func("/rdp-server/vmdesk/sound", test_vmdesk_sound);
    g_test_add_func("/rdp-server/vmdesk/no-sound-server", test_vmdesk_no_sound_server);
    g_test_add_func("/rdp-server/vmdesk/drives", test_vmdesk_drives);
    g_test_add_func("/rdp-server/vmdesk/vm-share-nla", test_vmdesk_vm_share_nla);
    g_test_add_func("/rdp-server/vmdesk/dynamic-resolution", test_vmdesk_dynamic_resolution);
    g_test_add_func("/rdp-server/vmdesk/hidpi", test_vmdesk_hidpi);
    rt_add_vmdesk_rail_tests();
    rt_add_clip_tests();
    rt_add_clip_rich_tests();
    rt_add_audin_tests();
    rt_add_hang_tests();
    int rc = g_test_run();
    rt_world_finish();
    return rc;
}
