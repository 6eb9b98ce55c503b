#include "manager/mgr_tooltip.h"

#define TOOLTIP_KEY "mgr-tooltip"

static gboolean on_query_tooltip(GtkWidget *w, int x, int y, gboolean keyboard,
                                 GtkTooltip *tooltip, gpointer data)
{
    const char *text = mgr_tooltip_get(w);
    if (!text)
        return FALSE;
    gtk_tooltip_set_text(tooltip, text);
    return TRUE;
}

void mgr_tooltip_set_static(GtkWidget *widget, const char *text)
{
    g_return_if_fail(text != NULL);
    if (!mgr_tooltip_get(widget))
        g_signal_connect(widget, "query-tooltip", G_CALLBACK(on_query_tooltip), NULL);
    g_object_set_data(G_OBJECT(widget), TOOLTIP_KEY, (gpointer)text);
    gtk_widget_set_has_tooltip(widget, TRUE);
    /* What the tooltip says, accessibility hears. */
    gtk_accessible_update_property(GTK_ACCESSIBLE(widget), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                   text, -1);
}

const char *mgr_tooltip_get(GtkWidget *widget)
{
    return g_object_get_data(G_OBJECT(widget), TOOLTIP_KEY);
}
