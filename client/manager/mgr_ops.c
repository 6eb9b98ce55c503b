#include "manager/mgr_ops.h"

#include "apps/desktop_entry.h"
#include "common/error.h"
#include "common/paths.h"
#include "common/size.h"
#include "common/text.h"
#include "qemu/accel.h"
#include "qemu/qmp_cmd.h"
#include "storage/disk_space.h"
#include "storage/vm_media.h"
#include "storage/vm_overlay.h"
#include "vm/vm_create.h"
#include "vm/vm_control.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define SCREEN_FILE "screen.png"
#define SCREENDUMP_TIMEOUT_MS 5000

const char *mgr_op_verb(MgrOp op)
{
    static const char *const verbs[] = {"start",           "pause",
                                        "resume",          "shut down",
                                        "force off",       "delete",
                                        "commit the changes of", "discard the changes of",
                                        "keep the changes of"};
    return verbs[op];
}

/* The labels of the fields the assistant and the VM page show, by the
 * names the orchestrator gives them (the command line's options and vmdesk
 * set's keys). */
static const struct {
    const char *field, *label;
} field_labels[] = {
    {"user", "Account name"},
    {"locale", "Locale"},
    {"keyboard", "Keyboard"},
    {"timezone", "Time zone"},
    {"tpm", "TPM 2.0"},
    {"memory", "Memory"},
    {"cpus", "Processors"},
    {"performance", "Performance"},
    {"qemu-arg", "Extra QEMU arguments"},
    {"on-shutdown", "When the guest shuts down"},
};

char *mgr_error_text(const GError *error)
{
    const char *field = vd_error_field(error), *plain = vd_error_plain(error);
    if (field) {
        for (size_t i = 0; plain && i < G_N_ELEMENTS(field_labels); i++)
            if (!strcmp(field, field_labels[i].field))
                return g_strdup_printf("%s: %s", field_labels[i].label, plain);
        /* A field the window does not show: the command line's words name it. */
        return g_strdup(error->message);
    }
    return g_strdup(plain ? plain : error->message);
}

char *mgr_ops_vmdesk_path(void)
{
    char *beside = vd_paths_beside_self("vmdesk");
    if (beside)
        return beside;
    char *found = g_find_program_in_path("vmdesk");
    return found ? found : g_strdup("vmdesk");
}

/* Append @line to @s, on a line of its own. */
static void append_line(GString *s, const char *line)
{
    if (s->len)
        g_string_append_c(s, '\n');
    g_string_append(s, line);
}

/* The lines of @text, each without what ends it (a carriage return, spaces). */
static GStrv text_lines(const char *text)
{
    GStrv lines = g_strsplit(text ? text : "", "\n", -1);
    for (char **l = lines; *l; l++)
        g_strchomp(*l);
    return lines;
}

char *mgr_ops_child_error(const char *words, const char *stderr_text, const char *fallback)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) field = g_string_new(NULL);
    g_autoptr(GString) plain = g_string_new(NULL);
    const struct {
        const char *prefix;
        GString *to;
    } kinds[] = {{VD_ERROR_LINE_PREFIX, out},
                 {VD_ERROR_FIELD_PREFIX, field},
                 {VD_ERROR_PLAIN_PREFIX, plain}};
    /* The words pipe: only the child writes to it. */
    g_auto(GStrv) wlines = text_lines(words);
    for (char **l = wlines; *l; l++)
        for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++)
            if (g_str_has_prefix(*l, kinds[k].prefix)) {
                append_line(kinds[k].to, *l + strlen(kinds[k].prefix));
                break;
            }
    if (out->len && (field->len || plain->len)) {
        /* The child's error in the window's words (VD_ERROR_WORDS_ENV). */
        g_autoptr(GError) e = NULL;
        vd_error_set_worded(&e, VD_ERROR_FAILED, field->len ? field->str : NULL,
                            plain->len ? plain->str : NULL, "%s", out->str);
        g_autofree char *text = mgr_error_text(e);
        g_string_assign(out, text);
    }
    if (!out->len) {
        /* stderr, where a helper or QEMU may write too: a message at most,
         * from the lines that begin with the command's prefix. */
        const char *last = NULL;
        g_auto(GStrv) lines = text_lines(stderr_text);
        for (char **l = lines; *l; l++) {
            if (g_str_has_prefix(*l, VD_ERROR_LINE_PREFIX))
                append_line(out, *l + strlen(VD_ERROR_LINE_PREFIX));
            else if (*g_strchug(*l))
                last = *l;
        }
        if (!out->len)
            g_string_assign(out, last ? last : fallback);
    }
    /* Valid first, then cut on a character's end: an invalid byte early in
     * the text must not shorten it. */
    g_autofree char *valid = g_utf8_make_valid(out->str, (gssize)out->len);
    gsize len = strlen(valid);
    gsize keep = vd_text_cut(valid, len, 2048);
    if (keep == len)
        return g_steal_pointer(&valid);
    valid[keep] = '\0';
    return g_strconcat(valid, "…", NULL);
}

/* --- a vmdesk child to its end --- */

enum { CHILD_STDERR, CHILD_WORDS, CHILD_PIPES };

typedef struct {
    GSubprocess *p;
    GInputStream *in[CHILD_PIPES];
    GByteArray *got[CHILD_PIPES];
    guint8 chunk[CHILD_PIPES][4096];
    int pending; /* reads and the wait not ended yet */
    bool ok;
    char *fallback;
} ChildRun;

static void child_run_free(gpointer p)
{
    ChildRun *c = p;
    g_clear_object(&c->p);
    for (int i = 0; i < CHILD_PIPES; i++) {
        g_clear_object(&c->in[i]);
        g_byte_array_unref(c->got[i]);
    }
    g_free(c->fallback);
    g_free(c);
}

/* @b's bytes as text: valid UTF-8, a NUL or an invalid byte replaced. */
static char *child_text(const GByteArray *b)
{
    return b->len ? g_utf8_make_valid((const char *)b->data, (gssize)b->len) : g_strdup("");
}

static void child_step_done(GTask *task)
{
    ChildRun *c = g_task_get_task_data(task);
    if (--c->pending > 0) {
        g_object_unref(task);
        return;
    }
    char *text = NULL;
    if (!c->ok) {
        g_autofree char *words = child_text(c->got[CHILD_WORDS]);
        g_autofree char *err = child_text(c->got[CHILD_STDERR]);
        text = mgr_ops_child_error(words, err, c->fallback);
    }
    g_task_return_pointer(task, text, g_free);
    g_object_unref(task);
}

static void child_read(GTask *task, int i);

static void child_read_done(GObject *src, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    ChildRun *c = g_task_get_task_data(task);
    int i = src == G_OBJECT(c->in[CHILD_WORDS]) ? CHILD_WORDS : CHILD_STDERR;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, NULL);
    if (n <= 0) { /* its end, or an error: what came stays */
        child_step_done(task);
        return;
    }
    GByteArray *b = c->got[i];
    if (i == CHILD_STDERR) {
        /* The last of it: an error is written last. */
        g_byte_array_append(b, c->chunk[i], (guint)n);
        if (b->len > MGR_OPS_CHILD_READ_MAX)
            g_byte_array_remove_range(b, 0, b->len - MGR_OPS_CHILD_READ_MAX);
    } else if (b->len < MGR_OPS_CHILD_READ_MAX) {
        /* The first of it; the rest is read and dropped. */
        g_byte_array_append(b, c->chunk[i],
                            (guint)MIN((gsize)n, (gsize)(MGR_OPS_CHILD_READ_MAX - b->len)));
    }
    child_read(task, i);
}

static void child_read(GTask *task, int i)
{
    ChildRun *c = g_task_get_task_data(task);
    g_input_stream_read_async(c->in[i], c->chunk[i], sizeof c->chunk[i], G_PRIORITY_DEFAULT,
                              NULL, child_read_done, task);
}

static void child_wait_done(GObject *src, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    ChildRun *c = g_task_get_task_data(task);
    c->ok = g_subprocess_wait_finish(c->p, res, NULL) && g_subprocess_get_successful(c->p);
    child_step_done(task);
}

bool mgr_ops_vmdesk_async(const char *const *args, const char *fallback,
                          GAsyncReadyCallback callback, gpointer data, GError **error)
{
    g_autofree char *vmdesk = mgr_ops_vmdesk_path();
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add(b, vmdesk);
    g_strv_builder_addv(b, (const char **)args);
    g_auto(GStrv) argv = g_strv_builder_end(b);
    /* Close-on-exec both: only the child gets the write end, as its 3. */
    int fds[2];
    if (!g_unix_open_pipe(fds, FD_CLOEXEC, error))
        return false;
    g_autoptr(GSubprocess) p = NULL;
    {
        g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
            G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_subprocess_launcher_take_fd(l, fds[1], 3);
        g_subprocess_launcher_setenv(l, VD_ERROR_WORDS_ENV, "3", TRUE);
        p = g_subprocess_launcher_spawnv(l, (const char *const *)argv, error);
        /* The launcher closes our write end: the pipe ends with the child. */
    }
    if (!p) {
        close(fds[0]);
        return false;
    }
    ChildRun *c = g_new0(ChildRun, 1);
    c->p = g_steal_pointer(&p);
    c->in[CHILD_STDERR] = g_object_ref(g_subprocess_get_stderr_pipe(c->p));
    c->in[CHILD_WORDS] = g_unix_input_stream_new(fds[0], TRUE);
    for (int i = 0; i < CHILD_PIPES; i++)
        c->got[i] = g_byte_array_new();
    c->fallback = g_strdup(fallback);
    c->pending = CHILD_PIPES + 1;
    GTask *task = g_task_new(NULL, NULL, callback, data);
    g_task_set_source_tag(task, mgr_ops_vmdesk_async);
    g_task_set_task_data(task, c, child_run_free);
    /* One reference for each read and the wait. */
    for (int i = 0; i < CHILD_PIPES; i++)
        child_read(g_object_ref(task), i);
    g_subprocess_wait_async(c->p, NULL, child_wait_done, g_object_ref(task));
    g_object_unref(task);
    return true;
}

char *mgr_ops_vmdesk_finish(GAsyncResult *res)
{
    g_return_val_if_fail(g_task_is_valid(res, NULL), NULL);
    return g_task_propagate_pointer(G_TASK(res), NULL);
}

/* --- operations --- */

typedef struct {
    MgrOp op;
    char *name;
} OpTask;

static void op_task_free(gpointer p)
{
    OpTask *t = p;
    g_free(t->name);
    g_free(t);
}

static bool delete_vm(const char *name, GError **error)
{
    if (!vm_store_delete(name, false, NULL, error))
        return false;
    /* Its menu entries would start a VM that is gone; the VM is deleted
     * either way, so a failure here is only reported. */
    guint removed = 0;
    g_autoptr(GError) e = NULL;
    if (!desktop_entry_remove_vm(name, &removed, &e)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "VM \"%s\" is deleted, but its menu entries stay: %s", name, e->message);
        return false;
    }
    return true;
}

static void op_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    OpTask *t = data;
    GError *err = NULL;
    bool ok = false, forced = false;
    switch (t->op) {
    case MGR_OP_START: {
        g_autofree char *self = mgr_ops_vmdesk_path();
        VmStartOptions opts = {.self_exe = self};
        g_autoptr(VmStatus) st = NULL;
        ok = vm_start(t->name, &opts, &st, &err);
        break;
    }
    case MGR_OP_PAUSE: ok = vm_pause(t->name, &err); break;
    case MGR_OP_RESUME: ok = vm_resume(t->name, &err); break;
    case MGR_OP_SHUTDOWN: ok = vm_stop(t->name, false, MGR_SHUTDOWN_TIMEOUT_S, &forced, &err); break;
    case MGR_OP_FORCE_OFF: ok = vm_stop(t->name, true, 0, &forced, &err); break;
    case MGR_OP_DELETE: ok = delete_vm(t->name, &err); break;
    case MGR_OP_OVERLAY_COMMIT: ok = vm_overlay_apply(t->name, VM_OVERLAY_COMMIT, &err); break;
    case MGR_OP_OVERLAY_DISCARD: ok = vm_overlay_apply(t->name, VM_OVERLAY_DISCARD, &err); break;
    case MGR_OP_OVERLAY_KEEP: ok = vm_overlay_apply(t->name, VM_OVERLAY_KEEP, &err); break;
    }
    if (ok)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, err);
}

void mgr_ops_run_async(MgrOp op, const char *name, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    OpTask *t = g_new0(OpTask, 1);
    t->op = op;
    t->name = g_strdup(name);
    g_task_set_task_data(task, t, op_task_free);
    g_task_set_source_tag(task, mgr_ops_run_async);
    g_task_run_in_thread(task, op_thread);
}

bool mgr_ops_run_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_boolean(G_TASK(res), error);
}

/* --- state --- */

static MgrVmPhase phase_of(VmState s)
{
    switch (s) {
    case VM_STATE_STOPPED: return MGR_VM_STOPPED;
    case VM_STATE_STARTING: return MGR_VM_STARTING;
    case VM_STATE_RUNNING: return MGR_VM_RUNNING;
    case VM_STATE_PAUSED: return MGR_VM_PAUSED;
    case VM_STATE_ERROR: return MGR_VM_FAILED;
    default: return MGR_VM_BUSY;
    }
}

static const char *state_text(VmState s)
{
    static const char *const texts[] = {
        [VM_STATE_STOPPED] = "Stopped",   [VM_STATE_STARTING] = "Starting",
        [VM_STATE_RUNNING] = "Running",   [VM_STATE_PAUSING] = "Pausing",
        [VM_STATE_PAUSED] = "Paused",     [VM_STATE_RESUMING] = "Resuming",
        [VM_STATE_STOPPING] = "Shutting down", [VM_STATE_SNAPSHOTTING] = "Saving a snapshot",
        [VM_STATE_ERROR] = "Failed",
    };
    return texts[s];
}

void mgr_ops_read_state(const char *name, MgrVmInfo *out)
{
    memset(out, 0, sizeof(*out));
    g_autoptr(GError) e = NULL;
    g_autoptr(VmConfig) cfg = vm_store_load(name, &e);
    g_autoptr(VmStatus) st = vm_status_get(name);
    if (!cfg) {
        out->phase = MGR_VM_FAILED;
        out->state_text = g_strdup("Damaged");
        out->reason = mgr_error_text(e);
        return;
    }
    out->phase = phase_of(st->state);
    out->overlay_pending = vm_overlay_decision_pending(name);
    out->state_text = g_strdup(state_text(st->state));
    /* The reason in the window's words when the supervisor gave them. */
    const char *reason = st->reason_plain ? st->reason_plain : st->reason;
    out->reason = g_strdup(st->state == VM_STATE_RUNNING ? NULL : reason);
    if (vm_state_is_active(st->state) && st->accel)
        out->accel = g_strdup(!g_ascii_strcasecmp(st->accel, "kvm") ? "KVM"
                              : !g_ascii_strcasecmp(st->accel, "tcg")
                                  ? "TCG (software emulation)"
                                  : st->accel);
}

void mgr_vm_info_clear(MgrVmInfo *info)
{
    g_free(info->state_text);
    g_free(info->reason);
    g_free(info->accel);
    memset(info, 0, sizeof(*info));
}

/* --- screen --- */

char *mgr_ops_screen_path(const char *name)
{
    g_autofree char *dir = vd_paths_vm_dir(name);
    return g_build_filename(dir, SCREEN_FILE, NULL);
}

static bool screendump(const char *name, const char *path, GError **error)
{
    g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
    if (!c)
        return false;
    g_autofree char *tmp = g_strconcat(path, ".new", NULL);
    if (!qmp_cmd_screendump(c, tmp, SCREENDUMP_TIMEOUT_MS, error)) {
        g_unlink(tmp);
        return false;
    }
    if (g_rename(tmp, path) < 0) {
        int e = errno;
        g_unlink(tmp);
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot save the screen of VM \"%s\" as %s: %s",
                    name, path, g_strerror(e));
        return false;
    }
    return true;
}

typedef struct {
    char *name;
    bool saved_only;
    char *shown;   /* the digest of the picture shown now, or NULL */
} ScreenTask;

static void screen_task_free(gpointer p)
{
    ScreenTask *t = p;
    g_free(t->name);
    g_free(t->shown);
    g_free(t);
}

#define SCREEN_DIGEST_KEY "vmdesk-screen-digest"

static void screen_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    ScreenTask *t = data;
    g_autofree char *path = mgr_ops_screen_path(t->name);
    GError *err = NULL;
    if (!t->saved_only && !screendump(t->name, path, &err)) {
        g_task_return_error(task, err);
        return;
    }
    g_autoptr(GBytes) png = NULL;
    {
        char *buf;
        gsize len;
        if (!g_file_get_contents(path, &buf, &len, &err)) {
            g_task_return_error(task, err);
            return;
        }
        png = g_bytes_new_take(buf, len);
    }
    /* A screen that did not change costs a checksum, not a decode and a
     * redraw (QEMU writes the same PNG for the same picture). */
    g_autofree char *digest = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, png);
    if (!g_strcmp0(digest, t->shown)) {
        g_task_return_pointer(task, NULL, NULL);
        return;
    }
    /* The card shows a thumbnail: scaled here, so that neither the card's
     * natural size nor the drawing follows the guest's resolution. */
    g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes(png);
    g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_stream_at_scale(in, MGR_SCREEN_WIDTH,
                                                                  MGR_SCREEN_HEIGHT, TRUE, NULL,
                                                                  &err);
    if (!pb) {
        g_prefix_error(&err, "%s: ", path);
        g_task_return_error(task, err);
        return;
    }
    GdkTexture *tex = gdk_texture_new_for_pixbuf(pb);
    g_object_set_data_full(G_OBJECT(tex), SCREEN_DIGEST_KEY, g_steal_pointer(&digest), g_free);
    g_task_return_pointer(task, tex, g_object_unref);
}

void mgr_ops_screen_async(const char *name, bool saved_only, GdkTexture *shown,
                          GCancellable *cancellable, GAsyncReadyCallback callback, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    ScreenTask *t = g_new0(ScreenTask, 1);
    t->name = g_strdup(name);
    t->saved_only = saved_only;
    t->shown = shown ? g_strdup(g_object_get_data(G_OBJECT(shown), SCREEN_DIGEST_KEY)) : NULL;
    g_task_set_task_data(task, t, screen_task_free);
    g_task_set_source_tag(task, mgr_ops_screen_async);
    g_task_run_in_thread(task, screen_thread);
}

GdkTexture *mgr_ops_screen_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_pointer(G_TASK(res), error);
}

/* --- delete --- */

static int cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *mgr_ops_describe_delete(const char *name)
{
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *total = vd_size_format(disk_space_tree_size(dir));
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "This removes the folder %s (%s on disk) with everything in it:",
                           dir, total);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d)))
        if (strcmp(e, SCREEN_FILE))
            g_ptr_array_add(names, g_strdup(e));
    g_ptr_array_sort(names, cmp_names);
    for (guint i = 0; i < names->len; i++) {
        const char *n = names->pdata[i];
        g_autofree char *p = g_build_filename(dir, n, NULL);
        g_autofree char *size = vd_size_format(disk_space_tree_size(p));
        bool folder = g_file_test(p, G_FILE_TEST_IS_DIR);
        g_string_append_printf(s, "%s %s%s (%s)", i ? "," : "", n, folder ? "/" : "", size);
    }
    g_string_append(s, ". Its desktop menu entries go too.");
    g_autoptr(VmConfig) cfg = vm_store_load(name, NULL);
    g_autofree char *disk = cfg ? vm_store_disk_path(cfg) : NULL;
    if (disk && !g_str_has_prefix(disk, dir))
        g_string_append_printf(s, " The disk image %s is outside that folder and stays.",
                               disk);
    if (cfg && cfg->base)
        g_string_append_printf(s, " The base image %s stays.", cfg->base);
    if (cfg && cfg->iso)
        g_string_append_printf(s, " The CD image %s stays.", cfg->iso);
    return g_string_free(s, FALSE);
}

static void accel_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    /* The assistant makes guests of the host's architecture. */
    VmArch arch = VM_ARCH_X86_64;
    vm_arch_host(&arch);
    AccelKvmProbe p = {0};
    accel_probe_kvm(arch, true, &p);
    char *text = p.usable
                     ? g_strdup("KVM works here: the VM runs at nearly the host's speed.")
                     : g_strdup_printf("KVM does not work here (%s): the VM runs with software "
                                       "emulation (TCG), which is several times slower. Fine "
                                       "for light work; an installation takes long.",
                                       p.reason ? p.reason : "no reason given");
    accel_kvm_probe_clear(&p);
    g_task_return_pointer(task, text, g_free);
}

void mgr_ops_accel_text_async(GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    g_task_run_in_thread(task, accel_thread);
}

char *mgr_ops_accel_text_finish(GAsyncResult *res)
{
    return g_task_propagate_pointer(G_TASK(res), NULL);
}
