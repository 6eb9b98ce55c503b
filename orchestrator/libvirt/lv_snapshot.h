/* Snapshots of a libvirt domain through libvirt's own calls
 * (virDomainSnapshotCreateXML, virDomainRevertToSnapshot,
 * virDomainSnapshotDelete): internal qcow2 snapshots, with the domain's
 * memory when it runs (live), its disks only when it is shut off. Main
 * thread; @c is borrowed. */
#pragma once

#include "libvirt/lv_conn.h"

typedef struct {
    char *name;
    gint64 date;     /* unix seconds */
    bool live;       /* taken while the domain ran: it holds the memory */
    bool current;    /* libvirt's current snapshot */
} LvSnapshot;

void lv_snapshot_free(LvSnapshot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvSnapshot, lv_snapshot_free)

/* @name's snapshots, oldest first (LvSnapshot, caller unrefs), or NULL. */
GPtrArray *lv_snapshot_list(LvConn *c, const char *name, GError **error);

/* Take snapshot @tag (*@live: with the memory of the running domain). A
 * snapshot of that name exists: VD_ERROR_EXISTS. */
bool lv_snapshot_save(LvConn *c, const char *name, const char *tag, bool *live,
                      GError **error);
/* Go back to @tag. A running domain loses its state: refused
 * (VD_ERROR_STATE) without @force. Unknown tag: VD_ERROR_NOT_FOUND. */
bool lv_snapshot_restore(LvConn *c, const char *name, const char *tag, bool force, bool *live,
                         GError **error);
bool lv_snapshot_delete(LvConn *c, const char *name, const char *tag, GError **error);
