/* RemoteApp windows: their state, the window orders that announce them
 * (written by srv_rail_orders.c), the MonitoredDesktop order (active
 * window, z-order), a generated 32x32 icon per window, and the desktop
 * they are painted on. Peer thread only.
 *
 * A window's picture: its colour, a title bar (the top TITLE_BAR rows) at
 * half that intensity, a 1-pixel black frame, and white grid lines in the
 * client area where (x - left) % 64 == 63 or (y - top) % 64 == 63. Outside
 * windows the desktop is SRV_RAIL_BACKGROUND. */
#include "srv_rail_priv.h"

#include <string.h>

#define TITLE_BAR 24
#define ICON_SIZE 32
#define NO_CACHE 0xFF

static const uint32_t palette[] = {0xD04040, 0x40B040, 0xE09030, 0xA050C0, 0xD0D040, 0x40C0C0};

void rail_win_free(gpointer data)
{
    RailWin *w = data;
    g_free(w->title);
    g_free(w);
}

RailWin *rail_win_find(SrvRail *r, uint32_t id)
{
    for (guint i = 0; i < r->windows->len; i++) {
        RailWin *w = g_ptr_array_index(r->windows, i);
        if (w->id == id)
            return w;
    }
    return NULL;
}

guint rail_win_count_top(SrvRail *r)
{
    guint n = 0;
    for (guint i = 0; i < r->windows->len; i++)
        n += ((RailWin *)g_ptr_array_index(r->windows, i))->owner == 0;
    return n;
}

RailWin *rail_win_new(SrvRail *r, uint32_t owner, const char *title, int x, int y, int w, int h)
{
    RailWin *win = g_new0(RailWin, 1);
    win->id = r->next_id++;
    win->owner = owner;
    win->title = g_strdup(title);
    win->x = win->nx = x;
    win->y = win->ny = y;
    win->w = win->nw = w;
    win->h = win->nh = h;
    win->show = WINDOW_SHOW;
    win->colour = palette[(win->id - 0x1001) % G_N_ELEMENTS(palette)];
    if (owner) {
        win->style = WS_POPUP | WS_CAPTION | WS_SYSMENU | WS_VISIBLE | WS_CLIPSIBLINGS;
        win->ex_style = WS_EX_DLGMODALFRAME | WS_EX_WINDOWEDGE;
    } else {
        win->style = WS_OVERLAPPEDWINDOW | WS_VISIBLE | WS_CLIPSIBLINGS;
        win->ex_style = WS_EX_APPWINDOW | WS_EX_WINDOWEDGE;
    }
    g_ptr_array_insert(r->windows, 0, win);
    r->active = win->id;
    return win;
}

void rail_win_raise(SrvRail *r, RailWin *w)
{
    guint i = 0;
    if (g_ptr_array_find(r->windows, w, &i))
        g_ptr_array_steal_index(r->windows, i);
    g_ptr_array_insert(r->windows, 0, w);
    /* Owned windows stay above their owner, as on Windows. */
    for (guint k = r->windows->len; k-- > 1;) {
        RailWin *o = g_ptr_array_index(r->windows, k);
        if (o->owner == w->id) {
            g_ptr_array_steal_index(r->windows, k);
            g_ptr_array_insert(r->windows, 0, o);
            k++;
        }
    }
    r->active = w->id;
    r->redraw = true;
}

/* --- orders --- */

#define RECT_FIELDS                                                                            \
    (WINDOW_ORDER_FIELD_CLIENT_AREA_OFFSET | WINDOW_ORDER_FIELD_CLIENT_AREA_SIZE |             \
     WINDOW_ORDER_FIELD_WND_OFFSET | WINDOW_ORDER_FIELD_WND_CLIENT_DELTA |                     \
     WINDOW_ORDER_FIELD_WND_SIZE | WINDOW_ORDER_FIELD_WND_RECTS | WINDOW_ORDER_FIELD_VIS_OFFSET | \
     WINDOW_ORDER_FIELD_VISIBILITY)

/* A window state order (new: WindowCreate) with @fields of @w. */
static bool send_state(SrvRail *r, RailWin *w, uint32_t fields, bool is_new)
{
    WINDOW_ORDER_INFO oi = {.windowId = w->id, .fieldFlags = WINDOW_ORDER_TYPE_WINDOW | fields};
    if (is_new)
        oi.fieldFlags |= WINDOW_ORDER_STATE_NEW;
    glong n = 0;
    gunichar2 *title = g_utf8_to_utf16(w->title, -1, NULL, &n, NULL);
    RECTANGLE_16 whole = {0, 0, (UINT16)w->w, (UINT16)w->h};
    WINDOW_STATE_ORDER st = {0};
    st.ownerWindowId = w->owner;
    st.style = w->style;
    st.extendedStyle = w->ex_style;
    st.showState = w->show;
    st.titleInfo.length = title ? (UINT16)(MIN(n, 260) * 2) : 0;
    st.titleInfo.string = (BYTE *)title;
    /* The client area is the window below its title bar. */
    st.windowOffsetX = w->x;
    st.windowOffsetY = w->y;
    st.windowWidth = (UINT32)w->w;
    st.windowHeight = (UINT32)w->h;
    st.clientOffsetX = w->x;
    st.clientOffsetY = w->y + TITLE_BAR;
    st.clientAreaWidth = (UINT32)w->w;
    st.clientAreaHeight = (UINT32)MAX(w->h - TITLE_BAR, 0);
    st.windowClientDeltaX = 0;
    st.windowClientDeltaY = TITLE_BAR;
    st.numWindowRects = 1;
    st.windowRects = &whole;
    st.visibleOffsetX = w->x;
    st.visibleOffsetY = w->y;
    RECTANGLE_16 visible = {(UINT16)w->margin, 0, (UINT16)MAX(w->w - w->margin, w->margin),
                            (UINT16)MAX(w->h - w->margin, 0)};
    st.numVisibilityRects = 1;
    st.visibilityRects = &visible;
    bool ok = rail_order_window(r->client->context, &oi, &st);
    g_free(title);
    r->redraw = true;
    return ok;
}

/* The window's colour in a white frame, 32 bpp BGRA bottom-up, opaque. */
static bool send_icon(SrvRail *r, RailWin *w)
{
    BYTE color[ICON_SIZE * ICON_SIZE * 4];
    BYTE mask[ICON_SIZE * 4] = {0}; /* 1 bpp AND mask, rows of 4 bytes: all opaque */
    for (int y = 0; y < ICON_SIZE; y++)
        for (int x = 0; x < ICON_SIZE; x++) {
            bool frame = x < 4 || y < 4 || x >= ICON_SIZE - 4 || y >= ICON_SIZE - 4;
            uint32_t c = frame ? 0xFFFFFF : w->colour;
            BYTE *px = color + ((ICON_SIZE - 1 - y) * ICON_SIZE + x) * 4;
            px[0] = c & 0xFF;
            px[1] = c >> 8 & 0xFF;
            px[2] = c >> 16 & 0xFF;
            px[3] = 0xFF;
        }
    UINT32 entries = freerdp_settings_get_uint32(r->client->context->settings,
                                                 FreeRDP_RemoteAppNumIconCacheEntries);
    ICON_INFO info = {0};
    info.cacheId = entries ? 0 : NO_CACHE;
    info.cacheEntry = entries ? r->next_icon++ % entries : 0xFFFF;
    info.bpp = 32;
    info.width = info.height = ICON_SIZE;
    info.cbBitsMask = sizeof(mask);
    info.cbBitsColor = sizeof(color);
    info.bitsMask = mask;
    info.bitsColor = color;
    WINDOW_ORDER_INFO oi = {.windowId = w->id,
                            .fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_ICON |
                                          WINDOW_ORDER_FIELD_ICON_BIG};
    bool ok = rail_order_icon(r->client->context, &oi, &info);
    w->icon_entry = (uint16_t)info.cacheEntry;
    if (ok)
        srv_log("rail window-icon 0x%x %dx%d cache %u:%u", w->id, ICON_SIZE, ICON_SIZE,
                info.cacheId, info.cacheEntry);
    return ok;
}

/* An owned window shows its owner's icon, from the client's cache. */
static bool send_cached_icon(SrvRail *r, RailWin *w, RailWin *owner)
{
    w->icon_entry = owner->icon_entry;
    WINDOW_ORDER_INFO oi = {.windowId = w->id,
                            .fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_CACHED_ICON |
                                          WINDOW_ORDER_FIELD_ICON_BIG};
    bool ok = rail_order_cached_icon(r->client->context, &oi, owner->icon_entry, 0);
    if (ok)
        srv_log("rail window-cached-icon 0x%x cache 0:%u", w->id, owner->icon_entry);
    return ok;
}

bool rail_win_announce(SrvRail *r, RailWin *w)
{
    uint32_t fields = WINDOW_ORDER_FIELD_OWNER | WINDOW_ORDER_FIELD_STYLE | WINDOW_ORDER_FIELD_SHOW |
                      WINDOW_ORDER_FIELD_TITLE | RECT_FIELDS;
    if (!send_state(r, w, fields, true))
        return false;
    srv_log("rail window-create 0x%x owner 0x%x rect %d %d %d %d colour #%06x title %s", w->id,
            w->owner, w->x, w->y, w->w, w->h, w->colour, w->title);
    RailWin *owner = w->owner ? rail_win_find(r, w->owner) : NULL;
    if (owner && freerdp_settings_get_uint32(r->client->context->settings,
                                             FreeRDP_RemoteAppNumIconCacheEntries))
        return send_cached_icon(r, w, owner);
    return send_icon(r, w);
}

bool rail_win_move(SrvRail *r, RailWin *w, int x, int y, int width, int height)
{
    w->x = x;
    w->y = y;
    w->w = width;
    w->h = height;
    if (w->show == WINDOW_SHOW) {
        w->nx = x;
        w->ny = y;
        w->nw = width;
        w->nh = height;
    }
    if (!send_state(r, w, RECT_FIELDS, false))
        return false;
    srv_log("rail window-update 0x%x rect %d %d %d %d", w->id, x, y, width, height);
    return true;
}

bool rail_win_set_title(SrvRail *r, RailWin *w, const char *title)
{
    g_free(w->title);
    w->title = g_strdup(title);
    if (!send_state(r, w, WINDOW_ORDER_FIELD_TITLE, false))
        return false;
    srv_log("rail window-update 0x%x title %s", w->id, w->title);
    return true;
}

bool rail_win_show(SrvRail *r, RailWin *w, uint8_t show)
{
    if (show == WINDOW_SHOW_MAXIMIZED) {
        const rdpSettings *st = r->client->context->settings;
        RECTANGLE_16 a = {0, 0, (UINT16)freerdp_settings_get_uint32(st, FreeRDP_DesktopWidth),
                          (UINT16)freerdp_settings_get_uint32(st, FreeRDP_DesktopHeight)};
        if (r->have_work_area && r->work_area.right > r->work_area.left &&
            r->work_area.bottom > r->work_area.top)
            a = r->work_area;
        w->x = a.left;
        w->y = a.top;
        w->w = a.right - a.left;
        w->h = a.bottom - a.top;
    } else if (show == WINDOW_SHOW) {
        w->x = w->nx;
        w->y = w->ny;
        w->w = w->nw;
        w->h = w->nh;
    }
    w->show = show;
    if (!send_state(r, w, WINDOW_ORDER_FIELD_SHOW | RECT_FIELDS, false))
        return false;
    const char *name = show == WINDOW_SHOW_MINIMIZED   ? "minimized"
                       : show == WINDOW_SHOW_MAXIMIZED ? "maximized"
                                                       : "normal";
    srv_log("rail window-update 0x%x show %s rect %d %d %d %d", w->id, name, w->x, w->y, w->w,
            w->h);
    return true;
}

static bool delete_one(SrvRail *r, RailWin *w)
{
    /* Owned windows go first, as on Windows. */
    for (guint i = 0; i < r->windows->len;) {
        RailWin *o = g_ptr_array_index(r->windows, i);
        if (o->owner == w->id) {
            if (!delete_one(r, o))
                return false;
            i = 0;
        } else {
            i++;
        }
    }
    WINDOW_ORDER_INFO oi = {.windowId = w->id,
                            .fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_STATE_DELETED};
    if (!rail_order_delete(r->client->context, &oi))
        return false;
    srv_log("rail window-delete 0x%x", w->id);
    if (r->active == w->id)
        r->active = 0;
    g_ptr_array_remove(r->windows, w); /* frees it */
    r->redraw = true;
    return true;
}

bool rail_win_close(SrvRail *r, RailWin *w)
{
    if (!delete_one(r, w))
        return false;
    if (!r->active && r->windows->len)
        r->active = ((RailWin *)g_ptr_array_index(r->windows, 0))->id;
    if (!rail_win_send_desktop(r))
        return false;
    if (r->windows->len == 0)
        srv_log("rail last-window-closed");
    return true;
}

static bool send_desktop(SrvRail *r, uint32_t fields, bool with_windows)
{
    UINT32 ids[255];
    UINT32 n = 0;
    GString *zorder = g_string_new(NULL);
    for (guint i = 0; with_windows && i < r->windows->len && n < G_N_ELEMENTS(ids); i++) {
        ids[n] = ((RailWin *)g_ptr_array_index(r->windows, i))->id;
        g_string_append_printf(zorder, " 0x%x", ids[n++]);
    }
    MONITORED_DESKTOP_ORDER md = {.activeWindowId = r->active, .numWindowIds = n, .windowIds = ids};
    WINDOW_ORDER_INFO oi = {.fieldFlags = WINDOW_ORDER_TYPE_DESKTOP | fields};
    if (with_windows)
        oi.fieldFlags |= WINDOW_ORDER_FIELD_DESKTOP_ACTIVE_WND | WINDOW_ORDER_FIELD_DESKTOP_ZORDER;
    bool ok = rail_order_desktop(r->client->context, &oi, &md);
    if (ok && with_windows)
        srv_log("rail desktop active 0x%x zorder%s", r->active, zorder->str);
    g_string_free(zorder, TRUE);
    return ok;
}

bool rail_win_send_arc_began(SrvRail *r)
{
    if (!send_desktop(r, WINDOW_ORDER_FIELD_DESKTOP_HOOKED | WINDOW_ORDER_FIELD_DESKTOP_ARC_BEGAN,
                      false))
        return false;
    srv_log("rail desktop hooked");
    return true;
}

bool rail_win_send_desktop(SrvRail *r)
{
    /* The first one after the window list began completes it. */
    uint32_t fields = 0;
    if (r->arc_sent && !r->arc_completed) {
        r->arc_completed = true;
        fields = WINDOW_ORDER_FIELD_DESKTOP_ARC_COMPLETED;
    }
    return send_desktop(r, fields, true);
}

bool rail_win_send_appid(SrvRail *r, uint32_t id)
{
    RAIL_GET_APPID_RESP_ORDER resp = {.windowId = id};
    g_autofree char *app = g_strdup_printf("vmdesk.test.0x%x", id);
    for (size_t i = 0; app[i] && i < G_N_ELEMENTS(resp.applicationId) - 1; i++)
        resp.applicationId[i] = (WCHAR)app[i];
    UINT rc = r->ctx->ServerGetAppidResp(r->ctx, &resp);
    if (rc != CHANNEL_RC_OK) {
        srv_warn("rail: sending the app id failed (error %u)", rc);
        return false;
    }
    srv_log("rail appid 0x%x %s", id, app);
    return true;
}

/* --- painting --- */

static void fill(uint32_t *fb, unsigned stride, unsigned dw, unsigned dh, int x0, int y0, int w,
                 int h, uint32_t rgb)
{
    int x1 = MIN(x0 + w, (int)dw), y1 = MIN(y0 + h, (int)dh);
    for (int y = MAX(y0, 0); y < y1; y++)
        for (int x = MAX(x0, 0); x < x1; x++)
            fb[(size_t)y * stride + (size_t)x] = 0xFF000000u | rgb;
}

static void paint_window(const RailWin *w, uint32_t *fb, unsigned stride, unsigned dw, unsigned dh)
{
    uint32_t c = w->colour, dark = (c >> 1) & 0x7F7F7F;
    fill(fb, stride, dw, dh, w->x, w->y, w->w, w->h, c);
    fill(fb, stride, dw, dh, w->x, w->y, w->w, MIN(TITLE_BAR, w->h), dark);
    for (int gx = 63; gx < w->w; gx += 64)
        fill(fb, stride, dw, dh, w->x + gx, w->y + TITLE_BAR, 1, w->h - TITLE_BAR, 0xFFFFFF);
    for (int gy = 63; gy < w->h; gy += 64)
        if (gy >= TITLE_BAR)
            fill(fb, stride, dw, dh, w->x, w->y + gy, w->w, 1, 0xFFFFFF);
    fill(fb, stride, dw, dh, w->x, w->y, w->w, 1, 0);
    fill(fb, stride, dw, dh, w->x, w->y + w->h - 1, w->w, 1, 0);
    fill(fb, stride, dw, dh, w->x, w->y, 1, w->h, 0);
    fill(fb, stride, dw, dh, w->x + w->w - 1, w->y, 1, w->h, 0);
    if (w->margin > 0) { /* the invisible border, where it is not visible */
        fill(fb, stride, dw, dh, w->x, w->y, w->margin, w->h, SRV_RAIL_INVISIBLE);
        fill(fb, stride, dw, dh, w->x + w->w - w->margin, w->y, w->margin, w->h,
             SRV_RAIL_INVISIBLE);
        fill(fb, stride, dw, dh, w->x, w->y + w->h - w->margin, w->w, w->margin,
             SRV_RAIL_INVISIBLE);
    }
}

void srv_rail_paint(void *data, uint32_t *fb, unsigned stride_px, unsigned w, unsigned h)
{
    SrvRail *r = data;
    fill(fb, stride_px, w, h, 0, 0, (int)w, (int)h, SRV_RAIL_BACKGROUND);
    for (guint i = r->windows->len; i-- > 0;) {
        const RailWin *win = g_ptr_array_index(r->windows, i);
        if (win->show != WINDOW_SHOW_MINIMIZED)
            paint_window(win, fb, stride_px, w, h);
    }
}
