/* guest_apps_parse(): the discovery script's output, read strictly. Pure (no
 * I/O), so the fuzz targets link it alone (tests/fuzz/fuzz_guest_apps.c). */
#include "guest/guest_apps.h"

#include "common/error.h"
#include "common/text.h"
#include "qemu/json_lines.h"

#include <string.h>

void guest_app_free(GuestApp *app)
{
    if (!app)
        return;
    g_free(app->id);
    g_free(app->name);
    g_free(app->generic_name);
    g_free(app->comment);
    g_free(app->program);
    g_strfreev(app->args);
    g_strfreev(app->mime_types);
    g_strfreev(app->categories);
    g_free(app->source);
    g_free(app->icon_path);
    g_clear_pointer(&app->icon_data, g_bytes_unref);
    g_free(app);
}

static bool malformed(GError **error, unsigned line, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static bool malformed(GError **error, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                "the guest's application list is malformed at line %u: %s", line, what);
    return false;
}

/* Member @name of @o as a string (NULL when absent); false when it is there
 * but not a string. */
static bool opt_string(JsonObject *o, const char *name, char **out, unsigned line,
                       GError **error)
{
    *out = NULL;
    if (!json_object_has_member(o, name))
        return true;
    JsonNode *n = json_object_get_member(o, name);
    if (JSON_NODE_HOLDS_NULL(n))
        return true;
    const char *s = json_member_string(o, name);
    if (!s)
        return malformed(error, line, "\"%s\" is not a string", name);
    *out = g_strdup(s);
    return true;
}

/* Member @name of @o as an array of strings (empty when absent). */
static bool opt_strv(JsonObject *o, const char *name, char ***out, unsigned line,
                     GError **error)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    if (json_object_has_member(o, name)) {
        JsonArray *a = json_member_array(o, name);
        if (!a)
            return malformed(error, line, "\"%s\" is not an array", name);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
                return malformed(error, line, "\"%s\" holds something other than strings",
                                 name);
            g_strv_builder_add(b, json_node_get_string(e));
        }
    }
    *out = g_strv_builder_end(b);
    return true;
}

static bool is_base64(const char *s)
{
    size_t n = strlen(s), pad = 0;
    if (n % 4)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || !(g_ascii_isalnum(c) || c == '+' || c == '/'))
            return false;
    }
    return pad <= 2;
}

static GuestApp *parse_app(JsonObject *o, unsigned line, GError **error)
{
    g_autoptr(GuestApp) app = g_new0(GuestApp, 1);
    g_autofree char *icon_data = NULL;
    if (!opt_string(o, "id", &app->id, line, error) ||
        !opt_string(o, "name", &app->name, line, error) ||
        !opt_string(o, "generic-name", &app->generic_name, line, error) ||
        !opt_string(o, "comment", &app->comment, line, error) ||
        !opt_string(o, "program", &app->program, line, error) ||
        !opt_string(o, "source", &app->source, line, error) ||
        !opt_string(o, "icon", &app->icon_path, line, error) ||
        !opt_string(o, "icon-data", &icon_data, line, error) ||
        !opt_strv(o, "args", &app->args, line, error) ||
        !opt_strv(o, "mime-types", &app->mime_types, line, error) ||
        !opt_strv(o, "categories", &app->categories, line, error))
        return NULL;
    const char *missing = !app->id || !*app->id       ? "id"
                          : !app->name || !*app->name ? "name"
                          : !app->program || !*app->program ? "program"
                                                            : NULL;
    if (missing) {
        malformed(error, line, "an application without \"%s\"", missing);
        return NULL;
    }
    if (icon_data && *icon_data) {
        if (!is_base64(icon_data)) {
            g_autofree char *name = vd_text_quote(app->name, -1);
            malformed(error, line, "the icon data of %s is not base64", name);
            return NULL;
        }
        gsize n = 0;
        guchar *raw = g_base64_decode(icon_data, &n);
        app->icon_data = g_bytes_new_take(raw, n);
    }
    return g_steal_pointer(&app);
}

/* Keeps the line's object (one per feed). */
static bool take_object(JsonObject *msg, void *user_data, GError **error)
{
    JsonObject **got = user_data;
    if (!*got)
        *got = json_object_ref(msg);
    return true;
}

GPtrArray *guest_apps_parse(const char *out, gsize len, char **os, GError **error)
{
    if (os)
        *os = NULL;
    g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func((GDestroyNotify)guest_app_free);
    g_autofree char *guest_os = NULL;
    bool header = false, ended = false;
    unsigned line = 0;
    const char *p = out, *end = out + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        line++;
        bool nul = memchr(p, 0, (size_t)(stop - p)) != NULL;
        g_autofree char *text = g_strndup(p, (gsize)(stop - p));
        p = nl ? nl + 1 : end;
        if (nul) {
            malformed(error, line, "a NUL byte");
            return NULL;
        }
        g_strstrip(text); /* CR LF from Windows, stray blanks */
        if (!*text)
            continue;
        if (ended) {
            malformed(error, line, "more output after the end line");
            return NULL;
        }
        if (!g_utf8_validate(text, -1, NULL)) {
            malformed(error, line, "not UTF-8");
            return NULL;
        }
        /* Through JsonLines: strict JSON, nesting capped (json-glib alone
         * recurses without a limit). */
        JsonObject *got = NULL;
        g_autoptr(GError) perr = NULL;
        g_autoptr(JsonLines) jl =
            json_lines_new("the discovery script", GUEST_APPS_LINE_MAX, take_object, &got);
        g_autofree char *with_nl = g_strconcat(text, "\n", NULL);
        if (!json_lines_feed(jl, with_nl, strlen(with_nl), &perr)) {
            malformed(error, line, "not a JSON object (%s)", perr->message);
            return NULL;
        }
        g_autoptr(JsonObject) o = got;
        gint64 v = 0;
        if (!header) {
            if (!json_member_int(o, "vmdesk-list-apps", &v) || v != 1) {
                g_autofree char *start = vd_text_quote(text, -1);
                malformed(error, line,
                          "the discovery script's header is missing; the guest printed %s",
                          start);
                return NULL;
            }
            header = true;
            guest_os = g_strdup(json_member_string(o, "os"));
            continue;
        }
        if (json_object_has_member(o, "end")) {
            if (!json_member_int(o, "end", &v) || v != (gint64)apps->len) {
                malformed(error, line, "the end line counts %s applications, %u came",
                          json_member_int(o, "end", &v) ? "other" : "no", apps->len);
                return NULL;
            }
            ended = true;
            continue;
        }
        if (apps->len >= GUEST_APPS_MAX) {
            malformed(error, line, "more than %d applications", GUEST_APPS_MAX);
            return NULL;
        }
        GuestApp *app = parse_app(o, line, error);
        if (!app)
            return NULL;
        g_ptr_array_add(apps, app);
    }
    if (!header) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "the guest's application list is empty: the discovery script printed "
                    "nothing");
        return NULL;
    }
    if (!ended) {
        g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL,
                    "the guest's application list is cut short after %u applications (no end "
                    "line)",
                    apps->len);
        return NULL;
    }
    if (os)
        *os = g_steal_pointer(&guest_os);
    return g_steal_pointer(&apps);
}
