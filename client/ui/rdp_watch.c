/* Watching the RDP server of the session on screen (rdp_watch.h): the probe
 * thread and the main loop's step. The rules are switch.c's. */
#include "ui/rdp_watch.h"

#include "common/log.h"
#include "session/rdp/rdp_session.h"

struct RdpWatch {
    RdpTarget target; /* only where it is: host, port, tunnel */
    void (*notify)(void *);
    void *data;
    GThread *thread;
    GMutex lock;
    GCond cond;
    /* under @lock: */
    bool on;
    bool quit;
    gint64 answered;      /* the last probe that got a reply ended then; 0: none new */
    GArray *silent;       /* gint64: start times of probes that got none in time */
};

static gpointer watch_main(gpointer data)
{
    RdpWatch *w = data;
    g_mutex_lock(&w->lock);
    while (!w->quit) {
        if (!w->on) {
            g_cond_wait(&w->cond, &w->lock);
            continue;
        }
        g_mutex_unlock(&w->lock);
        gint64 started = g_get_monotonic_time();
        RdpProbeInfo info = {0};
        RdpProbeResult r = rdp_target_probe(&w->target, SWITCH_WATCH_PROBE_TIMEOUT_MS, &info);
        vd_debug("rdp watch %s: %s (%s)", info.address, rdp_probe_result_to_string(r),
                 info.detail ? info.detail : "");
        rdp_probe_info_clear(&info);
        g_mutex_lock(&w->lock);
        /* Any reply is a sign of life, a refusal too; an error is ours. */
        if (r == RDP_PROBE_TIMEOUT)
            g_array_append_val(w->silent, started);
        else if (r != RDP_PROBE_ERROR)
            w->answered = g_get_monotonic_time();
        g_mutex_unlock(&w->lock);
        w->notify(w->data);
        g_mutex_lock(&w->lock);
        gint64 next = started + SWITCH_WATCH_PROBE_MS * 1000LL;
        while (!w->quit && g_cond_wait_until(&w->cond, &w->lock, next))
            ;
    }
    g_mutex_unlock(&w->lock);
    return NULL;
}

RdpWatch *rdp_watch_new(const RdpTarget *t, void (*notify)(void *), void *data)
{
    RdpWatch *w = g_new0(RdpWatch, 1);
    w->target.host = g_strdup(t->host ? t->host : "127.0.0.1");
    w->target.port = t->port;
    w->target.tunnel = g_strdupv(t->tunnel);
    w->notify = notify;
    w->data = data;
    w->silent = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_mutex_init(&w->lock);
    g_cond_init(&w->cond);
    w->thread = g_thread_new("rdp-watch", watch_main, w);
    return w;
}

void rdp_watch_free(RdpWatch *w)
{
    if (!w)
        return;
    g_mutex_lock(&w->lock);
    w->quit = true;
    g_cond_signal(&w->cond);
    g_mutex_unlock(&w->lock);
    g_thread_join(w->thread);
    g_array_unref(w->silent);
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->cond);
    rdp_target_clear(&w->target);
    g_free(w);
}

static void set_on(RdpWatch *w, bool on)
{
    g_mutex_lock(&w->lock);
    if (w->on != on) {
        w->on = on;
        g_cond_signal(&w->cond);
    }
    g_mutex_unlock(&w->lock);
}

void rdp_watch_off(RdpWatch *w)
{
    set_on(w, false);
}

SwitchWatchChange rdp_watch_step(RdpWatch *w, SwitchWatch *wt, Session *s, const int area[4])
{
    gint64 now = g_get_monotonic_time(), wall = g_get_real_time();
    SwitchWatchChange change = SWITCH_WATCH_NONE;
    /* Pixels that arrived: the server works. */
    g_mutex_lock(&s->fb.lock);
    gint64 damage = s->fb.last_damage;
    g_mutex_unlock(&s->fb.lock);
    if (switch_watch_heard(wt, damage, wall - (now - damage)) == SWITCH_WATCH_BACK)
        change = SWITCH_WATCH_BACK;
    /* The probe's replies, then its silences (those older than the last
     * reply say nothing: switch_watch_probe_silent drops them). */
    g_mutex_lock(&w->lock);
    gint64 answered = w->answered;
    w->answered = 0;
    if (answered && switch_watch_heard(wt, answered, wall - (now - answered)) == SWITCH_WATCH_BACK)
        change = SWITCH_WATCH_BACK;
    for (guint i = 0; i < w->silent->len; i++)
        switch_watch_probe_silent(wt, g_array_index(w->silent, gint64, i));
    g_array_set_size(w->silent, 0);
    g_mutex_unlock(&w->lock);
    if (switch_watch_ask(wt, now))
        session_refresh(s, area[0], area[1], area[2], area[3]);
    set_on(w, switch_watch_probing(wt, now));
    if (switch_watch_check(wt, now) == SWITCH_WATCH_HUNG)
        change = SWITCH_WATCH_HUNG;
    return change;
}
