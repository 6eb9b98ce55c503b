/* vmdesk's own icon on an SDL window (_NET_WM_ICON on X11): the 64x64
 * rendering of assets/icons/hicolor/scalable/apps/io.github.vmdesk.Vmdesk.svg
 * built into the program. Main thread only. */
#pragma once

#include <SDL.h>

/* Give @win vmdesk's icon. A picture that does not decode leaves the
 * window as it was, with a warning. */
void window_icon_set(SDL_Window *win);
