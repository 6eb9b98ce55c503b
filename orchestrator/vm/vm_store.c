#include "vm/vm_store.h"

#include "common/error.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/size.h"
#include "common/spawn.h"
#include "common/test_hook.h"
#include "storage/vm_image.h"
#include "vm/vm_files.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

char *vm_store_config_path(const char *name)
{
    g_autofree char *dir = vd_paths_vm_dir(name);
    return g_build_filename(dir, VM_CONFIG_FILE, NULL);
}

bool vm_store_exists(const char *name)
{
    g_autofree char *path = vm_store_config_path(name);
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* A config from before base-format: record the format the overlay's header
 * names for the base, when that can be trusted (vm_image.h); else leave it
 * unknown, and every disk operation says how to set it. */
static void adopt_legacy_base_format(VmConfig *cfg)
{
    g_autofree char *overlay = vm_store_disk_path(cfg);
    cfg->base_format = overlay ? vm_image_legacy_base_format(overlay, cfg->base) : NULL;
    g_autoptr(GError) err = NULL;
    if (!cfg->base_format)
        vd_warn("VM \"%s\": the format of its base %s is not recorded and its overlay's "
                   "header cannot be trusted; set it: vmdesk set %s base-format=raw (or qcow2)",
                   cfg->name, cfg->base, cfg->name);
    else if (!vm_store_save(cfg, &err))
        vd_warn("VM \"%s\": cannot record base-format=%s: %s", cfg->name, cfg->base_format,
                   err->message);
}

VmConfig *vm_store_load(const char *name, GError **error)
{
    if (!vd_name_validate(name, error))
        return NULL;
    g_autofree char *path = vm_store_config_path(name);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_autofree char *plain = g_strdup_printf("there is no VM named \"%s\"", name);
        vd_error_set_worded(error, VD_ERROR_NOT_FOUND, NULL, plain,
                            "%s; see vmdesk list, or create it with vmdesk create %s", plain,
                            name);
        return NULL;
    }
    VmConfig *cfg = vm_config_load(path, error);
    if (cfg && strcmp(cfg->name, name)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s names the VM \"%s\", but it lives in the folder of \"%s\"; fix name=",
                    path, cfg->name, name);
        vm_config_free(cfg);
        return NULL;
    }
    if (cfg && cfg->base && !cfg->base_format)
        adopt_legacy_base_format(cfg);
    return cfg;
}

bool vm_store_save(const VmConfig *cfg, GError **error)
{
    g_autofree char *path = vm_store_config_path(cfg->name);
    return vm_config_save(cfg, path, error);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **vm_store_list(GError **error)
{
    g_autofree char *root = vd_paths_vms_dir();
    GPtrArray *names = g_ptr_array_new();
    g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
    const char *e;
    while (dir && (e = g_dir_read_name(dir))) {
        if (vd_name_validate(e, NULL) && vm_store_exists(e))
            g_ptr_array_add(names, g_strdup(e));
    }
    g_ptr_array_sort(names, cmp_str);
    g_ptr_array_add(names, NULL);
    (void)error;
    return (char **)g_ptr_array_free(names, FALSE);
}

char *vm_store_disk_path(const VmConfig *cfg)
{
    if (!cfg->disk)
        return NULL;
    if (g_path_is_absolute(cfg->disk))
        return g_strdup(cfg->disk);
    g_autofree char *dir = vd_paths_vm_dir(cfg->name);
    return g_build_filename(dir, cfg->disk, NULL);
}

bool vm_store_port_free(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* Host port -> name of the VM whose config uses it (RDP or a forward), for
 * every VM but @except_vm. Loads each config once. */
static GHashTable *ports_in_use(const char *except_vm)
{
    GHashTable *used = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    g_auto(GStrv) names = vm_store_list(NULL);
    for (char **n = names; *n; n++) {
        if (except_vm && !strcmp(*n, except_vm))
            continue;
        g_autoptr(VmConfig) c = vm_store_load(*n, NULL);
        if (!c)
            continue;
        if (c->rdp_port)
            g_hash_table_insert(used, GUINT_TO_POINTER(c->rdp_port), g_strdup(*n));
        for (char **f = c->forwards; f && *f; f++)
            g_hash_table_insert(used, GUINT_TO_POINTER((unsigned)atoi(*f)), g_strdup(*n));
    }
    return used;
}

char *vm_store_port_owner(unsigned port, const char *except_vm)
{
    g_autoptr(GHashTable) used = ports_in_use(except_vm);
    return g_strdup(g_hash_table_lookup(used, GUINT_TO_POINTER(port)));
}

char *vm_store_disk_owner(const char *disk_path, const char *except_vm)
{
    g_auto(GStrv) names = vm_store_list(NULL);
    g_autofree char *want = g_canonicalize_filename(disk_path, NULL);
    for (char **n = names; *n; n++) {
        if (except_vm && !strcmp(*n, except_vm))
            continue;
        g_autoptr(VmConfig) c = vm_store_load(*n, NULL);
        g_autofree char *d = c ? vm_store_disk_path(c) : NULL;
        g_autofree char *canon = d ? g_canonicalize_filename(d, NULL) : NULL;
        if (canon && !strcmp(canon, want))
            return g_strdup(*n);
    }
    return NULL;
}

bool vm_store_pick_port(const char *for_vm, unsigned *port, GError **error)
{
    g_autoptr(GHashTable) used = ports_in_use(for_vm);
    for (unsigned p = VM_RDP_PORT_FIRST; p <= VM_RDP_PORT_LAST; p++) {
        if (!g_hash_table_contains(used, GUINT_TO_POINTER(p)) && vm_store_port_free(p)) {
            *port = p;
            return true;
        }
    }
    g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                "no free port between %u and %u on 127.0.0.1 for RDP; delete unused VMs",
                VM_RDP_PORT_FIRST, VM_RDP_PORT_LAST);
    return false;
}

bool vm_store_copy_uefi_vars(const char *vars_template, const char *dest, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    return g_file_get_contents(vars_template, &data, &len, error) &&
           vd_file_write_atomic(dest, data, (gssize)len, 0600, error);
}

bool vm_store_run_qemu_img(const char *const *argv, const char *path, const char *what,
                           GError **error)
{
    if (!vd_run_check(argv, 24 * 3600 * 1000, what, error))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return true;
}

static bool is_disk_file(const char *name)
{
    return g_str_has_suffix(name, ".qcow2") || g_str_has_suffix(name, ".img") ||
           g_str_has_suffix(name, ".raw");
}

bool vm_store_delete(const char *name, bool keep_disks, char ***kept, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    /* The lock for the whole delete: a start cannot begin halfway through. */
    int lock = vm_lock_acquire(name, NULL);
    if (lock < 0) {
        g_autofree char *plain = g_strdup_printf("VM \"%s\" is running; stop it first", name);
        vd_error_set_worded(error, VD_ERROR_STATE, NULL, plain, "%s (vmdesk stop %s)", plain,
                            name);
        return false;
    }
    vd_test_delay("VMDESK_TEST_DELETE_DELAY_MS");
    g_autofree char *dir = vd_paths_vm_dir(name);
    g_autofree char *rt = vd_paths_runtime_dir(name);
    GPtrArray *keep = g_ptr_array_new();
    if (keep_disks) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *e;
        while (d && (e = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(dir, e, NULL);
            if (is_disk_file(e))
                g_ptr_array_add(keep, g_steal_pointer(&p));
            else if (g_file_test(p, G_FILE_TEST_IS_DIR))
                vm_files_remove_tree(p);
            else
                g_unlink(p);
        }
    } else {
        vm_files_remove_tree(dir);
    }
    vm_files_remove_tree(rt); /* with the lock file, which we hold until here */
    close(lock);
    g_ptr_array_add(keep, NULL);
    char **k = (char **)g_ptr_array_free(keep, FALSE);
    if (kept)
        *kept = k;
    else
        g_strfreev(k);
    return true;
}

char *vm_runtime_path(const char *name, const char *file)
{
    g_autofree char *rt = vd_paths_runtime_dir(name);
    return g_build_filename(rt, file, NULL);
}

int vm_lock_acquire(const char *name, GError **error)
{
    g_autofree char *rt = vd_paths_runtime_dir(name);
    g_autofree char *root = vd_paths_runtime_root();
    if (!vd_mkdir_private(root, error) || !vd_mkdir_private(rt, error))
        return -1;
    g_autofree char *path = g_build_filename(rt, "lock", NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot open %s: %s", path,
                    g_strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        g_autofree char *plain = g_strdup_printf("VM \"%s\" is already running", name);
        vd_error_set_worded(error, VD_ERROR_STATE, NULL, plain,
                            "%s (its supervisor holds %s); see vmdesk status %s", plain, path,
                            name);
        return -1;
    }
    return fd;
}

bool vm_lock_is_held(const char *name)
{
    g_autofree char *path = vm_runtime_path(name, "lock");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

VmStatus *vm_status_get(const char *name)
{
    g_autofree char *path = vm_runtime_path(name, "state");
    /* Read the lock before the state: a supervisor that exits in between
     * has written its final state by the time it releases the lock. */
    bool held = vm_lock_is_held(name);
    VmStatus *st = vm_status_load(path, NULL);
    if (!st)
        return vm_status_new(VM_STATE_STOPPED);
    if (!held && vm_state_is_active(st->state)) {
        bool again = vm_lock_is_held(name);
        if (!again) {
            g_autofree char *was = g_strdup(vm_state_to_string(st->state));
            st->state = VM_STATE_ERROR;
            g_free(st->reason);
            st->reason = g_strdup_printf("the VM's supervisor (pid %d) ended while the VM was %s",
                                         st->supervisor_pid, was);
            g_clear_pointer(&st->reason_plain, g_free);
        }
    }
    return st;
}

/* @cfg's RDP port and forwards' host ports are no other VM's. */
static bool ports_own(const VmConfig *cfg, GError **error)
{
    g_autoptr(GArray) ports = g_array_new(FALSE, FALSE, sizeof(unsigned));
    g_array_append_val(ports, cfg->rdp_port);
    for (char **f = cfg->forwards; f && *f; f++) {
        unsigned p = (unsigned)atoi(*f);
        g_array_append_val(ports, p);
    }
    for (guint k = 0; k < ports->len; k++) {
        unsigned p = g_array_index(ports, unsigned, k);
        g_autofree char *owner = vm_store_port_owner(p, cfg->name);
        if (owner) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "port %u is VM \"%s\"'s already", p,
                        owner);
            return false;
        }
    }
    return true;
}

bool vm_store_set(VmConfig *cfg, const char *assignment, bool running, bool *next_start,
                  GError **error)
{
    VmArch was = cfg->arch;
    if (!vm_config_set(cfg, assignment, running, next_start, error))
        return false;
    if (cfg->arch != was) {
        /* The disk's OS and the firmware's variable store belong to one
         * architecture. */
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "arch is chosen at create: %s's disk and UEFI variables are %s's; "
                    "create another VM with --arch %s",
                    cfg->name, vm_arch_to_string(was), vm_arch_to_string(cfg->arch));
        return false;
    }
    if ((g_str_has_prefix(assignment, "rdp-port=") || g_str_has_prefix(assignment, "forward")) &&
        !ports_own(cfg, error))
        return false;
    if (g_str_has_prefix(assignment, "disk=") && cfg->disk) {
        g_autofree char *d = vm_store_disk_path(cfg);
        g_autofree char *owner = vm_store_disk_owner(d, cfg->name);
        if (owner) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "%s is VM \"%s\"'s disk; two VMs never share a disk", d, owner);
            return false;
        }
    }
    return true;
}
