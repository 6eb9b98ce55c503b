/* Sound in (the client's microphone): libfreerdp-server3's audin server
 * (MS-RDPEAI) on the "AUDIO_INPUT" dynamic channel. Opened once drdynvc is
 * ready; the library's thread waits for the client to accept the channel,
 * exchanges versions, sends our formats (PCM 16-bit, 44.1 and 22.05 kHz,
 * stereo and mono) and hands us the client's, which are the ones of ours it
 * can record. We take the first PCM 16-bit one in our order and send Open
 * (the library's own choice would index its list, not the client's); the
 * client answers with its result and then streams samples.
 *
 * What we hear: the first channel of 1.5 s of samples from the start of the
 * stream; the last second of it is analysed (the first half second may hold
 * the recorder's start-up): its RMS level around its mean (the DC part,
 * logged apart), its range, the strongest frequency between
 * 100 and 5000 Hz (10 Hz steps), and the amplitudes at --microphone's HZ and
 * at 0.75 and 1.5 times it (Goertzel filters), so that a test can tell a tone
 * from silence or noise.
 *
 * Every callback runs on the library's audin thread; the peer thread only
 * creates and destroys (Close joins that thread first). */
#include "srv.h"

#include <math.h>
#include <string.h>

#include <freerdp/codec/audio.h>
#include <freerdp/server/audin.h>

#define HEAR_MS 1500        /* samples collected */
#define SKIP_MS 500         /* of which the first are not analysed */
#define PACKET_MS 20        /* frames per packet we ask for */
#define SCAN_LO 100         /* peak search range and step, Hz */
#define SCAN_HI 5000
#define SCAN_STEP 10

struct SrvAudin {
    audin_server_context *ctx;
    unsigned hz;                /* the tone to measure */
    gint64 opening_at;          /* when the formats came (Open goes out): monotonic us */
    unsigned rate, channels;    /* the chosen format; rate 0: none yet */
    UINT32 format_no;           /* its index in the client's list */
    bool got_samples, heard;
    size_t fixed;               /* samples of -32768 (full scale) */
    GArray *pcm;                /* gint16, the first channel only */
};

/* Our offer, in order of preference. */
static const struct {
    UINT32 rate;
    UINT16 channels;
} offered[] = {{44100, 2}, {44100, 1}, {22050, 2}, {22050, 1}};

static void fill_pcm(AUDIO_FORMAT *f, UINT32 rate, UINT16 channels)
{
    memset(f, 0, sizeof(*f));
    f->wFormatTag = WAVE_FORMAT_PCM;
    f->nChannels = channels;
    f->nSamplesPerSec = rate;
    f->wBitsPerSample = 16;
    f->nBlockAlign = (UINT16)(channels * 2);
    f->nAvgBytesPerSec = rate * channels * 2;
}

/* The amplitude (sample units) of @hz in @n samples at @rate. */
static double goertzel(const gint16 *x, size_t n, unsigned rate, double hz)
{
    double k = 2 * cos(2 * G_PI * hz / rate), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i] + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return 2 * sqrt(MAX(0, s1 * s1 + s2 * s2 - k * s1 * s2)) / (double)n;
}

/* Logs what the collected samples hold. */
static void analyse(SrvAudin *a)
{
    size_t skip = (size_t)a->rate * SKIP_MS / 1000;
    const gint16 *x = (const gint16 *)a->pcm->data + skip;
    size_t n = a->pcm->len - skip;
    double sum = 0, sum2 = 0;
    gint16 lo = G_MAXINT16, hi = G_MININT16;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        sum2 += (double)x[i] * x[i];
        lo = MIN(lo, x[i]);
        hi = MAX(hi, x[i]);
    }
    /* The level without the DC part. */
    double dc = sum / (double)n;
    double level = sqrt(MAX(0, sum2 / (double)n - dc * dc));
    unsigned peak_hz = 0;
    double peak = -1;
    for (unsigned f = SCAN_LO; f <= SCAN_HI; f += SCAN_STEP) {
        double amp = goertzel(x, n, a->rate, f);
        if (amp > peak) {
            peak = amp;
            peak_hz = f;
        }
    }
    double tone = a->hz ? goertzel(x, n, a->rate, a->hz) : 0;
    double low = a->hz ? goertzel(x, n, a->rate, a->hz * 0.75) : 0;
    double high = a->hz ? goertzel(x, n, a->rate, a->hz * 1.5) : 0;
    srv_log("audin heard %u ms peak-hz %u level %.0f tone %u %.0f low %.0f high %.0f dc %.0f "
            "min %d max %d fixed %zu",
            (unsigned)((guint64)a->pcm->len * 1000 / a->rate), peak_hz, level, a->hz, tone, low,
            high, dc, lo, hi, a->fixed);
}

/* audin thread: the client's formats are in (the ones of ours it can
 * record); choose one and send Open. */
static UINT on_formats(audin_server_context *ctx, const SNDIN_FORMATS *formats)
{
    SrvAudin *a = ctx->userdata;
    srv_log("audin formats %u", formats->NumFormats);
    SSIZE_T pick = -1;
    for (size_t o = 0; o < G_N_ELEMENTS(offered) && pick < 0; o++) {
        for (UINT32 i = 0; i < formats->NumFormats; i++) {
            const AUDIO_FORMAT *f = &formats->SoundFormats[i];
            if (f->wFormatTag == WAVE_FORMAT_PCM && f->wBitsPerSample == 16 &&
                f->nSamplesPerSec == offered[o].rate && f->nChannels == offered[o].channels) {
                pick = (SSIZE_T)i;
                break;
            }
        }
    }
    if (pick < 0) {
        srv_log("audin no-format");
        return CHANNEL_RC_OK;
    }
    const AUDIO_FORMAT *f = &formats->SoundFormats[pick];
    a->rate = f->nSamplesPerSec;
    a->channels = f->nChannels;
    /* initialFormat indexes the client's list (MS-RDPEAI 2.2.2.3). */
    SNDIN_OPEN open = {.FramesPerPacket = a->rate * PACKET_MS / 1000,
                       .initialFormat = (UINT32)pick};
    fill_pcm(&open.captureFormat, a->rate, (UINT16)a->channels);
    a->format_no = (UINT32)pick;
    a->opening_at = g_get_monotonic_time();
    UINT rc = ctx->SendOpen(ctx, &open);
    if (rc != CHANNEL_RC_OK) {
        srv_warn("audin: sending Open failed (error %u)", rc);
        return rc;
    }
    srv_log("audin format %u %u %u", a->rate, f->wBitsPerSample, a->channels);
    return CHANNEL_RC_OK;
}

/* audin thread: the client confirms the format it records in. */
static UINT on_format_change(audin_server_context *ctx, const SNDIN_FORMATCHANGE *change)
{
    SrvAudin *a = ctx->userdata;
    if (change->NewFormat != a->format_no)
        srv_warn("audin: the client changed to format %u, not %u", change->NewFormat,
                 a->format_no);
    return CHANNEL_RC_OK;
}

/* audin thread: the client opened its recorder (0: it did). */
static UINT on_open_reply(audin_server_context *ctx, const SNDIN_OPEN_REPLY *reply)
{
    SrvAudin *a = ctx->userdata;
    srv_log("audin open-result 0x%08x %u ms", reply->Result,
            (unsigned)((g_get_monotonic_time() - a->opening_at) / 1000));
    return CHANNEL_RC_OK;
}

/* audin thread: PCM 16-bit in the chosen format's channels, as the client
 * sent it (the library hands the Data PDU over undecoded). */
static UINT on_data(audin_server_context *ctx, const SNDIN_DATA *data)
{
    SrvAudin *a = ctx->userdata;
    if (a->heard || !a->rate)
        return CHANNEL_RC_OK;
    wStream *buf = data->Data;
    unsigned ch = MAX(1u, a->channels);
    size_t nframes = Stream_GetRemainingLength(buf) / (2 * ch);
    if (!a->got_samples) {
        a->got_samples = true;
        srv_log("audin first-samples %u ms",
                (unsigned)((g_get_monotonic_time() - a->opening_at) / 1000));
    }
    const BYTE *p = Stream_ConstPointer(buf);
    size_t want = (size_t)a->rate * HEAR_MS / 1000;
    for (size_t i = 0; i < nframes && a->pcm->len < want; i++) {
        const BYTE *s = p + i * 2 * ch;
        gint16 v = (gint16)(s[0] | s[1] << 8);
        if (v == G_MININT16)
            a->fixed++; /* full scale; counted (see the "audin heard" line) */
        g_array_append_val(a->pcm, v);
    }
    if (a->pcm->len >= want) {
        a->heard = true;
        analyse(a);
    }
    return CHANNEL_RC_OK;
}

SrvAudin *srv_audin_create(HANDLE vcm, rdpContext *context, unsigned hz)
{
    SrvAudin *a = g_new0(SrvAudin, 1);
    a->hz = hz;
    a->pcm = g_array_new(FALSE, FALSE, sizeof(gint16));
    a->ctx = audin_server_context_new(vcm);
    if (!a->ctx) {
        srv_warn("audin: cannot create the channel context");
        srv_audin_destroy(a);
        return NULL;
    }
    audin_server_context *ctx = a->ctx;
    ctx->userdata = a;
    ctx->rdpcontext = context;
    /* The library sends these (copied) after the version exchange. */
    AUDIO_FORMAT formats[G_N_ELEMENTS(offered)];
    for (size_t i = 0; i < G_N_ELEMENTS(offered); i++)
        fill_pcm(&formats[i], offered[i].rate, offered[i].channels);
    if (!audin_server_set_formats(ctx, G_N_ELEMENTS(offered), formats)) {
        srv_warn("audin: the library refused our formats");
        srv_audin_destroy(a);
        return NULL;
    }
    ctx->ReceiveFormats = on_formats;
    ctx->ReceiveFormatChange = on_format_change;
    ctx->OpenReply = on_open_reply;
    ctx->Data = on_data;
    if (!ctx->Open(ctx)) {
        srv_warn("audin: the channel did not open");
        srv_audin_destroy(a);
        return NULL;
    }
    srv_log("audin opening");
    return a;
}

void srv_audin_destroy(SrvAudin *a)
{
    if (!a)
        return;
    /* Joins the library's thread and closes the channel. */
    if (a->ctx)
        audin_server_context_free(a->ctx);
    g_array_free(a->pcm, TRUE);
    g_free(a);
}
