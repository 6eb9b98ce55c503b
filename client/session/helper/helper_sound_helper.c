/* The helper side of relayed sound (helper_sound.h): the format rule both
 * sides share, and the microphone's receiver for what the window records. */
#include "session/helper/helper_sound.h"

bool helper_sound_format_ok(const HelperSoundFormat *f)
{
    return f->rate >= HELPER_SOUND_RATE_MIN && f->rate <= HELPER_SOUND_RATE_MAX &&
           (f->channels == 1 || f->channels == 2) && (f->bits == 8 || f->bits == 16);
}

/* The receiver; the lock also keeps a call from overlapping its removal. */
static GMutex mic_lock;
static HelperMicFunc mic_func;
static void *mic_data;

void helper_sound_set_mic(HelperMicFunc func, void *data)
{
    g_mutex_lock(&mic_lock);
    mic_func = func;
    mic_data = data;
    g_mutex_unlock(&mic_lock);
}

void helper_sound_input(const HelperMsg *m)
{
    HelperReader r;
    helper_reader_init(&r, m->payload, m->len);
    if (m->type != HELPER_MSG_MIC_PCM)
        return;
    uint32_t n = helper_get_u32(&r);
    const uint8_t *pcm = helper_get_bytes(&r, n);
    if (!helper_reader_done(&r) || n == 0)
        return;
    g_mutex_lock(&mic_lock);
    if (mic_func)
        mic_func(mic_data, pcm, n);
    g_mutex_unlock(&mic_lock);
}
