/* The window side of relayed sound, for its unit test
 * (tests/unit/test_helper_sound.c). */
#pragma once

#include "session/helper/helper_sound.h"

/* Keep queued messages from the player (none is played or dropped by it)
 * so a test can see the queue's bounds. Before the first message. */
void helper_sound_hold_player(HelperSound *hs);
/* The player's queue: messages and bytes of sound. */
void helper_sound_queued(HelperSound *hs, unsigned *items, size_t *bytes);
