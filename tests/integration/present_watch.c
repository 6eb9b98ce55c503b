/* What an X11 client puts on the screen, seen from outside (LD_PRELOAD; the
 * same file bench/switch-latency builds into its clients). integration-demo loads it into
 * `vmdesk view` to check every picture the window presents around the
 * VNC-to-RDP switch: vmdesk's presents (SDL's OpenGL renderer on Mesa's
 * software rasteriser, as on Xvfb) reach the X server as one XPutImage or
 * XShmPutImage of the whole window each, called by Mesa through its link to
 * Xlib, so this sees them all and vmdesk carries no measuring code. (SDL's
 * own software renderer loads Xlib with dlopen and is not seen: the test
 * fails then, finding no present at the swap.)
 *
 * Every call with a 32-bit image of at least 64x64 pixels appends one line
 * to the file named by VD_PRESENT_TRACE (nothing is logged without it):
 *     NS IMG_W IMG_H X Y W H LIT ROW_BAND COL_BAND
 * NS: CLOCK_MONOTONIC nanoseconds when the call returned (g_get_monotonic_time
 * reads the same clock); X Y W H: the part put; the rest describe the whole
 * image after the call, sampled every 4th pixel of every 4th row: LIT is the
 * share of samples not black, ROW_BAND (COL_BAND) the longest run of sampled
 * rows (columns) with no lit sample, as a share of the rows (columns): a dark
 * band across the picture, such as a strip of xrdp's repaint. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define STEP 4

/* The head of Xlib's XImage (its layout is part of Xlib's ABI). */
typedef struct {
    int width, height, xoffset, format;
    char *data;
    int byte_order, bitmap_unit, bitmap_bit_order, bitmap_pad, depth, bytes_per_line,
        bits_per_pixel;
} ImageHead;

typedef int (*PutFunc)(void *, unsigned long, void *, void *, int, int, int, int, unsigned,
                       unsigned);
typedef int (*ShmPutFunc)(void *, unsigned long, void *, void *, int, int, int, int, unsigned,
                          unsigned, int);

int XPutImage(void *dpy, unsigned long d, void *gc, void *image, int sx, int sy, int dx, int dy,
              unsigned w, unsigned h);
int XShmPutImage(void *dpy, unsigned long d, void *gc, void *image, int sx, int sy, int dx,
                 int dy, unsigned w, unsigned h, int send_event);

static FILE *trace;
static int trace_tried;

/* The longest run of zeros in @lit[0..n), as a share of n. */
static double longest_dark(const unsigned char *lit, int n)
{
    int best = 0, run = 0;
    for (int i = 0; i < n; i++) {
        run = lit[i] ? 0 : run + 1;
        if (run > best)
            best = run;
    }
    return n ? (double)best / n : 0.0;
}

static void seen(const ImageHead *im, int sx, int sy, unsigned w, unsigned h)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* Xlib calls come from the client's drawing thread only (vmdesk's main
     * loop), so this needs no lock. */
    if (!trace_tried) {
        trace_tried = 1;
        const char *path = getenv("VD_PRESENT_TRACE");
        trace = path ? fopen(path, "ae") : NULL;
    }
    if (!trace || !im || !im->data || im->bits_per_pixel != 32 || im->width < 64 ||
        im->height < 64)
        return;
    int rows = (im->height + STEP - 1) / STEP, cols = (im->width + STEP - 1) / STEP;
    unsigned char *row_lit = calloc((size_t)rows, 1), *col_lit = calloc((size_t)cols, 1);
    if (!row_lit || !col_lit) {
        free(row_lit);
        free(col_lit);
        return;
    }
    long n = 0, lit = 0;
    for (int r = 0; r < rows; r++) {
        const uint32_t *row =
            (const uint32_t *)(im->data + (size_t)(r * STEP) * (size_t)im->bytes_per_line);
        for (int c = 0; c < cols; c++, n++)
            if (row[c * STEP] & 0xffffff) {
                lit++;
                row_lit[r] = col_lit[c] = 1;
            }
    }
    fprintf(trace, "%llu %d %d %d %d %u %u %.4f %.4f %.4f\n",
            (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
            im->width, im->height, sx, sy, w, h, (double)lit / (double)n,
            longest_dark(row_lit, rows), longest_dark(col_lit, cols));
    fflush(trace);
    free(row_lit);
    free(col_lit);
}

int XPutImage(void *dpy, unsigned long d, void *gc, void *image, int sx, int sy, int dx, int dy,
              unsigned w, unsigned h)
{
    static PutFunc real;
    if (!real)
        real = (PutFunc)dlsym(RTLD_NEXT, "XPutImage");
    int r = real ? real(dpy, d, gc, image, sx, sy, dx, dy, w, h) : 0;
    seen(image, sx, sy, w, h);
    return r;
}

int XShmPutImage(void *dpy, unsigned long d, void *gc, void *image, int sx, int sy, int dx,
                 int dy, unsigned w, unsigned h, int send_event)
{
    static ShmPutFunc real;
    if (!real)
        real = (ShmPutFunc)dlsym(RTLD_NEXT, "XShmPutImage");
    int r = real ? real(dpy, d, gc, image, sx, sy, dx, dy, w, h, send_event) : 0;
    seen(image, sx, sy, w, h);
    return r;
}
