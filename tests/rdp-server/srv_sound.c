/* Sound out: libfreerdp-server3's rdpsnd server on the static "rdpsnd"
 * channel. We offer PCM 16-bit stereo at 44.1 and 22.05 kHz; the client
 * answers with the formats it can play; we pick the first of ours it has and
 * stream a sine from a thread of ours in 100 ms blocks, each sent just before
 * the client needs it: FreeRDP clients silently drop blocks that arrive more
 * than two blocks (plus their configured latency) ahead of playback
 * (rdpsnd_detect_overrun). "played" is logged once the client confirmed the
 * last block and that block's time has passed. */
#include "srv.h"

#include <math.h>
#include <string.h>

#include <freerdp/codec/audio.h>
#include <freerdp/server/rdpsnd.h>

#define BLOCK_MS 100
#define PREROLL_MS 300              /* silence first: clients lose audio opening their device */
#define LEAD_MS 60                  /* how far ahead of the client's playback we send */
/* MS-RDPEA's version from which Wave2 PDUs exist (private in FreeRDP). */
#define RDPSND_VERSION_WIN_8 0x08

struct SrvSound {
    RdpsndServerContext *ctx;
    unsigned hz, ms;
    AUDIO_FORMAT src;            /* the chosen format; src_format points here */
    UINT16 format_no;            /* its index in the client's list */

    GMutex lock;                 /* guards everything below */
    GCond cond;
    bool stopping;
    GThread *tone;
    BYTE last_block;             /* number of the last block sent */
    BYTE confirmed_block;        /* number of the last block the client confirmed */
    bool any_sent, any_confirmed;
    bool all_sent, played_logged;
};

static const UINT32 offered[] = {44100, 22050};

static void fill_pcm(AUDIO_FORMAT *f, UINT32 rate)
{
    memset(f, 0, sizeof(*f));
    f->wFormatTag = WAVE_FORMAT_PCM;
    f->nChannels = 2;
    f->nSamplesPerSec = rate;
    f->wBitsPerSample = 16;
    f->nBlockAlign = 4;
    f->nAvgBytesPerSec = rate * 4;
}

/* Called with the lock held: logs "played" once the last block came back. */
static void maybe_played(SrvSound *s)
{
    if (s->all_sent && !s->played_logged && s->any_sent && s->any_confirmed &&
        s->confirmed_block == s->last_block) {
        s->played_logged = true;
        srv_log("rdpsnd played %u", s->ms);
    }
}

static gpointer tone_main(gpointer data)
{
    SrvSound *s = data;
    RdpsndServerContext *ctx = s->ctx;
    const unsigned rate = s->src.nSamplesPerSec;
    const unsigned block = rate * BLOCK_MS / 1000;
    const uint64_t preroll = (uint64_t)rate * PREROLL_MS / 1000;
    const uint64_t tone_frames = (uint64_t)rate * s->ms / 1000;
    const uint64_t blocks = (preroll + tone_frames + block - 1) / block;
    const bool wave2 = ctx->clientVersion >= RDPSND_VERSION_WIN_8;
    int16_t *pcm = g_new(int16_t, (size_t)block * 2);
    gint64 t0 = g_get_monotonic_time();
    /* When the client runs out of audio, by our clock, as FreeRDP clients
     * reckon it: after a stall of ours it starts again from now, so a late
     * block is never followed by a burst that the client would drop. */
    gint64 play_end = t0;
    srv_log("rdpsnd playing %u %u", s->hz, s->ms);
    for (uint64_t b = 0; b < blocks; b++) {
        gint64 due = play_end - LEAD_MS * 1000;
        g_mutex_lock(&s->lock);
        while (!s->stopping && g_get_monotonic_time() < due)
            g_cond_wait_until(&s->cond, &s->lock, due);
        bool stop = s->stopping;
        g_mutex_unlock(&s->lock);
        if (stop)
            break;
        for (unsigned i = 0; i < block; i++) {
            uint64_t at = b * block + i, n = at - preroll;
            double v = 0;
            if (at >= preroll && n < tone_frames) {
                /* Half scale, 5 ms fades against clicks. */
                double fade = MIN(1.0, MIN((double)n, (double)(tone_frames - n)) / (rate / 200.0));
                v = 0.5 * fade * sin(2 * G_PI * s->hz * (double)n / rate);
            }
            pcm[2 * i] = pcm[2 * i + 1] = (int16_t)lrint(v * 32767);
        }
        UINT16 stamp = (UINT16)((g_get_monotonic_time() - t0) / 1000);
        UINT rc = wave2 ? ctx->SendSamples2(ctx, s->format_no, pcm, (size_t)block * 4, stamp, stamp)
                        : ctx->SendSamples(ctx, pcm, (int)block, stamp);
        if (rc != CHANNEL_RC_OK) {
            srv_warn("rdpsnd: sending audio failed (error %u)", rc);
            g_free(pcm);
            return NULL;
        }
        play_end = MAX(play_end, g_get_monotonic_time()) + BLOCK_MS * 1000;
        g_mutex_lock(&s->lock);
        s->last_block = (BYTE)(ctx->block_no - 1); /* the library counts after sending */
        s->any_sent = true;
        g_mutex_unlock(&s->lock);
    }
    /* Clients confirm blocks on arrival, not when heard: "played" also
     * waits until the last block has had its time. */
    gint64 end = play_end;
    g_mutex_lock(&s->lock);
    while (!s->stopping && g_get_monotonic_time() < end)
        g_cond_wait_until(&s->cond, &s->lock, end);
    if (!s->stopping) {
        s->all_sent = true;
        maybe_played(s);
    }
    g_mutex_unlock(&s->lock);
    g_free(pcm);
    return NULL;
}

/* rdpsnd thread: the client's formats are in. */
static void on_activated(RdpsndServerContext *ctx)
{
    SrvSound *s = ctx->data;
    srv_log("rdpsnd formats %u", ctx->num_client_formats);
    int pick = -1;
    for (size_t o = 0; o < G_N_ELEMENTS(offered) && pick < 0; o++) {
        for (UINT16 i = 0; i < ctx->num_client_formats; i++) {
            const AUDIO_FORMAT *f = &ctx->client_formats[i];
            if (f->wFormatTag == WAVE_FORMAT_PCM && f->nChannels == 2 &&
                f->wBitsPerSample == 16 && f->nSamplesPerSec == offered[o]) {
                pick = i;
                break;
            }
        }
    }
    if (pick < 0) {
        srv_log("rdpsnd no-format");
        return;
    }
    fill_pcm(&s->src, ctx->client_formats[pick].nSamplesPerSec);
    s->format_no = (UINT16)pick;
    ctx->src_format = &s->src;
    ctx->latency = BLOCK_MS;
    if (ctx->SelectFormat(ctx, (UINT16)pick) != CHANNEL_RC_OK) {
        srv_warn("rdpsnd: the client refused format %d", pick);
        return;
    }
    srv_log("rdpsnd format %u %u %u", s->src.nSamplesPerSec, s->src.wBitsPerSample,
            s->src.nChannels);
    g_mutex_lock(&s->lock);
    if (s->hz && !s->stopping && !s->tone)
        s->tone = g_thread_new("rdpsnd-tone", tone_main, s);
    g_mutex_unlock(&s->lock);
}

/* rdpsnd thread: the client played a block. */
static UINT on_confirm(RdpsndServerContext *ctx, BYTE block_no, UINT16 timestamp)
{
    SrvSound *s = ctx->data;
    g_mutex_lock(&s->lock);
    s->confirmed_block = block_no;
    s->any_confirmed = true;
    maybe_played(s);
    g_mutex_unlock(&s->lock);
    return CHANNEL_RC_OK;
}

SrvSound *srv_sound_create(HANDLE vcm, rdpContext *context, unsigned hz, unsigned ms)
{
    SrvSound *s = g_new0(SrvSound, 1);
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    s->hz = hz;
    s->ms = ms;
    s->ctx = rdpsnd_server_context_new(vcm);
    if (!s->ctx) {
        srv_warn("rdpsnd: cannot create the channel context");
        srv_sound_destroy(s);
        return NULL;
    }
    RdpsndServerContext *ctx = s->ctx;
    ctx->rdpcontext = context;
    ctx->data = s;
    /* rdpsnd_server_context_free() frees this array: it must be the heap's. */
    ctx->server_formats = audio_formats_new(G_N_ELEMENTS(offered));
    if (!ctx->server_formats) {
        srv_sound_destroy(s);
        return NULL;
    }
    ctx->num_server_formats = G_N_ELEMENTS(offered);
    for (size_t i = 0; i < G_N_ELEMENTS(offered); i++)
        fill_pcm(&ctx->server_formats[i], offered[i]);
    fill_pcm(&s->src, offered[0]);
    ctx->src_format = &s->src;
    ctx->Activated = on_activated;
    ctx->ConfirmBlock = on_confirm;
    UINT rc = ctx->Initialize(ctx, TRUE);
    if (rc != CHANNEL_RC_OK) {
        srv_warn("rdpsnd: the channel did not start (error %u)", rc);
        srv_sound_destroy(s);
        return NULL;
    }
    return s;
}

void srv_sound_destroy(SrvSound *s)
{
    if (!s)
        return;
    /* The tone thread uses the channel: stop it first; the rdpsnd thread
     * cannot start another once stopping is set. */
    g_mutex_lock(&s->lock);
    s->stopping = true;
    g_cond_broadcast(&s->cond);
    GThread *tone = s->tone;
    s->tone = NULL;
    g_mutex_unlock(&s->lock);
    if (tone)
        g_thread_join(tone);
    rdpsnd_server_context_free(s->ctx);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
    g_free(s);
}
