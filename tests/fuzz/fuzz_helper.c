/* libFuzzer harness for the window side of the session helper's protocol
 * (client/session/helper/helper_window_apply.c): what a helper process, run
 * by a protocol library a guest may have taken over, sends the window.
 *
 * The input is a sequence of messages, each [u8 descriptor][u32 type]
 * [u32 length][payload], the length cut to what is left. The descriptor
 * byte picks what travels with the message: nothing, a sealed memfd of
 * 64x64 pixels, an unsealed one, or /dev/null. After each message the
 * session must hold: a framebuffer no larger than its mapping, a dirty
 * rectangle inside it, events whose sizes are the mapped ones and whose
 * pointer shapes are within limits. A certificate question (HELPER_MSG_CERT,
 * which the window answers itself) reads into strings within their limits.
 * The RDP desktop's clipboard messages (HELPER_MSG_CLIP_*: a picture, a copy
 * of the server's files streamed, a read of the host's files) go to
 * helper_window_clip.c, one clipboard state for the whole input, staging in
 * a folder of the fuzzer's with a cap of FUZZ_STAGE_CAP bytes and no host
 * file offered: pictures must be within limits, reads answered with
 * nothing, the staged bytes never beyond the cap, every pasted path inside
 * the folder, and nothing left in it once the state is cleared; an answer
 * is a read's or a refusal (HELPER_MSG_CLIP_CANCEL). RemoteApp's messages
 * (HELPER_MSG_RAIL_*) go to helper_rail.c: each window event must name a
 * window, carry only its fields within their limits and a title of valid
 * UTF-8; icons at most 256 x 256; a failed launch one of our codes. The RDP
 * probe helper's verdict (HELPER_MSG_PROBE_ANSWER) goes to
 * rdp_probe_answer_read: a verdict it takes has a result the exchange can
 * give (never ERROR), fields that agree with it, and a detail sentence of
 * printable UTF-8 within its limit; one it refuses leaves the info as it was.
 * The end of the session (HELPER_MSG_CLOSED) carries plain words only from
 * the window's own table (session/session_words.h) and only for a code the
 * helper may make, whatever code it sent, and its message is one line.
 *
 * Any GLib critical or warning aborts. Built as a fuzzer with VMDESK_FUZZ=ON
 * and clang; replayed over tests/fuzz/corpus/helper by unit-fuzz-replay. */
#include "fuzz_common.h"
#include "common/error.h"
#include "common/text.h"
#include "session/helper/helper_window_priv.h"
#include "session/rdp/rdp_probe_priv.h"
#include "session/session_priv.h"
#include "session/session_words.h"

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_STAGE_CAP 4096

static int sealed = -1, unsealed = -1, devnull = -1;
static char *stage_root; /* the clipboard's staging folder */
static volatile uint32_t pixel_sink; /* keeps the reads of every pixel */

static int make_memfd(bool seal)
{
    int fd = memfd_create("fuzz-framebuffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, 64 * 64 * 4) != 0)
        abort();
    if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
        abort();
    return fd;
}

static void remove_stage_root(void)
{
    rmdir(stage_root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sealed = make_memfd(true);
    unsealed = make_memfd(false);
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    stage_root = g_dir_make_tmp("fuzz-helper-stage-XXXXXX", NULL);
    if (!stage_root)
        abort();
    atexit(remove_stage_root);
    return fuzz_common_initialize();
}

static GError *no_run(Session *s)
{
    return NULL;
}

static void no_finish(Session *s)
{
}

static const SessionImpl fuzz_impl = {.protocol = "fuzz", .run = no_run, .finish = no_finish};

static bool in(int v, int lo, int hi)
{
    return v >= lo && v <= hi;
}

static void check_rail(const SessionEvent *ev)
{
    const SessionRailWindow *w = ev->rail;
    if (!w)
        abort();
    if (ev->type != SESSION_EV_RAIL_ACTIVE && (w->id == 0 || w->id == 0xffffffffu))
        abort();
    if (ev->type == SESSION_EV_RAIL_ICON &&
        (!ev->pixels || !in(ev->w, 1, HELPER_RAIL_ICON_MAX) || !in(ev->h, 1, HELPER_RAIL_ICON_MAX)))
        abort();
    if (ev->type != SESSION_EV_RAIL_WINDOW)
        return;
    const int c = HELPER_RAIL_COORD_MAX, side = HELPER_RAIL_SIDE_MAX;
    if ((w->fields & ~HELPER_RAIL_FIELDS) || !(w->fields & SESSION_RAIL_TITLE) != !w->title ||
        (w->title && (strlen(w->title) > HELPER_RAIL_TITLE_MAX ||
                      !g_utf8_validate(w->title, -1, NULL))) ||
        !in(w->show, 0, HELPER_RAIL_SHOW_MAX))
        abort();
    if ((w->fields & SESSION_RAIL_RECT) &&
        (!(w->x == INT32_MIN ? w->y == INT32_MIN : in(w->x, -c, c) && in(w->y, -c, c)) ||
         !(w->w == -1 ? w->h == -1 : in(w->w, 0, side) && in(w->h, 0, side))))
        abort();
    if (!in(w->vis_x, -c, c) || !in(w->vis_y, -c, c) || w->vis_box[0] > w->vis_box[2] ||
        w->vis_box[1] > w->vis_box[3] || !in(w->vis_box[0], -c, c) || !in(w->vis_box[1], -c, c) ||
        !in(w->vis_box[2], -c, c) || !in(w->vis_box[3], -c, c))
        abort();
    /* What the window computes from them cannot overflow. */
    pixel_sink += (uint32_t)(w->x + w->w + w->vis_x + w->vis_box[2]);
}

static void check_session(Session *s)
{
    SessionFramebuffer *fb = &s->fb;
    if (fb->pixels) {
        if (fb->width < 1 || fb->height < 1 || fb->stride != fb->width * 4 ||
            (size_t)fb->stride * (size_t)fb->height > fb->map_len)
            abort();
        if (fb->dirty_x1 && (fb->dirty_x0 < 0 || fb->dirty_y0 < 0 || fb->dirty_x1 > fb->width ||
                             fb->dirty_y1 > fb->height))
            abort();
        /* Read every pixel, as the window's texture upload does. */
        for (int i = 0; i < fb->width * fb->height; i++)
            pixel_sink += fb->pixels[i];
    }
    SessionEvent *ev;
    while ((ev = session_next_event(s))) {
        if ((ev->type == SESSION_EV_CONNECTED || ev->type == SESSION_EV_RESIZED) &&
            (!fb->pixels || ev->w != fb->width || ev->h != fb->height))
            abort();
        if (ev->type == SESSION_EV_CURSOR && ev->pixels &&
            (ev->w < 1 || ev->h < 1 || ev->w > 512 || ev->h > 512 || ev->x >= ev->w ||
             ev->y >= ev->h))
            abort();
        if (ev->text && !g_utf8_validate(ev->text, -1, NULL))
            abort();
        for (char **p = ev->type == SESSION_EV_CLIPBOARD_FILES ? ev->paths : NULL; p && *p; p++)
            if (!g_str_has_prefix(*p, stage_root) || (*p)[strlen(stage_root)] != '/')
                abort(); /* a paste outside the staging folder */
        if (ev->type >= SESSION_EV_RAIL_WINDOW && ev->type <= SESSION_EV_RAIL_ACTIVE)
            check_rail(ev);
        if (ev->type == SESSION_EV_RAIL_EXEC &&
            (!ev->text || (ev->error && (ev->error->domain != VD_ERROR ||
                                         !in(ev->error->code, VD_ERROR_FAILED, VD_ERROR_NO_SPACE)))))
            abort();
        session_event_free(ev);
    }
}

/* The probe helper's verdict, read as the window reads it. */
static bool check_probe_answer(const HelperMsg *m, GError **err)
{
    RdpProbeInfo info = {.result = RDP_PROBE_ERROR};
    bool ok = rdp_probe_answer_read(m, &info, err);
    if (ok && (info.result >= RDP_PROBE_ERROR || !rdp_probe_detail_ok(info.detail) ||
               (info.negotiated && info.result != RDP_PROBE_READY) ||
               (!info.negotiated && (info.protocol || info.server_flags)) ||
               info.server_flags > 0xff ||
               (info.failure_code && info.result != RDP_PROBE_REFUSED)))
        abort();
    if (!ok && (info.result != RDP_PROBE_ERROR || info.detail))
        abort();
    /* What a log line or the terminal gets. */
    if (ok)
        pixel_sink += (uint32_t)strlen(info.detail);
    rdp_probe_info_clear(&info);
    return ok;
}

/* Bytes of the plain files under @fd (a folder, closed here), following no
 * link; *@entries counts what is there. */
static uint64_t staged_bytes(int fd, guint *entries)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    uint64_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        ++*entries;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += staged_bytes(openat(dirfd(d), e->d_name,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
                              entries);
        else
            n += (uint64_t)st.st_size;
    }
    closedir(d);
    return n;
}

static uint64_t stage_usage(guint *entries)
{
    *entries = 0;
    return staged_bytes(open(stage_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), entries);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Session *s = session_alloc(&fuzz_impl, NULL, NULL, NULL);
    HelperClosed closed = {0};
    /* Two copies at most: the one coming and the last one pasted. */
    HelperClip clip = {.src_fd = -1, .root = stage_root, .cap = FUZZ_STAGE_CAP};
    guint entries;
    size_t pos = 0;
    while (size - pos >= 9) {
        uint8_t which = data[pos];
        HelperMsg m = {.fd = -1};
        memcpy(&m.type, data + pos + 1, 4);
        uint32_t len;
        memcpy(&len, data + pos + 5, 4);
        pos += 9;
        m.len = MIN((size_t)len, size - pos);
        m.payload = g_memdup2(data + pos, m.len);
        pos += m.len;
        int fds[] = {-1, sealed, unsealed, devnull};
        if (fds[which % 4] >= 0)
            m.fd = dup(fds[which % 4]);
        GError *err = NULL;
        HelperCertQuestion q;
        bool ok;
        if (m.type >= HELPER_MSG_CLIP_IMAGE && m.type <= HELPER_MSG_CLIP_END) {
            GByteArray *reply = g_byte_array_new();
            ok = helper_clip_apply(s, &clip, &m, reply, &err);
            /* A read's answer refuses (u8 ok 0 after the header and serial). */
            if (ok && m.type == HELPER_MSG_CLIP_READ && (reply->len < 13 || reply->data[12]))
                abort();
            uint32_t reply_type = 0;
            if (reply->len >= 4)
                memcpy(&reply_type, reply->data, 4);
            if (m.type != HELPER_MSG_CLIP_READ && reply->len &&
                (reply_type != HELPER_MSG_CLIP_CANCEL || reply->len != 8))
                abort();
            g_byte_array_unref(reply);
            if (stage_usage(&entries) > 2 * FUZZ_STAGE_CAP)
                abort();
        } else if (m.type >= HELPER_MSG_RAIL_WINDOW && m.type <= HELPER_MSG_RAIL_WINDOW + 0xf) {
            ok = helper_rail_apply(s, &m, &err);
        } else if (m.type >= HELPER_MSG_PROBE) {
            ok = check_probe_answer(&m, &err);
        } else {
            ok = m.type == HELPER_MSG_CERT ? helper_window_read_cert(&m, &q, &err)
                                           : helper_window_apply(s, &m, &closed, &err);
        }
        if (m.type == HELPER_MSG_CERT) {
            if (ok && (q.port > 65535 || !g_utf8_validate(q.host, -1, NULL) ||
                       !g_utf8_validate(q.subject, -1, NULL) ||
                       strlen(q.pem) > HELPER_CERT_PEM_MAX))
                abort();
            helper_cert_question_clear(&q);
        }
        helper_msg_clear(&m);
        if (!ok) {
            fuzz_check_message(err);
            g_error_free(err);
        } else if (err) {
            abort();
        }
        check_session(s);
    }
    helper_clip_clear(&clip);
    stage_usage(&entries);
    if (entries) /* nothing staged stays */
        abort();
    /* An end of session's plain words are none or the window's own for a
     * code the helper may make (credentials), whatever the helper sent; its
     * message is one line, without control characters. */
    const char *plain = vd_error_plain(closed.error);
    if (plain && g_strcmp0(plain, session_words_plain(SESSION_WORDS_RDP_CREDENTIALS)))
        abort();
    if (closed.error && vd_text_find_control(closed.error->message))
        abort();
    g_clear_error(&closed.error);
    session_destroy(s);
    return 0;
}
