/* The HTTP side of downloads: libcurl handles with our settings, response
 * headers, error messages, the Range probe and small GETs (fetch_priv.h). */
#include "fetch/fetch_priv.h"

#include "common/error.h"
#include "common/text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void fetch_curl_init(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_once_init_leave(&once, 1);
    }
}

CURL *fetch_easy_new(const char *url, char *errbuf)
{
    fetch_curl_init();
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Fewer, larger writes into the .part (curl -o uses 100 KiB). */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "vmdesk-fetch");
    return e;
}

void fetch_set_curl_error(GError **error, CURL *easy, CURLcode rc, const char *errbuf,
                          const char *url)
{
    long os_errno = 0;
    if (easy)
        curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    g_autofree char *detail =
        os_errno ? g_strdup_printf("%s: %s", g_strerror((int)os_errno),
                                   errbuf && *errbuf ? errbuf : curl_easy_strerror(rc))
                 : g_strdup(errbuf && *errbuf ? errbuf : curl_easy_strerror(rc));
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                    "%s: timed out (%s); run the command again (a download that had begun "
                    "resumes)", url, detail);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "%s: cannot resolve the host name (%s); check the URL and the network", url,
                    detail);
        break;
    case CURLE_COULDNT_CONNECT:
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s: cannot connect (%s)", url, detail);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "%s: the TLS connection failed (%s); vmdesk only downloads from servers "
                    "whose certificate verifies", url, detail);
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s: %s (only http:// and https:// are supported, also for redirects)", url,
                    detail);
        break;
    default:
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s: download failed (%s)", url, detail);
        break;
    }
}

void fetch_set_http_error(GError **error, long status, const char *reason, const char *url)
{
    /* The reason phrase is the server's text: quoted. */
    g_autofree char *q = reason && *reason ? vd_text_quote(reason, -1) : g_strdup("");
    g_autofree char *what = g_strdup_printf("HTTP %ld%s%s", status, *q ? " " : "", q);
    if (status == 404 || status == 410)
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "%s: the server answered %s (no such file there; check the URL)", url, what);
    else if (status == 401 || status == 403)
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "%s: the server answered %s (it refuses to hand out this file)", url, what);
    else
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s: the server answered %s", url, what);
}

void fetch_probe_clear(FetchProbe *p)
{
    g_free(p->etag);
    g_free(p->last_modified);
    g_free(p->effective_url);
    memset(p, 0, sizeof(*p));
}

typedef struct {
    CURL *easy;
    bool aborted; /* on purpose: the server sent the whole file */
} ProbeCtx;

static size_t probe_write(char *data, size_t size, size_t n, void *userdata)
{
    ProbeCtx *c = userdata;
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 206 && size * n <= 1)
        return size * n;
    /* 200 with the whole file, or an error page: the headers are all we need. */
    c->aborted = true;
    return 0;
}

bool fetch_probe(const char *url, FetchProbe *p, GError **error)
{
    char errbuf[CURL_ERROR_SIZE];
    CURL *e = fetch_easy_new(url, errbuf);
    if (!e) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "libcurl could not start a transfer");
        return false;
    }
    FetchHeaders h;
    fetch_headers_init(&h);
    ProbeCtx ctx = {e, false};
    curl_easy_setopt(e, CURLOPT_RANGE, "0-0");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_headers_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, probe_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &ctx);
    CURLcode rc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    bool ok = false;
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && ctx.aborted)) {
        fetch_set_curl_error(error, e, rc, errbuf, url);
    } else if (status >= 400) {
        fetch_set_http_error(error, status, h.reason, url);
    } else if (status != 200 && status != 206) {
        g_autofree char *reason = vd_text_quote(h.reason ? h.reason : "", -1);
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "%s: unexpected answer HTTP %ld %s (expected 200 or 206)", url, status,
                    reason);
    } else {
        uint64_t s, en, total = 0;
        bool total_known = false;
        if (status == 206 &&
            fetch_parse_content_range(h.content_range, &s, &en, &total, &total_known) &&
            s == 0 && total_known) {
            p->ranges = true;
            p->size_known = true;
            p->size = total;
        } else if (h.content_length >= 0 && status == 200) {
            p->size_known = true;
            p->size = (uint64_t)h.content_length;
        }
        p->etag = g_strdup(h.etag);
        p->last_modified = g_strdup(h.last_modified);
        const char *eff = NULL;
        curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff);
        p->effective_url = g_strdup(eff ? eff : url);
        ok = true;
    }
    fetch_headers_clear(&h);
    curl_easy_cleanup(e);
    return ok;
}

typedef struct {
    GString *buf;
    size_t max;
    bool too_big;
} TextCtx;

static size_t text_write(char *data, size_t size, size_t n, void *userdata)
{
    TextCtx *c = userdata;
    if (c->buf->len + size * n > c->max) {
        c->too_big = true;
        return 0;
    }
    g_string_append_len(c->buf, data, (gssize)(size * n));
    return size * n;
}

bool fetch_get_text(const char *url, size_t max_bytes, char **out, GError **error)
{
    if (!fetch_url_check(url, error))
        return false;
    char errbuf[CURL_ERROR_SIZE];
    CURL *e = fetch_easy_new(url, errbuf);
    if (!e) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "libcurl could not start a transfer");
        return false;
    }
    FetchHeaders h;
    fetch_headers_init(&h);
    TextCtx ctx = {g_string_new(NULL), max_bytes, false};
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_headers_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, text_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &ctx);
    CURLcode rc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    bool ok = false;
    if (status >= 400)
        fetch_set_http_error(error, status, h.reason, url);
    else if (ctx.too_big)
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s: larger than %zu bytes", url,
                    max_bytes);
    else if (rc != CURLE_OK)
        fetch_set_curl_error(error, e, rc, errbuf, url);
    else
        ok = true;
    fetch_headers_clear(&h);
    curl_easy_cleanup(e);
    char *text = g_string_free(ctx.buf, !ok);
    if (ok)
        *out = text;
    return ok;
}
