/* Redirected drives: libfreerdp-server3's rdpdr server. When the client
 * announces a drive, the --drive-read, --drive-time and --drive-write
 * operations that name it run one after another (reads first): open, read in
 * 2 KiB pieces (or write), close. A timed read (--drive-time) reads the whole
 * file in pieces of --drive-piece bytes, one request at a time, and logs its
 * size, time from the open request to the last piece and SHA-256. Every callback runs on the library's rdpdr thread. The
 * library forgets that it serves drives after the client's capabilities
 * (on_pdu puts it back), and its parser of Write replies needs srv_wts.c's
 * repair. */
#include "srv.h"

#include <string.h>

#include <freerdp/channels/wtsvc.h>
#include <freerdp/server/rdpdr.h>
#include <winpr/nt.h>

#define READ_PIECE 2048
#define READ_MAX (64 * 1024)

typedef struct Job Job;

struct SrvDrive {
    RdpdrServerContext *ctx;
    HANDLE channel;              /* the library's handle (it closes it), watched by srv_wts.c */
    GPtrArray *ops;              /* SrvDriveOp*, borrowed */
    GPtrArray *jobs;             /* Job*, owned; rdpdr thread until the channel stops */
    bool started;                /* Start succeeded: Stop joins the thread */
    bool client_drives;          /* the client's capabilities have a drive set */
    unsigned piece;              /* bytes per Read request of a timed read */
};

struct Job {
    SrvDrive *drive;
    UINT32 device_id;
    char *device;                /* name the client announced */
    GPtrArray *ops;              /* the SrvDriveOp* for this device, in order */
    guint next;                  /* index into ops of the running one */
    UINT32 file_id;
    GByteArray *data;            /* read so far */
    GChecksum *sum;              /* a timed read's SHA-256 so far */
    guint64 got;                 /* a timed read's bytes so far */
    gint64 opened;               /* when a timed read's open was asked (monotonic us) */
};

static const SrvDriveOp *job_op(Job *j)
{
    return g_ptr_array_index(j->ops, j->next);
}

static void job_start_next(Job *j);

static UINT32 job_piece(Job *j)
{
    return job_op(j)->timed ? j->drive->piece : READ_PIECE;
}

/* A timed read's next piece arrived: true when another was asked for. */
static bool timed_piece(RdpdrServerContext *ctx, Job *j, const char *buf, UINT32 len)
{
    g_checksum_update(j->sum, (const guchar *)buf, len);
    j->got += len;
    if (len == j->drive->piece &&
        ctx->DriveReadFile(ctx, j, j->device_id, j->file_id, j->drive->piece, j->got) ==
            CHANNEL_RC_OK)
        return true;
    gint64 us = g_get_monotonic_time() - j->opened;
    srv_log("rdpdr timed %s/%s %" G_GUINT64_FORMAT " bytes %.1f ms %u-byte pieces sha256 %s",
            j->device, job_op(j)->path, j->got, (double)us / 1000.0, j->drive->piece,
            g_checksum_get_string(j->sum));
    return false;
}

static void job_failed(Job *j, const char *what, UINT32 status)
{
    srv_log("rdpdr failed %s/%s %s 0x%08x", j->device, job_op(j)->path, what, status);
}

/* Close the file, then go on with the next operation (the close reply). */
static void job_close(Job *j)
{
    UINT rc = j->drive->ctx->DriveCloseFile(j->drive->ctx, j, j->device_id, j->file_id);
    if (rc != CHANNEL_RC_OK) {
        job_failed(j, "close", rc);
        j->next++;
        job_start_next(j);
    }
}

static void job_start_next(Job *j)
{
    RdpdrServerContext *ctx = j->drive->ctx;
    for (; j->next < j->ops->len; j->next++) {
        const SrvDriveOp *op = job_op(j);
        g_autofree char *path = g_strconcat("/", op->path, NULL); /* the library makes it \ */
        g_byte_array_set_size(j->data, 0);
        g_checksum_reset(j->sum);
        j->got = 0;
        j->opened = g_get_monotonic_time();
        UINT rc = op->text ? ctx->DriveOpenFile(ctx, j, j->device_id, path,
                                                GENERIC_READ | GENERIC_WRITE, FILE_OVERWRITE_IF)
                           : ctx->DriveOpenFile(ctx, j, j->device_id, path, GENERIC_READ,
                                                FILE_OPEN);
        if (rc == CHANNEL_RC_OK)
            return;
        job_failed(j, "open", rc);
    }
}

static void on_open(RdpdrServerContext *ctx, void *data, UINT32 status, UINT32 device_id,
                    UINT32 file_id)
{
    Job *j = data;
    const SrvDriveOp *op = job_op(j);
    if (status != STATUS_SUCCESS) {
        job_failed(j, "open", status);
        j->next++;
        job_start_next(j);
        return;
    }
    j->file_id = file_id;
    UINT rc = op->text ? ctx->DriveWriteFile(ctx, j, device_id, file_id, op->text,
                                             (UINT32)strlen(op->text), 0)
                       : ctx->DriveReadFile(ctx, j, device_id, file_id, job_piece(j), 0);
    if (rc != CHANNEL_RC_OK) {
        job_failed(j, op->text ? "write" : "read", rc);
        job_close(j);
    }
}

static void on_read(RdpdrServerContext *ctx, void *data, UINT32 status, const char *buf,
                    UINT32 len)
{
    Job *j = data;
    if (status != STATUS_SUCCESS) {
        job_failed(j, "read", status);
        job_close(j);
        return;
    }
    if (job_op(j)->timed) {
        if (!timed_piece(ctx, j, buf, len))
            job_close(j);
        return;
    }
    if (len)
        g_byte_array_append(j->data, (const guint8 *)buf, len);
    if (len == READ_PIECE && j->data->len < READ_MAX &&
        ctx->DriveReadFile(ctx, j, j->device_id, j->file_id, READ_PIECE, j->data->len) ==
            CHANNEL_RC_OK)
        return;
    g_autofree char *text = srv_escape(j->data->data, j->data->len);
    srv_log("rdpdr read %s/%s: %s", j->device, job_op(j)->path, text);
    job_close(j);
}

static void on_write(RdpdrServerContext *ctx, void *data, UINT32 status, UINT32 written)
{
    Job *j = data;
    /* The library saw Length 0 (srv_wts.c's repair); the client's is kept. */
    uint32_t real = srv_wts_take_write_length();
    written = MAX(written, real);
    if (status != STATUS_SUCCESS)
        job_failed(j, "write", status);
    else
        srv_log("rdpdr wrote %s/%s %u", j->device, job_op(j)->path, written);
    job_close(j);
}

static void on_close(RdpdrServerContext *ctx, void *data, UINT32 status)
{
    Job *j = data;
    if (status != STATUS_SUCCESS)
        job_failed(j, "close", status);
    j->next++;
    job_start_next(j);
}

static UINT on_drive_create(RdpdrServerContext *ctx, const RdpdrDevice *device)
{
    SrvDrive *d = ctx->data;
    /* PreferredDosName: 8 bytes, NUL-padded, not always terminated. */
    g_autofree char *name = g_strndup(device->PreferredDosName, sizeof(device->PreferredDosName));
    UINT32 device_id = device->DeviceId;
    srv_log("rdpdr device drive %s id %u", name, device_id);
    Job *j = g_new0(Job, 1);
    j->drive = d;
    j->device_id = device_id;
    j->device = g_strdup(name);
    j->ops = g_ptr_array_new();
    j->data = g_byte_array_new();
    j->sum = g_checksum_new(G_CHECKSUM_SHA256);
    /* Reads first, then writes, each in command-line order. */
    for (int pass = 0; pass < 2; pass++)
        for (guint i = 0; i < d->ops->len; i++) {
            SrvDriveOp *op = g_ptr_array_index(d->ops, i);
            if ((op->text != NULL) == (pass == 1) && g_ascii_strcasecmp(op->drive, name) == 0)
                g_ptr_array_add(j->ops, op);
        }
    g_ptr_array_add(d->jobs, j);
    job_start_next(j);
    return CHANNEL_RC_OK;
}

static UINT on_drive_delete(RdpdrServerContext *ctx, UINT32 device_id)
{
    srv_log("rdpdr device-removed id %u", device_id);
    return CHANNEL_RC_OK;
}

/* rdpdr thread, for each capability set of the client's. */
static UINT on_caps(RdpdrServerContext *ctx, const RDPDR_CAPABILITY_HEADER *header, size_t size,
                    const BYTE *data)
{
    if (header->CapabilityType == CAP_DRIVE_TYPE)
        ((SrvDrive *)ctx->data)->client_drives = true;
    return CHANNEL_RC_OK;
}

/* rdpdr thread, after each PDU. libfreerdp-server3 3.10 ORs the client's
 * capability set types (1-5) into a mask of device types (the drive bit is
 * 8) and clears every device type missing from it: drives always. Without
 * the bit back, OnDriveCreate is never called. */
static UINT on_pdu(RdpdrServerContext *ctx, const RDPDR_HEADER *header, UINT error)
{
    if (header->Component == RDPDR_CTYP_CORE && header->PacketId == PAKID_CORE_CLIENT_CAPABILITY &&
        ((SrvDrive *)ctx->data)->client_drives)
        ctx->supported |= RDPDR_DTYP_FILESYSTEM;
    return error;
}

/* Directory operations are not used; the library calls these regardless. */
static void on_dir_done(RdpdrServerContext *ctx, void *data, UINT32 status)
{
}

static void on_query_done(RdpdrServerContext *ctx, void *data, UINT32 status,
                          FILE_DIRECTORY_INFORMATION *fdi)
{
}

static void job_free(gpointer p)
{
    Job *j = p;
    g_free(j->device);
    g_ptr_array_unref(j->ops);
    g_byte_array_unref(j->data);
    g_checksum_free(j->sum);
    g_free(j);
}

SrvDrive *srv_drive_create(HANDLE vcm, rdpContext *context, GPtrArray *ops, unsigned piece)
{
    SrvDrive *d = g_new0(SrvDrive, 1);
    d->ops = ops;
    d->piece = piece;
    d->jobs = g_ptr_array_new_with_free_func(job_free);
    d->ctx = rdpdr_server_context_new(vcm);
    /* The library opens the same channel handle; watching it before the
     * channel thread starts means no request goes out unseen. */
    d->channel = WTSVirtualChannelOpen(vcm, WTS_CURRENT_SESSION, "rdpdr");
    if (!d->ctx || !d->channel) {
        srv_warn("rdpdr: cannot open the channel");
        srv_drive_destroy(d);
        return NULL;
    }
    srv_wts_watch_rdpdr(d->channel);
    RdpdrServerContext *ctx = d->ctx;
    ctx->data = d;
    ctx->rdpcontext = context;
    ctx->supported = RDPDR_DTYP_FILESYSTEM; /* drives only */
    ctx->ReceiveCaps = on_caps;
    ctx->ReceivePDU = on_pdu;
    ctx->OnDriveCreate = on_drive_create;
    ctx->OnDriveDelete = on_drive_delete;
    ctx->OnDriveOpenFileComplete = on_open;
    ctx->OnDriveReadFileComplete = on_read;
    ctx->OnDriveWriteFileComplete = on_write;
    ctx->OnDriveCloseFileComplete = on_close;
    ctx->OnDriveCreateDirectoryComplete = on_dir_done;
    ctx->OnDriveDeleteDirectoryComplete = on_dir_done;
    ctx->OnDriveDeleteFileComplete = on_dir_done;
    ctx->OnDriveRenameFileComplete = on_dir_done;
    ctx->OnDriveQueryDirectoryComplete = on_query_done;
    UINT rc = ctx->Start(ctx);
    if (rc != CHANNEL_RC_OK) {
        srv_warn("rdpdr: the channel did not start (error %u)", rc);
        srv_drive_destroy(d);
        return NULL;
    }
    d->started = true;
    return d;
}

void srv_drive_destroy(SrvDrive *d)
{
    if (!d)
        return;
    if (d->channel)
        srv_wts_unwatch_rdpdr(d->channel);
    if (d->ctx) {
        /* Joins the channel thread and closes the channel: the one static
         * channel object, the same handle as d->channel. */
        if (d->started)
            d->ctx->Stop(d->ctx);
        rdpdr_server_context_free(d->ctx);
    }
    g_ptr_array_unref(d->jobs);
    g_free(d);
}
