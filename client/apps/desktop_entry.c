#include "apps/desktop_entry.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/spawn.h"

#include <errno.h>
#include <stdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <string.h>

#define GROUP G_KEY_FILE_DESKTOP_GROUP
#define KEY_VM "X-Vmdesk-VM"
#define KEY_CONNECT "X-Vmdesk-Connect"
#define KEY_PROGRAM "X-Vmdesk-Program"
#define KEY_APP_ID "X-Vmdesk-App-Id"
#define KEY_APP_NAME "X-Vmdesk-App-Name"
#define PREFIX "vmdesk-"

const int desktop_entry_sizes[] = {16, 24, 32, 48, 64, 128, 256, 0};
const int desktop_entry_sizes_required[] = {32, 48, 64, 128, 0};

char *desktop_entry_sanitize(const char *s)
{
    GString *out = g_string_new(NULL);
    for (const char *c = s ? s : ""; *c; c++) {
        bool ok = g_ascii_isalnum(*c) || *c == '_' || *c == '-' || (*c == '.' && out->len);
        g_string_append_c(out, ok ? *c : '_');
    }
    if (!out->len)
        g_string_append(out, "app");
    return g_string_free(out, FALSE);
}

char **desktop_entry_assign_ids(GPtrArray *apps)
{
    g_autoptr(GHashTable) taken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* (the table owns each id; the builder copies it) */
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    for (guint i = 0; i < apps->len; i++) {
        const GuestApp *app = g_ptr_array_index(apps, i);
        g_autofree char *base = desktop_entry_sanitize(app->id);
        char *id = g_strdup(base);
        for (int n = 2; g_hash_table_contains(taken, id); n++) {
            g_free(id);
            id = g_strdup_printf("%s-%d", base, n);
        }
        g_strv_builder_add(b, id);
        g_hash_table_add(taken, id);
    }
    return g_strv_builder_end(b);
}

char *desktop_entry_exec_quote(const char *arg)
{
    /* The spec's reserved characters: these need quoting. */
    static const char reserved[] = " \t\n\"'\\><~|&;$*?#()`";
    bool quote = !*arg || strpbrk(arg, reserved) != NULL;
    GString *s = g_string_new(quote ? "\"" : "");
    for (const char *c = arg; *c; c++) {
        if (*c == '%')
            g_string_append_c(s, '%');
        else if (quote && strchr("\"`$\\", *c))
            g_string_append_c(s, '\\');
        g_string_append_c(s, *c);
    }
    if (quote)
        g_string_append_c(s, '"');
    return g_string_free(s, FALSE);
}

char *desktop_entry_exec_line(const char *vmdesk, const char *wm_class, const char *connect,
                              const char *vm, const char *program, const char *const *args)
{
    GString *s = g_string_new(NULL);
    g_autoptr(GPtrArray) words = g_ptr_array_new();
    g_ptr_array_add(words, (char *)vmdesk);
    g_ptr_array_add(words, (char *)"app");
    g_ptr_array_add(words, (char *)"--class");
    g_ptr_array_add(words, (char *)wm_class);
    /* The files the desktop hands over (%F) come after the program's own
     * arguments: tell vmdesk how many of those there are. */
    guint nargs = args ? g_strv_length((char **)args) : 0;
    g_autofree char *count = g_strdup_printf("--program-args=%u", nargs);
    g_ptr_array_add(words, count);
    if (connect) {
        g_ptr_array_add(words, (char *)"--connect");
        g_ptr_array_add(words, (char *)connect);
    }
    /* A guest argument that looks like an option must not be taken for one
     * of vmdesk's: "--" ends the options (GLib keeps it in argv then). */
    bool dash = vm[0] == '-' || program[0] == '-';
    for (const char *const *a = args; a && *a; a++)
        dash |= (*a)[0] == '-';
    if (dash)
        g_ptr_array_add(words, (char *)"--");
    g_ptr_array_add(words, (char *)vm);
    g_ptr_array_add(words, (char *)program);
    for (const char *const *a = args; a && *a; a++)
        g_ptr_array_add(words, (char *)*a);
    for (guint i = 0; i < words->len; i++) {
        g_autofree char *q = desktop_entry_exec_quote(g_ptr_array_index(words, i));
        g_string_append_printf(s, "%s%s", i ? " " : "", q);
    }
    g_string_append(s, " %F");
    return g_string_free(s, FALSE);
}

char *desktop_entry_apps_dir(void)
{
    return g_build_filename(g_get_user_data_dir(), "applications", NULL);
}

char *desktop_entry_icons_dir(void)
{
    return g_build_filename(g_get_user_data_dir(), "icons", "hicolor", NULL);
}

/* --- icons --- */

typedef struct {
    int size; /* render into a @size square box (vector sources); 0: natural size */
} LoadSize;

static void on_size_prepared(GdkPixbufLoader *l, int w, int h, gpointer data)
{
    const LoadSize *ls = data;
    if (!ls->size || w <= 0 || h <= 0)
        return;
    double k = (double)ls->size / MAX(w, h);
    gdk_pixbuf_loader_set_size(l, MAX(1, (int)(w * k + 0.5)), MAX(1, (int)(h * k + 0.5)));
}

/* A loader for the format the first bytes show. gdk-pixbuf guesses the type
 * with the shared MIME database, found through XDG_DATA_DIRS; the formats
 * guests give are recognised here without it. */
static GdkPixbufLoader *loader_for(const guchar *b, gsize len)
{
    static const struct {
        const char *magic, *type;
        gsize n;
    } magics[] = {{"\x89PNG", "png", 4}, {"\0\0\1\0", "ico", 4}, {"/* XPM */", "xpm", 9}};
    for (size_t i = 0; i < G_N_ELEMENTS(magics); i++)
        if (len >= magics[i].n && !memcmp(b, magics[i].magic, magics[i].n))
            return gdk_pixbuf_loader_new_with_type(magics[i].type, NULL);
    g_autofree char *head = g_strndup((const char *)b, MIN(len, (gsize)512));
    if (strstr(head, "<svg"))
        return gdk_pixbuf_loader_new_with_type("svg", NULL);
    return gdk_pixbuf_loader_new();
}

/* Decode @data; *@vector says whether it is scalable (SVG). */
static GdkPixbuf *load(GBytes *data, int size, bool *vector, GError **error)
{
    LoadSize ls = {size};
    gsize len = 0;
    const guchar *bytes = g_bytes_get_data(data, &len);
    g_autoptr(GdkPixbufLoader) l = loader_for(bytes, len);
    if (!l) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the icon is no image vmdesk can read (no image loader for it)");
        return NULL;
    }
    g_signal_connect(l, "size-prepared", G_CALLBACK(on_size_prepared), &ls);
    g_autoptr(GError) err = NULL;
    bool ok = len && gdk_pixbuf_loader_write(l, bytes, len, &err);
    /* Always close: a loader left open warns when finalized. */
    bool closed = gdk_pixbuf_loader_close(l, ok ? &err : NULL);
    GdkPixbuf *pix = ok && closed ? gdk_pixbuf_loader_get_pixbuf(l) : NULL;
    if (!pix) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the icon is no image vmdesk can read%s%s",
                    err ? ": " : "", err ? err->message : "");
        return NULL;
    }
    GdkPixbufFormat *f = gdk_pixbuf_loader_get_format(l);
    if (vector)
        *vector = f && gdk_pixbuf_format_is_scalable(f);
    return g_object_ref(pix);
}

/* @src fitted into a transparent @size square, centred, aspect kept. */
static GdkPixbuf *fit_square(GdkPixbuf *src, int size)
{
    int w = gdk_pixbuf_get_width(src), h = gdk_pixbuf_get_height(src);
    double k = (double)size / MAX(w, h);
    int sw = CLAMP((int)(w * k + 0.5), 1, size), sh = CLAMP((int)(h * k + 0.5), 1, size);
    GdkPixbuf *out = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, size, size);
    gdk_pixbuf_fill(out, 0);
    g_autoptr(GdkPixbuf) with_alpha = gdk_pixbuf_add_alpha(src, FALSE, 0, 0, 0);
    gdk_pixbuf_scale(with_alpha, out, (size - sw) / 2, (size - sh) / 2, sw, sh,
                     (size - sw) / 2.0, (size - sh) / 2.0, (double)sw / w, (double)sh / h,
                     GDK_INTERP_HYPER);
    return out;
}

char *desktop_entry_probe_icon(GBytes *data, int *width, int *height)
{
    *width = *height = 0;
    if (!data)
        return NULL;
    gsize len = 0;
    const guchar *bytes = g_bytes_get_data(data, &len);
    g_autoptr(GdkPixbufLoader) l = loader_for(bytes, len);
    if (!l)
        return NULL;
    bool ok = len && gdk_pixbuf_loader_write(l, bytes, len, NULL);
    ok = gdk_pixbuf_loader_close(l, NULL) && ok;
    GdkPixbuf *pix = ok ? gdk_pixbuf_loader_get_pixbuf(l) : NULL;
    GdkPixbufFormat *f = pix ? gdk_pixbuf_loader_get_format(l) : NULL;
    if (!f)
        return NULL;
    *width = gdk_pixbuf_get_width(pix);
    *height = gdk_pixbuf_get_height(pix);
    return gdk_pixbuf_format_get_name(f);
}

GPtrArray *desktop_entry_render_icon(GBytes *data, int **sizes_out, GError **error)
{
    *sizes_out = NULL;
    bool vector = false;
    g_autoptr(GdkPixbuf) natural = load(data, 0, &vector, error);
    if (!natural)
        return NULL;
    int biggest = MAX(gdk_pixbuf_get_width(natural), gdk_pixbuf_get_height(natural));
    g_autoptr(GPtrArray) pngs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_autoptr(GArray) sizes = g_array_new(TRUE, TRUE, sizeof(int));
    for (const int *s = desktop_entry_sizes; *s; s++) {
        bool required = false;
        for (const int *r = desktop_entry_sizes_required; *r; r++)
            required |= *r == *s;
        if (!vector && *s > biggest && !required)
            continue;
        /* Vector images are drawn at each size, not scaled from one. */
        g_autoptr(GdkPixbuf) drawn = vector ? load(data, *s, NULL, NULL) : NULL;
        g_autoptr(GdkPixbuf) square = fit_square(drawn ? drawn : natural, *s);
        gchar *buf = NULL;
        gsize len = 0;
        g_autoptr(GError) err = NULL;
        if (!gdk_pixbuf_save_to_buffer(square, &buf, &len, "png", &err, NULL)) {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot encode the icon as PNG: %s",
                        err->message);
            return NULL;
        }
        g_ptr_array_add(pngs, g_bytes_new_take(buf, len));
        g_array_append_val(sizes, *s);
    }
    *sizes_out = (int *)g_array_free(g_steal_pointer(&sizes), FALSE);
    return g_steal_pointer(&pngs);
}

static char *icon_path(const char *icon_name, int size)
{
    g_autofree char *dir = desktop_entry_icons_dir();
    g_autofree char *sz = g_strdup_printf("%dx%d", size, size);
    g_autofree char *file = g_strdup_printf("%s.png", icon_name);
    return g_build_filename(dir, sz, "apps", file, NULL);
}

/* Is @sub ("48x48") one of the sizes in @keep (0-terminated; NULL: none)? */
static bool size_kept(const char *sub, const int *keep)
{
    for (const int *k = keep; k && *k; k++) {
        char expect[32];
        snprintf(expect, sizeof(expect), "%dx%d", *k, *k);
        if (!strcmp(sub, expect))
            return true;
    }
    return false;
}

/* Remove @icon_name's files from every size folder of our hicolor, except
 * the PNGs of the sizes in @keep. */
static bool remove_icons(const char *icon_name, const int *keep, GError **error)
{
    g_autofree char *dir = desktop_entry_icons_dir();
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return true;
    const char *sub;
    while ((sub = g_dir_read_name(d))) {
        for (const char *const *ext = (const char *const[]){"png", "svg", "xpm", NULL}; *ext;
             ext++) {
            if (!strcmp(*ext, "png") && size_kept(sub, keep))
                continue;
            g_autofree char *file = g_strdup_printf("%s.%s", icon_name, *ext);
            g_autofree char *path = g_build_filename(dir, sub, "apps", file, NULL);
            if (g_unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR) {
                g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot remove %s: %s", path,
                            g_strerror(errno));
                return false;
            }
        }
    }
    return true;
}

static bool mkdir_for(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot create %s: %s", dir,
                    g_strerror(errno));
        return false;
    }
    return true;
}

/* --- entries --- */

char *desktop_entry_file_id(const char *vm, const char *connect, const char *app_id)
{
    g_autofree char *safe_vm = desktop_entry_sanitize(vm);
    g_autofree char *safe_id = desktop_entry_sanitize(app_id);
    if (!connect)
        return g_strdup_printf(PREFIX "%s-%s", safe_vm, safe_id);
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, connect, -1);
    sum[DESKTOP_ENTRY_URI_HASH_LEN] = '\0';
    return g_strdup_printf(PREFIX "%s-%s-%s", safe_vm, sum, safe_id);
}

static char *entry_path(const char *file_id)
{
    g_autofree char *dir = desktop_entry_apps_dir();
    g_autofree char *file = g_strdup_printf("%s.desktop", file_id);
    return g_build_filename(dir, file, NULL);
}

bool desktop_entry_install(const char *vm, const char *connect, const GuestApp *app,
                           const char *app_id, const char *vmdesk, char **path_out,
                           char **warning, GError **error)
{
    if (path_out)
        *path_out = NULL;
    *warning = NULL;
    g_autofree char *file_id = desktop_entry_file_id(vm, connect, app_id);

    /* Icons first: the entry names one only when its files are there. */
    bool have_icon = false;
    g_autofree int *sizes = NULL;
    if (app->icon_data) {
        g_autoptr(GError) err = NULL;
        g_autoptr(GPtrArray) pngs = desktop_entry_render_icon(app->icon_data, &sizes, &err);
        if (!pngs) {
            *warning = g_strdup_printf("%s: no icon (%s%s%s)", app->name,
                                       app->icon_path ? app->icon_path : "", app->icon_path ? ": " : "",
                                       err->message);
        } else {
            for (guint i = 0; i < pngs->len; i++) {
                g_autofree char *p = icon_path(file_id, sizes[i]);
                gsize len = 0;
                const char *bytes = g_bytes_get_data(g_ptr_array_index(pngs, i), &len);
                if (!mkdir_for(p, error) ||
                    !vd_file_write_atomic(p, bytes, (gssize)len, 0644, error))
                    return false;
            }
            have_icon = true;
        }
    } else {
        *warning = g_strdup_printf("%s: the guest has no icon file for it", app->name);
    }
    /* Sizes an earlier install wrote and this one did not. */
    if (!remove_icons(file_id, have_icon ? sizes : NULL, error))
        return false;

    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_TYPE, "Application");
    g_key_file_set_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_VERSION, "1.4");
    g_autofree char *name = g_strdup_printf("%s (%s)", app->name, vm);
    g_key_file_set_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_NAME, name);
    if (app->generic_name)
        g_key_file_set_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_GENERIC_NAME, app->generic_name);
    g_autofree char *comment = app->comment ? g_strdup(app->comment)
                                            : g_strdup_printf("%s in the virtual machine %s",
                                                              app->name, vm);
    g_key_file_set_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_COMMENT, comment);
    g_autofree char *exec = desktop_entry_exec_line(vmdesk, file_id, connect, vm, app->program,
                                                    (const char *const *)app->args);
    g_key_file_set_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_EXEC, exec);
    g_key_file_set_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_TRY_EXEC, vmdesk);
    if (have_icon)
        g_key_file_set_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_ICON, file_id);
    g_key_file_set_boolean(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_TERMINAL, FALSE);
    g_key_file_set_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_STARTUP_WM_CLASS, file_id);
    if (app->mime_types && *app->mime_types)
        g_key_file_set_string_list(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_MIME_TYPE,
                                   (const char *const *)app->mime_types,
                                   g_strv_length(app->mime_types));
    g_autoptr(GStrvBuilder) cats = g_strv_builder_new();
    for (char **c = app->categories; c && *c; c++)
        if (**c && !strpbrk(*c, "; \t"))
            g_strv_builder_add(cats, *c);
    g_strv_builder_add(cats, "X-Vmdesk");
    g_auto(GStrv) categories = g_strv_builder_end(cats);
    g_key_file_set_string_list(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_CATEGORIES,
                               (const char *const *)categories, g_strv_length(categories));
    g_key_file_set_string(kf, GROUP, KEY_VM, vm);
    if (connect)
        g_key_file_set_string(kf, GROUP, KEY_CONNECT, connect);
    g_key_file_set_string(kf, GROUP, KEY_PROGRAM, app->program);
    g_key_file_set_string(kf, GROUP, KEY_APP_ID, app->id);
    g_key_file_set_string(kf, GROUP, KEY_APP_NAME, app->name);

    gsize len = 0;
    g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
    g_autofree char *path = entry_path(file_id);
    if (!mkdir_for(path, error) || !vd_file_write_atomic(path, data, (gssize)len, 0644, error))
        return false;
    if (path_out)
        *path_out = g_steal_pointer(&path);
    return true;
}

static bool matches(GKeyFile *kf, const char *file_id, const char *const *which)
{
    if (!which)
        return true;
    g_autofree char *program = g_key_file_get_string(kf, GROUP, KEY_PROGRAM, NULL);
    g_autofree char *id = g_key_file_get_string(kf, GROUP, KEY_APP_ID, NULL);
    g_autofree char *name = g_key_file_get_string(kf, GROUP, KEY_APP_NAME, NULL);
    for (const char *const *w = which; *w; w++)
        if (!g_strcmp0(*w, program) || !g_strcmp0(*w, id) || !g_strcmp0(*w, file_id) ||
            (name && !g_ascii_strcasecmp(*w, name)))
            return true;
    return false;
}

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **desktop_entry_find(const char *vm, const char *connect, const char *const *which)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_autofree char *dir = desktop_entry_apps_dir();
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while (d && (n = g_dir_read_name(d)))
        if (g_str_has_prefix(n, PREFIX) && g_str_has_suffix(n, ".desktop"))
            g_ptr_array_add(names, g_strdup(n));
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *file = g_ptr_array_index(names, i);
        g_autofree char *path = g_build_filename(dir, file, NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
            continue;
        g_autofree char *owner = g_key_file_get_string(kf, GROUP, KEY_VM, NULL);
        g_autofree char *uri = g_key_file_get_string(kf, GROUP, KEY_CONNECT, NULL);
        g_autofree char *file_id = g_strndup(file, strlen(file) - strlen(".desktop"));
        if (!g_strcmp0(owner, vm) && !g_strcmp0(uri, connect) && matches(kf, file_id, which))
            g_strv_builder_add(b, path);
    }
    return g_strv_builder_end(b);
}

bool desktop_entry_remove_file(const char *path, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *icon = NULL;
    if (g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        icon = g_key_file_get_string(kf, GROUP, G_KEY_FILE_DESKTOP_KEY_ICON, NULL);
    /* The file's own name too: an entry whose icon did not decode has no
     * Icon key, but an earlier install may have left files of that name. */
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *file_id = g_strndup(base, strlen(base) - MIN(strlen(base), strlen(".desktop")));
    if (icon && g_str_has_prefix(icon, PREFIX) && !strchr(icon, '/') &&
        !remove_icons(icon, NULL, error))
        return false;
    if (!remove_icons(file_id, NULL, error))
        return false;
    if (g_unlink(path) < 0 && errno != ENOENT) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot remove %s: %s", path,
                    g_strerror(errno));
        return false;
    }
    return true;
}

bool desktop_entry_remove_vm(const char *vm, guint *removed, GError **error)
{
    g_auto(GStrv) paths = desktop_entry_find(vm, NULL, NULL);
    guint n = 0;
    for (char **p = paths; *p; p++, n++)
        if (!desktop_entry_remove_file(*p, error))
            return false;
    if (removed)
        *removed = n;
    if (n)
        desktop_entry_refresh_caches();
    return true;
}

void desktop_entry_refresh_caches(void)
{
    g_autofree char *apps = desktop_entry_apps_dir();
    g_autofree char *icons = desktop_entry_icons_dir();
    const char *udd[] = {"update-desktop-database", "-q", apps, NULL};
    const char *guic[] = {"gtk-update-icon-cache", "-f", "-t", "-q", icons, NULL};
    const char *const *cmds[] = {udd, guic};
    const char *dirs[] = {apps, icons};
    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        if (!g_file_test(dirs[i], G_FILE_TEST_IS_DIR))
            continue;
        VdRunResult r = {0};
        g_autoptr(GError) err = NULL;
        if (!vd_run(cmds[i], 30000, &r, &err))
            vd_debug("%s: %s", cmds[i][0], err->message);
        else if (r.wait_status != 0)
            vd_debug("%s failed: %s", cmds[i][0], r.output);
        vd_run_result_clear(&r);
    }
}
