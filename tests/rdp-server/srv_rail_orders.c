/* RemoteApp window orders (MS-RDPERP 2.2.1.3), written here and sent as one
 * fast-path Orders update each (MS-RDPBCGR 2.2.9.1.2.1.2).
 *
 * Why not the library's update->window senders: in libfreerdp 3.10 every
 * order sender starts with update_check_flush, which returns FALSE (and the
 * sender gives up, writing nothing) unless the order would overflow the
 * pending 16 KiB fast-path packet. So every window order under about 16 KiB
 * is silently dropped: a window's creation, moves, title, deletion and the
 * z-order never reach the client (fixed upstream in 3.11.0, commit
 * f91d33e38 "Fix return value of update_check_flush"). The encoding here
 * follows the specification field by field, in the order FreeRDP's own
 * senders use; the PDU goes through the transport's WritePdu, as the
 * library's fast-path sender's does, so it is framed and encrypted (TLS)
 * the same way. Nothing is compressed (the server turns bulk compression
 * off) and the server's own security layer is never used (TLS or NLA only),
 * so a PDU needs no more than its two headers. Peer thread only. */
#include "srv_rail_priv.h"

#include <freerdp/transport_io.h>
#include <winpr/stream.h>

/* controlFlags of an Alternate Secondary Drawing Order of type Window:
 * TS_SECONDARY (0x02) with orderType TS_ALTSEC_WINDOW (0x0B) above it. */
#define ALTSEC_WINDOW (0x02 | 0x0B << 2)
#define FASTPATH_UPDATETYPE_ORDERS_CODE 0x0
#define FASTPATH_MAX_PDU 0x3FFF /* one fast-path PDU; our orders are far smaller */

/* Wraps @orders (numberOrders and the order data) in the fast-path headers
 * and writes the PDU. */
static bool send_orders(rdpContext *ctx, wStream *orders)
{
    const size_t body = Stream_GetPosition(orders);
    /* fpOutputHeader (1), length (2, always the long form), updateHeader
     * (1), size (2) */
    const size_t total = 6 + body;
    if (total > FASTPATH_MAX_PDU) {
        srv_warn("rail: a window order of %zu bytes does not fit one PDU", body);
        return false;
    }
    if (!freerdp_settings_get_bool(ctx->settings, FreeRDP_FastPathOutput)) {
        srv_warn("rail: the client takes no fast-path updates; no window orders");
        return false;
    }
    wStream *s = Stream_New(NULL, total);
    if (!s)
        return false;
    Stream_Write_UINT8(s, 0);                                  /* FASTPATH_OUTPUT_ACTION_FASTPATH */
    Stream_Write_UINT8(s, (BYTE)(0x80 | (total >> 8)));        /* length1 */
    Stream_Write_UINT8(s, (BYTE)(total & 0xFF));               /* length2 */
    Stream_Write_UINT8(s, FASTPATH_UPDATETYPE_ORDERS_CODE);    /* single fragment, uncompressed */
    Stream_Write_UINT16(s, (UINT16)body);
    Stream_Write(s, Stream_Buffer(orders), body);
    const rdpTransportIo *io = freerdp_get_io_callbacks(ctx);
    rdpTransport *transport = freerdp_get_transport(ctx);
    bool ok = io && io->WritePdu && transport && io->WritePdu(transport, s) >= 0;
    Stream_Free(s, TRUE);
    if (!ok)
        srv_warn("rail: sending a window order failed");
    return ok;
}

/* A stream holding numberOrders = 1 and the order header; @size is the
 * order's whole size (from the header on). */
static wStream *order_begin(size_t size, uint32_t field_flags)
{
    wStream *s = Stream_New(NULL, 2 + size);
    if (!s)
        return NULL;
    Stream_Write_UINT16(s, 1); /* numberOrders */
    Stream_Write_UINT8(s, ALTSEC_WINDOW);
    Stream_Write_UINT16(s, (UINT16)size);
    Stream_Write_UINT32(s, field_flags);
    return s;
}

static bool order_end(rdpContext *ctx, wStream *s)
{
    bool ok = send_orders(ctx, s);
    Stream_Free(s, TRUE);
    return ok;
}

/* numRects (2 bytes), then the TS_RECTANGLE16s. */
static void write_rects(wStream *s, const RECTANGLE_16 *rects, UINT32 n)
{
    Stream_Write_UINT16(s, (UINT16)n);
    for (UINT32 k = 0; k < n; k++) {
        Stream_Write_UINT16(s, rects[k].left);
        Stream_Write_UINT16(s, rects[k].top);
        Stream_Write_UINT16(s, rects[k].right);
        Stream_Write_UINT16(s, rects[k].bottom);
    }
}

bool rail_order_window(rdpContext *ctx, const WINDOW_ORDER_INFO *oi, const WINDOW_STATE_ORDER *st)
{
    const uint32_t f = oi->fieldFlags;
    size_t size = 11;
    size += (f & WINDOW_ORDER_FIELD_OWNER) ? 4 : 0;
    size += (f & WINDOW_ORDER_FIELD_STYLE) ? 8 : 0;
    size += (f & WINDOW_ORDER_FIELD_SHOW) ? 1 : 0;
    size += (f & WINDOW_ORDER_FIELD_TITLE) ? 2 + st->titleInfo.length : 0;
    size += (f & WINDOW_ORDER_FIELD_CLIENT_AREA_OFFSET) ? 8 : 0;
    size += (f & WINDOW_ORDER_FIELD_CLIENT_AREA_SIZE) ? 8 : 0;
    size += (f & WINDOW_ORDER_FIELD_WND_OFFSET) ? 8 : 0;
    size += (f & WINDOW_ORDER_FIELD_WND_CLIENT_DELTA) ? 8 : 0;
    size += (f & WINDOW_ORDER_FIELD_WND_SIZE) ? 8 : 0;
    size += (f & WINDOW_ORDER_FIELD_WND_RECTS) ? 2 + 8 * (size_t)st->numWindowRects : 0;
    size += (f & WINDOW_ORDER_FIELD_VIS_OFFSET) ? 8 : 0;
    size += (f & WINDOW_ORDER_FIELD_VISIBILITY) ? 2 + 8 * (size_t)st->numVisibilityRects : 0;
    /* Fields we never send must not be flagged: the client would read them. */
    const uint32_t known = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_STATE_NEW |
                           WINDOW_ORDER_FIELD_OWNER | WINDOW_ORDER_FIELD_STYLE |
                           WINDOW_ORDER_FIELD_SHOW | WINDOW_ORDER_FIELD_TITLE |
                           WINDOW_ORDER_FIELD_CLIENT_AREA_OFFSET |
                           WINDOW_ORDER_FIELD_CLIENT_AREA_SIZE | WINDOW_ORDER_FIELD_WND_OFFSET |
                           WINDOW_ORDER_FIELD_WND_CLIENT_DELTA | WINDOW_ORDER_FIELD_WND_SIZE |
                           WINDOW_ORDER_FIELD_WND_RECTS | WINDOW_ORDER_FIELD_VIS_OFFSET |
                           WINDOW_ORDER_FIELD_VISIBILITY;
    g_return_val_if_fail((f & ~known) == 0, false);
    wStream *s = order_begin(size, f);
    if (!s)
        return false;
    Stream_Write_UINT32(s, oi->windowId);
    if (f & WINDOW_ORDER_FIELD_OWNER)
        Stream_Write_UINT32(s, st->ownerWindowId);
    if (f & WINDOW_ORDER_FIELD_STYLE) {
        Stream_Write_UINT32(s, st->style);
        Stream_Write_UINT32(s, st->extendedStyle);
    }
    if (f & WINDOW_ORDER_FIELD_SHOW)
        Stream_Write_UINT8(s, st->showState);
    if (f & WINDOW_ORDER_FIELD_TITLE) {
        Stream_Write_UINT16(s, st->titleInfo.length);
        Stream_Write(s, st->titleInfo.string, st->titleInfo.length);
    }
    if (f & WINDOW_ORDER_FIELD_CLIENT_AREA_OFFSET) {
        Stream_Write_INT32(s, st->clientOffsetX);
        Stream_Write_INT32(s, st->clientOffsetY);
    }
    if (f & WINDOW_ORDER_FIELD_CLIENT_AREA_SIZE) {
        Stream_Write_UINT32(s, st->clientAreaWidth);
        Stream_Write_UINT32(s, st->clientAreaHeight);
    }
    if (f & WINDOW_ORDER_FIELD_WND_OFFSET) {
        Stream_Write_INT32(s, st->windowOffsetX);
        Stream_Write_INT32(s, st->windowOffsetY);
    }
    if (f & WINDOW_ORDER_FIELD_WND_CLIENT_DELTA) {
        Stream_Write_INT32(s, st->windowClientDeltaX);
        Stream_Write_INT32(s, st->windowClientDeltaY);
    }
    if (f & WINDOW_ORDER_FIELD_WND_SIZE) {
        Stream_Write_UINT32(s, st->windowWidth);
        Stream_Write_UINT32(s, st->windowHeight);
    }
    if (f & WINDOW_ORDER_FIELD_WND_RECTS)
        write_rects(s, st->windowRects, st->numWindowRects);
    if (f & WINDOW_ORDER_FIELD_VIS_OFFSET) {
        Stream_Write_INT32(s, st->visibleOffsetX);
        Stream_Write_INT32(s, st->visibleOffsetY);
    }
    if (f & WINDOW_ORDER_FIELD_VISIBILITY)
        write_rects(s, st->visibilityRects, st->numVisibilityRects);
    return order_end(ctx, s);
}

bool rail_order_icon(rdpContext *ctx, const WINDOW_ORDER_INFO *oi, const ICON_INFO *icon)
{
    /* 32 bpp only: no colour table. */
    g_return_val_if_fail(icon->bpp > 8, false);
    wStream *s = order_begin(23 + (size_t)icon->cbBitsMask + icon->cbBitsColor, oi->fieldFlags);
    if (!s)
        return false;
    Stream_Write_UINT32(s, oi->windowId);
    Stream_Write_UINT16(s, (UINT16)icon->cacheEntry);
    Stream_Write_UINT8(s, (BYTE)icon->cacheId);
    Stream_Write_UINT8(s, (BYTE)icon->bpp);
    Stream_Write_UINT16(s, (UINT16)icon->width);
    Stream_Write_UINT16(s, (UINT16)icon->height);
    Stream_Write_UINT16(s, (UINT16)icon->cbBitsMask);
    Stream_Write_UINT16(s, (UINT16)icon->cbBitsColor);
    Stream_Write(s, icon->bitsMask, icon->cbBitsMask);
    Stream_Write(s, icon->bitsColor, icon->cbBitsColor);
    return order_end(ctx, s);
}

bool rail_order_cached_icon(rdpContext *ctx, const WINDOW_ORDER_INFO *oi, uint16_t entry,
                            uint8_t cache)
{
    wStream *s = order_begin(14, oi->fieldFlags);
    if (!s)
        return false;
    Stream_Write_UINT32(s, oi->windowId);
    Stream_Write_UINT16(s, entry);
    Stream_Write_UINT8(s, cache);
    return order_end(ctx, s);
}

bool rail_order_delete(rdpContext *ctx, const WINDOW_ORDER_INFO *oi)
{
    wStream *s = order_begin(11, oi->fieldFlags);
    if (!s)
        return false;
    Stream_Write_UINT32(s, oi->windowId);
    return order_end(ctx, s);
}

bool rail_order_desktop(rdpContext *ctx, const WINDOW_ORDER_INFO *oi,
                        const MONITORED_DESKTOP_ORDER *md)
{
    const uint32_t f = oi->fieldFlags;
    size_t size = 7;
    size += (f & WINDOW_ORDER_FIELD_DESKTOP_ACTIVE_WND) ? 4 : 0;
    size += (f & WINDOW_ORDER_FIELD_DESKTOP_ZORDER) ? 1 + 4 * (size_t)md->numWindowIds : 0;
    wStream *s = order_begin(size, f);
    if (!s)
        return false;
    if (f & WINDOW_ORDER_FIELD_DESKTOP_ACTIVE_WND)
        Stream_Write_UINT32(s, md->activeWindowId);
    if (f & WINDOW_ORDER_FIELD_DESKTOP_ZORDER) {
        Stream_Write_UINT8(s, (BYTE)md->numWindowIds);
        for (UINT32 i = 0; i < md->numWindowIds; i++)
            Stream_Write_UINT32(s, md->windowIds[i]);
    }
    return order_end(ctx, s);
}
