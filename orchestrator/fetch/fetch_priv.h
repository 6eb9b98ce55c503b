/* Internals of fetch.c shared with fetch_state.c and the tests: byte-range
 * sets and the resume state file (PATH.part.json). Not thread-safe; one
 * download owns its state. */
#pragma once

#include "fetch/fetch.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t start; /* first byte */
    uint64_t end;   /* one past the last byte */
} FetchRange;

/* Add [@start, @end) to @ranges (a GArray of FetchRange kept sorted and
 * merged). Empty ranges are ignored. */
void fetch_ranges_add(GArray *ranges, uint64_t start, uint64_t end);
/* Bytes covered by @ranges. */
uint64_t fetch_ranges_total(const GArray *ranges);
/* The parts of [0, @size) not in @ranges, as a new GArray of FetchRange
 * (caller unrefs). */
GArray *fetch_ranges_missing(const GArray *ranges, uint64_t size);

/* What PATH.part.json holds. */
typedef struct {
    char *url;           /* as the user gave it */
    uint64_t size;
    char *etag;          /* NULL when the server sent none */
    char *last_modified; /* NULL when the server sent none */
    GArray *done;        /* FetchRange: bytes already in the .part */
} FetchState;

void fetch_state_init(FetchState *st);
/* Frees the members; @st may be reused after fetch_state_init. */
void fetch_state_clear(FetchState *st);
/* Parse the @len bytes of a state file at @data into @st (initialised by the
 * caller, left empty on failure); @origin names the file in errors. The text
 * comes from disk, so anything is refused cleanly: VD_ERROR_INVALID ("ORIGIN
 * is not a vmdesk download state: why") for more than 1 MiB, invalid UTF-8,
 * anything but strict JSON, nesting deeper than a state has (checked before
 * json-glib, which would recurse without a limit), a member of the wrong
 * type, a range that is not two integers within the size. Pure. */
bool fetch_state_parse(const char *data, gsize len, const char *origin, FetchState *st,
                       GError **error);
/* Read @path into @st as fetch_state_parse() does. VD_ERROR_NOT_FOUND when
 * there is no such file, VD_ERROR_FAILED when it cannot be read. */
bool fetch_state_load(const char *path, FetchState *st, GError **error);
/* The text of a state file: @st plus the ranges in @extra (may be NULL:
 * in-flight progress). Newly allocated. */
char *fetch_state_to_data(const FetchState *st, const GArray *extra);
/* Write fetch_state_to_data() to @path atomically. */
bool fetch_state_save(const char *path, const FetchState *st, const GArray *extra,
                      GError **error);

/* ---- HTTP helpers (fetch_http.c) ---- */

#include <curl/curl.h>

/* Headers of one response; a redirect chain resets them at each status line,
 * so after a transfer they are the last response's. */
typedef struct {
    long status;
    char *reason;        /* "Not Found" */
    char *etag;
    char *last_modified;
    char *content_range;
    int64_t content_length; /* -1: none */
} FetchHeaders;

void fetch_headers_init(FetchHeaders *h);
void fetch_headers_clear(FetchHeaders *h);
/* A CURLOPT_HEADERFUNCTION; @userdata is a FetchHeaders. */
size_t fetch_headers_cb(char *buf, size_t size, size_t n, void *userdata);

/* "bytes START-END/TOTAL" (TOTAL may be "*": *@total 0, *@total_known false). */
bool fetch_parse_content_range(const char *v, uint64_t *start, uint64_t *end, uint64_t *total,
                               bool *total_known);

/* A new easy handle for @url with vmdesk's settings: http/https only (also
 * for redirects), certificate verification on, redirects followed, 20 s to
 * connect, an error when no byte comes for 60 s, errors into @errbuf
 * (CURL_ERROR_SIZE bytes, owned by the caller and kept alive with the handle). */
CURL *fetch_easy_new(const char *url, char *errbuf);

/* Set @error for a failed transfer of @url on @easy (curl code, message and
 * the system's errno such as "Connection refused"). */
void fetch_set_curl_error(GError **error, CURL *easy, CURLcode rc, const char *errbuf,
                          const char *url);
/* Set @error for an HTTP error status of @url (404 -> VD_ERROR_NOT_FOUND). */
void fetch_set_http_error(GError **error, long status, const char *reason, const char *url);

/* What a "Range: bytes=0-0" GET tells about @url. */
typedef struct {
    bool ranges;          /* it answered 206 with the total size */
    bool size_known;
    uint64_t size;
    char *etag;           /* strong or weak, as sent; NULL if none */
    char *last_modified;
    char *effective_url;  /* after redirects: where the data requests go */
} FetchProbe;

void fetch_probe_clear(FetchProbe *p);
/* Ask the server; fails as fetch_run does for HTTP and network errors. */
bool fetch_probe(const char *url, FetchProbe *p, GError **error);

/* libcurl's global initialisation, once per process (thread-safe). */
void fetch_curl_init(void);

/* ---- SHA-256 while downloading (fetch_hash.c) ---- */

/* Hashes the .part on its own thread as its beginning fills up, so that
 * verification ends shortly after the last byte arrives. */
typedef struct FetchHasher FetchHasher;

/* Start hashing the file behind @fd (duplicated; the caller keeps its own)
 * from offset 0, as far as fetch_hasher_advance allows. Main thread. */
FetchHasher *fetch_hasher_start(int fd, GError **error);
/* Bytes [0, @ready) of the file are written: the thread may hash them. Never
 * blocks. */
void fetch_hasher_advance(FetchHasher *h, uint64_t ready);
/* Hash up to @size, wait for the thread, and put the digest (lowercase hex)
 * in @out. Frees @h. Fails when the file cannot be read. */
bool fetch_hasher_finish(FetchHasher *h, uint64_t size, char out[65], GError **error);
/* Stop the thread without a result and free @h. NULL is fine. */
void fetch_hasher_cancel(FetchHasher *h);
