#include "qemu/firmware.h"

#include "common/error.h"
#include "qemu/qemu_arch.h"

static char *find_in(const char *dir, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        char *p = g_build_filename(dir, names[i], NULL);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR))
            return p;
        g_free(p);
    }
    return NULL;
}

bool firmware_find_uefi(VmArch arch, bool secure_boot, char **code, char **vars_template,
                        GError **error)
{
    const QemuArch *a = qemu_arch_get(arch);
    const char *env = g_getenv(a->firmware_env);
    g_autoptr(GPtrArray) search = g_ptr_array_new();
    if (env && *env)
        g_ptr_array_add(search, (char *)env);
    for (int i = 0; a->firmware_dirs[i]; i++)
        g_ptr_array_add(search, (char *)a->firmware_dirs[i]);
    for (guint i = 0; i < search->len; i++) {
        const char *dir = g_ptr_array_index(search, i);
        char *c = find_in(dir, secure_boot ? a->code_sb : a->code_plain);
        char *v = c ? find_in(dir, secure_boot ? a->vars_sb : a->vars_plain) : NULL;
        if (c && v) {
            *code = c;
            *vars_template = v;
            return true;
        }
        g_free(c);
        g_free(v);
    }
    g_autofree char *plain = g_strdup_printf(
        "UEFI firmware for %s (%s)%s was not found in %s; install the %s package "
        "(sudo apt install %s)",
        vm_arch_to_string(arch), a->firmware_name, secure_boot ? " with Secure Boot" : "",
        a->firmware_dirs[0], a->firmware_package, a->firmware_package);
    vd_error_set_worded(error, VD_ERROR_NOT_FOUND, NULL, plain, "%s%s", plain,
                        a->has_bios ? " or use --firmware bios" : "");
    return false;
}
