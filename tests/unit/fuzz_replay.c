/* unit-fuzz-replay: every file of the fuzz corpus (tests/fuzz/corpus/NAME/)
 * through every harness, compiled without libFuzzer, so the corpus and the
 * crashes once found stay ordinary regression tests with any compiler. The
 * harnesses abort on a broken promise; GTest makes criticals fatal too. */
#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The harnesses' entry points, renamed apart by tests/unit/CMakeLists.txt. */
int fuzz_qmp_initialize(int *argc, char ***argv);
int fuzz_qmp_one_input(const uint8_t *data, size_t size);
int fuzz_config_initialize(int *argc, char ***argv);
int fuzz_config_one_input(const uint8_t *data, size_t size);
int fuzz_rdp_probe_initialize(int *argc, char ***argv);
int fuzz_rdp_probe_one_input(const uint8_t *data, size_t size);
int fuzz_guest_apps_initialize(int *argc, char ***argv);
int fuzz_guest_apps_one_input(const uint8_t *data, size_t size);

int fuzz_fetch_initialize(int *argc, char ***argv);
int fuzz_fetch_one_input(const uint8_t *data, size_t size);
int fuzz_fetch_state_initialize(int *argc, char ***argv);
int fuzz_fetch_state_one_input(const uint8_t *data, size_t size);
int fuzz_clip_initialize(int *argc, char ***argv);
int fuzz_clip_one_input(const uint8_t *data, size_t size);
int fuzz_helper_initialize(int *argc, char ***argv);
int fuzz_helper_one_input(const uint8_t *data, size_t size);
int fuzz_lv_ppm_initialize(int *argc, char ***argv);
int fuzz_lv_ppm_one_input(const uint8_t *data, size_t size);
int fuzz_qga_reply_initialize(int *argc, char ***argv);
int fuzz_qga_reply_one_input(const uint8_t *data, size_t size);

static const char *const corpora[] = {"qmp",   "config",      "rdp-probe", "guest-apps",
                                      "fetch", "fetch-state", "clip",      "helper",
                                      "lv-ppm", "qga-reply"};

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_file(gconstpointer data)
{
    const char *path = data;
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_file_get_contents(path, &bytes, &len, &err));
    g_assert_no_error(err);
    g_assert_cmpint(fuzz_qmp_one_input((const uint8_t *)bytes, len), ==, 0);
    g_assert_cmpint(fuzz_config_one_input((const uint8_t *)bytes, len), ==, 0);
    g_assert_cmpint(fuzz_rdp_probe_one_input((const uint8_t *)bytes, len), ==, 0);
    g_assert_cmpint(fuzz_guest_apps_one_input((const uint8_t *)bytes, len), ==, 0);
    g_assert_cmpint(fuzz_fetch_one_input((const uint8_t *)bytes, len), ==, 0);
    g_assert_cmpint(fuzz_fetch_state_one_input((const uint8_t *)bytes, len), ==, 0);
    g_assert_cmpint(fuzz_clip_one_input((const uint8_t *)bytes, len), ==, 0);
    g_assert_cmpint(fuzz_helper_one_input((const uint8_t *)bytes, len), ==, 0);
    g_assert_cmpint(fuzz_lv_ppm_one_input((const uint8_t *)bytes, len), ==, 0);
    g_assert_cmpint(fuzz_qga_reply_one_input((const uint8_t *)bytes, len), ==, 0);
}

/* The corpus is there: an empty folder would make this test pass vacuously. */
static void corpus_present(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(corpora); i++) {
        g_autofree char *dir = g_build_filename(VMDESK_FUZZ_CORPUS_DIR, corpora[i], NULL);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_assert_nonnull(d);
        int n = 0;
        while (g_dir_read_name(d))
            n++;
        if (n < 10)
            g_error("%s has %d files; the seed corpus has at least 10", dir, n);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fuzz_qmp_initialize(&argc, &argv);
    fuzz_config_initialize(&argc, &argv);
    fuzz_rdp_probe_initialize(&argc, &argv);
    fuzz_guest_apps_initialize(&argc, &argv);
    fuzz_fetch_initialize(&argc, &argv);
    fuzz_fetch_state_initialize(&argc, &argv);
    fuzz_clip_initialize(&argc, &argv);
    fuzz_helper_initialize(&argc, &argv);
    fuzz_lv_ppm_initialize(&argc, &argv);
    fuzz_qga_reply_initialize(&argc, &argv);
    /* The harnesses make warnings fatal; so does GTest. Keep both. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_test_add_func("/fuzz-replay/corpus-present", corpus_present);
    for (size_t i = 0; i < G_N_ELEMENTS(corpora); i++) {
        g_autofree char *dir = g_build_filename(VMDESK_FUZZ_CORPUS_DIR, corpora[i], NULL);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        if (!d)
            continue;
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        const char *n;
        while ((n = g_dir_read_name(d)))
            g_ptr_array_add(names, g_strdup(n));
        g_ptr_array_sort(names, compare_names);
        for (guint k = 0; k < names->len; k++) {
            const char *name = g_ptr_array_index(names, k);
            g_autofree char *test = g_strdup_printf("/fuzz-replay/%s/%s", corpora[i], name);
            /* Owned by the test for the life of the process. */
            char *path = g_build_filename(dir, name, NULL);
            g_test_add_data_func_full(test, path, replay_file, g_free);
        }
        g_ptr_array_unref(names);
    }
    return g_test_run();
}
