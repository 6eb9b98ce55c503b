#include "manager/mgr_page.h"

#include "manager/mgr_chooser.h"
#include "manager/mgr_ops.h"
#include "manager/mgr_page_ops.h"

#include <string.h>

struct _MgrPage {
    AdwPreferencesWindow parent;
    char *name;
    MgrVm *vm;
    GCancellable *cancel;
    MgrPageInfo *info;
    GPtrArray *apps;          /* MgrApp*, or NULL until the guest was asked */
    guint busy;               /* operations under way: one at a time */
    bool filling;             /* the widgets are being set from @info */
    MgrVmPhase phase;
    GPtrArray *rows;          /* the rows made from @info and @apps (removed on a refill) */
    AdwPreferencesGroup *resources_group, *overlay_group, *shares_group, *snapshots_group,
        *apps_group, *logs_group;
    AdwEntryRow *memory_row, *cpus_row, *qemu_row, *cd_entry, *share_entry, *snapshot_entry;
    GtkToggleButton *perf_standard, *perf_powersave, *perf_turbo;
    GtkToggleButton *policy_keep, *policy_commit, *policy_discard, *policy_ask;
    GtkWidget *overlay_actions_row, *policy_row;
    AdwActionRow *cd_row, *cert_row;
    GtkWidget *cert_forget;
    AdwActionRow *account_row;
    GtkWidget *account_forget;
    AdwEntryRow *account_user_row, *account_password_row;
    GtkToggleButton *share_ro;
    GtkLabel *tools_label, *overlay_label;
    GtkTextView *log_view;
};

G_DEFINE_FINAL_TYPE(MgrPage, mgr_page, ADW_TYPE_PREFERENCES_WINDOW)

static const char *const page_actions[] = {
    "page.apply",           "page.tools",           "page.overlay-commit",
    "page.overlay-discard", "page.cd-eject",        "page.cd-insert",
    "page.choose-iso",      "page.choose-folder",   "page.share-add",
    "page.share-remove",    "page.snapshot-save",   "page.snapshot-restore",
    "page.snapshot-delete", "page.apps",            "page.app-launch",
    "page.app-menu",        "page.log",             "page.cert-forget",
    "page.account-save",    "page.account-forget",
};

static void show_error(MgrPage *page, const char *title, const char *message)
{
    GtkWidget *d = adw_message_dialog_new(GTK_WINDOW(page), title, message);
    adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(d), "close", "Close");
    gtk_window_present(GTK_WINDOW(d));
}

static void toast(MgrPage *page, const char *text)
{
    /* A toast's title is Pango markup (libadwaita 1.2): names from the
     * guest, folders and snapshots are text. */
    g_autofree char *escaped = g_markup_escape_text(text, -1);
    adw_preferences_window_add_toast(ADW_PREFERENCES_WINDOW(page), adw_toast_new(escaped));
}

static void set_busy(MgrPage *page, bool busy)
{
    page->busy = busy ? page->busy + 1 : page->busy - 1;
    for (size_t i = 0; i < G_N_ELEMENTS(page_actions); i++)
        gtk_widget_action_set_enabled(GTK_WIDGET(page), page_actions[i], !page->busy);
    gtk_widget_set_sensitive(GTK_WIDGET(page->policy_row), !page->busy);
}

/* --- filling the page from the info --- */

static GtkWidget *button(const char *label, const char *a11y, const char *action,
                         GVariant *target)
{
    GtkWidget *b = gtk_button_new_with_label(label);
    gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
    gtk_actionable_set_action_name(GTK_ACTIONABLE(b), action);
    gtk_actionable_set_action_target_value(GTK_ACTIONABLE(b), target);
    gtk_accessible_update_property(GTK_ACCESSIBLE(b), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
    return b;
}

/* A row of plain text (the guest's and the user's words are no markup). */
static AdwActionRow *add_row(MgrPage *page, AdwPreferencesGroup *group, const char *title,
                             const char *subtitle)
{
    AdwActionRow *row = ADW_ACTION_ROW(adw_action_row_new());
    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    if (subtitle)
        adw_action_row_set_subtitle(row, subtitle);
    adw_preferences_group_add(group, GTK_WIDGET(row));
    g_ptr_array_add(page->rows, row);
    return row;
}

static void clear_rows(MgrPage *page, AdwPreferencesGroup *group)
{
    for (guint i = page->rows->len; i-- > 0;) {
        GtkWidget *row = g_ptr_array_index(page->rows, i);
        if (gtk_widget_get_ancestor(row, ADW_TYPE_PREFERENCES_GROUP) == GTK_WIDGET(group)) {
            adw_preferences_group_remove(group, row);
            g_ptr_array_remove_index(page->rows, i);
        }
    }
}

static void fill_apps(MgrPage *page)
{
    clear_rows(page, page->apps_group);
    for (guint i = 0; page->apps && i < page->apps->len; i++) {
        const MgrApp *a = g_ptr_array_index(page->apps, i);
        AdwActionRow *row = add_row(page, page->apps_group, a->name, a->program);
        GtkWidget *icon = gtk_image_new_from_icon_name("application-x-executable-symbolic");
        gtk_image_set_pixel_size(GTK_IMAGE(icon), 32);
        if (a->icon) {
            /* Bytes from the guest: gdk-pixbuf reads them or the default stays. */
            g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes(a->icon);
            g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_stream_at_scale(in, 32, 32, TRUE, NULL,
                                                                          NULL);
            if (pb) {
                g_autoptr(GdkTexture) t = gdk_texture_new_for_pixbuf(pb);
                gtk_image_set_from_paintable(GTK_IMAGE(icon), GDK_PAINTABLE(t));
            }
        }
        adw_action_row_add_prefix(row, icon);
        g_autofree char *launch = g_strdup_printf("Launch %s", a->name);
        adw_action_row_add_suffix(row, button("Launch", launch, "page.app-launch",
                                              g_variant_new_uint32(i)));
        g_autofree char *menu = a->in_menu ? g_strdup_printf("Remove %s from the menu", a->name)
                                           : g_strdup_printf("Add %s to the menu", a->name);
        adw_action_row_add_suffix(row, button(a->in_menu ? "Remove from menu" : "Add to menu",
                                              menu, "page.app-menu", g_variant_new_uint32(i)));
    }
    if (page->apps && !page->apps->len)
        add_row(page, page->apps_group, "The guest reports no programs", NULL);
}

static void fill(MgrPage *page)
{
    const MgrPageInfo *info = page->info;
    page->filling = true;
    gtk_editable_set_text(GTK_EDITABLE(page->memory_row), info->memory);
    g_autofree char *cpus = g_strdup_printf("%u", info->cpus);
    gtk_editable_set_text(GTK_EDITABLE(page->cpus_row), cpus);
    GtkToggleButton *perf[] = {page->perf_standard, page->perf_powersave, page->perf_turbo};
    gtk_toggle_button_set_active(perf[MIN(info->performance, 2)], TRUE);
    gtk_editable_set_text(GTK_EDITABLE(page->qemu_row), info->qemu_args);
    g_autofree char *max = g_format_size_full(info->memory_max, G_FORMAT_SIZE_IEC_UNITS);
    g_autofree char *range = g_strdup_printf(
        "This host gives a VM 64 MiB to %s of memory and 1 to %u processors. Memory with its "
        "unit: 2G, 1536M. A running VM gets the changes at its next start.",
        max, info->cpus_max);
    adw_preferences_group_set_description(page->resources_group, range);

    gtk_label_set_text(page->overlay_label, info->overlay_text);
    gtk_widget_set_visible(page->overlay_actions_row, info->has_overlay);
    gtk_widget_set_visible(page->policy_row, info->has_overlay);
    GtkToggleButton *policy[] = {page->policy_keep, page->policy_commit, page->policy_discard,
                                 page->policy_ask};
    gtk_toggle_button_set_active(policy[MIN(info->on_shutdown, 3)], TRUE);

    adw_action_row_set_subtitle(page->cd_row, info->cd ? info->cd : "Empty");

    /* The subtitle is markup: the file's words are escaped. */
    g_autofree char *cert = NULL;
    if (info->certificate)
        cert = g_markup_printf_escaped("SHA-256 %s", info->certificate);
    else if (info->certificate_error)
        cert = g_markup_printf_escaped("Cannot be read, so connections are refused until the "
                                       "file is repaired or removed: %s",
                                       info->certificate_error);
    else
        cert = g_strdup("None yet: the next connection trusts the one it sees");
    adw_action_row_set_subtitle(page->cert_row, cert);
    gtk_widget_set_visible(page->cert_forget, info->certificate != NULL);
    /* A user name is no markup. */
    g_autofree char *account = info->account_user
                                   ? g_markup_printf_escaped("User %s", info->account_user)
                                   : g_strdup("None");
    adw_action_row_set_subtitle(page->account_row, account);
    gtk_widget_set_visible(page->account_forget, info->account_user != NULL);

    clear_rows(page, page->shares_group);
    for (guint i = 0; i < info->shares->len; i++) {
        const MgrShare *s = g_ptr_array_index(info->shares, i);
        AdwActionRow *row = add_row(page, page->shares_group, s->path, s->text);
        g_autofree char *a11y = g_strdup_printf("Stop sharing %s", s->path);
        char letter[2] = {s->letter, 0};
        adw_action_row_add_suffix(row, button("Stop sharing", a11y, "page.share-remove",
                                              g_variant_new_string(letter)));
    }

    clear_rows(page, page->snapshots_group);
    if (info->snapshot_error)
        add_row(page, page->snapshots_group, "No snapshots", info->snapshot_error);
    for (guint i = 0; i < info->snapshots->len; i++) {
        const MgrSnapshot *s = g_ptr_array_index(info->snapshots, i);
        AdwActionRow *row = add_row(page, page->snapshots_group, s->tag, s->text);
        g_autofree char *restore = g_strdup_printf("Restore %s", s->tag);
        g_autofree char *del = g_strdup_printf("Delete %s", s->tag);
        adw_action_row_add_suffix(row, button("Restore", restore, "page.snapshot-restore",
                                              g_variant_new_string(s->tag)));
        GtkWidget *d = button("Delete", del, "page.snapshot-delete",
                              g_variant_new_string(s->tag));
        gtk_widget_add_css_class(d, "destructive-action");
        adw_action_row_add_suffix(row, d);
    }

    clear_rows(page, page->logs_group);
    for (char **l = info->logs; l && *l; l++) {
        AdwActionRow *row = add_row(page, page->logs_group, *l, NULL);
        g_autofree char *a11y = g_strdup_printf("Show %s", *l);
        adw_action_row_add_suffix(row, button("Show", a11y, "page.log", g_variant_new_string(*l)));
    }
    fill_apps(page);
    page->filling = false;
}

/* --- operations --- */

typedef struct {
    MgrPage *page;   /* a reference */
    char *title;     /* "Could not ..." for an error */
    bool exclusive;  /* one of the page's operations: the others wait */
} Call;

static Call *call_new(MgrPage *page, const char *title, bool exclusive)
{
    Call *c = g_new0(Call, 1);
    c->page = g_object_ref(page);
    c->title = g_strdup(title);
    c->exclusive = exclusive;
    if (exclusive)
        set_busy(page, true);
    return c;
}

/* The call's end; false when the page went away meanwhile. */
static bool call_end(Call *c, GError *err)
{
    bool gone = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    if (!gone && c->exclusive)
        set_busy(c->page, false);
    if (err && !gone) {
        g_autofree char *text = mgr_error_text(err);
        show_error(c->page, c->title, text);
    }
    g_object_unref(c->page);
    g_free(c->title);
    g_free(c);
    return !gone;
}

static void op_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Call *c = data;
    MgrPage *page = c->page;
    g_autoptr(GError) err = NULL;
    g_autofree char *done = NULL;
    MgrPageInfo *info = mgr_page_ops_run_finish(res, &done, &err);
    if (info) {
        mgr_page_info_free(page->info);
        page->info = info;
        fill(page);
    }
    if (done) {
        toast(page, done);
        /* Done with what was typed for it. */
        AdwEntryRow *typed[] = {page->cd_entry, page->share_entry, page->snapshot_entry,
                                page->account_user_row};
        for (size_t i = 0; i < G_N_ELEMENTS(typed); i++)
            gtk_editable_set_text(GTK_EDITABLE(typed[i]), "");
    }
    call_end(c, err);
}

static void run(MgrPage *page, MgrPageOp op, const char *what, const char *arg,
                const char *const *args, bool flag)
{
    if (page->busy)
        return;
    g_autofree char *title = g_strdup_printf("Could not %s", what);
    mgr_page_ops_run_async(op, page->name, arg, args, flag, page->cancel, op_done,
                           call_new(page, title, true));
}

static void act_apply(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    const MgrPageInfo *info = page->info;
    if (!info)
        return;
    g_autoptr(GPtrArray) b = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *mem = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(page->memory_row))));
    g_autofree char *cpus = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(page->cpus_row))));
    g_autofree char *cpus_was = g_strdup_printf("%u", info->cpus);
    if (strcmp(mem, info->memory))
        g_ptr_array_add(b, g_strdup_printf("memory=%s", mem));
    if (strcmp(cpus, cpus_was))
        g_ptr_array_add(b, g_strdup_printf("cpus=%s", cpus));
    guint perf = gtk_toggle_button_get_active(page->perf_turbo)       ? 2
                 : gtk_toggle_button_get_active(page->perf_powersave) ? 1
                                                                      : 0;
    if (perf != info->performance)
        g_ptr_array_add(b, g_strdup_printf("performance=%s", mgr_page_perf_names[perf]));
    g_autofree char *qemu = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(page->qemu_row))));
    if (strcmp(qemu, info->qemu_args)) {
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) err = NULL;
        if (*qemu && !g_shell_parse_argv(qemu, NULL, &argv, &err)) {
            g_autofree char *why = g_strdup_printf("Extra QEMU arguments: %s", err->message);
            show_error(page, "Could not save the settings", why);
            return;
        }
        g_ptr_array_add(b, g_strdup("qemu-arg="));
        for (char **a = argv; a && *a; a++)
            g_ptr_array_add(b, g_strdup_printf("qemu-arg+=%s", *a));
    }
    if (!b->len) {
        toast(page, "Nothing changed");
        return;
    }
    g_ptr_array_add(b, NULL);
    run(page, MGR_PAGE_SET, "save the settings", NULL, (const char *const *)b->pdata, false);
}

static void on_policy_toggled(GtkToggleButton *b, gpointer data)
{
    MgrPage *page = data;
    if (page->filling || !gtk_toggle_button_get_active(b))
        return;
    GtkToggleButton *policy[] = {page->policy_keep, page->policy_commit, page->policy_discard,
                                 page->policy_ask};
    for (size_t i = 0; i < G_N_ELEMENTS(policy); i++) {
        if (policy[i] != b)
            continue;
        g_autofree char *a = g_strdup_printf("on-shutdown=%s", mgr_page_policy_names[i]);
        const char *args[] = {a, NULL};
        run(page, MGR_PAGE_SET, "change what happens at shutdown", NULL, args, false);
    }
}

static void confirm_response(AdwMessageDialog *d, const char *response, gpointer data)
{
    MgrPage *page = data;
    if (g_strcmp0(response, "go"))
        return;
    MgrPageOp op = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(d), "op"));
    run(page, op, g_object_get_data(G_OBJECT(d), "what"), g_object_get_data(G_OBJECT(d), "arg"),
        NULL, false);
}

/* Ask before @op destroys something; @go is the button's label. */
static void confirm(MgrPage *page, MgrPageOp op, const char *what, const char *arg,
                    const char *title, const char *body, const char *go)
{
    GtkWidget *d = adw_message_dialog_new(GTK_WINDOW(page), title, body);
    AdwMessageDialog *md = ADW_MESSAGE_DIALOG(d);
    adw_message_dialog_add_responses(md, "cancel", "Cancel", "go", go, NULL);
    adw_message_dialog_set_response_appearance(md, "go", ADW_RESPONSE_DESTRUCTIVE);
    adw_message_dialog_set_default_response(md, "cancel");
    adw_message_dialog_set_close_response(md, "cancel");
    g_object_set_data(G_OBJECT(d), "op", GINT_TO_POINTER(op));
    g_object_set_data_full(G_OBJECT(d), "what", g_strdup(what), g_free);
    g_object_set_data_full(G_OBJECT(d), "arg", g_strdup(arg), g_free);
    g_signal_connect_object(d, "response", G_CALLBACK(confirm_response), page, 0);
    gtk_window_present(GTK_WINDOW(d));
}

static void act_overlay_commit(GtkWidget *w, const char *action, GVariant *param)
{
    run(MGR_PAGE(w), MGR_PAGE_OVERLAY_COMMIT, "commit the changes", NULL, NULL, false);
}

static void act_overlay_discard(GtkWidget *w, const char *action, GVariant *param)
{
    confirm(MGR_PAGE(w), MGR_PAGE_OVERLAY_DISCARD, "discard the changes", NULL,
            "Discard the changes?",
            "Everything the guest wrote to its disk since the last commit is lost, and its "
            "UEFI variables and TPM state go back to the committed ones.",
            "Discard");
}

static void act_cert_forget(GtkWidget *w, const char *action, GVariant *param)
{
    confirm(MGR_PAGE(w), MGR_PAGE_CERT_FORGET, "forget the certificate", NULL,
            "Forget the certificate?",
            "Do this only when the change is expected: the guest was reinstalled, or its RDP "
            "service made a new key. The next connection trusts whatever certificate it is "
            "shown, also one of someone in between.",
            "Forget");
}

static void act_account_save(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    if (page->busy)
        return;
    g_autofree char *user = g_strstrip(
        g_strdup(gtk_editable_get_text(GTK_EDITABLE(page->account_user_row))));
    GtkEditable *pw_row = GTK_EDITABLE(page->account_password_row);
    if (!*user || !*gtk_editable_get_text(pw_row)) {
        show_error(page, "Could not save the account", "Give the user and the password first.");
        return;
    }
    /* The task gets its own copy (wiped when done); the entry's is cleared now. */
    char *password = g_strdup(gtk_editable_get_text(pw_row));
    gtk_editable_set_text(pw_row, "");
    const char *args[] = {password, NULL};
    run(page, MGR_PAGE_ACCOUNT_SAVE, "save the account", user, args, false);
    explicit_bzero(password, strlen(password));
    g_free(password);
}

static void act_account_forget(GtkWidget *w, const char *action, GVariant *param)
{
    confirm(MGR_PAGE(w), MGR_PAGE_ACCOUNT_FORGET, "forget the account", NULL,
            "Forget the account?",
            "Its user and password are removed from this computer (also from the keyring). "
            "A VM whose remote desktop asks for them cannot be opened until an account is "
            "stored again.",
            "Forget");
}

static void act_cd_eject(GtkWidget *w, const char *action, GVariant *param)
{
    run(MGR_PAGE(w), MGR_PAGE_CD_EJECT, "eject the CD", NULL, NULL, false);
}

static void act_cd_insert(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    const char *path = gtk_editable_get_text(GTK_EDITABLE(page->cd_entry));
    if (!*path) {
        show_error(page, "Could not insert the CD image", "Give the CD image's path first.");
        return;
    }
    run(page, MGR_PAGE_CD_INSERT, "insert the CD image", path, NULL, false);
}

static void act_choose_iso(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    mgr_choose_path(GTK_WINDOW(page), "Choose the CD image", GTK_FILE_CHOOSER_ACTION_OPEN,
                    GTK_EDITABLE(page->cd_entry));
}

static void act_choose_folder(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    mgr_choose_path(GTK_WINDOW(page), "Choose the folder to share",
                    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, GTK_EDITABLE(page->share_entry));
}

static void act_share_add(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    const char *path = gtk_editable_get_text(GTK_EDITABLE(page->share_entry));
    if (!*path) {
        show_error(page, "Could not share the folder", "Give the folder's path first.");
        return;
    }
    run(page, MGR_PAGE_SHARE_ADD, "share the folder", path, NULL,
        gtk_toggle_button_get_active(page->share_ro));
}

static void act_share_remove(GtkWidget *w, const char *action, GVariant *param)
{
    run(MGR_PAGE(w), MGR_PAGE_SHARE_REMOVE, "stop sharing the folder",
        g_variant_get_string(param, NULL), NULL, false);
}

static void act_snapshot_save(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    const char *tag = gtk_editable_get_text(GTK_EDITABLE(page->snapshot_entry));
    if (!*tag) {
        show_error(page, "Could not save a snapshot", "Give the snapshot a name first.");
        return;
    }
    run(page, MGR_PAGE_SNAPSHOT_SAVE, "save the snapshot", tag, NULL, false);
}

static void act_snapshot_restore(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    const char *tag = g_variant_get_string(param, NULL);
    g_autofree char *title = g_strdup_printf("Restore snapshot %s?", tag);
    const char *body =
        page->info && page->info->running
            ? "The running VM goes back to the moment of the snapshot: its memory, disk and "
              "UEFI variables. Everything unsaved since then, in every program of the guest, "
              "is lost."
            : "The VM's disk, UEFI variables and TPM state go back to the snapshot's. "
              "Everything the guest changed since then is lost.";
    confirm(page, MGR_PAGE_SNAPSHOT_RESTORE, "restore the snapshot", tag, title, body,
            "Restore");
}

static void act_snapshot_delete(GtkWidget *w, const char *action, GVariant *param)
{
    run(MGR_PAGE(w), MGR_PAGE_SNAPSHOT_DELETE, "delete the snapshot",
        g_variant_get_string(param, NULL), NULL, false);
}

/* --- guest tools, programs, logs --- */

static void tools_done(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autofree char *text = mgr_page_tools_finish(res);
    Call *c = data;
    if (!g_cancellable_is_cancelled(c->page->cancel))
        gtk_label_set_text(c->page->tools_label, text);
    call_end(c, NULL);
}

static void act_tools(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    gtk_label_set_text(page->tools_label, "Asking the guest…");
    mgr_page_tools_async(page->name, page->cancel, tools_done, call_new(page, NULL, false));
}

static void apps_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Call *c = data;
    g_autoptr(GError) err = NULL;
    GPtrArray *apps = mgr_page_apps_finish(res, &err);
    if (apps) {
        g_clear_pointer(&c->page->apps, g_ptr_array_unref);
        c->page->apps = apps;
        fill_apps(c->page);
    }
    call_end(c, err);
}

static void act_apps(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    g_autofree char *title = g_strdup_printf("Could not list the programs of %s", page->name);
    mgr_page_apps_async(page->name, page->cancel, apps_done, call_new(page, title, true));
}

static void menu_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Call *c = data;
    g_autoptr(GError) err = NULL;
    if (mgr_page_app_menu_finish(res, &err))
        fill_apps(c->page);
    call_end(c, err);
}

static void act_app_menu(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    guint i = g_variant_get_uint32(param);
    if (!page->apps || i >= page->apps->len)
        return;
    const MgrApp *a = g_ptr_array_index(page->apps, i);
    g_autofree char *title = a->in_menu
                                 ? g_strdup_printf("Could not remove %s from the menu", a->name)
                                 : g_strdup_printf("Could not add %s to the menu", a->name);
    mgr_page_app_menu_async(page->name, page->apps, i, !a->in_menu, page->cancel, menu_done,
                            call_new(page, title, true));
}

static void launch_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Call *c = data;
    g_autofree char *text = mgr_ops_vmdesk_finish(res);
    if (text) {
        g_autoptr(GError) e = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED, text);
        call_end(c, e);
        return;
    }
    call_end(c, NULL);
}

static void act_app_launch(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    guint i = g_variant_get_uint32(param);
    if (!page->apps || i >= page->apps->len)
        return;
    const MgrApp *a = g_ptr_array_index(page->apps, i);
    const char *args[] = {"app", "--", page->name, a->program, NULL};
    g_autoptr(GError) err = NULL;
    g_autofree char *title = g_strdup_printf("%s ended with an error", a->name);
    /* The program's window lives on its own: the page stays usable. */
    Call *c = call_new(page, title, false);
    if (!mgr_ops_vmdesk_async(args, "the program's window ended without saying why",
                              launch_done, c, &err)) {
        call_end(c, err);
        return;
    }
    g_autofree char *t = g_strdup_printf("Starting %s…", a->name);
    toast(page, t);
}

static void log_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Call *c = data;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = mgr_page_log_finish(res, &err);
    if (text) {
        GtkTextBuffer *buf = gtk_text_view_get_buffer(c->page->log_view);
        gtk_text_buffer_set_text(buf, text, -1);
        GtkTextIter end;
        gtk_text_buffer_get_end_iter(buf, &end);
        gtk_text_view_scroll_to_iter(c->page->log_view, &end, 0, FALSE, 0, 0);
    }
    call_end(c, err);
}

static void act_log(GtkWidget *w, const char *action, GVariant *param)
{
    MgrPage *page = MGR_PAGE(w);
    const char *file = g_variant_get_string(param, NULL);
    g_autofree char *title = g_strdup_printf("Could not read %s", file);
    mgr_page_log_async(page->name, file, page->cancel, log_done, call_new(page, title, true));
}

/* --- the VM's state --- */

static void on_vm_notify(GObject *obj, GParamSpec *pspec, gpointer data)
{
    MgrPage *page = data;
    MgrVmPhase p = mgr_vm_get_phase(page->vm);
    if (p == page->phase || p == MGR_VM_BUSY || p == MGR_VM_STARTING)
        return;
    /* Running or not changes the CD, the snapshots' kind, the overlay and the
     * guest tools: read them again (after this page's own operation). */
    page->phase = p;
    if (!page->busy) {
        run(page, MGR_PAGE_LOAD, "read the VM", NULL, NULL, false);
        act_tools(GTK_WIDGET(page), NULL, NULL);
    }
}

static void mgr_page_dispose(GObject *obj)
{
    MgrPage *page = MGR_PAGE(obj);
    if (page->cancel)
        g_cancellable_cancel(page->cancel);
    if (page->vm)
        g_signal_handlers_disconnect_by_data(page->vm, page);
    g_clear_object(&page->vm);
    g_clear_object(&page->cancel);
    gtk_widget_dispose_template(GTK_WIDGET(obj), MGR_TYPE_PAGE);
    G_OBJECT_CLASS(mgr_page_parent_class)->dispose(obj);
}

static void mgr_page_finalize(GObject *obj)
{
    MgrPage *page = MGR_PAGE(obj);
    g_free(page->name);
    mgr_page_info_free(page->info);
    g_clear_pointer(&page->apps, g_ptr_array_unref);
    g_clear_pointer(&page->rows, g_ptr_array_unref);
    G_OBJECT_CLASS(mgr_page_parent_class)->finalize(obj);
}

#define CHILD(n) gtk_widget_class_bind_template_child(wc, MgrPage, n)

static void mgr_page_class_init(MgrPageClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = mgr_page_dispose;
    G_OBJECT_CLASS(klass)->finalize = mgr_page_finalize;
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/vmdesk/Manager/mgr_page.ui");
    CHILD(resources_group);
    CHILD(overlay_group);
    CHILD(shares_group);
    CHILD(snapshots_group);
    CHILD(apps_group);
    CHILD(logs_group);
    CHILD(memory_row);
    CHILD(cpus_row);
    CHILD(qemu_row);
    CHILD(cd_entry);
    CHILD(share_entry);
    CHILD(snapshot_entry);
    CHILD(perf_standard);
    CHILD(perf_powersave);
    CHILD(perf_turbo);
    CHILD(policy_keep);
    CHILD(policy_commit);
    CHILD(policy_discard);
    CHILD(policy_ask);
    CHILD(overlay_actions_row);
    CHILD(policy_row);
    CHILD(cd_row);
    CHILD(share_ro);
    CHILD(tools_label);
    CHILD(overlay_label);
    CHILD(cert_row);
    CHILD(cert_forget);
    CHILD(account_row);
    CHILD(account_forget);
    CHILD(account_user_row);
    CHILD(account_password_row);
    CHILD(log_view);
    gtk_widget_class_install_action(wc, "page.apply", NULL, act_apply);
    gtk_widget_class_install_action(wc, "page.tools", NULL, act_tools);
    gtk_widget_class_install_action(wc, "page.overlay-commit", NULL, act_overlay_commit);
    gtk_widget_class_install_action(wc, "page.overlay-discard", NULL, act_overlay_discard);
    gtk_widget_class_install_action(wc, "page.cert-forget", NULL, act_cert_forget);
    gtk_widget_class_install_action(wc, "page.account-save", NULL, act_account_save);
    gtk_widget_class_install_action(wc, "page.account-forget", NULL, act_account_forget);
    gtk_widget_class_install_action(wc, "page.cd-eject", NULL, act_cd_eject);
    gtk_widget_class_install_action(wc, "page.cd-insert", NULL, act_cd_insert);
    gtk_widget_class_install_action(wc, "page.choose-iso", NULL, act_choose_iso);
    gtk_widget_class_install_action(wc, "page.choose-folder", NULL, act_choose_folder);
    gtk_widget_class_install_action(wc, "page.share-add", NULL, act_share_add);
    gtk_widget_class_install_action(wc, "page.share-remove", "s", act_share_remove);
    gtk_widget_class_install_action(wc, "page.snapshot-save", NULL, act_snapshot_save);
    gtk_widget_class_install_action(wc, "page.snapshot-restore", "s", act_snapshot_restore);
    gtk_widget_class_install_action(wc, "page.snapshot-delete", "s", act_snapshot_delete);
    gtk_widget_class_install_action(wc, "page.apps", NULL, act_apps);
    gtk_widget_class_install_action(wc, "page.app-launch", "u", act_app_launch);
    gtk_widget_class_install_action(wc, "page.app-menu", "u", act_app_menu);
    gtk_widget_class_install_action(wc, "page.log", "s", act_log);
}

static void mgr_page_init(MgrPage *page)
{
    gtk_widget_init_template(GTK_WIDGET(page));
    page->cancel = g_cancellable_new();
    page->rows = g_ptr_array_new();
    GtkToggleButton *policy[] = {page->policy_keep, page->policy_commit, page->policy_discard,
                                 page->policy_ask};
    for (size_t i = 0; i < G_N_ELEMENTS(policy); i++)
        g_signal_connect(policy[i], "toggled", G_CALLBACK(on_policy_toggled), page);
}

GtkWidget *mgr_page_new(GtkWindow *parent, MgrVm *vm)
{
    MgrPage *page = g_object_new(MGR_TYPE_PAGE, "transient-for", parent, NULL);
    page->vm = g_object_ref(vm);
    page->name = g_strdup(mgr_vm_get_name(vm));
    page->phase = mgr_vm_get_phase(vm);
    g_autofree char *title = g_strdup_printf("Details of %s", page->name);
    gtk_window_set_title(GTK_WINDOW(page), title);
    g_signal_connect(vm, "notify::phase", G_CALLBACK(on_vm_notify), page);
    run(page, MGR_PAGE_LOAD, "read the VM", NULL, NULL, false);
    act_tools(GTK_WIDGET(page), NULL, NULL);
    return GTK_WIDGET(page);
}
