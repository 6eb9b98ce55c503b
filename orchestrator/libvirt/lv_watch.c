/* A domain's lifecycle events on a thread of libvirt's event loop. */
#include "libvirt/lv_watch.h"

#include "libvirt/lv_conn_priv.h"
#include "libvirt/lv_domain.h"

struct LvWatch {
    LvConn *conn;
    virDomainPtr dom;
    int callback;   /* lifecycle callback id, -1: none */
    bool close_cb;  /* the close callback is registered */
    GThread *thread;
    gint stop;
    GMutex lock;    /* guards what follows */
    int state;      /* virDomainState */
    bool lost;
    unsigned events;
};

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    (void)conn;
    (void)dom;
    LvWatch *w = opaque;
    int s = lv_event_state(event, detail);
    g_mutex_lock(&w->lock);
    w->events++;
    if (s >= 0)
        w->state = s;
    g_mutex_unlock(&w->lock);
    return 0;
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
    (void)conn;
    (void)reason;
    LvWatch *w = opaque;
    g_mutex_lock(&w->lock);
    w->lost = true;
    g_mutex_unlock(&w->lock);
}

static gpointer run_loop(gpointer data)
{
    LvWatch *w = data;
    while (!g_atomic_int_get(&w->stop))
        if (virEventRunDefaultImpl() < 0)
            break;
    return NULL;
}

static void wake(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

LvWatch *lv_watch_new(LvConn *c, const char *name, GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return NULL;
    LvWatch *w = g_new0(LvWatch, 1);
    g_mutex_init(&w->lock);
    w->conn = c;
    w->dom = d;
    w->callback = virConnectDomainEventRegisterAny(c->conn, d, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                   VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), w,
                                                   NULL);
    if (w->callback < 0) {
        lv_set_error(error, "cannot follow domain \"%s\"'s events", name);
        lv_watch_free(w);
        return NULL;
    }
    w->close_cb = virConnectRegisterCloseCallback(c->conn, on_close, w, NULL) == 0;
    /* Read once after registering: an event in between only repeats it. */
    int s = VIR_DOMAIN_NOSTATE, reason = 0;
    if (virDomainGetState(d, &s, &reason, 0) < 0) {
        lv_set_error(error, "cannot read the state of domain \"%s\"", name);
        lv_watch_free(w);
        return NULL;
    }
    g_mutex_lock(&w->lock);
    if (!w->events)
        w->state = s;
    g_mutex_unlock(&w->lock);
    w->thread = g_thread_new("libvirt-events", run_loop, w);
    return w;
}

void lv_watch_free(LvWatch *w)
{
    if (!w)
        return;
    if (w->thread) {
        g_atomic_int_set(&w->stop, 1);
        /* A timer due now ends the loop's current iteration. */
        int t = virEventAddTimeout(0, wake, NULL, NULL);
        g_thread_join(w->thread);
        if (t >= 0)
            virEventRemoveTimeout(t);
    }
    if (w->callback >= 0)
        virConnectDomainEventDeregisterAny(w->conn->conn, w->callback);
    if (w->close_cb)
        virConnectUnregisterCloseCallback(w->conn->conn, on_close);
    virDomainFree(w->dom);
    g_mutex_clear(&w->lock);
    g_free(w);
}

LvWatchState lv_watch_get(LvWatch *w)
{
    g_mutex_lock(&w->lock);
    LvWatchState st = {.state = lv_state_to_vm(w->state),
                       .libvirt = lv_state_name(w->state),
                       .lost = w->lost,
                       .events = w->events};
    g_mutex_unlock(&w->lock);
    return st;
}
