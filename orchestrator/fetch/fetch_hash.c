/* SHA-256 of downloads: OpenSSL's implementation (SHA-NI/AVX2 where the CPU
 * has them: about ten times GLib's GChecksum), over a whole file or, on a
 * thread of its own, over a .part while it is being written (fetch_priv.h). */
#include "fetch/fetch_priv.h"

#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)

struct FetchHasher {
    GThread *thread;
    int fd;                /* our own duplicate */
    EVP_MD_CTX *ctx;       /* the thread's alone until it is joined */
    GMutex lock;
    GCond cond;
    uint64_t ready;        /* under lock: bytes [0, ready) may be hashed */
    uint64_t hashed;       /* under lock */
    bool stop;             /* under lock: hash up to ready, then end */
    int read_errno;        /* set by the thread before it ends */
};

static void to_hex(const unsigned char *md, unsigned len, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < len && i < 32; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[64] = '\0';
}

/* Hash @len bytes of @fd from @off into @ctx; errno value or 0. */
static int hash_range(EVP_MD_CTX *ctx, int fd, unsigned char *buf, uint64_t off, uint64_t len)
{
    while (len > 0) {
        ssize_t n = pread(fd, buf, MIN(len, CHUNK), (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return EIO; /* shorter than it should be */
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

static gpointer hasher_thread(gpointer data)
{
    FetchHasher *h = data;
    g_autofree unsigned char *buf = g_malloc(CHUNK);
    g_mutex_lock(&h->lock);
    for (;;) {
        while (h->hashed >= h->ready && !h->stop)
            g_cond_wait(&h->cond, &h->lock);
        if (h->hashed >= h->ready)
            break; /* stopped and caught up */
        uint64_t off = h->hashed;
        uint64_t len = MIN(h->ready - off, (uint64_t)CHUNK * 8);
        g_mutex_unlock(&h->lock);
        int e = hash_range(h->ctx, h->fd, buf, off, len);
        g_mutex_lock(&h->lock);
        if (e) {
            h->read_errno = e;
            break;
        }
        h->hashed = off + len;
    }
    g_mutex_unlock(&h->lock);
    return NULL;
}

FetchHasher *fetch_hasher_start(int fd, GError **error)
{
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (dup_fd < 0 || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot start the SHA-256 check");
        if (dup_fd >= 0)
            close(dup_fd);
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    FetchHasher *h = g_new0(FetchHasher, 1);
    h->fd = dup_fd;
    h->ctx = ctx;
    g_mutex_init(&h->lock);
    g_cond_init(&h->cond);
    h->thread = g_thread_new("vd-fetch-sha256", hasher_thread, h);
    return h;
}

void fetch_hasher_advance(FetchHasher *h, uint64_t ready)
{
    if (!h)
        return;
    g_mutex_lock(&h->lock);
    if (ready > h->ready) {
        h->ready = ready;
        g_cond_signal(&h->cond);
    }
    g_mutex_unlock(&h->lock);
}

static void hasher_free(FetchHasher *h)
{
    close(h->fd);
    EVP_MD_CTX_free(h->ctx);
    g_mutex_clear(&h->lock);
    g_cond_clear(&h->cond);
    g_free(h);
}

/* Stop the thread after it hashed up to @ready (the current one when
 * @ready is 0 and @cancel). */
static void hasher_join(FetchHasher *h, uint64_t ready, bool cancel)
{
    g_mutex_lock(&h->lock);
    if (cancel)
        h->ready = h->hashed;
    else if (ready > h->ready)
        h->ready = ready;
    h->stop = true;
    g_cond_signal(&h->cond);
    g_mutex_unlock(&h->lock);
    g_thread_join(h->thread);
}

bool fetch_hasher_finish(FetchHasher *h, uint64_t size, char out[65], GError **error)
{
    hasher_join(h, size, false);
    bool ok = false;
    if (h->read_errno || h->hashed != size) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot read the download back: %s",
                    g_strerror(h->read_errno ? h->read_errno : EIO));
    } else {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        ok = EVP_DigestFinal_ex(h->ctx, md, &len) == 1 && len == 32;
        if (ok)
            to_hex(md, len, out);
        else
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "SHA-256 failed");
    }
    hasher_free(h);
    return ok;
}

void fetch_hasher_cancel(FetchHasher *h)
{
    if (!h)
        return;
    hasher_join(h, 0, true);
    hasher_free(h);
}

bool fetch_sha256_file(const char *path, char out[65], GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == ENOENT ? VD_ERROR_NOT_FOUND : VD_ERROR_FAILED,
                    "cannot read %s: %s", path, g_strerror(e));
        return false;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) {
        int e = errno;
        close(fd);
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot read %s: %s", path, g_strerror(e));
        return false;
    }
    FetchHasher *h = fetch_hasher_start(fd, error);
    close(fd);
    if (!h)
        return false;
    g_autoptr(GError) err = NULL;
    if (!fetch_hasher_finish(h, (uint64_t)end, out, &err)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "%s: %s", path, err->message);
        return false;
    }
    return true;
}
