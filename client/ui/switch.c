/* The session switch's decisions (switch.h); window_switch.c acts on them. */
#include "ui/switch.h"

void switch_init(Switch *sw, bool shell, bool no_logon_notice)
{
    *sw = (Switch){.shell = shell, .no_logon_notice = no_logon_notice};
}

bool switch_rdp_answered(Switch *sw, bool closing, gint64 now)
{
    if (closing)
        return false;
    sw->rdp_ready_at = now;
    sw->pending = true;
    sw->pending_logon = false;
    sw->pending_complete_at = 0;
    return true;
}

void switch_pending_picture(Switch *sw, bool complete, gint64 now)
{
    if (sw->pending && complete && !sw->pending_complete_at)
        sw->pending_complete_at = now;
}

void switch_pending_logon(Switch *sw)
{
    if (sw->pending)
        sw->pending_logon = true;
}

/* How long @pic must be still: shorter for a lit picture of xrdp. */
static int settle_ms(const Switch *sw, const SwitchPicture *pic)
{
    return sw->no_logon_notice && !sw->hung_since && pic->lit >= SWITCH_SETTLE_LIT_SHARE
               ? SWITCH_SETTLE_LIT_MS
               : SWITCH_SETTLE_MS;
}

bool switch_pending_ready(const Switch *sw, gint64 now, SwitchLookFunc look, void *data)
{
    if (sw->pending && sw->hung_since) {
        /* Back from a hang: new pixels, settled. The old ones say nothing. */
        SwitchPicture pic = {0};
        look(data, &pic);
        return pic.last_damage > sw->hung_since &&
               (now - pic.last_damage) / 1000 >= SWITCH_SETTLE_MS && !pic.all_black;
    }
    if (!sw->pending || !sw->pending_complete_at)
        return false;
    gint64 waited = (now - sw->pending_complete_at) / 1000;
    if (waited >= SWITCH_MAX_WAIT_MS)
        return true;
    /* A session whose shell is one program (vmdesk app on xrdp), or on a
     * server that never sends the notification (xrdp, given the login), has
     * no login screen to skip: its first still, not black picture is it. */
    if (!sw->pending_logon && waited < SWITCH_NO_LOGON_MS && !sw->shell &&
        !sw->no_logon_notice)
        return false;
    SwitchPicture pic = {0};
    look(data, &pic);
    return (now - pic.last_damage) / 1000 >= settle_ms(sw, &pic) && !pic.all_black;
}

int switch_pending_settle_left(const Switch *sw, gint64 now, const SwitchPicture *pic)
{
    /* Only stillness missing: the session is up (or needs no sign of it). */
    if (!sw->pending || !sw->pending_complete_at || sw->hung_since || pic->all_black ||
        !(sw->pending_logon || sw->shell || sw->no_logon_notice))
        return -1;
    gint64 left = settle_ms(sw, pic) - (now - pic->last_damage) / 1000;
    return (int)CLAMP(left, 0, SWITCH_SETTLE_MS);
}

bool switch_hold_black(const Switch *sw, gint64 now)
{
    return sw->hold_black_until && now < sw->hold_black_until;
}

static void end_pending(Switch *sw)
{
    sw->hung_since = 0;
    sw->pending = false;
    sw->pending_logon = false;
    sw->pending_complete_at = 0;
}

gint64 switch_swapped(Switch *sw, gint64 now)
{
    bool hold = sw->no_logon_notice && !sw->pending_logon && !sw->hung_since;
    sw->hold_black_until = hold ? now + SWITCH_NO_LOGON_MS * 1000LL : 0;
    end_pending(sw);
    sw->status_stays = false;
    return (now - sw->rdp_ready_at) / 1000;
}

/* VNC again, and probe anew after a while; @why is what happened to RDP. */
static char *fall_back(Switch *sw, const char *why, gint64 now)
{
    sw->status_stays = true;
    sw->probe_resume_at = now + SWITCH_PROBE_BACKOFF_MS * 1000LL;
    return g_strdup_printf("RDP %s — showing VNC", why);
}

char *switch_pending_failed(Switch *sw, const char *error, gint64 now)
{
    end_pending(sw);
    return fall_back(sw, error, now);
}

char *switch_pending_closed(Switch *sw, const char *error, gint64 now)
{
    end_pending(sw);
    g_autofree char *why =
        g_strdup_printf("failed: %s", error ? error : "the connection closed");
    return fall_back(sw, why, now);
}

char *switch_rdp_lost(Switch *sw, const char *error, gint64 now)
{
    g_autofree char *why =
        g_strdup_printf("connection lost%s%s", error ? ": " : "", error ? error : "");
    return fall_back(sw, why, now);
}

bool switch_status_stays(const Switch *sw)
{
    return sw->status_stays;
}

bool switch_probe_due(Switch *sw, gint64 now)
{
    if (!sw->probe_resume_at || now < sw->probe_resume_at)
        return false;
    sw->probe_resume_at = 0;
    return true;
}

const char *switch_agent_status(Switch *sw, SwitchRdpService agent, bool rdp_shown,
                                bool has_status)
{
    if (agent == sw->agent_shown || sw->pending || rdp_shown)
        return NULL;
    sw->agent_shown = agent;
    if (has_status)
        return NULL;
    if (agent == SWITCH_RDP_SERVICE_RUNNING)
        return "RDP service starting";
    if (agent == SWITCH_RDP_SERVICE_STOPPED)
        return "no RDP service running in the guest";
    return NULL;
}

/* --- a hung RDP server --- */

void switch_watch_init(SwitchWatch *wt, gint64 now, gint64 wall)
{
    *wt = (SwitchWatch){.heard = now, .heard_wall = wall};
}

SwitchWatchChange switch_watch_heard(SwitchWatch *wt, gint64 when, gint64 wall)
{
    if (when <= wt->heard)
        return SWITCH_WATCH_NONE;
    wt->heard = when;
    wt->heard_wall = wall;
    wt->asked = 0;
    wt->silent_probes = 0;
    if (!wt->hung_at)
        return SWITCH_WATCH_NONE;
    wt->hung_at = 0;
    return SWITCH_WATCH_BACK;
}

void switch_watch_probe_silent(SwitchWatch *wt, gint64 started)
{
    /* A probe older than the last sign of life says nothing about now. */
    if (started >= wt->heard)
        wt->silent_probes++;
}

static bool quiet_since(gint64 then, gint64 now)
{
    return (now - then) / 1000 >= SWITCH_WATCH_QUIET_MS;
}

bool switch_watch_ask(SwitchWatch *wt, gint64 now)
{
    if (!quiet_since(wt->heard, now) || (wt->asked && !quiet_since(wt->asked, now)))
        return false;
    wt->asked = now;
    return true;
}

bool switch_watch_probing(const SwitchWatch *wt, gint64 now)
{
    return wt->hung_at || quiet_since(wt->heard, now);
}

SwitchWatchChange switch_watch_check(SwitchWatch *wt, gint64 now)
{
    if (wt->hung_at || !wt->asked || (now - wt->heard) / 1000 < SWITCH_HANG_MS ||
        wt->silent_probes < SWITCH_HANG_PROBES)
        return SWITCH_WATCH_NONE;
    wt->hung_at = now;
    return SWITCH_WATCH_HUNG;
}

bool switch_watch_hung(const SwitchWatch *wt)
{
    return wt->hung_at != 0;
}

char *switch_watch_since(const SwitchWatch *wt)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(wt->heard_wall / G_USEC_PER_SEC);
    g_autofree char *hms = t ? g_date_time_format(t, "%H:%M:%S") : NULL;
    return g_strdup_printf("not answering since %s", hms ? hms : "?");
}

bool switch_watch_give_up(const SwitchWatch *wt, gint64 now)
{
    return wt->hung_at && (now - wt->hung_at) / 1000 >= SWITCH_HANG_GIVE_UP_MS;
}

char *switch_rdp_hung(Switch *sw, const SwitchWatch *wt, gint64 now)
{
    sw->pending = true;
    sw->pending_logon = true;
    sw->pending_complete_at = 0;
    sw->hung_since = now;
    sw->rdp_ready_at = now;
    sw->status_stays = true;
    sw->probe_resume_at = 0; /* the kept session tells when it is back */
    g_autofree char *why = switch_watch_since(wt);
    return g_strdup_printf("RDP %s — showing VNC", why);
}

bool switch_hung_kept(const Switch *sw)
{
    return sw->pending && sw->hung_since;
}

bool switch_hung_give_up(const Switch *sw, gint64 now)
{
    return switch_hung_kept(sw) && (now - sw->hung_since) / 1000 >= SWITCH_HANG_GIVE_UP_MS;
}
