/* The guest-tools scripts, checked as far as this host can (no PowerShell in
 * Debian 12, no npm registry here):
 *
 *   PowerShell (the .ps1 files in windows/ and the answer file's first-logon
 *   command),
 *   by a small lexer of ours that knows PowerShell's comments (# and <# #>),
 *   strings ('' and "" with backtick escapes and $() inside), here-strings
 *   (@" "@, @' '@) and brackets:
 *     - brackets balanced and properly nested, every string and comment
 *       closed;
 *     - nothing Windows PowerShell 5.1 (what Windows ships) cannot parse:
 *       no && or || pipeline chains, no ?? operators;
 *     - no shell-isms (fi, done, esac, then, [[ ]], $(( )), export);
 *     - every Verb-Noun command is a function the script defines or in the
 *       list of cmdlets below (a spelling check: the list says what the
 *       scripts may use, not that Windows has it);
 *     - every $variable used is assigned, a parameter, a loop variable or
 *       automatic (Set-StrictMode makes an unknown one fatal).
 *   Not exercised: running them, cmdlet parameters, types, pipelines.
 *
 *   The Linux installer: sh -n (dash), bash --posix -n, shellcheck -s sh. */
#include "common/error.h"
#include "common/spawn.h"

#include <string.h>

static const char *const known_cmdlets[] = {
    "Add-Content", "Copy-Item", "Enable-NetFirewallRule", "ForEach-Object", "Get-ChildItem",
    "Get-Content", "Get-Date", "Get-FileHash", "Get-ItemProperty", "Get-NetFirewallRule",
    "Get-PSDrive", "Get-ScheduledTask", "Get-Service", "Get-Volume", "Join-Path", "New-Item",
    "New-ItemProperty", "New-ScheduledTaskAction", "New-ScheduledTaskPrincipal",
    "New-ScheduledTaskTrigger", "Out-Null", "Register-ScheduledTask", "Remove-Item",
    "Remove-ItemProperty", "Select-Object", "Set-Content", "Set-Service", "Set-StrictMode",
    "Start-Process", "Start-Service", "Start-Sleep", "Test-Path", "Unregister-ScheduledTask",
    "Where-Object", "Write-Host", NULL};

static const char *const automatic_vars[] = {"_", "null", "true", "false", "PSScriptRoot",
                                             "LASTEXITCODE", "args", "ErrorActionPreference",
                                             "env", NULL};

typedef struct {
    const char *name;   /* for messages */
    const char *s;
    size_t i, n;
    int line;
    GString *code;      /* the code outside strings and comments (strings as "S") */
    GPtrArray *vars;    /* every $name seen, in code and in expandable strings */
    GError *error;
} Lex;

static void fail(Lex *l, const char *what)
{
    if (!l->error)
        l->error = g_error_new(VD_ERROR, VD_ERROR_INVALID, "%s:%d: %s", l->name, l->line, what);
}

static char peek(Lex *l, size_t k)
{
    return l->i + k < l->n ? l->s[l->i + k] : '\0';
}

static void advance(Lex *l)
{
    if (l->s[l->i] == '\n')
        l->line++;
    l->i++;
}

static void lex_code(Lex *l, char close);

/* $name, ${name}, $env:NAME, $script:x: record the name. */
static void lex_variable(Lex *l)
{
    advance(l); /* $ */
    if (peek(l, 0) == '(') {
        advance(l);
        lex_code(l, ')');
        return;
    }
    size_t start = l->i;
    while (g_ascii_isalnum(peek(l, 0)) || peek(l, 0) == '_' || peek(l, 0) == ':')
        advance(l);
    if (l->i > start) {
        g_autofree char *v = g_strndup(l->s + start, l->i - start);
        char *colon = strchr(v, ':');
        if (colon)
            *colon = '\0'; /* $env:ProgramData -> env */
        g_ptr_array_add(l->vars, g_strdup(v));
    }
}

static void lex_string(Lex *l, char quote, bool here)
{
    int start_line = l->line;
    advance(l);
    for (;;) {
        char c = peek(l, 0);
        if (!c) {
            l->line = start_line;
            fail(l, "string not closed");
            return;
        }
        if (here) {
            if (c == '\n' && peek(l, 1) == quote && peek(l, 2) == '@') {
                advance(l), advance(l), advance(l);
                return;
            }
        } else if (c == quote) {
            if (peek(l, 1) == quote) { /* '' or "" inside */
                advance(l), advance(l);
                continue;
            }
            advance(l);
            return;
        }
        if (quote == '"' && c == '`') {
            advance(l);
            if (peek(l, 0))
                advance(l);
            continue;
        }
        if (quote == '"' && c == '$') {
            lex_variable(l);
            continue;
        }
        advance(l);
    }
}

static void lex_code(Lex *l, char close)
{
    GString *stack = g_string_new(NULL);
    if (close)
        g_string_append_c(stack, close);
    size_t depth0 = stack->len;
    while (l->i < l->n && !l->error) {
        char c = peek(l, 0);
        if (c == '<' && peek(l, 1) == '#') {
            const char *end = strstr(l->s + l->i + 2, "#>");
            if (!end) {
                fail(l, "block comment <# not closed");
                break;
            }
            while (l->s + l->i < end + 2)
                advance(l);
        } else if (c == '#') {
            while (peek(l, 0) && peek(l, 0) != '\n')
                advance(l);
        } else if (c == '@' && (peek(l, 1) == '"' || peek(l, 1) == '\'') && peek(l, 2) == '\n') {
            advance(l);
            lex_string(l, l->s[l->i], true);
            g_string_append(l->code, "\"S\"");
        } else if (c == '\'' || c == '"') {
            lex_string(l, c, false);
            g_string_append(l->code, "\"S\"");
        } else if (c == '`') {
            advance(l);
            if (peek(l, 0))
                advance(l);
        } else if (c == '$') {
            size_t at = l->i;
            lex_variable(l);
            g_string_append_len(l->code, l->s + at, (gssize)(l->i - at));
        } else if (strchr("({[", c)) {
            g_string_append_c(stack, c == '(' ? ')' : c == '{' ? '}' : ']');
            g_string_append_c(l->code, c);
            advance(l);
        } else if (strchr(")}]", c)) {
            if (stack->len == 0 || stack->str[stack->len - 1] != c) {
                g_autofree char *m = g_strdup_printf("'%c' closes nothing open (expected '%c')", c,
                                                     stack->len ? stack->str[stack->len - 1] : ' ');
                fail(l, m);
                break;
            }
            g_string_truncate(stack, stack->len - 1);
            g_string_append_c(l->code, c);
            advance(l);
            if (close && stack->len < depth0)
                break; /* the ')' of a $( ) in a string */
        } else {
            g_string_append_c(l->code, c);
            advance(l);
        }
    }
    if (!l->error && !close && stack->len) {
        g_autofree char *m = g_strdup_printf("%zu bracket(s) left open: '%s' expected", stack->len,
                                             stack->str);
        fail(l, m);
    }
    g_string_free(stack, TRUE);
}

/* Names assigned in @code: $x = / += , foreach ($x in, [type]$x in a
 * param or function signature. */
static GPtrArray *assigned(const char *code)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GRegex) re = g_regex_new(
        "\\$(\\w+)\\s*(?:[+-]?=(?!=)|\\s+in\\b)|\\]\\s*\\$(\\w+)|param\\(\\s*\\$(\\w+)",
        G_REGEX_CASELESS, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    g_regex_match(re, code, 0, &m);
    while (g_match_info_matches(m)) {
        for (int g = 1; g <= 3; g++) {
            char *v = g_match_info_fetch(m, g);
            if (v && *v)
                g_ptr_array_add(a, v);
            else
                g_free(v);
        }
        g_match_info_next(m, NULL);
    }
    /* function Verb-Noun([type]$a, $b, ...): every $name in the list. */
    g_autoptr(GRegex) sig = g_regex_new("\\bfunction\\s+[\\w-]+\\s*\\(([^)]*)\\)", 0, 0, NULL);
    g_autoptr(GRegex) var = g_regex_new("\\$(\\w+)", 0, 0, NULL);
    g_autoptr(GMatchInfo) sm = NULL;
    g_regex_match(sig, code, 0, &sm);
    while (g_match_info_matches(sm)) {
        g_autofree char *list = g_match_info_fetch(sm, 1);
        g_autoptr(GMatchInfo) vm = NULL;
        g_regex_match(var, list, 0, &vm);
        while (g_match_info_matches(vm)) {
            g_ptr_array_add(a, g_match_info_fetch(vm, 1));
            g_match_info_next(vm, NULL);
        }
        g_match_info_next(sm, NULL);
    }
    return a;
}

static bool in_list(GPtrArray *a, const char *v)
{
    for (guint i = 0; i < a->len; i++)
        if (!g_ascii_strcasecmp(g_ptr_array_index(a, i), v))
            return true;
    return false;
}

static void check_powershell(const char *name, const char *text)
{
    Lex l = {.name = name, .s = text, .n = strlen(text), .line = 1,
             .code = g_string_new(NULL), .vars = g_ptr_array_new_with_free_func(g_free)};
    lex_code(&l, '\0');
    if (l.error)
        g_error("%s", l.error->message);
    const char *code = l.code->str;

    /* Windows PowerShell 5.1 has no pipeline chains or null-coalescing. */
    const char *const not_51[] = {"&&", "||", "??", NULL};
    for (int i = 0; not_51[i]; i++)
        if (strstr(code, not_51[i]))
            g_error("%s: '%s' is PowerShell 7 only (Windows ships 5.1)", name, not_51[i]);
    /* Shell-isms, at the start of a line or as operators. */
    g_autoptr(GRegex) shellism = g_regex_new(
        "^\\s*(fi|done|esac|then|elif|export)\\b|\\[\\[\\s|\\$\\(\\(", G_REGEX_MULTILINE, 0, NULL);
    g_autoptr(GMatchInfo) sm = NULL;
    if (g_regex_match(shellism, code, 0, &sm)) {
        g_autofree char *what = g_match_info_fetch(sm, 0);
        g_error("%s: a shell-ism: \"%s\"", name, what);
    }

    /* Commands: defined here or known. */
    g_autoptr(GPtrArray) defined = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GRegex) fn = g_regex_new("\\bfunction\\s+([A-Za-z]+-[A-Za-z]+)", 0, 0, NULL);
    g_autoptr(GMatchInfo) fm = NULL;
    g_regex_match(fn, code, 0, &fm);
    while (g_match_info_matches(fm)) {
        g_ptr_array_add(defined, g_match_info_fetch(fm, 1));
        g_match_info_next(fm, NULL);
    }
    g_autoptr(GRegex) cmd = g_regex_new("(?<![\\w$.:-])([A-Z][a-z]+-[A-Z][A-Za-z]+)\\b", 0, 0, NULL);
    g_autoptr(GMatchInfo) cm = NULL;
    g_regex_match(cmd, code, 0, &cm);
    while (g_match_info_matches(cm)) {
        g_autofree char *c = g_match_info_fetch(cm, 1);
        if (!in_list(defined, c) && !g_strv_contains(known_cmdlets, c))
            g_error("%s: unknown command %s (a typo, or add it to known_cmdlets)", name, c);
        g_match_info_next(cm, NULL);
    }

    /* Variables: each used one is assigned somewhere or automatic. */
    g_autoptr(GPtrArray) set = assigned(code);
    for (guint i = 0; i < l.vars->len; i++) {
        const char *v = g_ptr_array_index(l.vars, i);
        bool automatic = false;
        for (int k = 0; automatic_vars[k]; k++)
            automatic |= !g_ascii_strcasecmp(v, automatic_vars[k]);
        if (!automatic && !in_list(set, v))
            g_error("%s: $%s is used but never assigned (Set-StrictMode makes that fatal)", name,
                    v);
    }
    g_test_message("%s: %u lines, %u variable uses, brackets and strings balanced", name, l.line,
                   l.vars->len);
    g_string_free(l.code, TRUE);
    g_ptr_array_unref(l.vars);
}

static char *read_tool(const char *rel)
{
    g_autofree char *path = g_build_filename(VMDESK_GUEST_TOOLS_SRC, rel, NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static void test_powershell_scripts(void)
{
    const char *scripts[] = {"windows/install.ps1", "windows/map-drives.ps1", NULL};
    for (int i = 0; scripts[i]; i++) {
        g_autofree char *text = read_tool(scripts[i]);
        check_powershell(scripts[i], text);
    }
}

/* The answer file's first-logon command: its -Command text. */
static void test_first_logon_command(void)
{
    g_autofree char *xml = read_tool("windows/autounattend.xml");
    const char *open = strstr(xml, "<CommandLine>");
    const char *close = open ? strstr(open, "</CommandLine>") : NULL;
    g_assert_nonnull(close);
    g_autofree char *raw = g_strndup(open + 13, (gsize)(close - open - 13));
    /* XML's escapes undone (the template only uses &amp;). */
    g_auto(GStrv) parts = g_strsplit(raw, "&amp;", -1);
    g_autofree char *line = g_strjoinv("&", parts);
    const char *cmd = strstr(line, "-Command \"");
    g_assert_nonnull(cmd);
    g_autofree char *inner = g_strdup(cmd + 10);
    g_assert_true(g_str_has_suffix(inner, "\""));
    inner[strlen(inner) - 1] = '\0';
    g_assert_null(strchr(inner, '"')); /* no inner double quotes to break the command line */
    check_powershell("autounattend.xml FirstLogonCommands", inner);
}

/* The checker itself finds what it claims to: each of these fails it (in a
 * subprocess, as g_error aborts). */
static const char *const bad_cases[] = {
    "if ($a) { Write-Host 'x' \n",               /* brace left open */
    "$a = 1\nWrite-Host 'unterminated\n",        /* string not closed */
    "$a = (1 + 2]\n",                             /* mismatched bracket */
    "$a = 1\nWrite-Host \"$b\"\n",                /* unassigned, in a string */
    "$a = 1\nGet-Thing $a\n",                     /* unknown command */
    "$a = 1\nTest-Path $a && Write-Host 'y'\n",   /* PowerShell 7 only */
    "$a = 1\nif [[ $a ]]; then\nfi\n",            /* shell */
    "<# help\n$a = 1\n",                          /* block comment not closed */
    "$x = @\"\nno end\n",                          /* here-string not closed */
};

static const char *const bad_why[] = {
    "*bracket(s) left open*", "*string not closed*",      "*']' closes nothing open*",
    "*$b is used but never assigned*", "*unknown command Get-Thing*", "*'&&' is PowerShell 7*",
    "*a shell-ism*",                   "*block comment <# not closed*", "*string not closed*",
};

static void test_checker_case(gconstpointer data)
{
    check_powershell("bad.ps1", bad_cases[GPOINTER_TO_INT(data)]);
}

static void test_checker_rejects(void)
{
    for (int i = 0; i < (int)G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/guest-scripts/checker-rejects/subprocess/%d", i);
        g_test_trap_subprocess(path, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_failed();
        g_test_trap_assert_stderr(bad_why[i]);
    }
    /* And accepts what is fine. */
    check_powershell("good.ps1", "param([switch]$Undo)\n$a = \"$(Get-Date) `\"q`\" $Undo\"\n"
                                 "foreach ($x in @(1)) { Write-Host ('{0}' -f $x) } # c\n"
                                 "$h = @'\nit's \"raw\" $nothing\n'@\n");
}

static void run_ok(const char *const *argv)
{
    VdRunResult r;
    g_autoptr(GError) err = NULL;
    g_assert_true(vd_run(argv, 60000, &r, &err));
    g_assert_no_error(err);
    if (r.wait_status != 0)
        g_error("%s: %s", argv[0], r.output);
    vd_run_result_clear(&r);
}

static void test_linux_installer(void)
{
    g_autofree char *path = g_build_filename(VMDESK_GUEST_TOOLS_SRC, "linux", "install.sh", NULL);
    const char *dash[] = {"dash", "-n", path, NULL};
    const char *bash[] = {"bash", "--posix", "-n", path, NULL};
    const char *sc[] = {"shellcheck", "-s", "sh", "-S", "info", path, NULL};
    run_ok(dash);
    run_ok(bash);
    run_ok(sc);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-scripts/powershell", test_powershell_scripts);
    g_test_add_func("/guest-scripts/first-logon-command", test_first_logon_command);
    g_test_add_func("/guest-scripts/checker-rejects", test_checker_rejects);
    for (int i = 0; i < (int)G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *p = g_strdup_printf("/guest-scripts/checker-rejects/subprocess/%d", i);
        g_test_add_data_func(p, GINT_TO_POINTER(i), test_checker_case);
    }
    g_test_add_func("/guest-scripts/linux-installer", test_linux_installer);
    return g_test_run();
}
