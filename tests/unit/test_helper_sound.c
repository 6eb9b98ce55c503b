/* The window side of relayed sound (client/session/helper/helper_sound_window.c):
 * what a hostile helper may send is refused, and a flood stays within the
 * player's queue. The player is held (helper_sound_priv.h): nothing here
 * reaches a sound server; the rdp-server tests play through a real one. */
#include "common/error.h"
#include "session/helper/helper_sound_priv.h"
#include "session/session_priv.h"
#include "test_session_stub.h"

#include <string.h>

/* A message of @type whose payload is the u32s in @v (@n of them), then
 * @extra bytes of @pcm_len PCM when @pcm_len. Backed by @b. */
static HelperMsg msg(GByteArray *b, uint32_t type, const uint32_t *v, size_t n, uint32_t pcm_len)
{
    helper_msg_begin(b, type);
    for (size_t i = 0; i < n; i++)
        helper_put_u32(b, v[i]);
    if (pcm_len) {
        helper_put_u32(b, pcm_len);
        g_byte_array_set_size(b, b->len + pcm_len);
        memset(b->data + b->len - pcm_len, 0x11, pcm_len);
    }
    return (HelperMsg){.type = type, .payload = b->data + 8, .len = b->len - 8, .fd = -1};
}

static void expect_refused(HelperSound *hs, HelperMsg m, const char *why)
{
    g_autoptr(GError) err = NULL;
    if (helper_sound_apply(hs, &m, &err))
        g_error("accepted: %s", why);
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_test_message("%s: %s", why, err->message);
}

static void expect_taken(HelperSound *hs, HelperMsg m)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(helper_sound_apply(hs, &m, &err));
    g_assert_no_error(err);
}

static void test_hostile(void)
{
    Session *s = session_alloc(&test_impl, NULL, NULL, NULL);
    HelperSound *hs = helper_sound_create(s, "test");
    helper_sound_hold_player(hs);
    g_autoptr(GByteArray) b = g_byte_array_new();
    const uint32_t cd[] = {44100, 2, 16};
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_PCM, NULL, 0, 400), "sound before its format");
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_OPEN, (uint32_t[]){7999, 2, 16}, 3, 0), "7999 Hz");
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_OPEN, (uint32_t[]){192001, 2, 16}, 3, 0),
                   "192001 Hz");
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_OPEN, (uint32_t[]){44100, 3, 16}, 3, 0),
                   "3 channels");
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_OPEN, (uint32_t[]){44100, 0, 16}, 3, 0),
                   "no channels");
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_OPEN, (uint32_t[]){44100, 2, 24}, 3, 0),
                   "24-bit");
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_OPEN, cd, 2, 0), "a format cut short");
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_OPEN, (uint32_t[]){44100, 2, 16, 0}, 4, 0),
                   "a format with bytes left over");
    expect_taken(hs, msg(b, HELPER_MSG_SOUND_OPEN, cd, 3, 0));
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_PCM, NULL, 0, 402), "a torn frame");
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_PCM, NULL, 0, HELPER_SOUND_PCM_MAX + 4),
                   "more than a second of the largest format");
    HelperMsg lying = msg(b, HELPER_MSG_SOUND_PCM, NULL, 0, 400);
    lying.len -= 4; /* claims 400 bytes, has 396 */
    expect_refused(hs, lying, "a length beyond the message");
    HelperMsg with_fd = msg(b, HELPER_MSG_SOUND_PCM, NULL, 0, 400);
    with_fd.fd = 0;
    expect_refused(hs, with_fd, "a descriptor with sound");
    expect_refused(hs, msg(b, 0x6f, NULL, 0, 0), "a sound message of unknown type");
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_VOLUME, NULL, 0, 0), "a volume without a value");
    expect_refused(hs, msg(b, HELPER_MSG_MIC_OPEN, (uint32_t[]){44100, 2, 16}, 3, 0),
                   "a microphone without a packet size");
    expect_refused(hs, msg(b, HELPER_MSG_MIC_OPEN, (uint32_t[]){44100, 2, 8000, 441}, 4, 0),
                   "an 8000-bit microphone");
    expect_refused(hs, msg(b, HELPER_MSG_MIC_PCM, NULL, 0, 400), "the window's own message");
    expect_taken(hs, msg(b, HELPER_MSG_SOUND_PCM, NULL, 0, 400));
    expect_taken(hs, msg(b, HELPER_MSG_SOUND_VOLUME, (uint32_t[]){0x8000ffff}, 1, 0));
    expect_taken(hs, msg(b, HELPER_MSG_SOUND_CLOSE, NULL, 0, 0));
    expect_refused(hs, msg(b, HELPER_MSG_SOUND_PCM, NULL, 0, 400), "sound after its close");
    helper_sound_destroy(hs);
    session_destroy(s);
}

/* A helper that sends far more than plays: the queue keeps at most three
 * seconds of sound and 1024 messages; the rest is dropped, not kept. */
static void test_flood(void)
{
    Session *s = session_alloc(&test_impl, NULL, NULL, NULL);
    HelperSound *hs = helper_sound_create(s, "test");
    helper_sound_hold_player(hs);
    g_autoptr(GByteArray) b = g_byte_array_new();
    expect_taken(hs, msg(b, HELPER_MSG_SOUND_OPEN, (uint32_t[]){44100, 2, 16}, 3, 0));
    /* A minute of sound in 100 ms pieces. */
    for (int i = 0; i < 600; i++)
        expect_taken(hs, msg(b, HELPER_MSG_SOUND_PCM, NULL, 0, 4410 * 4));
    unsigned items;
    size_t bytes;
    helper_sound_queued(hs, &items, &bytes);
    g_test_message("queued %u messages, %zu bytes", items, bytes);
    g_assert_cmpuint(bytes, <=, 3 * 44100 * 4);
    g_assert_cmpuint(bytes, >=, 3 * 44100 * 4 - 4410 * 4);
    for (int i = 0; i < 10000; i++)
        expect_taken(hs, msg(b, HELPER_MSG_SOUND_VOLUME, (uint32_t[]){(uint32_t)i}, 1, 0));
    helper_sound_queued(hs, &items, &bytes);
    g_assert_cmpuint(items, ==, 1024);
    helper_sound_destroy(hs);
    session_destroy(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/helper-sound/hostile", test_hostile);
    g_test_add_func("/helper-sound/flood", test_flood);
    return g_test_run();
}
