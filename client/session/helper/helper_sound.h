/* Sound relayed between a confined session helper and its window process
 * (helper.h): the helper runs the protocol's sound channels (RDP: rdpsnd and
 * audin, session/rdp/rdp_sound_relay.c) but cannot reach the sound server;
 * it sends plain PCM to the window, which plays it through PulseAudio (or
 * PipeWire's pulse server), and the window records the microphone for it
 * when the server asks. docs/SECURITY.md says why relayed rather than a
 * sound-server socket in the helper.
 *
 * Messages (helper_proto.h's framing; this range is sound's own):
 *   helper -> window
 *     HELPER_MSG_SOUND_OPEN    u32 rate, u32 channels, u32 bits: play this
 *                              format from now on (a new OPEN changes it)
 *     HELPER_MSG_SOUND_PCM     u32 n, n bytes: whole frames of that format
 *     HELPER_MSG_SOUND_VOLUME  u32 volume: MS-RDPEA's, left in the low 16
 *                              bits, right in the high 16 (0xffff: full)
 *     HELPER_MSG_SOUND_CLOSE   nothing: play what is queued, then stop
 *     HELPER_MSG_MIC_OPEN      u32 rate, u32 channels, u32 bits, u32 frames
 *                              per packet: record the microphone
 *     HELPER_MSG_MIC_CLOSE     nothing: stop recording
 *   window -> helper
 *     HELPER_MSG_MIC_PCM       u32 n, n bytes: whole frames, as asked
 * The window treats every one as hostile (helper_sound_window.c). */
#pragma once

#include "session/helper/helper_proto.h"
#include "session/session.h"

enum {
    /* window -> helper: 0x20-0x2f */
    HELPER_MSG_MIC_PCM = 0x20,
    /* helper -> window: 0x60-0x6f */
    HELPER_MSG_SOUND_OPEN = 0x60,
    HELPER_MSG_SOUND_PCM,
    HELPER_MSG_SOUND_VOLUME,
    HELPER_MSG_SOUND_CLOSE,
    HELPER_MSG_MIC_OPEN,
    HELPER_MSG_MIC_CLOSE,
};

/* Whether @type is one of sound's messages. */
static inline bool helper_sound_msg(uint32_t type)
{
    return (type >= 0x20 && type <= 0x2f) || (type >= 0x60 && type <= 0x6f);
}

/* The formats that travel: uncompressed PCM, 8-bit unsigned or 16-bit
 * signed little-endian, one or two channels, 8 to 192 kHz. */
#define HELPER_SOUND_RATE_MIN 8000u
#define HELPER_SOUND_RATE_MAX 192000u
/* Largest PCM message: a second of the largest format, 768 KiB. */
#define HELPER_SOUND_PCM_MAX (HELPER_SOUND_RATE_MAX * 2u * 2u)

typedef struct {
    unsigned rate, channels, bits;
} HelperSoundFormat;

/* Whether @f is a format that travels. */
bool helper_sound_format_ok(const HelperSoundFormat *f);
/* Bytes per frame of a format that travels. */
static inline unsigned helper_sound_frame_bytes(const HelperSoundFormat *f)
{
    return f->channels * f->bits / 8;
}

/* --- the window side --- */

typedef struct HelperSound HelperSound;

/* The sound of one helper process of session @s (borrowed; its wake-up is
 * poked when recorded sound waits to be sent). Opens nothing until the
 * helper asks. Never fails. Session thread of @s. */
HelperSound *helper_sound_create(Session *s, const char *where);
/* Stop playing and recording, drop what is queued. Accepts NULL. */
void helper_sound_destroy(HelperSound *hs);

/* Check sound message @m from the helper and act on it: queue PCM for the
 * player thread (a full queue drops it, with a log line), start or stop the
 * recorder. False with @error when the message breaks the protocol (the
 * caller kills the helper). Session thread. */
bool helper_sound_apply(HelperSound *hs, const HelperMsg *m, GError **error);

/* The next recorded chunk to send as HELPER_MSG_MIC_PCM (built in @b), or
 * false when none waits. Session thread. */
bool helper_sound_next_mic(HelperSound *hs, GByteArray *b);

/* --- the helper side --- */

/* Where recorded sound from the window goes: @data's function, called on
 * the helper's relay thread with whole frames of the format last asked. */
typedef void (*HelperMicFunc)(void *data, const uint8_t *pcm, size_t len);
/* Set (or with NULL clear) the microphone's receiver; returns once no call
 * of the previous one runs. Any thread. */
void helper_sound_set_mic(HelperMicFunc func, void *data);
/* Send a sound message built in @b to the window (helper_main.c's channel).
 * False when the window is gone. Any thread of the helper. */
bool helper_sound_send(GByteArray *b);
/* A sound message from the window (helper_main.c's relay). */
void helper_sound_input(const HelperMsg *m);
