/* Downloads: the transfer loop over curl multi, the .part file and its
 * resume state, verification and the final rename (fetch.h). */
#include "fetch/fetch_priv.h"

#include "common/error.h"
#include "common/text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MIN_PIECE (1u << 20)
#define MAX_PIECE (64u << 20)
#define MAX_RETRIES 5
#define PROGRESS_US (200 * 1000)
#define SAVE_US (1000 * 1000)
#define RATE_SAMPLES 16

typedef struct Fetch Fetch;

typedef struct {
    Fetch *f;
    CURL *easy;
    FetchHeaders headers;
    char errbuf[CURL_ERROR_SIZE];
    uint64_t start, cur, end; /* this request: [start, end), written up to cur */
    bool active;
    bool checked; /* the status of this request was looked at */
    int retries;
} Conn;

struct Fetch {
    const FetchRequest *req;
    char *part_path;
    char *state_path;
    char *data_url;           /* after redirects */
    struct curl_slist *if_range;
    int fd;
    bool part_created;        /* this run made the .part (nothing in it yet) */
    bool ranges;
    bool size_known;
    FetchState state;         /* url, size, validators, completed ranges */
    GArray *todo;             /* FetchRange pieces not yet asked for */
    CURLM *multi;
    Conn conns[FETCH_MAX_CONNECTIONS];
    int nconns;
    FetchHasher *hasher;      /* SHA-256 as the file fills, when one is expected */
    GError *error;            /* the first failure; ends the transfer */
    bool drop_state;          /* the remote file changed: the next run starts over */
    uint64_t transferred;
    gint64 t0, last_progress, last_save;
    gint64 sample_t[RATE_SAMPLES];
    uint64_t sample_b[RATE_SAMPLES];
    unsigned nsamples;
};

static void note(Fetch *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note(Fetch *f, const char *fmt, ...)
{
    if (!f->req->note)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    f->req->note(msg, f->req->user_data);
}

/* ---- progress and state ---- */

static uint64_t bytes_done(Fetch *f)
{
    uint64_t n = fetch_ranges_total(f->state.done);
    for (int i = 0; i < f->nconns; i++)
        if (f->conns[i].active)
            n += f->conns[i].cur - f->conns[i].start;
    return n;
}

static GArray *in_flight(Fetch *f)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(FetchRange));
    for (int i = 0; i < f->nconns; i++)
        if (f->conns[i].active)
            fetch_ranges_add(a, f->conns[i].start, f->conns[i].cur);
    return a;
}

static void save_state(Fetch *f)
{
    if (!f->ranges || f->drop_state)
        return;
    g_autoptr(GArray) extra = in_flight(f);
    g_autoptr(GError) err = NULL;
    /* The bytes on disk before the state that claims them: after a power
     * loss a resume must not trust ranges that never reached the disk. */
    if (fdatasync(f->fd) < 0 && errno != EINVAL) {
        int e = errno;
        note(f, "cannot flush %s, the download state is not updated: %s", f->part_path,
             g_strerror(e));
        return;
    }
    /* Not fatal: at worst a resume downloads some bytes again. */
    if (!fetch_state_save(f->state_path, &f->state, extra, &err))
        note(f, "cannot save the download state: %s", err->message);
}

static void report(Fetch *f, bool finished)
{
    gint64 now = g_get_monotonic_time();
    /* The rate over the last RATE_SAMPLES ticks (about 3 s): against the
     * oldest sample, which the new one then replaces. */
    unsigned slot = f->nsamples % RATE_SAMPLES;
    unsigned oldest = f->nsamples >= RATE_SAMPLES ? slot : 0;
    double dt = f->nsamples ? (now - f->sample_t[oldest]) / 1e6 : 0;
    double rate = dt > 0 ? (f->transferred - f->sample_b[oldest]) / dt : 0;
    f->sample_t[slot] = now;
    f->sample_b[slot] = f->transferred;
    f->nsamples++;
    if (finished || f->nsamples <= 1) {
        double all = (now - f->t0) / 1e6;
        rate = all > 0 ? f->transferred / all : 0;
    }
    if (!f->req->progress)
        return;
    FetchProgress p = {
        .done = bytes_done(f),
        .total = f->size_known ? f->state.size : 0,
        .rate = rate,
        .elapsed = (now - f->t0) / 1e6,
        .finished = finished,
    };
    f->req->progress(&p, f->req->user_data);
}

/* Let the hasher read what is complete from byte 0 on. */
static void feed_hasher(Fetch *f)
{
    if (!f->hasher)
        return;
    g_autoptr(GArray) all = in_flight(f);
    for (guint i = 0; i < f->state.done->len; i++) {
        FetchRange r = g_array_index(f->state.done, FetchRange, i);
        fetch_ranges_add(all, r.start, r.end);
    }
    if (all->len && g_array_index(all, FetchRange, 0).start == 0)
        fetch_hasher_advance(f->hasher, g_array_index(all, FetchRange, 0).end);
}

static void tick(Fetch *f)
{
    gint64 now = g_get_monotonic_time();
    if (now - f->last_progress >= PROGRESS_US) {
        f->last_progress = now;
        report(f, false);
        feed_hasher(f);
    }
    if (now - f->last_save >= SAVE_US) {
        f->last_save = now;
        save_state(f);
    }
}

/* ---- one connection ---- */

static bool check_status(Fetch *f, Conn *c)
{
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    c->checked = true;
    const char *url = f->req->url;
    if (status >= 400) {
        fetch_set_http_error(&f->error, status, c->headers.reason, url);
        return false;
    }
    if (f->ranges && status == 200) {
        /* If-Range did not match: the file is another one now. */
        f->drop_state = true;
        g_set_error(&f->error, VD_ERROR, VD_ERROR_FAILED,
                    "%s changed on the server during the download (it sent the whole file "
                    "instead of the range asked for); run the command again to start over",
                    url);
        return false;
    }
    uint64_t s, e, total;
    bool total_known;
    if (f->ranges && (status != 206 ||
                      !fetch_parse_content_range(c->headers.content_range, &s, &e, &total,
                                                 &total_known) ||
                      s != c->start || (total_known && total != f->state.size))) {
        g_set_error(&f->error, VD_ERROR, VD_ERROR_FAILED,
                    "%s: the server answered HTTP %ld (%s) to a request for bytes %" PRIu64
                    "-%" PRIu64 "; expected 206 with that range", url, status,
                    c->headers.content_range ? c->headers.content_range : "no Content-Range",
                    c->start, c->end - 1);
        return false;
    }
    if (!f->ranges && status != 200) {
        g_set_error(&f->error, VD_ERROR, VD_ERROR_FAILED,
                    "%s: unexpected answer HTTP %ld (expected 200)", url, status);
        return false;
    }
    return true;
}

static size_t conn_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    Conn *c = userdata;
    Fetch *f = c->f;
    size_t len = size * nmemb;
    if (f->error || (!c->checked && !check_status(f, c)))
        return 0;
    if (len > c->end - c->cur) {
        g_set_error(&f->error, VD_ERROR, VD_ERROR_FAILED,
                    "%s: the server sent more bytes than %s", f->req->url,
                    f->ranges ? "the range asked for" : "it announced");
        return 0;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = pwrite(f->fd, data + off, len - off, (off_t)(c->cur + off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            g_autofree char *dir = g_path_get_dirname(f->part_path);
            if ((e == ENOSPC || e == EDQUOT) && f->ranges)
                g_set_error(&f->error, VD_ERROR, VD_ERROR_NO_SPACE,
                            "%s: the disk is full (%s); %s is kept: free some space in %s and "
                            "run the command again to resume",
                            f->part_path, g_strerror(e), f->part_path, dir);
            else if (e == ENOSPC || e == EDQUOT)
                g_set_error(&f->error, VD_ERROR, VD_ERROR_NO_SPACE,
                            "%s: the disk is full (%s) after %" PRIu64 " bytes; the partial "
                            "download was deleted (this server cannot resume one): free some "
                            "space in %s and run the command again",
                            f->part_path, g_strerror(e), c->cur + off, dir);
            else
                g_set_error(&f->error, VD_ERROR, VD_ERROR_FAILED, "cannot write %s: %s",
                            f->part_path, g_strerror(e));
            c->cur += off;
            f->transferred += off;
            return 0;
        }
        off += (size_t)n;
    }
    c->cur += len;
    f->transferred += len;
    return len;
}

static bool conn_start(Fetch *f, Conn *c, FetchRange piece)
{
    c->start = c->cur = piece.start;
    c->end = piece.end;
    c->checked = false;
    fetch_headers_clear(&c->headers);
    curl_easy_setopt(c->easy, CURLOPT_URL, f->data_url);
    if (f->ranges) {
        char range[64];
        snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, piece.start, piece.end - 1);
        curl_easy_setopt(c->easy, CURLOPT_RANGE, range); /* copied by libcurl */
        curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, f->if_range);
    }
    CURLMcode mc = curl_multi_add_handle(f->multi, c->easy);
    if (mc != CURLM_OK) {
        g_set_error(&f->error, VD_ERROR, VD_ERROR_FAILED, "libcurl: %s",
                    curl_multi_strerror(mc));
        return false;
    }
    c->active = true;
    return true;
}

static bool transient(CURLcode rc)
{
    return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_OPERATION_TIMEDOUT ||
           rc == CURLE_COULDNT_CONNECT || rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM;
}

static void conn_done(Fetch *f, Conn *c, CURLcode rc)
{
    curl_multi_remove_handle(f->multi, c->easy);
    c->active = false;
    fetch_ranges_add(f->state.done, c->start, c->cur);
    if (f->error)
        return;
    if (rc == CURLE_OK) {
        if (!c->checked && !check_status(f, c))
            return;
        if (!f->size_known) {
            f->state.size = c->cur;
            f->size_known = true;
            return;
        }
        if (c->cur == c->end)
            return;
        rc = CURLE_PARTIAL_FILE;
        g_snprintf(c->errbuf, sizeof(c->errbuf),
                   "the connection closed after %" PRIu64 " of %" PRIu64 " bytes",
                   c->cur - c->start, c->end - c->start);
    }
    if (f->ranges && transient(rc) && c->retries < MAX_RETRIES) {
        c->retries++;
        FetchRange rest = {c->cur, c->end};
        g_array_prepend_val(f->todo, rest);
        return;
    }
    fetch_set_curl_error(&f->error, c->easy, rc, c->errbuf, f->req->url);
}

static bool transfer(Fetch *f)
{
    while (!f->error) {
        for (int i = 0; i < f->nconns && f->todo->len; i++) {
            if (f->conns[i].active)
                continue;
            FetchRange piece = g_array_index(f->todo, FetchRange, 0);
            g_array_remove_index(f->todo, 0);
            if (!conn_start(f, &f->conns[i], piece))
                break;
        }
        bool any = false;
        for (int i = 0; i < f->nconns; i++)
            any |= f->conns[i].active;
        if (!any || f->error)
            break;
        int running = 0;
        CURLMcode mc = curl_multi_perform(f->multi, &running);
        if (mc != CURLM_OK) {
            g_set_error(&f->error, VD_ERROR, VD_ERROR_FAILED, "libcurl: %s",
                        curl_multi_strerror(mc));
            break;
        }
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(f->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            CURLcode rc = m->data.result;
            char *priv = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            conn_done(f, (Conn *)priv, rc);
        }
        tick(f);
        if (f->req->cancelled && f->req->cancelled(f->req->user_data) && !f->error) {
            if (f->ranges)
                g_set_error(&f->error, VD_ERROR, VD_ERROR_FAILED,
                            "interrupted; %s is kept: run the same command again to resume",
                            f->part_path);
            else
                g_set_error(&f->error, VD_ERROR, VD_ERROR_FAILED,
                            "interrupted; the partial download was deleted (this server "
                            "cannot resume one)");
            break;
        }
        if (running)
            curl_multi_poll(f->multi, NULL, 0, 100, NULL);
    }
    /* Whatever is still in flight stops here; what it wrote counts. */
    for (int i = 0; i < f->nconns; i++) {
        Conn *c = &f->conns[i];
        if (c->active) {
            curl_multi_remove_handle(f->multi, c->easy);
            c->active = false;
            fetch_ranges_add(f->state.done, c->start, c->cur);
        }
    }
    return !f->error;
}

/* ---- before and after the transfer ---- */

/* The final file exists: fine when it has the expected digest. */
static bool check_existing(const FetchRequest *req, FetchResult *res, GError **error)
{
    if (!req->sha256) {
        g_autofree char *plain = g_strdup_printf("%s already exists and there is no SHA-256 "
                                                 "to check it against; remove it to download "
                                                 "it again",
                                                 req->path);
        vd_error_set_worded(error, VD_ERROR_EXISTS, NULL, plain,
                            "%s already exists and there is no SHA-256 to check it against; give "
                            "--sha256, remove it or choose another name with -o",
                            req->path);
        return false;
    }
    char have[65];
    if (!fetch_sha256_file(req->path, have, error))
        return false;
    if (g_ascii_strcasecmp(have, req->sha256)) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "%s already exists with another content (SHA-256 %s, expected %s); remove "
                    "it or choose another name with -o",
                    req->path, have, req->sha256);
        return false;
    }
    res->already = true;
    res->verified = true;
    g_strlcpy(res->sha256, have, sizeof(res->sha256));
    struct stat st;
    if (stat(req->path, &st) == 0)
        res->size = (uint64_t)st.st_size;
    return true;
}

static bool same_validator(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* @a -> @b for a message, each quoted or "(none)". */
static char *validator_change(const char *a, const char *b)
{
    g_autofree char *qa = vd_text_quote(a, -1), *qb = vd_text_quote(b, -1);
    return g_strdup_printf("%s -> %s", qa, qb);
}

/* Decide between resuming and starting over; fills f->state.done. A .part
 * whose state file is there but damaged is left alone: which of its bytes
 * are good is unknown, and starting over would throw them away. */
static bool load_resume_state(Fetch *f, const FetchProbe *p, GError **error)
{
    bool have_part = !f->part_created;
    FetchState old;
    fetch_state_init(&old);
    g_autoptr(GError) err = NULL;
    bool have_state = have_part && fetch_state_load(f->state_path, &old, &err);
    if (have_part && !have_state && !g_error_matches(err, VD_ERROR, VD_ERROR_NOT_FOUND)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "cannot resume %s: %s. Nothing was changed; delete %s and %s to download "
                    "again",
                    f->part_path, err->message, f->part_path, f->state_path);
        fetch_state_clear(&old);
        return false;
    }
    const char *why = NULL;
    g_autofree char *why_buf = NULL;
    if (!have_part) {
        why = NULL;
    } else if (!have_state) {
        why = "it has no download state";
    } else if (!f->ranges) {
        why = "the server cannot send the rest (no byte ranges)";
    } else if (strcmp(old.url, f->req->url)) {
        g_autofree char *url = vd_text_quote(old.url, -1);
        why_buf = g_strdup_printf("it came from another URL (%s)", url);
    } else if (old.size != p->size) {
        why_buf = g_strdup_printf("the file on the server changed size (%" PRIu64 " -> %" PRIu64
                                  " bytes)", old.size, p->size);
    } else if ((old.etag || p->etag) ? !same_validator(old.etag, p->etag)
                                     : !same_validator(old.last_modified, p->last_modified) &&
                                           (old.last_modified || p->last_modified)) {
        bool by_etag = old.etag || p->etag;
        g_autofree char *change = by_etag ? validator_change(old.etag, p->etag)
                                          : validator_change(old.last_modified, p->last_modified);
        why_buf = g_strdup_printf("the file on the server changed (%s %s)",
                                  by_etag ? "ETag" : "Last-Modified", change);
    } else {
        /* Resume. */
        g_array_append_vals(f->state.done, old.done->data, old.done->len);
        g_autofree char *have = fetch_format_bytes(fetch_ranges_total(old.done));
        g_autofree char *total = fetch_format_bytes(p->size);
        note(f, "resuming %s: %s of %s already downloaded", f->part_path, have, total);
    }
    if (why || why_buf) {
        note(f, "starting over: %s is not a part of this download (%s)", f->part_path,
             why ? why : why_buf);
        if (ftruncate(f->fd, 0) < 0)
            note(f, "cannot empty %s: %s", f->part_path, g_strerror(errno));
        unlink(f->state_path);
    } else if (!have_part) {
        unlink(f->state_path); /* a stray state without data */
    }
    fetch_state_clear(&old);
    return true;
}

/* Free space for what the .part still needs, before anything is written. */
static bool check_space(Fetch *f, GError **error)
{
    if (!f->size_known)
        return true;
    g_autofree char *dir = g_path_get_dirname(f->part_path);
    uint64_t allocated = 0;
    struct stat st;
    if (fstat(f->fd, &st) == 0)
        allocated = (uint64_t)st.st_blocks * 512;
    uint64_t need = f->state.size > allocated ? f->state.size - allocated : 0;
    struct statvfs vfs;
    if (statvfs(dir, &vfs) < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == ENOENT ? VD_ERROR_NOT_FOUND : VD_ERROR_FAILED,
                    "cannot use the folder %s: %s", dir, g_strerror(e));
        return false;
    }
    uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (need > avail) {
        g_autofree char *n = fetch_format_bytes(need), *a = fetch_format_bytes(avail);
        g_set_error(error, VD_ERROR, VD_ERROR_NO_SPACE,
                    "not enough disk space in %s: the download needs %s (%" PRIu64
                    " bytes), %s (%" PRIu64 " bytes) are free; nothing was written",
                    dir, n, need, a, avail);
        return false;
    }
    return true;
}

/* Open (or create) the .part and lock it before anything is decided about
 * it: a second `vmdesk fetch` to the same PATH stops here instead of
 * truncating or overwriting the first one's data. */
static bool lock_part(Fetch *f, GError **error)
{
    f->part_created = !g_file_test(f->part_path, G_FILE_TEST_EXISTS);
    f->fd = open(f->part_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == ENOENT ? VD_ERROR_NOT_FOUND : VD_ERROR_FAILED,
                    "cannot create %s: %s%s", f->part_path, g_strerror(e),
                    e == ENOENT ? " (does the folder exist?)" : "");
        return false;
    }
    if (flock(f->fd, LOCK_EX | LOCK_NB) < 0) {
        g_autofree char *plain = g_strdup_printf(
            "another download is writing %s; wait for it or stop it", f->part_path);
        vd_error_set_worded(error, VD_ERROR_FAILED, NULL, plain,
                            "another vmdesk fetch is writing %s; wait for it or stop it",
                            f->part_path);
        f->part_created = false; /* theirs */
        return false;
    }
    return true;
}

/* Giving up before any data was written: a .part this run made goes. */
static void drop_created_part(Fetch *f)
{
    if (f->part_created)
        unlink(f->part_path);
}

/* The full size, reserved at once: pieces land in place, and the space
 * cannot run out half way. */
static bool reserve_part(Fetch *f, GError **error)
{
    if (!f->size_known || f->state.size == 0)
        return true;
    int e = posix_fallocate(f->fd, 0, (off_t)f->state.size);
    if (e) {
        g_autofree char *n = fetch_format_bytes(f->state.size);
        g_set_error(error, VD_ERROR, e == ENOSPC ? VD_ERROR_NO_SPACE : VD_ERROR_FAILED,
                    "cannot reserve %s for %s: %s", n, f->part_path, g_strerror(e));
        return false;
    }
    return true;
}

/* The pieces still to fetch, small enough that idle connections find work. */
static void plan_pieces(Fetch *f, int want)
{
    if (!f->ranges) {
        FetchRange all = {0, f->size_known ? f->state.size : UINT64_MAX};
        g_array_append_val(f->todo, all);
        f->nconns = 1;
        return;
    }
    g_autoptr(GArray) missing = fetch_ranges_missing(f->state.done, f->state.size);
    uint64_t left = fetch_ranges_total(missing);
    uint64_t piece = CLAMP(left / ((uint64_t)want * 2), MIN_PIECE, MAX_PIECE);
    for (guint i = 0; i < missing->len; i++) {
        FetchRange r = g_array_index(missing, FetchRange, i);
        for (uint64_t s = r.start; s < r.end; s += piece) {
            FetchRange p = {s, MIN(s + piece, r.end)};
            g_array_append_val(f->todo, p);
        }
    }
    f->nconns = (int)MAX(1u, MIN((guint)want, f->todo->len));
}

static bool finish(Fetch *f, FetchResult *res, GError **error)
{
    if (fdatasync(f->fd) < 0 && errno != EINVAL) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == ENOSPC ? VD_ERROR_NO_SPACE : VD_ERROR_FAILED,
                    "cannot write %s: %s", f->part_path, g_strerror(e));
        return false;
    }
    if (f->req->sha256) {
        char have[65];
        bool hashed = fetch_hasher_finish(f->hasher, f->state.size, have, error);
        f->hasher = NULL;
        if (!hashed)
            return false;
        if (g_ascii_strcasecmp(have, f->req->sha256)) {
            g_autofree char *lower = g_ascii_strdown(f->req->sha256, -1);
            g_autofree char *plain = g_strdup_printf(
                "SHA-256 mismatch for %s: expected %s, got %s. Nothing was saved as %s; the "
                "download is kept as %s (delete it to download again)",
                f->req->url, lower, have, f->req->path, f->part_path);
            vd_error_set_worded(error, VD_ERROR_FAILED, NULL, plain,
                                "SHA-256 mismatch for %s: expected %s, got %s. Nothing was saved "
                                "as %s; the download is kept as %s (a rerun with the right "
                                "--sha256 checks it again without downloading; delete it to "
                                "download again)",
                                f->req->url, lower, have, f->req->path, f->part_path);
            return false;
        }
        res->verified = true;
        g_strlcpy(res->sha256, have, sizeof(res->sha256));
    }
    if (rename(f->part_path, f->req->path) < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot rename %s to %s: %s",
                    f->part_path, f->req->path, g_strerror(e));
        return false;
    }
    unlink(f->state_path);
    g_autofree char *dir = g_path_get_dirname(f->req->path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    res->size = f->state.size;
    return true;
}

static void fetch_free(Fetch *f)
{
    for (int i = 0; i < FETCH_MAX_CONNECTIONS; i++) {
        if (f->conns[i].easy)
            curl_easy_cleanup(f->conns[i].easy);
        fetch_headers_clear(&f->conns[i].headers);
    }
    fetch_hasher_cancel(f->hasher);
    if (f->multi)
        curl_multi_cleanup(f->multi);
    curl_slist_free_all(f->if_range);
    if (f->fd >= 0)
        close(f->fd);
    fetch_state_clear(&f->state);
    if (f->todo)
        g_array_unref(f->todo);
    g_free(f->part_path);
    g_free(f->state_path);
    g_free(f->data_url);
    g_clear_error(&f->error);
}

static bool setup_connections(Fetch *f, GError **error)
{
    f->multi = curl_multi_init();
    for (int i = 0; f->multi && i < f->nconns; i++) {
        Conn *c = &f->conns[i];
        c->f = f;
        c->easy = fetch_easy_new(f->data_url, c->errbuf);
        if (!c->easy)
            break;
        curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, conn_write);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, fetch_headers_cb);
        curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, &c->headers);
        /* HTTP/1.1: each range its own TCP connection (HTTP/2 would put
         * them all on one, which is what several connections are to avoid). */
        curl_easy_setopt(c->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    }
    if (!f->multi || (f->nconns && !f->conns[f->nconns - 1].easy)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "libcurl could not start a transfer");
        return false;
    }
    curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)f->nconns);
    return true;
}

bool fetch_run(const FetchRequest *req, FetchResult *res, GError **error)
{
    FetchResult dummy;
    res = res ? res : &dummy;
    memset(res, 0, sizeof(*res));
    gint64 t0 = g_get_monotonic_time();
    if (!fetch_url_check(req->url, error))
        return false;
    if (req->connections < 1 || req->connections > FETCH_MAX_CONNECTIONS) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "connections must be 1 to %d, not %d",
                    FETCH_MAX_CONNECTIONS, req->connections);
        return false;
    }
    if (req->sha256 && !fetch_sha256_valid(req->sha256)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "\"%s\" is not a SHA-256 digest (64 hexadecimal digits)", req->sha256);
        return false;
    }
    if (g_file_test(req->path, G_FILE_TEST_EXISTS))
        return check_existing(req, res, error);

    FetchProbe probe = {0};
    if (!fetch_probe(req->url, &probe, error))
        return false;
    Fetch f = {.req = req, .fd = -1, .t0 = t0};
    fetch_state_init(&f.state);
    f.todo = g_array_new(FALSE, FALSE, sizeof(FetchRange));
    f.part_path = g_strconcat(req->path, ".part", NULL);
    f.state_path = g_strconcat(req->path, ".part.json", NULL);
    f.data_url = g_strdup(probe.effective_url);
    f.ranges = probe.ranges;
    f.size_known = probe.size_known;
    f.state.url = g_strdup(req->url);
    f.state.size = probe.size;
    f.state.etag = g_strdup(probe.etag);
    f.state.last_modified = g_strdup(probe.last_modified);
    /* If-Range needs a strong validator; a weak ETag falls back to the date. */
    const char *validator = probe.etag && !g_str_has_prefix(probe.etag, "W/") ? probe.etag
                                                                              : probe.last_modified;
    if (validator) {
        g_autofree char *h = g_strdup_printf("If-Range: %s", validator);
        f.if_range = curl_slist_append(NULL, h);
    }
    if (!f.ranges && req->connections > 1)
        note(&f, "the server does not send byte ranges (it answered a Range request with the "
                 "whole file): one connection, and an interrupted download cannot resume");
    if (!f.size_known)
        note(&f, "the server does not say how large the file is: no free-space check");

    bool ok = false;
    bool ready = lock_part(&f, error) && load_resume_state(&f, &probe, error);
    if (ready) {
        res->resumed_from = fetch_ranges_total(f.state.done);
        plan_pieces(&f, req->connections);
        ready = check_space(&f, error) && reserve_part(&f, error) &&
                setup_connections(&f, error) &&
                (!req->sha256 || (f.hasher = fetch_hasher_start(f.fd, error)));
        if (!ready)
            drop_created_part(&f);
    }
    if (ready) {
        feed_hasher(&f); /* a resumed beginning is hashed while the rest comes */
        save_state(&f);
        f.last_save = f.last_progress = g_get_monotonic_time();
        bool moved = transfer(&f);
        report(&f, true);
        if (!moved) {
            save_state(&f);
            if (f.drop_state || !f.ranges) {
                unlink(f.state_path);
                unlink(f.part_path);
            }
            g_propagate_error(error, g_steal_pointer(&f.error));
        } else {
            save_state(&f);
            ok = finish(&f, res, error);
        }
    }
    res->transferred = f.transferred;
    res->connections = f.nconns;
    res->seconds = (g_get_monotonic_time() - t0) / 1e6;
    fetch_probe_clear(&probe);
    fetch_free(&f);
    return ok;
}
