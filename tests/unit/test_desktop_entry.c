/* unit-desktop-entry: the menu entries `vmdesk apps install` writes
 * (client/apps/desktop_entry.c), in a private XDG_DATA_HOME:
 *
 *   - every entry passes desktop-file-validate (desktop-file-utils);
 *   - icons land in hicolor/SIZExSIZE/apps/ at the sizes the source allows
 *     and at least 32, 48, 64, 128, each a PNG of that size (PNG, XPM, SVG,
 *     ICO sources; a non-square one centred);
 *   - the Exec line, launched the way desktop environments launch it
 *     (GDesktopAppInfo, GLib's launcher), runs the absolute vmdesk binary with
 *     exactly `app VM PROGRAM ARGS... FILES...`, for a Windows program with
 *     spaces and backslashes and arguments with quotes, $, ` and %: a copy of
 *     the entry whose first Exec word is an argv-recording program;
 *   - remove leaves nothing behind (entries, every icon size, no trace in
 *     the caches), and only the named VM's entries go (VM "t" vs "t-x");
 *   - a broken icon gives an entry without an Icon key and a warning. */
#include "apps/desktop_entry.h"
#include "common/error.h"
#include "common/spawn.h"
#include "test_util.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gdesktopappinfo.h>
#include <glib/gstdio.h>
#include <string.h>

static char *root;
static char *data_home;

static GBytes *png_bytes(int w, int h)
{
    g_autoptr(GdkPixbuf) p = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, w, h);
    gdk_pixbuf_fill(p, 0xcc8844ff);
    gchar *buf = NULL;
    gsize len = 0;
    g_assert_true(gdk_pixbuf_save_to_buffer(p, &buf, &len, "png", NULL, NULL));
    return g_bytes_new_take(buf, len);
}

/* A 16x16 32-bit ICO (one BMP image, AND mask), as Windows icons come. */
static GBytes *ico_bytes(void)
{
    GByteArray *b = g_byte_array_new();
    const guint8 head[] = {0, 0, 1, 0, 1, 0,                 /* ICONDIR, 1 image */
                           16, 16, 0, 0, 1, 0, 32, 0,        /* 16x16, 32 bpp */
                           0x68, 0x04, 0, 0, 22, 0, 0, 0};   /* 1128 bytes at 22 */
    g_byte_array_append(b, head, sizeof(head));
    const guint8 bih[] = {40, 0, 0, 0, 16, 0, 0, 0, 32, 0, 0, 0, /* height doubled */
                          1, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    g_byte_array_append(b, bih, sizeof(bih));
    for (int i = 0; i < 16 * 16; i++) {
        const guint8 bgra[] = {0x30, 0x90, 0xe0, 0xff};
        g_byte_array_append(b, bgra, 4);
    }
    guint8 mask[16 * 4] = {0};
    g_byte_array_append(b, mask, sizeof(mask));
    return g_byte_array_free_to_bytes(b);
}

static GuestApp *app_new(const char *id, const char *name, const char *program,
                         const char *const *args, GBytes *icon)
{
    GuestApp *a = g_new0(GuestApp, 1);
    a->id = g_strdup(id);
    a->name = g_strdup(name);
    a->program = g_strdup(program);
    a->args = g_strdupv((char **)(args ? args : (const char *const[]){NULL}));
    a->mime_types = g_strdupv((char *[]){NULL});
    a->categories = g_strdupv((char *[]){"Office", "WordProcessor", NULL});
    a->icon_data = icon;
    a->icon_path = g_strdup("C:\\icons\\x.ico");
    return a;
}

static int png_size(const char *path, int *h)
{
    int w = 0;
    g_autofree char *text = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &text, &len, NULL));
    g_autoptr(GBytes) b = g_bytes_new(text, len);
    g_autofree char *name = desktop_entry_probe_icon(b, &w, h);
    g_assert_cmpstr(name, ==, "png");
    return w;
}

static char *icon_file(const char *icon, int size)
{
    g_autofree char *sz = g_strdup_printf("%dx%d", size, size);
    g_autofree char *file = g_strdup_printf("%s.png", icon);
    return g_build_filename(data_home, "icons", "hicolor", sz, "apps", file, NULL);
}

/* Which sizes exist for @icon, as "16,32,..." */
static char *sizes_of(const char *icon)
{
    GString *s = g_string_new(NULL);
    for (const int *z = desktop_entry_sizes; *z; z++) {
        g_autofree char *p = icon_file(icon, *z);
        if (!g_file_test(p, G_FILE_TEST_EXISTS))
            continue;
        int h = 0;
        g_assert_cmpint(png_size(p, &h), ==, *z);
        g_assert_cmpint(h, ==, *z);
        g_string_append_printf(s, "%s%d", s->len ? "," : "", *z);
    }
    return g_string_free(s, FALSE);
}

static void validate(const char *path)
{
    const char *argv[] = {"desktop-file-validate", path, NULL};
    VdRunResult r = {0};
    g_autoptr(GError) err = NULL;
    g_assert_true(vd_run(argv, 30000, &r, &err));
    g_assert_no_error(err);
    if (r.wait_status != 0 || strstr(r.output, "error:"))
        g_error("desktop-file-validate %s: %s", path, r.output);
    if (*r.output)
        g_test_message("desktop-file-validate hints: %s", r.output);
    vd_run_result_clear(&r);
}

static char *install(const char *vm, GuestApp *app, const char *vmdesk, char **warning)
{
    g_autoptr(GError) err = NULL;
    char *path = NULL;
    g_autofree char *id = desktop_entry_sanitize(app->id);
    g_assert_true(desktop_entry_install(vm, NULL, app, id, vmdesk, &path, warning, &err));
    g_assert_no_error(err);
    validate(path);
    return path;
}

static void test_quote(void)
{
    static const struct {
        const char *in, *out;
    } q[] = {
        {"plain", "plain"},
        {"", "\"\""},
        {"/opt/My Apps/edit", "\"/opt/My Apps/edit\""},
        {"C:\\Program Files\\Word.exe", "\"C:\\\\Program Files\\\\Word.exe\""},
        {"a\"b", "\"a\\\"b\""},
        {"$HOME `x`", "\"\\$HOME \\`x\\`\""},
        {"100%", "100%%"},
        {"50% off", "\"50%% off\""},
        {"it's", "\"it's\""},
        {"a;b", "\"a;b\""},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(q); i++) {
        g_autofree char *got = desktop_entry_exec_quote(q[i].in);
        g_assert_cmpstr(got, ==, q[i].out);
    }
    /* "--" before the VM only when a guest argument looks like an option. */
    const char *plain[] = {"/n", NULL}, *dashed[] = {"--new-window", NULL};
    g_autofree char *e1 = desktop_entry_exec_line("/usr/bin/vmdesk", "vmdesk-d-x", NULL, "d", "/x",
                                                  plain);
    g_assert_cmpstr(e1, ==, "/usr/bin/vmdesk app --class vmdesk-d-x --program-args=1 d /x /n %F");
    g_autofree char *e2 = desktop_entry_exec_line("/usr/bin/vmdesk", "vmdesk-d-x", NULL, "d", "/x",
                                                  dashed);
    g_assert_cmpstr(e2, ==, "/usr/bin/vmdesk app --class vmdesk-d-x --program-args=1 -- d /x --new-window %F");
    /* A libvirt domain's entry reaches it at its URI. */
    g_autofree char *e3 = desktop_entry_exec_line("/usr/bin/vmdesk", "vmdesk-d-x",
                                                  "qemu+ssh://me@host/system", "d", "/x", NULL);
    g_assert_cmpstr(e3, ==, "/usr/bin/vmdesk app --class vmdesk-d-x --program-args=0 --connect "
                            "qemu+ssh://me@host/system d /x %F");

    g_autofree char *s1 = desktop_entry_sanitize("Word/../x y\\z");
    g_assert_cmpstr(s1, ==, "Word_.._x_y_z");
    g_autofree char *s2 = desktop_entry_sanitize(".hidden");
    g_assert_cmpstr(s2, ==, "_hidden");
    g_autofree char *s3 = desktop_entry_sanitize("");
    g_assert_cmpstr(s3, ==, "app");
    g_autofree char *s4 = desktop_entry_sanitize("Microsoft.WindowsCalculator_8wekyb3d8bbwe!App");
    g_assert_cmpstr(s4, ==, "Microsoft.WindowsCalculator_8wekyb3d8bbwe_App");

    g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func((GDestroyNotify)guest_app_free);
    g_ptr_array_add(apps, app_new("a b", "A", "/a", NULL, NULL));
    g_ptr_array_add(apps, app_new("a_b", "B", "/b", NULL, NULL));
    g_ptr_array_add(apps, app_new("a/b", "C", "/c", NULL, NULL));
    g_auto(GStrv) ids = desktop_entry_assign_ids(apps);
    const char *want[] = {"a_b", "a_b-2", "a_b-3", NULL};
    g_assert_cmpstrv(ids, want);
}

/* Wait for @path to appear (the launched program writes it). */
static char *wait_file(const char *path, gsize *len)
{
    for (int i = 0; i < 500; i++) {
        char *text = NULL;
        if (g_file_get_contents(path, &text, len, NULL) && *len && text[*len - 1] == '\n' &&
            g_str_has_suffix(text, "END\n"))
            return text;
        g_free(text);
        g_usleep(10 * 1000);
    }
    g_error("the launched program did not write %s", path);
}

static void test_exec_launch(void)
{
    /* The program that records its argv, one argument per line (NUL-free
     * arguments; a newline would show as two). */
    g_autofree char *bin_dir = g_build_filename(root, "bin dir", NULL);
    g_assert_cmpint(g_mkdir_with_parents(bin_dir, 0700), ==, 0);
    g_autofree char *recorder = g_build_filename(bin_dir, "record argv", NULL);
    g_autofree char *record = g_build_filename(root, "argv.txt", NULL);
    g_autofree char *quoted_record = g_shell_quote(record);
    g_autofree char *script = g_strdup_printf(
        "#!/bin/sh\n{ printf '%%s\\n' \"$0\"; for a in \"$@\"; do printf '%%s\\n' \"$a\"; done; "
        "echo END; } > %s.tmp && mv %s.tmp %s\n",
        quoted_record, quoted_record, quoted_record);
    tu_write_file(recorder, script);
    g_assert_cmpint(g_chmod(recorder, 0755), ==, 0);

    /* GDesktopAppInfo honours TryExec: the vmdesk it names must exist. */
    g_autofree char *vmdesk = g_build_filename(bin_dir, "vmdesk", NULL);
    tu_write_file(vmdesk, "#!/bin/sh\nexit 1\n");
    g_assert_cmpint(g_chmod(vmdesk, 0755), ==, 0);
    const char *args[] = {"/n", "a \"quoted\" $HOME `x`", "100%", "back\\slash", NULL};
    g_autoptr(GuestApp) app = app_new("Word", "Word", "C:\\Program Files\\My Office\\WINWORD.EXE",
                                      args, png_bytes(32, 32));
    g_autofree char *warning = NULL;
    g_autofree char *path = install("win 11", app, vmdesk, &warning);
    if (warning)
        g_error("%s", warning);

    /* The entry itself runs the absolute vmdesk (a path with a space here). */
    g_autoptr(GDesktopAppInfo) info = g_desktop_app_info_new_from_filename(path);
    g_assert_nonnull(info);
    g_assert_cmpstr(g_app_info_get_name(G_APP_INFO(info)), ==, "Word (win 11)");
    g_assert_cmpstr(g_desktop_app_info_get_startup_wm_class(info), ==, "vmdesk-win_11-Word");
    g_autofree char *vm = g_desktop_app_info_get_string(info, "X-Vmdesk-VM");
    g_assert_cmpstr(vm, ==, "win 11");
    g_autofree char *prog = g_desktop_app_info_get_string(info, "X-Vmdesk-Program");
    g_assert_cmpstr(prog, ==, "C:\\Program Files\\My Office\\WINWORD.EXE");

    /* A copy whose Exec starts the recorder instead. */
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
    g_autofree char *exec = g_key_file_get_string(kf, "Desktop Entry", "Exec", NULL);
    g_test_message("Exec=%s", exec);
    /* (g_app_info_get_executable() cuts at the first space, quotes or not:
     * the launcher's own parse is what counts.) */
    g_auto(GStrv) words = NULL;
    g_assert_true(g_shell_parse_argv(exec, NULL, &words, NULL));
    g_assert_cmpstr(words[0], ==, vmdesk);
    g_assert_cmpstr(words[g_strv_length(words) - 1], ==, "%F");
    g_autofree char *qv = desktop_entry_exec_quote(vmdesk);
    g_assert_true(g_str_has_prefix(exec, qv));
    g_autofree char *qr = desktop_entry_exec_quote(recorder);
    g_autofree char *exec2 = g_strconcat(qr, exec + strlen(qv), NULL);
    g_key_file_set_string(kf, "Desktop Entry", "Exec", exec2);
    g_key_file_remove_key(kf, "Desktop Entry", "TryExec", NULL);
    g_autofree char *copy = g_build_filename(root, "copy.desktop", NULL);
    g_assert_true(g_key_file_save_to_file(kf, copy, NULL));
    g_autoptr(GDesktopAppInfo) info2 = g_desktop_app_info_new_from_filename(copy);
    g_assert_nonnull(info2);

    g_autofree char *f1 = g_build_filename(root, "My Doc's \"1\".docx", NULL);
    g_autofree char *f2 = g_build_filename(root, "b$c.txt", NULL);
    GList *files = NULL;
    files = g_list_append(files, g_file_new_for_path(f1));
    files = g_list_append(files, g_file_new_for_path(f2));
    g_autoptr(GError) err = NULL;
    g_assert_true(g_app_info_launch(G_APP_INFO(info2), files, NULL, &err));
    g_assert_no_error(err);
    g_list_free_full(files, g_object_unref);
    gsize len = 0;
    g_autofree char *got = wait_file(record, &len);
    g_autofree char *want = g_strjoin("\n", recorder, "app", "--class", "vmdesk-win_11-Word",
                                      "--program-args=4", "win 11",
                                      "C:\\Program Files\\My Office\\WINWORD.EXE", args[0],
                                      args[1], args[2], args[3], f1, f2, "END\n", NULL);
    g_assert_cmpstr(got, ==, want);

    /* gio launch, the command-line way, gives the same. */
    g_unlink(record);
    const char *gio[] = {"gio", "launch", copy, f1, NULL};
    VdRunResult r = {0};
    g_assert_true(vd_run(gio, 30000, &r, &err));
    g_assert_no_error(err);
    if (r.wait_status != 0)
        g_error("gio launch: %s", r.output);
    vd_run_result_clear(&r);
    g_autofree char *got2 = wait_file(record, &len);
    g_autofree char *want2 = g_strjoin("\n", recorder, "app", "--class", "vmdesk-win_11-Word",
                                       "--program-args=4", "win 11",
                                       "C:\\Program Files\\My Office\\WINWORD.EXE", args[0],
                                       args[1], args[2], args[3], f1, "END\n", NULL);
    g_assert_cmpstr(got2, ==, want2);
    g_assert_true(desktop_entry_remove_vm("win 11", NULL, &err));
}

static bool tree_mentions(const char *dir, const char *needle)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, n, NULL);
        if (strstr(n, needle)) {
            g_test_message("left behind: %s", p);
            return true;
        }
        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            if (tree_mentions(p, needle))
                return true;
            continue;
        }
        g_autofree char *text = NULL;
        gsize len = 0;
        if (g_file_get_contents(p, &text, &len, NULL) &&
            memmem(text, len, needle, strlen(needle))) {
            g_test_message("%s still mentions %s", p, needle);
            return true;
        }
    }
    return false;
}

static void test_icons_and_remove(void)
{
    g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func((GDestroyNotify)guest_app_free);
    const char *svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">"
                      "<rect width=\"10\" height=\"10\" fill=\"red\"/></svg>";
    const char *xpm = "/* XPM */\nstatic char *x[] = {\"4 4 1 1\", \". c #00FF00\", \"....\", "
                      "\"....\", \"....\", \"....\"};\n";
    g_ptr_array_add(apps, app_new("png48", "Png 48", "/usr/bin/a", NULL, png_bytes(48, 48)));
    g_ptr_array_add(apps, app_new("png512", "Png 512", "/usr/bin/b", NULL, png_bytes(512, 512)));
    g_ptr_array_add(apps, app_new("wide", "Wide", "/usr/bin/c", NULL, png_bytes(64, 16)));
    g_ptr_array_add(apps, app_new("svg", "Svg", "/usr/bin/d", NULL,
                                  g_bytes_new_static(svg, strlen(svg))));
    g_ptr_array_add(apps, app_new("xpm", "Xpm", "/usr/bin/e", NULL,
                                  g_bytes_new_static(xpm, strlen(xpm))));
    g_ptr_array_add(apps, app_new("ico", "Ico", "C:\\e.exe", NULL, ico_bytes()));
    g_ptr_array_add(apps, app_new("bad", "Bad", "/usr/bin/f", NULL,
                                  g_bytes_new_static("not an image", 12)));
    GuestApp *mimed = app_new("mimed", "Mimed", "/usr/bin/g", NULL, NULL);
    g_strfreev(mimed->mime_types);
    mimed->mime_types = g_strdupv((char *[]){"text/plain", "application/x-vmdesk-test", NULL});
    g_ptr_array_add(apps, mimed);
    static const char *const want[] = {
        "16,24,32,48,64,128",        "16,24,32,48,64,128,256", "16,24,32,48,64,128",
        "16,24,32,48,64,128,256",    "32,48,64,128",           "16,32,48,64,128",
    };
    g_auto(GStrv) ids = desktop_entry_assign_ids(apps);
    for (guint i = 0; i < apps->len; i++) {
        GuestApp *a = g_ptr_array_index(apps, i);
        g_autofree char *warning = NULL;
        g_autofree char *path = NULL;
        g_autoptr(GError) err = NULL;
        g_assert_true(desktop_entry_install("t", NULL, a, ids[i], "/usr/bin/vmdesk", &path, &warning,
                                            &err));
        g_assert_no_error(err);
        validate(path);
        g_autofree char *icon = g_strdup_printf("vmdesk-t-%s", ids[i]);
        g_autofree char *sizes = sizes_of(icon);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
        g_autofree char *icon_key = g_key_file_get_string(kf, "Desktop Entry", "Icon", NULL);
        if (i < G_N_ELEMENTS(want)) {
            g_test_message("%s: sizes %s", a->id, sizes);
            g_assert_cmpstr(sizes, ==, want[i]);
            g_assert_cmpstr(icon_key, ==, icon);
            g_assert_null(warning);
        } else {
            /* No icon, or one that does not decode: no Icon key, a warning. */
            g_assert_cmpstr(sizes, ==, "");
            g_assert_null(icon_key);
            g_assert_nonnull(warning);
            g_test_message("warning: %s", warning);
        }
    }
    /* The wide icon is centred in its square, transparent above and below. */
    g_autofree char *wide = icon_file("vmdesk-t-wide", 64);
    g_autoptr(GdkPixbufLoader) wl = gdk_pixbuf_loader_new_with_type("png", NULL);
    g_autofree char *wide_png = NULL;
    gsize wide_len = 0;
    g_assert_true(g_file_get_contents(wide, &wide_png, &wide_len, NULL));
    g_assert_true(gdk_pixbuf_loader_write(wl, (const guchar *)wide_png, wide_len, NULL));
    g_assert_true(gdk_pixbuf_loader_close(wl, NULL));
    GdkPixbuf *wp = gdk_pixbuf_loader_get_pixbuf(wl);
    g_assert_nonnull(wp);
    const guchar *px = gdk_pixbuf_read_pixels(wp);
    int stride = gdk_pixbuf_get_rowstride(wp);
    g_assert_cmpint(px[0 * stride + 32 * 4 + 3], ==, 0);
    g_assert_cmpint(px[32 * stride + 32 * 4 + 3], ==, 255);

    g_autofree char *mimed_path = g_build_filename(data_home, "applications",
                                                   "vmdesk-t-mimed.desktop", NULL);
    g_autoptr(GKeyFile) mk = g_key_file_new();
    g_assert_true(g_key_file_load_from_file(mk, mimed_path, G_KEY_FILE_NONE, NULL));
    g_autofree char *mime = g_key_file_get_string(mk, "Desktop Entry", "MimeType", NULL);
    g_assert_cmpstr(mime, ==, "text/plain;application/x-vmdesk-test;");

    /* Another VM whose name starts the same. */
    g_autoptr(GuestApp) other = app_new("png48", "Png 48", "/usr/bin/a", NULL, png_bytes(48, 48));
    g_autofree char *warning = NULL;
    g_autofree char *other_path = install("t-x", other, "/usr/bin/vmdesk", &warning);
    desktop_entry_refresh_caches();
    g_autofree char *cache = g_build_filename(data_home, "applications", "mimeinfo.cache", NULL);
    g_autofree char *cache_text = NULL;
    g_assert_true(g_file_get_contents(cache, &cache_text, NULL, NULL));
    g_assert_nonnull(strstr(cache_text, "vmdesk-t-mimed.desktop"));
    g_autofree char *icache = g_build_filename(data_home, "icons", "hicolor", "icon-theme.cache",
                                               NULL);
    g_assert_true(g_file_test(icache, G_FILE_TEST_EXISTS));

    /* Removing some by program, id or name. */
    const char *which[] = {"/usr/bin/a", "svg", "XPM", NULL};
    g_auto(GStrv) found = desktop_entry_find("t", NULL, which);
    g_assert_cmpuint(g_strv_length(found), ==, 3);
    for (char **p = found; *p; p++)
        g_assert_true(desktop_entry_remove_file(*p, NULL));
    g_autofree char *s1 = sizes_of("vmdesk-t-png48");
    g_assert_cmpstr(s1, ==, "");
    g_autofree char *s2 = sizes_of("vmdesk-t-png512");
    g_assert_cmpstr(s2, !=, "");

    /* All of t's: nothing of t left, in files or the caches; t-x stays. */
    guint removed = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(desktop_entry_remove_vm("t", &removed, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(removed, ==, 5);
    g_assert_false(tree_mentions(data_home, "vmdesk-t-png512"));
    g_assert_false(tree_mentions(data_home, "vmdesk-t-mimed"));
    g_assert_false(tree_mentions(data_home, "vmdesk-t-bad"));
    g_assert_false(tree_mentions(data_home, "vmdesk-t-ico"));
    g_assert_true(g_file_test(other_path, G_FILE_TEST_EXISTS));
    g_autofree char *s3 = sizes_of("vmdesk-t-x-png48");
    g_assert_cmpstr(s3, ==, "16,24,32,48,64,128");
    g_assert_true(desktop_entry_remove_vm("t-x", &removed, &err));
    g_assert_cmpuint(removed, ==, 1);
    g_assert_false(tree_mentions(data_home, "vmdesk-"));
}

/* A libvirt domain's entries never take the file of vmdesk's own VM of the
 * same name, nor of a domain of that name on another host: each is found by
 * its X-Vmdesk-Connect, and deleting the VM leaves the domains' alone. */
static void test_libvirt_entries(void)
{
    const char *a = "qemu+ssh://root@host-a/system", *b = "qemu+ssh://root@host-b/system";
    g_autoptr(GuestApp) app = app_new("notepad.exe", "notepad", "C:\\Windows\\notepad.exe", NULL,
                                      NULL);
    const char *conns[] = {NULL, a, b};
    char *paths[3];
    for (int i = 0; i < 3; i++) {
        g_autofree char *warning = NULL;
        g_autoptr(GError) err = NULL;
        g_assert_true(desktop_entry_install("win", conns[i], app, "notepad.exe",
                                            "/usr/bin/vmdesk", &paths[i], &warning, &err));
        validate(paths[i]);
    }
    g_assert_cmpstr(paths[0], !=, paths[1]);
    g_assert_cmpstr(paths[1], !=, paths[2]);
    g_assert_cmpstr(paths[0], !=, paths[2]);
    g_autofree char *id_a = desktop_entry_file_id("win", a, "notepad.exe");
    g_assert_true(g_str_has_prefix(id_a, "vmdesk-win-"));
    g_assert_true(g_str_has_suffix(id_a, "-notepad.exe"));
    g_assert_cmpuint(strlen(id_a), ==,
                     strlen("vmdesk-win--notepad.exe") + DESKTOP_ENTRY_URI_HASH_LEN);
    for (int i = 0; i < 3; i++) {
        g_auto(GStrv) found = desktop_entry_find("win", conns[i], NULL);
        g_assert_cmpuint(g_strv_length(found), ==, 1);
        g_assert_cmpstr(found[0], ==, paths[i]);
        const char *which[] = {"notepad", NULL};
        g_auto(GStrv) named = desktop_entry_find("win", conns[i], which);
        g_assert_cmpuint(g_strv_length(named), ==, 1);
    }
    guint removed = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(desktop_entry_remove_vm("win", &removed, &err));
    g_assert_cmpuint(removed, ==, 1);
    g_assert_false(g_file_test(paths[0], G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(paths[1], G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(paths[2], G_FILE_TEST_EXISTS));
    for (int i = 1; i < 3; i++) {
        g_auto(GStrv) found = desktop_entry_find("win", conns[i], NULL);
        g_assert_true(desktop_entry_remove_file(found[0], NULL));
    }
    g_assert_false(tree_mentions(data_home, "vmdesk-win"));
    for (int i = 0; i < 3; i++)
        g_free(paths[i]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    root = tu_tmpdir();
    data_home = g_build_filename(root, "data", NULL);
    /* Set before GLib reads and caches it. */
    g_setenv("XDG_DATA_HOME", data_home, TRUE);
    g_setenv("XDG_DATA_DIRS", root, TRUE);
    g_test_add_func("/desktop-entry/quote-sanitize", test_quote);
    g_test_add_func("/desktop-entry/exec-launch", test_exec_launch);
    g_test_add_func("/desktop-entry/icons-remove", test_icons_and_remove);
    g_test_add_func("/desktop-entry/libvirt", test_libvirt_entries);
    int status = g_test_run();
    tu_rm_rf(root);
    return status;
}
