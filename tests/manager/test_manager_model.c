/* unit-manager-model: vmdesk-manager's model without a display or a VM. The
 * VM list follows the store and the published state through inotify alone
 * (VMs made and deleted behind its back, a supervisor's state files written
 * while a lock is held as the supervisor holds it), and the operations of
 * mgr_ops.h run in worker threads: delete (and what it says it deletes) and
 * create with a file that is no CD image, then with a real ISO; a start that
 * fails before QEMU in the window's words; a failed child's stderr as the
 * window shows it, in its words when it wrote them. */
#include "common/error.h"
#include "common/paths.h"
#include "manager/mgr_ops.h"
#include "manager/mgr_vm_list.h"
#include "session/session_words.h"
#include "storage/vm_snapshot.h"
#include "test_util.h"
#include "vm/vm_create.h"
#include "vm/vm_store.h"

#include <string.h>
#include <unistd.h>

static char *tmp;

typedef bool (*Cond)(gpointer data);

/* Run the main loop until @cond holds; fail after 10 s. */
static void spin_until(Cond cond, gpointer data, const char *what)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)tu_timeout_ms(10000) * 1000;
    while (!cond(data)) {
        if (g_get_monotonic_time() > deadline)
            g_error("timed out waiting for %s", what);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(5000);
    }
}

static bool has_n(gpointer data)
{
    GListModel *m = ((gpointer *)data)[0];
    return g_list_model_get_n_items(m) == GPOINTER_TO_UINT(((gpointer *)data)[1]);
}

static void wait_count(MgrVmList *list, guint n)
{
    gpointer d[] = {mgr_vm_list_get_model(list), GUINT_TO_POINTER(n)};
    g_autofree char *what = g_strdup_printf("%u VMs in the list", n);
    spin_until(has_n, d, what);
}

static bool has_state(gpointer data)
{
    MgrVm *vm = ((gpointer *)data)[0];
    return !strcmp(mgr_vm_get_state_text(vm), ((gpointer *)data)[1]);
}

static void wait_state(MgrVm *vm, const char *text)
{
    gpointer d[] = {vm, (gpointer)text};
    g_autofree char *what = g_strdup_printf("state %s", text);
    spin_until(has_state, d, what);
}

static void make_vm(const char *name)
{
    g_autoptr(VmConfig) cfg = vm_config_new(name);
    g_assert_true(vm_config_set(cfg, "firmware=bios", false, NULL, NULL));
    VmCreateOptions opts = {0};
    g_autoptr(GError) err = NULL;
    g_assert_true(vm_create(cfg, &opts, &err));
    g_assert_no_error(err);
}

static void publish_worded(const char *name, VmState state, const char *reason,
                           const char *plain)
{
    g_autoptr(VmStatus) st = vm_status_new(state);
    st->reason = g_strdup(reason);
    st->reason_plain = g_strdup(plain);
    st->accel = g_strdup("tcg");
    st->supervisor_pid = getpid();
    g_autofree char *path = vm_runtime_path(name, "state");
    g_autoptr(GError) err = NULL;
    g_assert_true(vm_status_save(st, path, &err));
    g_assert_no_error(err);
}

static void publish(const char *name, VmState state, const char *reason)
{
    publish_worded(name, state, reason, NULL);
}

typedef struct {
    bool done, ok;
    GError *error;
} Result;

static void op_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Result *r = data;
    r->ok = mgr_ops_run_finish(res, &r->error);
    r->done = true;
}

static void create_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Result *r = data;
    r->ok = mgr_ops_create_finish(res, &r->error);
    r->done = true;
}

static bool result_done(gpointer data)
{
    return ((Result *)data)->done;
}

static void test_follow_store_and_state(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(MgrVmList) list = mgr_vm_list_new(&err);
    g_assert_no_error(err);
    GListModel *model = mgr_vm_list_get_model(list);
    g_assert_cmpuint(g_list_model_get_n_items(model), ==, 0);

    /* Made behind the list's back (as `vmdesk create` in a terminal). */
    make_vm("beta");
    make_vm("alpha");
    wait_count(list, 2);
    g_autoptr(MgrVm) first = g_list_model_get_item(model, 0);
    g_assert_cmpstr(mgr_vm_get_name(first), ==, "alpha");
    MgrVm *vm = mgr_vm_list_find(list, "alpha");
    g_assert_true(vm == first);
    g_assert_cmpstr(mgr_vm_get_state_text(vm), ==, "Stopped");
    g_assert_null(mgr_vm_get_accel(vm));

    /* The supervisor's published states, with its lock held. */
    int lock = vm_lock_acquire("alpha", &err);
    g_assert_no_error(err);
    publish("alpha", VM_STATE_STARTING, NULL);
    wait_state(vm, "Starting");
    g_assert_cmpint(mgr_vm_get_phase(vm), ==, MGR_VM_STARTING);
    publish("alpha", VM_STATE_RUNNING, NULL);
    wait_state(vm, "Running");
    g_assert_cmpstr(mgr_vm_get_accel(vm), ==, "TCG (software emulation)");
    publish("alpha", VM_STATE_PAUSED, "no space left on /data (3 MiB free)");
    wait_state(vm, "Paused");
    g_assert_cmpstr(mgr_vm_get_reason(vm), ==, "no space left on /data (3 MiB free)");
    /* A reason with the supervisor's plain words: the card shows those. */
    publish_worded("alpha", VM_STATE_STOPPED,
                   "the guest powered off; kept the overlay; the question waits in vmdesk "
                   "overlay status",
                   "the guest powered off; kept the overlay; the question waits");
    close(lock);
    wait_state(vm, "Stopped");
    g_assert_cmpstr(mgr_vm_get_reason(vm), ==,
                    "the guest powered off; kept the overlay; the question waits");
    g_assert_null(mgr_vm_get_accel(vm));

    /* Deleted behind its back. */
    g_assert_true(vm_store_delete("beta", false, NULL, &err));
    wait_count(list, 1);

    /* Deleted through the manager's operation, which says what goes. */
    g_autofree char *dir = vd_paths_vm_dir("alpha");
    g_autofree char *what = mgr_ops_describe_delete("alpha");
    g_test_message("%s", what);
    g_assert_nonnull(strstr(what, dir));
    g_assert_nonnull(strstr(what, "vm.conf"));
    g_assert_nonnull(strstr(what, "menu entries"));
    Result r = {0};
    mgr_ops_run_async(MGR_OP_DELETE, "alpha", NULL, op_done, &r);
    spin_until(result_done, &r, "the delete");
    g_assert_no_error(r.error);
    g_assert_true(r.ok);
    wait_count(list, 0);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

static void test_create(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(MgrVmList) list = mgr_vm_list_new(&err);
    g_assert_no_error(err);
    g_autofree char *bad = g_build_filename(tmp, "bad.iso", NULL);
    tu_write_file(bad, "no CD image at all");
    MgrNewVmSpec spec = {.name = "gamma", .os = "linux", .iso = bad, .memory_gib = 1,
                         .cpus = 1, .disk_gib = 1};
    MgrNewVmSpec *s = g_memdup2(&spec, sizeof(spec));
    s->name = g_strdup(spec.name), s->os = g_strdup(spec.os), s->iso = g_strdup(bad);
    Result r = {0};
    mgr_ops_create_async(s, NULL, create_done, &r);
    spin_until(result_done, &r, "the refused create");
    g_assert_false(r.ok);
    g_assert_error(r.error, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(r.error->message, "is not a CD image"));
    g_clear_error(&r.error);
    g_autofree char *dir = vd_paths_vm_dir("gamma");
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));

    g_autofree char *cd = g_build_filename(tmp, "cd", NULL);
    g_assert_cmpint(g_mkdir_with_parents(cd, 0700), ==, 0);
    g_autofree char *readme = g_build_filename(cd, "README", NULL);
    tu_write_file(readme, "an installer\n");
    g_autofree char *iso = g_build_filename(tmp, "good.iso", NULL);
    const char *argv[] = {"xorriso", "-as", "mkisofs", "-quiet", "-o", iso, cd, NULL};
    int wait = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &wait, NULL));
    g_assert_true(g_spawn_check_wait_status(wait, NULL));
    s = g_memdup2(&spec, sizeof(spec));
    s->name = g_strdup(spec.name), s->os = g_strdup(spec.os), s->iso = g_strdup(iso);
    r = (Result){0};
    mgr_ops_create_async(s, NULL, create_done, &r);
    spin_until(result_done, &r, "the create");
    g_assert_no_error(r.error);
    wait_count(list, 1);
    g_autoptr(VmConfig) cfg = vm_store_load("gamma", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(cfg->iso, ==, iso);
    g_assert_cmpuint(cfg->memory, ==, 1ull << 30);
    g_assert_cmpuint(cfg->cpus, ==, 1);

    /* A second VM of that name is refused with the reason. */
    s = g_memdup2(&spec, sizeof(spec));
    s->name = g_strdup(spec.name), s->os = g_strdup(spec.os), s->iso = NULL;
    r = (Result){0};
    mgr_ops_create_async(s, NULL, create_done, &r);
    spin_until(result_done, &r, "the second create");
    g_assert_error(r.error, VD_ERROR, VD_ERROR_EXISTS);
    g_clear_error(&r.error);
    g_assert_true(vm_store_delete("gamma", false, NULL, NULL));
}

/* Run @op on @name and return its error (the operation must fail). */
static GError *op_error(MgrOp op, const char *name)
{
    Result r = {0};
    mgr_ops_run_async(op, name, NULL, op_done, &r);
    spin_until(result_done, &r, "the operation");
    g_assert_false(r.ok);
    g_assert_nonnull(r.error);
    return r.error;
}

/* A start that fails before QEMU because its CD image, kernel or initrd is
 * gone: the window says what to do in the manager (the CD on the VM's
 * Storage tab), never the command line's vmdesk set; the CLI's message is
 * unchanged. */
static void test_start_error(void)
{
    static const struct {
        const char *key, *window_has, *cli_has;
    } cases[] = {
        {"iso", "the CD image ", "vmdesk set epsilon iso=PATH"},
        {"kernel", "change the VM's kernel setting", "vmdesk set epsilon kernel=PATH"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *file = g_build_filename(tmp, "gone", NULL);
        g_assert_true(g_file_set_contents(file, "x", 1, NULL));
        g_autoptr(VmConfig) cfg = vm_config_new("epsilon");
        g_autofree char *kv = g_strdup_printf("%s=%s", cases[i].key, file);
        g_assert_true(vm_config_set(cfg, "firmware=bios", false, NULL, NULL));
        g_assert_true(vm_config_set(cfg, kv, false, NULL, NULL));
        VmCreateOptions opts = {0};
        g_assert_true(vm_create(cfg, &opts, NULL));
        g_assert_cmpint(unlink(file), ==, 0);

        g_autoptr(GError) e = op_error(MGR_OP_START, "epsilon");
        g_autofree char *text = mgr_error_text(e);
        g_test_message("%s: window: %s; CLI: %s", cases[i].key, text, e->message);
        g_assert_nonnull(strstr(text, cases[i].window_has));
        g_assert_nonnull(strstr(text, file));
        g_assert_null(strstr(text, "vmdesk"));
        g_assert_null(strstr(text, "="));
        g_assert_nonnull(strstr(e->message, cases[i].cli_has));
        if (!strcmp(cases[i].key, "iso"))
            g_assert_nonnull(strstr(text, "Storage tab"));
        g_assert_true(vm_store_delete("epsilon", false, NULL, NULL));
    }
    /* The page's "New snapshot name": a name, where the command line says tag. */
    g_autoptr(GError) e = NULL;
    bool live;
    g_assert_false(vm_snapshot_save("epsilon", "no good", &live, &e));
    g_autofree char *text = mgr_error_text(e);
    g_assert_true(g_str_has_prefix(text, "snapshot name \"no good\": use 1-48 letters"));
    g_assert_true(g_str_has_prefix(e->message, "snapshot tag \"no good\": use 1-48 letters"));
}

/* A failed `vmdesk view` or `app` child, from its stderr alone: its error
 * lines without the CLI's prefix, never its log lines; the last line when it
 * wrote no error line. */
static void test_child_error(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"vmdesk: info: connecting\nvmdesk: error: VM \"w\" does not exist\n",
         "VM \"w\" does not exist"},
        {"vmdesk: error: a\r\nvmdesk: error: b  \n", "a\nb"},
        /* Only in the first column. */
        {"vmdesk: error: a\n  vmdesk: error: b\n", "a"},
        {"log 1\nsomething broke\n\n", "something broke"},
        {"", "fallback"},
        {NULL, "fallback"},
        {"\xff\xfe\n", "\xef\xbf\xbd\xef\xbf\xbd"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = mgr_ops_child_error(NULL, cases[i].in, "fallback");
        g_assert_cmpstr(got, ==, cases[i].want);
        g_autofree char *empty = mgr_ops_child_error("", cases[i].in, "fallback");
        g_assert_cmpstr(empty, ==, cases[i].want);
    }
    g_autofree char *lng = g_strnfill(5000, 'x');
    g_autofree char *in = g_strconcat("vmdesk: error: ", lng, NULL);
    g_autofree char *got = mgr_ops_child_error(NULL, in, "fallback");
    g_assert_cmpuint(strlen(got), ==, 2048 + strlen("…"));
    /* An invalid byte early on is replaced, and does not cut the text there. */
    g_autofree char *bad = g_strconcat("vmdesk: error: ab\xff", lng, NULL);
    g_autofree char *got_bad = mgr_ops_child_error(NULL, bad, "fallback");
    g_assert_true(g_str_has_prefix(got_bad, "ab\xef\xbf\xbd"));
    g_assert_true(g_utf8_validate(got_bad, -1, NULL));
    g_assert_cmpuint(strlen(got_bad), ==, 2048 + strlen("…"));
    g_autofree char *wbad = g_strconcat("vmdesk: error: ab\xff", lng, NULL);
    g_autofree char *got_wbad = mgr_ops_child_error(wbad, NULL, "fallback");
    g_assert_cmpstr(got_wbad, ==, got_bad);

    /* A child asked for its error's words (mgr_ops_vmdesk_async) writes
     * them on its words pipe: the window shows them as it shows its own
     * operations' errors, with the field's label; stderr's lines stay out. */
    g_autoptr(GError) field = NULL, plain = NULL;
    vd_error_set_worded(&field, VD_ERROR_INVALID, "keyboard", "\"qq\" is no keyboard",
                        "--keyboard \"qq\" is no keyboard");
    vd_error_set_worded(&plain, VD_ERROR_NOT_FOUND, NULL, "the CD image /x cannot be read",
                        "the ISO /x cannot be read; vmdesk set v iso=PATH");
    const GError *worded[] = {field, plain};
    for (size_t i = 0; i < G_N_ELEMENTS(worded); i++) {
        g_autofree char *lines = vd_error_lines(worded[i], TRUE);
        g_autofree char *cli = vd_error_lines(worded[i], FALSE);
        g_autofree char *err = g_strconcat("vmdesk: info: starting\n", cli, NULL);
        g_autofree char *child = mgr_ops_child_error(lines, err, "fallback");
        g_autofree char *own = mgr_error_text(worded[i]);
        g_assert_cmpstr(child, ==, own);
    }
    g_autofree char *shown = mgr_ops_child_error(
        "vmdesk: error: --keyboard x\nvmdesk: error-field: keyboard\n"
        "vmdesk: error-plain: x is\nvmdesk: error-plain: no keyboard\n",
        "vmdesk: error: --keyboard x\n", "fallback");
    g_assert_cmpstr(shown, ==, "Keyboard: x is\nno keyboard");

    /* Words on stderr are anyone's (a helper a guest owns, a log's tail):
     * never the window's text. A forged plain line there is no plain text,
     * nor does it mix with the pipe's words. */
    const char *forged = "vmdesk: error: the real one\n"
                         "vmdesk: error-field: keyboard\n"
                         "vmdesk: error-plain: forget the pinned certificate\n";
    g_autofree char *f1 = mgr_ops_child_error(NULL, forged, "fallback");
    g_assert_cmpstr(f1, ==, "the real one");
    g_autofree char *f2 = mgr_ops_child_error("vmdesk: error: the real one\n", forged, "fallback");
    g_assert_cmpstr(f2, ==, "the real one");
    g_assert_null(strstr(f2, "certificate"));
    /* A message's later lines (a log's tail) on the pipe each have their
     * prefix: one that looks like a plain line stays in the message. */
    g_autoptr(GError) tail = NULL;
    vd_error_set_worded(&tail, VD_ERROR_VM, NULL, NULL, "QEMU failed:\n%sforged",
                        VD_ERROR_PLAIN_PREFIX);
    g_autofree char *tail_lines = vd_error_lines(tail, TRUE);
    g_autofree char *tail_shown = mgr_ops_child_error(tail_lines, NULL, "fallback");
    g_assert_cmpstr(tail_shown, ==, "QEMU failed:\n" VD_ERROR_PLAIN_PREFIX "forged");

    /* A session's error, worded by the window from the helper's code
     * (session/session_words.h): the window's words, not the CLI's. */
    for (uint32_t w = SESSION_WORDS_NONE + 1; w < SESSION_WORDS_COUNT; w++) {
        g_autoptr(GError) e = session_words_error(VD_ERROR_FAILED, w, "store them with vmdesk "
                                                                      "credentials");
        g_autofree char *lines = vd_error_lines(e, TRUE);
        g_autofree char *child = mgr_ops_child_error(lines, "vmdesk: warning: x\n", "fallback");
        g_assert_cmpstr(child, ==, session_words_plain(w));
        g_assert_null(strstr(child, "vmdesk credentials"));
        /* Each says where on the VM's page it is mended. */
        g_assert_nonnull(strstr(child, "on the VM's page (Settings, Remote Desktop)") ?:
                         strstr(child, "on its page (Settings, Remote Desktop)"));
        g_assert_null(strstr(child, "command"));
    }
    g_autoptr(GError) unknown = session_words_error(VD_ERROR_FAILED, SESSION_WORDS_COUNT, "cli");
    g_autofree char *unknown_lines = vd_error_lines(unknown, TRUE);
    g_autofree char *unknown_shown = mgr_ops_child_error(unknown_lines, NULL, "fallback");
    g_assert_cmpstr(unknown_shown, ==, "cli");
}

/* A real vmdesk child through mgr_ops_vmdesk_async: its error's words come
 * from its words pipe, its stderr is read whole, and a child that does not
 * exist or ends well gives what it should. */
static void store_result(GObject *src, GAsyncResult *res, gpointer data)
{
    *(GAsyncResult **)data = g_object_ref(res);
}

static char *run_child(const char *const *args)
{
    GAsyncResult *res = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_true(mgr_ops_vmdesk_async(args, "fallback", store_result, &res, &err));
    g_assert_no_error(err);
    while (!res)
        g_main_context_iteration(NULL, TRUE);
    char *text = mgr_ops_vmdesk_finish(res);
    g_object_unref(res);
    return text;
}

static void test_child_run(void)
{
    /* A VM that exists already: the words from the pipe (the plain text),
     * not stderr's command-line message ("or vmdesk delete ..."). */
    const char *create[] = {"create", "words-vm", NULL};
    g_assert_null(run_child(create));
    g_autofree char *exists = run_child(create);
    g_assert_cmpstr(exists, ==, "a VM named \"words-vm\" exists already; pick another name");
    /* No words: stderr's message. */
    const char *missing[] = {"view", "nosuchvm-words", NULL};
    g_autofree char *gone = run_child(missing);
    g_assert_cmpstr(gone, ==, "there is no VM named \"nosuchvm-words\"");
    /* A usage error, without the error prefix: its last line. */
    const char *usage[] = {"list", "--no-such-option", NULL};
    g_autofree char *said = run_child(usage);
    g_assert_nonnull(strstr(said, "--no-such-option"));
    const char *ok[] = {"--version", NULL};
    g_assert_null(run_child(ok));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp = tu_tmpdir();
    g_autofree char *data = g_build_filename(tmp, "data", NULL);
    g_autofree char *run = g_build_filename(tmp, "run", NULL);
    g_setenv("XDG_DATA_HOME", data, TRUE);
    g_setenv("XDG_RUNTIME_DIR", run, TRUE);
    /* The vmdesk the manager runs (mgr_ops_vmdesk_path): the one built. */
    const char *bin = g_getenv("VMDESK_BIN");
    g_assert_nonnull(bin);
    g_autofree char *bin_dir = g_path_get_dirname(bin);
    g_autofree char *path = g_strconcat(bin_dir, ":", g_getenv("PATH"), NULL);
    g_setenv("PATH", path, TRUE);
    g_test_add_func("/manager/model/follow", test_follow_store_and_state);
    g_test_add_func("/manager/model/create", test_create);
    g_test_add_func("/manager/model/start-error", test_start_error);
    g_test_add_func("/manager/model/child-error", test_child_error);
    g_test_add_func("/manager/model/child-run", test_child_run);
    int rc = g_test_run();
    tu_rm_rf(tmp);
    g_free(tmp);
    return rc;
}
