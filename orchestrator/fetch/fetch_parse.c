/* Parsers of what servers send for downloads (response header lines,
 * Content-Range values, checksum lists such as SHA256SUMS and Fedora's
 * CHECKSUM; fuzzed by tests/fuzz/fuzz_fetch.c) and of what users give
 * (URLs, digests). Pure functions of their input. */
#include "fetch/fetch_catalog.h"
#include "fetch/fetch_priv.h"

#include "common/error.h"

#include <inttypes.h>
#include <string.h>

char *fetch_format_bytes(uint64_t n)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (n < 1024)
        return g_strdup_printf("%" PRIu64 " bytes", n);
    double v = (double)n / 1024;
    unsigned u = 0;
    while (v >= 1024 && u + 1 < G_N_ELEMENTS(units)) {
        v /= 1024;
        u++;
    }
    return g_strdup_printf("%.1f %s", v, units[u]);
}

bool fetch_url_check(const char *url, GError **error)
{
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
    const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
    if (!uri || !scheme) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "\"%s\" is not a URL", url);
        return false;
    }
    if (g_ascii_strcasecmp(scheme, "http") && g_ascii_strcasecmp(scheme, "https")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s: the %s scheme is not supported (only http:// and https://)", url,
                    scheme);
        return false;
    }
    const char *userinfo = g_uri_get_userinfo(uri);
    if (userinfo && strchr(userinfo, ':')) {
        /* It would sit in the shell's history, in ps and in the state file. */
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "the URL contains a password; vmdesk takes no passwords on the command "
                    "line (download from a URL without one)");
        return false;
    }
    if (!g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: the URL names no host", url);
        return false;
    }
    return true;
}

char *fetch_url_file_name(const char *url, GError **error)
{
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
    const char *path = uri ? g_uri_get_path(uri) : NULL;
    const char *slash = path ? strrchr(path, '/') : NULL;
    g_autofree char *name = g_uri_unescape_string(slash ? slash + 1 : path ? path : "", "/");
    if (!name || !*name || !strcmp(name, ".") || !strcmp(name, "..")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s: the URL does not end in a file name; choose one with -o PATH", url);
        return NULL;
    }
    return g_steal_pointer(&name);
}

bool fetch_sha256_valid(const char *hex)
{
    if (!hex || strlen(hex) != 64)
        return false;
    for (const char *p = hex; *p; p++)
        if (!g_ascii_isxdigit(*p))
            return false;
    return true;
}


void fetch_headers_init(FetchHeaders *h)
{
    memset(h, 0, sizeof(*h));
    h->content_length = -1;
}

void fetch_headers_clear(FetchHeaders *h)
{
    g_free(h->reason);
    g_free(h->etag);
    g_free(h->last_modified);
    g_free(h->content_range);
    fetch_headers_init(h);
}

size_t fetch_headers_cb(char *buf, size_t size, size_t n, void *userdata)
{
    FetchHeaders *h = userdata;
    size_t len = size * n;
    g_autofree char *line = g_strndup(buf, len);
    g_strchomp(line);
    if (g_str_has_prefix(line, "HTTP/")) {
        /* A new response (after a redirect or a 100 Continue). */
        fetch_headers_clear(h);
        const char *sp = strchr(line, ' ');
        if (sp) {
            h->status = strtol(sp + 1, NULL, 10);
            const char *r = strchr(sp + 1, ' ');
            h->reason = g_strdup(r ? g_strstrip((char *)r + 1) : "");
        }
        return len;
    }
    char *colon = strchr(line, ':');
    if (!colon)
        return len;
    *colon = '\0';
    const char *value = g_strstrip(colon + 1);
    /* The validators go into the state file, which is JSON text: one that
     * is not UTF-8 is ignored, as if the server had sent none. */
    bool text = g_utf8_validate(value, -1, NULL);
    if (!g_ascii_strcasecmp(line, "etag") && text)
        g_free(h->etag), h->etag = g_strdup(value);
    else if (!g_ascii_strcasecmp(line, "last-modified") && text)
        g_free(h->last_modified), h->last_modified = g_strdup(value);
    else if (!g_ascii_strcasecmp(line, "content-range"))
        g_free(h->content_range), h->content_range = g_strdup(value);
    else if (!g_ascii_strcasecmp(line, "content-length"))
        h->content_length = g_ascii_strtoll(value, NULL, 10);
    return len;
}

bool fetch_parse_content_range(const char *v, uint64_t *start, uint64_t *end, uint64_t *total,
                               bool *total_known)
{
    if (!v || g_ascii_strncasecmp(v, "bytes ", 6))
        return false;
    char *p;
    guint64 s = g_ascii_strtoull(v + 6, &p, 10);
    if (*p != '-')
        return false;
    guint64 e = g_ascii_strtoull(p + 1, &p, 10);
    if (*p != '/' || e < s)
        return false;
    *start = s;
    *end = e;
    if (!strcmp(p + 1, "*")) {
        *total = 0;
        *total_known = false;
        return true;
    }
    char *q;
    *total = g_ascii_strtoull(p + 1, &q, 10);
    *total_known = true;
    return q != p + 1 && !*q && *total > e;
}

static bool is_hex64(const char *s, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!g_ascii_isxdigit(s[i]))
            return false;
    return true;
}

/* One line of a checksum list: the name and digest it gives, or false. */
static bool parse_line(const char *line, char **name, char **hex)
{
    if (g_str_has_prefix(line, "SHA256 (")) {
        const char *end = strstr(line, ") = ");
        if (!end || !is_hex64(end + 4, strlen(end + 4)))
            return false;
        *name = g_strndup(line + 8, (gsize)(end - line - 8));
        *hex = g_ascii_strdown(end + 4, -1);
        return true;
    }
    if (strlen(line) < 66 || !is_hex64(line, 64) || line[64] != ' ')
        return false;
    const char *n = line + 65;
    if (*n == ' ' || *n == '*')
        n++;
    if (!*n)
        return false;
    *name = g_strdup(n);
    *hex = g_ascii_strdown(line, 64);
    return true;
}

bool fetch_checksum_list_find(const char *text, const char *pattern, char **name,
                              char **sha256)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    char *best = NULL, *best_hex = NULL;
    for (char **l = lines; *l; l++) {
        g_strchomp(*l);
        char *n = NULL, *h = NULL;
        if (!parse_line(*l, &n, &h))
            continue;
        /* "./name" in some lists. g_pattern_match_simple asserts on
         * invalid UTF-8, which a list from the network may hold. */
        const char *base = g_str_has_prefix(n, "./") ? n + 2 : n;
        if (g_utf8_validate(base, -1, NULL) && g_pattern_match_simple(pattern, base) &&
            (!best || strverscmp(base, best) > 0)) {
            g_free(best);
            g_free(best_hex);
            best = g_strdup(base);
            best_hex = g_steal_pointer(&h);
        }
        g_free(n);
        g_free(h);
    }
    if (!best)
        return false;
    *name = best;
    *sha256 = best_hex;
    return true;
}

