#include "qemu/firmware.h"

#include "common/error.h"

static const char *const dirs[] = {"/usr/share/OVMF", "/usr/share/edk2/ovmf",
                                   "/usr/share/edk2/x64", "/usr/share/qemu", NULL};

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

bool firmware_find_ovmf(bool secure_boot, char **code, char **vars_template, GError **error)
{
    static const char *const code_plain[] = {"OVMF_CODE_4M.fd", "OVMF_CODE.fd", NULL};
    static const char *const code_sb[] = {"OVMF_CODE_4M.secboot.fd", "OVMF_CODE.secboot.fd",
                                          NULL};
    static const char *const vars_plain[] = {"OVMF_VARS_4M.fd", "OVMF_VARS.fd", NULL};
    static const char *const vars_sb[] = {"OVMF_VARS_4M.ms.fd", "OVMF_VARS.ms.fd",
                                          "OVMF_VARS.secboot.fd", NULL};
    const char *env = g_getenv("VMDESK_OVMF_DIR");
    const char *search[G_N_ELEMENTS(dirs) + 1];
    int n = 0;
    if (env && *env)
        search[n++] = env;
    for (int i = 0; dirs[i]; i++)
        search[n++] = dirs[i];
    search[n] = NULL;
    for (int i = 0; search[i]; i++) {
        char *c = find_in(search[i], secure_boot ? code_sb : code_plain);
        char *v = c ? find_in(search[i], secure_boot ? vars_sb : vars_plain) : NULL;
        if (c && v) {
            *code = c;
            *vars_template = v;
            return true;
        }
        g_free(c);
        g_free(v);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                "UEFI firmware%s was not found in /usr/share/OVMF; install the ovmf package "
                "(sudo apt install ovmf) or use --firmware bios",
                secure_boot ? " with Secure Boot" : "");
    return false;
}
