/* Overlays on the real test guest (TCG): the guest writes a marker into its
 * disk's first sector at boot (vmdesk.disk-mark=, tests/guest/init), and the
 * on-shutdown policy commits, discards or asks; a kill -9 in the middle of a
 * commit leaves a chain that qemu-img check accepts and that vmdesk
 * completes; a disposable run leaves the disk as it was; with a vmdesk window
 * open, on-shutdown=ask asks there. */
#include "harness_x.h"
#include "storage_harness.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#define BOOT_MS 90000

static void boot_and_stop(Harness *h, const char *name, const char *wait_for)
{
    g_free(harness_ok(h, "start", name, "--accel", "tcg", NULL));
    st_wait_serial(h, name, wait_for, BOOT_MS);
    st_wait_serial(h, name, "VMDESK-GUEST-READY", BOOT_MS);
    g_free(harness_ok(h, "stop", name, NULL));
    g_autofree char *st = st_state(h, name);
    g_assert_cmpstr(st, ==, "STOPPED");
}

static void set_append(Harness *h, const char *name, const char *mark)
{
    g_autofree char *a = g_strdup_printf("append=console=ttyS0 quiet%s%s",
                                         mark ? " vmdesk.disk-mark=" : "", mark ? mark : "");
    g_free(harness_ok(h, "set", name, a, NULL));
}

static JsonObject *overlay_json(Harness *h, const char *name)
{
    g_autofree char *out = harness_ok(h, "overlay", name, "status", "--json", NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

static void test_policies(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *base = g_build_filename(h.root, "base.raw", NULL);
    st_make_raw(base, "BASE", 16 << 20);
    const char *extra[] = {"--base", base, "--overlay", "--on-shutdown", "commit", NULL};
    harness_create_guest(&h, "ov", "vmdesk.disk-mark=NEW1", extra);
    g_autofree char *overlay = st_vm_path(&h, "ov", "overlay.qcow2");
    g_assert_true(g_file_test(overlay, G_FILE_TEST_EXISTS));

    /* commit: the guest read the base and wrote NEW1 into the overlay; at
     * shutdown it went into the base, and the overlay is empty again. */
    boot_and_stop(&h, "ov", "VMDESK-DISK-WROTE NEW1");
    st_wait_serial(&h, "ov", "VMDESK-DISK-READ BASE", 1000);
    g_autoptr(JsonObject) show = harness_show(&h, "ov");
    g_assert_nonnull(strstr(json_object_get_string_member(show, "reason"), "committed"));
    g_autofree char *l1 = st_first_line(base);
    g_assert_cmpstr(l1, ==, "NEW1");
    g_autoptr(JsonObject) o1 = overlay_json(&h, "ov");
    g_assert_cmpint(json_object_get_int_member(o1, "changed-bytes"), ==, 0);
    g_assert_false(json_object_get_boolean_member(o1, "pending"));

    /* discard: NEW2 is written into the overlay and thrown away. */
    g_free(harness_ok(&h, "set", "ov", "on-shutdown=discard", NULL));
    set_append(&h, "ov", "NEW2");
    boot_and_stop(&h, "ov", "VMDESK-DISK-WROTE NEW2");
    st_wait_serial(&h, "ov", "VMDESK-DISK-READ NEW1", 1000);
    g_autofree char *l2 = st_first_line(base);
    g_assert_cmpstr(l2, ==, "NEW1");
    g_autofree char *l2o = st_first_line(overlay);
    g_assert_cmpstr(l2o, ==, "NEW1");

    /* ask, with no window open: the next boot sees NEW1 (the discard held),
     * writes NEW3; the overlay is kept and the question waits. */
    g_free(harness_ok(&h, "set", "ov", "on-shutdown=ask", NULL));
    set_append(&h, "ov", "NEW3");
    boot_and_stop(&h, "ov", "VMDESK-DISK-WROTE NEW3");
    st_wait_serial(&h, "ov", "VMDESK-DISK-READ NEW1", 1000);
    g_autofree char *l3 = st_first_line(base);
    g_assert_cmpstr(l3, ==, "NEW1");
    g_autofree char *l3o = st_first_line(overlay);
    g_assert_cmpstr(l3o, ==, "NEW3");
    g_autoptr(JsonObject) o3 = overlay_json(&h, "ov");
    g_assert_true(json_object_get_boolean_member(o3, "pending"));
    g_assert_cmpint(json_object_get_int_member(o3, "changed-bytes"), >, 0);
    g_autofree char *text = harness_ok(&h, "overlay", "ov", "status", NULL);
    g_assert_nonnull(strstr(text, "pending:"));
    g_assert_nonnull(strstr(text, "vmdesk overlay ov commit"));
    g_assert_nonnull(strstr(text, "vmdesk overlay ov discard"));
    g_autofree char *shown = harness_ok(&h, "show", "ov", NULL);
    g_assert_nonnull(strstr(shown, "pending:"));

    /* Answering commits; the question is gone. */
    g_free(harness_ok(&h, "overlay", "ov", "commit", NULL));
    g_autofree char *l4 = st_first_line(base);
    g_assert_cmpstr(l4, ==, "NEW3");
    g_autoptr(JsonObject) o4 = overlay_json(&h, "ov");
    g_assert_false(json_object_get_boolean_member(o4, "pending"));
    g_assert_cmpint(json_object_get_int_member(o4, "changed-bytes"), ==, 0);

    /* Commit and discard need the VM stopped; status works while it runs. */
    g_free(harness_ok(&h, "start", "ov", "--accel", "tcg", NULL));
    RunResult r = harness_vmdesk(&h, "overlay", "ov", "commit", NULL);
    g_assert_cmpint(r.status, ==, 4);
    run_result_clear(&r);
    g_autoptr(JsonObject) o5 = overlay_json(&h, "ov");
    g_assert_cmpstr(json_object_get_string_member(o5, "on-shutdown"), ==, "ask");
    g_free(harness_ok(&h, "stop", "ov", "--force", NULL));
    harness_finish(&h);
}

/* `vmdesk view VM --protocol vnc` under @env, its output in @log. */
static GPid spawn_view(char **env, const char *vm, const char *log)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "view", vm, "--protocol", "vnc", NULL};
    GPid view;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *)env,
                                                   G_SPAWN_DO_NOT_REAP_CHILD,
                                                   harness_die_with_parent, NULL, -1, fd, fd,
                                                   NULL, NULL, 0, &view, NULL, NULL, NULL, &err));
    g_assert_no_error(err);
    close(fd);
    return view;
}

/* The question's window, or the test fails with the view's output. */
static char *wait_question(const char *display, const char *vm, const char *log)
{
    g_autofree char *title = g_strdup_printf("%s: keep the changes?", vm);
    char *box = wait_window(display, title, NULL, 30000);
    if (!box) {
        g_autofree char *text = NULL;
        g_file_get_contents(log, &text, NULL, NULL);
        g_error("no question in the window; its output:\n%s", text);
    }
    return box;
}

/* Waits up to @seconds for @pid to end; it must end with exit status 0. */
static void expect_exit_0(GPid pid, int seconds, const char *log)
{
    int status = 0, r = 0;
    gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
    while ((r = waitpid(pid, &status, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
        g_usleep(100 * 1000);
    if (r != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_autofree char *text = NULL;
        g_file_get_contents(log, &text, NULL, NULL);
        if (r == 0)
            kill(pid, SIGKILL);
        g_error("vmdesk view did not exit 0 within %d s (wait %d, status 0x%x); its output:\n%s",
                seconds, r, status, text);
    }
}

/* `vmdesk view aw` boots the guest, which writes @mark into its overlay;
 * once it is up, it is stopped, and the window asks what to do with the
 * changes: the view's pid, and the question's window in *@box. */
static GPid view_until_question(Harness *h, const char *display, char **env, const char *mark,
                                const char *log, char **box)
{
    GPid view = spawn_view(env, "aw", log);
    g_autofree char *wrote = g_strdup_printf("VMDESK-DISK-WROTE %s", mark);
    st_wait_serial(h, "aw", wrote, BOOT_MS);
    st_wait_serial(h, "aw", "VMDESK-GUEST-READY", BOOT_MS); /* it powers off on ACPI */
    g_free(harness_ok(h, "stop", "aw", NULL));
    *box = wait_question(display, "aw", log);
    return view;
}

/* on-shutdown=ask with `vmdesk view` open: when the guest shuts down, the
 * window asks; Enter commits the guest's changes into the base. A SIGTERM
 * while it asks ends the view at once and keeps the overlay, the question
 * left for `vmdesk overlay NAME status`. */
static void test_ask_in_window(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *base = g_build_filename(h.root, "base.raw", NULL);
    st_make_raw(base, "BASE", 16 << 20);
    const char *extra[] = {"--base", base, "--overlay", "--on-shutdown", "ask", NULL};
    harness_create_guest(&h, "aw", "vmdesk.disk-mark=NEW5", extra);
    Xvfb x;
    xvfb_start(&x);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h.env), "DISPLAY", x.display, TRUE);
    g_autofree char *log = g_build_filename(h.root, "view.log", NULL);
    g_autofree char *box = NULL;
    GPid view = view_until_question(&h, x.display, env, "NEW5", log, &box);
    const char *focus[] = {"xdotool", "windowfocus", "--sync", box, "key", "Return", NULL};
    g_free(x_run(x.display, focus));
    expect_exit_0(view, 30, log);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "aw: the overlay's changes: commit"));
    g_autofree char *l = st_first_line(base);
    g_assert_cmpstr(l, ==, "NEW5");
    g_autoptr(JsonObject) o = overlay_json(&h, "aw");
    g_assert_false(json_object_get_boolean_member(o, "pending"));
    g_assert_cmpint(json_object_get_int_member(o, "changed-bytes"), ==, 0);

    /* SIGTERM while the question is up. */
    set_append(&h, "aw", "NEW6");
    g_autofree char *box2 = NULL;
    view = view_until_question(&h, x.display, env, "NEW6", log, &box2);
    g_assert_cmpint(kill(view, SIGTERM), ==, 0);
    expect_exit_0(view, 5, log);
    g_autofree char *text2 = NULL;
    g_assert_true(g_file_get_contents(log, &text2, NULL, NULL));
    g_assert_nonnull(strstr(text2, "aw: interrupted while asking; the overlay is kept"));
    g_autofree char *l2 = st_first_line(base);
    g_assert_cmpstr(l2, ==, "NEW5");
    g_autoptr(JsonObject) o2 = overlay_json(&h, "aw");
    g_assert_true(json_object_get_boolean_member(o2, "pending"));
    g_assert_cmpint(json_object_get_int_member(o2, "changed-bytes"), >, 0);
    xvfb_stop(&x);
    harness_finish(&h);
}

static int pid_of_child(int parent, const char *comm)
{
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        if (!g_ascii_isdigit(*e))
            continue;
        g_autofree char *p = g_strdup_printf("/proc/%s/stat", e);
        g_autofree char *stat = NULL;
        if (!g_file_get_contents(p, &stat, NULL, NULL))
            continue;
        char *close = strrchr(stat, ')');
        int ppid = 0;
        if (close && sscanf(close + 2, "%*c %d", &ppid) == 1 && ppid == parent &&
            strstr(stat, comm))
            return atoi(e);
    }
    return 0;
}

/* Write @pattern over [@from_mib, @to_mib) of qcow2 image @path with
 * qemu-io, in 128 MiB requests (qemu-io's buffer is one request). */
static void qemu_io_fill(const char *path, int pattern, int from_mib, int to_mib)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, g_strdup("qemu-io"));
    for (int m = from_mib; m < to_mib; m += 128) {
        g_ptr_array_add(a, g_strdup("-c"));
        g_ptr_array_add(a, g_strdup_printf("write -P 0x%x %dM 128M", pattern, m));
    }
    g_ptr_array_add(a, g_strdup(path));
    g_ptr_array_add(a, NULL);
    g_assert_cmpint(st_run((const char *const *)a->pdata, NULL), ==, 0);
    g_ptr_array_unref(a);
}

static goffset file_size(const char *path)
{
    GStatBuf st;
    return g_stat(path, &st) == 0 ? (goffset)st.st_size : -1;
}

/* Bytes below @limit that image @path itself holds (qemu-img map). */
static guint64 data_bytes(const char *path, guint64 limit)
{
    const char *argv[] = {"qemu-img", "map", "-U", "--output=json", path, NULL};
    g_autofree char *out = NULL;
    g_assert_cmpint(st_run(argv, &out), ==, 0);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
    JsonArray *a = json_node_get_array(json_parser_get_root(p));
    guint64 total = 0;
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        guint64 start = (guint64)json_object_get_int_member(o, "start");
        guint64 len = (guint64)json_object_get_int_member(o, "length");
        if (json_object_get_boolean_member(o, "data") && start < limit)
            total += MIN(len, limit - start);
    }
    return total;
}

/* The disk of the kill during a commit: NEW_MIB of new data in the overlay
 * over a base whose next TAIL_MIB only the base holds; the kill comes once
 * KILL_MIB of the new data are in the base's file. Enough for the commit to
 * be under way for a while (hundreds of milliseconds on a quiet machine,
 * polled every 2 ms), small enough that writing and reading it all back
 * (four times the disk) stays short. */
#define NEW_MIB 512
#define TAIL_MIB 128
#define KILL_MIB 64

/* Image @path (the overlay, or the base after the commit) reads as the new
 * data, then the base's own tail, to its end. */
static void assert_reads_back(const char *path)
{
    g_autofree char *new_data = g_strdup_printf("read -P 0x5a 0 %dM", NEW_MIB);
    g_autofree char *tail = g_strdup_printf("read -P 0x11 %dM %dM", NEW_MIB, TAIL_MIB);
    const char *argv[] = {"qemu-io", "-r", "-c", new_data, "-c", tail, path, NULL};
    g_autofree char *out = NULL;
    g_assert_cmpint(st_run(argv, &out), ==, 0);
    g_assert_null(strstr(out, "failed"));
    g_autofree char *last = g_strdup_printf("read %d/%d bytes at offset %d", TAIL_MIB << 20,
                                            TAIL_MIB << 20, NEW_MIB << 20);
    if (!strstr(out, last))
        g_error("qemu-io did not read %s to its end:\n%s", path, out);
}

static void test_kill_during_commit(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *base = g_build_filename(h.root, "base.qcow2", NULL);
    g_autofree char *size = g_strdup_printf("%dM", NEW_MIB + TAIL_MIB);
    const char *mk[] = {"qemu-img", "create", "-q", "-f", "qcow2", base, size, NULL};
    g_assert_cmpint(st_run(mk, NULL), ==, 0);
    qemu_io_fill(base, 0x11, NEW_MIB, NEW_MIB + TAIL_MIB);
    const char *extra[] = {"--base", base, "--overlay", NULL};
    harness_create_guest(&h, "kc", NULL, extra);
    g_autofree char *overlay = st_vm_path(&h, "kc", "overlay.qcow2");
    g_autofree char *intent = st_vm_path(&h, "kc", "overlay.intent");
    /* New data in the overlay: a commit takes a while. */
    qemu_io_fill(overlay, 0x5a, 0, NEW_MIB);

    goffset base_size0 = file_size(base);
    const char *bin = g_getenv("VMDESK_BIN");
    const char *argv[] = {bin, "overlay", "kc", "commit", NULL};
    GPid pid;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, h.env, G_SPAWN_DO_NOT_REAP_CHILD,
                                harness_die_with_parent, NULL, &pid, &err));
    /* Wait for qemu-img commit to be under way, let it write, kill -9. */
    int img = 0;
    for (int i = 0; i < 400 && !img; i++) {
        img = g_file_test(intent, G_FILE_TEST_EXISTS) ? pid_of_child(pid, "(qemu-img)") : 0;
        if (!img)
            g_usleep(10 * 1000);
    }
    g_assert_cmpint(img, >, 0);
    /* Midway: once qemu-img has written KILL_MIB of the NEW_MIB into the
     * base's file (its metadata may still be in qemu-img's cache). */
    goffset kill_at = base_size0 + ((goffset)KILL_MIB << 20);
    for (int i = 0; i < 3000 && file_size(base) < kill_at; i++)
        g_usleep(2 * 1000);
    g_assert_cmpint(file_size(base), >=, kill_at);
    g_assert_cmpint(kill(img, 0), ==, 0); /* qemu-img commit still at work */
    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    int ws = 0;
    g_assert_cmpint(waitpid(pid, &ws, 0), ==, pid);
    g_assert_true(WIFSIGNALED(ws));
    /* qemu-img dies with vmdesk (PR_SET_PDEATHSIG). */
    for (int i = 0; i < 100 && kill(img, 0) == 0; i++)
        g_usleep(20 * 1000);
    g_assert_true(g_file_test(intent, G_FILE_TEST_EXISTS)); /* interrupted, not finished */

    /* The chain is sound and reads as the new data (the overlay holds it
     * all); the base may have leaked clusters (exit 3), nothing worse. */
    const char *c_base[] = {"qemu-img", "check", "-q", base, NULL};
    const char *c_ov[] = {"qemu-img", "check", "-q", overlay, NULL};
    int rb = st_run(c_base, NULL);
    g_assert_true(rb == 0 || rb == 3);
    g_test_message("killed during the commit: the base's file had grown by %.0f MiB, %.0f MiB of "
                   "the %d were in its metadata; qemu-img check of the base: exit %d",
                   (double)(file_size(base) - base_size0) / (1 << 20),
                   (double)data_bytes(base, (guint64)NEW_MIB << 20) / (1 << 20), NEW_MIB, rb);
    g_assert_cmpint(st_run(c_ov, NULL), ==, 0);
    assert_reads_back(overlay);

    /* status completes the commit; the base holds the data, nothing leaks. */
    g_autofree char *st = harness_ok(&h, "overlay", "kc", "status", NULL);
    g_assert_nonnull(strstr(st, "interrupted commit was completed"));
    g_assert_false(g_file_test(intent, G_FILE_TEST_EXISTS));
    g_assert_cmpint(st_run(c_base, NULL), ==, 0);
    g_assert_cmpint(st_run(c_ov, NULL), ==, 0);
    assert_reads_back(base);
    g_autoptr(JsonObject) o = overlay_json(&h, "kc");
    g_assert_cmpint(json_object_get_int_member(o, "changed-bytes"), ==, 0);
    harness_finish(&h);
}

static void test_disposable(void)
{
    Harness h;
    harness_init(&h);
    const char *extra[] = {NULL};
    harness_create_guest(&h, "dp", "vmdesk.disk-mark=TMP", extra);
    g_autofree char *disk = st_vm_path(&h, "dp", "disk.qcow2");
    g_autofree char *seed = g_build_filename(h.root, "seed.raw", NULL);
    st_make_raw(seed, "KEEP", 8 << 20);
    g_free(harness_ok(&h, "disk", "dp", "import", seed, NULL));
    g_autofree char *l0 = st_first_line(disk);
    g_assert_cmpstr(l0, ==, "KEEP");

    g_autofree char *out = harness_ok(&h, "disposable", "dp", "--no-window", NULL);
    g_assert_nonnull(strstr(out, "disposable"));
    st_wait_serial(&h, "dp", "VMDESK-DISK-WROTE TMP", BOOT_MS);
    st_wait_serial(&h, "dp", "VMDESK-DISK-READ KEEP", 1000);
    g_autofree char *ddir = st_vm_path(&h, "dp", "disposable");
    g_assert_true(g_file_test(ddir, G_FILE_TEST_IS_DIR));
    /* A disposable run takes no snapshots. */
    RunResult r = harness_vmdesk(&h, "snapshot", "dp", "save", "x", NULL);
    g_assert_cmpint(r.status, ==, 4);
    run_result_clear(&r);
    st_wait_serial(&h, "dp", "VMDESK-GUEST-READY", BOOT_MS);
    g_free(harness_ok(&h, "stop", "dp", NULL));
    g_autofree char *l1 = st_first_line(disk);
    g_assert_cmpstr(l1, ==, "KEEP");
    g_assert_false(g_file_test(ddir, G_FILE_TEST_EXISTS));
    harness_finish(&h);
}

static void write_at(const char *path, goffset off, const char *text)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpuint(len, >=, (gsize)off + strlen(text));
    memcpy(data + off, text, strlen(text));
    g_assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
}

static char *read_at(const char *path, goffset off, gsize n)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpuint(len, >=, (gsize)off + n);
    return g_strndup(data + off, n);
}

/* The UEFI variables and the TPM state follow the overlay: commit makes the
 * live ones the committed ones, discard brings those back. */
static void test_uefi_tpm_state(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *base = g_build_filename(h.root, "base.qcow2", NULL);
    const char *mk[] = {"qemu-img", "create", "-q", "-f", "qcow2", base, "64M", NULL};
    g_assert_cmpint(st_run(mk, NULL), ==, 0);
    g_free(harness_ok(&h, "create", "fw", "--os", "other", "--firmware", "uefi", "--tpm",
                      "--disk", "0", "--base", base, "--overlay", NULL));
    g_autofree char *vars = st_vm_path(&h, "fw", "uefi-vars.fd");
    g_autofree char *tpm_file = st_vm_path(&h, "fw", "tpm/tpm2-00.permall");
    g_autofree char *tpm_new = st_vm_path(&h, "fw", "tpm/extra");

    write_at(vars, 0x83f00, "VARS-ONE");
    g_assert_true(g_file_set_contents(tpm_file, "TPM-ONE", -1, NULL));
    g_autofree char *out = harness_ok(&h, "overlay", "fw", "status", NULL);
    g_assert_nonnull(strstr(out, "UEFI variables"));
    g_assert_nonnull(strstr(out, "TPM state"));
    g_free(harness_ok(&h, "overlay", "fw", "commit", NULL));
    g_autofree char *committed = st_vm_path(&h, "fw", "base-state/uefi-vars.fd");
    g_autofree char *c1 = read_at(committed, 0x83f00, 8);
    g_assert_cmpstr(c1, ==, "VARS-ONE");

    write_at(vars, 0x83f00, "VARS-TWO");
    g_assert_true(g_file_set_contents(tpm_file, "TPM-TWO", -1, NULL));
    g_assert_true(g_file_set_contents(tpm_new, "new", -1, NULL));
    g_free(harness_ok(&h, "overlay", "fw", "discard", NULL));
    g_autofree char *v = read_at(vars, 0x83f00, 8);
    g_assert_cmpstr(v, ==, "VARS-ONE");
    g_autofree char *t = NULL;
    g_assert_true(g_file_get_contents(tpm_file, &t, NULL, NULL));
    g_assert_cmpstr(t, ==, "TPM-ONE");
    g_assert_false(g_file_test(tpm_new, G_FILE_TEST_EXISTS));
    g_autofree char *out2 = harness_ok(&h, "overlay", "fw", "status", NULL);
    g_assert_null(strstr(out2, "UEFI variables"));
    harness_finish(&h);
}

/* The hole the hardening issue opened with, reproduced the way it was
 * found: the guest writes into its disk a qcow2 header whose backing file is
 * a host file; commits put those bytes into the raw base (on-shutdown=commit
 * in the supervisor, then vmdesk overlay commit, which the window's Commit
 * also runs). The next boots must still see the raw base: never the host
 * file, whose text must not appear in the guest. Export, offline snapshots
 * and resize name the chain explicitly too. A config from before base-format
 * whose overlay header was already poisoned is refused at start, not
 * guessed, until the user records the format. */
static void test_guest_planted_header(void)
{
    Harness h;
    harness_init(&h);
    g_autofree char *base = g_build_filename(h.root, "base.raw", NULL);
    st_make_raw(base, "BASE", 16 << 20);
    g_autofree char *secret = g_build_filename(h.root, "host-secret.txt", NULL);
    g_assert_true(g_file_set_contents(secret, "HOSTSECRET-CONTENT\n", -1, NULL));
    /* What the guest will write: a small qcow2 image backed by the secret,
     * gzip'd and base64'd to travel through its serial shell. */
    g_autofree char *evil = g_build_filename(h.root, "evil.qcow2", NULL);
    const char *mk[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512",
                        "-u", "-b", secret, "-F", "raw", evil, "1M", NULL};
    g_assert_cmpint(st_run(mk, NULL), ==, 0);
    g_autofree char *raw = NULL;
    gsize raw_len = 0;
    g_assert_true(g_file_get_contents(evil, &raw, &raw_len, NULL));
    g_autoptr(GZlibCompressor) z = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
    guint8 gz[8192];
    gsize rd = 0, wr = 0;
    g_assert_cmpint(g_converter_convert(G_CONVERTER(z), raw, raw_len, gz, sizeof(gz),
                                        G_CONVERTER_INPUT_AT_END, &rd, &wr, NULL),
                    ==, G_CONVERTER_FINISHED);
    g_autofree char *b64 = g_base64_encode(gz, wr);
    g_assert_cmpuint(strlen(b64), <, 1000); /* one line for the guest's tty */

    const char *extra[] = {"--base", base, "--overlay", "--on-shutdown", "commit", NULL};
    harness_create_guest(&h, "pl", NULL, extra);
    g_autofree char *conf = st_vm_path(&h, "pl", "vm.conf");
    g_autofree char *conf_text = NULL;
    g_assert_true(g_file_get_contents(conf, &conf_text, NULL, NULL));
    g_assert_nonnull(strstr(conf_text, "base-format=raw"));

    g_free(harness_ok(&h, "start", "pl", "--accel", "tcg", NULL));
    st_wait_serial(&h, "pl", "VMDESK-GUEST-READY", BOOT_MS);
    g_autofree char *plant = g_strdup_printf(
        "echo %s | base64 -d | gunzip | dd of=/dev/vda conv=fsync 2>/dev/null && "
        "echo PLANTED-$((40+2))",
        b64);
    st_guest_shell(&h, "pl", plant, "PLANTED-42", 30000);
    g_free(harness_ok(&h, "stop", "pl", NULL)); /* on-shutdown=commit */
    /* The base now holds the guest's qcow2 header... */
    g_autofree char *head = NULL;
    g_assert_true(g_file_get_contents(base, &head, NULL, NULL));
    g_assert_cmpint(memcmp(head, "QFI\xfb", 4), ==, 0);
    /* ...and the new overlay still names it as raw. */
    g_autofree char *overlay = st_vm_path(&h, "pl", "overlay.qcow2");
    const char *info[] = {"qemu-img", "info", "--output=json", "-f", "qcow2", overlay, NULL};
    g_autofree char *info_out = NULL;
    g_assert_cmpint(st_run(info, &info_out), ==, 0);
    g_assert_nonnull(strstr(info_out, "\"backing-filename-format\": \"raw\""));

    /* Export, an offline snapshot and a resize never open the host file:
     * the exported disk starts with the planted header, not the secret. */
    g_autofree char *out = g_build_filename(h.root, "export.raw", NULL);
    g_free(harness_ok(&h, "disk", "pl", "export", out, "--format", "raw", NULL));
    g_autofree char *exported = NULL;
    g_assert_true(g_file_get_contents(out, &exported, NULL, NULL));
    g_assert_cmpint(memcmp(exported, "QFI\xfb", 4), ==, 0);
    g_free(harness_ok(&h, "snapshot", "pl", "save", "s1", NULL));
    g_free(harness_ok(&h, "disk", "pl", "resize", "+1M", NULL));

    /* The next boot reads the raw base: the header's bytes, never the
     * secret's text. */
    g_free(harness_ok(&h, "start", "pl", "--accel", "tcg", NULL));
    st_wait_serial(&h, "pl", "VMDESK-GUEST-READY", BOOT_MS);
    g_free(harness_ok(&h, "stop", "pl", NULL));
    g_autofree char *serial_path = st_vm_path(&h, "pl", "logs/serial.log");
    g_autofree char *serial = NULL;
    g_assert_true(g_file_get_contents(serial_path, &serial, NULL, NULL));
    g_assert_nonnull(strstr(serial, "VMDESK-DISK-READ QFI"));
    g_assert_null(strstr(serial, "HOSTSECRET"));
    /* The CLI commit (and the window's) recreates the overlay the same way. */
    g_free(harness_ok(&h, "overlay", "pl", "commit", NULL));
    g_autofree char *info_out2 = NULL;
    g_assert_cmpint(st_run(info, &info_out2), ==, 0);
    g_assert_nonnull(strstr(info_out2, "\"backing-filename-format\": \"raw\""));
    g_autoptr(JsonObject) st = overlay_json(&h, "pl");
    g_assert_cmpstr(json_object_get_string_member(st, "base-format"), ==, "raw");

    /* A config from before base-format, whose overlay the old code recreated
     * from a probe of the poisoned base: refused, with the way out. */
    const char *poison[] = {"qemu-img", "rebase", "-q", "-u", "-f", "qcow2", "-b", base, "-F",
                            "qcow2", overlay, NULL};
    g_assert_cmpint(st_run(poison, NULL), ==, 0);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_file(kf, conf, G_KEY_FILE_KEEP_COMMENTS, NULL));
    g_assert_true(g_key_file_remove_key(kf, "vm", "base-format", NULL));
    g_assert_true(g_key_file_save_to_file(kf, conf, NULL));
    RunResult r = harness_vmdesk(&h, "start", "pl", "--accel", "tcg", NULL);
    g_assert_cmpint(r.status, !=, 0);
    g_assert_nonnull(strstr(r.err, "base-format"));
    run_result_clear(&r);
    g_free(harness_ok(&h, "set", "pl", "base-format=raw", NULL));
    g_free(harness_ok(&h, "overlay", "pl", "discard", NULL));
    g_autofree char *info_out3 = NULL;
    g_assert_cmpint(st_run(info, &info_out3), ==, 0);
    g_assert_nonnull(strstr(info_out3, "\"backing-filename-format\": \"raw\""));
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage/overlay/policies", test_policies);
    g_test_add_func("/storage/overlay/ask-in-window", test_ask_in_window);
    g_test_add_func("/storage/overlay/kill-during-commit", test_kill_during_commit);
    g_test_add_func("/storage/overlay/disposable", test_disposable);
    g_test_add_func("/storage/overlay/uefi-tpm-state", test_uefi_tpm_state);
    g_test_add_func("/storage/overlay/guest-planted-header", test_guest_planted_header);
    return g_test_run();
}
