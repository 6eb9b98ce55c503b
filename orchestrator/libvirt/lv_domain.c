/* Listing and lifecycle of libvirt domains. */
#include "libvirt/lv_domain.h"

#include "common/error.h"
#include "libvirt/lv_conn_priv.h"

void lv_domain_info_free(LvDomainInfo *d)
{
    if (!d)
        return;
    g_free(d->name);
    g_free(d);
}

VmState lv_state_to_vm(int s)
{
    switch (s) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
        return VM_STATE_RUNNING;
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED:
        return VM_STATE_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
        return VM_STATE_STOPPING;
    case VIR_DOMAIN_SHUTOFF:
        return VM_STATE_STOPPED;
    default: /* crashed, no state */
        return VM_STATE_ERROR;
    }
}

const char *lv_state_name(int s)
{
    /* virsh's words, so that `virsh domstate` and vmdesk agree. */
    static const char *const names[] = {
        [VIR_DOMAIN_NOSTATE] = "no state",  [VIR_DOMAIN_RUNNING] = "running",
        [VIR_DOMAIN_BLOCKED] = "idle",      [VIR_DOMAIN_PAUSED] = "paused",
        [VIR_DOMAIN_SHUTDOWN] = "in shutdown", [VIR_DOMAIN_SHUTOFF] = "shut off",
        [VIR_DOMAIN_CRASHED] = "crashed",   [VIR_DOMAIN_PMSUSPENDED] = "pmsuspended",
    };
    return s >= 0 && (size_t)s < G_N_ELEMENTS(names) ? names[s] : "unknown";
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    const LvDomainInfo *x = *(LvDomainInfo *const *)a, *y = *(LvDomainInfo *const *)b;
    return g_strcmp0(x->name, y->name);
}

GPtrArray *lv_domain_list(LvConn *c, GError **error)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(c->conn, &doms, 0);
    if (n < 0) {
        lv_set_error(error, "cannot list the domains of %s", c->uri);
        return NULL;
    }
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)lv_domain_info_free);
    for (int i = 0; i < n; i++) {
        int state = VIR_DOMAIN_NOSTATE, reason = 0;
        /* A domain that vanished between the listing and this call is left out. */
        const char *name = virDomainGetName(doms[i]);
        if (name && virDomainGetState(doms[i], &state, &reason, 0) == 0) {
            LvDomainInfo *d = g_new0(LvDomainInfo, 1);
            d->name = g_strdup(name);
            d->state = lv_state_to_vm(state);
            d->libvirt_state = lv_state_name(state);
            g_ptr_array_add(list, d);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    g_ptr_array_sort(list, by_name);
    return list;
}

bool lv_domain_exists(LvConn *c, const char *name, bool *exists, GError **error)
{
    virDomainPtr d = virDomainLookupByName(c->conn, name);
    *exists = d != NULL;
    if (d) {
        virDomainFree(d);
        return true;
    }
    virErrorPtr e = virGetLastError();
    if (e && e->code == VIR_ERR_NO_DOMAIN)
        return true;
    lv_set_error(error, "cannot look up domain \"%s\" on %s", name, c->uri);
    return false;
}

static bool get_state(virDomainPtr d, int *state, GError **error)
{
    int reason = 0;
    if (virDomainGetState(d, state, &reason, 0) == 0)
        return true;
    lv_set_error(error, "cannot read the state of domain \"%s\"", virDomainGetName(d));
    return false;
}

bool lv_domain_state(LvConn *c, const char *name, VmState *state, const char **libvirt_state,
                     GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return false;
    int s = VIR_DOMAIN_NOSTATE;
    bool ok = get_state(d, &s, error);
    virDomainFree(d);
    if (ok) {
        *state = lv_state_to_vm(s);
        if (libvirt_state)
            *libvirt_state = lv_state_name(s);
    }
    return ok;
}

/* Run libvirt call @op on domain @name; @what names it in the error. */
static bool lifecycle(LvConn *c, const char *name, int (*op)(virDomainPtr), const char *what,
                      GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return false;
    bool ok = op(d) == 0;
    if (!ok)
        lv_set_error(error, "cannot %s domain \"%s\" on %s", what, name, c->uri);
    virDomainFree(d);
    return ok;
}

bool lv_domain_start(LvConn *c, const char *name, GError **error)
{
    return lifecycle(c, name, virDomainCreate, "start", error);
}

bool lv_domain_pause(LvConn *c, const char *name, GError **error)
{
    return lifecycle(c, name, virDomainSuspend, "pause", error);
}

bool lv_domain_resume(LvConn *c, const char *name, GError **error)
{
    return lifecycle(c, name, virDomainResume, "resume", error);
}

int lv_event_state(int event, int detail)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
    case VIR_DOMAIN_EVENT_RESUMED:
        return VIR_DOMAIN_RUNNING;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        return VIR_DOMAIN_PAUSED;
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
        return VIR_DOMAIN_PMSUSPENDED;
    case VIR_DOMAIN_EVENT_SHUTDOWN:
        /* The guest finished its shutdown; QEMU may still run a moment. */
        return VIR_DOMAIN_SHUTDOWN;
    case VIR_DOMAIN_EVENT_STOPPED:
        return detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED ? VIR_DOMAIN_CRASHED
                                                          : VIR_DOMAIN_SHUTOFF;
    case VIR_DOMAIN_EVENT_CRASHED:
        return VIR_DOMAIN_CRASHED;
    default: /* defined, undefined: the state did not change */
        return -1;
    }
}

typedef struct {
    VmState want;
    bool reached, timed_out;
} StateWait;

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    (void)conn;
    (void)dom;
    StateWait *w = opaque;
    int s = lv_event_state(event, detail);
    if (s >= 0 && lv_state_to_vm(s) == w->want)
        w->reached = true;
    return 0;
}

static void on_timeout(int timer, void *opaque)
{
    (void)timer;
    ((StateWait *)opaque)->timed_out = true;
}

/* Wait until @d is in @want as libvirt's lifecycle events tell (its event
 * loop, no polling), up to @timeout_s seconds. *@reached tells whether it
 * got there. */
static bool wait_state(LvConn *c, virDomainPtr d, VmState want, int timeout_s, bool *reached,
                       GError **error)
{
    StateWait w = {.want = want};
    int cb = virConnectDomainEventRegisterAny(c->conn, d, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                              VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), &w, NULL);
    if (cb < 0) {
        lv_set_error(error, "cannot follow domain \"%s\"'s events", virDomainGetName(d));
        return false;
    }
    int timer = virEventAddTimeout(MAX(timeout_s, 0) * 1000, on_timeout, &w, NULL);
    bool ok = timer >= 0;
    if (!ok)
        lv_set_error(error, "cannot set a timer in libvirt's event loop");
    /* The state may have been reached before the callback was registered. */
    int s = VIR_DOMAIN_NOSTATE;
    if (ok && (ok = get_state(d, &s, error)) && lv_state_to_vm(s) == want)
        w.reached = true;
    while (ok && !w.reached && !w.timed_out) {
        if (virEventRunDefaultImpl() < 0) {
            lv_set_error(error, "libvirt's event loop failed");
            ok = false;
        }
    }
    if (timer >= 0)
        virEventRemoveTimeout(timer);
    virConnectDomainEventDeregisterAny(c->conn, cb);
    *reached = w.reached;
    return ok;
}

bool lv_domain_wait(LvConn *c, const char *name, VmState want, int timeout_s, GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return false;
    bool reached = false;
    bool ok = wait_state(c, d, want, timeout_s, &reached, error);
    virDomainFree(d);
    if (ok && !reached) {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                    "domain \"%s\" on %s was not %s within %d s", name, c->uri,
                    vm_state_to_string(want), timeout_s);
        ok = false;
    }
    return ok;
}

bool lv_domain_stop(LvConn *c, const char *name, bool force, int timeout_s, bool *forced,
                    GError **error)
{
    *forced = false;
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return false;
    bool ok = true, stopped = false;
    if (!force) {
        ok = virDomainShutdown(d) == 0;
        if (!ok)
            lv_set_error(error, "cannot shut domain \"%s\" down on %s", name, c->uri);
        else
            ok = wait_state(c, d, VM_STATE_STOPPED, timeout_s, &stopped, error);
    }
    if (ok && !stopped) {
        *forced = true;
        ok = virDomainDestroy(d) == 0;
        if (!ok)
            lv_set_error(error, "cannot power domain \"%s\" off on %s", name, c->uri);
    }
    virDomainFree(d);
    return ok;
}
