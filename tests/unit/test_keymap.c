/* unit-keymap: SDL scancodes to QEMU key numbers (client/ui/keymap.c), checked
 * by SDL's own names, for collisions, and against Linux's key codes: for the
 * original XT keys the Linux KEY_ code is the set-1 scancode, so it is a
 * second, independent source for most of the table. */
#include "ui/keymap.h"

#include <SDL2/SDL_scancode.h>
#include <glib.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/input-event-codes.h>

G_STATIC_ASSERT(KEYMAP_SDL_NUM_SCANCODES == SDL_NUM_SCANCODES);

typedef struct {
    int sdl;
    unsigned code;
} Pair;

#define K(name, code) {SDL_SCANCODE_##name, code}

/* --- spot checks by name --- */

static void test_spot(void)
{
    static const Pair expect[] = {
        K(A, 0x1e), K(Z, 0x2c), K(Q, 0x10), K(1, 0x02), K(0, 0x0b),
        K(RETURN, 0x1c), K(ESCAPE, 0x01), K(SPACE, 0x39), K(GRAVE, 0x29),
        K(BACKSLASH, 0x2b), K(NONUSBACKSLASH, 0x56), K(CAPSLOCK, 0x3a),
        K(F1, 0x3b), K(F10, 0x44), K(F11, 0x57), K(F12, 0x58),
        K(F13, 0x5d), K(F14, 0x5e), K(F15, 0x5f), K(F16, 0x55), K(F17, 0x83), K(F18, 0xf7),
        K(F19, 0x84), K(F20, 0x5a), K(F21, 0x74), K(F22, 0xf9), K(F23, 0x6d), K(F24, 0x6f),
        /* modifiers and locks */
        K(LCTRL, 0x1d), K(LSHIFT, 0x2a), K(LALT, 0x38), K(RSHIFT, 0x36),
        K(RCTRL, 0x9d), K(RALT, 0xb8), K(LGUI, 0xdb), K(RGUI, 0xdc), K(APPLICATION, 0xdd),
        K(NUMLOCKCLEAR, 0x45), K(SCROLLLOCK, 0x46),
        /* the 0xE0-prefixed navigation and keypad keys */
        K(UP, 0xc8), K(DOWN, 0xd0), K(LEFT, 0xcb), K(RIGHT, 0xcd),
        K(INSERT, 0xd2), K(DELETE, 0xd3), K(HOME, 0xc7), K(END, 0xcf),
        K(PAGEUP, 0xc9), K(PAGEDOWN, 0xd1), K(KP_ENTER, 0x9c), K(KP_DIVIDE, 0xb5),
        K(PRINTSCREEN, 0xb7), K(SYSREQ, 0x54), K(PAUSE, 0xc6),
        K(KP_MULTIPLY, 0x37), K(KP_EQUALS, 0x59), K(KP_COMMA, 0x7e),
        /* international */
        K(INTERNATIONAL1, 0x73), K(INTERNATIONAL2, 0x70), K(INTERNATIONAL3, 0x7d),
        K(INTERNATIONAL4, 0x79), K(INTERNATIONAL5, 0x7b), K(LANG1, 0x72), K(LANG2, 0x71),
        K(LANG4, 0x77),
        /* media and system */
        K(MUTE, 0xa0), K(AUDIOMUTE, 0xa0), K(VOLUMEDOWN, 0xae), K(VOLUMEUP, 0xb0),
        K(AUDIOPLAY, 0xa2), K(AUDIOSTOP, 0xa4), K(AUDIONEXT, 0x99), K(AUDIOPREV, 0x90),
        K(POWER, 0xde), K(SLEEP, 0xdf),
    };
    for (size_t i = 0; i < G_N_ELEMENTS(expect); i++) {
        g_test_message("scancode %d", expect[i].sdl);
        g_assert_cmphex(keymap_sdl_to_qnum(expect[i].sdl), ==, expect[i].code);
    }
}

/* --- unmapped and out of range --- */

static void test_unmapped(void)
{
    static const int none[] = {
        SDL_SCANCODE_UNKNOWN, 1, 2, 3,      /* USB: no event, rollover, POST fail, undefined */
        130,                                /* Locking Caps Lock (not in SDL) */
        /* keys QEMU has no QKeyCode for: 0 lets the caller send the keysym */
        SDL_SCANCODE_INTERNATIONAL6, SDL_SCANCODE_LANG3, SDL_SCANCODE_LANG5,
        SDL_SCANCODE_KP_LEFTPAREN, SDL_SCANCODE_KP_RIGHTPAREN, SDL_SCANCODE_WWW,
        SDL_SCANCODE_AC_SEARCH, SDL_SCANCODE_BRIGHTNESSDOWN, SDL_SCANCODE_EJECT,
        SDL_SCANCODE_APP1, SDL_SCANCODE_AUDIOREWIND,
        SDL_SCANCODE_MODE, 232, 256, SDL_NUM_SCANCODES - 1,
        /* out of range */
        -1, -512, INT_MIN, 512, SDL_NUM_SCANCODES, 100000, INT_MAX,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
        g_test_message("scancode %d", none[i]);
        g_assert_cmpuint(keymap_sdl_to_qnum(none[i]), ==, 0);
    }
}

/* --- no two keys share a qnum --- */

/* SDL scancodes that are one physical key. */
static const Pair aliases[] = {
    {SDL_SCANCODE_BACKSLASH, SDL_SCANCODE_NONUSHASH}, /* ISO "# ~" is the PC's backslash key */
    {SDL_SCANCODE_MUTE, SDL_SCANCODE_AUDIOMUTE},      /* Windows reports the latter */
    {SDL_SCANCODE_STOP, SDL_SCANCODE_AC_STOP},
};

static bool is_alias(int a, int b)
{
    for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++)
        if (aliases[i].sdl == a && (int)aliases[i].code == b)
            return true;
    return false;
}

static void test_distinct(void)
{
    int owner[256];
    unsigned mapped = 0, distinct = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(owner); i++)
        owner[i] = -1;
    for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
        unsigned q = keymap_sdl_to_qnum(sc);
        if (!q)
            continue;
        mapped++;
        g_assert_cmpuint(q, <, 0x100);
        if (owner[q] < 0) {
            owner[q] = sc;
            distinct++;
            continue;
        }
        if (!is_alias(owner[q], sc))
            g_error("SDL scancodes %d and %d both map to qnum 0x%02x", owner[q], sc, q);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++) {
        g_assert_cmpuint(keymap_sdl_to_qnum(aliases[i].sdl), !=, 0);
        g_assert_cmpuint(keymap_sdl_to_qnum(aliases[i].sdl), ==,
                         keymap_sdl_to_qnum((int)aliases[i].code));
    }
    /* Change detectors: the table in client/ui/keymap.c has 160 keys. */
    g_assert_cmpuint(mapped, ==, 160);
    g_assert_cmpuint(distinct, ==, 160 - G_N_ELEMENTS(aliases));
}

/* --- against Linux key codes --- */

/* Every SDL key whose Linux key code is below KEY_RO (89), written from
 * <linux/input-event-codes.h>. SDL_SCANCODE_LANG5 (KEY_ZENKAKUHANKAKU, 85)
 * is not here: it has no set-1 code 85, and QEMU has no key for its qnum. */
static const Pair sdl_linux[] = {
    K(A, KEY_A), K(B, KEY_B), K(C, KEY_C), K(D, KEY_D), K(E, KEY_E), K(F, KEY_F),
    K(G, KEY_G), K(H, KEY_H), K(I, KEY_I), K(J, KEY_J), K(K, KEY_K), K(L, KEY_L),
    K(M, KEY_M), K(N, KEY_N), K(O, KEY_O), K(P, KEY_P), K(Q, KEY_Q), K(R, KEY_R),
    K(S, KEY_S), K(T, KEY_T), K(U, KEY_U), K(V, KEY_V), K(W, KEY_W), K(X, KEY_X),
    K(Y, KEY_Y), K(Z, KEY_Z),
    K(1, KEY_1), K(2, KEY_2), K(3, KEY_3), K(4, KEY_4), K(5, KEY_5),
    K(6, KEY_6), K(7, KEY_7), K(8, KEY_8), K(9, KEY_9), K(0, KEY_0),
    K(RETURN, KEY_ENTER), K(ESCAPE, KEY_ESC), K(BACKSPACE, KEY_BACKSPACE),
    K(TAB, KEY_TAB), K(SPACE, KEY_SPACE), K(MINUS, KEY_MINUS), K(EQUALS, KEY_EQUAL),
    K(LEFTBRACKET, KEY_LEFTBRACE), K(RIGHTBRACKET, KEY_RIGHTBRACE),
    K(BACKSLASH, KEY_BACKSLASH), K(NONUSHASH, KEY_BACKSLASH),
    K(SEMICOLON, KEY_SEMICOLON), K(APOSTROPHE, KEY_APOSTROPHE), K(GRAVE, KEY_GRAVE),
    K(COMMA, KEY_COMMA), K(PERIOD, KEY_DOT), K(SLASH, KEY_SLASH),
    K(NONUSBACKSLASH, KEY_102ND), K(CAPSLOCK, KEY_CAPSLOCK),
    K(F1, KEY_F1), K(F2, KEY_F2), K(F3, KEY_F3), K(F4, KEY_F4), K(F5, KEY_F5),
    K(F6, KEY_F6), K(F7, KEY_F7), K(F8, KEY_F8), K(F9, KEY_F9), K(F10, KEY_F10),
    K(F11, KEY_F11), K(F12, KEY_F12),
    K(LCTRL, KEY_LEFTCTRL), K(LSHIFT, KEY_LEFTSHIFT), K(RSHIFT, KEY_RIGHTSHIFT),
    K(LALT, KEY_LEFTALT), K(NUMLOCKCLEAR, KEY_NUMLOCK), K(SCROLLLOCK, KEY_SCROLLLOCK),
    K(KP_MULTIPLY, KEY_KPASTERISK), K(KP_MINUS, KEY_KPMINUS), K(KP_PLUS, KEY_KPPLUS),
    K(KP_7, KEY_KP7), K(KP_8, KEY_KP8), K(KP_9, KEY_KP9),
    K(KP_4, KEY_KP4), K(KP_5, KEY_KP5), K(KP_6, KEY_KP6),
    K(KP_1, KEY_KP1), K(KP_2, KEY_KP2), K(KP_3, KEY_KP3),
    K(KP_0, KEY_KP0), K(KP_PERIOD, KEY_KPDOT),
};

static void test_linux(void)
{
    bool seen[KEY_RO] = {false};

    for (size_t i = 0; i < G_N_ELEMENTS(sdl_linux); i++) {
        unsigned code = sdl_linux[i].code;
        g_assert_cmpuint(code, >, KEY_RESERVED);
        g_assert_cmpuint(code, <, KEY_RO);
        g_test_message("scancode %d, Linux key %u", sdl_linux[i].sdl, code);
        g_assert_cmphex(keymap_sdl_to_qnum(sdl_linux[i].sdl), ==, code);
        seen[code] = true;
    }
    /* The list is the whole XT keyboard: 1..88 but for the unused 84 and the
     * Zenkaku/Hankaku key 85 (unmapped: QEMU has no key for its qnum 0x76). */
    for (unsigned code = KEY_ESC; code < KEY_RO; code++) {
        if (code == 84 || code == KEY_ZENKAKUHANKAKU)
            continue;
        g_test_message("Linux key %u", code);
        g_assert_true(seen[code]);
    }
    g_assert_cmpuint(keymap_sdl_to_qnum(SDL_SCANCODE_LANG5), ==, 0);
}

/* --- names --- */

static void test_names(void)
{
    g_assert_cmpstr(keymap_qnum_name(0x1e), ==, "KEY_A");
    g_assert_cmpstr(keymap_qnum_name(0x9d), ==, "KEY_RIGHTCTRL");
    g_assert_cmpstr(keymap_qnum_name(0xb8), ==, "KEY_RIGHTALT");
    g_assert_cmpstr(keymap_qnum_name(0x56), ==, "KEY_102ND");
    g_assert_cmpstr(keymap_qnum_name(0x6f), ==, "KEY_F24");
    g_assert_null(keymap_qnum_name(0));
    g_assert_null(keymap_qnum_name(0x76));
    g_assert_null(keymap_qnum_name(0x100));
    g_assert_null(keymap_qnum_name(UINT_MAX));
    for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
        unsigned q = keymap_sdl_to_qnum(sc);
        if (q) {
            const char *name = keymap_qnum_name(q);
            g_assert_nonnull(name);
            g_assert_true(g_str_has_prefix(name, "KEY_"));
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keymap/spot", test_spot);
    g_test_add_func("/keymap/unmapped", test_unmapped);
    g_test_add_func("/keymap/distinct", test_distinct);
    g_test_add_func("/keymap/linux", test_linux);
    g_test_add_func("/keymap/names", test_names);
    return g_test_run();
}
