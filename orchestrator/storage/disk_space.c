#include "storage/disk_space.h"

#include "common/error.h"
#include "common/size.h"
#include "common/spawn.h"
#include "common/text.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#define MEASURE_TIMEOUT_MS (10 * 60 * 1000)
#define MIB (1ull << 20)

uint64_t disk_space_free(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) < 0)
        return 0;
    return (uint64_t)sv.f_bavail * sv.f_frsize;
}

bool disk_space_check(const char *dir, uint64_t need, const char *what, GError **error)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) < 0)
        return true; /* cannot tell; the write itself will report */
    uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    if (avail < need) {
        g_autofree char *a = vd_size_format(avail & ~(MIB - 1));
        g_autofree char *n = vd_size_format((need + MIB - 1) & ~(MIB - 1));
        g_set_error(error, VD_ERROR, VD_ERROR_NO_SPACE,
                    "not enough disk space for %s: %s needed, %s free in %s; free some space",
                    what, n, a, dir);
        return false;
    }
    return true;
}

static JsonObject *run_json(const char *const *argv, const char *what, JsonParser *p,
                            GError **error)
{
    VdRunResult r = {0};
    if (!vd_run(argv, MEASURE_TIMEOUT_MS, &r, error))
        return NULL;
    JsonObject *o = NULL;
    if (WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 0 &&
        json_parser_load_from_data(p, r.output, -1, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
        o = json_node_get_object(json_parser_get_root(p));
    else {
        g_autofree char *said = vd_text_quote(r.output ? g_strstrip(r.output) : "", -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s failed: %s", what, said);
    }
    vd_run_result_clear(&r);
    return o;
}

static bool measure_as(const char *src, const char *src_format, const char *out_format,
                       uint64_t *bytes, GError **error)
{
    GPtrArray *a = g_ptr_array_new();
    const char *head[] = {"qemu-img", "measure", "--output=json", "-O", out_format, NULL};
    for (int i = 0; head[i]; i++)
        g_ptr_array_add(a, (char *)head[i]);
    if (src_format) {
        g_ptr_array_add(a, "-f");
        g_ptr_array_add(a, (char *)src_format);
    }
    g_ptr_array_add(a, (char *)src);
    g_ptr_array_add(a, NULL);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = run_json((const char *const *)a->pdata, "qemu-img measure", p, error);
    g_ptr_array_free(a, TRUE);
    if (!o)
        return false;
    gint64 v = json_object_get_int_member_with_default(o, "required", -1);
    if (v < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "qemu-img measure gave no size for %s",
                    src);
        return false;
    }
    *bytes = (uint64_t)v;
    return true;
}

bool disk_space_measure(const char *src, const char *src_format, const char *out_format,
                        uint64_t *bytes, GError **error)
{
    if (!g_str_has_prefix(src, "json:") && g_access(src, R_OK) < 0) {
        int e = errno;
        g_set_error(error, VD_ERROR, e == ENOENT ? VD_ERROR_NOT_FOUND : VD_ERROR_INVALID,
                    "the image %s cannot be read: %s", src, g_strerror(e));
        return false;
    }
    /* qemu-img 7.2 measures qcow2 and raw only, and raw as the whole
     * virtual size although qemu-img convert writes raw images sparse. */
    if (!strcmp(out_format, "qcow2"))
        return measure_as(src, src_format, out_format, bytes, error);
    uint64_t q = 0;
    if (!measure_as(src, src_format, "qcow2", &q, error))
        return false;
    *bytes = q + q / 100 + 2 * MIB;
    return true;
}

uint64_t disk_space_allocated(const char *path, const char *format)
{
    const char *argv[] = {"qemu-img", "info", "-U", "--output=json", "-f", format, path, NULL};
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = format ? run_json(argv, "qemu-img info", p, NULL) : NULL;
    gint64 v = o ? json_object_get_int_member_with_default(o, "actual-size", -1) : -1;
    if (v >= 0)
        return (uint64_t)v;
    GStatBuf st;
    return g_stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

uint64_t disk_space_tree_size(const char *path)
{
    GStatBuf st;
    if (g_lstat(path, &st) < 0)
        return 0;
    uint64_t total = (uint64_t)st.st_blocks * 512;
    if (!S_ISDIR(st.st_mode))
        return total;
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(path, e, NULL);
        total += disk_space_tree_size(p);
    }
    return total;
}
