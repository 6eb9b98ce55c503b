/* Faults that used to go unexplained (issue 20, item 3), through the real
 * vmdesk binary and the real test guest:
 * - a running VM whose config was damaged stays in `list`, in ERROR, with
 *   the reason;
 * - `delete` holds the VM's lock for the whole delete, so a `start` that
 *   comes in the middle is refused instead of starting a half-deleted VM;
 * - `create --disk SIZE` larger than the free space is refused (exit 7) with
 *   the numbers, unless --sparse asks for the overcommit. */
#include "harness.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#define BOOT_MS 90000

static char *vm_file(Harness *h, const char *name, const char *file)
{
    return g_build_filename(h->root, "data", "vmdesk", "vms", name, file, NULL);
}

static JsonObject *list_entry(Harness *h, const char *name, JsonParser *p)
{
    g_autofree char *out = harness_ok(h, "list", "--json", NULL);
    g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
    JsonArray *vms = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)),
                                                  "vms");
    for (guint i = 0; i < json_array_get_length(vms); i++) {
        JsonObject *o = json_array_get_object_element(vms, i);
        if (!g_strcmp0(json_object_get_string_member(o, "name"), name))
            return o;
    }
    return NULL;
}

static void test_damaged_config_listed(void)
{
    Harness h;
    harness_init(&h);
    const char *none[] = {NULL};
    harness_create_guest(&h, "dmg", NULL, none);
    g_free(harness_ok(&h, "start", "dmg", "--accel", "tcg", NULL));
    g_autofree char *conf = vm_file(&h, "dmg", "vm.conf");
    g_assert_true(g_file_set_contents(conf, "[vm]\nname=dmg\nmemory=lots\n", -1, NULL));

    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = list_entry(&h, "dmg", p);
    g_assert_nonnull(o); /* it used to vanish from the list */
    g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "ERROR");
    g_assert_nonnull(strstr(json_object_get_string_member(o, "reason"), "memory"));
    g_assert_true(json_object_get_boolean_member(o, "running"));
    RunResult r = harness_vmdesk(&h, "list", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "dmg"));
    g_assert_nonnull(strstr(r.out, "ERROR"));
    g_assert_nonnull(strstr(r.err, "its QEMU still runs"));
    run_result_clear(&r);
    /* The VM can still be stopped. */
    g_free(harness_ok(&h, "stop", "dmg", "--force", NULL));
    harness_finish(&h);
}

static void test_delete_holds_lock(void)
{
    Harness h;
    harness_init(&h);
    const char *none[] = {NULL};
    harness_create_guest(&h, "del", NULL, none);
    /* A delete slowed down in its middle (after it took the lock). */
    g_auto(GStrv) env = g_environ_setenv(g_strdupv(h.env), "VMDESK_TEST_DELETE_DELAY_MS", "3000",
                                         TRUE);
    const char *argv[] = {g_getenv("VMDESK_BIN"), "delete", "del", NULL};
    GPid pid;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, env, G_SPAWN_DO_NOT_REAP_CHILD,
                                harness_die_with_parent, NULL, &pid, &err));
    g_assert_no_error(err);
    g_usleep(1000 * 1000);
    RunResult r = harness_vmdesk(&h, "start", "del", "--accel", "tcg", NULL);
    g_assert_cmpint(r.status, ==, 4); /* refused: the VM is busy */
    run_result_clear(&r);
    int ws = 0;
    g_assert_cmpint(waitpid(pid, &ws, 0), ==, pid);
    g_assert_true(WIFEXITED(ws));
    g_assert_cmpint(WEXITSTATUS(ws), ==, 0);
    g_autofree char *dir = g_build_filename(h.root, "data", "vmdesk", "vms", "del", NULL);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    harness_finish(&h);
}

static void test_create_disk_over_free_space(void)
{
    Harness h;
    harness_init(&h);
    RunResult r = harness_vmdesk(&h, "create", "big", "--os", "other", "--firmware", "bios",
                                 "--disk", "900T", NULL);
    g_assert_cmpint(r.status, ==, 7);
    g_assert_nonnull(strstr(r.err, "900T needed"));
    g_assert_nonnull(strstr(r.err, "free in"));
    g_assert_nonnull(strstr(r.err, "--sparse"));
    run_result_clear(&r);
    g_autofree char *dir = g_build_filename(h.root, "data", "vmdesk", "vms", "big", NULL);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_free(harness_ok(&h, "create", "big", "--os", "other", "--firmware", "bios", "--disk",
                      "900T", "--sparse", NULL));
    g_free(harness_ok(&h, "delete", "big", NULL));
    harness_finish(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/faults/damaged-config-listed", test_damaged_config_listed);
    g_test_add_func("/faults/delete-holds-lock", test_delete_holds_lock);
    g_test_add_func("/faults/create-disk-over-free-space", test_create_disk_over_free_space);
    return g_test_run();
}
