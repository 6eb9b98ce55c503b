#include "test_util.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

char *tu_tmpdir(void)
{
    g_autoptr(GError) err = NULL;
    char *dir = g_dir_make_tmp("vdtest-XXXXXX", &err);
    g_assert_no_error(err);
    return dir;
}

void tu_rm_rf(const char *path)
{
    if (!path)
        return;
    GDir *d = g_dir_open(path, 0, NULL);
    if (d && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        const char *n;
        while ((n = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, n, NULL);
            tu_rm_rf(p);
        }
    }
    if (d)
        g_dir_close(d);
    if (g_remove(path) < 0 && errno != ENOENT)
        g_test_message("cannot remove %s: %s", path, g_strerror(errno));
}

void tu_write_file(const char *path, const char *text)
{
    g_autoptr(GError) err = NULL;
    g_file_set_contents(path, text, -1, &err);
    g_assert_no_error(err);
}

char *tu_deep_json(const char *before, int depth, const char *after)
{
    GString *s = g_string_new(before);
    for (int i = 0; i < depth; i++)
        g_string_append_c(s, '[');
    for (int i = 0; i < depth; i++)
        g_string_append_c(s, ']');
    g_string_append(s, after);
    return g_string_free(s, FALSE);
}

static void die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

GSubprocessLauncher *tu_launcher_new(GSubprocessFlags flags)
{
    GSubprocessLauncher *l = g_subprocess_launcher_new(flags);
    g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
    return l;
}

int tu_timeout_ms(int ms)
{
    const char *v = g_getenv("VMDESK_TEST_TIME_SCALE");
    if (!v || !*v)
        return ms;
    char *end = NULL;
    double scale = g_ascii_strtod(v, &end);
    if (*end || !(scale >= 1 && scale <= 100))
        g_error("VMDESK_TEST_TIME_SCALE=%s: not a number from 1 to 100", v);
    return (int)MIN(ms * scale, (double)G_MAXINT);
}

bool tu_subprocess_wait(GSubprocess *p, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)tu_timeout_ms(timeout_ms) * 1000;
    while (g_get_monotonic_time() < deadline) {
        /* GSubprocess reaps from GLib's worker thread; the identifier goes
         * NULL once it did. */
        g_main_context_iteration(NULL, FALSE);
        if (!g_subprocess_get_identifier(p))
            break;
        g_usleep(5000);
    }
    bool ended = g_subprocess_get_identifier(p) == NULL;
    if (!ended)
        g_subprocess_force_exit(p);
    g_subprocess_wait(p, NULL, NULL);
    return ended;
}

char *tu_subprocess_stderr(GSubprocess *p)
{
    GInputStream *in = p ? g_subprocess_get_stderr_pipe(p) : NULL;
    if (!in)
        return g_strdup("");
    GString *s = g_string_new(NULL);
    char buf[4096];
    gssize n;
    while ((n = g_input_stream_read(in, buf, sizeof(buf), NULL, NULL)) > 0)
        g_string_append_len(s, buf, n);
    return g_string_free(s, FALSE);
}

bool tu_have_program(const char *program)
{
    g_autofree char *path = g_find_program_in_path(program);
    return path != NULL;
}

char *tu_find_program(const char *name, const char *package)
{
    char *p = g_find_program_in_path(name);
    for (const char *const *d = (const char *const[]){"/usr/sbin", "/sbin", NULL}; !p && *d; d++) {
        char *c = g_build_filename(*d, name, NULL);
        if (g_file_test(c, G_FILE_TEST_IS_EXECUTABLE))
            p = c;
        else
            g_free(c);
    }
    if (!p)
        g_error("%s is not installed (tools/install-deps installs %s)", name, package);
    return p;
}
