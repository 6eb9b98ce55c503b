/* unit-apps: application discovery without a guest.
 *
 *   - guest-tools/linux/list-apps.sh (the copy embedded in vmdesk) runs on the
 *     host with `sh -s`, against a private tree of fixture .desktop files and
 *     icons (PNG, XPM, SVG; VMDESK_ROOT and VMDESK_HOME point it there), and
 *     its output goes through guest_apps_parse(): which entries are listed
 *     (NoDisplay, Hidden, Terminal, OnlyShowIn/NotShowIn, TryExec, missing
 *     programs, a user's copy overriding the system's), Exec split by the
 *     spec's quoting rules, icons found in the theme folders and pixmaps and
 *     decodable;
 *   - guest_apps_parse() on malformed output: a clear error with the line,
 *     never a crash. */
#include "common/error.h"
#include "common/text.h"
#include "guest/guest_apps.h"
#include "test_util.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <string.h>

static char *root; /* the fixture tree: root/sys (VMDESK_ROOT), root/home (VMDESK_HOME) */

static void write_at(const char *rel, const char *text)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    tu_write_file(path, text);
}

static void program_at(const char *rel)
{
    write_at(rel, "#!/bin/sh\nexit 0\n");
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
}

/* A @w x @h PNG at @rel. */
static void png_at(const char *rel, int w, int h)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_autoptr(GdkPixbuf) p = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, w, h);
    gdk_pixbuf_fill(p, 0x3366ccff);
    g_assert_true(gdk_pixbuf_save(p, path, "png", NULL, NULL));
}

static const char xpm16[] =
    "/* XPM */\nstatic char *paint[] = {\n\"16 16 2 1\",\n\"  c None\",\n\". c #CC3333\",\n"
    "\"................\",\n\"................\",\n\"..            ..\",\n"
    "\"..            ..\",\n\"..            ..\",\n\"..            ..\",\n"
    "\"..            ..\",\n\"..            ..\",\n\"..            ..\",\n"
    "\"..            ..\",\n\"..            ..\",\n\"..            ..\",\n"
    "\"..            ..\",\n\"..            ..\",\n\"................\",\n"
    "\"................\"};\n";

static const char svg[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"24\" height=\"24\" viewBox=\"0 0 24 24\">"
    "<circle cx=\"12\" cy=\"12\" r=\"10\" fill=\"#2a7\"/></svg>\n";

#define ENTRY "[Desktop Entry]\nType=Application\n"

static void make_tree(void)
{
    /* Listed. */
    write_at("sys/usr/share/applications/editor.desktop",
             "# a comment\n[Desktop Entry]\nType=Application\nName=Text Editor\n"
             "Name[de]=Texteditor\nGenericName=Editor\nComment=Edits \"text\"\\sfiles\n"
             "Exec=\"/opt/My Apps/edit\" --new-window \"a \\\\\"b\\\\\" c\" 100%% %F\n"
             "Icon=editor\nMimeType=text/plain;text/x-csrc;\nCategories=Utility;TextEditor;\n"
             "[Desktop Action new]\nName=New\nExec=/bin/false\n");
    program_at("sys/opt/My Apps/edit");
    png_at("sys/usr/share/icons/hicolor/48x48/apps/editor.png", 48, 48);
    png_at("sys/usr/share/icons/hicolor/16x16/apps/editor.png", 16, 16);
    write_at("sys/usr/share/applications/paint.desktop",
             ENTRY "Name=Paint\nExec=paint %U\nIcon=paint.xpm\nTryExec=paint\n");
    program_at("sys/usr/bin/paint");
    write_at("sys/usr/share/pixmaps/paint.xpm", xpm16);
    write_at("sys/usr/share/applications/vector.desktop",
             ENTRY "Name=Vector\nExec=/usr/bin/vector\nIcon=vector\n");
    program_at("sys/usr/bin/vector");
    write_at("sys/usr/share/icons/Other/scalable/apps/vector.svg", svg);
    write_at("sys/usr/share/applications/kde/nested.desktop",
             ENTRY "Name=Nested\nExec=vector --nested\nIcon=/usr/share/pixmaps/abs.png\n");
    png_at("sys/usr/share/pixmaps/abs.png", 64, 32);
    write_at("sys/usr/share/applications/noicon.desktop",
             ENTRY "Name=No Icon\nExec=vector\nIcon=nothing-like-this\n");
    /* The user's copy wins over the system's, and can hide it. */
    write_at("sys/usr/share/applications/mine.desktop", ENTRY "Name=System\nExec=vector\n");
    write_at("home/.local/share/applications/mine.desktop", ENTRY "Name=Mine\nExec=paint\n");
    write_at("sys/usr/share/applications/shadowed.desktop", ENTRY "Name=Shadowed\nExec=vector\n");
    write_at("home/.local/share/applications/shadowed.desktop", ENTRY "Name=S\nHidden=true\n");
    /* Not listed. */
    write_at("sys/usr/share/applications/hidden.desktop",
             ENTRY "Name=Hidden\nExec=vector\nNoDisplay=true\n");
    write_at("sys/usr/share/applications/term.desktop",
             ENTRY "Name=Term\nExec=vector\nTerminal=true\n");
    write_at("sys/usr/share/applications/gnome.desktop",
             ENTRY "Name=Gnome Panel\nExec=vector\nOnlyShowIn=GNOME;\n");
    write_at("sys/usr/share/applications/notkde.desktop",
             ENTRY "Name=Not in KDE\nExec=vector\nNotShowIn=KDE;\n");
    write_at("sys/usr/share/applications/missing.desktop",
             ENTRY "Name=Missing\nExec=/no/such/program\n");
    write_at("sys/usr/share/applications/tryexec.desktop",
             ENTRY "Name=TryExec\nExec=vector\nTryExec=no-such-tool\n");
    write_at("sys/usr/share/applications/link.desktop",
             "[Desktop Entry]\nType=Link\nName=Link\nURL=https://example.org\n");
    write_at("sys/usr/share/applications/noexec.desktop", ENTRY "Name=No Exec\n");
    write_at("sys/usr/share/applications/broken.desktop", "this is not a desktop file\n\x01\n");
    write_at("sys/usr/share/applications/not-a-desktop-file.txt", ENTRY "Name=Txt\nExec=vector\n");
}

/* Run the embedded script on the fixture tree; its parsed output. */
static GPtrArray *run_script(const char *desktops, char **os)
{
    g_autoptr(GSubprocessLauncher) l =
        tu_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autofree char *sys = g_build_filename(root, "sys", NULL);
    g_autofree char *home = g_build_filename(root, "home", NULL);
    g_autofree char *path = g_strdup_printf("%s/usr/bin:/usr/bin:/bin", sys);
    g_subprocess_launcher_set_environ(l, (char *[]){NULL});
    g_subprocess_launcher_setenv(l, "PATH", path, TRUE);
    g_subprocess_launcher_setenv(l, "VMDESK_ROOT", sys, TRUE);
    g_subprocess_launcher_setenv(l, "VMDESK_HOME", home, TRUE);
    if (desktops)
        g_subprocess_launcher_setenv(l, "VMDESK_DESKTOPS", desktops, TRUE);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawn(l, &err, "/bin/sh", "-s", NULL);
    g_assert_no_error(err);
    gsize len = 0;
    const char *script = guest_apps_script(VM_OS_LINUX, &len);
    g_autoptr(GBytes) in = g_bytes_new_static(script, len);
    g_autoptr(GBytes) out = NULL, errb = NULL;
    g_assert_true(g_subprocess_communicate(p, in, NULL, &out, &errb, &err));
    g_assert_no_error(err);
    gsize elen = 0;
    const char *etext = g_bytes_get_data(errb, &elen);
    if (elen)
        g_test_message("list-apps.sh stderr: %.*s", (int)elen, etext);
    g_assert_true(g_subprocess_get_if_exited(p));
    g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
    gsize olen = 0;
    const char *text = g_bytes_get_data(out, &olen);
    GPtrArray *apps = guest_apps_parse(text, olen, os, &err);
    if (!apps)
        g_error("%s\n%.*s", err->message, (int)olen, text);
    return apps;
}

static const GuestApp *find(GPtrArray *apps, const char *id)
{
    for (guint i = 0; i < apps->len; i++) {
        const GuestApp *a = g_ptr_array_index(apps, i);
        if (!strcmp(a->id, id))
            return a;
    }
    return NULL;
}

/* The icon decodes; its format and size. */
static void check_icon(const GuestApp *a, const char *format, int w, int h)
{
    g_assert_nonnull(a->icon_data);
    g_autoptr(GdkPixbufLoader) l = gdk_pixbuf_loader_new();
    gsize len = 0;
    const guchar *bytes = g_bytes_get_data(a->icon_data, &len);
    g_assert_true(gdk_pixbuf_loader_write(l, bytes, len, NULL));
    g_assert_true(gdk_pixbuf_loader_close(l, NULL));
    GdkPixbuf *pix = gdk_pixbuf_loader_get_pixbuf(l);
    g_assert_nonnull(pix);
    g_autofree char *name = gdk_pixbuf_format_get_name(gdk_pixbuf_loader_get_format(l));
    g_assert_cmpstr(name, ==, format);
    g_assert_cmpint(gdk_pixbuf_get_width(pix), ==, w);
    g_assert_cmpint(gdk_pixbuf_get_height(pix), ==, h);
}

static void test_script(void)
{
    g_autofree char *os = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GPtrArray) apps = run_script(NULL, &os);
    g_test_message("list-apps.sh on the fixture tree: %u apps in %.1f ms", apps->len,
                   (g_get_monotonic_time() - t0) / 1000.0);
    g_assert_cmpstr(os, ==, "linux");
    for (guint i = 0; i < apps->len; i++)
        g_test_message("listed: %s", ((GuestApp *)g_ptr_array_index(apps, i))->id);
    g_assert_cmpuint(apps->len, ==, 7);

    const GuestApp *ed = find(apps, "editor");
    g_assert_nonnull(ed);
    g_assert_cmpstr(ed->name, ==, "Text Editor");
    g_assert_cmpstr(ed->generic_name, ==, "Editor");
    g_assert_cmpstr(ed->comment, ==, "Edits \"text\" files");
    g_assert_cmpstr(ed->program, ==, "/opt/My Apps/edit");
    const char *ed_args[] = {"--new-window", "a \"b\" c", "100%", NULL};
    g_assert_cmpstrv(ed->args, ed_args);
    const char *ed_mime[] = {"text/plain", "text/x-csrc", NULL};
    g_assert_cmpstrv(ed->mime_types, ed_mime);
    const char *ed_cats[] = {"Utility", "TextEditor", NULL};
    g_assert_cmpstrv(ed->categories, ed_cats);
    g_assert_true(g_str_has_suffix(ed->icon_path, "/usr/share/icons/hicolor/48x48/apps/editor.png"));
    g_assert_true(g_str_has_suffix(ed->source, "/usr/share/applications/editor.desktop"));
    check_icon(ed, "png", 48, 48);

    const GuestApp *paint = find(apps, "paint");
    g_assert_nonnull(paint);
    g_assert_cmpstr(paint->program, ==, "/usr/bin/paint");
    g_assert_cmpuint(g_strv_length(paint->args), ==, 0);
    g_assert_true(g_str_has_suffix(paint->icon_path, "/usr/share/pixmaps/paint.xpm"));
    check_icon(paint, "xpm", 16, 16);

    const GuestApp *vec = find(apps, "vector");
    g_assert_nonnull(vec);
    g_assert_true(g_str_has_suffix(vec->icon_path, "/icons/Other/scalable/apps/vector.svg"));
    check_icon(vec, "svg", 24, 24);

    const GuestApp *nested = find(apps, "kde-nested");
    g_assert_nonnull(nested);
    g_assert_cmpstr(nested->program, ==, "/usr/bin/vector");
    const char *n_args[] = {"--nested", NULL};
    g_assert_cmpstrv(nested->args, n_args);
    check_icon(nested, "png", 64, 32);

    const GuestApp *noicon = find(apps, "noicon");
    g_assert_nonnull(noicon);
    g_assert_null(noicon->icon_data);
    g_assert_null(noicon->icon_path);

    const GuestApp *mine = find(apps, "mine");
    g_assert_nonnull(mine);
    g_assert_cmpstr(mine->name, ==, "Mine");
    g_assert_nonnull(find(apps, "notkde"));
    for (const char *const *id = (const char *const[]){"shadowed", "hidden", "term", "gnome",
                                                       "missing", "tryexec", "link", "noexec",
                                                       "broken", NULL};
         *id; id++)
        if (find(apps, *id))
            g_error("%s is listed", *id);

    /* A desktop named in VMDESK_DESKTOPS shows its OnlyShowIn entries and hides
     * its NotShowIn ones. */
    g_autoptr(GPtrArray) gnome = run_script("GNOME", NULL);
    g_assert_nonnull(find(gnome, "gnome"));
    g_assert_nonnull(find(gnome, "notkde"));
    g_autoptr(GPtrArray) kde = run_script("X-Foo:KDE", NULL);
    g_assert_null(find(kde, "gnome"));
    g_assert_null(find(kde, "notkde"));
}

/* Malformed output: an error naming the line and the fault, never a crash. */
static void test_parse_malformed(void)
{
#define HDR "{\"vmdesk-list-apps\":1,\"os\":\"linux\"}\n"
#define APP "{\"id\":\"a\",\"name\":\"A\",\"program\":\"/bin/a\"}\n"
    static const struct {
        const char *out;
        gsize len; /* 0: strlen */
        const char *error;
    } cases[] = {
        {"", 0, "the discovery script printed nothing"},
        {"sh: 1: awk: not found\n", 0, "line 1: not a JSON object (the discovery script sent malformed JSON"},
        {"[1,2]\n", 0, "line 1: not a JSON object"},
        {"{\"vmdesk-list-apps\":2}\n{\"end\":0}\n", 0, "header is missing"},
        {HDR, 0, "cut short after 0 applications (no end line)"},
        {HDR APP, 0, "cut short after 1 applications"},
        {HDR APP "{\"end\":2}\n", 0, "line 3: the end line counts other applications, 1 came"},
        {HDR APP "{\"end\":\"1\"}\n", 0, "line 3: the end line counts no applications"},
        {HDR "{\"end\":0}\n" APP, 0, "line 3: more output after the end line"},
        {HDR "{\"id\":\"a\",\"program\":\"/bin/a\"}\n{\"end\":1}\n", 0,
         "line 2: an application without \"name\""},
        {HDR "{\"id\":\"a\",\"name\":\"\",\"program\":\"/bin/a\"}\n", 0, "without \"name\""},
        {HDR "{\"id\":\"a\",\"name\":\"A\"}\n", 0, "without \"program\""},
        {HDR "{\"name\":\"A\",\"program\":\"p\"}\n", 0, "without \"id\""},
        {HDR "{\"id\":1,\"name\":\"A\",\"program\":\"p\"}\n", 0, "\"id\" is not a string"},
        {HDR "{\"id\":\"a\",\"name\":\"A\",\"program\":\"p\",\"args\":\"-x\"}\n", 0,
         "\"args\" is not an array"},
        {HDR "{\"id\":\"a\",\"name\":\"A\",\"program\":\"p\",\"mime-types\":[1]}\n", 0,
         "\"mime-types\" holds something other than strings"},
        {HDR "{\"id\":\"a\",\"name\":\"A\",\"program\":\"p\",\"categories\":[[\"x\"]]}\n", 0,
         "\"categories\" holds something other than strings"},
        {HDR "{\"id\":\"a\",\"name\":\"A\",\"program\":\"p\",\"icon-data\":\"ab$d\"}\n", 0,
         "the icon data of \"A\" is not base64"},
        {HDR "{\"id\":\"a\",\"name\":\"A\",\"program\":\"p\",\"icon-data\":\"abc\"}\n", 0,
         "not base64"},
        {HDR "{\"id\":\"a\",\"name\":\"A\",\"program\":\"p\",\"icon-data\":\"a=bc\"}\n", 0,
         "not base64"},
        {HDR "{\"id\":\"a\",\"name\":\"A\",\"program\":\"p\",\"icon-data\":[]}\n", 0,
         "\"icon-data\" is not a string"},
        {HDR "{\"id\":\"a\",\"name\":\"\xff\xfe\",\"program\":\"p\"}\n", 0, "line 2: not UTF-8"},
        {HDR "{\"id\":\"a\",\"name\":\"A\",\"program\":\"p\"\n", 0, "line 2: not a JSON object (the discovery script sent malformed JSON"},
        {HDR "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
         0, "line 2: not a JSON object (the discovery script sent malformed JSON"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        gsize len = cases[i].len ? cases[i].len : strlen(cases[i].out);
        g_autoptr(GPtrArray) apps = guest_apps_parse(cases[i].out, len, NULL, &err);
        if (apps || !err || err->code != VD_ERROR_PROTOCOL || !strstr(err->message, cases[i].error))
            g_error("case %zu: wanted \"%s\", got %s", i, cases[i].error,
                    err ? err->message : "success");
        g_test_message("case %zu: %s", i, err->message);
        /* What the guest printed shows escaped, and cut between characters. */
        g_assert_true(g_utf8_validate(err->message, -1, NULL));
        g_assert_null(vd_text_find_control(err->message));
    }

    /* A long first line of 4-byte characters and escape sequences: the
     * message quotes its beginning, cut at a character boundary. */
    GString *line = g_string_new("{\"x\":\"\\u001b[2J");
    for (int k = 0; k < 5000; k++)
        g_string_append(line, "\xf0\x9f\x98\x80");
    g_string_append(line, "\"}\n{\"end\":0}\n");
    g_autoptr(GError) long_err = NULL;
    g_assert_null(guest_apps_parse(line->str, line->len, NULL, &long_err));
    g_assert_nonnull(strstr(long_err->message, "header is missing"));
    g_assert_true(g_utf8_validate(long_err->message, -1, NULL));
    g_assert_nonnull(strstr(long_err->message, "\"{\\\"x\\\":\\\"\\\\u001b[2J\xf0\x9f\x98\x80"));
    g_assert_cmpuint(strlen(long_err->message), <, 600);
    g_string_free(line, TRUE);
    /* json-glib's own message quotes the line cut inside a character. */
    static const char glib_cut[] =
        HDR "{\"url\":\"ps\",\"etag\":\"\\\"278f000p-62o/lf\\u00e9 \\ud83d\\ude00.is "
            "\\ud83d\\ude00.\\ud83d\\ude0037095\":50331648}\n";
    g_autoptr(GError) cut_err = NULL;
    g_assert_null(guest_apps_parse(glib_cut, sizeof(glib_cut) - 1, NULL, &cut_err));
    g_assert_true(g_utf8_validate(cut_err->message, -1, NULL));

    static const char nul[] = HDR "{\"id\":\"a\",\"na\0me\":\"A\",\"program\":\"p\"}\n{\"end\":1}\n";
    g_autoptr(GError) nul_err = NULL;
    g_assert_null(guest_apps_parse(nul, sizeof(nul) - 1, NULL, &nul_err));
    g_assert_error(nul_err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_nonnull(strstr(nul_err->message, "line 2: a NUL byte"));

    /* Windows line ends, blank lines, unknown members, null strings: fine. */
    static const char ok[] =
        "\r\n{\"vmdesk-list-apps\":1,\"os\":\"windows\",\"new\":true}\r\n"
        "{\"id\":\"Word\",\"name\":\"Word\",\"program\":\"C:\\\\Program Files\\\\Word.exe\","
        "\"comment\":null,\"icon-data\":\"iVBORw0KGgo=\",\"future\":{\"x\":1}}\r\n\r\n"
        "{\"end\":1}\r\n";
    g_autoptr(GError) err = NULL;
    g_autofree char *os = NULL;
    g_autoptr(GPtrArray) apps = guest_apps_parse(ok, strlen(ok), &os, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(os, ==, "windows");
    g_assert_cmpuint(apps->len, ==, 1);
    const GuestApp *w = g_ptr_array_index(apps, 0);
    g_assert_cmpstr(w->program, ==, "C:\\Program Files\\Word.exe");
    g_assert_null(w->comment);
    g_assert_cmpuint(g_bytes_get_size(w->icon_data), ==, 8);
    g_assert_nonnull(w->args);
    g_assert_nonnull(w->mime_types);
    g_assert_nonnull(w->categories);
#undef HDR
#undef APP
}

/* The embedded scripts are the ones in the tree. */
static void test_embedded(void)
{
    static const struct {
        VmOs os;
        const char *file;
    } s[] = {{VM_OS_LINUX, "guest-tools/linux/list-apps.sh"},
             {VM_OS_OTHER, "guest-tools/linux/list-apps.sh"},
             {VM_OS_WINDOWS, "guest-tools/windows/list-apps.ps1"}};
    for (size_t i = 0; i < G_N_ELEMENTS(s); i++) {
        g_autofree char *path = g_build_filename(VMDESK_SOURCE_DIR, s[i].file, NULL);
        g_autofree char *text = NULL;
        gsize len = 0, elen = 0;
        g_assert_true(g_file_get_contents(path, &text, &len, NULL));
        const char *embedded = guest_apps_script(s[i].os, &elen);
        g_assert_cmpmem(embedded, elen, text, len);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    root = tu_tmpdir();
    make_tree();
    g_test_add_func("/apps/list-apps-sh", test_script);
    g_test_add_func("/apps/parse-malformed", test_parse_malformed);
    g_test_add_func("/apps/embedded-scripts", test_embedded);
    int status = g_test_run();
    tu_rm_rf(root);
    return status;
}
