/* FreeRDP's server WTS API, with two replies on the rdpdr channel repaired
 * before libfreerdp-server2 2.11's rdpdr server parses them:
 *
 *  - Close: the reply carries 5 bytes of padding (MS-RDPEFS 2.2.1.5.2) that
 *    the library does not consume; its channel thread then reads them as the
 *    header of another PDU ("Unknown RDPDR_HEADER.Component: 0x0000") and
 *    exits, so rdpdr stops for the rest of the session. We drop the padding.
 *  - Write: after Length and the padding byte the library demands Length more
 *    bytes in the reply ("not enough data in stream!"), which no client sends,
 *    so OnDriveWriteFileComplete never runs and the thread exits. We append
 *    Length bytes made of empty PAKID_CORE_DEVICE_REPLY headers, which the
 *    library reads and ignores.
 *
 * Replies are matched to requests by CompletionId, seen on the way out.
 *
 * On the rail channel the library's Exec parser writes program, working
 * folder and arguments all into the program field (the last non-empty one
 * wins); the shim hands the raw Exec body to srv_rail.c first. The library
 * reads each RAIL PDU as a 4-byte header, then the body.
 *
 * The WTS API table is process-wide (WinPR keeps one), hence the module state. */
#include "srv.h"

#include <string.h>

#include <freerdp/channels/channels.h>
#include <freerdp/channels/rdpdr.h>
#include <freerdp/channels/wtsvc.h>

#define IO_HEADER 16  /* RDPDR header (4) + DeviceId, CompletionId, IoStatus */
#define SHORT_REPLY (IO_HEADER + 5)

static WtsApiFunctionTable table;
static WTS_VIRTUAL_CHANNEL_READ_FN real_read;
static WTS_VIRTUAL_CHANNEL_WRITE_FN real_write;
static GMutex lock;
static HANDLE watched;             /* the rdpdr channel, or NULL */
static GHashTable *pending;        /* CompletionId -> MajorFunction, of watched */
static HANDLE rail_watched;        /* the rail channel, or NULL */
static void (*rail_on_exec)(void *data, const BYTE *body, size_t len);
static void *rail_data;
static bool rail_body_next;        /* the next read on it is a PDU body */
static uint16_t rail_order;        /* the order type of that body */

#define RAIL_HEADER 4
#define RAIL_ORDER_EXEC 0x0001

static uint32_t le32(const BYTE *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const BYTE *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static BOOL WINAPI shim_write(HANDLE channel, PCHAR buffer, ULONG length, PULONG written)
{
    const BYTE *b = (const BYTE *)buffer;
    g_mutex_lock(&lock);
    if (channel && channel == watched && length >= 20 && le16(b) == RDPDR_CTYP_CORE &&
        le16(b + 2) == PAKID_CORE_DEVICE_IOREQUEST)
        g_hash_table_insert(pending, GUINT_TO_POINTER(le32(b + 12)),
                            GUINT_TO_POINTER(le32(b + 16)));
    g_mutex_unlock(&lock);
    return real_write(channel, buffer, length, written);
}

/* A read on the rail channel: remember the header's order type, hand an
 * Exec body over. */
static void rail_read(const BYTE *b, ULONG size, ULONG got)
{
    g_mutex_lock(&lock);
    void (*on_exec)(void *, const BYTE *, size_t) = NULL;
    if (!rail_body_next && size == RAIL_HEADER && got == RAIL_HEADER) {
        rail_order = le16(b);
        rail_body_next = le16(b + 2) > RAIL_HEADER;
    } else if (rail_body_next) {
        rail_body_next = false;
        if (rail_order == RAIL_ORDER_EXEC)
            on_exec = rail_on_exec;
    }
    void *data = rail_data;
    g_mutex_unlock(&lock);
    if (on_exec)
        on_exec(data, b, got);
}

static BOOL WINAPI shim_read(HANDLE channel, ULONG timeout, PCHAR buffer, ULONG size, PULONG got)
{
    BOOL ok = real_read(channel, timeout, buffer, size, got);
    BYTE *b = (BYTE *)buffer;
    if (ok && buffer && got && channel && channel == rail_watched) {
        rail_read(b, size, *got);
        return ok;
    }
    if (!ok || !buffer || !got || *got < IO_HEADER || le16(b) != RDPDR_CTYP_CORE ||
        le16(b + 2) != PAKID_CORE_DEVICE_IOCOMPLETION)
        return ok;
    g_mutex_lock(&lock);
    gpointer major = NULL;
    bool mine = channel == watched &&
                g_hash_table_steal_extended(pending, GUINT_TO_POINTER(le32(b + 8)), NULL, &major);
    g_mutex_unlock(&lock);
    if (!mine || *got != SHORT_REPLY)
        return ok;
    if (GPOINTER_TO_UINT(major) == IRP_MJ_CLOSE) {
        *got = IO_HEADER;
    } else if (GPOINTER_TO_UINT(major) == IRP_MJ_WRITE) {
        uint32_t len = le32(b + IO_HEADER);
        if (len <= size - SHORT_REPLY) {
            static const BYTE reply[4] = {RDPDR_CTYP_CORE & 0xFF, RDPDR_CTYP_CORE >> 8,
                                          PAKID_CORE_DEVICE_REPLY & 0xFF,
                                          PAKID_CORE_DEVICE_REPLY >> 8};
            for (uint32_t i = 0; i < len; i++)
                b[SHORT_REPLY + i] = reply[i % 4];
            *got = SHORT_REPLY + len;
        }
    }
    return ok;
}

bool srv_wts_install(void)
{
    const WtsApiFunctionTable *freerdp = FreeRDP_InitWtsApi();
    if (!freerdp)
        return false;
    table = *freerdp;
    real_read = table.pVirtualChannelRead;
    real_write = table.pVirtualChannelWrite;
    table.pVirtualChannelRead = shim_read;
    table.pVirtualChannelWrite = shim_write;
    pending = g_hash_table_new(g_direct_hash, g_direct_equal);
    return WTSRegisterWtsApiFunctionTable(&table);
}

void srv_wts_watch_rdpdr(HANDLE channel)
{
    g_mutex_lock(&lock);
    watched = channel;
    g_hash_table_remove_all(pending);
    g_mutex_unlock(&lock);
}

void srv_wts_unwatch_rdpdr(HANDLE channel)
{
    g_mutex_lock(&lock);
    if (watched == channel) {
        watched = NULL;
        g_hash_table_remove_all(pending);
    }
    g_mutex_unlock(&lock);
}

void srv_wts_watch_rail(HANDLE channel, void (*on_exec)(void *data, const BYTE *body, size_t len),
                        void *data)
{
    g_mutex_lock(&lock);
    rail_watched = on_exec ? channel : NULL;
    rail_on_exec = on_exec;
    rail_data = data;
    rail_body_next = false;
    g_mutex_unlock(&lock);
}
