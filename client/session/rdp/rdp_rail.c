/* RemoteApp (MS-RDPERP, "RAIL") for the RDP session: the rail static
 * channel's handshake, program launches and window commands, and the
 * window orders that describe the server's windows. Everything runs on the
 * session thread and reaches the main thread as SESSION_EV_RAIL_* events;
 * the pictures stay the ordinary desktop updates (the server's virtual
 * desktop), which the main thread cuts into windows. The main thread's
 * calls (rdp_session_rail_*, at the end) queue inputs for the session thread,
 * which rdp_input.c hands back here. */
#include "session/rdp/rdp_session_priv.h"

#include "common/error.h"
#include "common/log.h"

#include <freerdp/codec/color.h>
#include <freerdp/rail.h>
#include <freerdp/settings.h>
#include <freerdp/window.h>

#include <string.h>

/* Windows names its window-list support levels; FreeRDP has no macros. */
#define WINDOW_LEVEL_SUPPORTED 0x1
#define WINDOW_LEVEL_SUPPORTED_EX 0x2
#define ICON_CACHE_UNCACHED 0xFF

void rdp_rail_configure(Rdp *r, rdpSettings *st)
{
    const RdpTarget *t = &r->target;
    freerdp_settings_set_bool(st, FreeRDP_RemoteApplicationMode, TRUE);
    freerdp_settings_set_string(st, FreeRDP_RemoteApplicationProgram, t->remote_app);
    if (t->remote_app_args)
        freerdp_settings_set_string(st, FreeRDP_RemoteApplicationCmdLine, t->remote_app_args);
    freerdp_settings_set_bool(st, FreeRDP_RemoteAppLanguageBarSupported, FALSE);
    /* HiDef RemoteApp (MS-RDPERP 1.3.3, "Enhanced RemoteApp"): asked for in
     * the client info (INFO_HIDEF_RAIL_SUPPORTED) and by announcing the
     * HandshakeEx PDU in the Remote Programs capability set; the server's
     * HandshakeEx says whether it runs it (on_handshake_ex). */
    freerdp_settings_set_bool(st, FreeRDP_HiDefRemoteApp, TRUE);
    freerdp_settings_set_uint32(st, FreeRDP_RemoteApplicationSupportMask,
                                freerdp_settings_get_uint32(st, FreeRDP_RemoteApplicationSupportMask) |
                                    RAIL_LEVEL_SUPPORTED | RAIL_LEVEL_HANDSHAKE_EX_SUPPORTED);
    freerdp_settings_set_uint32(st, FreeRDP_RemoteWndSupportLevel,
                                WINDOW_LEVEL_SUPPORTED | WINDOW_LEVEL_SUPPORTED_EX);
    freerdp_settings_set_uint32(st, FreeRDP_RemoteAppNumIconCaches, 3);
    freerdp_settings_set_uint32(st, FreeRDP_RemoteAppNumIconCacheEntries, 12);
    freerdp_settings_set_bool(st, FreeRDP_Workarea, TRUE);
    /* Windows draws a RemoteApp window's frame into the desktop picture and
     * the windows here are cut out of it: the legacy desktop updates carry
     * it; GFX surfaces in RemoteApp mode would need per-window mapping. */
    freerdp_settings_set_bool(st, FreeRDP_SupportGraphicsPipeline, FALSE);
    freerdp_settings_set_bool(st, FreeRDP_SupportDisplayControl, FALSE);
    freerdp_settings_set_uint32(st, FreeRDP_PerformanceFlags,
                                PERF_DISABLE_WALLPAPER | PERF_DISABLE_FULLWINDOWDRAG);
}

/* --- window orders --- */

static char *utf16_title(const RAIL_UNICODE_STRING *s)
{
    if (!s->string || s->length < 2)
        return g_strdup("");
    char *t = g_utf16_to_utf8((const gunichar2 *)s->string, s->length / 2, NULL, NULL, NULL);
    return t ? t : g_strdup("");
}

static BOOL on_window(rdpContext *ctx, const WINDOW_ORDER_INFO *info, const WINDOW_STATE_ORDER *ws)
{
    Rdp *r = rdp_of(ctx);
    UINT32 f = info->fieldFlags;
    SessionRailWindow *w = g_new0(SessionRailWindow, 1);
    w->id = info->windowId;
    w->is_new = (f & WINDOW_ORDER_STATE_NEW) != 0;
    if (f & WINDOW_ORDER_FIELD_OWNER) {
        w->owner = ws->ownerWindowId;
        w->fields |= SESSION_RAIL_OWNER;
    }
    if (f & WINDOW_ORDER_FIELD_TITLE) {
        w->title = utf16_title(&ws->titleInfo);
        w->fields |= SESSION_RAIL_TITLE;
    }
    if (f & (WINDOW_ORDER_FIELD_WND_OFFSET | WINDOW_ORDER_FIELD_WND_SIZE)) {
        /* Both are sent together in practice; a window order carries the
         * current values either way. */
        w->x = ws->windowOffsetX;
        w->y = ws->windowOffsetY;
        w->w = (int)ws->windowWidth;
        w->h = (int)ws->windowHeight;
        w->fields |= SESSION_RAIL_RECT;
        if (!(f & WINDOW_ORDER_FIELD_WND_SIZE))
            w->w = w->h = -1; /* offset only: keep the size */
        if (!(f & WINDOW_ORDER_FIELD_WND_OFFSET))
            w->x = w->y = INT32_MIN; /* size only: keep the offset */
    }
    if (f & WINDOW_ORDER_FIELD_SHOW) {
        w->show = (int)ws->showState;
        w->fields |= SESSION_RAIL_SHOW;
    }
    if (f & WINDOW_ORDER_FIELD_STYLE) {
        w->style = ws->style;
        w->ex_style = ws->extendedStyle;
        w->fields |= SESSION_RAIL_STYLE;
    }
    if (f & WINDOW_ORDER_FIELD_VIS_OFFSET) {
        w->vis_x = ws->visibleOffsetX;
        w->vis_y = ws->visibleOffsetY;
        w->fields |= SESSION_RAIL_VIS_OFFSET;
    }
    if ((f & WINDOW_ORDER_FIELD_VISIBILITY) && ws->numVisibilityRects > 0 && ws->visibilityRects) {
        const RECTANGLE_16 *v = ws->visibilityRects;
        int *box = w->vis_box;
        box[0] = v[0].left;
        box[1] = v[0].top;
        box[2] = v[0].right;
        box[3] = v[0].bottom;
        for (UINT32 i = 1; i < ws->numVisibilityRects; i++) {
            box[0] = MIN(box[0], v[i].left);
            box[1] = MIN(box[1], v[i].top);
            box[2] = MAX(box[2], v[i].right);
            box[3] = MAX(box[3], v[i].bottom);
        }
        w->fields |= SESSION_RAIL_VISIBILITY;
    }
    vd_debug("rdp: rail window 0x%x%s fields 0x%x", w->id, w->is_new ? " (new)" : "", f);
    session_post_rail(r->s, SESSION_EV_RAIL_WINDOW, w, NULL, 0, 0);
    return TRUE;
}

static BOOL on_window_delete(rdpContext *ctx, const WINDOW_ORDER_INFO *info)
{
    SessionRailWindow *w = g_new0(SessionRailWindow, 1);
    w->id = info->windowId;
    session_post_rail(rdp_of(ctx)->s, SESSION_EV_RAIL_DELETE, w, NULL, 0, 0);
    return TRUE;
}

typedef struct {
    int w, h;
    uint32_t argb[];
} Icon;

static void post_icon(Rdp *r, uint32_t id, const Icon *icon)
{
    SessionRailWindow *w = g_new0(SessionRailWindow, 1);
    w->id = id;
    uint32_t *px = g_memdup2(icon->argb, (gsize)icon->w * (gsize)icon->h * 4);
    session_post_rail(r->s, SESSION_EV_RAIL_ICON, w, px, icon->w, icon->h);
}

static BOOL on_window_icon(rdpContext *ctx, const WINDOW_ORDER_INFO *info,
                           const WINDOW_ICON_ORDER *order)
{
    Rdp *r = rdp_of(ctx);
    const ICON_INFO *ii = order->iconInfo;
    if (!ii || !ii->width || !ii->height || ii->width > 256 || ii->height > 256)
        return TRUE;
    Icon *icon = g_malloc(sizeof(Icon) + (size_t)ii->width * ii->height * 4);
    icon->w = (int)ii->width;
    icon->h = (int)ii->height;
    /* BGRA bytes are 0xAARRGGBB words on a little-endian host, as SDL's
     * ARGB8888 wants them. */
    if (!freerdp_image_copy_from_icon_data((BYTE *)icon->argb, PIXEL_FORMAT_BGRA32, 0, 0, 0,
                                           (UINT16)ii->width, (UINT16)ii->height, ii->bitsColor,
                                           (UINT16)ii->cbBitsColor, ii->bitsMask,
                                           (UINT16)ii->cbBitsMask, ii->colorTable,
                                           (UINT16)ii->cbColorTable, ii->bpp)) {
        g_free(icon);
        return TRUE; /* an icon we cannot read is no reason to drop the session */
    }
    post_icon(r, info->windowId, icon);
    if (ii->cacheId != ICON_CACHE_UNCACHED)
        g_hash_table_replace(r->rail_icons, GUINT_TO_POINTER(ii->cacheId << 16 | ii->cacheEntry),
                             icon);
    else
        g_free(icon);
    return TRUE;
}

static BOOL on_window_cached_icon(rdpContext *ctx, const WINDOW_ORDER_INFO *info,
                                  const WINDOW_CACHED_ICON_ORDER *order)
{
    Rdp *r = rdp_of(ctx);
    const Icon *icon = g_hash_table_lookup(
        r->rail_icons,
        GUINT_TO_POINTER(order->cachedIcon.cacheId << 16 | order->cachedIcon.cacheEntry));
    if (icon)
        post_icon(r, info->windowId, icon);
    return TRUE;
}

static BOOL on_monitored_desktop(rdpContext *ctx, const WINDOW_ORDER_INFO *info,
                                 const MONITORED_DESKTOP_ORDER *desk)
{
    if (info->fieldFlags & WINDOW_ORDER_FIELD_DESKTOP_ACTIVE_WND) {
        SessionRailWindow *w = g_new0(SessionRailWindow, 1);
        w->id = desk->activeWindowId == 0xFFFFFFFF ? 0 : desk->activeWindowId;
        session_post_rail(rdp_of(ctx)->s, SESSION_EV_RAIL_ACTIVE, w, NULL, 0, 0);
    }
    return TRUE;
}

static BOOL on_non_monitored_desktop(rdpContext *ctx, const WINDOW_ORDER_INFO *info)
{
    (void)ctx;
    (void)info;
    return TRUE;
}

/* Notification-area icons of the guest's programs are not shown here. */
static BOOL on_notify_icon(rdpContext *ctx, const WINDOW_ORDER_INFO *info,
                           const NOTIFY_ICON_STATE_ORDER *state)
{
    (void)ctx;
    (void)info;
    (void)state;
    return TRUE;
}

static BOOL on_notify_icon_delete(rdpContext *ctx, const WINDOW_ORDER_INFO *info)
{
    (void)ctx;
    (void)info;
    return TRUE;
}

void rdp_rail_register(Rdp *r, rdpUpdate *update)
{
    if (!r->rail_icons)
        r->rail_icons = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    rdpWindowUpdate *wu = update->window;
    wu->WindowCreate = on_window;
    wu->WindowUpdate = on_window;
    wu->WindowDelete = on_window_delete;
    wu->WindowIcon = on_window_icon;
    wu->WindowCachedIcon = on_window_cached_icon;
    wu->NotifyIconCreate = on_notify_icon;
    wu->NotifyIconUpdate = on_notify_icon;
    wu->NotifyIconDelete = on_notify_icon_delete;
    wu->MonitoredDesktop = on_monitored_desktop;
    wu->NonMonitoredDesktop = on_non_monitored_desktop;
}

/* --- the rail channel --- */

static const char *exec_error_text(UINT16 code)
{
    switch (code) {
    case RAIL_EXEC_E_HOOK_NOT_LOADED: return "the server's RemoteApp hook is not loaded";
    case RAIL_EXEC_E_DECODE_FAILED: return "the server could not decode the request";
    case RAIL_EXEC_E_NOT_IN_ALLOWLIST:
        return "the program is not on the server's RemoteApp allow list (the guest tools allow "
               "unlisted programs)";
    case RAIL_EXEC_E_FILE_NOT_FOUND: return "the program was not found in the guest";
    case RAIL_EXEC_E_SESSION_LOCKED: return "the guest's session is locked";
    default: return "the server could not start it";
    }
}

static UINT on_exec_result(RailClientContext *rail, const RAIL_EXEC_RESULT_ORDER *res)
{
    Rdp *r = rail->custom;
    char *name = utf16_title(&res->exeOrFile);
    GError *err = NULL;
    if (res->execResult != RAIL_EXEC_S_OK)
        err = g_error_new(VD_ERROR, res->execResult == RAIL_EXEC_E_FILE_NOT_FOUND
                                        ? VD_ERROR_NOT_FOUND
                                        : VD_ERROR_FAILED,
                          "%s: %s (code %u, 0x%x)", *name ? name : "the program",
                          exec_error_text(res->execResult), res->execResult, res->rawResult);
    vd_debug("rdp: rail exec result %u for %s", res->execResult, name);
    session_post(r->s, SESSION_EV_RAIL_EXEC, 0, 0, name, err);
    return CHANNEL_RC_OK;
}

static UINT send_exec(Rdp *r, const char *program, const char *args)
{
    RAIL_EXEC_ORDER exec = {0};
    exec.RemoteApplicationProgram = (char *)program;
    exec.RemoteApplicationArguments = (char *)args;
    vd_debug("rdp: rail exec %s", program);
    return r->rail->ClientExecute(r->rail, &exec);
}

/* The server's handshake (the channel answered it already): our status,
 * system parameters, then the program (MS-RDPERP 1.3.2.1). */
static UINT start(Rdp *r)
{
    if (r->rail_started)
        return CHANNEL_RC_OK;
    RailClientContext *rail = r->rail;
    RAIL_CLIENT_STATUS_ORDER status = {.flags = 0};
    UINT rc = rail->ClientInformation(rail, &status);
    if (rc != CHANNEL_RC_OK)
        return rc;
    rdpSettings *st = r->ctx->settings;
    RAIL_SYSPARAM_ORDER sp = {0};
    sp.params = SPI_MASK_SET_HIGH_CONTRAST | SPI_MASK_SET_MOUSE_BUTTON_SWAP |
                SPI_MASK_SET_KEYBOARD_PREF | SPI_MASK_SET_DRAG_FULL_WINDOWS |
                SPI_MASK_SET_KEYBOARD_CUES | SPI_MASK_SET_WORK_AREA;
    sp.highContrast.flags = 0x7E;
    sp.workArea.right = (UINT16)freerdp_settings_get_uint32(st, FreeRDP_DesktopWidth);
    sp.workArea.bottom = (UINT16)freerdp_settings_get_uint32(st, FreeRDP_DesktopHeight);
    if ((rc = rail->ClientSystemParam(rail, &sp)) != CHANNEL_RC_OK)
        return rc;
    if ((rc = send_exec(r, r->target.remote_app, r->target.remote_app_args)) != CHANNEL_RC_OK)
        return rc;
    r->rail_started = true;
    SessionInput *in;
    while ((in = g_queue_pop_head(&r->rail_waiting))) {
        send_exec(r, in->text, in->text2);
        session_input_free(in);
    }
    return CHANNEL_RC_OK;
}

static UINT on_handshake(RailClientContext *rail, const RAIL_HANDSHAKE_ORDER *h)
{
    (void)h;
    return start(rail->custom);
}

/* HandshakeEx: the server takes HiDef RemoteApp if it sets the flag. */
static UINT on_handshake_ex(RailClientContext *rail, const RAIL_HANDSHAKE_EX_ORDER *h)
{
    Rdp *r = rail->custom;
    r->rail_hidef = (h->railHandshakeFlags & TS_RAIL_ORDER_HANDSHAKEEX_FLAGS_HIDEF) != 0;
    vd_debug("rdp: rail handshake ex, HiDef RemoteApp %s", r->rail_hidef ? "on" : "off");
    return start(r);
}

static UINT on_ignored_sysparam(RailClientContext *rail, const RAIL_SYSPARAM_ORDER *sp)
{
    (void)rail;
    (void)sp;
    return CHANNEL_RC_OK;
}

static UINT on_ignored_minmax(RailClientContext *rail, const RAIL_MINMAXINFO_ORDER *mm)
{
    (void)rail;
    (void)mm;
    return CHANNEL_RC_OK;
}

/* We never offer local move/size (our windows have no frame of their own
 * to drag: the server moves its windows and tells us). */
static UINT on_ignored_movesize(RailClientContext *rail, const RAIL_LOCALMOVESIZE_ORDER *m)
{
    (void)rail;
    (void)m;
    return CHANNEL_RC_OK;
}

static UINT on_ignored_langbar(RailClientContext *rail, const RAIL_LANGBAR_INFO_ORDER *l)
{
    (void)rail;
    (void)l;
    return CHANNEL_RC_OK;
}

static UINT on_ignored_appid(RailClientContext *rail, const RAIL_GET_APPID_RESP_ORDER *a)
{
    (void)rail;
    (void)a;
    return CHANNEL_RC_OK;
}

void rdp_rail_channel_connected(Rdp *r, RailClientContext *rail)
{
    r->rail = rail;
    rail->custom = r;
    rail->ServerExecuteResult = on_exec_result;
    rail->ServerSystemParam = on_ignored_sysparam;
    rail->ServerHandshake = on_handshake;
    rail->ServerHandshakeEx = on_handshake_ex;
    rail->ServerLocalMoveSize = on_ignored_movesize;
    rail->ServerMinMaxInfo = on_ignored_minmax;
    rail->ServerLanguageBarInfo = on_ignored_langbar;
    rail->ServerGetAppIdResponse = on_ignored_appid;
}

void rdp_rail_channel_disconnected(Rdp *r)
{
    if (r->rail)
        r->rail->custom = NULL;
    r->rail = NULL;
    r->rail_started = false;
    r->rail_hidef = false;
}

void rdp_rail_input(Rdp *r, SessionInput *in)
{
    if (in->type == RDP_INPUT_RAIL_EXEC) {
        if (r->rail && r->rail_started) {
            send_exec(r, in->text, in->text2);
        } else {
            SessionInput *copy = g_new0(SessionInput, 1);
            copy->type = RDP_INPUT_RAIL_EXEC;
            copy->text = g_steal_pointer(&in->text);
            copy->text2 = g_steal_pointer(&in->text2);
            g_queue_push_tail(&r->rail_waiting, copy);
        }
        return;
    }
    if (!r->rail || !r->rail_started)
        return;
    switch (in->type) {
    case RDP_INPUT_RAIL_COMMAND: {
        RAIL_SYSCOMMAND_ORDER c = {.windowId = in->id, .command = (UINT16)in->qnum};
        r->rail->ClientSystemCommand(r->rail, &c);
        break;
    }
    case RDP_INPUT_RAIL_MOVE: {
        RAIL_WINDOW_MOVE_ORDER m = {.windowId = in->id,
                                    .left = (INT16)in->x,
                                    .top = (INT16)in->y,
                                    .right = (INT16)(in->x + in->w),
                                    .bottom = (INT16)(in->y + in->h)};
        r->rail->ClientWindowMove(r->rail, &m);
        break;
    }
    case RDP_INPUT_RAIL_ACTIVATE: {
        RAIL_ACTIVATE_ORDER a = {.windowId = in->id, .enabled = in->down};
        r->rail->ClientActivate(r->rail, &a);
        break;
    }
    default:
        break;
    }
}

void rdp_rail_finish(Rdp *r)
{
    SessionInput *in;
    while ((in = g_queue_pop_head(&r->rail_waiting)))
        session_input_free(in);
    g_clear_pointer(&r->rail_icons, g_hash_table_unref);
}

/* --- the main thread's calls (rdp_session.h) --- */

void rdp_session_rail_exec(Session *s, const char *program, const char *args)
{
    session_input_push(s, &(SessionInput){.type = RDP_INPUT_RAIL_EXEC,
                                          .text = g_strdup(program),
                                          .text2 = g_strdup(args)});
}

void rdp_session_rail_command(Session *s, uint32_t id, RdpRailCommand cmd)
{
    session_input_push(s, &(SessionInput){.type = RDP_INPUT_RAIL_COMMAND, .id = id, .qnum = cmd});
}

void rdp_session_rail_move(Session *s, uint32_t id, int x, int y, int w, int h)
{
    session_input_push(s, &(SessionInput){
                              .type = RDP_INPUT_RAIL_MOVE, .id = id, .x = x, .y = y, .w = w, .h = h});
}

void rdp_session_rail_activate(Session *s, uint32_t id, bool active)
{
    session_input_push(
        s, &(SessionInput){.type = RDP_INPUT_RAIL_ACTIVATE, .id = id, .down = active});
}
