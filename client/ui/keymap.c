/* SDL scancode -> QEMU key number (qnum). Values from QEMU's keycodemapdb
 * (data/keymaps.csv at the revision QEMU pins, f5772a62): the key's Linux
 * code, its "AT set1 keycode", then keymap-gen's qnum rule (0xE0xx -> 0x80|xx).
 * Keys whose qnum QEMU's qnum->QKeyCode table leaves unmapped are left out
 * (INTERNATIONAL6, Katakana, Zenkaku/Hankaku, keypad parentheses, WWW, AC_SEARCH, brightness,
 * keyboard backlight, eject, APP1/2, rewind, fast forward). */
#include "ui/keymap.h"

#include <stddef.h>

typedef struct {
    unsigned char qnum;
    const char *name; /* the Linux key it is */
} KeymapEntry;

/* Indexed by SDL scancode (= USB HID usage below 232); comments give the
 * SDL_SCANCODE_ name. */
static const KeymapEntry sdl_keys[KEYMAP_SDL_NUM_SCANCODES] = {
    /* Letters, digits, main block (USB usage order). */
    [4]   = {0x1e, "KEY_A"},                  /* A */
    [5]   = {0x30, "KEY_B"},                  /* B */
    [6]   = {0x2e, "KEY_C"},                  /* C */
    [7]   = {0x20, "KEY_D"},                  /* D */
    [8]   = {0x12, "KEY_E"},                  /* E */
    [9]   = {0x21, "KEY_F"},                  /* F */
    [10]  = {0x22, "KEY_G"},                  /* G */
    [11]  = {0x23, "KEY_H"},                  /* H */
    [12]  = {0x17, "KEY_I"},                  /* I */
    [13]  = {0x24, "KEY_J"},                  /* J */
    [14]  = {0x25, "KEY_K"},                  /* K */
    [15]  = {0x26, "KEY_L"},                  /* L */
    [16]  = {0x32, "KEY_M"},                  /* M */
    [17]  = {0x31, "KEY_N"},                  /* N */
    [18]  = {0x18, "KEY_O"},                  /* O */
    [19]  = {0x19, "KEY_P"},                  /* P */
    [20]  = {0x10, "KEY_Q"},                  /* Q */
    [21]  = {0x13, "KEY_R"},                  /* R */
    [22]  = {0x1f, "KEY_S"},                  /* S */
    [23]  = {0x14, "KEY_T"},                  /* T */
    [24]  = {0x16, "KEY_U"},                  /* U */
    [25]  = {0x2f, "KEY_V"},                  /* V */
    [26]  = {0x11, "KEY_W"},                  /* W */
    [27]  = {0x2d, "KEY_X"},                  /* X */
    [28]  = {0x15, "KEY_Y"},                  /* Y */
    [29]  = {0x2c, "KEY_Z"},                  /* Z */
    [30]  = {0x02, "KEY_1"},                  /* 1 */
    [31]  = {0x03, "KEY_2"},                  /* 2 */
    [32]  = {0x04, "KEY_3"},                  /* 3 */
    [33]  = {0x05, "KEY_4"},                  /* 4 */
    [34]  = {0x06, "KEY_5"},                  /* 5 */
    [35]  = {0x07, "KEY_6"},                  /* 6 */
    [36]  = {0x08, "KEY_7"},                  /* 7 */
    [37]  = {0x09, "KEY_8"},                  /* 8 */
    [38]  = {0x0a, "KEY_9"},                  /* 9 */
    [39]  = {0x0b, "KEY_0"},                  /* 0 */
    [40]  = {0x1c, "KEY_ENTER"},              /* RETURN */
    [41]  = {0x01, "KEY_ESC"},                /* ESCAPE */
    [42]  = {0x0e, "KEY_BACKSPACE"},          /* BACKSPACE */
    [43]  = {0x0f, "KEY_TAB"},                /* TAB */
    [44]  = {0x39, "KEY_SPACE"},              /* SPACE */
    [45]  = {0x0c, "KEY_MINUS"},              /* MINUS */
    [46]  = {0x0d, "KEY_EQUAL"},              /* EQUALS */
    [47]  = {0x1a, "KEY_LEFTBRACE"},          /* LEFTBRACKET */
    [48]  = {0x1b, "KEY_RIGHTBRACE"},         /* RIGHTBRACKET */
    [49]  = {0x2b, "KEY_BACKSLASH"},          /* BACKSLASH */
    [50]  = {0x2b, "KEY_BACKSLASH"},          /* NONUSHASH: ISO "# ~", a PC's backslash key */
    [51]  = {0x27, "KEY_SEMICOLON"},          /* SEMICOLON */
    [52]  = {0x28, "KEY_APOSTROPHE"},         /* APOSTROPHE */
    [53]  = {0x29, "KEY_GRAVE"},              /* GRAVE */
    [54]  = {0x33, "KEY_COMMA"},              /* COMMA */
    [55]  = {0x34, "KEY_DOT"},                /* PERIOD */
    [56]  = {0x35, "KEY_SLASH"},              /* SLASH */
    [57]  = {0x3a, "KEY_CAPSLOCK"},           /* CAPSLOCK */

    /* Function keys. F13-F24 are keycodemapdb's: F17, F19 0xE0-prefixed (0x83,
     * 0x84), F18, F22 0xf7/0xf9 (set-1 E0 77, E0 79), the rest plain codes. */
    [58]  = {0x3b, "KEY_F1"},                 /* F1 */
    [59]  = {0x3c, "KEY_F2"},                 /* F2 */
    [60]  = {0x3d, "KEY_F3"},                 /* F3 */
    [61]  = {0x3e, "KEY_F4"},                 /* F4 */
    [62]  = {0x3f, "KEY_F5"},                 /* F5 */
    [63]  = {0x40, "KEY_F6"},                 /* F6 */
    [64]  = {0x41, "KEY_F7"},                 /* F7 */
    [65]  = {0x42, "KEY_F8"},                 /* F8 */
    [66]  = {0x43, "KEY_F9"},                 /* F9 */
    [67]  = {0x44, "KEY_F10"},                /* F10 */
    [68]  = {0x57, "KEY_F11"},                /* F11 */
    [69]  = {0x58, "KEY_F12"},                /* F12 */

    /* Navigation block. PrintScreen is 0xb7 (E0 37, its make code); keycodemapdb
     * prefers 0x54, the Alt+SysRq code, which SYSREQ gets below: QEMU reads both
     * as the same key (Q_KEY_CODE_SYSRQ). */
    [70]  = {0xb7, "KEY_SYSRQ"},              /* PRINTSCREEN */
    [71]  = {0x46, "KEY_SCROLLLOCK"},         /* SCROLLLOCK */
    [72]  = {0xc6, "KEY_PAUSE"},              /* PAUSE */
    [73]  = {0xd2, "KEY_INSERT"},             /* INSERT */
    [74]  = {0xc7, "KEY_HOME"},               /* HOME */
    [75]  = {0xc9, "KEY_PAGEUP"},             /* PAGEUP */
    [76]  = {0xd3, "KEY_DELETE"},             /* DELETE */
    [77]  = {0xcf, "KEY_END"},                /* END */
    [78]  = {0xd1, "KEY_PAGEDOWN"},           /* PAGEDOWN */
    [79]  = {0xcd, "KEY_RIGHT"},              /* RIGHT */
    [80]  = {0xcb, "KEY_LEFT"},               /* LEFT */
    [81]  = {0xd0, "KEY_DOWN"},               /* DOWN */
    [82]  = {0xc8, "KEY_UP"},                 /* UP */

    /* Keypad. */
    [83]  = {0x45, "KEY_NUMLOCK"},            /* NUMLOCKCLEAR */
    [84]  = {0xb5, "KEY_KPSLASH"},            /* KP_DIVIDE */
    [85]  = {0x37, "KEY_KPASTERISK"},         /* KP_MULTIPLY */
    [86]  = {0x4a, "KEY_KPMINUS"},            /* KP_MINUS */
    [87]  = {0x4e, "KEY_KPPLUS"},             /* KP_PLUS */
    [88]  = {0x9c, "KEY_KPENTER"},            /* KP_ENTER */
    [89]  = {0x4f, "KEY_KP1"},                /* KP_1 */
    [90]  = {0x50, "KEY_KP2"},                /* KP_2 */
    [91]  = {0x51, "KEY_KP3"},                /* KP_3 */
    [92]  = {0x4b, "KEY_KP4"},                /* KP_4 */
    [93]  = {0x4c, "KEY_KP5"},                /* KP_5 */
    [94]  = {0x4d, "KEY_KP6"},                /* KP_6 */
    [95]  = {0x47, "KEY_KP7"},                /* KP_7 */
    [96]  = {0x48, "KEY_KP8"},                /* KP_8 */
    [97]  = {0x49, "KEY_KP9"},                /* KP_9 */
    [98]  = {0x52, "KEY_KP0"},                /* KP_0 */
    [99]  = {0x53, "KEY_KPDOT"},              /* KP_PERIOD */

    /* ISO key left of Z, Application (Menu) key, Power, keypad =. */
    [100] = {0x56, "KEY_102ND"},              /* NONUSBACKSLASH */
    [101] = {0xdd, "KEY_COMPOSE"},            /* APPLICATION */
    [102] = {0xde, "KEY_POWER"},              /* POWER */
    [103] = {0x59, "KEY_KPEQUAL"},            /* KP_EQUALS */
    [104] = {0x5d, "KEY_F13"},                /* F13 */
    [105] = {0x5e, "KEY_F14"},                /* F14 */
    [106] = {0x5f, "KEY_F15"},                /* F15 */
    [107] = {0x55, "KEY_F16"},                /* F16 */
    [108] = {0x83, "KEY_F17"},                /* F17 */
    [109] = {0xf7, "KEY_F18"},                /* F18 */
    [110] = {0x84, "KEY_F19"},                /* F19 */
    [111] = {0x5a, "KEY_F20"},                /* F20 */
    [112] = {0x74, "KEY_F21"},                /* F21 */
    [113] = {0xf9, "KEY_F22"},                /* F22 */
    [114] = {0x6d, "KEY_F23"},                /* F23 */
    [115] = {0x6f, "KEY_F24"},                /* F24 */

    /* Sun-style edit keys and media keys of the USB keyboard page. */
    [116] = {0x64, "KEY_OPEN"},               /* EXECUTE */
    [117] = {0xf5, "KEY_HELP"},               /* HELP */
    [118] = {0x9e, "KEY_MENU"},               /* MENU */
    [119] = {0x8c, "KEY_FRONT"},              /* SELECT */
    [120] = {0xe8, "KEY_STOP"},               /* STOP */
    [121] = {0x85, "KEY_AGAIN"},              /* AGAIN */
    [122] = {0x87, "KEY_UNDO"},               /* UNDO */
    [123] = {0xbc, "KEY_CUT"},                /* CUT */
    [124] = {0xf8, "KEY_COPY"},               /* COPY */
    [125] = {0x65, "KEY_PASTE"},              /* PASTE */
    [126] = {0xc1, "KEY_FIND"},               /* FIND */
    [127] = {0xa0, "KEY_MUTE"},               /* MUTE */
    [128] = {0xb0, "KEY_VOLUMEUP"},           /* VOLUMEUP */
    [129] = {0xae, "KEY_VOLUMEDOWN"},         /* VOLUMEDOWN */

    /* Keypad comma; Japanese and Korean keys. Hangul and Hanja keep their old
     * qnums 0x72/0x71, not their set-1 codes 0xf2/0xf1 (which have the break
     * bit set and which QEMU reads as other keys). */
    [133] = {0x7e, "KEY_KPCOMMA"},            /* KP_COMMA */
    [135] = {0x73, "KEY_RO"},                 /* INTERNATIONAL1 */
    [136] = {0x70, "KEY_KATAKANAHIRAGANA"},   /* INTERNATIONAL2 */
    [137] = {0x7d, "KEY_YEN"},                /* INTERNATIONAL3 */
    [138] = {0x79, "KEY_HENKAN"},             /* INTERNATIONAL4 */
    [139] = {0x7b, "KEY_MUHENKAN"},           /* INTERNATIONAL5 */
    [144] = {0x72, "KEY_HANGEUL"},            /* LANG1 */
    [145] = {0x71, "KEY_HANJA"},              /* LANG2 */
    [147] = {0x77, "KEY_HIRAGANA"},           /* LANG4 */

    /* SysReq, as some SDL back ends report the PrintScreen key. */
    [154] = {0x54, "KEY_SYSRQ"},              /* SYSREQ */

    /* Modifiers. */
    [224] = {0x1d, "KEY_LEFTCTRL"},           /* LCTRL */
    [225] = {0x2a, "KEY_LEFTSHIFT"},          /* LSHIFT */
    [226] = {0x38, "KEY_LEFTALT"},            /* LALT */
    [227] = {0xdb, "KEY_LEFTMETA"},           /* LGUI */
    [228] = {0x9d, "KEY_RIGHTCTRL"},          /* RCTRL */
    [229] = {0x36, "KEY_RIGHTSHIFT"},         /* RSHIFT */
    [230] = {0xb8, "KEY_RIGHTALT"},           /* RALT */
    [231] = {0xdc, "KEY_RIGHTMETA"},          /* RGUI */

    /* SDL's consumer-page keys. AUDIOMUTE (Windows) is the MUTE key, AC_STOP
     * the STOP key. */
    [258] = {0x99, "KEY_NEXTSONG"},           /* AUDIONEXT */
    [259] = {0x90, "KEY_PREVIOUSSONG"},       /* AUDIOPREV */
    [260] = {0xa4, "KEY_STOPCD"},             /* AUDIOSTOP */
    [261] = {0xa2, "KEY_PLAYPAUSE"},          /* AUDIOPLAY */
    [262] = {0xa0, "KEY_MUTE"},               /* AUDIOMUTE */
    [263] = {0xed, "KEY_MEDIA"},              /* MEDIASELECT */
    [265] = {0xec, "KEY_MAIL"},               /* MAIL */
    [266] = {0xa1, "KEY_CALC"},               /* CALCULATOR */
    [267] = {0xeb, "KEY_COMPUTER"},           /* COMPUTER */
    [269] = {0xb2, "KEY_HOMEPAGE"},           /* AC_HOME */
    [270] = {0xea, "KEY_BACK"},               /* AC_BACK */
    [271] = {0xe9, "KEY_FORWARD"},            /* AC_FORWARD */
    [272] = {0xe8, "KEY_STOP"},               /* AC_STOP */
    [273] = {0xe7, "KEY_REFRESH"},            /* AC_REFRESH */
    [274] = {0xe6, "KEY_BOOKMARKS"},          /* AC_BOOKMARKS */
    [282] = {0xdf, "KEY_SLEEP"},              /* SLEEP */
};

unsigned keymap_sdl_to_qnum(int sdl_scancode)
{
    if (sdl_scancode < 0 || sdl_scancode >= KEYMAP_SDL_NUM_SCANCODES)
        return 0;
    return sdl_keys[sdl_scancode].qnum;
}

const char *keymap_qnum_name(unsigned qnum)
{
    if (qnum == 0)
        return NULL;
    for (size_t i = 0; i < KEYMAP_SDL_NUM_SCANCODES; i++)
        if (sdl_keys[i].qnum == qnum)
            return sdl_keys[i].name;
    return NULL;
}
