/* The clipboard (cliprdr) against vmdesk-test-rdp-server --clipboard TEXT:
 * the server's text lands on the host's X clipboard (read with xclip -o),
 * and text copied on the host (an xclip serving it) reaches the server,
 * which logs it. xfreerdp proves the server and the checks; vmdesk's
 * desktop window and its RemoteApp windows are what they test. */
#include "rdp_test_harness.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_MS 20000
#define SERVER_TEXT "from the server 41"
#define HOST_TEXT "from the host 42\nsecond line, \"quoted\""
#define HOST_LOGGED "from the host 42\\nsecond line, \"quoted\""
#define SERVER_TEXT_2 "copied on the server 43"
#define HUNG_TEXT "copied by a program that hangs 44"

/* The host's clipboard text (xclip -o), NULL when there is none. The
 * timeout: a clipboard owner that never answers must not hang the test. */
static char *host_clipboard(void)
{
    const char *argv[] = {"timeout", "5", "xclip", "-o", "-selection", "clipboard", NULL};
    return rt_run(argv, rt_world.env);
}

/* Waits up to @timeout_ms for the host clipboard to hold @want; aborts with
 * the session's logs and what it held if not. */
static void expect_host_clipboard(RtSession *s, const char *want, int timeout_ms)
{
    timeout_ms = tu_timeout_ms(timeout_ms);
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autofree char *have = NULL;
    for (;;) {
        g_free(have);
        have = host_clipboard();
        if (!g_strcmp0(have, want))
            return;
        if (g_get_monotonic_time() > end)
            break;
        g_usleep(200 * 1000);
    }
    g_autofree char *srv = rt_read_text(s->log);
    g_autofree char *cli = rt_read_text(s->client_log);
    g_error("the host clipboard holds %s%s%s, not \"%s\", after %d ms\nserver:\n%s\n%s:\n%s",
            have ? "\"" : "", have ? have : "nothing", have ? "\"" : "", want, timeout_ms, srv,
            s->client_name, cli);
}

/* Copies @text on the host: an xclip that owns the clipboard and serves
 * it until another copy takes the clipboard, when it exits by itself, or
 * until stopped (-quiet: in the foreground, so that it can be stopped; its
 * output goes to a file, not to a pipe of ours). Returns once the
 * clipboard holds it.
 *
 * Stop it only when the client is done asking: SDL 2.26 waits 1 s for an
 * owner that never answers, then takes the clipboard itself, empty (a
 * copy replacing a copy, as a user makes it, answers every request). */
static GSubprocess *host_copy(RtSession *s, const char *name, const char *text)
{
    g_autofree char *file = g_strdup_printf("%s/%s-copied.txt", rt_world.dir, name);
    g_autofree char *log = g_strdup_printf("%s/%s-xclip.log", rt_world.dir, name);
    tu_write_file(file, text);
    const char *argv[] = {"xclip", "-quiet", "-selection", "clipboard", "-i", file, NULL};
    GSubprocess *p = rt_spawn(argv, rt_world.env, log, log);
    expect_host_clipboard(s, text, 5000);
    return p;
}

/* Copies @text on the host (ending the copy in *@xclip first) until
 * xfreerdp sends it: the server logs @logged after *@mark. xfreerdp 2.11
 * loses a copy made just after an owner change at times (1 run in 8 here):
 * it announces its whole static list of formats, fails the server's request
 * for the text, then announces none; a copy made again goes through. */
static void xfreerdp_copy(RtSession *s, gsize *mark, const char *name, const char *text,
                          const char *logged, GSubprocess **xclip)
{
    g_autofree char *want = g_strdup_printf("clipboard from-client %s", logged);
    for (int attempt = 1; attempt <= 3; attempt++) {
        if (*xclip) {
            rt_stop(*xclip, SIGTERM);
            g_clear_object(xclip);
        }
        g_autofree char *xname = g_strdup_printf("%s-%d", name, attempt);
        *xclip = host_copy(s, xname, text);
        gint64 end = g_get_monotonic_time() + (gint64)tu_timeout_ms(5000) * 1000;
        while (g_get_monotonic_time() < end) {
            g_autofree char *log = rt_read_text(s->log);
            g_autofree char *line = g_strconcat(RT_PREFIX, want, "\n", NULL);
            if (strlen(log) > *mark && strstr(log + *mark, line)) {
                g_free(rt_expect_next(s, mark, want, 1000));
                return;
            }
            g_usleep(100 * 1000);
        }
        g_test_message("xfreerdp did not send copy %d of \"%s\"; copying again", attempt, logged);
    }
    g_free(rt_expect_next(s, mark, want, 1)); /* fails, with the logs */
}

/* xfreerdp +clipboard: the server's text on the host, the host's text on
 * the server. */
static void test_xfreerdp_clipboard(void)
{
    RtSession s = {0};
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key,
                          "--clipboard", SERVER_TEXT, NULL};
    rt_server_start(&s, "xfreerdp-clip", args);
    const char *cargs[] = {"/u:x", "/p:x", "+clipboard", NULL};
    rt_xfreerdp_start(&s, "xfreerdp-clip", cargs);
    g_free(rt_expect_line(&s, "clipboard ready", CONNECT_MS));
    expect_host_clipboard(&s, SERVER_TEXT, 10000);
    g_free(rt_expect_line(&s, "clipboard served 18", 1000));
    gsize mark = rt_log_mark(&s);
    g_autoptr(GSubprocess) xclip = NULL;
    xfreerdp_copy(&s, &mark, "xfreerdp-clip", HOST_TEXT, HOST_LOGGED, &xclip);
    /* The server's earlier text copied again on the host: the server's
     * clipboard holds the host's text now, so this is news to it. */
    xfreerdp_copy(&s, &mark, "xfreerdp-clip-again", SERVER_TEXT, SERVER_TEXT, &xclip);
    rt_session_finish(&s);
    rt_stop(xclip, SIGTERM);
}

/* `vmdesk connect rdp://127.0.0.1:PORT --no-audio [--app PROGRAM]` in the
 * background. */
static void vmdesk_start(RtSession *s, const char *name, const char *program)
{
    const char *args[] = {"--no-audio", program ? "--app" : NULL, program, NULL};
    g_auto(GStrv) env = rt_vmdesk_env("clip", NULL, true);
    rt_vmdesk_start(s, name, env, args);
}

/* The user goes to another window (here: the root window, there is no
 * window manager). */
static void focus_root(void)
{
    const char *argv[] = {"xwininfo", "-root", NULL};
    g_autofree char *info = rt_run(argv, rt_world.env);
    g_assert_nonnull(info);
    const char *id = strstr(info, "Window id: ");
    g_assert_nonnull(id);
    g_autofree char *root = g_strndup(id + 11, strcspn(id + 11, " \n"));
    rt_xdo("windowfocus", "--sync", root, NULL);
}

/* ... and comes back to @win (rdp_test_harness.h). */
void rt_clip_refocus(const char *win)
{
    focus_root();
    rt_xdo("windowfocus", "--sync", win, NULL);
}

/* The text both ways through the window @win: the server's text is on the
 * host once connected; text copied on the host goes to the server when the
 * user comes to the window, also when it is the server's earlier text.
 * Returns the xclip serving the last copy, for the caller to stop once the
 * client is gone. */
static GSubprocess *expect_both_ways(RtSession *s, const char *name, const char *win)
{
    expect_host_clipboard(s, SERVER_TEXT, 10000);
    g_free(rt_expect_line(s, "clipboard served 18", 1000));
    gsize mark = rt_log_mark(s);
    g_autoptr(GSubprocess) xclip = host_copy(s, name, HOST_TEXT);
    rt_clip_refocus(win);
    g_free(rt_expect_next(s, &mark, "clipboard from-client " HOST_LOGGED, 10000));
    /* The server's clipboard holds the host's text now: the server's
     * earlier text copied again on the host is news to it. */
    g_autofree char *again_name = g_strdup_printf("%s-again", name);
    GSubprocess *again = host_copy(s, again_name, SERVER_TEXT);
    rt_clip_refocus(win);
    g_free(rt_expect_next(s, &mark, "clipboard from-client " SERVER_TEXT, 10000));
    g_assert_true(tu_subprocess_wait(xclip, 5000)); /* the new copy replaced it */
    return again;
}

/* The desktop window. */
static void test_vmdesk_clipboard(void)
{
    RtSession s = {0};
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--size", "800x600",
                          "--clipboard", SERVER_TEXT, NULL};
    rt_server_start(&s, "vmdesk-clip", args);
    vmdesk_start(&s, "vmdesk-clip", NULL);
    g_free(rt_expect_line(&s, "clipboard ready", CONNECT_MS));
    g_autofree char *prefix = g_strdup_printf("rdp://127.0.0.1:%u ", s.port);
    g_autofree char *win = rt_wait_window(&s, prefix, "RDP", CONNECT_MS);
    g_autoptr(GSubprocess) xclip = expect_both_ways(&s, "vmdesk-clip", win);
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    rt_stop(xclip, SIGTERM);
}

/* RemoteApp: notepad's window (client/ui/app_window.c, its own clipboard handling). */
static void test_vmdesk_rail_clipboard(void)
{
    RtSession s = {0};
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--rail",
                          "--clipboard", SERVER_TEXT, NULL};
    rt_server_start(&s, "vmdesk-rail-clip", args);
    vmdesk_start(&s, "vmdesk-rail-clip", "notepad");
    g_free(rt_expect_line(&s, "clipboard ready", CONNECT_MS));
    g_autofree char *win = rt_wait_window(&s, "notepad - vmdesk test", NULL, CONNECT_MS);
    rt_wait_window_viewable(&s, win, 10000);
    g_autoptr(GSubprocess) xclip = expect_both_ways(&s, "vmdesk-rail-clip", win);
    /* A copy on the server (the server's `copy` command) takes the host's
     * clipboard; after it, the host's earlier copy, copied again, is news
     * to the server. */
    gsize mark = rt_log_mark(&s);
    rt_server_command(&s, "copy " SERVER_TEXT_2);
    expect_host_clipboard(&s, SERVER_TEXT_2, 10000);
    g_free(rt_expect_next(&s, &mark, "clipboard served 23", 1000));
    g_assert_true(tu_subprocess_wait(xclip, 5000)); /* vmdesk took the clipboard */
    g_autoptr(GSubprocess) again = host_copy(&s, "vmdesk-rail-clip-3", SERVER_TEXT);
    rt_clip_refocus(win);
    g_free(rt_expect_next(&s, &mark, "clipboard from-client " SERVER_TEXT, 10000));

    /* A program that hangs while it holds the clipboard: vmdesk's looks at
     * the clipboard (on focus, then every 1.5 s) never take it away (SDL
     * 2.26's getter would, empty, after 1 s), and once the program answers
     * again its text goes to the server. The copy is made while the focus
     * is elsewhere, so that vmdesk first looks while the program hangs. */
    focus_root();
    g_autoptr(GSubprocess) hung = host_copy(&s, "vmdesk-rail-clip-hung", HUNG_TEXT);
    g_assert_true(tu_subprocess_wait(again, 5000)); /* the new copy replaced it */
    int hung_pid = atoi(g_subprocess_get_identifier(hung));
    g_assert_cmpint(kill(hung_pid, SIGSTOP), ==, 0);
    mark = rt_log_mark(&s);
    rt_xdo("windowfocus", "--sync", win, NULL);
    g_usleep((gulong)tu_timeout_ms(4000) * 1000); /* the look on focus and two polls */
    g_assert_cmpint(kill(hung_pid, SIGCONT), ==, 0);
    g_free(rt_expect_next(&s, &mark, "clipboard from-client " HUNG_TEXT, 10000));
    expect_host_clipboard(&s, HUNG_TEXT, 2000);
    g_assert_nonnull(g_subprocess_get_identifier(hung)); /* still the owner: it runs */
    g_assert_cmpint(rt_client_stop(&s), ==, 0);
    rt_session_finish(&s);
    rt_stop(hung, SIGTERM);
}

void rt_add_clip_tests(void)
{
    g_test_add_func("/rdp-server/xfreerdp/clipboard", test_xfreerdp_clipboard);
    g_test_add_func("/rdp-server/vmdesk/clipboard", test_vmdesk_clipboard);
    g_test_add_func("/rdp-server/vmdesk/rail-clipboard", test_vmdesk_rail_clipboard);
}
