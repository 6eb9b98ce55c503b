/* integration-apps-demo: `vmdesk apps` on real guests, through the real
 * guest agent, with the vmdesk binary:
 *
 *   - the demo guest (Debian 12 with qemu-guest-agent, xrdp, IceWM, xterm;
 *     tools/demo-guest): `apps list` while it is stopped says it must run
 *     (exit 4); `apps list --json --start` boots it, waits for its agent and
 *     lists xterm with a decodable icon (and whatever else it has); `apps
 *     install` writes entries that pass desktop-file-validate, with icons at
 *     the hicolor sizes; xterm's entry, run as a desktop runs it (`gio
 *     launch`), opens xterm alone in a window of the entry's StartupWMClass,
 *     which goes away with its vmdesk process when xterm ends in the guest;
 *     `apps remove` and `vmdesk delete` remove the entries;
 *   - on the same boot, vmdesk-manager's Programs tab (tests/manager/
 *     test_manager_apps.py, run here in this test's world): the programs
 *     with their icons, an entry added to the menu (the same file `apps
 *     install` writes, compared below) and removed, a program launched;
 *   - the busybox test guest (no agent inside): a clear error naming the
 *     guest agent to install. */
#include "harness.h"
#include "harness_demo.h"
#include "harness_x.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOOT_S "400"
/* From `gio launch` to xterm in its window: the guest's first xrdp session
 * (its own Xorg) under TCG on a loaded machine. */
#define APP_MS 60000
/* From the end of xterm in the guest to no window and no vmdesk process. */
#define GONE_MS 30000
/* `vmdesk app` titles the window "PROGRAM (VM)". */
#define APP_TITLE "xterm (adem)"

static char *data_path(Harness *h, const char *a, const char *b, const char *c)
{
    return g_build_filename(h->root, "data", a, b, c, NULL);
}

static void validate(const char *path)
{
    const char *argv[] = {"desktop-file-validate", path, NULL};
    g_autofree char *out = NULL;
    int status = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status,
                               NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strstr(out, "error:"))
        g_error("desktop-file-validate %s: %s", path, out);
}

static int count_entries(Harness *h, const char *prefix)
{
    g_autofree char *dir = data_path(h, "applications", NULL, NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    int n = 0;
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        n += g_str_has_prefix(name, prefix) && g_str_has_suffix(name, ".desktop");
    return n;
}

/* Live processes that gio launched with @h's environment: gio-launch-desktop,
 * which runs each program, puts GIO_LAUNCHED_DESKTOP_FILE_PID in their
 * environment, beside the harness's folders (zombies have no environment
 * left, so they do not count). */
static GArray *launched_by_gio(Harness *h)
{
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        if (!g_ascii_isdigit(*e))
            continue;
        g_autofree char *path = g_build_filename("/proc", e, "environ", NULL);
        g_autofree char *text = NULL;
        gsize len = 0;
        if (!g_file_get_contents(path, &text, &len, NULL))
            continue;
        bool gio = false, ours = false;
        for (gsize i = 0; i < len; i += strlen(text + i) + 1) {
            gio |= g_str_has_prefix(text + i, "GIO_LAUNCHED_DESKTOP_FILE_PID=");
            ours |= strstr(text + i, h->root) != NULL;
        }
        if (gio && ours) {
            int pid = atoi(e);
            g_array_append_val(pids, pid);
        }
    }
    return pids;
}

static void print_file(const char *what, const char *path)
{
    g_autofree char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    g_printerr("%s:\n%s\n", what, text ? text : "(nothing)");
}

/* Run xterm's entry @entry_id the way a desktop does, with `gio launch`
 * (which runs its Exec line, `vmdesk app --class ... adem /usr/bin/xterm
 * %F`, detached), on an Xvfb of our own; xterm must show in the entry's
 * window class, and end with its window and vmdesk process when it ends in
 * the guest (where it runs as @user). The detached vmdesk is no child of
 * ours: when an assertion fails, harness.c's abort handler kills it (its
 * environment holds the harness's folders), and the last check kills it
 * itself before failing. */
static void launch_entry(Harness *h, const char *entry_id, const char *user)
{
    g_autofree char *file = g_strdup_printf("%s.desktop", entry_id);
    g_autofree char *entry = data_path(h, "applications", file, NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_file(kf, entry, G_KEY_FILE_NONE, NULL));
    g_autofree char *wm_class = g_key_file_get_string(kf, "Desktop Entry", "StartupWMClass",
                                                      NULL);
    g_autofree char *exec = g_key_file_get_string(kf, "Desktop Entry", "Exec", NULL);
    g_assert_nonnull(wm_class);
    g_test_message("launching %s: Exec=%s", entry, exec);

    Xvfb x;
    xvfb_start(&x);
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h->env), "DISPLAY", x.display, TRUE);
    /* The harness keeps vmdesk off the desktop's session bus; with no
     * address at all GIO would have dbus-launch start a bus for this
     * display, which outlives the test. An address where no bus is: GIO
     * launches without one (vmdesk keeps this VM's password in a file). */
    g_autofree char *no_bus = g_strdup_printf("unix:path=%s/no-session-bus", h->root);
    env = g_environ_setenv(env, "DBUS_SESSION_BUS_ADDRESS", no_bus, TRUE);
    /* gio's output and, as it inherits them, the launched vmdesk's. */
    g_autofree char *log = g_build_filename(h->root, "launch.log", NULL);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    const char *argv[] = {"gio", "launch", entry, NULL};
    GPid gio;
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(g_spawn_async_with_pipes_and_fds(NULL, argv, (const char *const *)env,
                                                   G_SPAWN_SEARCH_PATH |
                                                       G_SPAWN_DO_NOT_REAP_CHILD,
                                                   harness_die_with_parent, NULL, -1, fd, fd,
                                                   NULL, NULL, 0, &gio, NULL, NULL, NULL, &err));
    g_assert_no_error(err);
    close(fd);
    int st = 0;
    g_assert_cmpint(waitpid(gio, &st, 0), ==, gio);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        print_file("gio launch failed; its output", log);
    g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* The window, then xterm's white background in it (what the window
     * shows while the session starts is not white). */
    g_autofree char *win = NULL, *title = NULL;
    g_autofree char *png = g_build_filename(h->root, "launched.png", NULL);
    bool white = false;
    gint64 deadline = t0 + (gint64)APP_MS * 1000;
    while (!white && g_get_monotonic_time() < deadline) {
        g_usleep(300 * 1000);
        if (!win) {
            g_clear_pointer(&title, g_free);
            win = x_find_window(x.display, APP_TITLE, &title);
            continue;
        }
        const char *grab[] = {"import", "-silent", "-window", win, png, NULL};
        g_free(x_run(x.display, grab));
        Image im = {0};
        if (image_load_png(png, &im)) {
            int n = 0;
            for (int i = 0; i < im.w * im.h; i++)
                n += (im.px[i] & 0xffffff) == 0xffffff;
            white = n > im.w * im.h / 20;
        }
        image_clear(&im);
    }
    if (!white) {
        g_printerr("the entry showed no xterm within %d s (window %s)\n", APP_MS / 1000,
                   win ? win : "none");
        print_file("gio's and vmdesk's output", log);
    }
    g_assert_true(white);
    g_test_message("gio launch to xterm in \"%s\": %.1f s", title,
                   (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    const char *keep = g_getenv("VMDESK_TEST_KEEP");
    if (keep) {
        g_autofree char *k = g_build_filename(keep, "apps-demo-launched.png", NULL);
        g_autofree char *data = NULL;
        gsize len = 0;
        if (g_file_get_contents(png, &data, &len, NULL))
            g_file_set_contents(k, data, (gssize)len, NULL);
    }

    /* The desktop groups the window under the entry by its class. */
    const char *cls[] = {"xprop", "-id", win, "WM_CLASS", NULL};
    g_autofree char *wm = x_run(x.display, cls);
    g_autofree char *quoted = g_strdup_printf("\"%s\"", wm_class);
    g_test_message("%s", g_strstrip(wm));
    g_assert_nonnull(strstr(wm, quoted));

    /* The window is the launched vmdesk's. */
    const char *pid_argv[] = {"xprop", "-id", win, "_NET_WM_PID", NULL};
    g_autofree char *pid_text = x_run(x.display, pid_argv);
    const char *eq = pid_text ? strstr(pid_text, "= ") : NULL;
    int pid = eq ? atoi(eq + 2) : 0;
    g_assert_cmpint(pid, >, 0);
    g_autoptr(GArray) launched = launched_by_gio(h);
    bool found = false;
    for (guint i = 0; i < launched->len; i++)
        found |= g_array_index(launched, int, i) == pid;
    if (!found)
        g_printerr("the window's pid %d was not launched by gio (%u were)\n", pid,
                   launched->len);
    g_assert_true(found);

    /* xterm ends in the guest: so do the window and the vmdesk process. */
    g_autofree char *agent = demo_guest_agent_socket(h, "adem");
    const char *quit[] = {"/usr/bin/pkill", "-u", user, "-f", "^/usr/bin/xterm$", NULL};
    g_free(demo_guest_run(agent, quit, 30000));
    gint64 t1 = g_get_monotonic_time();
    deadline = t1 + (gint64)GONE_MS * 1000;
    g_autofree char *left_win = NULL;
    g_autoptr(GArray) left = NULL;
    for (;;) {
        g_clear_pointer(&left_win, g_free);
        g_clear_pointer(&left, g_array_unref);
        left_win = x_find_window(x.display, APP_TITLE, NULL);
        left = launched_by_gio(h);
        if ((!left_win && left->len == 0) || g_get_monotonic_time() >= deadline)
            break;
        g_usleep(200 * 1000);
    }
    if (left_win || left->len) {
        g_printerr("%.1f s after xterm ended: window %s, %u launched process(es) left\n",
                   (double)(g_get_monotonic_time() - t1) / G_USEC_PER_SEC,
                   left_win ? left_win : "gone", left->len);
        print_file("gio's and vmdesk's output", log);
        for (guint i = 0; i < left->len; i++)
            kill(g_array_index(left, int, i), SIGKILL);
    }
    g_assert_null(left_win);
    g_assert_cmpuint(left->len, ==, 0);
    g_test_message("window and vmdesk gone %.1f s after xterm ended",
                   (double)(g_get_monotonic_time() - t1) / G_USEC_PER_SEC);
    xvfb_stop(&x);
}

/* vmdesk-manager's Programs tab on the running demo VM "adem", driven by
 * test_manager_apps.py (Debian's python3 and pyatspi inside dbus-run-session,
 * on an Xvfb of its own) in this test's folders; @listing is `apps list
 * --json`'s output, which it expects the tab to show. The entry its "Add to
 * menu" wrote is left as manager-entry.desktop in @h's root. */
static void manager_programs(Harness *h, const char *listing)
{
    g_autofree char *json = g_build_filename(h->root, "apps.json", NULL);
    g_autofree char *copy = g_build_filename(h->root, "manager-entry.desktop", NULL);
    g_assert_true(g_file_set_contents(json, listing, -1, NULL));
    g_auto(GStrv) env = g_strdupv(h->env);
    env = g_environ_setenv(env, "VMDESK_MANAGER_WORLD", h->root, TRUE);
    env = g_environ_setenv(env, "VMDESK_MANAGER_VM", "adem", TRUE);
    env = g_environ_setenv(env, "VMDESK_MANAGER_APPS_JSON", json, TRUE);
    env = g_environ_setenv(env, "VMDESK_MANAGER_ENTRY_COPY", copy, TRUE);
    const char *script = g_getenv("VMDESK_MANAGER_APPS_TEST");
    g_assert_nonnull(script);
    const char *argv[] = {"dbus-run-session", "--", "/usr/bin/python3", script, NULL};
    int status = 0;
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_SEARCH_PATH,
                               harness_die_with_parent, NULL, NULL, NULL, &status, &err));
    g_assert_no_error(err);
    g_test_message("the manager's Programs tab: %.1f s",
                   (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    g_assert_true(g_file_test(copy, G_FILE_TEST_EXISTS));
}

static void test_apps_demo(void)
{
    Harness h;
    harness_init(&h);
    DemoGuest g;
    demo_guest_load(&g);
    g_free(harness_ok(&h, "create", "adem", "--os", "linux", "--memory", "1G", "--cpus", "2",
                      "--kernel", g.kernel, "--initrd", g.initrd, "--append", g.append,
                      "--import-disk", g.disk, NULL));
    g_free(harness_ok(&h, "credentials", "adem", "--user", g.user, "--password-file",
                      g.password_file, NULL));

    /* Stopped: it must run. */
    RunResult r = harness_vmdesk(&h, "apps", "list", "adem", NULL);
    g_test_message("stopped: %d %s", r.status, r.err);
    g_assert_cmpint(r.status, ==, 4);
    g_assert_nonnull(strstr(r.err, "VM \"adem\" is STOPPED"));
    g_assert_nonnull(strstr(r.err, "--start"));
    run_result_clear(&r);

    /* --start boots it and waits for its agent. */
    gint64 t0 = g_get_monotonic_time();
    r = harness_vmdesk(&h, "apps", "list", "adem", "--json", "--start", "--timeout", BOOT_S, NULL);
    g_test_message("apps list --start: %.1f s (boot and listing); %s",
                   (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, r.err);
    g_assert_cmpint(r.status, ==, 0);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, r.out, -1, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(p));
    g_assert_cmpstr(json_object_get_string_member(root, "vm"), ==, "adem");
    JsonArray *apps = json_object_get_array_member(root, "apps");
    guint n = json_array_get_length(apps);
    bool xterm = false;
    for (guint i = 0; i < n; i++) {
        JsonObject *a = json_array_get_object_element(apps, i);
        JsonNode *icon = json_object_get_member(a, "icon");
        JsonObject *io = JSON_NODE_HOLDS_OBJECT(icon) ? json_node_get_object(icon) : NULL;
        g_test_message("guest app %s: \"%s\" %s, icon %s (%s %" G_GINT64_FORMAT "x%"
                       G_GINT64_FORMAT ")",
                       json_object_get_string_member(a, "id"),
                       json_object_get_string_member(a, "name"),
                       json_object_get_string_member(a, "program"),
                       io ? json_object_get_string_member(io, "path") : "none",
                       io && !json_object_get_null_member(io, "format")
                           ? json_object_get_string_member(io, "format")
                           : "-",
                       io ? json_object_get_int_member(io, "width") : 0,
                       io ? json_object_get_int_member(io, "height") : 0);
        if (strcmp(json_object_get_string_member(a, "program"), "/usr/bin/xterm"))
            continue;
        xterm = true;
        g_assert_nonnull(io);
        g_assert_false(json_object_get_null_member(io, "format"));
        g_assert_cmpint(json_object_get_int_member(io, "width"), >, 0);
        g_assert_cmpint(json_object_get_int_member(io, "height"), >, 0);
        g_assert_true(json_object_get_null_member(a, "entry"));
    }
    g_assert_true(xterm);
    manager_programs(&h, r.out);
    run_result_clear(&r);

    /* One program, then all. */
    g_autofree char *out = harness_ok(&h, "apps", "install", "adem", "/usr/bin/xterm", NULL);
    g_test_message("%s", out);
    g_assert_cmpint(count_entries(&h, "vmdesk-adem-"), >=, 1);
    r = harness_vmdesk(&h, "apps", "install", "adem", "no-such-program", NULL);
    g_assert_cmpint(r.status, ==, 3);
    g_assert_nonnull(strstr(r.err, "has no application \"no-such-program\""));
    run_result_clear(&r);
    g_free(harness_ok(&h, "apps", "install", "adem", NULL));
    g_assert_cmpint(count_entries(&h, "vmdesk-adem-"), ==, (int)n);
    g_autofree char *apps_dir = data_path(&h, "applications", NULL, NULL);
    g_autoptr(GDir) d = g_dir_open(apps_dir, 0, NULL);
    const char *name;
    g_autofree char *xterm_entry = NULL;
    while ((name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".desktop"))
            continue;
        g_autofree char *path = g_build_filename(apps_dir, name, NULL);
        validate(path);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
        g_autofree char *prog = g_key_file_get_string(kf, "Desktop Entry", "X-Vmdesk-Program",
                                                      NULL);
        if (!g_strcmp0(prog, "/usr/bin/xterm") && !xterm_entry)
            xterm_entry = g_strndup(name, strlen(name) - strlen(".desktop"));
    }
    g_assert_nonnull(xterm_entry);
    /* The manager's "Add to menu" wrote the same entry. */
    g_autofree char *cli_file = g_strdup_printf("%s.desktop", xterm_entry);
    g_autofree char *cli_path = data_path(&h, "applications", cli_file, NULL);
    g_autofree char *mgr_path = g_build_filename(h.root, "manager-entry.desktop", NULL);
    g_autofree char *cli_text = NULL, *mgr_text = NULL;
    g_assert_true(g_file_get_contents(cli_path, &cli_text, NULL, NULL));
    g_assert_true(g_file_get_contents(mgr_path, &mgr_text, NULL, NULL));
    if (strcmp(cli_text, mgr_text))
        g_printerr("vmdesk apps install wrote:\n%s\nthe manager wrote:\n%s\n", cli_text,
                   mgr_text);
    g_assert_cmpstr(cli_text, ==, mgr_text);
    for (const char *const *s = (const char *const[]){"16x16", "32x32", "48x48", "64x64",
                                                      "128x128", "256x256", NULL};
         *s; s++) {
        g_autofree char *file = g_strdup_printf("%s.png", xterm_entry);
        g_autofree char *icon = g_build_filename(h.root, "data", "icons", "hicolor", *s, "apps",
                                                 file, NULL);
        if (!g_file_test(icon, G_FILE_TEST_EXISTS))
            g_error("no %s", icon);
    }

    /* The entry does what it says: xterm, alone, in its window. */
    launch_entry(&h, xterm_entry, g.user);

    /* The list now points at the entries; timed: the listing alone, on a
     * booted guest under TCG. */
    t0 = g_get_monotonic_time();
    r = harness_vmdesk(&h, "apps", "list", "adem", NULL);
    g_test_message("apps list on the running guest: %.2f s",
                   (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    g_assert_cmpint(r.status, ==, 0);
    g_test_message("%s", r.out);
    g_assert_nonnull(strstr(r.out, "[installed]"));
    run_result_clear(&r);

    g_free(harness_ok(&h, "apps", "remove", "adem", "/usr/bin/xterm", NULL));
    g_assert_cmpint(count_entries(&h, "vmdesk-adem-"), <, (int)n);
    g_free(harness_ok(&h, "stop", "adem", "--force", NULL));
    /* delete takes the rest with it. */
    g_autofree char *del = harness_ok(&h, "delete", "adem", NULL);
    g_test_message("%s", del);
    g_assert_cmpint(count_entries(&h, "vmdesk-adem-"), ==, 0);
    demo_guest_clear(&g);
    harness_finish(&h);
}

/* A guest without the agent: the error names it. */
static void test_apps_no_agent(void)
{
    Harness h;
    harness_init(&h);
    harness_create_guest(&h, "noagent", NULL, NULL);
    g_free(harness_ok(&h, "start", "noagent", NULL));
    gint64 t0 = g_get_monotonic_time();
    RunResult r = harness_vmdesk(&h, "apps", "list", "noagent", NULL);
    g_test_message("no agent, after %.1f s: %d %s",
                   (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, r.status, r.err);
    g_assert_cmpint(r.status, ==, 5);
    g_assert_true(g_str_has_prefix(r.err, "vmdesk: error: no guest agent answered"));
    g_assert_nonnull(strstr(r.err, "apt install qemu-guest-agent"));
    run_result_clear(&r);
    g_free(harness_ok(&h, "stop", "noagent", "--force", NULL));
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/apps-demo/no-agent", test_apps_no_agent);
    g_test_add_func("/apps-demo/list-install-remove", test_apps_demo);
    return g_test_run();
}
