/* Inputs of the RDP session, from the session's queue onto the wire: keys by
 * scancode (QEMU's numbers), the pointer and its wheels, repaint requests
 * (Refresh Rect), and the rest handed to the clipboard, display control and
 * RemoteApp. Session thread. */
#include "session/rdp/rdp_session_priv.h"

#include <freerdp/input.h>

static void send_input(Rdp *r, SessionInput *in)
{
    rdpInput *input = r->ctx->input;
    switch (in->type) {
    case SESSION_INPUT_KEY: {
        /* QEMU numbers: 0x80 | code for E0-prefixed keys. */
        DWORD sc = in->qnum & 0x7f;
        if (in->qnum & 0x80)
            sc |= KBDEXT;
        if (in->qnum == 0x1d || in->qnum == 0x9d)
            r->ctrl_down = in->down;
        if (in->qnum == 0xc6 && !r->ctrl_down) {
            /* Pause is E1 1D 45 E1 9D C5, all on the key's press; E0 46 (what
             * QEMU numbers it) is Ctrl+Break. */
            if (in->down)
                freerdp_input_send_keyboard_pause_event(input);
        } else if (in->qnum) {
            freerdp_input_send_keyboard_event_ex(input, in->down, FALSE, sc);
        }
        break;
    }
    case SESSION_INPUT_POINTER: {
        UINT16 x = (UINT16)CLAMP(in->x, 0, 65535), y = (UINT16)CLAMP(in->y, 0, 65535);
        static const struct {
            unsigned bit;
            UINT16 flag;
        } buttons[] = {{SESSION_BUTTON_LEFT, PTR_FLAGS_BUTTON1},
                       {SESSION_BUTTON_RIGHT, PTR_FLAGS_BUTTON2},
                       {SESSION_BUTTON_MIDDLE, PTR_FLAGS_BUTTON3}};
        unsigned changed = (in->buttons ^ r->buttons) & 7u;
        if (!changed)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_MOVE, x, y);
        for (size_t i = 0; i < G_N_ELEMENTS(buttons); i++)
            if (changed & buttons[i].bit)
                freerdp_input_send_mouse_event(
                    input, buttons[i].flag | ((in->buttons & buttons[i].bit) ? PTR_FLAGS_DOWN : 0),
                    x, y);
        r->buttons = in->buttons & 7u;
        if (in->buttons & SESSION_WHEEL_UP)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_WHEEL | 0x78, x, y);
        if (in->buttons & SESSION_WHEEL_DOWN)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_WHEEL | PTR_FLAGS_WHEEL_NEGATIVE | 0x88,
                                           x, y);
        if (in->buttons & SESSION_WHEEL_RIGHT)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_HWHEEL | 0x78, x, y);
        if (in->buttons & SESSION_WHEEL_LEFT)
            freerdp_input_send_mouse_event(input, PTR_FLAGS_HWHEEL | PTR_FLAGS_WHEEL_NEGATIVE | 0x88,
                                           x, y);
        break;
    }
    case SESSION_INPUT_CLIPBOARD:
        rdp_clipboard_set_local(r, g_steal_pointer(&in->text));
        break;
    case SESSION_INPUT_CLIPBOARD_PNG:
        rdp_clip_rich_set_png(r, g_steal_pointer(&in->bytes));
        rdp_clipboard_offer_rich(r);
        break;
    case SESSION_INPUT_CLIPBOARD_FILES:
        if (in->paths)
            rdp_clip_rich_set_files(r, g_steal_pointer(&in->paths));
        else if (in->bytes && r->clip_read)
            rdp_clip_rich_set_list(r, g_steal_pointer(&in->bytes));
        rdp_clipboard_offer_rich(r);
        break;
    case SESSION_INPUT_CLIP_CANCEL:
        rdp_clip_rich_user_cancel(r);
        break;
    case SESSION_INPUT_RESIZE:
        rdp_display_request(r, in->w, in->h, in->scale);
        break;
    case RDP_INPUT_MONITORS:
        rdp_display_monitors(r, in->bytes);
        break;
    case SESSION_INPUT_REFRESH: {
        /* RECTANGLE_16's right and bottom are inclusive. */
        RECTANGLE_16 area = {(UINT16)CLAMP(in->x, 0, 65535), (UINT16)CLAMP(in->y, 0, 65535),
                             (UINT16)CLAMP(in->x + in->w - 1, 0, 65535),
                             (UINT16)CLAMP(in->y + in->h - 1, 0, 65535)};
        rdpUpdate *update = r->ctx->update;
        if (update->RefreshRect)
            update->RefreshRect(r->ctx, 1, &area);
        break;
    }
    default:
        rdp_rail_input(r, in);
        break;
    }
}

void rdp_input_flush(Rdp *r)
{
    SessionInput *in;
    while ((in = session_input_pop(r->s))) {
        send_input(r, in);
        session_input_free(in);
    }
}
