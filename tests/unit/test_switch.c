/* unit-switch: the session switch's decisions (client/ui/switch.c), each
 * rule on made-up timestamps: no SDL, no session, no server. */
#include "ui/switch.h"

#include <glib.h>

#define MS 1000LL /* timestamps are microseconds */
#define T0 (1000000 * MS) /* any monotonic time */

/* The pending picture as switch_pending_ready sees it. */
typedef struct {
    SwitchPicture pic;
    int looks;
} Picture;

static void look(void *data, SwitchPicture *out)
{
    Picture *p = data;
    p->looks++;
    *out = p->pic;
}

/* A switch with RDP pending since T0 and its first complete picture at
 * T0 + 1 s (returned). */
static gint64 pending_with_picture(Switch *sw, bool shell)
{
    switch_init(sw, shell, false);
    g_assert_true(switch_rdp_answered(sw, false, T0));
    gint64 complete = T0 + 1000 * MS;
    switch_pending_picture(sw, true, complete);
    return complete;
}

static void test_nothing_pending(void)
{
    Switch sw;
    switch_init(&sw, false, false);
    Picture p = {.pic = {.last_damage = 0}};
    g_assert_false(switch_pending_ready(&sw, T0 + 60000 * MS, look, &p));
    g_assert_cmpint(p.looks, ==, 0);
    g_assert_false(switch_status_stays(&sw));
    g_assert_false(switch_probe_due(&sw, T0));
}

/* Until every pixel has arrived there is nothing to show, however long. */
static void test_incomplete_picture(void)
{
    Switch sw;
    switch_init(&sw, false, false);
    g_assert_true(switch_rdp_answered(&sw, false, T0));
    switch_pending_logon(&sw);
    switch_pending_picture(&sw, false, T0 + 10 * MS);
    Picture p = {.pic = {.last_damage = T0}};
    g_assert_false(switch_pending_ready(&sw, T0 + 60000 * MS, look, &p));
    g_assert_cmpint(p.looks, ==, 0);
    /* The clock starts at the first complete picture, not a later one. */
    switch_pending_picture(&sw, true, T0 + 100 * MS);
    switch_pending_picture(&sw, true, T0 + 20000 * MS);
    g_assert_true(switch_pending_ready(&sw, T0 + 100 * MS + SWITCH_MAX_WAIT_MS * MS, look, &p));
}

/* Swap only on a still, not black picture of a session that is up. */
static void test_still_non_black_logged_on(void)
{
    Switch sw;
    gint64 c = pending_with_picture(&sw, false);
    switch_pending_logon(&sw);
    gint64 now = c + 2000 * MS;
    Picture p = {.pic = {.last_damage = now - (SWITCH_SETTLE_MS - 1) * MS}};
    g_assert_false(switch_pending_ready(&sw, now, look, &p)); /* not still long enough */
    p.pic.last_damage = now - SWITCH_SETTLE_MS * MS;
    p.pic.all_black = true;
    g_assert_false(switch_pending_ready(&sw, now, look, &p)); /* still, but black */
    p.pic.all_black = false;
    g_assert_true(switch_pending_ready(&sw, now, look, &p));
    g_assert_cmpint(p.looks, ==, 3);
}

/* A picture that keeps changing is never taken before the last resort. */
static void test_no_swap_while_changing(void)
{
    Switch sw;
    gint64 c = pending_with_picture(&sw, false);
    switch_pending_logon(&sw);
    Picture p = {0};
    for (gint64 t = c; t < c + SWITCH_MAX_WAIT_MS * MS; t += 100 * MS) {
        p.pic.last_damage = t - 100 * MS; /* changed 100 ms ago, every time */
        g_assert_false(switch_pending_ready(&sw, t, look, &p));
    }
    /* It settles: shown. */
    gint64 t = c + 6000 * MS;
    p.pic.last_damage = t - 400 * MS;
    g_assert_true(switch_pending_ready(&sw, t, look, &p));
}

/* Before the logon notification the picture is the server's login or
 * progress screen: waited past, SWITCH_NO_LOGON_MS at most. */
static void test_logon_wait_and_timeout(void)
{
    Switch sw;
    gint64 c = pending_with_picture(&sw, false);
    Picture p = {.pic = {.last_damage = c}};
    g_assert_false(switch_pending_ready(&sw, c + (SWITCH_NO_LOGON_MS - 1) * MS, look, &p));
    g_assert_cmpint(p.looks, ==, 0); /* not even looked at */
    /* A server that never says it: shown after the wait, when still and not black. */
    g_assert_true(switch_pending_ready(&sw, c + SWITCH_NO_LOGON_MS * MS, look, &p));
    p.pic.all_black = true;
    g_assert_false(switch_pending_ready(&sw, c + SWITCH_NO_LOGON_MS * MS, look, &p));

    /* The notification ends the wait at once. */
    c = pending_with_picture(&sw, false);
    switch_pending_logon(&sw);
    p = (Picture){.pic = {.last_damage = c}};
    g_assert_true(switch_pending_ready(&sw, c + SWITCH_SETTLE_MS * MS, look, &p));

    /* A session whose shell is one program has no login screen. */
    c = pending_with_picture(&sw, true);
    g_assert_true(switch_pending_ready(&sw, c + SWITCH_SETTLE_MS * MS, look, &p));
}

/* A server that never sends the notification (xrdp on a Linux guest):
 * its first still, not black picture is shown at once, and for
 * SWITCH_NO_LOGON_MS after the swap its all-black pictures are held back
 * (xrdp's session goes black between the background and the desktop). */
static void test_no_logon_notice(void)
{
    Switch sw;
    switch_init(&sw, false, true);
    g_assert_true(switch_rdp_answered(&sw, false, T0));
    gint64 c = T0 + 1000 * MS;
    switch_pending_picture(&sw, true, c);
    Picture p = {.pic = {.last_damage = c, .all_black = true}};
    g_assert_false(switch_pending_ready(&sw, c + SWITCH_SETTLE_MS * MS, look, &p));
    p.pic.all_black = false;
    g_assert_false(switch_pending_ready(&sw, c + (SWITCH_SETTLE_MS - 1) * MS, look, &p));
    gint64 swap = c + SWITCH_SETTLE_MS * MS;
    g_assert_true(switch_pending_ready(&sw, swap, look, &p));
    g_assert_false(switch_hold_black(&sw, swap));
    g_assert_cmpint(switch_swapped(&sw, swap), ==, 1000 + SWITCH_SETTLE_MS);
    g_assert_true(switch_hold_black(&sw, swap));
    g_assert_true(switch_hold_black(&sw, swap + (SWITCH_NO_LOGON_MS - 1) * MS));
    g_assert_false(switch_hold_black(&sw, swap + SWITCH_NO_LOGON_MS * MS));

    /* With a notification after all, nothing is held back. */
    g_assert_true(switch_rdp_answered(&sw, false, T0));
    switch_pending_picture(&sw, true, c);
    switch_pending_logon(&sw);
    g_assert_true(switch_pending_ready(&sw, swap, look, &p));
    switch_swapped(&sw, swap);
    g_assert_false(switch_hold_black(&sw, swap));

    /* Other servers: nothing held after their swap. */
    c = pending_with_picture(&sw, false);
    switch_swapped(&sw, c + SWITCH_NO_LOGON_MS * MS);
    g_assert_false(switch_hold_black(&sw, c + SWITCH_NO_LOGON_MS * MS));
}

/* xrdp: a lit picture (a painted background or desktop, not a black root
 * or a repaint half done) need only be still for SWITCH_SETTLE_LIT_MS; one
 * less lit for SWITCH_SETTLE_MS; other servers always SWITCH_SETTLE_MS. The
 * main loop is told how long the stillness still has to last. */
static void test_lit_settles_sooner(void)
{
    Switch sw;
    switch_init(&sw, false, true);
    SwitchPicture nothing = {.lit = 1.0};
    g_assert_cmpint(switch_pending_settle_left(&sw, T0, &nothing), ==, -1);
    g_assert_true(switch_rdp_answered(&sw, false, T0));
    g_assert_cmpint(switch_pending_settle_left(&sw, T0, &nothing), ==, -1); /* no picture */
    gint64 c = T0 + 1000 * MS;
    switch_pending_picture(&sw, true, c);
    Picture p = {.pic = {.last_damage = c, .lit = SWITCH_SETTLE_LIT_SHARE}};
    g_assert_cmpint(switch_pending_settle_left(&sw, c, &p.pic), ==, SWITCH_SETTLE_LIT_MS);
    g_assert_cmpint(switch_pending_settle_left(&sw, c + 40 * MS, &p.pic), ==,
                    SWITCH_SETTLE_LIT_MS - 40);
    g_assert_false(switch_pending_ready(&sw, c + (SWITCH_SETTLE_LIT_MS - 1) * MS, look, &p));
    g_assert_true(switch_pending_ready(&sw, c + SWITCH_SETTLE_LIT_MS * MS, look, &p));
    g_assert_cmpint(switch_pending_settle_left(&sw, c + SWITCH_SETTLE_LIT_MS * MS, &p.pic), ==,
                    0);
    /* Strips of a repaint: less lit, the whole wait. */
    p.pic.lit = SWITCH_SETTLE_LIT_SHARE - 0.01;
    g_assert_false(switch_pending_ready(&sw, c + SWITCH_SETTLE_LIT_MS * MS, look, &p));
    g_assert_cmpint(switch_pending_settle_left(&sw, c + SWITCH_SETTLE_LIT_MS * MS, &p.pic), ==,
                    SWITCH_SETTLE_MS - SWITCH_SETTLE_LIT_MS);
    g_assert_true(switch_pending_ready(&sw, c + SWITCH_SETTLE_MS * MS, look, &p));
    /* All black: no wait that stillness would end. */
    p.pic.all_black = true;
    g_assert_cmpint(switch_pending_settle_left(&sw, c, &p.pic), ==, -1);

    /* A server that sends the notification: the whole wait, lit or not,
     * and none told before the notification. */
    c = pending_with_picture(&sw, false);
    p = (Picture){.pic = {.last_damage = c, .lit = 1.0}};
    g_assert_cmpint(switch_pending_settle_left(&sw, c, &p.pic), ==, -1);
    switch_pending_logon(&sw);
    g_assert_cmpint(switch_pending_settle_left(&sw, c, &p.pic), ==, SWITCH_SETTLE_MS);
    g_assert_false(switch_pending_ready(&sw, c + SWITCH_SETTLE_LIT_MS * MS, look, &p));
    g_assert_true(switch_pending_ready(&sw, c + SWITCH_SETTLE_MS * MS, look, &p));
}

/* Nothing waits longer than SWITCH_MAX_WAIT_MS after the first complete
 * picture: black or changing, it is shown then. */
static void test_max_wait(void)
{
    Switch sw;
    gint64 c = pending_with_picture(&sw, false);
    gint64 now = c + SWITCH_MAX_WAIT_MS * MS;
    Picture p = {.pic = {.last_damage = now, .all_black = true}};
    g_assert_false(switch_pending_ready(&sw, now - 1 * MS, look, &p));
    g_assert_true(switch_pending_ready(&sw, now, look, &p));
}

static void test_swapped(void)
{
    Switch sw;
    gint64 c = pending_with_picture(&sw, false);
    g_assert_cmpint(switch_swapped(&sw, c + 2500 * MS), ==, 3500);
    /* Nothing pending any more. */
    Picture p = {0};
    g_assert_false(switch_pending_ready(&sw, c + 60000 * MS, look, &p));
    g_assert_false(switch_status_stays(&sw));
    g_assert_false(switch_probe_due(&sw, c + 60000 * MS));
}

/* A window that is closing starts nothing. */
static void test_answered_while_closing(void)
{
    Switch sw;
    switch_init(&sw, false, false);
    g_assert_false(switch_rdp_answered(&sw, true, T0));
    switch_pending_picture(&sw, true, T0);
    switch_pending_logon(&sw);
    Picture p = {0};
    g_assert_false(switch_pending_ready(&sw, T0 + 60000 * MS, look, &p));
}

/* The RDP session on screen drops: VNC with the reason, which stays, and
 * the probe starts over SWITCH_PROBE_BACKOFF_MS later, once. */
static void test_rdp_drop(void)
{
    Switch sw;
    gint64 c = pending_with_picture(&sw, false);
    switch_swapped(&sw, c);
    gint64 t = c + 60000 * MS;
    g_autofree char *msg = switch_rdp_lost(&sw, "the server closed the connection", t);
    g_assert_cmpstr(msg, ==, "RDP connection lost: the server closed the connection — showing VNC");
    g_assert_true(switch_status_stays(&sw));
    g_assert_false(switch_probe_due(&sw, t));
    g_assert_false(switch_probe_due(&sw, t + (SWITCH_PROBE_BACKOFF_MS - 1) * MS));
    g_assert_true(switch_probe_due(&sw, t + SWITCH_PROBE_BACKOFF_MS * MS));
    g_assert_false(switch_probe_due(&sw, t + 2 * SWITCH_PROBE_BACKOFF_MS * MS));
    g_autofree char *plain = switch_rdp_lost(&sw, NULL, t);
    g_assert_cmpstr(plain, ==, "RDP connection lost — showing VNC");
    /* RDP back on screen: the reason goes. */
    g_assert_true(switch_rdp_answered(&sw, false, t + 5000 * MS));
    g_assert_true(switch_status_stays(&sw));
    switch_swapped(&sw, t + 6000 * MS);
    g_assert_false(switch_status_stays(&sw));
}

/* The pending session fails before it is shown: nothing pending, VNC stays
 * with the reason, the probe starts over. */
static void test_pending_failure(void)
{
    Switch sw;
    gint64 c = pending_with_picture(&sw, false);
    switch_pending_logon(&sw);
    gint64 t = c + 100 * MS;
    g_autofree char *msg = switch_pending_closed(&sw, "TLS handshake failed", t);
    g_assert_cmpstr(msg, ==, "RDP failed: TLS handshake failed — showing VNC");
    g_assert_true(switch_status_stays(&sw));
    Picture p = {0};
    g_assert_false(switch_pending_ready(&sw, t + 60000 * MS, look, &p));
    g_assert_true(switch_probe_due(&sw, t + SWITCH_PROBE_BACKOFF_MS * MS));

    /* The next attempt starts from nothing: no logon, no picture yet. */
    g_assert_true(switch_rdp_answered(&sw, false, t + 4000 * MS));
    switch_pending_picture(&sw, true, t + 5000 * MS);
    p.pic.last_damage = t;
    g_assert_false(switch_pending_ready(&sw, t + 5000 * MS + SWITCH_SETTLE_MS * MS, look, &p));
    g_autofree char *closed = switch_pending_closed(&sw, NULL, t + 6000 * MS);
    g_assert_cmpstr(closed, ==, "RDP failed: the connection closed — showing VNC");

    /* One that could not even start. */
    g_assert_true(switch_rdp_answered(&sw, false, t + 10000 * MS));
    g_autofree char *failed = switch_pending_failed(&sw, "cannot create a thread", t + 10000 * MS);
    g_assert_cmpstr(failed, ==, "RDP cannot create a thread — showing VNC");
    g_assert_false(switch_pending_ready(&sw, t + 60000 * MS, look, &p));
    g_assert_false(switch_probe_due(&sw, t + 10000 * MS));
    g_assert_true(switch_probe_due(&sw, t + (10000 + SWITCH_PROBE_BACKOFF_MS) * MS));
}

/* What the guest agent says shows in the title while VNC is on screen and
 * the title says nothing else; each answer once. */
static void test_agent_status(void)
{
    Switch sw;
    switch_init(&sw, false, false);
    g_assert_null(switch_agent_status(&sw, SWITCH_RDP_SERVICE_UNKNOWN, false, false));
    g_assert_cmpstr(switch_agent_status(&sw, SWITCH_RDP_SERVICE_RUNNING, false, false), ==,
                    "RDP service starting");
    g_assert_null(switch_agent_status(&sw, SWITCH_RDP_SERVICE_RUNNING, false, false));
    g_assert_cmpstr(switch_agent_status(&sw, SWITCH_RDP_SERVICE_STOPPED, false, false), ==,
                    "no RDP service running in the guest");
    /* Another status in the title: not replaced, and the answer is taken. */
    g_assert_null(switch_agent_status(&sw, SWITCH_RDP_SERVICE_RUNNING, false, true));
    g_assert_null(switch_agent_status(&sw, SWITCH_RDP_SERVICE_RUNNING, false, false));
    /* RDP on screen or pending: the agent's answer waits. */
    g_assert_null(switch_agent_status(&sw, SWITCH_RDP_SERVICE_STOPPED, true, false));
    g_assert_true(switch_rdp_answered(&sw, false, T0));
    g_assert_null(switch_agent_status(&sw, SWITCH_RDP_SERVICE_STOPPED, false, false));
    g_free(switch_pending_closed(&sw, NULL, T0));
    g_assert_cmpstr(switch_agent_status(&sw, SWITCH_RDP_SERVICE_STOPPED, false, false), ==,
                    "no RDP service running in the guest");
}

/* --- a hung RDP server --- */

/* 12:03:10 UTC, in µs of real time (the tests run with TZ=UTC). */
#define WALL0 ((gint64)(12 * 3600 + 3 * 60 + 10) * G_USEC_PER_SEC)

/* A still desktop on a working server: asked to repaint after
 * SWITCH_WATCH_QUIET_MS, once per that much, and its answer (pixels) keeps
 * it from ever counting as hung, however long it stays still. */
static void test_watch_still_desktop(void)
{
    SwitchWatch wt;
    switch_watch_init(&wt, T0, WALL0);
    g_assert_false(switch_watch_ask(&wt, T0 + (SWITCH_WATCH_QUIET_MS - 1) * MS));
    g_assert_false(switch_watch_probing(&wt, T0 + (SWITCH_WATCH_QUIET_MS - 1) * MS));
    gint64 t = T0 + SWITCH_WATCH_QUIET_MS * MS;
    g_assert_true(switch_watch_ask(&wt, t));
    g_assert_false(switch_watch_ask(&wt, t + 100 * MS)); /* asked already */
    g_assert_true(switch_watch_probing(&wt, t));
    for (int i = 0; i < 100; i++) {
        /* Its repaint arrives 50 ms after each question. */
        g_assert_cmpint(switch_watch_heard(&wt, t + 50 * MS, WALL0), ==, SWITCH_WATCH_NONE);
        g_assert_false(switch_watch_probing(&wt, t + 60 * MS));
        t += SWITCH_WATCH_QUIET_MS * MS + 50 * MS;
        g_assert_cmpint(switch_watch_check(&wt, t), ==, SWITCH_WATCH_NONE);
        g_assert_true(switch_watch_ask(&wt, t));
    }
    g_assert_false(switch_watch_hung(&wt));
}

/* A server that ignores repaint requests but answers the probe (or refuses
 * a second connection: a reply too) is not hung. */
static void test_watch_probe_answers(void)
{
    SwitchWatch wt;
    switch_watch_init(&wt, T0, WALL0);
    gint64 t = T0;
    for (int i = 0; i < 60; i++) {
        t += 1000 * MS;
        switch_watch_ask(&wt, t);
        if (switch_watch_probing(&wt, t))
            switch_watch_heard(&wt, t + 10 * MS, WALL0); /* the probe's reply */
        g_assert_cmpint(switch_watch_check(&wt, t + 20 * MS), ==, SWITCH_WATCH_NONE);
    }
}

/* Neither answers: hung once SWITCH_HANG_MS passed since the last sign of
 * life with the session asked and SWITCH_HANG_PROBES probes silent; said
 * once; the title names the last sign of life; back at the first answer. */
static void test_watch_hang_and_back(void)
{
    SwitchWatch wt;
    switch_watch_init(&wt, T0, WALL0);
    gint64 t = T0 + SWITCH_WATCH_QUIET_MS * MS;
    g_assert_true(switch_watch_ask(&wt, t));
    /* Silence alone, without the probe's verdict, is not enough. */
    gint64 late = T0 + SWITCH_HANG_MS * MS;
    g_assert_cmpint(switch_watch_check(&wt, late), ==, SWITCH_WATCH_NONE);
    for (int i = 0; i < SWITCH_HANG_PROBES - 1; i++)
        switch_watch_probe_silent(&wt, t + i * SWITCH_WATCH_PROBE_MS * MS);
    g_assert_cmpint(switch_watch_check(&wt, late), ==, SWITCH_WATCH_NONE);
    switch_watch_probe_silent(&wt, t + SWITCH_HANG_PROBES * SWITCH_WATCH_PROBE_MS * MS);
    /* ... nor the probes without SWITCH_HANG_MS of silence. */
    g_assert_cmpint(switch_watch_check(&wt, late - 1 * MS), ==, SWITCH_WATCH_NONE);
    g_assert_cmpint(switch_watch_check(&wt, late), ==, SWITCH_WATCH_HUNG);
    g_assert_cmpint(switch_watch_check(&wt, late + 1000 * MS), ==, SWITCH_WATCH_NONE);
    g_assert_true(switch_watch_hung(&wt));
    g_assert_true(switch_watch_probing(&wt, late)); /* to see it come back */
    g_autofree char *since = switch_watch_since(&wt);
    g_assert_cmpstr(since, ==, "not answering since 12:03:10");
    /* RemoteApp gives up SWITCH_HANG_GIVE_UP_MS after finding it hung. */
    g_assert_false(switch_watch_give_up(&wt, late + (SWITCH_HANG_GIVE_UP_MS - 1) * MS));
    g_assert_true(switch_watch_give_up(&wt, late + SWITCH_HANG_GIVE_UP_MS * MS));
    /* Old news changes nothing; the first new answer ends the hang. */
    g_assert_cmpint(switch_watch_heard(&wt, T0 - 1 * MS, WALL0), ==, SWITCH_WATCH_NONE);
    g_assert_cmpint(switch_watch_heard(&wt, late + 2000 * MS, WALL0 + 7 * G_USEC_PER_SEC), ==,
                    SWITCH_WATCH_BACK);
    g_assert_false(switch_watch_hung(&wt));
    g_assert_false(switch_watch_give_up(&wt, late + SWITCH_HANG_GIVE_UP_MS * 2 * MS));
    g_assert_cmpint(switch_watch_heard(&wt, late + 3000 * MS, WALL0), ==, SWITCH_WATCH_NONE);
}

/* Probes that started before the last sign of life say nothing about now. */
static void test_watch_old_probes(void)
{
    SwitchWatch wt;
    switch_watch_init(&wt, T0, WALL0);
    gint64 t = T0 + 10000 * MS;
    switch_watch_heard(&wt, t, WALL0);
    for (int i = 0; i < 5; i++)
        switch_watch_probe_silent(&wt, t - 1 * MS);
    gint64 late = t + 60000 * MS;
    g_assert_true(switch_watch_ask(&wt, late - 10000 * MS));
    g_assert_cmpint(switch_watch_check(&wt, late), ==, SWITCH_WATCH_NONE);
    /* ... and the session never asked: no verdict either. */
    SwitchWatch quiet;
    switch_watch_init(&quiet, T0, WALL0);
    for (int i = 0; i < 5; i++)
        switch_watch_probe_silent(&quiet, T0 + i * MS);
    g_assert_cmpint(switch_watch_check(&quiet, T0 + 60000 * MS), ==, SWITCH_WATCH_NONE);
}

/* The desktop window keeps a hung session behind VNC, as the pending one:
 * the reason stays in the title, the probe stays off, and it goes on screen
 * again once it sent new pixels that settled; old pixels, however still,
 * never bring it back. After SWITCH_HANG_GIVE_UP_MS it is given up. */
static void test_rdp_hung(void)
{
    Switch sw;
    gint64 c = pending_with_picture(&sw, false);
    switch_swapped(&sw, c);
    SwitchWatch wt;
    switch_watch_init(&wt, c, WALL0);
    gint64 t = c + 30000 * MS;
    g_autofree char *msg = switch_rdp_hung(&sw, &wt, t);
    g_assert_cmpstr(msg, ==, "RDP not answering since 12:03:10 — showing VNC");
    g_assert_true(switch_hung_kept(&sw));
    g_assert_true(switch_status_stays(&sw));
    g_assert_false(switch_probe_due(&sw, t + 60000 * MS));
    /* The last pixels before the hang, however long ago: not back. */
    Picture p = {.pic = {.last_damage = t - 5000 * MS}};
    g_assert_false(switch_pending_ready(&sw, t + 60000 * MS, look, &p));
    /* New pixels: back once they settled, not black. */
    gint64 back = t + 70000 * MS;
    p.pic.last_damage = back;
    g_assert_false(switch_pending_ready(&sw, back + (SWITCH_SETTLE_MS - 1) * MS, look, &p));
    p.pic.all_black = true;
    g_assert_false(switch_pending_ready(&sw, back + SWITCH_SETTLE_MS * MS, look, &p));
    p.pic.all_black = false;
    g_assert_true(switch_pending_ready(&sw, back + SWITCH_SETTLE_MS * MS, look, &p));
    g_assert_false(switch_hung_give_up(&sw, t + (SWITCH_HANG_GIVE_UP_MS - 1) * MS));
    g_assert_true(switch_hung_give_up(&sw, t + SWITCH_HANG_GIVE_UP_MS * MS));
    gint64 ms = switch_swapped(&sw, back + SWITCH_SETTLE_MS * MS);
    g_assert_cmpint(ms, ==, 70000 + SWITCH_SETTLE_MS);
    g_assert_false(switch_hung_kept(&sw));
    g_assert_false(switch_status_stays(&sw));

    /* Hung again and never back: given up like a failed session; the probe
     * starts over and the next session is an ordinary one. */
    gint64 t2 = back + 100000 * MS;
    g_free(switch_rdp_hung(&sw, &wt, t2));
    gint64 gone = t2 + SWITCH_HANG_GIVE_UP_MS * MS;
    g_assert_true(switch_hung_give_up(&sw, gone));
    g_free(switch_pending_failed(&sw, "not answering", gone));
    g_assert_false(switch_hung_kept(&sw));
    g_assert_false(switch_hung_give_up(&sw, gone + 1000000 * MS));
    g_assert_true(switch_probe_due(&sw, gone + SWITCH_PROBE_BACKOFF_MS * MS));
    g_assert_true(switch_rdp_answered(&sw, false, gone + 5000 * MS));
    p.pic.last_damage = gone;
    g_assert_false(switch_pending_ready(&sw, gone + 6000 * MS, look, &p)); /* no picture yet */
}

int main(int argc, char **argv)
{
    g_setenv("TZ", "UTC", TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/switch/nothing-pending", test_nothing_pending);
    g_test_add_func("/switch/incomplete-picture", test_incomplete_picture);
    g_test_add_func("/switch/still-non-black-logged-on", test_still_non_black_logged_on);
    g_test_add_func("/switch/no-swap-while-changing", test_no_swap_while_changing);
    g_test_add_func("/switch/logon-wait-and-timeout", test_logon_wait_and_timeout);
    g_test_add_func("/switch/no-logon-notice", test_no_logon_notice);
    g_test_add_func("/switch/lit-settles-sooner", test_lit_settles_sooner);
    g_test_add_func("/switch/max-wait", test_max_wait);
    g_test_add_func("/switch/swapped", test_swapped);
    g_test_add_func("/switch/answered-while-closing", test_answered_while_closing);
    g_test_add_func("/switch/rdp-drop", test_rdp_drop);
    g_test_add_func("/switch/pending-failure", test_pending_failure);
    g_test_add_func("/switch/agent-status", test_agent_status);
    g_test_add_func("/switch/watch-still-desktop", test_watch_still_desktop);
    g_test_add_func("/switch/watch-probe-answers", test_watch_probe_answers);
    g_test_add_func("/switch/watch-hang-and-back", test_watch_hang_and_back);
    g_test_add_func("/switch/watch-old-probes", test_watch_old_probes);
    g_test_add_func("/switch/rdp-hung", test_rdp_hung);
    return g_test_run();
}
