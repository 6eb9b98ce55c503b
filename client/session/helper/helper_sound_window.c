/* The window side of relayed sound (helper_sound.h): what the helper sends
 * is checked on the session thread and queued for a player thread that
 * writes it to PulseAudio (pa_simple: its blocking write paces the thread);
 * a recorder thread reads the microphone while the helper asks for it and
 * queues chunks for the session thread to send. Both queues are bounded:
 * a helper that floods loses its own sound, with a log line, and the
 * window's memory stays put. */
#include "session/helper/helper_sound_priv.h"

#include "session/session_priv.h"

#include "common/error.h"
#include "common/log.h"

#include <pulse/error.h>
#include <pulse/sample.h>
#include <pulse/simple.h>
#include <pulse/timeval.h>

#include <string.h>
#include <unistd.h>

/* The player keeps at most this much queued (at the current format's rate)
 * and this many messages; more is dropped. Three seconds: the sound
 * server's stream may take a second or two to open on a loaded machine (a
 * one-second queue lost the start of a tone in the tests), while the
 * server paces itself in real time. */
#define PLAY_QUEUE_MS 3000
#define PLAY_QUEUE_ITEMS 1024
/* PulseAudio's buffer for the stream: what the guest's sound lags by. */
#define PLAY_LATENCY_MS 200
/* Recorded sound waiting for the session thread (whole chunks), and a
 * chunk's length. */
#define MIC_QUEUE_MS 2000
#define MIC_CHUNK_MS_MAX 100
/* At most one log line per this many seconds about dropped sound. */
#define DROP_LOG_S 5

/* The stream's name in the sound server's list (pavucontrol, pactl). */
#define STREAM_NAME "RDP sound (relayed from the session helper)"
#define MIC_STREAM_NAME "RDP microphone (relayed to the session helper)"

typedef enum { ITEM_OPEN, ITEM_PCM, ITEM_VOLUME, ITEM_CLOSE } ItemKind;

typedef struct {
    ItemKind kind;
    HelperSoundFormat format;  /* ITEM_OPEN */
    uint32_t volume;           /* ITEM_VOLUME */
    GBytes *pcm;               /* ITEM_PCM */
} Item;

struct HelperSound {
    Session *s;
    char *where;

    /* The session thread's view: the format the helper last opened. */
    HelperSoundFormat format;
    bool open;

    GMutex lock;               /* guards the player's queue and the flags */
    GCond cond;
    GQueue items;
    size_t queued_bytes;
    bool stopping;
    bool held;                 /* a test's: no player thread */
    GThread *player;
    uint64_t dropped;          /* bytes dropped since the last log line */
    gint64 drop_logged;        /* monotonic us */

    /* The recorder. */
    GThread *recorder;
    gint rec_stop;             /* atomic */
    HelperSoundFormat mic_format;
    unsigned mic_chunk;        /* bytes per chunk */
    GMutex mic_lock;           /* guards @mic and @mic_dropped */
    GQueue mic;                /* GBytes, oldest first */
    unsigned mic_dropped;
    gint64 mic_taken;          /* when the session thread last took a chunk */
};

static bool bad(GError **error, const char *what)
{
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "the session helper sent %s", what);
    return false;
}

static Item *item_new(const Item *it)
{
    return g_memdup2(it, sizeof(*it));
}

static void item_free(Item *it)
{
    if (it->pcm)
        g_bytes_unref(it->pcm);
    g_free(it);
}

static pa_sample_spec sample_spec(const HelperSoundFormat *f)
{
    return (pa_sample_spec){.format = f->bits == 8 ? PA_SAMPLE_U8 : PA_SAMPLE_S16LE,
                            .rate = f->rate,
                            .channels = (uint8_t)f->channels};
}

/* --- the player thread --- */

static pa_simple *open_player(HelperSound *hs, const HelperSoundFormat *f, bool *warned)
{
    pa_sample_spec spec = sample_spec(f);
    size_t ms = pa_usec_to_bytes(PA_USEC_PER_MSEC, &spec);
    pa_buffer_attr attr = {.maxlength = (uint32_t)-1,
                           .tlength = (uint32_t)(ms * PLAY_LATENCY_MS),
                           .prebuf = (uint32_t)(ms * PLAY_LATENCY_MS / 2),
                           .minreq = (uint32_t)-1,
                           .fragsize = (uint32_t)-1};
    int err = 0;
    pa_simple *pa = pa_simple_new(NULL, "vmdesk", PA_STREAM_PLAYBACK, NULL, STREAM_NAME, &spec,
                                  NULL, &attr, &err);
    if (!pa && !*warned) {
        vd_warn("%s: cannot play the session's sound: %s", hs->where, pa_strerror(err));
        *warned = true;
    } else if (pa) {
        vd_debug("%s: playing the helper's sound, %u Hz, %u channels, %u-bit", hs->where, f->rate,
                 f->channels, f->bits);
    }
    return pa;
}

/* The guest's volume, applied to the samples (0x10000 is full). */
static void apply_volume(uint8_t *p, size_t len, const HelperSoundFormat *f, uint32_t volume)
{
    uint32_t gain[2] = {(volume & 0xffff) + 1, (volume >> 16) + 1};
    if (gain[0] == 0x10000 && gain[1] == 0x10000)
        return;
    if (f->bits == 16) {
        for (size_t i = 0; i + 2 <= len; i += 2) {
            int16_t v;
            memcpy(&v, p + i, 2);
            v = (int16_t)(((int32_t)v * (int32_t)gain[(i / 2) % f->channels]) >> 16);
            memcpy(p + i, &v, 2);
        }
    } else {
        for (size_t i = 0; i < len; i++)
            p[i] = (uint8_t)(128 + (((int32_t)p[i] - 128) * (int32_t)gain[i % f->channels] >> 16));
    }
}

static gpointer player_main(gpointer data)
{
    HelperSound *hs = data;
    pa_simple *pa = NULL;
    HelperSoundFormat format = {0};
    uint32_t volume = 0xffffffffu;
    bool warned = false;
    for (;;) {
        g_mutex_lock(&hs->lock);
        while (!hs->stopping && g_queue_is_empty(&hs->items))
            g_cond_wait(&hs->cond, &hs->lock);
        Item *it = hs->stopping ? NULL : g_queue_pop_head(&hs->items);
        if (it && it->pcm)
            hs->queued_bytes -= g_bytes_get_size(it->pcm);
        g_mutex_unlock(&hs->lock);
        if (!it)
            break;
        int err = 0;
        switch (it->kind) {
        case ITEM_OPEN:
            if (pa)
                pa_simple_free(pa);
            format = it->format;
            pa = open_player(hs, &format, &warned);
            break;
        case ITEM_PCM:
            if (pa) {
                gsize len = 0;
                const uint8_t *src = g_bytes_get_data(it->pcm, &len);
                g_autofree uint8_t *p = g_memdup2(src, len);
                apply_volume(p, len, &format, volume);
                if (pa_simple_write(pa, p, len, &err) < 0) {
                    vd_warn("%s: playing the session's sound failed: %s", hs->where,
                            pa_strerror(err));
                    pa_simple_free(pa);
                    pa = NULL;
                }
            }
            break;
        case ITEM_VOLUME:
            volume = it->volume;
            break;
        case ITEM_CLOSE:
            if (pa) {
                pa_simple_drain(pa, &err); /* what the guest sent is heard */
                pa_simple_free(pa);
                pa = NULL;
            }
            break;
        }
        item_free(it);
    }
    if (pa)
        pa_simple_free(pa);
    return NULL;
}

/* Queue @it for the player (taking it), or drop it when the queue is full. */
static void enqueue(HelperSound *hs, Item *it)
{
    size_t size = it->pcm ? g_bytes_get_size(it->pcm) : 0;
    size_t max_bytes = (size_t)hs->format.rate * helper_sound_frame_bytes(&hs->format) *
                       PLAY_QUEUE_MS / 1000;
    g_mutex_lock(&hs->lock);
    bool full = g_queue_get_length(&hs->items) >= PLAY_QUEUE_ITEMS ||
                (size && hs->queued_bytes + size > max_bytes);
    if (full) {
        hs->dropped += size;
        gint64 now = g_get_monotonic_time();
        if (now - hs->drop_logged > DROP_LOG_S * G_USEC_PER_SEC) {
            vd_warn("%s: the session helper sends sound faster than it plays: %" G_GUINT64_FORMAT
                    " bytes dropped",
                    hs->where, hs->dropped);
            hs->drop_logged = now;
            hs->dropped = 0;
        }
    } else {
        g_queue_push_tail(&hs->items, it);
        hs->queued_bytes += size;
        if (!hs->player && !hs->held)
            hs->player = g_thread_new("vd-sound-play", player_main, hs);
        g_cond_signal(&hs->cond);
    }
    g_mutex_unlock(&hs->lock);
    if (full)
        item_free(it);
}

/* --- the recorder thread --- */

static void wake_session(HelperSound *hs)
{
    uint64_t one = 1;
    if (write(session_wake_fd(hs->s), &one, sizeof(one)) < 0)
        vd_debug("sound: waking the session thread failed");
}

static gpointer recorder_main(gpointer data)
{
    HelperSound *hs = data;
    pa_sample_spec spec = sample_spec(&hs->mic_format);
    pa_buffer_attr attr = {.maxlength = (uint32_t)-1,
                           .tlength = (uint32_t)-1,
                           .prebuf = (uint32_t)-1,
                           .minreq = (uint32_t)-1,
                           .fragsize = hs->mic_chunk};
    int err = 0;
    pa_simple *pa = pa_simple_new(NULL, "vmdesk", PA_STREAM_RECORD, NULL, MIC_STREAM_NAME, &spec,
                                  NULL, &attr, &err);
    if (!pa) {
        vd_warn("%s: cannot record the microphone for the session: %s", hs->where,
                pa_strerror(err));
        return NULL;
    }
    vd_debug("%s: recording the microphone for the helper, %u Hz, %u channels", hs->where,
             hs->mic_format.rate, hs->mic_format.channels);
    while (!g_atomic_int_get(&hs->rec_stop)) {
        uint8_t *chunk = g_malloc(hs->mic_chunk);
        if (pa_simple_read(pa, chunk, hs->mic_chunk, &err) < 0) {
            vd_warn("%s: recording the microphone failed: %s", hs->where, pa_strerror(err));
            g_free(chunk);
            break;
        }
        g_mutex_lock(&hs->mic_lock);
        unsigned max = MAX(1u, MIC_QUEUE_MS * hs->mic_format.rate / 1000 *
                                   helper_sound_frame_bytes(&hs->mic_format) / hs->mic_chunk);
        if (g_queue_get_length(&hs->mic) >= max) {
            /* The session thread is stuck sending: the oldest goes. */
            g_bytes_unref(g_queue_pop_head(&hs->mic));
            if (hs->mic_dropped++ == 0)
                vd_warn("%s: the microphone's sound waits too long for the session helper: "
                        "dropped (a chunk was last sent %" G_GINT64_FORMAT " ms ago)",
                        hs->where, (g_get_monotonic_time() - hs->mic_taken) / 1000);
        }
        g_queue_push_tail(&hs->mic, g_bytes_new_take(chunk, hs->mic_chunk));
        g_mutex_unlock(&hs->mic_lock);
        wake_session(hs);
    }
    pa_simple_free(pa);
    return NULL;
}

static void stop_recorder(HelperSound *hs)
{
    if (!hs->recorder)
        return;
    g_atomic_int_set(&hs->rec_stop, 1);
    g_thread_join(hs->recorder);
    hs->recorder = NULL;
    g_mutex_lock(&hs->mic_lock);
    g_queue_clear_full(&hs->mic, (GDestroyNotify)g_bytes_unref);
    g_mutex_unlock(&hs->mic_lock);
}

/* --- the session thread --- */

HelperSound *helper_sound_create(Session *s, const char *where)
{
    HelperSound *hs = g_new0(HelperSound, 1);
    hs->s = s;
    hs->where = g_strdup(where);
    g_mutex_init(&hs->lock);
    g_cond_init(&hs->cond);
    g_queue_init(&hs->items);
    g_mutex_init(&hs->mic_lock);
    g_queue_init(&hs->mic);
    return hs;
}

void helper_sound_destroy(HelperSound *hs)
{
    if (!hs)
        return;
    stop_recorder(hs);
    g_mutex_lock(&hs->lock);
    hs->stopping = true;
    g_cond_signal(&hs->cond);
    GThread *player = hs->player;
    g_mutex_unlock(&hs->lock);
    if (player)
        g_thread_join(player);
    g_queue_clear_full(&hs->items, (GDestroyNotify)item_free);
    g_mutex_clear(&hs->lock);
    g_cond_clear(&hs->cond);
    g_mutex_clear(&hs->mic_lock);
    g_free(hs->where);
    g_free(hs);
}

/* A format as the helper sends it: three u32. */
static bool read_format(HelperReader *r, HelperSoundFormat *f)
{
    f->rate = helper_get_u32(r);
    f->channels = helper_get_u32(r);
    f->bits = helper_get_u32(r);
    return !r->bad && helper_sound_format_ok(f);
}

static bool apply_pcm(HelperSound *hs, HelperReader *r, GError **error)
{
    uint32_t n = helper_get_u32(r);
    const uint8_t *pcm = helper_get_bytes(r, n);
    if (!helper_reader_done(r))
        return bad(error, "malformed sound");
    if (!hs->open)
        return bad(error, "sound before its format");
    if (n > HELPER_SOUND_PCM_MAX)
        return bad(error, "more than a second of sound in one message");
    if (n == 0 || n % helper_sound_frame_bytes(&hs->format))
        return bad(error, "sound in pieces that are not whole frames");
    enqueue(hs, item_new(&(Item){.kind = ITEM_PCM, .pcm = g_bytes_new(pcm, n)}));
    return true;
}

static bool apply_mic_open(HelperSound *hs, HelperReader *r, GError **error)
{
    HelperSoundFormat f;
    bool ok = read_format(r, &f);
    uint32_t frames = helper_get_u32(r);
    if (!ok || !helper_reader_done(r))
        return bad(error, "a microphone format that does not travel");
    stop_recorder(hs);
    /* The helper's packet size, within 10 to MIC_CHUNK_MS_MAX ms. */
    unsigned min = f.rate / 100, max = f.rate * MIC_CHUNK_MS_MAX / 1000;
    frames = CLAMP(frames, min, max);
    hs->mic_format = f;
    hs->mic_chunk = frames * helper_sound_frame_bytes(&f);
    hs->mic_dropped = 0;
    hs->mic_taken = g_get_monotonic_time();
    g_atomic_int_set(&hs->rec_stop, 0);
    hs->recorder = g_thread_new("vd-sound-rec", recorder_main, hs);
    return true;
}

bool helper_sound_apply(HelperSound *hs, const HelperMsg *m, GError **error)
{
    HelperReader r;
    helper_reader_init(&r, m->payload, m->len);
    if (m->fd >= 0)
        return bad(error, "a descriptor with sound");
    switch (m->type) {
    case HELPER_MSG_SOUND_OPEN: {
        HelperSoundFormat f;
        if (!read_format(&r, &f) || !helper_reader_done(&r))
            return bad(error, "a sound format that does not travel");
        hs->format = f;
        hs->open = true;
        enqueue(hs, item_new(&(Item){.kind = ITEM_OPEN, .format = f}));
        return true;
    }
    case HELPER_MSG_SOUND_PCM:
        return apply_pcm(hs, &r, error);
    case HELPER_MSG_SOUND_VOLUME: {
        uint32_t v = helper_get_u32(&r);
        if (!helper_reader_done(&r))
            return bad(error, "a malformed volume");
        enqueue(hs, item_new(&(Item){.kind = ITEM_VOLUME, .volume = v}));
        return true;
    }
    case HELPER_MSG_SOUND_CLOSE:
        if (!helper_reader_done(&r))
            return bad(error, "a malformed end of sound");
        hs->open = false;
        enqueue(hs, item_new(&(Item){.kind = ITEM_CLOSE}));
        return true;
    case HELPER_MSG_MIC_OPEN:
        return apply_mic_open(hs, &r, error);
    case HELPER_MSG_MIC_CLOSE:
        if (!helper_reader_done(&r))
            return bad(error, "a malformed end of recording");
        stop_recorder(hs);
        return true;
    default:
        return bad(error, "a sound message of unknown type");
    }
}

void helper_sound_hold_player(HelperSound *hs)
{
    hs->held = true;
}

void helper_sound_queued(HelperSound *hs, unsigned *items, size_t *bytes)
{
    g_mutex_lock(&hs->lock);
    *items = g_queue_get_length(&hs->items);
    *bytes = hs->queued_bytes;
    g_mutex_unlock(&hs->lock);
}

bool helper_sound_next_mic(HelperSound *hs, GByteArray *b)
{
    g_mutex_lock(&hs->mic_lock);
    GBytes *chunk = g_queue_pop_head(&hs->mic);
    hs->mic_taken = g_get_monotonic_time();
    g_mutex_unlock(&hs->mic_lock);
    if (!chunk)
        return false;
    gsize n = 0;
    const void *p = g_bytes_get_data(chunk, &n);
    helper_msg_begin(b, HELPER_MSG_MIC_PCM);
    helper_put_u32(b, (uint32_t)n);
    helper_put_bytes(b, p, n);
    g_bytes_unref(chunk);
    return true;
}
