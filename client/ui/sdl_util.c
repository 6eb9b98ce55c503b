#include "ui/sdl_util.h"

#include "common/error.h"
#include "common/log.h"
#include "session/session.h"
#include "ui/host_clipboard.h"
#include "ui/wayland.h"

#include <string.h>

bool sdl_util_init(WaylandUse use, GError **error)
{
    if (!wayland_select_video_driver(use, error))
        return false;
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "cannot open a window: %s (is DISPLAY or WAYLAND_DISPLAY set?)",
                    SDL_GetError());
        return false;
    }
    /* Without a display SDL may fall back to an invisible driver (offscreen,
     * dummy): a window nobody sees is an error unless asked for by name. */
    const char *driver = SDL_GetCurrentVideoDriver();
    if (driver && (!strcmp(driver, "offscreen") || !strcmp(driver, "dummy")) &&
        !g_getenv("SDL_VIDEODRIVER")) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "there is no display to open a window on (DISPLAY and WAYLAND_DISPLAY do "
                    "not lead to one); use vmdesk screenshot without a display");
        SDL_Quit();
        return false;
    }
    return true;
}

/* OpenGL on a software rasterizer (Mesa's llvmpipe or softpipe: no GPU, as
 * under Xvfb or in a VM without 3D) costs about three times SDL's own
 * software renderer per frame (bench/rdp-frames). */
static bool gl_is_software(SDL_Renderer *ren)
{
    SDL_RendererInfo info;
    if (SDL_GetRendererInfo(ren, &info) != 0 || strncmp(info.name, "opengl", 6) != 0)
        return false;
    typedef const unsigned char *(*GetStringFunc)(unsigned name);
    GetStringFunc get_string = (GetStringFunc)SDL_GL_GetProcAddress("glGetString");
    const char *r = get_string ? (const char *)get_string(0x1F01 /* GL_RENDERER */) : NULL;
    return r && (strstr(r, "llvmpipe") || strstr(r, "softpipe") || strstr(r, "Software Rasterizer"));
}

/* Whether the machine has a GPU device node an X client could render with
 * (a DRM node, or NVIDIA's own driver). Without one OpenGL can only be a
 * software rasterizer, and asking it (gl_is_software) would load Mesa and
 * LLVM into the window for nothing: they stay mapped, about 40 MB of its
 * memory (PSS) and 0.25 s of CPU before it can draw (bench/rdp-frames
 * --memory, issue 13). */
static bool has_gpu_device(void)
{
    return g_file_test("/dev/dri", G_FILE_TEST_IS_DIR) ||
           g_file_test("/dev/nvidia0", G_FILE_TEST_EXISTS);
}

SDL_Renderer *sdl_util_renderer(SDL_Window *win)
{
    /* Only X11 gives SDL's software renderer a window surface of its own
     * (XShm). SDL 2.26 on Wayland has none: the software renderer draws
     * through a texture of the very GL renderer it would replace, and with
     * that forbidden (the hint below) no renderer is left at all ("Couldn't
     * find matching render driver"). */
    const char *driver = SDL_GetCurrentVideoDriver();
    bool x11 = driver && !strcmp(driver, "x11");
    if (x11 && !has_gpu_device() && !g_getenv("SDL_RENDER_DRIVER")) {
        vd_debug("no GPU device (/dev/dri, /dev/nvidia0): using SDL's software renderer");
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
        return SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
    }
    SDL_Renderer *ren = SDL_CreateRenderer(win, -1, SDL_RENDERER_ACCELERATED);
    if (ren && x11 && gl_is_software(ren) && !g_getenv("SDL_RENDER_DRIVER")) {
        vd_debug("OpenGL renders in software here: using SDL's software renderer");
        SDL_DestroyRenderer(ren);
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
        ren = NULL;
    }
    return ren ? ren : SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
}

/* X keysyms for the keys whose SDL keycode is not already one (used by
 * servers without QEMU's extended key events). */
static uint32_t keysym_of(SDL_Keycode k)
{
    static const struct {
        SDL_Keycode sdl;
        uint32_t xk;
    } map[] = {
        {SDLK_BACKSPACE, 0xff08}, {SDLK_TAB, 0xff09},     {SDLK_RETURN, 0xff0d},
        {SDLK_ESCAPE, 0xff1b},    {SDLK_DELETE, 0xffff},  {SDLK_HOME, 0xff50},
        {SDLK_LEFT, 0xff51},      {SDLK_UP, 0xff52},      {SDLK_RIGHT, 0xff53},
        {SDLK_DOWN, 0xff54},      {SDLK_PAGEUP, 0xff55},  {SDLK_PAGEDOWN, 0xff56},
        {SDLK_END, 0xff57},       {SDLK_INSERT, 0xff63},  {SDLK_MENU, 0xff67},
        {SDLK_APPLICATION, 0xff67}, {SDLK_PAUSE, 0xff13}, {SDLK_PRINTSCREEN, 0xff61},
        {SDLK_SCROLLLOCK, 0xff14}, {SDLK_NUMLOCKCLEAR, 0xff7f}, {SDLK_CAPSLOCK, 0xffe5},
        {SDLK_LSHIFT, 0xffe1},    {SDLK_RSHIFT, 0xffe2},  {SDLK_LCTRL, 0xffe3},
        {SDLK_RCTRL, 0xffe4},     {SDLK_LALT, 0xffe9},    {SDLK_RALT, 0xfe03},
        {SDLK_LGUI, 0xffeb},      {SDLK_RGUI, 0xffec},    {SDLK_KP_ENTER, 0xff8d},
        {SDLK_KP_DIVIDE, 0xffaf}, {SDLK_KP_MULTIPLY, 0xffaa}, {SDLK_KP_MINUS, 0xffad},
        {SDLK_KP_PLUS, 0xffab},   {SDLK_KP_PERIOD, 0xffae}, {SDLK_KP_0, 0xffb0},
        {SDLK_KP_1, 0xffb1},      {SDLK_KP_2, 0xffb2},    {SDLK_KP_3, 0xffb3},
        {SDLK_KP_4, 0xffb4},      {SDLK_KP_5, 0xffb5},    {SDLK_KP_6, 0xffb6},
        {SDLK_KP_7, 0xffb7},      {SDLK_KP_8, 0xffb8},    {SDLK_KP_9, 0xffb9},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
        if (map[i].sdl == k)
            return map[i].xk;
    if (k >= SDLK_F1 && k <= SDLK_F12)
        return 0xffbe + (uint32_t)(k - SDLK_F1);
    if (k > 0 && k < 0x100)
        return (uint32_t)k; /* Latin-1 keysyms equal the code point */
    if (k >= 0x100 && !(k & SDLK_SCANCODE_MASK))
        return 0x01000000u | (uint32_t)k; /* Unicode keysyms */
    return 0;
}

/* The keysym as the host's modifiers make it. QEMU uses it to keep the
 * guest's Caps Lock and Num Lock in step with the host ("lock-key-sync"):
 * an unshifted 't' sent while Shift is down would make it toggle Caps Lock. */
bool sdl_util_copy_cancel_key(Session *s, bool copying, bool *eaten, const SDL_KeyboardEvent *k)
{
    if (k->keysym.scancode != SDL_SCANCODE_ESCAPE)
        return false;
    if (k->type == SDL_KEYDOWN && copying && s) {
        if (!k->repeat)
            session_clip_cancel(s);
        *eaten = true;
        return true;
    }
    if (k->type == SDL_KEYUP && *eaten) {
        *eaten = false;
        return true;
    }
    return false;
}

uint32_t sdl_util_keysym(SDL_Keycode sym)
{
    SDL_Keymod m = SDL_GetModState();
    if (sym >= 'a' && sym <= 'z' && (!!(m & KMOD_SHIFT) != !!(m & KMOD_CAPS)))
        return (uint32_t)(sym - 'a' + 'A');
    if (!(m & KMOD_NUM)) {
        static const struct {
            SDL_Keycode kp;
            uint32_t xk;
        } nav[] = {{SDLK_KP_0, 0xff9e}, {SDLK_KP_1, 0xff9c}, {SDLK_KP_2, 0xff99},
                   {SDLK_KP_3, 0xff9b}, {SDLK_KP_4, 0xff96}, {SDLK_KP_5, 0xff9d},
                   {SDLK_KP_6, 0xff98}, {SDLK_KP_7, 0xff95}, {SDLK_KP_8, 0xff97},
                   {SDLK_KP_9, 0xff9a}, {SDLK_KP_PERIOD, 0xff9f}};
        for (size_t i = 0; i < G_N_ELEMENTS(nav); i++)
            if (nav[i].kp == sym)
                return nav[i].xk;
    }
    return keysym_of(sym);
}


SDL_Cursor *sdl_util_cursor(const uint32_t *argb, int w, int h, int hx, int hy)
{
    static uint32_t clear;
    if (!argb && w < 0)
        return SDL_CreateSystemCursor(SDL_SYSTEM_CURSOR_ARROW);
    SDL_Surface *surf = argb ? SDL_CreateRGBSurfaceWithFormatFrom((void *)argb, w, h, 32, w * 4,
                                                                   SDL_PIXELFORMAT_ARGB8888)
                             : SDL_CreateRGBSurfaceWithFormatFrom(&clear, 1, 1, 32, 4,
                                                                  SDL_PIXELFORMAT_ARGB8888);
    SDL_Cursor *c = surf ? SDL_CreateColorCursor(surf, argb ? hx : 0, argb ? hy : 0) : NULL;
    if (surf)
        SDL_FreeSurface(surf);
    return c;
}

unsigned sdl_util_button_bit(Uint8 button)
{
    switch (button) {
    case SDL_BUTTON_LEFT: return SESSION_BUTTON_LEFT;
    case SDL_BUTTON_MIDDLE: return SESSION_BUTTON_MIDDLE;
    case SDL_BUTTON_RIGHT: return SESSION_BUTTON_RIGHT;
    default: return 0;
    }
}

unsigned sdl_util_wheel_bits(const SDL_MouseWheelEvent *e)
{
    return e->y > 0   ? SESSION_WHEEL_UP
           : e->y < 0 ? SESSION_WHEEL_DOWN
           : e->x > 0 ? SESSION_WHEEL_RIGHT
           : e->x < 0 ? SESSION_WHEEL_LEFT
                      : 0;
}

int sdl_util_scale_pct(SDL_Window *win, SDL_Renderer *ren)
{
    int ww, wh, ow, oh;
    SDL_GetWindowSize(win, &ww, &wh);
    SDL_GetRendererOutputSize(ren, &ow, &oh);
    double s = ww > 0 ? (double)ow / ww : 1;
    if (s <= 1.01) {
        const char *gs = g_getenv("GDK_SCALE"), *gd = g_getenv("GDK_DPI_SCALE");
        s = (gs ? g_ascii_strtod(gs, NULL) : 1) * (gd ? g_ascii_strtod(gd, NULL) : 1);
    }
    return CLAMP((int)(s * 100 + 0.5), 100, 500);
}

bool sdl_util_offer_clipboard(Session *s, char **offered, bool force)
{
    HostClipboardData d;
    HostClipboardResult r = host_clipboard_read_any(&d);
    /* What tells one copy from the next: the text, the paths, the PNG's hash. */
    g_autofree char *key = NULL;
    if (r == HOST_CLIPBOARD_TEXT) {
        key = g_steal_pointer(&d.text);
    } else if (r == HOST_CLIPBOARD_FILES) {
        g_autofree char *joined = g_strjoinv("\n", d.paths);
        key = g_strconcat("files:", joined, NULL);
    } else if (r == HOST_CLIPBOARD_PNG) {
        g_autofree char *sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, d.png);
        key = g_strconcat("png:", sum, NULL);
    }
    bool give = key && (force || g_strcmp0(key, *offered));
    if (give) {
        if (r == HOST_CLIPBOARD_TEXT)
            session_clipboard(s, key);
        else if (r == HOST_CLIPBOARD_FILES)
            session_clipboard_files(s, (const char *const *)d.paths);
        else
            session_clipboard_png(s, d.png);
        g_free(*offered);
        *offered = g_steal_pointer(&key);
    }
    host_clipboard_data_clear(&d);
    return give;
}

void sdl_util_clipboard_offer(GBytes *png, char **paths)
{
    if (png)
        host_clipboard_offer_png(png);
    else if (paths)
        host_clipboard_offer_files((const char *const *)paths);
}

const SDL_Scancode sdl_util_modifiers[8] = {
    SDL_SCANCODE_LCTRL,  SDL_SCANCODE_RCTRL,  SDL_SCANCODE_LALT, SDL_SCANCODE_RALT,
    SDL_SCANCODE_LSHIFT, SDL_SCANCODE_RSHIFT, SDL_SCANCODE_LGUI, SDL_SCANCODE_RGUI,
};

bool sdl_util_session_closed(Session *s)
{
    SessionEvent *ev;
    bool closed = false;
    while (!closed && (ev = session_next_event(s))) {
        closed = ev->type == SESSION_EV_CLOSED;
        session_event_free(ev);
    }
    return closed;
}

void sdl_util_close_sessions(Session **sessions, size_t n)
{
    for (size_t i = 0; i < n; i++)
        session_disconnect_start(sessions[i]);
    for (;;) {
        bool open = false;
        for (size_t i = 0; i < n; i++) {
            if (sessions[i] && sdl_util_session_closed(sessions[i]))
                g_clear_pointer(&sessions[i], session_destroy);
            open = open || sessions[i] != NULL;
        }
        if (!open)
            return;
        /* A session's notify wakes this (its own event type); what else
         * arrives is for a window that is closing. */
        SDL_Event e;
        SDL_WaitEventTimeout(&e, 50);
    }
}
