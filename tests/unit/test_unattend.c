/* The answer file: validation of what the user gives, the generated
 * password, XML escaping, and the rendered template (well-formed per
 * xmllint and GMarkup, the expected components and values, and a golden
 * file tests/golden/autounattend-de-DE.xml with the password replaced by
 * @PASSWORD@; VMDESK_UPDATE_GOLDEN=1 rewrites it). */
#include "common/error.h"
#include "common/spawn.h"
#include "guest/unattend.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define PLACEHOLDER "@PASSWORD@"

static void test_users(void)
{
    const char *good[] = {"Jo", "Jo&Ann", "anna.schmidt", "x y", "Ärztin", "a2345678901234567890",
                          NULL};
    const char *bad[] = {"", "a23456789012345678901", "a/b", "a\\b", "a[b", "a]b", "a:b",
                         "a;b", "a|b", "a=b", "a,b", "a+b", "a*b", "a?b", "a<b", "a>b", "a\"b",
                         "...", " . ", "Administrator", "guest", "tab\there", NULL};
    for (int i = 0; good[i]; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_true(unattend_validate_user(good[i], &err));
        g_assert_no_error(err);
    }
    for (int i = 0; bad[i]; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(unattend_validate_user(bad[i], &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        g_assert_nonnull(strstr(err->message, "Windows"));
    }
}

static void test_locales(void)
{
    const char *good[] = {"de-DE", "en-US", "sr-Latn-RS", "fil-PH", NULL};
    const char *bad[] = {"", "german", "de", "de_DE", "DE-de", "de-DEU", "de-latn-RS", "de-DE-x",
                         "de-DE<", NULL};
    for (int i = 0; good[i]; i++)
        g_assert_true(unattend_validate_locale("--locale", good[i], NULL));
    for (int i = 0; bad[i]; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(unattend_validate_locale("--locale", bad[i], &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    }
    g_assert_true(unattend_validate_keyboard("de-DE", NULL));
    g_assert_true(unattend_validate_keyboard("0407:00000407", NULL));
    g_assert_true(unattend_validate_keyboard("0409:0001040a", NULL));
    g_assert_false(unattend_validate_keyboard("0407:0407", NULL));
    g_assert_false(unattend_validate_keyboard("0407;00000407", NULL));
    g_assert_false(unattend_validate_keyboard("us", NULL));
    /* The command line's message names the option; the field and plain text
     * are for front ends that word it themselves (the manager). */
    const struct {
        bool (*check)(const char *, GError **);
        const char *value, *message, *field, *plain;
    } worded[] = {
        {unattend_validate_keyboard, "us",
         "--keyboard \"us\" is neither a locale like de-DE nor an input locale like 0407:00000407",
         "keyboard", "\"us\" is neither a locale like de-DE nor an input locale like 0407:00000407"},
        {unattend_validate_timezone, "A&B",
         "--timezone \"A&B\" is not a Windows time zone name like \"W. Europe Standard Time\" "
         "(tzutil /l lists them)",
         "timezone",
         "\"A&B\" is not a Windows time zone name like \"W. Europe Standard Time\" (tzutil /l "
         "lists them)"},
        {unattend_validate_user, "guest",
         "--user \"guest\" cannot be a Windows account: that is a built-in Windows account",
         "user", "\"guest\" cannot be a Windows account: that is a built-in Windows account"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(worded); i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(worded[i].check(worded[i].value, &err));
        g_assert_cmpstr(err->message, ==, worded[i].message);
        g_assert_cmpstr(vd_error_field(err), ==, worded[i].field);
        g_assert_cmpstr(vd_error_plain(err), ==, worded[i].plain);
    }
    g_autoptr(GError) lerr = NULL;
    g_assert_false(unattend_validate_locale("--locale", "german", &lerr));
    g_assert_cmpstr(lerr->message, ==,
                    "--locale \"german\" is not a locale like de-DE, en-US or sr-Latn-RS");
    g_assert_cmpstr(vd_error_field(lerr), ==, "locale");
    g_assert_true(unattend_validate_timezone("W. Europe Standard Time", NULL));
    g_assert_true(unattend_validate_timezone("UTC", NULL));
    g_assert_true(unattend_validate_timezone("UTC-11", NULL));
    g_assert_false(unattend_validate_timezone("", NULL));
    g_assert_false(unattend_validate_timezone("Europe/Berlin", NULL));
    g_assert_false(unattend_validate_timezone("A<b>", NULL));
    g_assert_false(unattend_validate_timezone("A&B", NULL));
}

static void test_computer_name(void)
{
    const struct {
        const char *vm, *want;
    } cases[] = {{"win11", "WIN11"},
                 {"my.windows_vm-1", "MY-WINDOWS-VM-1"},
                 {"a-very-long-windows-name", "A-VERY-LONG-WIN"},
                 {"-x-", "X"},
                 {"1234", "VM-1234"},
                 {"...", "VM-"},
                 {"win-", "WIN"}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *cn = unattend_computer_name(cases[i].vm);
        g_assert_cmpstr(cn, ==, cases[i].want);
        g_assert_cmpuint(strlen(cn), <=, 15);
    }
}

static void test_password(void)
{
    g_autofree char *a = unattend_generate_password();
    g_autofree char *b = unattend_generate_password();
    g_assert_cmpuint(strlen(a), ==, 20);
    g_assert_cmpstr(a, !=, b);
    for (int n = 0; n < 200; n++) {
        g_autofree char *p = unattend_generate_password();
        bool up = false, low = false, digit = false;
        for (const char *c = p; *c; c++) {
            up |= g_ascii_isupper(*c);
            low |= g_ascii_islower(*c);
            digit |= g_ascii_isdigit(*c);
            g_assert_true(g_ascii_isalnum(*c) || strchr("-_.!#%", *c));
        }
        g_assert_true(up && low && digit);
    }
}

static void test_escape(void)
{
    g_autofree char *e = unattend_xml_escape("a<b>&\"c'd");
    g_assert_cmpstr(e, ==, "a&lt;b&gt;&amp;&quot;c&apos;d");
}

static char *template_text(void)
{
    g_autofree char *path =
        g_build_filename(VMDESK_GUEST_TOOLS_SRC, "windows", "autounattend.xml", NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* What GMarkup sees: component names per pass, element paths, texts. */
typedef struct {
    GPtrArray *stack;    /* element names */
    char *pass, *component;
    GHashTable *seen;    /* "pass/component/.../element" -> text (first) */
    GString *text;
} Walk;

static char *path_of(Walk *w)
{
    GString *s = g_string_new(w->pass ? w->pass : "");
    g_string_append_printf(s, "/%s", w->component ? w->component : "");
    /* Below <component>: the element names. */
    bool below = false;
    for (guint i = 0; i < w->stack->len; i++) {
        const char *n = g_ptr_array_index(w->stack, i);
        if (below)
            g_string_append_printf(s, "/%s", n);
        if (!strcmp(n, "component"))
            below = true;
    }
    return g_string_free(s, FALSE);
}

static void on_start(GMarkupParseContext *ctx, const char *name, const char **attr_names,
                     const char **attr_values, gpointer data, GError **error)
{
    Walk *w = data;
    for (int i = 0; attr_names[i]; i++) {
        if (!strcmp(name, "settings") && !strcmp(attr_names[i], "pass")) {
            g_free(w->pass);
            w->pass = g_strdup(attr_values[i]);
        }
        if (!strcmp(name, "component") && !strcmp(attr_names[i], "name")) {
            g_free(w->component);
            w->component = g_strdup(attr_values[i]);
        }
    }
    g_ptr_array_add(w->stack, g_strdup(name));
    g_string_truncate(w->text, 0);
    char *p = path_of(w);
    if (!g_hash_table_contains(w->seen, p))
        g_hash_table_insert(w->seen, p, g_strdup(""));
    else
        g_free(p);
}

static void on_end(GMarkupParseContext *ctx, const char *name, gpointer data, GError **error)
{
    Walk *w = data;
    g_autofree char *p = path_of(w);
    char *old = g_hash_table_lookup(w->seen, p);
    if (old && !*old && w->text->len)
        g_hash_table_insert(w->seen, g_strdup(p), g_strdup(g_strstrip(w->text->str)));
    g_string_truncate(w->text, 0);
    g_ptr_array_remove_index(w->stack, w->stack->len - 1);
}

static void on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data,
                    GError **error)
{
    g_string_append_len(((Walk *)data)->text, text, (gssize)len);
}

static const char *at(Walk *w, const char *path)
{
    const char *v = g_hash_table_lookup(w->seen, path);
    if (!v)
        g_error("the answer file has no %s", path);
    return v;
}

static void walk(const char *xml, Walk *w)
{
    GMarkupParser parser = {.start_element = on_start, .end_element = on_end, .text = on_text};
    w->stack = g_ptr_array_new_with_free_func(g_free);
    w->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    w->text = g_string_new(NULL);
    g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new(&parser, 0, w, NULL);
    g_autoptr(GError) err = NULL;
    g_markup_parse_context_parse(ctx, xml, -1, &err);
    g_assert_no_error(err);
    g_markup_parse_context_end_parse(ctx, &err);
    g_assert_no_error(err);
}

static void walk_clear(Walk *w)
{
    g_ptr_array_unref(w->stack);
    g_hash_table_unref(w->seen);
    g_string_free(w->text, TRUE);
    g_free(w->pass);
    g_free(w->component);
}

/* xmllint --noout on @xml, through a 0600 file in a 0700 folder. */
static void xmllint(const char *xml)
{
    g_autofree char *dir = g_dir_make_tmp("vmdesk-unattend-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "autounattend.xml", NULL);
    g_assert_true(g_file_set_contents_full(path, xml, -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    const char *argv[] = {"xmllint", "--noout", path, NULL};
    VdRunResult r;
    g_autoptr(GError) err = NULL;
    g_assert_true(vd_run(argv, 30000, &r, &err));
    g_assert_no_error(err);
    if (r.wait_status != 0)
        g_error("xmllint: %s", r.output);
    vd_run_result_clear(&r);
    g_unlink(path);
    g_rmdir(dir);
}

static char *replace_all(const char *s, const char *what, const char *with)
{
    g_auto(GStrv) parts = g_strsplit(s, what, -1);
    return g_strjoinv(with, parts);
}

static void test_render(void)
{
    g_autofree char *tpl = template_text();
    xmllint(tpl);
    g_autofree char *pw = unattend_generate_password();
    UnattendParams p = {.user = "Jo&Ann",
                        .password = pw,
                        .locale = "de-DE",
                        .keyboard = "de-DE",
                        .timezone = "W. Europe Standard Time",
                        .computer_name = "WIN11"};
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = unattend_render(tpl, &p, &err);
    g_assert_no_error(err);
    g_assert_null(strstr(xml, "{{"));
    xmllint(xml);

    Walk w = {0};
    walk(xml, &w);
    const char *pe = "windowsPE/Microsoft-Windows-International-Core-WinPE";
    g_autofree char *ui = g_strdup_printf("%s/SetupUILanguage/UILanguage", pe);
    g_assert_cmpstr(at(&w, ui), ==, "de-DE");
    g_autofree char *input = g_strdup_printf("%s/InputLocale", pe);
    g_assert_cmpstr(at(&w, input), ==, "de-DE");
    at(&w, "windowsPE/Microsoft-Windows-Setup/DiskConfiguration/Disk/CreatePartitions");
    g_assert_cmpstr(at(&w, "windowsPE/Microsoft-Windows-Setup/DiskConfiguration/Disk/"
                           "CreatePartitions/CreatePartition/Type"),
                    ==, "EFI");
    g_assert_cmpstr(at(&w, "windowsPE/Microsoft-Windows-PnpCustomizationsWinPE/DriverPaths/"
                           "PathAndCredentials/Path"),
                    ==, "D:\\viostor\\w11\\amd64");
    g_assert_nonnull(strstr(xml, "<Path>G:\\NetKVM\\w10\\amd64</Path>"));
    g_assert_nonnull(strstr(xml, "<Path>E:\\vioscsi\\w11\\amd64</Path>"));
    g_assert_cmpstr(at(&w, "specialize/Microsoft-Windows-Shell-Setup/TimeZone"), ==,
                    "W. Europe Standard Time");
    g_assert_cmpstr(at(&w, "specialize/Microsoft-Windows-Shell-Setup/ComputerName"), ==, "WIN11");
    g_assert_nonnull(strstr(at(&w, "specialize/Microsoft-Windows-Deployment/RunSynchronous/"
                                   "RunSynchronousCommand/Path"),
                            "BypassNRO"));
    const char *shell = "oobeSystem/Microsoft-Windows-Shell-Setup";
    g_autofree char *hide = g_strdup_printf("%s/OOBE/HideOnlineAccountScreens", shell);
    g_assert_cmpstr(at(&w, hide), ==, "true");
    g_autofree char *name = g_strdup_printf("%s/UserAccounts/LocalAccounts/LocalAccount/Name", shell);
    g_assert_cmpstr(at(&w, name), ==, "Jo&Ann");
    g_autofree char *pwv =
        g_strdup_printf("%s/UserAccounts/LocalAccounts/LocalAccount/Password/Value", shell);
    g_assert_cmpstr(at(&w, pwv), ==, pw);
    g_autofree char *group =
        g_strdup_printf("%s/UserAccounts/LocalAccounts/LocalAccount/Group", shell);
    g_assert_cmpstr(at(&w, group), ==, "Administrators");
    g_autofree char *cmd = g_strdup_printf(
        "%s/FirstLogonCommands/SynchronousCommand/CommandLine", shell);
    g_assert_nonnull(strstr(at(&w, cmd), "VMDESK_TOOLS"));
    g_assert_nonnull(strstr(at(&w, cmd), "\\windows\\install.ps1"));
    g_assert_nonnull(strstr(at(&w, cmd), "& ('{0}"));
    g_assert_cmpstr(at(&w, "oobeSystem/Microsoft-Windows-International-Core/UserLocale"), ==,
                    "de-DE");
    /* No LabConfig bypass of TPM or Secure Boot checks: the VM has both. */
    g_assert_null(strstr(xml, "LabConfig"));
    g_assert_null(strstr(xml, "BypassTPMCheck"));
    walk_clear(&w);

    /* Golden, with the password replaced. */
    g_autofree char *masked = replace_all(xml, pw, PLACEHOLDER);
    g_assert_null(strstr(masked, pw));
    g_autofree char *golden = g_build_filename(VMDESK_TEST_GOLDEN_DIR, "autounattend-de-DE.xml", NULL);
    if (g_strcmp0(g_getenv("VMDESK_UPDATE_GOLDEN"), "1") == 0)
        g_assert_true(g_file_set_contents(golden, masked, -1, NULL));
    g_autofree char *want = NULL;
    g_assert_true(g_file_get_contents(golden, &want, NULL, NULL));
    g_assert_cmpstr(masked, ==, want);
    memset(xml, 0, strlen(xml));
}

/* Values are escaped, not pasted: a password full of XML's own characters
 * comes back from the parser as it went in. */
static void test_render_escapes(void)
{
    g_autofree char *tpl = template_text();
    UnattendParams p = {.user = "O'Brien & Co",
                        .password = "p<a>s&s\"w'o]]>rd",
                        .locale = "en-US",
                        .keyboard = "0409:00000409",
                        .timezone = "UTC",
                        .computer_name = "VM-1"};
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = unattend_render(tpl, &p, &err);
    g_assert_no_error(err);
    xmllint(xml);
    Walk w = {0};
    walk(xml, &w);
    g_assert_cmpstr(at(&w, "oobeSystem/Microsoft-Windows-Shell-Setup/AutoLogon/Password/Value"),
                    ==, p.password);
    g_assert_cmpstr(at(&w, "oobeSystem/Microsoft-Windows-Shell-Setup/AutoLogon/Username"), ==,
                    p.user);
    walk_clear(&w);
}

static void test_render_refuses(void)
{
    g_autofree char *tpl = template_text();
    UnattendParams p = {.user = "a/b", .password = "x", .locale = "en-US", .keyboard = "en-US",
                        .timezone = "UTC", .computer_name = "VM"};
    g_autoptr(GError) err = NULL;
    g_assert_null(unattend_render(tpl, &p, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    p.user = "ok";
    g_assert_null(unattend_render("<a>{{NOPE}}</a>", &p, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_null(unattend_render("<a>{{USER</a>", &p, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    p.computer_name = "bad name";
    g_assert_null(unattend_render("<a/>", &p, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/unattend/users", test_users);
    g_test_add_func("/unattend/locales", test_locales);
    g_test_add_func("/unattend/computer-name", test_computer_name);
    g_test_add_func("/unattend/password", test_password);
    g_test_add_func("/unattend/escape", test_escape);
    g_test_add_func("/unattend/render", test_render);
    g_test_add_func("/unattend/render-escapes", test_render_escapes);
    g_test_add_func("/unattend/render-refuses", test_render_refuses);
    return g_test_run();
}
