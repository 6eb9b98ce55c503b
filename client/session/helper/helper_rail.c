/* RemoteApp over the helper's channel (helper_window_priv.h): the helper's
 * side puts the session's SESSION_EV_RAIL_* events into messages, within
 * the limits below (it drops or trims what the window would refuse, so an
 * honest helper never breaks the session); the window's side reads them as
 * a hostile helper's: every window id, rectangle, string, icon size and
 * code is checked before an event is posted. */
#include "session/helper/helper_window_priv.h"

#include "session/session_priv.h"

#include "common/error.h"

#include <string.h>

static bool bad(GError **error, const char *what)
{
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "the session helper sent %s", what);
    return false;
}

/* Window ids 0 and 0xffffffff mean "none" in MS-RDPERP. */
static bool id_ok(uint32_t id)
{
    return id != 0 && id != 0xffffffffu;
}

static bool coord_ok(int v)
{
    return v >= -HELPER_RAIL_COORD_MAX && v <= HELPER_RAIL_COORD_MAX;
}

static bool side_ok(int v)
{
    return v >= 0 && v <= HELPER_RAIL_SIDE_MAX;
}

/* The rectangle of a SESSION_RAIL_RECT: an offset (or INT32_MIN twice:
 * keep it) and a size (or -1 twice: keep it), not both kept. */
static bool rect_ok(const SessionRailWindow *w)
{
    bool keep_pos = w->x == INT32_MIN && w->y == INT32_MIN;
    bool keep_size = w->w == -1 && w->h == -1;
    return !(keep_pos && keep_size) && (keep_pos || (coord_ok(w->x) && coord_ok(w->y))) &&
           (keep_size || (side_ok(w->w) && side_ok(w->h)));
}

static bool vis_box_ok(const int *b)
{
    return coord_ok(b[0]) && coord_ok(b[1]) && coord_ok(b[2]) && coord_ok(b[3]) &&
           b[0] <= b[2] && b[1] <= b[3];
}

/* --- the helper's side --- */

/* @s cut to at most @max bytes at a character boundary (valid UTF-8 in,
 * valid UTF-8 out). */
static char *trimmed(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return g_strdup(s);
    const char *end = s + max;
    while (end > s && (*end & 0xc0) == 0x80)
        end--;
    return g_strndup(s, (gsize)(end - s));
}

/* The window event @w as the window checks it: what it would refuse is
 * dropped (a field) or clamped (a position, a size). False: nothing to send
 * (no usable id). */
static bool sanitize_window(SessionRailWindow *w)
{
    if (!id_ok(w->id))
        return false;
    w->fields &= HELPER_RAIL_FIELDS;
    if (w->fields & SESSION_RAIL_RECT) {
        if (w->x != INT32_MIN || w->y != INT32_MIN) {
            w->x = CLAMP(w->x, -HELPER_RAIL_COORD_MAX, HELPER_RAIL_COORD_MAX);
            w->y = CLAMP(w->y, -HELPER_RAIL_COORD_MAX, HELPER_RAIL_COORD_MAX);
        }
        if (w->w != -1 || w->h != -1) {
            w->w = CLAMP(w->w, 0, HELPER_RAIL_SIDE_MAX);
            w->h = CLAMP(w->h, 0, HELPER_RAIL_SIDE_MAX);
        }
        if (!rect_ok(w))
            w->fields &= ~(unsigned)SESSION_RAIL_RECT;
    }
    if ((w->fields & SESSION_RAIL_SHOW) && (w->show < 0 || w->show > HELPER_RAIL_SHOW_MAX))
        w->fields &= ~(unsigned)SESSION_RAIL_SHOW;
    if ((w->fields & SESSION_RAIL_VIS_OFFSET) && (!coord_ok(w->vis_x) || !coord_ok(w->vis_y)))
        w->fields &= ~(unsigned)SESSION_RAIL_VIS_OFFSET;
    if ((w->fields & SESSION_RAIL_VISIBILITY) && !vis_box_ok(w->vis_box))
        w->fields &= ~(unsigned)SESSION_RAIL_VISIBILITY;
    return true;
}

static void put_window(GByteArray *b, const SessionRailWindow *w)
{
    unsigned f = w->fields;
    bool rect = f & SESSION_RAIL_RECT;
    helper_msg_begin(b, HELPER_MSG_RAIL_WINDOW);
    helper_put_u32(b, w->id);
    helper_put_u32(b, f & SESSION_RAIL_OWNER ? w->owner : 0);
    helper_put_u32(b, f);
    helper_put_u8(b, w->is_new);
    helper_put_i32(b, rect ? w->x : 0);
    helper_put_i32(b, rect ? w->y : 0);
    helper_put_i32(b, rect ? w->w : 0);
    helper_put_i32(b, rect ? w->h : 0);
    g_autofree char *title = f & SESSION_RAIL_TITLE
                                 ? trimmed(w->title ? w->title : "", HELPER_RAIL_TITLE_MAX)
                                 : NULL;
    helper_put_str(b, title);
    helper_put_u32(b, f & SESSION_RAIL_SHOW ? (uint32_t)w->show : 0);
    helper_put_u32(b, f & SESSION_RAIL_STYLE ? w->style : 0);
    helper_put_u32(b, f & SESSION_RAIL_STYLE ? w->ex_style : 0);
    helper_put_i32(b, f & SESSION_RAIL_VIS_OFFSET ? w->vis_x : 0);
    helper_put_i32(b, f & SESSION_RAIL_VIS_OFFSET ? w->vis_y : 0);
    for (int i = 0; i < 4; i++)
        helper_put_i32(b, f & SESSION_RAIL_VISIBILITY ? w->vis_box[i] : 0);
}

bool helper_rail_encode_event(const SessionEvent *ev, GByteArray *b)
{
    const SessionRailWindow *rail = ev->rail;
    switch (ev->type) {
    case SESSION_EV_RAIL_WINDOW: {
        SessionRailWindow w = *rail;
        if (!sanitize_window(&w))
            return false;
        put_window(b, &w);
        return true;
    }
    case SESSION_EV_RAIL_DELETE:
        if (!id_ok(rail->id))
            return false;
        helper_msg_begin(b, HELPER_MSG_RAIL_DELETE);
        helper_put_u32(b, rail->id);
        return true;
    case SESSION_EV_RAIL_ICON:
        if (!id_ok(rail->id) || !ev->pixels || ev->w < 1 || ev->h < 1 ||
            ev->w > HELPER_RAIL_ICON_MAX || ev->h > HELPER_RAIL_ICON_MAX)
            return false;
        helper_msg_begin(b, HELPER_MSG_RAIL_ICON);
        helper_put_u32(b, rail->id);
        helper_put_u32(b, (uint32_t)ev->w);
        helper_put_u32(b, (uint32_t)ev->h);
        helper_put_bytes(b, ev->pixels, (size_t)ev->w * (size_t)ev->h * 4);
        return true;
    case SESSION_EV_RAIL_ACTIVE:
        helper_msg_begin(b, HELPER_MSG_RAIL_ACTIVE);
        helper_put_u32(b, id_ok(rail->id) ? rail->id : 0);
        return true;
    case SESSION_EV_RAIL_EXEC: {
        g_autofree char *program = trimmed(ev->text ? ev->text : "", HELPER_RAIL_PROGRAM_MAX);
        g_autofree char *message =
            ev->error ? trimmed(ev->error->message, HELPER_RAIL_MESSAGE_MAX) : NULL;
        int code = ev->error ? ev->error->code : 0;
        if (ev->error && (ev->error->domain != VD_ERROR || code < VD_ERROR_FAILED ||
                          code > VD_ERROR_NO_SPACE))
            code = VD_ERROR_FAILED;
        helper_msg_begin(b, HELPER_MSG_RAIL_EXEC_RESULT);
        helper_put_str(b, program);
        helper_put_u32(b, (uint32_t)code);
        helper_put_str(b, message);
        return true;
    }
    default:
        return false;
    }
}

/* --- the window's side --- */

static bool apply_window(Session *s, HelperReader *r, GError **error)
{
    SessionRailWindow w = {0};
    w.id = helper_get_u32(r);
    w.owner = helper_get_u32(r);
    w.fields = helper_get_u32(r);
    uint8_t is_new = helper_get_u8(r);
    w.x = helper_get_i32(r);
    w.y = helper_get_i32(r);
    w.w = helper_get_i32(r);
    w.h = helper_get_i32(r);
    g_autofree char *title = helper_get_str(r, HELPER_RAIL_TITLE_MAX);
    uint32_t show = helper_get_u32(r);
    w.style = helper_get_u32(r);
    w.ex_style = helper_get_u32(r);
    w.vis_x = helper_get_i32(r);
    w.vis_y = helper_get_i32(r);
    for (int i = 0; i < 4; i++)
        w.vis_box[i] = helper_get_i32(r);
    if (!helper_reader_done(r))
        return bad(error, "a malformed RemoteApp window");
    unsigned f = w.fields;
    if (!id_ok(w.id) || is_new > 1 || (f & ~(unsigned)HELPER_RAIL_FIELDS) ||
        !(f & SESSION_RAIL_TITLE) != !title || ((f & SESSION_RAIL_RECT) && !rect_ok(&w)) ||
        ((f & SESSION_RAIL_SHOW) && show > HELPER_RAIL_SHOW_MAX) ||
        ((f & SESSION_RAIL_VIS_OFFSET) && (!coord_ok(w.vis_x) || !coord_ok(w.vis_y))) ||
        ((f & SESSION_RAIL_VISIBILITY) && !vis_box_ok(w.vis_box)))
        return bad(error, "an impossible RemoteApp window");
    SessionRailWindow *out = g_new0(SessionRailWindow, 1);
    out->id = w.id;
    out->fields = f;
    out->is_new = is_new;
    /* Only what the fields say: the rest stays zero. */
    if (f & SESSION_RAIL_OWNER)
        out->owner = w.owner;
    if (f & SESSION_RAIL_TITLE)
        out->title = g_steal_pointer(&title);
    if (f & SESSION_RAIL_RECT) {
        out->x = w.x;
        out->y = w.y;
        out->w = w.w;
        out->h = w.h;
    }
    if (f & SESSION_RAIL_SHOW)
        out->show = (int)show;
    if (f & SESSION_RAIL_STYLE) {
        out->style = w.style;
        out->ex_style = w.ex_style;
    }
    if (f & SESSION_RAIL_VIS_OFFSET) {
        out->vis_x = w.vis_x;
        out->vis_y = w.vis_y;
    }
    if (f & SESSION_RAIL_VISIBILITY)
        memcpy(out->vis_box, w.vis_box, sizeof(out->vis_box));
    session_post_rail(s, SESSION_EV_RAIL_WINDOW, out, NULL, 0, 0);
    return true;
}

static bool apply_id(Session *s, SessionEventType type, HelperReader *r, GError **error)
{
    uint32_t id = helper_get_u32(r);
    if (!helper_reader_done(r))
        return bad(error, "a malformed RemoteApp message");
    if (type == SESSION_EV_RAIL_ACTIVE ? id == 0xffffffffu : !id_ok(id))
        return bad(error, "a RemoteApp message for no window");
    SessionRailWindow *w = g_new0(SessionRailWindow, 1);
    w->id = id;
    session_post_rail(s, type, w, NULL, 0, 0);
    return true;
}

static bool apply_icon(Session *s, HelperReader *r, GError **error)
{
    uint32_t id = helper_get_u32(r), w = helper_get_u32(r), h = helper_get_u32(r);
    if (r->bad)
        return bad(error, "a malformed RemoteApp icon");
    if (!id_ok(id) || w < 1 || h < 1 || w > HELPER_RAIL_ICON_MAX || h > HELPER_RAIL_ICON_MAX)
        return bad(error, "a RemoteApp icon of an impossible size");
    size_t len = (size_t)w * h * 4; /* at most 256 KiB: no overflow */
    const uint8_t *px = helper_get_bytes(r, len);
    if (!px || !helper_reader_done(r))
        return bad(error, "a malformed RemoteApp icon");
    SessionRailWindow *rw = g_new0(SessionRailWindow, 1);
    rw->id = id;
    session_post_rail(s, SESSION_EV_RAIL_ICON, rw, g_memdup2(px, len), (int)w, (int)h);
    return true;
}

static bool apply_exec_result(Session *s, HelperReader *r, GError **error)
{
    g_autofree char *program = helper_get_str(r, HELPER_RAIL_PROGRAM_MAX);
    uint32_t code = helper_get_u32(r);
    g_autofree char *message = helper_get_str(r, HELPER_RAIL_MESSAGE_MAX);
    if (!helper_reader_done(r) || !program)
        return bad(error, "a malformed RemoteApp launch result");
    /* Started: no message; failed: one of our codes and its message. */
    if (code == 0 ? message != NULL
                  : !message || code < VD_ERROR_FAILED || code > VD_ERROR_NO_SPACE)
        return bad(error, "an impossible RemoteApp launch result");
    GError *err = code ? g_error_new_literal(VD_ERROR, (int)code, message) : NULL;
    session_post(s, SESSION_EV_RAIL_EXEC, 0, 0, g_steal_pointer(&program), err);
    return true;
}

bool helper_rail_apply(Session *s, const HelperMsg *m, GError **error)
{
    HelperReader r;
    helper_reader_init(&r, m->payload, m->len);
    if (m->fd >= 0)
        return bad(error, "a descriptor with a message that takes none");
    switch (m->type) {
    case HELPER_MSG_RAIL_WINDOW:
        return apply_window(s, &r, error);
    case HELPER_MSG_RAIL_DELETE:
        return apply_id(s, SESSION_EV_RAIL_DELETE, &r, error);
    case HELPER_MSG_RAIL_ICON:
        return apply_icon(s, &r, error);
    case HELPER_MSG_RAIL_ACTIVE:
        return apply_id(s, SESSION_EV_RAIL_ACTIVE, &r, error);
    case HELPER_MSG_RAIL_EXEC_RESULT:
        return apply_exec_result(s, &r, error);
    default:
        return bad(error, "a RemoteApp message of unknown type");
    }
}
