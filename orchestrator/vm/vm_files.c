#include "vm/vm_files.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/paths.h"
#include "storage/disk_space.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool vm_files_copy(const char *src, const char *dst, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(src, &data, &len, error))
        return false;
    return vd_file_write_atomic(dst, data, (gssize)len, 0600, error);
}

void vm_files_remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *e;
        while (d && (e = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, e, NULL);
            vm_files_remove_tree(p);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

void vm_files_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static bool copy_tree(const char *src, const char *dst, GError **error)
{
    if (!vd_mkdir_private(dst, error))
        return false;
    g_autoptr(GDir) d = g_dir_open(src, 0, error);
    if (!d)
        return false;
    const char *e;
    while ((e = g_dir_read_name(d))) {
        g_autofree char *s = g_build_filename(src, e, NULL);
        g_autofree char *t = g_build_filename(dst, e, NULL);
        if (g_file_test(s, G_FILE_TEST_IS_SYMLINK))
            continue;
        bool ok = g_file_test(s, G_FILE_TEST_IS_DIR) ? copy_tree(s, t, error)
                                                    : vm_files_copy(s, t, error);
        if (!ok)
            return false;
    }
    vm_files_sync_dir(dst);
    return true;
}

bool vm_files_replace_tree(const char *src, const char *dst, GError **error)
{
    g_autofree char *tmp = g_strconcat(dst, ".new", NULL);
    g_autofree char *old = g_strconcat(dst, ".old", NULL);
    vm_files_remove_tree(tmp);
    vm_files_remove_tree(old);
    if (!copy_tree(src, tmp, error)) {
        vm_files_remove_tree(tmp);
        return false;
    }
    if (g_file_test(dst, G_FILE_TEST_EXISTS) && g_rename(dst, old) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "rename %s: %s", dst, g_strerror(errno));
        return false;
    }
    if (g_rename(tmp, dst) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "rename %s: %s", tmp, g_strerror(errno));
        return false;
    }
    g_autofree char *parent = g_path_get_dirname(dst);
    vm_files_sync_dir(parent);
    vm_files_remove_tree(old);
    return true;
}

bool vm_files_replace(const char *src, const char *dst, GError **error)
{
    if (!g_file_test(src, G_FILE_TEST_EXISTS)) {
        vm_files_remove_tree(dst);
        return true;
    }
    if (g_file_test(src, G_FILE_TEST_IS_DIR))
        return vm_files_replace_tree(src, dst, error);
    return vm_files_copy(src, dst, error);
}

/* The top folder of the file system holding @dir: go up while the parent is
 * on the same device. */
static char *mount_point(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return g_strdup(dir);
    char *cur = g_canonicalize_filename(dir, NULL);
    for (;;) {
        g_autofree char *up = g_path_get_dirname(cur);
        struct stat pst;
        if (!strcmp(up, cur) || stat(up, &pst) < 0 || pst.st_dev != st.st_dev)
            return cur;
        g_free(cur);
        cur = g_steal_pointer(&up);
    }
}

char *vm_files_no_space_text(const char *path, uint64_t *free_bytes)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *mount = mount_point(dir);
    uint64_t avail = disk_space_free(dir);
    if (free_bytes)
        *free_bytes = avail;
    return g_strdup_printf(VM_NO_SPACE_PREFIX "%s (%" G_GUINT64_FORMAT " MiB free)", mount,
                           avail >> 20);
}
