/* The session switch's decisions (switch.h); window_switch.c acts on them. */
#include "ui/switch.h"

void switch_init(Switch *sw, bool shell)
{
    *sw = (Switch){.shell = shell};
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

bool switch_pending_ready(const Switch *sw, gint64 now, SwitchLookFunc look, void *data)
{
    if (!sw->pending || !sw->pending_complete_at)
        return false;
    gint64 waited = (now - sw->pending_complete_at) / 1000;
    if (waited >= SWITCH_MAX_WAIT_MS)
        return true;
    /* A session whose shell is one program (vmdesk app on xrdp) has no
     * login screen to skip: its first still, not black picture is it. */
    if (!sw->pending_logon && waited < SWITCH_NO_LOGON_MS && !sw->shell)
        return false;
    SwitchPicture pic = {0};
    look(data, &pic);
    return (now - pic.last_damage) / 1000 >= SWITCH_SETTLE_MS && !pic.all_black;
}

static void end_pending(Switch *sw)
{
    sw->pending = false;
    sw->pending_logon = false;
    sw->pending_complete_at = 0;
}

gint64 switch_swapped(Switch *sw, gint64 now)
{
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
