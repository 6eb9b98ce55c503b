/* The monitor layout an RDP server gets (TS_UD_CS_MONITOR and _EX at
 * connect, the display control channel's monitor layout PDU later), made
 * from the host's monitors so that no host layout aborts a connection:
 * FreeRDP 3 refuses a multi-monitor layout with gaps, overlaps, or a primary
 * monitor not at 0,0 ("local layout has gaps or overlapping areas"), and
 * host layouts have all three (monitors placed apart on purpose, mirrored
 * ones, and above all mixed scales: a desktop that places monitors in
 * logical units but gives their sizes in pixels leaves gaps or overlaps
 * where the scales differ). Pure code: no FreeRDP, no SDL; any thread. */
#pragma once

#include <stdbool.h>

/* The protocol's limit (MS-RDPBCGR TS_UD_CS_MONITOR, MS-RDPEDISP). */
#define RDP_MONITORS_MAX 16

typedef struct {
    /* The host's monitor, filled by the caller: */
    int x, y, w, h;       /* its place on the host's desktop, in the desktop's units */
    int px_w, px_h;       /* its size in pixels (w x h times its scale where the
                           * desktop counts in logical units); 0: w x h */
    int scale_pct;        /* the desktop's scale for it, percent; 0: 100 */
    int mm_w, mm_h;       /* its physical size in mm; 0: unknown */
    bool primary;
    /* The server's monitor, filled by rdp_monitors_layout: */
    int rx, ry, rw, rh;   /* on the server's desktop; the primary at 0,0 */
    unsigned desktop_scale;  /* desktopScaleFactor, 100..500 */
    unsigned device_scale;   /* deviceScaleFactor: 100, 140 or 180 */
    unsigned phys_w, phys_h; /* physical size sent, mm (10..10000) */
    bool rprimary;           /* exactly one monitor of the layout */
} RdpMonitor;

/* The scale rule (docs/devices.md, "Scales"): the desktop scale factor is
 * @pct itself within the protocol's 100..500 (0: 100); the device scale
 * factor, which the protocol allows only as 100, 140 or 180, is the one
 * nearest @pct. */
unsigned rdp_desktop_scale(int pct);
unsigned rdp_device_scale(unsigned pct);

/* Fill the server's half of @m[0..@n) (@n at most RDP_MONITORS_MAX) from the
 * host's half. Each monitor keeps its pixel size (even width, 200..8192 each
 * way) and scale; the primary (the first marked, else the one at the host's
 * 0,0, else the first) goes to 0,0; every other monitor is placed against
 * the monitor nearest to it on the host, on the side where it is there,
 * keeping its offset along that side, and pushed further out of any monitor
 * it would cover. The result has no overlaps, every monitor shares an edge
 * with another, and a host layout that had neither keeps its shape. */
void rdp_monitors_layout(RdpMonitor *m, int n);

/* The monitor of the server's desktop that @x,@y @w x @h lies on most
 * (largest overlap; nearest when it overlaps none): where a window belongs. */
int rdp_monitors_find_remote(const RdpMonitor *m, int n, int x, int y, int w, int h);
/* ... and of the host's desktop. */
int rdp_monitors_find_host(const RdpMonitor *m, int n, int x, int y, int w, int h);

/* Move a rectangle between the server's desktop and the host's, through
 * the monitor it lies on, so a window stays on its monitor whatever the
 * layout moved. */
void rdp_monitors_to_host(const RdpMonitor *m, int n, int *x, int *y, int *w, int *h);
void rdp_monitors_to_remote(const RdpMonitor *m, int n, int *x, int *y, int *w, int *h);

/* The bounding box of the server's layout (its desktop: the framebuffer). */
void rdp_monitors_bounds(const RdpMonitor *m, int n, int *x, int *y, int *w, int *h);
