/* Sound of a confined RDP session (rdp_sound_relay.h). The helper cannot
 * reach the sound server, so FreeRDP's rdpsnd and audin channels get
 * devices of ours instead of PulseAudio's: rdpsnd's plays by sending PCM to
 * the window, audin's records what the window sends back
 * (session/helper/helper_sound.h). FreeRDP finds them through the add-in
 * lookup (freerdp_register_addin_provider) under the subsystem "vmdesk".
 * They take uncompressed PCM only; the server's other formats that
 * FreeRDP decodes (ADPCM, and what its build has) are decoded here, in the
 * helper, and reach the device as PCM. */
#include "session/rdp/rdp_sound_relay.h"

#include "common/log.h"
#include "common/unix_socket.h"
#include "session/helper/helper_sound.h"

#include <freerdp/addin.h>
#include <freerdp/client/audin.h>
#include <freerdp/client/channels.h>
#include <freerdp/client/rdpsnd.h>
#include <freerdp/codec/audio.h>

#include <string.h>
#include <unistd.h>

#define SUBSYSTEM "vmdesk"

/* A PCM format that travels (helper_sound_format_ok), from FreeRDP's. */
static bool pcm_format(const AUDIO_FORMAT *f, HelperSoundFormat *out)
{
    if (!f || f->wFormatTag != WAVE_FORMAT_PCM)
        return false;
    *out = (HelperSoundFormat){f->nSamplesPerSec, f->nChannels, f->wBitsPerSample};
    return helper_sound_format_ok(out);
}

static void put_format(GByteArray *b, const HelperSoundFormat *f)
{
    helper_put_u32(b, f->rate);
    helper_put_u32(b, f->channels);
    helper_put_u32(b, f->bits);
}

/* --- rdpsnd: the server's sound, out to the window --- */

typedef struct {
    rdpsndDevicePlugin device; /* first: FreeRDP hands us this */
    HelperSoundFormat format;
    bool open;
    UINT32 volume;
    GByteArray *buf;           /* rdpsnd calls from its channel thread only */
} SndRelay;

static BOOL snd_format_supported(rdpsndDevicePlugin *device, const AUDIO_FORMAT *format)
{
    (void)device;
    HelperSoundFormat f;
    return pcm_format(format, &f);
}

static BOOL snd_open(rdpsndDevicePlugin *device, const AUDIO_FORMAT *format, UINT32 latency)
{
    (void)latency;
    SndRelay *d = (SndRelay *)device;
    if (!pcm_format(format, &d->format))
        return FALSE;
    helper_msg_begin(d->buf, HELPER_MSG_SOUND_OPEN);
    put_format(d->buf, &d->format);
    d->open = helper_sound_send(d->buf);
    if (d->open && d->volume != 0xffffffffu) {
        helper_msg_begin(d->buf, HELPER_MSG_SOUND_VOLUME);
        helper_put_u32(d->buf, d->volume);
        helper_sound_send(d->buf);
    }
    return d->open;
}

static UINT snd_play(rdpsndDevicePlugin *device, const BYTE *data, size_t size)
{
    SndRelay *d = (SndRelay *)device;
    if (!d->open)
        return 0;
    size_t frame = helper_sound_frame_bytes(&d->format);
    size_t max = HELPER_SOUND_PCM_MAX - HELPER_SOUND_PCM_MAX % frame;
    size -= size % frame; /* a torn frame would shift every later sample */
    for (size_t done = 0; done < size;) {
        size_t n = MIN(size - done, max);
        helper_msg_begin(d->buf, HELPER_MSG_SOUND_PCM);
        helper_put_u32(d->buf, (uint32_t)n);
        helper_put_bytes(d->buf, data + done, n);
        if (!helper_sound_send(d->buf))
            break;
        done += n;
    }
    return 0; /* the window's buffer is its own; the server measures the rest */
}

static UINT32 snd_get_volume(rdpsndDevicePlugin *device)
{
    return ((SndRelay *)device)->volume;
}

static BOOL snd_set_volume(rdpsndDevicePlugin *device, UINT32 value)
{
    SndRelay *d = (SndRelay *)device;
    d->volume = value;
    if (!d->open)
        return TRUE; /* sent with the next open */
    helper_msg_begin(d->buf, HELPER_MSG_SOUND_VOLUME);
    helper_put_u32(d->buf, value);
    return helper_sound_send(d->buf);
}

static void snd_close(rdpsndDevicePlugin *device)
{
    SndRelay *d = (SndRelay *)device;
    if (!d->open)
        return;
    d->open = false;
    helper_msg_begin(d->buf, HELPER_MSG_SOUND_CLOSE);
    helper_sound_send(d->buf);
}

static void snd_free(rdpsndDevicePlugin *device)
{
    SndRelay *d = (SndRelay *)device;
    snd_close(device);
    g_byte_array_unref(d->buf);
    g_free(d);
}

static UINT VCAPITYPE snd_entry(PFREERDP_RDPSND_DEVICE_ENTRY_POINTS ep)
{
    SndRelay *d = g_new0(SndRelay, 1);
    d->device.FormatSupported = snd_format_supported;
    d->device.Open = snd_open;
    d->device.Play = snd_play;
    d->device.GetVolume = snd_get_volume;
    d->device.SetVolume = snd_set_volume;
    d->device.Close = snd_close;
    d->device.Free = snd_free;
    d->volume = 0xffffffffu;
    d->buf = g_byte_array_new();
    ep->pRegisterRdpsndDevice(ep->rdpsnd, &d->device);
    return CHANNEL_RC_OK;
}

/* --- audin: the window's microphone, in to the server --- */

typedef struct {
    IAudinDevice iface;        /* first: FreeRDP hands us this */
    AUDIO_FORMAT format;       /* as FreeRDP set it */
    HelperSoundFormat pcm;
    UINT32 frames;
    AudinReceive receive;
    void *user;
    bool open;
} MicRelay;

/* The helper's relay thread: recorded PCM from the window. */
static void mic_pcm(void *data, const uint8_t *pcm, size_t len)
{
    MicRelay *m = data;
    len -= len % helper_sound_frame_bytes(&m->pcm);
    if (len) {
        UINT rc = m->receive(&m->format, pcm, len, m->user);
        if (rc != CHANNEL_RC_OK)
            vd_debug("audin: passing the microphone's sound on failed (%u)", rc);
    }
}

static BOOL mic_format_supported(IAudinDevice *dev, const AUDIO_FORMAT *format)
{
    (void)dev;
    HelperSoundFormat f;
    return pcm_format(format, &f);
}

static UINT mic_set_format(IAudinDevice *dev, const AUDIO_FORMAT *format, UINT32 frames)
{
    MicRelay *m = (MicRelay *)dev;
    if (!pcm_format(format, &m->pcm))
        return ERROR_INVALID_PARAMETER;
    m->format = *format;
    m->format.cbSize = 0;
    m->format.data = NULL;
    m->frames = frames;
    return CHANNEL_RC_OK;
}

static UINT mic_close(IAudinDevice *dev)
{
    MicRelay *m = (MicRelay *)dev;
    if (!m->open)
        return CHANNEL_RC_OK;
    m->open = false;
    helper_sound_set_mic(NULL, NULL); /* returns once no call of mic_pcm runs */
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_MIC_CLOSE);
    helper_sound_send(b);
    return CHANNEL_RC_OK;
}

static UINT mic_open(IAudinDevice *dev, AudinReceive receive, void *user)
{
    MicRelay *m = (MicRelay *)dev;
    mic_close(dev);
    if (!helper_sound_format_ok(&m->pcm))
        return ERROR_INVALID_PARAMETER;
    m->receive = receive;
    m->user = user;
    helper_sound_set_mic(mic_pcm, m);
    g_autoptr(GByteArray) b = g_byte_array_new();
    helper_msg_begin(b, HELPER_MSG_MIC_OPEN);
    put_format(b, &m->pcm);
    helper_put_u32(b, m->frames);
    m->open = helper_sound_send(b);
    if (!m->open)
        helper_sound_set_mic(NULL, NULL);
    return m->open ? CHANNEL_RC_OK : ERROR_INTERNAL_ERROR;
}

static UINT mic_free(IAudinDevice *dev)
{
    mic_close(dev);
    g_free(dev);
    return CHANNEL_RC_OK;
}

static UINT VCAPITYPE mic_entry(PFREERDP_AUDIN_DEVICE_ENTRY_POINTS ep)
{
    MicRelay *m = g_new0(MicRelay, 1);
    m->iface.Open = mic_open;
    m->iface.FormatSupported = mic_format_supported;
    m->iface.SetFormat = mic_set_format;
    m->iface.Close = mic_close;
    m->iface.Free = mic_free;
    return ep->pRegisterAudinDevice(ep->plugin, &m->iface);
}

/* --- FreeRDP's add-in lookup --- */

static FREERDP_LOAD_CHANNEL_ADDIN_ENTRY_FN next_provider;

static PVIRTUALCHANNELENTRY provider(LPCSTR name, LPCSTR subsystem, LPCSTR type, DWORD flags)
{
    if (name && subsystem && !strcmp(subsystem, SUBSYSTEM)) {
        /* FreeRDP casts the entry back to the device entry's type. */
        union {
            PFREERDP_RDPSND_DEVICE_ENTRY snd;
            PFREERDP_AUDIN_DEVICE_ENTRY mic;
            PVIRTUALCHANNELENTRY entry;
        } e = {.entry = NULL};
        if (!strcmp(name, RDPSND_CHANNEL_NAME))
            e.snd = snd_entry;
        else if (!strcmp(name, AUDIN_CHANNEL_NAME))
            e.mic = mic_entry;
        return e.entry;
    }
    return next_provider ? next_provider(name, subsystem, type, flags) : NULL;
}

void rdp_sound_relay_register(void)
{
    FREERDP_LOAD_CHANNEL_ADDIN_ENTRY_FN current = freerdp_get_current_addin_provider();
    if (current == provider)
        return;
    next_provider = current;
    freerdp_register_addin_provider(provider, 0);
}

/* --- the window's side --- */

bool rdp_sound_server_available(void)
{
    if (g_getenv("PULSE_SERVER"))
        return true;
    const char *rt = g_getenv("XDG_RUNTIME_DIR");
    g_autofree char *path = rt ? g_build_filename(rt, "pulse", "native", NULL) : NULL;
    const char *paths[] = {path, "/run/pulse/native"};
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
        int fd = paths[i] ? vd_unix_connect(paths[i], 0) : -1;
        if (fd >= 0) {
            close(fd);
            return true;
        }
    }
    return false;
}
