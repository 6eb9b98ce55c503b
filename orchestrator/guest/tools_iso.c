#include "guest/tools_iso.h"

#include "common/error.h"
#include "common/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define XORRISO_TIMEOUT_MS (120 * 1000)

static bool is_guest_tools(const char *dir)
{
    g_autofree char *w = g_build_filename(dir, "windows", NULL);
    g_autofree char *l = g_build_filename(dir, "linux", NULL);
    return g_file_test(w, G_FILE_TEST_IS_DIR) && g_file_test(l, G_FILE_TEST_IS_DIR);
}

char *tools_guest_tools_dir(GError **error)
{
    GPtrArray *tried = g_ptr_array_new_with_free_func(g_free);
    const char *env = g_getenv("VMDESK_GUEST_TOOLS_DIR");
    if (env && *env)
        g_ptr_array_add(tried, g_strdup(env));
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
#ifdef VMDESK_BINARY_DIR
    /* Running from the build tree: the sources are the truth. */
    if (exe && g_str_has_prefix(exe, VMDESK_BINARY_DIR "/"))
        g_ptr_array_add(tried, g_strdup(VMDESK_SOURCE_DIR "/guest-tools"));
#endif
    if (exe) {
        g_autofree char *bin = g_path_get_dirname(exe);
        g_ptr_array_add(tried, g_build_filename(bin, "..", "share", "vmdesk", "guest-tools", NULL));
    }
#ifdef VMDESK_INSTALL_DATADIR
    g_ptr_array_add(tried, g_strdup(VMDESK_INSTALL_DATADIR "/vmdesk/guest-tools"));
#endif
    char *found = NULL;
    for (guint i = 0; i < tried->len && !found; i++) {
        const char *d = g_ptr_array_index(tried, i);
        if (is_guest_tools(d))
            found = g_canonicalize_filename(d, NULL);
    }
    if (!found) {
        g_ptr_array_add(tried, NULL);
        g_autofree char *list = g_strjoinv(", ", (char **)tried->pdata);
        g_autofree char *plain = g_strdup_printf(
            "the guest tools (a folder with windows/ and linux/) are not installed; looked in "
            "%s. Reinstall vmdesk",
            list);
        vd_error_set_worded(error, VD_ERROR_NOT_FOUND, NULL, plain,
                            "%s or set VMDESK_GUEST_TOOLS_DIR", plain);
    }
    g_ptr_array_unref(tried);
    return found;
}

/* A new empty file beside @out with @mode, for xorriso to write into (so the
 * image has that mode from its first byte). Caller frees the name. */
static char *temp_beside(const char *out, int mode, GError **error)
{
    char *tmp = g_strconcat(out, ".XXXXXX", NULL);
    int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, mode);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == ENOSPC ? VD_ERROR_NO_SPACE : VD_ERROR_FAILED,
                    "cannot create a file beside %s: %s", out, g_strerror(e));
        g_free(tmp);
        return NULL;
    }
    /* mkstemp's mode is masked by the umask: set it exactly. */
    fchmod(fd, (mode_t)mode);
    close(fd);
    return tmp;
}

/* xorriso native commands: every path its own argv element, no patterns;
 * symbolic links on the host are followed (a packages folder of links to a
 * cache holds files on the CD, not links to the host). */
static GPtrArray *xorriso_argv(const char *target, const char *label)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    const char *head[] = {"xorriso", "-no_rc", "-abort_on", "FAILURE", "-return_with", "SORRY",
                          "0", "-disk_pattern", "off", "-follow", "link", "-iso_rr_pattern", "off", "-volid",
                          label, "-joliet", "on", "-rockridge", "on", "-outdev", NULL};
    for (int i = 0; head[i]; i++)
        g_ptr_array_add(a, g_strdup(head[i]));
    g_ptr_array_add(a, g_strdup_printf("stdio:%s", target));
    return a;
}

static void map(GPtrArray *a, const char *disk_path, const char *iso_path)
{
    g_ptr_array_add(a, g_strdup("-map"));
    g_ptr_array_add(a, g_strdup(disk_path));
    g_ptr_array_add(a, g_strdup(iso_path));
}

/* Run xorriso (@a ends with the mapping commands), then move @tmp to @out. */
static bool run_xorriso(GPtrArray *a, const char *tmp, const char *out, const char *what,
                        GError **error)
{
    g_ptr_array_add(a, g_strdup("-commit"));
    g_ptr_array_add(a, g_strdup("-end"));
    g_ptr_array_add(a, NULL);
    bool ok = false;
    if (!g_find_program_in_path("xorriso")) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "building %s needs xorriso, which is not installed; sudo apt install xorriso",
                    what);
    } else if (vd_run_check((const char *const *)a->pdata, XORRISO_TIMEOUT_MS, what, error)) {
        if (g_rename(tmp, out) == 0)
            ok = true;
        else
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "rename %s to %s: %s", tmp, out,
                        g_strerror(errno));
    }
    if (!ok)
        g_unlink(tmp);
    g_ptr_array_unref(a);
    return ok;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The .deb and .rpm files directly in @dir, sorted. */
static bool add_packages(GPtrArray *a, const char *dir, GError **error)
{
    GError *e = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &e);
    if (!d) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "packages folder %s: %s", dir,
                    e->message);
        g_error_free(e);
        return false;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d)))
        if (g_str_has_suffix(n, ".deb") || g_str_has_suffix(n, ".rpm"))
            g_ptr_array_add(names, g_strdup(n));
    if (names->len == 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "%s holds no .deb or .rpm files", dir);
        return false;
    }
    g_ptr_array_sort(names, by_name);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *src = g_build_filename(dir, name, NULL);
        g_autofree char *dst = g_strdup_printf(
            "/packages/%s/%s", g_str_has_suffix(name, ".deb") ? "debian" : "fedora", name);
        map(a, src, dst);
    }
    return true;
}

bool tools_iso_build(const char *out, const char *guest_tools_dir, const char *packages_dir,
                     GError **error)
{
    if (!is_guest_tools(guest_tools_dir)) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "%s is not a guest-tools folder (no windows/ and linux/ in it)",
                    guest_tools_dir);
        return false;
    }
    g_autofree char *tmp = temp_beside(out, 0644, error);
    if (!tmp)
        return false;
    GPtrArray *a = xorriso_argv(tmp, TOOLS_ISO_LABEL);
    if (packages_dir && !add_packages(a, packages_dir, error)) {
        g_ptr_array_unref(a);
        g_unlink(tmp);
        return false;
    }
    g_autofree char *win = g_build_filename(guest_tools_dir, "windows", NULL);
    g_autofree char *lin = g_build_filename(guest_tools_dir, "linux", NULL);
    map(a, win, "/windows");
    map(a, lin, "/linux");
    return run_xorriso(a, tmp, out, "building the tools ISO", error);
}

bool tools_unattend_iso_build(const char *out, const char *xml, gsize len, GError **error)
{
    g_autofree char *tmp = temp_beside(out, 0600, error);
    if (!tmp)
        return false;
    g_autofree char *xml_tmp = temp_beside(out, 0600, error);
    if (!xml_tmp) {
        g_unlink(tmp);
        return false;
    }
    GError *e = NULL;
    if (!g_file_set_contents_full(xml_tmp, xml, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0600,
                                  &e)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "writing the answer file: %s", e->message);
        g_error_free(e);
        g_unlink(xml_tmp);
        g_unlink(tmp);
        return false;
    }
    GPtrArray *a = xorriso_argv(tmp, TOOLS_UNATTEND_LABEL);
    map(a, xml_tmp, "/autounattend.xml");
    bool ok = run_xorriso(a, tmp, out, "building the answer-file ISO", error);
    /* Overwrite before removing: the password should not linger in freed blocks
     * more than it must (best effort; the ISO itself still holds it). */
    int fd = open(xml_tmp, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        char zeros[512] = {0};
        for (gsize done = 0; done < len; done += sizeof(zeros))
            if (write(fd, zeros, MIN(sizeof(zeros), len - done)) < 0)
                break;
        fsync(fd);
        close(fd);
    }
    g_unlink(xml_tmp);
    return ok;
}
