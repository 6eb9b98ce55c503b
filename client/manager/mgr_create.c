/* The new-VM assistant's work (mgr_ops.h, "a new VM"): the orchestrator code
 * of `vmdesk create` (vm_create, vm_config_set), `vmdesk fetch` (fetch_run,
 * the catalog) and the hands-off Windows installation (unattend_setup.h),
 * run in a worker thread with its progress posted to the main thread. */
#include "manager/mgr_ops.h"

#include "common/error.h"
#include "common/paths.h"
#include "fetch/fetch.h"
#include "fetch/fetch_catalog.h"
#include "secrets/credentials.h"
#include "storage/disk_space.h"
#include "storage/vm_media.h"
#include "vm/vm_create.h"
#include "vm/vm_host.h"
#include "vm/vm_store.h"

#include <string.h>
#include <unistd.h>

#define DOWNLOAD_CONNECTIONS 4

void mgr_new_vm_spec_free(MgrNewVmSpec *spec)
{
    if (!spec)
        return;
    g_free(spec->name);
    g_free(spec->os);
    g_free(spec->iso);
    g_free(spec->catalog_id);
    g_free(spec->image);
    g_free(spec->virtio_iso);
    unattend_setup_clear(&spec->unattend);
    g_free(spec);
}

/* The store's folder, or its nearest existing parent (it may not exist yet). */
static char *store_dir(void)
{
    char *store = vd_paths_vms_dir();
    while (!g_file_test(store, G_FILE_TEST_IS_DIR) && strcmp(store, "/")) {
        char *up = g_path_get_dirname(store);
        g_free(store);
        store = up;
    }
    return store;
}

void mgr_ops_host_limits(guint *memory_gib, guint *cpus, guint *disk_gib)
{
    g_autofree char *store = store_dir();
    *disk_gib = (guint)MIN(disk_space_free(store) >> 30, G_MAXUINT);
    VmHostLimits host;
    vm_host_limits(&host);
    *memory_gib = MAX(1, (guint)(host.memory_max >> 30));
    *cpus = MAX(1, host.cpus);
}

char *mgr_ops_downloads_dir(void)
{
    g_autofree char *root = vd_paths_data_root();
    return g_build_filename(root, "downloads", NULL);
}

static void catalog_item_free(gpointer p)
{
    MgrCatalogItem *it = p;
    g_free(it->id);
    g_free(it->name);
    g_free(it->label);
    g_free(it->note);
    g_free(it);
}

GPtrArray *mgr_ops_catalog_installers(void)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(catalog_item_free);
    VmArch host = VM_ARCH_X86_64;
    vm_arch_host(&host);
    const char *arch = vm_arch_to_string(host);
    size_t n;
    const FetchCatalogEntry *e = fetch_catalog_entries(&n);
    for (size_t i = 0; i < n; i++) {
        /* Manual downloads cannot be fetched; the drivers CD (no
         * architecture) is the Windows rows' own. */
        if (e[i].manual_page || !e[i].arch || strcmp(e[i].arch, arch))
            continue;
        MgrCatalogItem *it = g_new0(MgrCatalogItem, 1);
        it->id = g_strdup(e[i].id);
        it->name = g_strdup(e[i].name);
        g_autofree char *size = e[i].approx_size ? fetch_format_bytes(e[i].approx_size) : NULL;
        it->label = size ? g_strdup_printf("%s (about %s)", e[i].name, size) : g_strdup(e[i].name);
        it->note = g_strdup(e[i].note);
        g_ptr_array_add(out, it);
    }
    return out;
}

void mgr_ops_host_windows_settings(char **locale, char **zone)
{
    *locale = unattend_host_locale();
    *zone = unattend_host_timezone();
}

/* --- progress, posted to the main thread --- */

typedef struct {
    MgrCreateProgressFunc fn;
    gpointer data;
    GCancellable *cancellable;
    char *status, *bar;
    double fraction;
} Post;

static gboolean post_run(gpointer p)
{
    Post *post = p;
    /* Cancelled on the main thread (the dialog went): nothing to tell. */
    if (!post->cancellable || !g_cancellable_is_cancelled(post->cancellable))
        post->fn(post->status, post->fraction, post->bar, post->data);
    return G_SOURCE_REMOVE;
}

static void post_free(gpointer p)
{
    Post *post = p;
    g_clear_object(&post->cancellable);
    g_free(post->status);
    g_free(post->bar);
    g_free(post);
}

typedef struct {
    const MgrNewVmSpec *spec;
    GCancellable *cancellable;
    const char *what; /* the download's name for people */
} Job;

static void post(Job *job, const char *status, double fraction, const char *bar)
{
    if (!job->spec->progress)
        return;
    Post *p = g_new0(Post, 1);
    p->fn = job->spec->progress;
    p->data = job->spec->progress_data;
    p->cancellable = job->cancellable ? g_object_ref(job->cancellable) : NULL;
    p->status = g_strdup(status);
    p->bar = g_strdup(bar);
    p->fraction = fraction;
    g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, post_run, p, post_free);
}

static void on_fetch_progress(const FetchProgress *p, void *user_data)
{
    Job *job = user_data;
    if (p->finished) {
        post(job, NULL, -1, NULL);
        return;
    }
    g_autofree char *done = fetch_format_bytes(p->done);
    g_autofree char *total = p->total ? fetch_format_bytes(p->total) : g_strdup("?");
    g_autofree char *rate = fetch_format_bytes((uint64_t)p->rate);
    g_autofree char *bar = g_strdup_printf("%s of %s, %s/s", done, total, rate);
    post(job, NULL, p->total ? (double)p->done / (double)p->total : 0, bar);
}

static void on_fetch_note(const char *message, void *user_data)
{
    Job *job = user_data;
    g_autofree char *s = g_strdup_printf("%s: %s", job->what, message);
    post(job, s, -1, NULL);
}

static bool fetch_cancelled(void *user_data)
{
    Job *job = user_data;
    return job->cancellable && g_cancellable_is_cancelled(job->cancellable);
}

/* Download catalog entry @id into the downloads folder (resuming a .part
 * there); its path. */
static char *download(Job *job, const char *id, GError **error)
{
    const FetchCatalogEntry *e = fetch_catalog_find(id);
    if (!e) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "\"%s\" is not in the download catalog",
                    id);
        return NULL;
    }
    job->what = e->name;
    g_autofree char *asking = g_strdup_printf("%s: asking the server what to download…", e->name);
    post(job, asking, -1, NULL);
    FetchCatalogTarget target = {0};
    g_autofree char *dir = mgr_ops_downloads_dir();
    if (!fetch_catalog_resolve(e, &target, error) || !vd_mkdir_private(dir, error)) {
        fetch_catalog_target_clear(&target);
        return NULL;
    }
    char *path = g_build_filename(dir, target.file_name, NULL);
    g_autofree char *starting = g_strdup_printf("Downloading %s (%s)…", e->name, target.url);
    post(job, starting, 0, NULL);
    FetchRequest req = {
        .url = target.url,
        .path = path,
        .sha256 = target.sha256,
        .connections = DOWNLOAD_CONNECTIONS,
        .progress = on_fetch_progress,
        .note = on_fetch_note,
        .cancelled = fetch_cancelled,
        .user_data = job,
    };
    FetchResult res;
    GError *err = NULL;
    bool ok = fetch_run(&req, &res, &err);
    fetch_catalog_target_clear(&target);
    if (!ok) {
        if (fetch_cancelled(job)) {
            g_clear_error(&err);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                        "the download of %s stopped; what came is kept in %s.part and Create "
                        "continues it",
                        e->name, path);
        } else {
            vd_error_prefix(&err, "%s could not be downloaded: ", e->name);
            g_propagate_error(error, err);
        }
        g_free(path);
        return NULL;
    }
    g_autofree char *size = fetch_format_bytes(res.size);
    g_autofree char *saved =
        res.verified ? g_strdup_printf("%s: %s, SHA-256 verified.", e->name, size)
                     : g_strdup_printf("%s: %s, not verified (%s).", e->name, size,
                                       e->note ? e->note : "no checksum published");
    post(job, saved, -1, NULL);
    return path;
}

static bool readable_file(const char *what, const char *path, GError **error)
{
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR) && access(path, R_OK) == 0)
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "%s %s: no such readable file", what, path);
    return false;
}

static bool config_set(VmConfig *cfg, const char *key, const char *value, GError **error)
{
    if (!value)
        return true;
    g_autofree char *a = g_strdup_printf("%s=%s", key, value);
    return vm_config_set(cfg, a, false, NULL, error);
}

/* Everything the user named, checked before anything is downloaded or
 * written. */
static bool check_spec(MgrNewVmSpec *spec, GError **error)
{
    if (!vd_name_validate(spec->name, error))
        return false;
    if (vm_store_exists(spec->name)) {
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS, "a VM named \"%s\" exists already",
                    spec->name);
        return false;
    }
    bool windows = !g_strcmp0(spec->os, "windows");
    if (spec->unattended && !windows) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "a hands-off installation is for Windows");
        return false;
    }
    if (spec->unattended && (spec->source != MGR_FROM_ISO || !spec->iso)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "a hands-off installation needs the Windows installation ISO");
        return false;
    }
    if (spec->source == MGR_FROM_ISO && spec->iso) {
        char *abs = g_canonicalize_filename(spec->iso, NULL);
        g_free(spec->iso);
        spec->iso = abs;
        if (!vm_media_check_iso(spec->iso, error))
            return false;
    }
    if (spec->source == MGR_FROM_CATALOG && !fetch_catalog_find(spec->catalog_id ? spec->catalog_id : "")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "choose what to download");
        return false;
    }
    if (spec->source == MGR_FROM_IMAGE) {
        if (!spec->image) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "choose the disk image");
            return false;
        }
        char *abs = g_canonicalize_filename(spec->image, NULL);
        g_free(spec->image);
        spec->image = abs;
        if (!readable_file("the disk image", spec->image, error))
            return false;
    }
    if (spec->virtio_iso && !spec->virtio_fetch) {
        char *abs = g_canonicalize_filename(spec->virtio_iso, NULL);
        g_free(spec->virtio_iso);
        spec->virtio_iso = abs;
        if (!vm_media_check_iso(spec->virtio_iso, error))
            return false;
    }
    /* A new disk must fit (vm_create checks again, and an imported image's
     * need, which qemu-img measures). */
    g_autofree char *store = store_dir();
    if (spec->source != MGR_FROM_IMAGE && spec->disk_gib &&
        !disk_space_check(store, (uint64_t)spec->disk_gib << 30, "the VM's disk", error))
        return false;
    return !spec->unattended || unattend_setup_prepare(spec->name, &spec->unattend, error);
}

static bool cancelled(GCancellable *c, GError **error)
{
    return g_cancellable_set_error_if_cancelled(c, error);
}

static bool create_vm(MgrNewVmSpec *spec, GCancellable *cancellable, GError **error)
{
    Job job = {.spec = spec, .cancellable = cancellable};
    if (!check_spec(spec, error))
        return false;
    if (spec->source == MGR_FROM_CATALOG) {
        g_free(spec->iso);
        spec->iso = download(&job, spec->catalog_id, error);
        if (!spec->iso)
            return false;
    }
    if (spec->virtio_fetch) {
        g_free(spec->virtio_iso);
        spec->virtio_iso = download(&job, "virtio-win", error);
        if (!spec->virtio_iso)
            return false;
    }
    if (cancelled(cancellable, error))
        return false;
    post(&job, "Creating the VM…", -1, NULL);

    g_autoptr(VmConfig) cfg = vm_config_new(spec->name);
    VmArch host = VM_ARCH_X86_64;
    vm_arch_host(&host);
    g_autofree char *mem = g_strdup_printf("%uG", spec->memory_gib);
    g_autofree char *cpus = g_strdup_printf("%u", spec->cpus);
    g_autofree char *virtio_cd = spec->virtio_iso ? g_strdup(spec->virtio_iso) : NULL;
    if (!config_set(cfg, "os", spec->os, error) || !config_set(cfg, "memory", mem, error) ||
        !config_set(cfg, "cpus", cpus, error) || !config_set(cfg, "firmware", "uefi", error) ||
        !config_set(cfg, "tpm", spec->tpm ? "on" : NULL, error) ||
        !config_set(cfg, "secure-boot", spec->secure_boot ? "on" : NULL, error) ||
        !config_set(cfg, "iso", spec->source != MGR_FROM_IMAGE ? spec->iso : NULL, error) ||
        !config_set(cfg, "arch", vm_arch_to_string(host), error) ||
        !config_set(cfg, "virtio", virtio_cd ? "on" : NULL, error) ||
        !config_set(cfg, "cd+", virtio_cd, error))
        return false;
    bool from_image = spec->source == MGR_FROM_IMAGE;
    VmCreateOptions opts = {
        .disk_size = from_image ? 0 : (uint64_t)spec->disk_gib << 30,
        .import_disk = from_image && !spec->image_overlay ? spec->image : NULL,
        .base = from_image && spec->image_overlay ? spec->image : NULL,
        .overlay = from_image && spec->image_overlay,
    };
    if (!vm_create(cfg, &opts, error))
        return false;
    GError *err = NULL;
    if ((spec->unattended && !unattend_setup_apply(cfg, &spec->unattend, NULL, &err)) ||
        cancelled(cancellable, &err)) {
        /* Nothing half made: the VM goes again, its credentials first. */
        bool forgot = false;
        credentials_forget(spec->name, &forgot, NULL);
        vm_store_delete(spec->name, false, NULL, NULL);
        g_propagate_error(error, err);
        return false;
    }
    return true;
}

static void create_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    GError *err = NULL;
    if (create_vm(data, cancellable, &err))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, err);
}

void mgr_ops_create_async(MgrNewVmSpec *spec, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    /* The error (a cancel's message included) comes from create_vm. */
    g_task_set_check_cancellable(task, FALSE);
    g_task_set_task_data(task, spec, (GDestroyNotify)mgr_new_vm_spec_free);
    g_task_run_in_thread(task, create_thread);
}

bool mgr_ops_create_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_boolean(G_TASK(res), error);
}
