/* integration-unattend-create: `vmdesk create --os windows --unattended`
 * through the real binary, with real xorriso and QEMU, but no Windows (a
 * Windows ISO cannot be part of the tests): stand-in ISOs.
 *
 *   - bad input (user name, locale, keyboard, time zone, a missing ISO,
 *     --unattended without --os windows) exits 2 before anything is created;
 *   - a good one creates the VM with four CDs (the installer, virtio-win,
 *     tools, answer file), virtio disk and net, UEFI + Secure Boot + TPM;
 *   - the tools ISO has the label VMDESK_TOOLS and the scripts; the answer
 *     ISO has VMDESK_UNATTEND and /autounattend.xml, well-formed (xmllint),
 *     with the account and the password stored by the credentials module;
 *   - the password is in no world- or group-readable file, in no folder
 *     others can enter, in no output, log, or process command line (QEMU,
 *     swtpm and the supervisor are started and inspected);
 *   - once the tools are in, the answer file's CD goes from the config and
 *     the disk (guest_tools_forget_unattend). */
#include "common/spawn.h"
#include "guest/guest_tools.h"
#include "harness.h"
#include "secrets/credentials.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

/* A real ISO with @label holding @dir's tree, at @path. */
static void make_iso(const char *path, const char *label, const char *dir)
{
    g_autofree char *outdev = g_strdup_printf("stdio:%s", path);
    const char *argv[] = {"xorriso", "-no_rc", "-outdev", outdev, "-volid", label, "-map", dir,
                          "/", "-commit", "-end", NULL};
    g_autoptr(GError) err = NULL;
    g_assert_true(vd_run_check(argv, 60000, "xorriso", &err));
    g_assert_no_error(err);
}

static void write_file(const char *path, const char *text)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static char *run_out(const char *const *argv)
{
    VdRunResult r;
    g_autoptr(GError) err = NULL;
    g_assert_true(vd_run(argv, 60000, &r, &err));
    g_assert_no_error(err);
    if (r.wait_status != 0)
        g_error("%s failed: %s", argv[0], r.output);
    char *out = g_strdup(r.output);
    vd_run_result_clear(&r);
    return out;
}

static bool file_contains(const char *path, const char *needle)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, NULL))
        return false;
    return memmem(data, len, needle, strlen(needle)) != NULL;
}

/* Every file under @dir: one holding @secret must be 0600 (or stricter)
 * and every folder down to it 0700; returns how many hold it. */
static int check_tree(const char *dir, const char *secret)
{
    int holders = 0;
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, n, NULL);
        struct stat st;
        g_assert_cmpint(lstat(p, &st), ==, 0);
        if (S_ISDIR(st.st_mode)) {
            int below = check_tree(p, secret);
            if (below && (st.st_mode & 077))
                g_error("%s holds the password but is mode %o", p, st.st_mode & 07777);
            holders += below;
        } else if (S_ISREG(st.st_mode) && file_contains(p, secret)) {
            if (st.st_mode & 077)
                g_error("%s holds the password but is mode %o", p, st.st_mode & 07777);
            g_test_message("holds the password (mode %o): %s", st.st_mode & 07777, p);
            holders++;
        }
    }
    return holders;
}

static void expect_refused(Harness *h, const char *why, const char *const *extra)
{
    g_autofree char *win = g_build_filename(h->root, "win.iso", NULL);
    GPtrArray *a = g_ptr_array_new();
    const char *base[] = {"create", "bad", "--os", "windows", "--iso", win, "--unattended",
                          "--disk", "1G", NULL};
    for (int i = 0; base[i]; i++)
        g_ptr_array_add(a, (char *)base[i]);
    for (int i = 0; extra[i]; i++)
        g_ptr_array_add(a, (char *)extra[i]);
    g_ptr_array_add(a, NULL);
    RunResult r = harness_vmdesk_argv(h, (const char *const *)a->pdata);
    g_ptr_array_free(a, TRUE);
    g_assert_cmpint(r.status, ==, 2);
    if (!strstr(r.err, why))
        g_error("expected \"%s\" in: %s", why, r.err);
    run_result_clear(&r);
    g_autofree char *dir = g_build_filename(h->root, "data", "vmdesk", "vms", "bad", NULL);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

static void test_create(void)
{
    Harness h;
    harness_init(&h);
    /* Stand-ins: an "installer" and a virtio-win CD with the folder layout. */
    g_autofree char *tree = g_build_filename(h.root, "tree", NULL);
    g_autofree char *inf = g_build_filename(tree, "viostor", "w11", "amd64", "viostor.inf", NULL);
    write_file(inf, "; not a real driver\n");
    g_autofree char *win = g_build_filename(h.root, "win.iso", NULL);
    g_autofree char *virtio = g_build_filename(h.root, "virtio-win.iso", NULL);
    make_iso(win, "CCCOMA_X64FRE_EN-US_DV9", tree);
    make_iso(virtio, "virtio-win-0.1.240", tree);

    expect_refused(&h, "cannot be a Windows account", (const char *[]){"--user", "a/b", NULL});
    expect_refused(&h, "at most 20 characters",
                   (const char *[]){"--user", "abcdefghijklmnopqrstu", NULL});
    expect_refused(&h, "not a locale like de-DE", (const char *[]){"--locale", "german", NULL});
    expect_refused(&h, "--keyboard", (const char *[]){"--keyboard", "de", NULL});
    expect_refused(&h, "time zone", (const char *[]){"--timezone", "Europe/Berlin", NULL});
    expect_refused(&h, "--virtio-iso /nonexistent.iso: no such readable file",
                   (const char *[]){"--virtio-iso", "/nonexistent.iso", NULL});
    {
        RunResult r = harness_vmdesk(&h, "create", "bad", "--os", "windows", "--iso",
                                     "/nonexistent/Win11.iso", "--unattended", NULL);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_nonnull(strstr(r.err, "--iso /nonexistent/Win11.iso: no such readable file"));
        run_result_clear(&r);
        r = harness_vmdesk(&h, "create", "bad", "--iso", win, "--unattended", NULL);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_nonnull(strstr(r.err, "add --os windows"));
        run_result_clear(&r);
        r = harness_vmdesk(&h, "create", "bad", "--os", "windows", "--unattended", NULL);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_nonnull(strstr(r.err, "--iso Win.iso"));
        run_result_clear(&r);
    }

    RunResult r = harness_vmdesk(&h, "create", "win", "--os", "windows", "--iso", win,
                                 "--virtio-iso", virtio, "--unattended", "--user", "Jo&Ann",
                                 "--locale", "de-DE", "--keyboard", "de-DE", "--timezone",
                                 "W. Europe Standard Time", "--memory", "1G", "--disk", "1G",
                                 NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "account \"Jo&Ann\" (administrator)"));

    /* The password, as the credentials module keeps it (a file here: the
     * harness has no session bus). */
    g_autofree char *data = g_build_filename(h.root, "data", NULL);
    g_autofree char *run = g_build_filename(h.root, "run", NULL);
    g_setenv("XDG_DATA_HOME", data, TRUE);
    g_setenv("XDG_RUNTIME_DIR", run, TRUE);
    g_unsetenv("DBUS_SESSION_BUS_ADDRESS");
    Credentials c = {0};
    g_autoptr(GError) err = NULL;
    g_assert_true(credentials_load("win", &c, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(c.user, ==, "Jo&Ann");
    g_assert_cmpuint(strlen(c.password), ==, 20);
    g_assert_null(strstr(r.out, c.password));
    g_assert_null(strstr(r.err, c.password));
    run_result_clear(&r);

    g_autofree char *vm = g_build_filename(data, "vmdesk", "vms", "win", NULL);
    g_autofree char *tools = g_build_filename(vm, "tools.iso", NULL);
    g_autofree char *answer = g_build_filename(vm, "unattend.iso", NULL);
    g_autoptr(JsonObject) show = harness_show(&h, "win");
    JsonObject *config = json_object_get_object_member(show, "config");
    g_assert_true(json_object_get_boolean_member(config, "virtio"));
    g_assert_true(json_object_get_boolean_member(config, "tpm"));
    g_assert_true(json_object_get_boolean_member(config, "secure-boot"));
    g_assert_cmpstr(json_object_get_string_member(config, "firmware"), ==, "uefi");
    g_assert_cmpstr(json_object_get_string_member(config, "iso"), ==, win);
    JsonArray *cds = json_object_get_array_member(config, "cds");
    g_assert_cmpuint(json_array_get_length(cds), ==, 3);
    g_assert_cmpstr(json_array_get_string_element(cds, 0), ==, virtio);
    g_assert_cmpstr(json_array_get_string_element(cds, 1), ==, tools);
    g_assert_cmpstr(json_array_get_string_element(cds, 2), ==, answer);

    /* The tools ISO: label and contents. */
    const char *pvd[] = {"xorriso", "-indev", tools, "-pvd_info", NULL};
    g_autofree char *info = run_out(pvd);
    g_assert_nonnull(strstr(info, "Volume Id    : VMDESK_TOOLS"));
    const char *find[] = {"xorriso", "-indev", tools, "-find", "/", "-type", "f", NULL};
    g_autofree char *files = run_out(find);
    const char *want[] = {"'/linux/install.sh'", "'/windows/install.ps1'",
                          "'/windows/map-drives.ps1'", "'/windows/autounattend.xml'", NULL};
    for (int i = 0; want[i]; i++)
        if (!strstr(files, want[i]))
            g_error("the tools ISO lacks %s: %s", want[i], files);
    g_assert_false(file_contains(tools, c.password));

    /* The answer ISO: label, one file, well-formed, the account. */
    const char *pvd2[] = {"xorriso", "-indev", answer, "-pvd_info", NULL};
    g_autofree char *info2 = run_out(pvd2);
    g_assert_nonnull(strstr(info2, "Volume Id    : VMDESK_UNATTEND"));
    g_autofree char *x = g_build_filename(h.root, "x", NULL);
    g_assert_cmpint(g_mkdir(x, 0700), ==, 0);
    g_autofree char *xml = g_build_filename(x, "autounattend.xml", NULL);
    const char *extract[] = {"xorriso", "-osirrox", "on", "-indev", answer, "-extract",
                             "/autounattend.xml", xml, NULL};
    g_free(run_out(extract));
    const char *lint[] = {"xmllint", "--noout", xml, NULL};
    g_free(run_out(lint));
    g_assert_true(file_contains(xml, c.password));
    g_assert_true(file_contains(xml, "<Name>Jo&amp;Ann</Name>"));
    g_assert_true(file_contains(xml, "<TimeZone>W. Europe Standard Time</TimeZone>"));
    g_assert_true(file_contains(xml, "<InputLocale>de-DE</InputLocale>"));
    g_assert_true(file_contains(xml, "<ComputerName>WIN</ComputerName>"));
    g_unlink(xml);

    /* Modes: the answer ISO and the credentials file hold it, 0600 in 0700. */
    g_assert_cmpint(check_tree(data, c.password), ==, 2);

    /* Started: the password is in no command line and no log. */
    g_free(harness_ok(&h, "start", "win", "--accel", "tcg", NULL));
    g_autoptr(JsonObject) running = harness_show(&h, "win");
    JsonObject *proc = json_object_get_object_member(running, "process");
    gint64 qpid = json_object_get_int_member(proc, "qemu-pid");
    g_autofree char *cmdline_path = g_strdup_printf("/proc/%" G_GINT64_FORMAT "/cmdline", qpid);
    g_autofree char *cmdline = NULL;
    gsize cmdline_len = 0;
    g_assert_true(g_file_get_contents(cmdline_path, &cmdline, &cmdline_len, NULL));
    g_assert_nonnull(memmem(cmdline, cmdline_len, "id=cd3,bus=ide.4,drive=cd3-media", 32));
    g_assert_nonnull(memmem(cmdline, cmdline_len, "virtio-blk-pci", 14));
    g_autoptr(GArray) pids = harness_our_pids(&h);
    g_assert_cmpuint(pids->len, >=, 2);
    for (guint i = 0; i < pids->len; i++) {
        g_autofree char *p = g_strdup_printf("/proc/%d/cmdline", g_array_index(pids, int, i));
        g_assert_false(file_contains(p, c.password));
    }
    /* tools status: the VM runs but nothing in it answers (no Windows). */
    r = harness_vmdesk(&h, "tools", "win", "status", NULL);
    g_assert_cmpint(r.status, ==, 5);
    g_assert_nonnull(strstr(r.out, "guest agent: no answer"));
    run_result_clear(&r);
    g_free(harness_ok(&h, "stop", "win", "--force", NULL));
    g_autofree char *logs = g_build_filename(vm, "logs", NULL);
    g_assert_true(g_file_test(logs, G_FILE_TEST_IS_DIR));
    g_assert_cmpint(check_tree(logs, c.password), ==, 0);
    g_assert_cmpint(check_tree(data, c.password), ==, 2);

    /* `tools install` on the stopped VM: the tools CD is rebuilt in its own
     * drive, nothing added. */
    g_autofree char *out = harness_ok(&h, "tools", "win", "install", NULL);
    g_assert_nonnull(strstr(out, "attached from the next start"));
    g_assert_nonnull(strstr(out, "install.ps1"));

    /* Once the tools are in: the answer file goes. */
    bool removed = false;
    g_assert_true(guest_tools_forget_unattend("win", &removed, &err));
    g_assert_no_error(err);
    g_assert_true(removed);
    g_assert_false(g_file_test(answer, G_FILE_TEST_EXISTS));
    g_autoptr(JsonObject) after = harness_show(&h, "win");
    JsonArray *cds2 =
        json_object_get_array_member(json_object_get_object_member(after, "config"), "cds");
    g_assert_cmpuint(json_array_get_length(cds2), ==, 2);
    g_assert_cmpint(check_tree(data, c.password), ==, 1); /* the credentials file */
    credentials_clear(&c);

    g_free(harness_ok(&h, "delete", "win", NULL));
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/unattend-create/windows", test_create);
    return g_test_run();
}
