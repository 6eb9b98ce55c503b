/* integration-apps-demo: `vmdesk apps` on real guests, through the real
 * guest agent, with the vmdesk binary:
 *
 *   - the demo guest (Debian 12 with qemu-guest-agent, xrdp, IceWM, xterm;
 *     tools/demo-guest): `apps list` while it is stopped says it must run
 *     (exit 4); `apps list --json --start` boots it, waits for its agent and
 *     lists xterm with a decodable icon (and whatever else it has); `apps
 *     install` writes entries that pass desktop-file-validate, with icons at
 *     the hicolor sizes; `apps remove` and `vmdesk delete` remove them;
 *   - the busybox test guest (no agent inside): a clear error naming the
 *     guest agent to install. */
#include "harness.h"
#include "harness_demo.h"

#include <string.h>
#include <sys/wait.h>

#define BOOT_S "400"

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
    run_result_clear(&r);
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
    for (const char *const *s = (const char *const[]){"16x16", "32x32", "48x48", "64x64",
                                                      "128x128", "256x256", NULL};
         *s; s++) {
        g_autofree char *file = g_strdup_printf("%s.png", xterm_entry);
        g_autofree char *icon = g_build_filename(h.root, "data", "icons", "hicolor", *s, "apps",
                                                 file, NULL);
        if (!g_file_test(icon, G_FILE_TEST_EXISTS))
            g_error("no %s", icon);
    }

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
