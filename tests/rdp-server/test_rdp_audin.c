/* The microphone (audin) against vmdesk-test-rdp-server --microphone HZ:
 * the world's PulseAudio gets a sine source (module-sine-source) as its
 * default source, the client records it as it would a microphone and sends
 * it over audin, and the server says what it heard: the strongest frequency,
 * the level, and the amplitude at HZ against 0.75 HZ and 1.5 HZ. xfreerdp
 * /microphone proves the server and the checks (first with no sine source:
 * the server must hear silence, not a tone); vmdesk's desktop window and
 * its RemoteApp mode are what they test. */
#include "rdp_test_harness.h"
#include "test_util.h"

#include <stdio.h>
#include <string.h>

#define CONNECT_MS 20000
#define MIC_HZ 660
#define MIC_ARG "660"

/* The server's "audin heard" line, parsed. */
typedef struct {
    unsigned ms, peak_hz, hz;
    double level, tone, low, high;
} Heard;

/* Loads a @hz module-sine-source into the world's PulseAudio and makes it
 * the default source; returns the module's index for unload_sine. */
static char *load_sine(int hz)
{
    g_autofree char *freq = g_strdup_printf("frequency=%d", hz);
    const char *load[] = {"pactl", "load-module", "module-sine-source", "source_name=vmdesk_sine",
                          freq, NULL};
    char *index = rt_run(load, rt_world.env);
    g_assert_nonnull(index);
    g_strstrip(index);
    const char *def[] = {"pactl", "set-default-source", "vmdesk_sine", NULL};
    g_autofree char *out = rt_run(def, rt_world.env);
    g_assert_nonnull(out);
    return index;
}

/* Unloads the sine source: the default source is the null sink's monitor
 * again, which is silent. */
static void unload_sine(char *index)
{
    const char *argv[] = {"pactl", "unload-module", index, NULL};
    g_autofree char *out = rt_run(argv, rt_world.env);
    g_assert_nonnull(out);
    g_free(index);
}

/* The audin sequence in the server's log: formats, the one chosen (44.1 kHz
 * 16-bit stereo, our first), the client's open result (S_OK), the first
 * samples and what 1.5 s of them held. Reports the figures with g_test_message. */
static Heard expect_audin(RtSession *s, const char *what)
{
    gsize mark = 0;
    g_autofree char *formats = rt_expect_next(s, &mark, "audin formats ", CONNECT_MS);
    g_assert_cmpint(atoi(formats + strlen("audin formats ")), >, 0);
    g_free(rt_expect_next(s, &mark, "audin format 44100 16 2", 1000));
    /* FreeRDP clients start recording before they send the result: the
     * first samples may come first. */
    g_autofree char *result = rt_expect_line(s, "audin open-result 0x00000000 ", 10000);
    g_autofree char *first = rt_expect_line(s, "audin first-samples ", 10000);
    g_autofree char *heard = rt_expect_next(s, &mark, "audin heard ", 10000);
    Heard h = {0};
    int n = sscanf(heard, "audin heard %u ms peak-hz %u level %lf tone %u %lf low %lf high %lf",
                   &h.ms, &h.peak_hz, &h.level, &h.hz, &h.tone, &h.low, &h.high);
    g_assert_cmpint(n, ==, 7);
    g_test_message("%s: %s; %s; %s", what, result, first, heard);
    g_assert_cmpuint(h.ms, ==, 1500);
    g_assert_cmpuint(h.hz, ==, MIC_HZ);
    return h;
}

/* What the server heard is the tone: the strongest frequency is HZ, loud
 * enough, and HZ stands at least 100 times above its neighbours. */
static void expect_tone(const Heard *h)
{
    g_assert_cmpuint(h->peak_hz, >=, MIC_HZ - 10);
    g_assert_cmpuint(h->peak_hz, <=, MIC_HZ + 10);
    g_assert_cmpfloat(h->level, >, 1000);
    g_assert_cmpfloat(h->tone, >, 1000);
    g_assert_cmpfloat(h->low, <, h->tone / 100);
    g_assert_cmpfloat(h->high, <, h->tone / 100);
}

static void server_start(RtSession *s, const char *name, bool rail)
{
    const char *args[] = {"--cert", rt_world.cert, "--key", rt_world.key, "--microphone", MIC_ARG,
                          rail ? "--rail" : NULL, NULL};
    rt_server_start(s, name, args);
}

/* xfreerdp /microphone:sys:pulse, first with nothing but the silent
 * monitor to record (the server must not hear a tone), then with the sine. */
static void test_xfreerdp_microphone(void)
{
    const char *cargs[] = {"/u:x", "/p:x", "/microphone:sys:pulse", NULL};
    RtSession s = {0};
    server_start(&s, "xfreerdp-mic-silent", false);
    rt_xfreerdp_start(&s, "xfreerdp-mic-silent", cargs);
    Heard quiet = expect_audin(&s, "no sine source");
    g_assert_cmpfloat(quiet.level, <, 100);
    g_assert_cmpfloat(quiet.tone, <, 100);
    rt_session_finish(&s);

    char *sine = load_sine(MIC_HZ);
    RtSession t = {0};
    server_start(&t, "xfreerdp-mic", false);
    rt_xfreerdp_start(&t, "xfreerdp-mic", cargs);
    Heard h = expect_audin(&t, "sine source");
    rt_session_finish(&t);
    unload_sine(sine);
    expect_tone(&h);
}

/* `vmdesk connect rdp://127.0.0.1:PORT [--app PROGRAM]`, sound on. */
static void vmdesk_start(RtSession *s, const char *name, const char *program)
{
    const char *args[] = {program ? "--app" : NULL, program, NULL};
    g_auto(GStrv) env = rt_vmdesk_env("mic", rt_world.run_dir, true);
    rt_vmdesk_start(s, name, env, args);
}

/* Ends vmdesk (it exits 0 on SIGTERM) and the session. */
static void vmdesk_finish(RtSession *s)
{
    int status = rt_client_stop(s);
    if (status != 0) {
        g_autofree char *log = rt_read_text(s->client_log);
        g_error("vmdesk exited with %d on SIGTERM, not 0; its output:\n%s", status, log);
    }
    rt_session_finish(s);
}

/* `vmdesk connect`: the microphone is on with the sound. FreeRDP runs in
 * the session helper: the window records the microphone and relays it to the
 * helper, where FreeRDP's audin sends it; what the server heard is checked. */
static void test_vmdesk_microphone(void)
{
    char *sine = load_sine(MIC_HZ);
    RtSession s = {0};
    server_start(&s, "vmdesk-mic", false);
    vmdesk_start(&s, "vmdesk-mic", NULL);
    Heard h = expect_audin(&s, "vmdesk");
    rt_expect_relayed_sound(&s, "source-outputs",
                            "RDP microphone (relayed to the session helper)", 5000);
    g_autofree char *log = rt_read_text(s.client_log);
    g_test_message("vmdesk said:\n%s", log);
    g_assert_null(strstr(log, "no sound server"));
    g_assert_null(strstr(log, "dropped"));
    vmdesk_finish(&s);
    unload_sine(sine);
    expect_tone(&h);
}

/* The same in RemoteApp mode, while notepad's window is open. */
static void test_vmdesk_rail_microphone(void)
{
    char *sine = load_sine(MIC_HZ);
    RtSession s = {0};
    server_start(&s, "vmdesk-rail-mic", true);
    vmdesk_start(&s, "vmdesk-rail-mic", "notepad");
    g_autofree char *win = rt_wait_window(&s, "notepad - vmdesk test", NULL, CONNECT_MS);
    rt_wait_window_viewable(&s, win, 10000);
    Heard h = expect_audin(&s, "vmdesk --app");
    vmdesk_finish(&s);
    unload_sine(sine);
    expect_tone(&h);
}

void rt_add_audin_tests(void)
{
    g_test_add_func("/rdp-server/xfreerdp/microphone", test_xfreerdp_microphone);
    g_test_add_func("/rdp-server/vmdesk/microphone", test_vmdesk_microphone);
    g_test_add_func("/rdp-server/vmdesk/rail-microphone", test_vmdesk_rail_microphone);
}
