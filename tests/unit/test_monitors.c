/* The monitor layout a server gets (client/session/rdp/rdp_monitors.c):
 * whatever the host's monitors, the layout has its primary at 0,0, no
 * overlaps, every monitor sharing an edge with another (what FreeRDP 3
 * checks before it connects, and Windows needs), each monitor its own
 * pixel size and scale; a valid host layout keeps its shape; windows map
 * to their monitor both ways. */
#include "common/error.h"
#include "session/rdp/rdp_monitors.h"
#include "ui/monitors.h"

#include <glib.h>
#include <string.h>

/* Two monitors share an edge of at least one pixel. */
static bool touch(const RdpMonitor *a, const RdpMonitor *b)
{
    bool xs = a->rx < b->rx + b->rw && b->rx < a->rx + a->rw; /* spans overlap */
    bool ys = a->ry < b->ry + b->rh && b->ry < a->ry + a->rh;
    bool vedge = a->rx + a->rw == b->rx || b->rx + b->rw == a->rx;
    bool hedge = a->ry + a->rh == b->ry || b->ry + b->rh == a->ry;
    return (vedge && ys) || (hedge && xs);
}

static void check_valid(const RdpMonitor *m, int n)
{
    int primaries = 0;
    for (int i = 0; i < n; i++) {
        g_assert_cmpint(m[i].rw % 2, ==, 0);
        g_assert_cmpint(m[i].rw, >=, 200);
        g_assert_cmpint(m[i].rh, >=, 200);
        g_assert_cmpint(m[i].rw, <=, 8192);
        g_assert_cmpuint(m[i].desktop_scale, >=, 100);
        g_assert_cmpuint(m[i].desktop_scale, <=, 500);
        g_assert_true(m[i].device_scale == 100 || m[i].device_scale == 140 ||
                      m[i].device_scale == 180);
        if (m[i].rprimary) {
            primaries++;
            g_assert_cmpint(m[i].rx, ==, 0);
            g_assert_cmpint(m[i].ry, ==, 0);
        } else {
            g_assert_false(m[i].rx == 0 && m[i].ry == 0);
        }
        bool neighbour = n == 1;
        for (int j = 0; j < n; j++) {
            if (i == j)
                continue;
            bool over = m[i].rx < m[j].rx + m[j].rw && m[j].rx < m[i].rx + m[i].rw &&
                        m[i].ry < m[j].ry + m[j].rh && m[j].ry < m[i].ry + m[i].rh;
            if (over)
                g_error("monitors %d and %d overlap", i, j);
            neighbour |= touch(&m[i], &m[j]);
        }
        if (!neighbour)
            g_error("monitor %d has no neighbour", i);
    }
    g_assert_cmpint(primaries, ==, 1);
}

#define MON(X, Y, W, H) {.x = (X), .y = (Y), .w = (W), .h = (H)}

static void expect_at(const RdpMonitor *m, int rx, int ry, int rw, int rh)
{
    g_assert_cmpint(m->rx, ==, rx);
    g_assert_cmpint(m->ry, ==, ry);
    g_assert_cmpint(m->rw, ==, rw);
    g_assert_cmpint(m->rh, ==, rh);
}

static void test_valid_kept(void)
{
    /* Two side by side, a third below the second, offset. */
    RdpMonitor m[] = {MON(0, 0, 1920, 1080), MON(1920, 0, 2560, 1440),
                      MON(2200, 1440, 1280, 1024)};
    m[0].primary = true;
    rdp_monitors_layout(m, 3);
    check_valid(m, 3);
    expect_at(&m[0], 0, 0, 1920, 1080);
    expect_at(&m[1], 1920, 0, 2560, 1440);
    expect_at(&m[2], 2200, 1440, 1280, 1024);
}

static void test_gaps(void)
{
    /* 100 px apart, and a third far below and to the right. */
    RdpMonitor m[] = {MON(0, 0, 1920, 1080), MON(2020, 0, 1920, 1080),
                      MON(4500, 3000, 1280, 1024)};
    rdp_monitors_layout(m, 3);
    check_valid(m, 3);
    expect_at(&m[0], 0, 0, 1920, 1080);
    expect_at(&m[1], 1920, 0, 1920, 1080);
}

static void test_overlaps(void)
{
    /* Mirrored (the same place) and overlapping by 200 px. */
    RdpMonitor m[] = {MON(0, 0, 1920, 1080), MON(0, 0, 1920, 1080), MON(1720, 0, 1920, 1080)};
    m[0].primary = true;
    rdp_monitors_layout(m, 3);
    check_valid(m, 3);
    expect_at(&m[0], 0, 0, 1920, 1080);
    /* The overlapping one goes to the right of the primary. */
    expect_at(&m[2], 1920, 0, 1920, 1080);
}

static void test_mixed_scales(void)
{
    /* A desktop that places in logical units and sizes in pixels: a 4K
     * monitor at 200% is 1920x1080 logical, 3840x2160 pixels; with the
     * logical size as the place the pixel sizes would overlap. */
    RdpMonitor m[] = {MON(0, 0, 1920, 1080), MON(1920, 0, 1920, 1080)};
    m[0].primary = true;
    m[1].px_w = 3840;
    m[1].px_h = 2160;
    m[1].scale_pct = 200;
    m[0].scale_pct = 125;
    rdp_monitors_layout(m, 2);
    check_valid(m, 2);
    expect_at(&m[0], 0, 0, 1920, 1080);
    expect_at(&m[1], 1920, 0, 3840, 2160);
    g_assert_cmpuint(m[0].desktop_scale, ==, 125);
    g_assert_cmpuint(m[0].device_scale, ==, 140);
    g_assert_cmpuint(m[1].desktop_scale, ==, 200);
    g_assert_cmpuint(m[1].device_scale, ==, 180);
    /* And the other way round: the big one on the left, logical places. */
    RdpMonitor k[] = {MON(0, 0, 1920, 1080), MON(1920, 0, 1920, 1080)};
    k[0].px_w = 3840;
    k[0].px_h = 2160;
    k[1].primary = true;
    rdp_monitors_layout(k, 2);
    check_valid(k, 2);
    expect_at(&k[1], 0, 0, 1920, 1080);
    expect_at(&k[0], -3840, 0, 3840, 2160);
}

static void test_negative_origin(void)
{
    /* The host's primary at 0,0 with monitors left of and above it. */
    RdpMonitor m[] = {MON(-1280, 0, 1280, 1024), MON(0, 0, 1920, 1080), MON(0, -1080, 1920, 1080)};
    m[1].primary = true;
    rdp_monitors_layout(m, 3);
    check_valid(m, 3);
    expect_at(&m[1], 0, 0, 1920, 1080);
    expect_at(&m[0], -1280, 0, 1280, 1024);
    expect_at(&m[2], 0, -1080, 1920, 1080);
    int x, y, w, h;
    rdp_monitors_bounds(m, 3, &x, &y, &w, &h);
    g_assert_cmpint(x, ==, -1280);
    g_assert_cmpint(y, ==, -1080);
    g_assert_cmpint(w, ==, 3200);
    g_assert_cmpint(h, ==, 2160);
}

static void test_primary_not_at_origin(void)
{
    /* The primary is the right one: it goes to 0,0, the left one to -1920. */
    RdpMonitor m[] = {MON(0, 0, 1920, 1080), MON(1920, 200, 2560, 1440)};
    m[1].primary = true;
    rdp_monitors_layout(m, 2);
    check_valid(m, 2);
    expect_at(&m[1], 0, 0, 2560, 1440);
    expect_at(&m[0], -1920, -200, 1920, 1080);
    /* No primary marked and none at 0,0: the first. */
    RdpMonitor k[] = {MON(100, 100, 1024, 768), MON(1124, 100, 1024, 768)};
    rdp_monitors_layout(k, 2);
    check_valid(k, 2);
    g_assert_true(k[0].rprimary);
    expect_at(&k[1], 1024, 0, 1024, 768);
}

static void test_sizes_and_scales(void)
{
    /* Odd widths go even; tiny and huge monitors to the protocol's range. */
    RdpMonitor m[] = {MON(0, 0, 1367, 100), MON(1367, 0, 9000, 9000)};
    m[0].scale_pct = 90;
    m[1].scale_pct = 600;
    rdp_monitors_layout(m, 2);
    check_valid(m, 2);
    expect_at(&m[0], 0, 0, 1366, 200);
    g_assert_cmpint(m[1].rw, ==, 8192);
    g_assert_cmpint(m[1].rh, ==, 8192);
    g_assert_cmpuint(m[0].desktop_scale, ==, 100);
    g_assert_cmpuint(m[1].desktop_scale, ==, 500);
    /* Every scale a desktop reports is kept; the device scale is the
     * nearest of the three the protocol has. */
    const int pct[] = {100, 119, 120, 125, 140, 150, 159, 160, 175, 200, 300};
    const unsigned dev[] = {100, 100, 140, 140, 140, 140, 140, 180, 180, 180, 180};
    for (size_t i = 0; i < G_N_ELEMENTS(pct); i++) {
        g_assert_cmpuint(rdp_desktop_scale(pct[i]), ==, (unsigned)pct[i]);
        g_assert_cmpuint(rdp_device_scale(rdp_desktop_scale(pct[i])), ==, dev[i]);
    }
    g_assert_cmpuint(rdp_desktop_scale(0), ==, 100);
    /* The physical size: the monitor's own, else 96 dpi at its scale. */
    RdpMonitor p[] = {MON(0, 0, 1920, 1080)};
    p[0].scale_pct = 200;
    rdp_monitors_layout(p, 1);
    g_assert_cmpuint(p[0].phys_w, ==, 254);
    p[0].mm_w = 600;
    p[0].mm_h = 340;
    rdp_monitors_layout(p, 1);
    g_assert_cmpuint(p[0].phys_w, ==, 600);
    g_assert_cmpuint(p[0].phys_h, ==, 340);
}

/* Many random layouts: always valid. */
static void test_random(void)
{
    GRand *rand = g_rand_new_with_seed(18);
    for (int round = 0; round < 5000; round++) {
        int n = g_rand_int_range(rand, 1, RDP_MONITORS_MAX + 1);
        RdpMonitor m[RDP_MONITORS_MAX] = {0};
        for (int i = 0; i < n; i++) {
            m[i] = (RdpMonitor)MON(g_rand_int_range(rand, -5000, 5000),
                                   g_rand_int_range(rand, -5000, 5000),
                                   g_rand_int_range(rand, 100, 4000),
                                   g_rand_int_range(rand, 100, 3000));
            if (g_rand_boolean(rand)) {
                m[i].px_w = m[i].w * 2;
                m[i].px_h = m[i].h * 2;
            }
            m[i].scale_pct = g_rand_int_range(rand, 0, 600);
        }
        m[g_rand_int_range(rand, 0, n)].primary = g_rand_boolean(rand);
        rdp_monitors_layout(m, n);
        check_valid(m, n);
    }
    g_rand_free(rand);
}

static void test_windows_keep_their_monitor(void)
{
    /* Host: a gap of 100 px; the server's second monitor starts at 1920. */
    RdpMonitor m[] = {MON(0, 0, 1920, 1080), MON(2020, 0, 1920, 1080)};
    m[0].primary = true;
    rdp_monitors_layout(m, 2);
    int x = 2000, y = 100, w = 400, h = 300; /* on the server's second monitor */
    rdp_monitors_to_host(m, 2, &x, &y, &w, &h);
    g_assert_cmpint(x, ==, 2100);
    g_assert_cmpint(y, ==, 100);
    g_assert_cmpint(w, ==, 400);
    rdp_monitors_to_remote(m, 2, &x, &y, &w, &h);
    g_assert_cmpint(x, ==, 2000);
    g_assert_cmpint(y, ==, 100);
    /* Mostly on the primary: stays there. */
    x = 1600, y = 10, w = 400, h = 300;
    rdp_monitors_to_host(m, 2, &x, &y, &w, &h);
    g_assert_cmpint(x, ==, 1600);
    /* A monitor at 2x in logical units: places and sizes scale. */
    RdpMonitor k[] = {MON(0, 0, 1920, 1080), MON(1920, 0, 1920, 1080)};
    k[0].primary = true;
    k[1].px_w = 3840;
    k[1].px_h = 2160;
    rdp_monitors_layout(k, 2);
    x = 1920 + 800, y = 400, w = 1000, h = 600;
    rdp_monitors_to_host(k, 2, &x, &y, &w, &h);
    g_assert_cmpint(x, ==, 1920 + 400);
    g_assert_cmpint(y, ==, 200);
    g_assert_cmpint(w, ==, 500);
    g_assert_cmpint(h, ==, 300);
    g_assert_cmpint(rdp_monitors_find_remote(k, 2, -500, -500, 10, 10), ==, 0);
}

/* The host's side (ui/monitors.c): the scale rule and --monitors. */
static void test_scale_rule(void)
{
    /* The user's scale first, then the desktop's, then the density. */
    g_assert_cmpint(monitors_scale_pct(150, 200, 1920, 254), ==, 150);
    g_assert_cmpint(monitors_scale_pct(0, 200, 1920, 508), ==, 200);
    g_assert_cmpint(monitors_scale_pct(0, 100, 1920, 254), ==, 200); /* 192 dpi */
    g_assert_cmpint(monitors_scale_pct(0, 100, 1920, 508), ==, 100); /* 96 dpi */
    g_assert_cmpint(monitors_scale_pct(0, 100, 3840, 597), ==, 150); /* 27" 4K: 163 dpi */
    g_assert_cmpint(monitors_scale_pct(0, 100, 2560, 597), ==, 100); /* 27" 1440p: 109 dpi */
    g_assert_cmpint(monitors_scale_pct(0, 100, 1920, 0), ==, 100);   /* no physical size */
    g_assert_cmpint(monitors_scale_pct(0, 100, 8000, 100), ==, 500);
}

static void test_selection(void)
{
    guint32 mask = 0;
    g_assert_true(monitors_parse_selection("all", &mask, NULL));
    g_assert_cmphex(mask, ==, G_MAXUINT32);
    g_assert_true(monitors_parse_selection("1,3", &mask, NULL));
    g_assert_cmphex(mask, ==, 0x5);
    const char *bad[] = {"", "0", "17", "1,,2", "x", "1;2", "-1", "1,1", "2,1,2"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *err = NULL;
        g_assert_false(monitors_parse_selection(bad[i], &mask, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        g_error_free(err);
    }
    /* Keep 2 and 3 of three: the first kept becomes primary. */
    RdpMonitor m[] = {MON(0, 0, 1920, 1080), MON(1920, 0, 1920, 1080), MON(3840, 0, 1280, 1024)};
    m[0].primary = true;
    g_assert_cmpint(monitors_select(m, 3, 0x6, NULL), ==, 2);
    g_assert_cmpint(m[0].x, ==, 1920);
    g_assert_true(m[0].primary);
    g_assert_cmpint(m[1].x, ==, 3840);
    rdp_monitors_layout(m, 2);
    expect_at(&m[0], 0, 0, 1920, 1080);
    expect_at(&m[1], 1920, 0, 1280, 1024);
    /* A number beyond the monitors there are: an error naming it, the
     * monitors untouched. */
    GError *err = NULL;
    g_assert_cmpint(monitors_select(m, 2, 0x11, &err), ==, -1);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "no monitor 5; this desktop has 2"));
    g_clear_error(&err);
    g_assert_cmpint(m[0].x, ==, 1920);
    /* "all" keeps every one however many there are. */
    g_assert_cmpint(monitors_select(m, 2, G_MAXUINT32, NULL), ==, 2);
}

#define OUT(X, Y, PW, PH, S) {.x = (X), .y = (Y), .px_w = (PW), .px_h = (PH), .scale = (S)}

/* GNOME's default (mutter's physical layout mode): places in pixels, SDL's
 * sizes logical, so a 2x laptop panel (2560x1600) and a 1x screen right of
 * it leave a gap in SDL's displays; the outputs announced in another order.
 * Each display gets its own output: pixels, millimetres, scale; the
 * server's layout has them side by side at 200 and 100 %. */
static void test_outputs_physical_layout(void)
{
    RdpMonitor m[] = {MON(0, 0, 1280, 800), MON(2560, 0, 1920, 1080)};
    m[0].primary = true;
    WaylandOutput o[] = {OUT(2560, 0, 1920, 1080, 1), OUT(0, 0, 2560, 1600, 2)};
    o[0].mm_w = 527;
    o[0].mm_h = 296;
    int own[2];
    monitors_from_outputs(m, 2, o, 2, own);
    g_assert_cmpint(own[0], ==, 200);
    g_assert_cmpint(own[1], ==, 100);
    g_assert_cmpint(m[0].px_w, ==, 2560);
    g_assert_cmpint(m[0].px_h, ==, 1600);
    g_assert_cmpint(m[1].px_w, ==, 1920);
    g_assert_cmpint(m[1].mm_w, ==, 527);
    g_assert_cmpint(m[1].mm_h, ==, 296);
    g_assert_cmpint(m[0].mm_w, ==, 0);
    /* The rule: a 1x output stays 100 % (no density guessed on Wayland);
     * --scale wins over both. */
    for (int i = 0; i < 2; i++)
        m[i].scale_pct = monitors_scale_pct(0, own[i], 0, 0);
    g_assert_cmpint(m[0].scale_pct, ==, 200);
    g_assert_cmpint(m[1].scale_pct, ==, 100);
    g_assert_cmpint(monitors_scale_pct(150, own[0], 0, 0), ==, 150);
    rdp_monitors_layout(m, 2);
    check_valid(m, 2);
    expect_at(&m[0], 0, 0, 2560, 1600);
    expect_at(&m[1], 2560, 0, 1920, 1080);
    g_assert_cmpuint(m[0].desktop_scale, ==, 200);
    g_assert_cmpuint(m[0].device_scale, ==, 180);
    g_assert_cmpuint(m[1].desktop_scale, ==, 100);
    g_assert_cmpuint(m[1].device_scale, ==, 100);
}

/* Logical layout mode (xdg-output: SDL's places and sizes logical), the 1x
 * screen left of the 2x panel and lower. */
static void test_outputs_logical_layout(void)
{
    RdpMonitor m[] = {MON(0, 200, 1920, 1080), MON(1920, 0, 1280, 800)};
    WaylandOutput o[] = {OUT(0, 200, 1920, 1080, 1), OUT(1920, 0, 2560, 1600, 2)};
    int own[2];
    monitors_from_outputs(m, 2, o, 2, own);
    g_assert_cmpint(own[0], ==, 100);
    g_assert_cmpint(own[1], ==, 200);
    g_assert_cmpint(m[1].px_w, ==, 2560);
    g_assert_cmpint(m[0].px_w, ==, 1920);
}

/* A fractional scale (GNOME at 150 % with scale-monitor-framebuffer): the
 * output's wl_output.scale is 2 (rounded up), SDL's size the logical one
 * from xdg-output (2880x1800 / 1.5): matched by place all the same. */
static void test_outputs_fractional(void)
{
    RdpMonitor m[] = {MON(0, 0, 1920, 1200), MON(1920, 0, 1920, 1080)};
    WaylandOutput o[] = {OUT(1920, 0, 1920, 1080, 1), OUT(0, 0, 2880, 1800, 2)};
    int own[2];
    monitors_from_outputs(m, 2, o, 2, own);
    g_assert_cmpint(own[0], ==, 200);
    g_assert_cmpint(m[0].px_w, ==, 2880);
    g_assert_cmpint(own[1], ==, 100);
}

/* Mirrored outputs (same place and size): each display its own one;
 * exact size beats place alone; without a common place the largest
 * overlap, then the nearest; a display left without an output keeps the
 * old rule (own scale 0, no pixel size). */
static void test_outputs_matching(void)
{
    WaylandOutput mirror[] = {OUT(0, 0, 1920, 1080, 1), OUT(0, 0, 1920, 1080, 1)};
    RdpMonitor m[] = {MON(0, 0, 1920, 1080), MON(0, 0, 1920, 1080), MON(5000, 0, 800, 600)};
    int own[3];
    monitors_from_outputs(m, 3, mirror, 2, own);
    g_assert_cmpint(own[0], ==, 100);
    g_assert_cmpint(own[1], ==, 100);
    g_assert_cmpint(own[2], ==, 0);
    g_assert_cmpint(m[2].px_w, ==, 0);

    WaylandOutput o[] = {OUT(0, 0, 3840, 2160, 1), OUT(0, 0, 3840, 2160, 2),
                         OUT(3000, 0, 1920, 1080, 1), OUT(9000, 9000, 1024, 768, 3)};
    /* Same place as two; the size says the 2x one. */
    g_assert_cmpint(wayland_match_output(o, 4, NULL, 0, 0, 1920, 1080), ==, 1);
    /* Same place, no size fits: the first of them. */
    g_assert_cmpint(wayland_match_output(o, 4, NULL, 0, 0, 1000, 1000), ==, 0);
    /* No common place: overlaps the third most (the first's 1x rect too,
     * less). */
    g_assert_cmpint(wayland_match_output(o, 4, NULL, 3500, 10, 1000, 1000), ==, 2);
    /* Overlaps none: the nearest corner. */
    g_assert_cmpint(wayland_match_output(o, 4, NULL, 8000, 8000, 100, 100), ==, 3);
    bool taken[4] = {true, true, true, true};
    g_assert_cmpint(wayland_match_output(o, 4, taken, 0, 0, 1920, 1080), ==, -1);
    taken[3] = false;
    g_assert_cmpint(wayland_match_output(o, 4, taken, 0, 0, 1920, 1080), ==, 3);
    g_assert_cmpint(wayland_match_output(o, 0, NULL, 0, 0, 1920, 1080), ==, -1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/monitors/valid-kept", test_valid_kept);
    g_test_add_func("/monitors/gaps", test_gaps);
    g_test_add_func("/monitors/overlaps", test_overlaps);
    g_test_add_func("/monitors/mixed-scales", test_mixed_scales);
    g_test_add_func("/monitors/negative-origin", test_negative_origin);
    g_test_add_func("/monitors/primary-not-at-origin", test_primary_not_at_origin);
    g_test_add_func("/monitors/sizes-and-scales", test_sizes_and_scales);
    g_test_add_func("/monitors/random", test_random);
    g_test_add_func("/monitors/windows-keep-their-monitor", test_windows_keep_their_monitor);
    g_test_add_func("/monitors/scale-rule", test_scale_rule);
    g_test_add_func("/monitors/selection", test_selection);
    g_test_add_func("/monitors/outputs-physical-layout", test_outputs_physical_layout);
    g_test_add_func("/monitors/outputs-logical-layout", test_outputs_logical_layout);
    g_test_add_func("/monitors/outputs-fractional", test_outputs_fractional);
    g_test_add_func("/monitors/outputs-matching", test_outputs_matching);
    return g_test_run();
}
