/* Physical keys to QEMU key numbers, for the VNC QEMU Extended Key Event
 * (pseudo-encoding -258), which carries the key rather than the character so
 * that the guest's own layout decides what is typed.
 *
 * A qnum is the key's PC AT set-1 (XT) make code; a key whose code is
 * 0xE0-prefixed is 0x80 | code (Right Ctrl 0x9d, Up 0xc8, Keypad Enter 0x9c).
 * The values follow QEMU's keycodemapdb (data/keymaps.csv, the "AT set1"
 * column through keymap-gen's qnum rule; Hangul 0x72 and Hanja 0x71 keep
 * their historical numbers). A key is mapped only when QEMU's own qnum table
 * turns its number into a QKeyCode: anything else QEMU would drop, and 0 lets
 * the caller send the keysym instead.
 *
 * Takes SDL scancodes as plain ints (they are USB HID keyboard usage IDs,
 * SDL_SCANCODE_A = 4), so no SDL type appears here. Pure tables; any thread. */
#pragma once

/* Scancodes are below this (SDL_NUM_SCANCODES in SDL2). */
#define KEYMAP_SDL_NUM_SCANCODES 512

/* The qnum for @sdl_scancode, or 0 when there is none (unknown key,
 * out of range, or a key QEMU has no code for). Always < 0x100. */
unsigned keymap_sdl_to_qnum(int sdl_scancode);

/* Linux-style name of the key with @qnum ("KEY_A", "KEY_RIGHTCTRL"), for debug
 * logs; NULL when no key here has that qnum. */
const char *keymap_qnum_name(unsigned qnum);
