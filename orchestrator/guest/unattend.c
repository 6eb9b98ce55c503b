#include "guest/unattend.h"

#include "common/error.h"
#include "common/text.h"

#include <string.h>
#include <sys/random.h>

#define USER_MAX 20
#define TZ_MAX 64
#define PASSWORD_LEN 20

bool unattend_validate_user(const char *user, GError **error)
{
    static const char *const builtin[] = {"administrator", "guest", "defaultaccount",
                                          "wdagutilityaccount", "system", NULL};
    const char *why = NULL;
    glong n = g_utf8_validate(user, -1, NULL) ? g_utf8_strlen(user, -1) : -1;
    if (n < 0)
        why = "it is not valid UTF-8";
    else if (n == 0)
        why = "it is empty";
    else if (n > USER_MAX)
        why = "Windows allows at most 20 characters";
    else if (strpbrk(user, "\\/[]:;|=,+*?<>\""))
        why = "Windows forbids \\ / [ ] : ; | = , + * ? < > \" in account names";
    else if (user[strspn(user, ". ")] == '\0')
        why = "it is only dots and spaces";
    if (!why && vd_text_find_control(user))
        why = "it contains a control character";
    for (int i = 0; !why && builtin[i]; i++)
        if (!g_ascii_strcasecmp(user, builtin[i]))
            why = "that is a built-in Windows account";
    if (why) {
        g_autofree char *q = vd_text_quote(user, -1);
        g_autofree char *plain = g_strdup_printf("%s cannot be a Windows account: %s", q, why);
        vd_error_set_worded(error, VD_ERROR_INVALID, "user", plain, "--user %s", plain);
        return false;
    }
    return true;
}

static bool all(const char *s, size_t n, gboolean (*is)(gchar))
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !is(s[i]))
            return false;
    return true;
}

static gboolean is_lower(gchar c) { return g_ascii_islower(c); }
static gboolean is_upper(gchar c) { return g_ascii_isupper(c); }
static gboolean is_xdigit(gchar c) { return g_ascii_isxdigit(c); }

/* ll-CC, lll-CC, ll-Scrp-CC. */
static bool is_tag(const char *s)
{
    g_auto(GStrv) p = g_strsplit(s, "-", -1);
    guint n = g_strv_length(p);
    if (n < 2 || n > 3)
        return false;
    size_t l0 = strlen(p[0]);
    if ((l0 != 2 && l0 != 3) || !all(p[0], l0, is_lower))
        return false;
    if (n == 3 && (strlen(p[1]) != 4 || !is_upper(p[1][0]) || !all(p[1] + 1, 3, is_lower)))
        return false;
    const char *cc = p[n - 1];
    return strlen(cc) == 2 && all(cc, 2, is_upper);
}

bool unattend_validate_locale(const char *what, const char *locale, GError **error)
{
    if (!is_tag(locale)) {
        g_autofree char *q = vd_text_quote(locale, -1);
        g_autofree char *plain =
            g_strdup_printf("%s is not a locale like de-DE, en-US or sr-Latn-RS", q);
        vd_error_set_worded(error, VD_ERROR_INVALID, what + strspn(what, "-"), plain, "%s %s",
                            what, plain);
        return false;
    }
    return true;
}

bool unattend_validate_keyboard(const char *keyboard, GError **error)
{
    /* "0407:00000407": a language id and a keyboard layout id, in hex. */
    bool hex = strlen(keyboard) == 13 && keyboard[4] == ':' && all(keyboard, 4, is_xdigit) &&
               all(keyboard + 5, 8, is_xdigit);
    if (!hex && !is_tag(keyboard)) {
        g_autofree char *q = vd_text_quote(keyboard, -1);
        g_autofree char *plain = g_strdup_printf(
            "%s is neither a locale like de-DE nor an input locale like 0407:00000407", q);
        vd_error_set_worded(error, VD_ERROR_INVALID, "keyboard", plain, "--keyboard %s", plain);
        return false;
    }
    return true;
}

bool unattend_validate_timezone(const char *tz, GError **error)
{
    size_t n = strlen(tz);
    bool ok = n > 0 && n <= TZ_MAX && g_ascii_isalpha(tz[0]);
    for (size_t i = 0; ok && i < n; i++)
        ok = g_ascii_isalnum(tz[i]) || strchr(" ().+-_", tz[i]);
    if (!ok) {
        g_autofree char *q = vd_text_quote(tz, -1);
        g_autofree char *plain = g_strdup_printf("%s is not a Windows time zone name like \"W. "
                                                 "Europe Standard Time\" (tzutil /l lists them)",
                                                 q);
        vd_error_set_worded(error, VD_ERROR_INVALID, "timezone", plain, "--timezone %s", plain);
        return false;
    }
    return true;
}

char *unattend_computer_name(const char *vm_name)
{
    GString *s = g_string_new(NULL);
    for (const char *c = vm_name; *c && s->len < 15; c++) {
        if (g_ascii_isalnum(*c))
            g_string_append_c(s, g_ascii_toupper(*c));
        else if ((*c == '-' || *c == '_' || *c == '.') && s->len)
            g_string_append_c(s, '-');
    }
    while (s->len && s->str[s->len - 1] == '-')
        g_string_truncate(s, s->len - 1);
    /* All digits is not a valid NetBIOS name. */
    if (!s->len || strspn(s->str, "0123456789") == s->len)
        g_string_prepend(s, "VM-");
    if (s->len > 15)
        g_string_truncate(s, 15);
    return g_string_free(s, FALSE);
}

char *unattend_generate_password(void)
{
    static const char chars[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!#%";
    const size_t n = sizeof(chars) - 1;
    char *pw = g_malloc0(PASSWORD_LEN + 1);
    for (;;) {
        guint8 r[PASSWORD_LEN];
        size_t got = 0;
        while (got < sizeof(r)) {
            ssize_t k = getrandom(r + got, sizeof(r) - got, 0);
            if (k > 0)
                got += (size_t)k;
        }
        bool up = false, low = false, digit = false;
        size_t i = 0;
        for (size_t j = 0; j < sizeof(r) && i < PASSWORD_LEN; j++) {
            /* Rejection sampling keeps every character equally likely. */
            if (r[j] >= 256 - 256 % n)
                continue;
            char c = chars[r[j] % n];
            pw[i++] = c;
            up |= g_ascii_isupper(c);
            low |= g_ascii_islower(c);
            digit |= g_ascii_isdigit(c);
        }
        memset(r, 0, sizeof(r));
        if (i == PASSWORD_LEN && up && low && digit)
            return pw;
    }
}

char *unattend_xml_escape(const char *text)
{
    GString *s = g_string_sized_new(strlen(text) + 16);
    for (const char *c = text; *c; c++) {
        switch (*c) {
        case '&': g_string_append(s, "&amp;"); break;
        case '<': g_string_append(s, "&lt;"); break;
        case '>': g_string_append(s, "&gt;"); break;
        case '"': g_string_append(s, "&quot;"); break;
        case '\'': g_string_append(s, "&apos;"); break;
        default: g_string_append_c(s, *c);
        }
    }
    return g_string_free(s, FALSE);
}

/* Where Setup may find the virtio-win CD (X: is WinPE itself; the Windows
 * ISO, the virtio ISO, the tools and the answer-file CDs take D: to G:), and
 * the drivers it needs before the disk and network work. A path that does
 * not exist is skipped by Setup. */
static char *driver_paths(void)
{
    static const char *const letters[] = {"D", "E", "F", "G", NULL};
    static const char *const drivers[] = {"viostor", "vioscsi", "NetKVM", NULL};
    static const char *const versions[] = {"w11", "w10", NULL};
    GString *s = g_string_new(NULL);
    int key = 1;
    for (int l = 0; letters[l]; l++) {
        for (int d = 0; drivers[d]; d++) {
            for (int v = 0; versions[v]; v++) {
                if (key > 1)
                    g_string_append_c(s, '\n');
                g_string_append_printf(s,
                                       "        <PathAndCredentials wcm:action=\"add\" "
                                       "wcm:keyValue=\"%d\">\n"
                                       "          <Path>%s:\\%s\\%s\\amd64</Path>\n"
                                       "        </PathAndCredentials>",
                                       key++, letters[l], drivers[d], versions[v]);
            }
        }
    }
    return g_string_free(s, FALSE);
}

static bool validate(const UnattendParams *p, GError **error)
{
    if (!p->password || !*p->password || strlen(p->password) > 127) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "the account's password is empty or too long");
        return false;
    }
    g_autofree char *cn = unattend_computer_name(p->computer_name ? p->computer_name : "");
    if (!p->computer_name || strcmp(cn, p->computer_name)) {
        g_autofree char *q = vd_text_quote(p->computer_name ? p->computer_name : "", -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s is not a computer name", q);
        return false;
    }
    return unattend_validate_user(p->user, error) &&
           unattend_validate_locale("--locale", p->locale, error) &&
           unattend_validate_keyboard(p->keyboard, error) &&
           unattend_validate_timezone(p->timezone, error);
}

char *unattend_render(const char *template_text, const UnattendParams *p, GError **error)
{
    if (!validate(p, error))
        return NULL;
    g_autofree char *paths = driver_paths();
    const struct {
        const char *name, *value;
        bool raw; /* ours, already XML */
    } vars[] = {
        {"USER", p->user, false},         {"PASSWORD", p->password, false},
        {"LOCALE", p->locale, false},     {"KEYBOARD", p->keyboard, false},
        {"TIMEZONE", p->timezone, false}, {"COMPUTER_NAME", p->computer_name, false},
        {"DRIVER_PATHS", paths, true},
    };
    GString *out = g_string_sized_new(strlen(template_text) + 4096);
    const char *s = template_text;
    for (;;) {
        const char *open = strstr(s, "{{");
        if (!open) {
            g_string_append(out, s);
            break;
        }
        g_string_append_len(out, s, open - s);
        const char *close = strstr(open + 2, "}}");
        size_t len = close ? (size_t)(close - open - 2) : 0;
        size_t i = 0;
        while (close && i < G_N_ELEMENTS(vars) &&
               (strlen(vars[i].name) != len || strncmp(vars[i].name, open + 2, len)))
            i++;
        if (!close || i == G_N_ELEMENTS(vars)) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "the answer-file template has an unknown placeholder at \"%.20s\"", open);
            /* It may already hold the password. */
            memset(out->str, 0, out->len);
            g_string_free(out, TRUE);
            return NULL;
        }
        if (vars[i].raw) {
            g_string_append(out, vars[i].value);
        } else {
            char *v = unattend_xml_escape(vars[i].value);
            g_string_append(out, v);
            memset(v, 0, strlen(v));
            g_free(v);
        }
        s = close + 2;
    }
    return g_string_free(out, FALSE);
}
