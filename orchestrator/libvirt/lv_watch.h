/* Following one libvirt domain while a window shows it: its lifecycle
 * events (virConnectDomainEventRegisterAny) on a thread that runs libvirt's
 * default event loop, which also keeps a remote connection's keepalive
 * going. Nothing is polled: the state is what the last event said. */
#pragma once

#include "libvirt/lv_conn.h"
#include "vm/vm_state.h"

typedef struct LvWatch LvWatch;

/* Follow domain @name of @c (borrowed; it must outlive the watch): reads its
 * state once, then only events. Unknown domain: VD_ERROR_NOT_FOUND. Main
 * thread. */
LvWatch *lv_watch_new(LvConn *c, const char *name, GError **error);
/* Stop the event thread and forget the callbacks; accepts NULL. Main thread. */
void lv_watch_free(LvWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvWatch, lv_watch_free)

typedef struct {
    VmState state;         /* vmdesk's word for it */
    const char *libvirt;   /* libvirt's word ("running", "shut off" ...), static */
    bool lost;             /* the connection to libvirt closed: the state is stale */
    unsigned events;       /* lifecycle events seen so far */
} LvWatchState;

/* What the events said last. Any thread. */
LvWatchState lv_watch_get(LvWatch *w);
