/* Domains of a libvirt connection: listing and lifecycle through libvirt's
 * own calls (virDomainCreate, virDomainShutdown, virDomainSuspend ...).
 * Main thread only; @c is borrowed by every call. */
#pragma once

#include "libvirt/lv_conn.h"
#include "vm/vm_state.h"

/* One domain as listed: its name, vmdesk's state for it, and libvirt's own
 * state word ("running", "shut off", "paused" ...). */
typedef struct {
    char *name;
    VmState state;
    const char *libvirt_state; /* static */
} LvDomainInfo;

void lv_domain_info_free(LvDomainInfo *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LvDomainInfo, lv_domain_info_free)

/* All domains of @c, defined or transient, sorted by name (LvDomainInfo,
 * caller unrefs), or NULL with @error. */
GPtrArray *lv_domain_list(LvConn *c, GError **error);

/* Whether @c has a domain called @name (*@exists); false on another error. */
bool lv_domain_exists(LvConn *c, const char *name, bool *exists, GError **error);

/* Domain @name's state (and its libvirt word in *@libvirt_state, static, may
 * be NULL). Unknown domain: VD_ERROR_NOT_FOUND. */
bool lv_domain_state(LvConn *c, const char *name, VmState *state, const char **libvirt_state,
                     GError **error);

/* Boot @name (virDomainCreate). Already running: VD_ERROR_STATE. */
bool lv_domain_start(LvConn *c, const char *name, GError **error);
/* Shut @name down: an ACPI power-down (virDomainShutdown), then wait for its
 * stopped event up to @timeout_s seconds and pull the plug (virDomainDestroy)
 * if it has not stopped (*@forced set); @force pulls it at once. Stopped
 * already: VD_ERROR_STATE. */
bool lv_domain_stop(LvConn *c, const char *name, bool force, int timeout_s, bool *forced,
                    GError **error);
/* Freeze / continue @name's CPUs (virDomainSuspend / virDomainResume). */
bool lv_domain_pause(LvConn *c, const char *name, GError **error);
bool lv_domain_resume(LvConn *c, const char *name, GError **error);

/* Wait until @name is in @want, following libvirt's lifecycle events (no
 * polling), up to @timeout_s seconds: VD_ERROR_TIMEOUT if it is not. */
bool lv_domain_wait(LvConn *c, const char *name, VmState want, int timeout_s, GError **error);

/* libvirt's virDomainState after lifecycle event @event (virDomainEventType)
 * with @detail, or -1 when the event does not change the state (defined,
 * undefined). */
int lv_event_state(int event, int detail);

/* vmdesk's state for libvirt's virDomainState @s, and libvirt's word for it. */
VmState lv_state_to_vm(int s);
const char *lv_state_name(int s);
