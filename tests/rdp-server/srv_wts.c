/* FreeRDP's server WTS API, with one reply on the rdpdr channel repaired
 * before libfreerdp-server3 3.10's rdpdr server parses it:
 *
 *  - Write: after Length and the padding byte the library demands Length
 *    more bytes in the reply ("not enough data in stream!"), which no client
 *    sends (MS-RDPEFS 2.2.1.5.4 has none), so OnDriveWriteFileComplete never
 *    runs and the channel thread exits. We set Length to 0 in the reply the
 *    library reads and keep the real one for srv_drive.c
 *    (srv_wts_take_write_length): the library parses the reply and calls the
 *    completion on the same thread, right after the read.
 *
 * Replies are matched to requests by CompletionId, seen on the way out.
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
static uint32_t write_length;      /* the Length of the last Write reply repaired */

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

static BOOL WINAPI shim_read(HANDLE channel, ULONG timeout, PCHAR buffer, ULONG size, PULONG got)
{
    BOOL ok = real_read(channel, timeout, buffer, size, got);
    BYTE *b = (BYTE *)buffer;
    if (!ok || !buffer || !got || *got < IO_HEADER || le16(b) != RDPDR_CTYP_CORE ||
        le16(b + 2) != PAKID_CORE_DEVICE_IOCOMPLETION)
        return ok;
    g_mutex_lock(&lock);
    gpointer major = NULL;
    bool mine = channel == watched &&
                g_hash_table_steal_extended(pending, GUINT_TO_POINTER(le32(b + 8)), NULL, &major);
    g_mutex_unlock(&lock);
    if (!mine || *got != SHORT_REPLY || GPOINTER_TO_UINT(major) != IRP_MJ_WRITE)
        return ok;
    g_mutex_lock(&lock);
    write_length = le32(b + IO_HEADER);
    g_mutex_unlock(&lock);
    memset(b + IO_HEADER, 0, 4);
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

uint32_t srv_wts_take_write_length(void)
{
    g_mutex_lock(&lock);
    uint32_t n = write_length;
    write_length = 0;
    g_mutex_unlock(&lock);
    return n;
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
