/* Typed QMP commands: one call for each command vmdesk sends to QEMU. The
 * command names and argument objects are built here and nowhere else, the
 * answers are parsed here into C types, and QEMU's error classes become our
 * codes at this boundary:
 *
 *     CommandNotFound, DeviceNotFound        VD_ERROR_NOT_FOUND
 *     GenericError and every other class     VD_ERROR_VM
 *
 * worded "QEMU refused COMMAND: REASON" with QEMU's own reason. Without an
 * answer the client's errors come through (qemu/qmp_client.h:
 * VD_ERROR_PROTOCOL, VD_ERROR_TIMEOUT); an answer of the wrong shape is
 * VD_ERROR_PROTOCOL.
 *
 * Every call blocks for up to @timeout_ms waiting for QEMU's answer, and
 * dispatches the events that arrive meanwhile. The client must have done its
 * handshake. The thread that owns the client calls these. */
#pragma once

#include "qemu/qmp_client.h"
#include "vm/vm_config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

/* Any @command with @args (ownership taken; NULL for none), for what has
 * no typed call yet (diagnostics, tests). Returns its "return" member
 * (caller unrefs) or NULL with @error set, refusals mapped as above. */
JsonNode *qmp_cmd_execute(QmpClient *c, const char *command, JsonObject *args, int timeout_ms,
                          GError **error);

/* --- run state --- */

typedef struct {
    bool running;      /* the guest's CPUs run */
    char status[32];   /* QEMU's run state: "running", "paused", "prelaunch"... ("" if none) */
} QmpStatus;

/* query-status into *@status (the caller's; nothing to free). */
bool qmp_cmd_query_status(QmpClient *c, int timeout_ms, QmpStatus *status, GError **error);

/* stop: pause the guest's CPUs (QEMU then sends STOP). */
bool qmp_cmd_stop(QmpClient *c, int timeout_ms, GError **error);
/* cont: resume them (QEMU then sends RESUME). */
bool qmp_cmd_cont(QmpClient *c, int timeout_ms, GError **error);
/* system_powerdown: the ACPI power button (QEMU sends POWERDOWN; the guest
 * may ignore it). */
bool qmp_cmd_system_powerdown(QmpClient *c, int timeout_ms, GError **error);
/* quit: QEMU ends at once. It may close the connection before its answer
 * arrives: VD_ERROR_PROTOCOL then means it is going away. */
bool qmp_cmd_quit(QmpClient *c, int timeout_ms, GError **error);

/* --- drives --- */

typedef struct {
    bool found;        /* QEMU has the drive */
    bool tray_open;
    char *file;        /* the medium's file name, or NULL when the drive is empty */
} QmpDrive;

/* query-block, for the drive whose device id is @id (its qdev, or the last
 * part of its QOM path), into *@drive (cleared first; the caller clears it
 * with qmp_cmd_drive_clear()). @drive->found is false when QEMU has no such
 * drive. */
bool qmp_cmd_query_drive(QmpClient *c, const char *id, int timeout_ms, QmpDrive *drive,
                         GError **error);
/* Free what *@drive holds. Accepts NULL. */
void qmp_cmd_drive_clear(QmpDrive *drive);

/* blockdev-change-medium: put the raw image @filename (an ISO; borrowed)
 * read-only into the removable drive whose device id is @id. @force opens
 * a tray that the guest locked. DeviceNotFound (VD_ERROR_NOT_FOUND) when
 * there is no such drive. */
bool qmp_cmd_change_medium(QmpClient *c, const char *id, const char *filename, bool force,
                           int timeout_ms, GError **error);
/* eject: the medium out of the drive whose device id is @id; @force as
 * above. */
bool qmp_cmd_eject(QmpClient *c, const char *id, bool force, int timeout_ms, GError **error);

/* block_resize: make the block node @node_name @size bytes large. */
bool qmp_cmd_block_resize(QmpClient *c, const char *node_name, guint64 size, int timeout_ms,
                          GError **error);

/* --- jobs and snapshots --- */

/* job-dismiss: forget the concluded job @id. */
bool qmp_cmd_job_dismiss(QmpClient *c, const char *id, int timeout_ms, GError **error);
/* Poll query-jobs every 50 ms until job @id concluded, then dismiss it.
 * VD_ERROR_VM "QEMU's TYPE failed: why" when it ended in an error,
 * VD_ERROR_TIMEOUT "QEMU's TYPE did not finish" when it did not conclude
 * within @job_timeout_ms. @timeout_ms bounds each command. */
bool qmp_cmd_job_wait(QmpClient *c, const char *id, int timeout_ms, int job_timeout_ms,
                      GError **error);

typedef enum {
    QMP_SNAPSHOT_SAVE,     /* snapshot-save */
    QMP_SNAPSHOT_LOAD,     /* snapshot-load */
    QMP_SNAPSHOT_DELETE,   /* snapshot-delete */
} QmpSnapshotOp;

/* A snapshot job's arguments, all borrowed. */
typedef struct {
    QmpSnapshotOp op;
    const char *job_id;
    const char *tag;
    const char *vmstate;          /* the node that holds the VM state (save, load); NULL: none */
    const char *const *devices;   /* the nodes, NULL-terminated */
} QmpSnapshotJob;

/* Start the snapshot job @job; it runs in QEMU after the answer (follow it
 * with qmp_cmd_job_wait()). */
bool qmp_cmd_snapshot_start(QmpClient *c, const QmpSnapshotJob *job, int timeout_ms,
                            GError **error);

/* --- display --- */

/* screendump: QEMU writes the first console's picture to @filename (a path
 * QEMU can write; borrowed) as PNG. */
bool qmp_cmd_screendump(QmpClient *c, const char *filename, int timeout_ms, GError **error);

/* --- host USB devices (usb-host on the xHCI controller "usb") --- */

/* device_add usb-host with id @id and @spec's filter (vendorid/productid, or
 * hostbus/hostport) on bus usb.0. QEMU accepts a filter that matches no
 * device now, and attaches the device when it appears. */
bool qmp_cmd_usb_host_add(QmpClient *c, const char *id, const VmUsbSpec *spec, int timeout_ms,
                          GError **error);
/* device_del @id (any device; USB devices go at once). DeviceNotFound is
 * VD_ERROR_NOT_FOUND. */
bool qmp_cmd_device_del(QmpClient *c, const char *id, int timeout_ms, GError **error);

typedef struct {
    char *id;          /* QEMU's device id */
    VmUsbSpec spec;    /* its filter */
    bool attached;     /* a host device matched and the guest has it */
} QmpUsbHost;

/* The usb-host devices that have an id (qom-list /machine/peripheral, then
 * qom-get of each filter), as a new array of QmpUsbHost (caller unrefs;
 * elements freed with it). */
GPtrArray *qmp_cmd_usb_host_list(QmpClient *c, int timeout_ms, GError **error);
