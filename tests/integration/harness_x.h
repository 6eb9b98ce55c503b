/* Test helpers for windows and pictures: our own Xvfb, running X clients
 * (xdotool, xwininfo) against it, finding a window by title, PNG images and
 * free loopback ports. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int w, h;
    uint32_t *px; /* 0x00RRGGBB */
} Image;

void image_clear(Image *im);
bool image_load_png(const char *path, Image *im);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
unsigned free_tcp_port(void);

typedef struct {
    GPid pid;
    char *display;
} Xvfb;

/* Start an Xvfb (1600x1000x24) on a free display; asserts it answers. */
void xvfb_start(Xvfb *x);
/* ... with screen @screen ("WxHxDEPTH"). */
void xvfb_start_screen(Xvfb *x, const char *screen);
void xvfb_stop(Xvfb *x);
/* Run a program with DISPLAY set, to completion; its stdout. */
char *x_run(const char *display, const char *const *argv);
/* The id of the top-level window whose title starts with @prefix, or NULL. */
char *x_find_window(const char *display, const char *prefix, char **title);
/* Wait for such a window whose title also holds @title_part (NULL: any). */
char *wait_window(const char *display, const char *prefix, const char *title_part,
                  int timeout_ms);
