/* Sound of a confined RDP session (session/helper/helper_sound.h): in the
 * helper, an rdpsnd output and an audin input device that FreeRDP finds by
 * the subsystem name "vmdesk" and that pass PCM to and from the window
 * process; in the window, whether a sound server answers. */
#pragma once

#include <stdbool.h>

#define RDP_SOUND_RELAY_DEVICE "sys:vmdesk"

/* Make FreeRDP's add-in lookup find the relay's devices (before its
 * channels load: the helper's PreConnect); other names go on to the lookup
 * that was there. The helper's session thread. */
void rdp_sound_relay_register(void);

/* Whether a sound server (PulseAudio or PipeWire's pulse socket) accepts
 * connections: $PULSE_SERVER set, or its socket in $XDG_RUNTIME_DIR/pulse
 * or /run/pulse. The window process; any thread. */
bool rdp_sound_server_available(void);
