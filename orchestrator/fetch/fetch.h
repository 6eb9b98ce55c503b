/* Downloads of large files (installer ISOs) over HTTP and HTTPS with libcurl.
 *
 * Data goes to PATH.part, preallocated to the full size, written with pwrite
 * by up to 16 byte-range connections (one when the server ignores Range);
 * PATH.part.json records the URL, the size, the server's validators (ETag,
 * Last-Modified) and which byte ranges are complete, so a rerun continues
 * where an interrupted one stopped. The final name appears only through
 * rename() once the whole file is there and its SHA-256, when one is
 * expected, matched. The transfer runs on the calling thread; when a digest
 * is expected, a helper thread hashes the .part as its beginning fills up and
 * is joined before fetch_run returns. No global state beyond libcurl's
 * one-time initialisation. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define FETCH_MAX_CONNECTIONS 16

typedef struct {
    uint64_t done;    /* bytes in the .part, resumed ones included */
    uint64_t total;   /* 0 when the server did not give a size */
    double rate;      /* bytes/s over the last few seconds */
    double elapsed;   /* seconds since this run started */
    bool finished;    /* the last call: the transfer ended (well or not) */
} FetchProgress;

/* Borrowed arguments, valid for the call only. */
typedef void (*FetchProgressFunc)(const FetchProgress *p, void *user_data);
/* One sentence for the user (resuming, no byte ranges, starting over...). */
typedef void (*FetchNoteFunc)(const char *message, void *user_data);

typedef struct {
    const char *url;            /* http:// or https:// */
    const char *path;           /* the final file */
    const char *sha256;         /* expected digest (64 hex digits), or NULL: not verified */
    int connections;            /* 1..FETCH_MAX_CONNECTIONS */
    FetchProgressFunc progress; /* at most 5 calls a second, then one with finished; may be NULL */
    FetchNoteFunc note;         /* may be NULL */
    /* Polled about 10 times a second during the transfer: true stops it, the
     * state is saved (VD_ERROR_FAILED, "interrupted"). May be NULL. */
    bool (*cancelled)(void *user_data);
    void *user_data;
} FetchRequest;

typedef struct {
    uint64_t size;          /* of the final file */
    uint64_t resumed_from;  /* bytes that were already in the .part */
    uint64_t transferred;   /* body bytes received in this run */
    double seconds;         /* this run, verification included */
    int connections;        /* connections used for the data */
    bool already;           /* the final file was there with the expected SHA-256 */
    bool verified;          /* its SHA-256 was checked */
    char sha256[65];        /* the file's digest when verified, else "" */
} FetchResult;

/* Download @req->url to @req->path as described above. Blocks; calls
 * @req->progress and @req->note on the calling thread. Fails with
 * VD_ERROR_INVALID (not http/https, bad name or digest), VD_ERROR_EXISTS
 * (the final file exists and is not the expected one), VD_ERROR_NOT_FOUND
 * (HTTP 404/410), VD_ERROR_TIMEOUT (no data for 60 s), VD_ERROR_NO_SPACE (not
 * enough free space, checked before anything is written, or ENOSPC while
 * writing: the .part is then kept for a resume) or VD_ERROR_FAILED (other
 * HTTP statuses, network and TLS errors, a SHA-256 mismatch: the message
 * names both digests and what happened to the .part). @res is filled on
 * success and may be NULL. */
bool fetch_run(const FetchRequest *req, FetchResult *res, GError **error);

/* GET @url into memory (at most @max_bytes, e.g. a SHA256SUMS file); *@out
 * is NUL-terminated, caller frees. Same errors as fetch_run. */
bool fetch_get_text(const char *url, size_t max_bytes, char **out, GError **error);

/* Only http:// and https:// URLs with a host and without a password are
 * accepted (VD_ERROR_INVALID). */
bool fetch_url_check(const char *url, GError **error);

/* The file name a URL's path ends in, percent-decoded ("x.iso" for
 * https://h/a/x.iso?y). VD_ERROR_INVALID when there is none (give -o then).
 * Caller frees. */
char *fetch_url_file_name(const char *url, GError **error);

/* Is @hex 64 hexadecimal digits? */
bool fetch_sha256_valid(const char *hex);

/* "64.0 MiB", "512 bytes": binary units, plain ASCII. Caller frees. */
char *fetch_format_bytes(uint64_t n);

/* SHA-256 of the file at @path as 64 lowercase hex digits into @out. */
bool fetch_sha256_file(const char *path, char out[65], GError **error);
