/* The session switch in the desktop window (auto mode; ARCHITECTURE.md,
 * "The session switch"): the probe thread that asks the RDP port and the
 * guest agent, the pending RDP session connecting behind the VNC picture,
 * the swap to it, the watch on the RDP server while it is on screen (a hung
 * one waits behind VNC until it answers; in RDP mode it stays on screen,
 * dimmed) and the fall-back to VNC. What to do and when is decided by
 * switch.c; this file does it with the window's sessions and SDL. */
#include "common/log.h"
#include "session/rdp/rdp_probe.h"
#include "session/vnc/vnc_session.h"
#include "ui/host_clipboard.h"
#include "ui/sdl_util.h"
#include "ui/switch.h"
#include "ui/window_priv.h"

#include <stdio.h>

#define PROBE_INTERVAL_MS 100
#define PROBE_TIMEOUT_MS 1000
/* The guest agent is asked less often: it runs a program in the guest. */
#define AGENT_INTERVAL_MS 3000
#define AGENT_TIMEOUT_MS 1000

static void probe_set(Win *w, bool on)
{
    if (w->probe_thread)
        g_atomic_int_set(&w->probe_on, on);
}

/* Sleeps @ms in steps, returning early when the window closes. */
static void probe_sleep(Win *w, int ms)
{
    for (int left = ms; left > 0 && !g_atomic_int_get(&w->probe_quit); left -= 100)
        g_usleep(MIN(left, 100) * 1000);
}

/* The agent thread: while probing, a second opinion for the title (is the
 * service up in the guest?). Its own thread: under TCG the agent's answer
 * takes a second or more, which must not hold up the RDP probe. */
static gpointer agent_main(gpointer data)
{
    Win *w = data;
    const WindowVmHooks *vm = w->opts->vm;
    while (!g_atomic_int_get(&w->probe_quit)) {
        if (!g_atomic_int_get(&w->probe_on)) {
            probe_sleep(w, PROBE_INTERVAL_MS);
            continue;
        }
        g_autofree char *detail = NULL;
        SwitchRdpService st = vm->rdp_service(vm->data, AGENT_TIMEOUT_MS, &detail);
        vd_debug("guest agent: %s", detail ? detail : "");
        if (g_atomic_int_get(&w->agent_state) != (gint)st) {
            g_atomic_int_set(&w->agent_state, (gint)st);
            window_notify(w);
        }
        probe_sleep(w, AGENT_INTERVAL_MS);
    }
    return NULL;
}

/* The probe thread: asks for an X.224 connection confirm on the RDP port
 * every PROBE_INTERVAL_MS while probing is on (a TCP connect alone proves
 * nothing under user networking). */
static gpointer probe_main(gpointer data)
{
    Win *w = data;
    const RdpTarget *t = w->opts->rdp;
    int last = -1;
    while (!g_atomic_int_get(&w->probe_quit)) {
        if (g_atomic_int_get(&w->probe_on)) {
            RdpProbeInfo info = {0};
            RdpProbeResult r = rdp_target_probe(t, PROBE_TIMEOUT_MS, &info);
            if ((int)r != last) /* every 100 ms: changes only */
                vd_debug("rdp probe %s: %s (%s)", info.address,
                         rdp_probe_result_to_string(r), info.detail ? info.detail : "");
            last = (int)r;
            rdp_probe_info_clear(&info);
            if (r == RDP_PROBE_READY && g_atomic_int_compare_and_exchange(&w->probe_on, 1, 0)) {
                g_atomic_int_set(&w->probe_ready, 1);
                window_notify(w);
            }
        }
        g_usleep(PROBE_INTERVAL_MS * 1000);
    }
    return NULL;
}

void window_switch_start(Win *w)
{
    w->probe_on = 1;
    w->probe_thread = g_thread_new("rdp-probe", probe_main, w);
    if (w->opts->vm_name)
        w->agent_thread = g_thread_new("agent-probe", agent_main, w);
    w->watch = rdp_watch_new(w->opts->rdp, window_notify, w);
}

void window_switch_stop(Win *w)
{
    if (w->probe_thread) {
        g_atomic_int_set(&w->probe_quit, 1);
        g_thread_join(w->probe_thread);
        w->probe_thread = NULL;
        if (w->agent_thread)
            g_thread_join(w->agent_thread);
        w->agent_thread = NULL;
    }
    g_clear_pointer(&w->watch, rdp_watch_free);
}

static void watch_stop(Win *w)
{
    w->watching = false;
    if (w->watch)
        rdp_watch_off(w->watch);
}

/* The pending RDP session starts: the VNC session on screen reads no updates
 * (its last picture stays): QEMU's VNC encoding and our drawing would take
 * CPU from the guest, which starts the user's session then. It rests until
 * the swap closes it, or the pending session fails or closes (vnc_wake). No
 * time limit: after a long rest QEMU's answer to the first new request came
 * black in integration-demo (a 20 s limit ran out on a loaded host), and the
 * pending session has its own time-outs. */
static void vnc_rest(Win *w)
{
    if (!w->session || window_is_rdp(w->session) || w->vnc_resting)
        return;
    vnc_session_pause(w->session, true);
    w->vnc_resting = true;
    vd_debug("VNC rests while the RDP session starts");
}

static void vnc_wake(Win *w)
{
    if (!w->vnc_resting)
        return;
    w->vnc_resting = false;
    if (w->session && !window_is_rdp(w->session)) {
        vnc_session_pause(w->session, false);
        vd_debug("VNC reads updates again");
    }
}

/* RDP failed or dropped: show @msg (switch.c's) and VNC again; switch.c
 * has set when the probe starts over. */
static void fall_back_to_vnc(Win *w, const char *msg)
{
    vnc_wake(w);
    vd_warn("%s", msg);
    window_set_status(w, msg);
    g_autoptr(GError) err = NULL;
    if (!w->session && !window_start_session(w, false, &err)) {
        vd_warn("%s", err->message);
        w->reconnect_at = SDL_GetTicks() + RECONNECT_DELAY_MS;
    }
}

void window_switch_rdp_lost(Win *w, const char *why)
{
    watch_stop(w);
    g_autofree char *msg = switch_rdp_lost(&w->sw, why, g_get_monotonic_time());
    fall_back_to_vnc(w, msg);
}

/* The pending RDP session's picture goes on screen instead of VNC. The
 * texture is filled before anything is presented: no black frame. */
static void swap_to_pending(Win *w)
{
    Session *old = w->session;
    w->vnc_resting = false; /* the VNC session closes */
    w->session = g_steal_pointer(&w->pending);
    w->clip_session = NULL;
    w->connected = true;
    w->ever_connected = true;
    int fw, fh;
    g_mutex_lock(&w->session->fb.lock);
    fw = w->session->fb.width;
    fh = w->session->fb.height;
    w->swap_lit = session_fb_lit_share(&w->session->fb);
    g_mutex_unlock(&w->session->fb.lock);
    window_make_texture(w, fw, fh);
    w->held_black = false;
    window_render(w);
    /* When the swap's picture left: integration-demo finds it by this among
     * the window's presents (same clock), to compare those after it. */
    vd_debug("swap presented at %" G_GINT64_FORMAT " us (monotonic)", g_get_monotonic_time());
    if (w->pending_cursor) {
        SessionEvent *c = w->pending_cursor;
        window_set_cursor(w, c->pixels, c->w, c->h, c->x, c->y);
        g_clear_pointer(&w->pending_cursor, session_event_free);
    }
    bool back = switch_hung_kept(&w->sw);
    gint64 ms = switch_swapped(&w->sw, g_get_monotonic_time());
    switch_watch_init(&w->wt, g_get_monotonic_time(), g_get_real_time());
    w->watching = w->watch != NULL;
    printf("%s: showing RDP (%dx%d), %" G_GINT64_FORMAT " ms after %s\n", w->opts->title, fw,
           fh, ms, back ? "it stopped answering" : "the RDP service answered");
    fflush(stdout);
    window_set_status(w, NULL);
    window_offer_clipboard(w);
    if (old) {
        /* Destroyed once its thread said CLOSED (window_switch_events). */
        session_disconnect_start(old);
        g_ptr_array_add(w->closing, old);
    }
    w->reconnect_at = 0;
}

/* switch_pending_ready's look at the pending picture. */
static void look_at_pending(void *data, SwitchPicture *out)
{
    SessionFramebuffer *fb = &((Win *)data)->pending->fb;
    g_mutex_lock(&fb->lock);
    out->last_damage = fb->last_damage;
    out->all_black = session_fb_all_black(fb);
    out->lit = out->all_black ? 0.0 : session_fb_lit_share(fb);
    g_mutex_unlock(&fb->lock);
}

static void handle_pending_events(Win *w)
{
    SessionEvent *ev;
    while (w->pending && (ev = session_next_event(w->pending))) {
        switch (ev->type) {
        case SESSION_EV_FRAME: {
            /* Taking the dirty rectangle re-arms FRAME events; the swap
             * uploads the whole picture anyway. */
            int dx, dy, dw, dh;
            g_mutex_lock(&w->pending->fb.lock);
            session_take_dirty(w->pending, &dx, &dy, &dw, &dh);
            vd_debug("pending picture: +%" G_GINT64_FORMAT " ms, frames %u, dirty %dx%d+%d+%d, %s",
                     (g_get_monotonic_time() - w->sw.rdp_ready_at) / 1000,
                     (unsigned)w->pending->fb.frames, dw, dh, dx, dy,
                     session_fb_all_black(&w->pending->fb) ? "all black" : "not all black");
            switch_pending_picture(&w->sw, w->pending->fb.frames > 0, g_get_monotonic_time());
            g_mutex_unlock(&w->pending->fb.lock);
            break;
        }
        case SESSION_EV_LOGON:
            switch_pending_logon(&w->sw);
            break;
        case SESSION_EV_RESIZED:
            vd_debug("pending resized: +%" G_GINT64_FORMAT " ms, %dx%d",
                     (g_get_monotonic_time() - w->sw.rdp_ready_at) / 1000, ev->w, ev->h);
            break;
        case SESSION_EV_CURSOR: {
            guint32 sum = 0;
            for (int i = 0; ev->pixels && i < ev->w * ev->h; i++)
                sum = sum * 31 + ev->pixels[i];
            vd_debug("pending cursor: +%" G_GINT64_FORMAT " ms, %dx%d hot %d,%d sum %08x",
                     (g_get_monotonic_time() - w->sw.rdp_ready_at) / 1000, ev->w, ev->h, ev->x,
                     ev->y, sum);
        }
            g_clear_pointer(&w->pending_cursor, session_event_free);
            w->pending_cursor = ev;
            continue;
        case SESSION_EV_CLIPBOARD:
            host_clipboard_offer_text(ev->text);
            break;
        case SESSION_EV_CLOSED: {
            if (switch_hung_kept(&w->sw))
                watch_stop(w); /* the hung session ended: the probe takes over */
            g_autofree char *msg = switch_pending_closed(
                &w->sw, ev->error ? ev->error->message : NULL, g_get_monotonic_time());
            session_event_free(ev);
            g_clear_pointer(&w->pending, session_destroy);
            g_clear_pointer(&w->pending_cursor, session_event_free);
            fall_back_to_vnc(w, msg);
            return;
        }
        default:
            break;
        }
        session_event_free(ev);
    }
}

/* Sessions taken off the screen: nothing of theirs counts any more; each is
 * destroyed once it reported CLOSED. */
static void reap_closing(Win *w)
{
    for (guint i = 0; i < w->closing->len;) {
        Session *s = g_ptr_array_index(w->closing, i);
        if (sdl_util_session_closed(s)) {
            session_destroy(s);
            g_ptr_array_remove_index(w->closing, i);
        } else {
            i++;
        }
    }
}

void window_switch_events(Win *w)
{
    handle_pending_events(w);
    reap_closing(w);
}

/* The RDP session on screen hangs: VNC again, and the session waits behind
 * it as the pending one (switch_rdp_hung) until it answers. */
static void keep_hung(Win *w)
{
    g_autofree char *msg = switch_rdp_hung(&w->sw, &w->wt, g_get_monotonic_time());
    w->pending = g_steal_pointer(&w->session);
    w->connected = false; /* the last RDP picture, dimmed, until VNC shows */
    w->clip_session = NULL;
    w->redraw = true;
    fall_back_to_vnc(w, msg);
}

/* A kept hung session that never came back: dropped (its thread ends on its
 * own, on the closing list); the probe connects anew once RDP answers. */
static void give_up_hung(Win *w)
{
    g_autofree char *since = switch_watch_since(&w->wt);
    g_autofree char *why = g_strdup_printf("%s; connecting anew once it answers", since);
    g_autofree char *msg = switch_pending_failed(&w->sw, why, g_get_monotonic_time());
    session_disconnect_start(w->pending);
    g_ptr_array_add(w->closing, g_steal_pointer(&w->pending));
    g_clear_pointer(&w->pending_cursor, session_event_free);
    watch_stop(w);
    fall_back_to_vnc(w, msg);
}

/* One step of the watch on the RDP session on screen, or on the hung one
 * kept behind VNC. A VM that is not running (paused, suspended) answers
 * nothing, and that is no hang: the watch starts over when it runs again. */
static void watch_step(Win *w)
{
    bool kept = switch_hung_kept(&w->sw);
    Session *s = kept ? w->pending : w->session;
    if (!window_is_rdp(s) || w->close_at) {
        watch_stop(w);
        return;
    }
    if (w->opts->vm_name && g_strcmp0(w->vm_state, "RUNNING")) {
        switch_watch_init(&w->wt, g_get_monotonic_time(), g_get_real_time());
        rdp_watch_off(w->watch);
        return;
    }
    static const int area[4] = {0, 0, 64, 64};
    SwitchWatchChange change = rdp_watch_step(w->watch, &w->wt, s, area);
    if (!kept && change == SWITCH_WATCH_HUNG)
        keep_hung(w);
    else if (kept && switch_hung_give_up(&w->sw, g_get_monotonic_time()))
        give_up_hung(w);
}

void window_switch_step(Win *w)
{
    if (w->watching)
        watch_step(w);
    window_release_held(w);
    gint64 now = g_get_monotonic_time();
    if (g_atomic_int_compare_and_exchange(&w->probe_ready, 1, 0) &&
        switch_rdp_answered(&w->sw, w->close_at != 0, now)) {
        /* RDP answers: connect behind the VNC picture. */
        window_set_status(w, "RDP ready — connecting");
        w->pending = window_new_rdp_session(w);
        g_autoptr(GError) err = NULL;
        if (!session_connect(w->pending, &err)) {
            g_clear_pointer(&w->pending, session_destroy); /* never connected */
            g_autofree char *msg = switch_pending_failed(&w->sw, err->message, now);
            fall_back_to_vnc(w, msg);
        } else {
            vnc_rest(w);
        }
    }
    SwitchRdpService agent = (SwitchRdpService)g_atomic_int_get(&w->agent_state);
    const char *said = switch_agent_status(&w->sw, agent, window_is_rdp(w->session),
                                           w->status != NULL);
    if (said)
        window_set_status(w, said);
    if (switch_pending_ready(&w->sw, g_get_monotonic_time(), look_at_pending, w))
        swap_to_pending(w);
    /* The main loop wakes when the pending picture has been still long enough. */
    w->switch_wait_ms = -1;
    if (w->pending && !switch_hung_kept(&w->sw)) {
        SwitchPicture pic = {0};
        look_at_pending(w, &pic);
        w->switch_wait_ms = switch_pending_settle_left(&w->sw, g_get_monotonic_time(), &pic);
    }
    if (switch_probe_due(&w->sw, g_get_monotonic_time()))
        probe_set(w, true);
}

/* RDP mode: the hung session stays on screen, dimmed, with the reason in
 * the title, until it answers; given up, it is dropped for a new one. */
static void hang_shown(Win *w, bool hung)
{
    g_autofree char *since = hung ? switch_watch_since(&w->wt) : NULL;
    g_autofree char *msg = hung ? g_strdup_printf("RDP %s, input ignored", since) : NULL;
    printf("%s: %s\n", w->opts->title, hung ? msg : "RDP answers again");
    fflush(stdout);
    w->hung = hung;
    w->redraw = true;
    window_set_status(w, msg);
}

void window_watch_rdp(Win *w)
{
    if (!w->watch)
        return;
    if (!window_is_rdp(w->session) || !w->connected || w->close_at) {
        watch_stop(w);
        w->hung = false;
        return;
    }
    gint64 now = g_get_monotonic_time();
    if (!w->watching || (w->opts->vm_name && g_strcmp0(w->vm_state, "RUNNING"))) {
        switch_watch_init(&w->wt, now, g_get_real_time());
        w->watching = !w->opts->vm_name || !g_strcmp0(w->vm_state, "RUNNING");
        if (!w->watching)
            rdp_watch_off(w->watch);
        return;
    }
    static const int area[4] = {0, 0, 64, 64};
    switch (rdp_watch_step(w->watch, &w->wt, w->session, area)) {
    case SWITCH_WATCH_HUNG:
        hang_shown(w, true);
        break;
    case SWITCH_WATCH_BACK:
        hang_shown(w, false);
        break;
    case SWITCH_WATCH_NONE:
        break;
    }
    if (switch_watch_give_up(&w->wt, now)) {
        g_autofree char *since = switch_watch_since(&w->wt);
        g_autofree char *msg = g_strdup_printf("RDP %s — reconnecting", since);
        vd_warn("%s", msg);
        session_disconnect_start(w->session);
        g_ptr_array_add(w->closing, g_steal_pointer(&w->session));
        watch_stop(w);
        w->hung = false;
        w->connected = false;
        w->clip_session = NULL;
        w->redraw = true;
        window_set_status(w, msg);
        w->reconnect_at = SDL_GetTicks() + RECONNECT_DELAY_MS;
    }
}
