/* Tooltips that cost nothing until one is shown. GTK 4.8's
 * gtk_widget_set_tooltip_text (and so a "tooltip-text" in a template) asks
 * the X server at once where the pointer is, a round trip with the server
 * grabbed, for each widget: 8 per VM card, most of the manager's time to its
 * first frame with 20 VMs on a busy host (bench/manager-launch). These set
 * "has-tooltip" and give the text only when GTK asks for it. Main thread only. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Show @text (a static string, not copied; not NULL) as @widget's tooltip. */
void mgr_tooltip_set_static(GtkWidget *widget, const char *text);

/* The text set by mgr_tooltip_set_static, or NULL. */
const char *mgr_tooltip_get(GtkWidget *widget);

G_END_DECLS
