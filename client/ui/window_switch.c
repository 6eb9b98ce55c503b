/* The session switch in the desktop window (auto mode; ARCHITECTURE.md,
 * "The session switch"): the probe thread that asks the RDP port and the
 * guest agent, the pending RDP session connecting behind the VNC picture,
 * the swap to it and the fall-back to VNC. */
#include "common/log.h"
#include "session/rdp/rdp_probe.h"
#include "ui/window_priv.h"

#include <stdio.h>

#define PROBE_INTERVAL_MS 300
#define PROBE_TIMEOUT_MS 1000
/* After RDP failed or dropped: probe again after this long. */
#define PROBE_BACKOFF_MS 3000
/* The guest agent is asked less often: it runs a program in the guest. */
#define AGENT_INTERVAL_MS 3000
/* When the RDP picture replaces VNC: once it is complete, the server has
 * said the user's session runs (its logon notification; before it, the
 * picture is the server's login or progress screen), it is not all black
 * (an X session before its window manager paints) and it has been still
 * for SETTLE_MS. Servers that never send the notification are shown
 * NO_LOGON_MS after their first complete picture; nothing waits longer
 * than MAX_WAIT_MS after it. */
#define SETTLE_MS 300
#define NO_LOGON_MS 5000
#define MAX_WAIT_MS 15000

static void probe_set(Win *w, bool on)
{
    if (w->probe_thread)
        g_atomic_int_set(&w->probe_on, on);
}

/* The probe thread: asks for an X.224 connection confirm on the RDP port
 * every PROBE_INTERVAL_MS while probing is on (a TCP connect alone proves
 * nothing under user networking). */
static gpointer probe_main(gpointer data)
{
    Win *w = data;
    const RdpTarget *t = w->opts->rdp;
    gint64 next_agent = 0;
    while (!g_atomic_int_get(&w->probe_quit)) {
        if (g_atomic_int_get(&w->probe_on) && w->opts->vm_name &&
            g_get_monotonic_time() >= next_agent) {
            /* A second opinion for the title: is the service up in the guest? */
            RdpServiceInfo si = {0};
            RdpServiceState st = rdp_service_running(w->opts->vm_name, 1000, &si);
            vd_debug("guest agent: %s", si.detail ? si.detail : "");
            rdp_service_info_clear(&si);
            if (g_atomic_int_get(&w->agent_state) != (gint)st) {
                g_atomic_int_set(&w->agent_state, (gint)st);
                window_notify(w);
            }
            next_agent = g_get_monotonic_time() + AGENT_INTERVAL_MS * 1000LL;
        }
        if (g_atomic_int_get(&w->probe_on)) {
            RdpProbeInfo info = {0};
            RdpProbeResult r = rdp_probe(t->host, t->port, RDP_PROBE_DEFAULT_PROTOCOLS,
                                         PROBE_TIMEOUT_MS, &info, NULL);
            vd_debug("rdp probe %s:%u: %s (%s)", t->host, t->port,
                     rdp_probe_result_to_string(r), info.detail ? info.detail : "");
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
}

void window_switch_stop(Win *w)
{
    if (w->probe_thread) {
        g_atomic_int_set(&w->probe_quit, 1);
        g_thread_join(w->probe_thread);
        w->probe_thread = NULL;
    }
}

/* RDP on screen failed or dropped in auto mode: VNC again, and probe anew. */
static void fall_back_to_vnc(Win *w, const char *why)
{
    g_autofree char *msg = g_strdup_printf("RDP %s — showing VNC", why);
    vd_warn("%s", msg);
    window_set_status(w, msg);
    w->status_stays = true;
    g_autoptr(GError) err = NULL;
    if (!w->session && !window_start_session(w, false, &err)) {
        vd_warn("%s", err->message);
        w->reconnect_at = SDL_GetTicks() + RECONNECT_DELAY_MS;
    }
    w->probe_resume_at = SDL_GetTicks() + PROBE_BACKOFF_MS;
}

void window_switch_rdp_lost(Win *w, const char *why)
{
    g_autofree char *msg =
        g_strdup_printf("connection lost%s%s", why ? ": " : "", why ? why : "");
    fall_back_to_vnc(w, msg);
}

/* The pending RDP session has a complete picture: show it instead of VNC.
 * The texture is filled before anything is presented: no black frame. */
static void swap_to_pending(Win *w)
{
    Session *old = w->session;
    w->session = g_steal_pointer(&w->pending);
    w->clip_session = NULL;
    w->pending_logon = false;
    w->pending_complete_at = 0;
    w->connected = true;
    w->ever_connected = true;
    int fw, fh;
    g_mutex_lock(&w->session->fb.lock);
    fw = w->session->fb.width;
    fh = w->session->fb.height;
    g_mutex_unlock(&w->session->fb.lock);
    window_make_texture(w, fw, fh);
    window_render(w);
    if (w->pending_cursor) {
        SessionEvent *c = w->pending_cursor;
        window_set_cursor(w, c->pixels, c->w, c->h, c->x, c->y);
        g_clear_pointer(&w->pending_cursor, session_event_free);
    }
    gint64 ms = (g_get_monotonic_time() - w->rdp_ready_at) / 1000;
    printf("%s: showing RDP (%dx%d), %" G_GINT64_FORMAT " ms after the RDP service answered\n",
           w->opts->title, fw, fh, ms);
    fflush(stdout);
    w->status_stays = false;
    window_set_status(w, NULL);
    window_offer_clipboard(w);
    if (old) {
        session_disconnect_start(old);
        session_destroy(old); /* the VNC thread ends promptly */
    }
    w->reconnect_at = 0;
}

/* Whether the pending RDP picture should replace VNC now (see SETTLE_MS). */
static bool pending_ready(Win *w)
{
    if (!w->pending || !w->pending_complete_at)
        return false;
    gint64 now = g_get_monotonic_time();
    gint64 waited = (now - w->pending_complete_at) / 1000;
    if (waited >= MAX_WAIT_MS)
        return true;
    /* A session whose shell is one program (vmdesk app on xrdp) has no
     * login screen to skip: its first still, not black picture is it. */
    if (!w->pending_logon && waited < NO_LOGON_MS && !w->opts->rdp->shell)
        return false;
    SessionFramebuffer *fb = &w->pending->fb;
    g_mutex_lock(&fb->lock);
    bool ready = (now - fb->last_damage) / 1000 >= SETTLE_MS && !session_fb_all_black(fb);
    g_mutex_unlock(&fb->lock);
    return ready;
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
            if (w->pending->fb.frames > 0 && !w->pending_complete_at)
                w->pending_complete_at = g_get_monotonic_time();
            g_mutex_unlock(&w->pending->fb.lock);
            break;
        }
        case SESSION_EV_LOGON:
            w->pending_logon = true;
            break;
        case SESSION_EV_CURSOR:
            g_clear_pointer(&w->pending_cursor, session_event_free);
            w->pending_cursor = ev;
            continue;
        case SESSION_EV_CLIPBOARD:
            SDL_SetClipboardText(ev->text);
            break;
        case SESSION_EV_CLOSED: {
            g_autofree char *why = g_strdup_printf(
                "failed: %s", ev->error ? ev->error->message : "the connection closed");
            session_event_free(ev);
            session_destroy(w->pending);
            w->pending = NULL;
            w->pending_logon = false;
            w->pending_complete_at = 0;
            g_clear_pointer(&w->pending_cursor, session_event_free);
            fall_back_to_vnc(w, why);
            return;
        }
        default:
            break;
        }
        session_event_free(ev);
    }
}

void window_switch_events(Win *w)
{
    handle_pending_events(w);
}

void window_switch_step(Win *w)
{
    if (g_atomic_int_compare_and_exchange(&w->probe_ready, 1, 0) && !w->close_at) {
        /* RDP answers: connect behind the VNC picture. */
        w->rdp_ready_at = g_get_monotonic_time();
        window_set_status(w, "RDP ready — connecting");
        w->pending = window_new_rdp_session(w);
        g_autoptr(GError) err = NULL;
        if (!session_connect(w->pending, &err)) {
            session_destroy(w->pending);
            w->pending = NULL;
            fall_back_to_vnc(w, err->message);
        }
    }
    RdpServiceState agent = (RdpServiceState)g_atomic_int_get(&w->agent_state);
    if (agent != w->agent_shown && !w->pending && !window_is_rdp(w->session)) {
        w->agent_shown = agent;
        if (agent == RDP_SERVICE_RUNNING && !w->status)
            window_set_status(w, "RDP service starting");
        else if (agent == RDP_SERVICE_STOPPED && !w->status)
            window_set_status(w, "no RDP service running in the guest");
    }
    if (pending_ready(w))
        swap_to_pending(w);
    if (w->probe_resume_at && SDL_TICKS_PASSED(SDL_GetTicks(), w->probe_resume_at)) {
        w->probe_resume_at = 0;
        probe_set(w, true);
    }
}
