/* The manager's calls into the orchestrator (the same code as the vmdesk
 * command): reading a VM's published state, the blocking operations of a
 * VM's life run in GTask threads, its screen through QMP screendump, and
 * what a delete removes; a new VM's checks, downloads and creation
 * (mgr_create.c). No GTK widget here; only mgr_ops.c, mgr_create.c,
 * mgr_page_ops.c and mgr_vm_list.c include orchestrator headers. */
#pragma once

#include "guest/unattend_setup.h"
#include "manager/mgr_vm.h"

#include <gio/gio.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef enum {
    MGR_OP_START,
    MGR_OP_PAUSE,
    MGR_OP_RESUME,
    MGR_OP_SHUTDOWN,    /* ACPI power-down; forced after MGR_SHUTDOWN_TIMEOUT_S */
    MGR_OP_FORCE_OFF,
    MGR_OP_DELETE,      /* the VM's folder with its disks, and its menu entries */
    /* The stopped VM's overlay (vm_overlay_apply); each answers the question
     * its last shutdown left open. */
    MGR_OP_OVERLAY_COMMIT,
    MGR_OP_OVERLAY_DISCARD,
    MGR_OP_OVERLAY_KEEP,
} MgrOp;

#define MGR_SHUTDOWN_TIMEOUT_S 60

/* "start", "shut down"... for messages ("Could not %s NAME"). */
const char *mgr_op_verb(MgrOp op);

/* Run @op on VM @name in a worker thread; @callback runs on the calling
 * thread's main context. The operation itself is not cancellable (a start
 * half done is worse than one finished); @cancellable only drops the answer. */
void mgr_ops_run_async(MgrOp op, const char *name, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer data);
bool mgr_ops_run_finish(GAsyncResult *res, GError **error);

/* The VM's state as its supervisor published it (a small file read and a
 * lock test; any thread). A config that does not load is MGR_VM_FAILED with
 * the reason. Fills the strings (caller frees them). */
typedef struct {
    MgrVmPhase phase;
    char *state_text;
    char *reason;
    char *accel;
    bool overlay_pending;
} MgrVmInfo;
void mgr_ops_read_state(const char *name, MgrVmInfo *out);
void mgr_vm_info_clear(MgrVmInfo *info);

/* The path of the VM's last screen picture (a PNG in its folder, deleted
 * with it). Caller frees. */
char *mgr_ops_screen_path(const char *name);

/* The size of the cards' pictures (the screen scaled to fit, aspect kept). */
#define MGR_SCREEN_WIDTH 288
#define MGR_SCREEN_HEIGHT 216

/* Ask the running VM's QEMU for a screendump (PNG, written beside the last
 * one and renamed over it), in a worker thread; the picture, scaled to fit
 * MGR_SCREEN_WIDTH x MGR_SCREEN_HEIGHT, as a texture.
 * With @saved_only, only load the last picture saved (for a stopped VM).
 * @shown is the texture this returned before and the card shows now, or
 * NULL: when the new picture is the same, the result is NULL without an
 * error (nothing decoded, nothing to redraw). */
void mgr_ops_screen_async(const char *name, bool saved_only, GdkTexture *shown,
                          GCancellable *cancellable, GAsyncReadyCallback callback, gpointer data);
GdkTexture *mgr_ops_screen_finish(GAsyncResult *res, GError **error);

/* What deleting VM @name removes, in a sentence or two for the confirmation
 * ("The folder ... with disk.qcow2 (2.0 GiB), ..."). Blocking but short
 * (stats a folder). Caller frees. */
char *mgr_ops_describe_delete(const char *name);

/* @error as the window says it (never NULL; caller frees): an orchestrator
 * error about a field the manager shows is worded with the field's label
 * ("Keyboard: ..."), one with a plain text (common/error.h) by that text, any
 * other by its message. Any thread. */
char *mgr_error_text(const GError *error);

/* The vmdesk program the manager runs (`vmdesk view`, the supervisor): the
 * one beside the manager's own executable, else "vmdesk" from PATH. */
char *mgr_ops_vmdesk_path(void);

/* Run `vmdesk ARGS...` (mgr_ops_vmdesk_path) to its end, with stdout
 * silenced, stderr read and a pipe of its own on its descriptor 3 for its
 * error's words (VD_ERROR_WORDS_ENV): both pipes are read on the caller's
 * main context, never blocking it, up to MGR_OPS_CHILD_READ_MAX bytes each
 * (the last of stderr, the first of the words). @callback gets
 * mgr_ops_vmdesk_finish's answer when the child has ended and both pipes are
 * closed. False (and *@error) when it could not be started. Main thread. */
bool mgr_ops_vmdesk_async(const char *const *args, const char *fallback,
                          GAsyncReadyCallback callback, gpointer data, GError **error);
#define MGR_OPS_CHILD_READ_MAX (64 * 1024)

/* NULL when the child of mgr_ops_vmdesk_async ended successfully, else its
 * error as mgr_ops_child_error gives it (caller frees). */
char *mgr_ops_vmdesk_finish(GAsyncResult *res);

/* What a `vmdesk` child (view, app) that failed said, as the window says it
 * (caller frees). @words is what it wrote on its words pipe (may be NULL),
 * which only the child itself writes: there its error's lines
 * (common/error.h) in the window's words as mgr_error_text gives them when it
 * wrote its field or plain text, else its "vmdesk: error: " lines without
 * that prefix. Without those, @stderr_text (may be NULL), which anything the
 * child started may have written to, and so only ever a message, never
 * words: its lines that begin with "vmdesk: error: " without that prefix,
 * else its last non-empty line (log lines before it are not for the user).
 * Else @fallback. Either input may hold any bytes. At most 2048 bytes, valid
 * UTF-8. */
char *mgr_ops_child_error(const char *words, const char *stderr_text, const char *fallback);


/* --- a new VM --- */

typedef enum {
    MGR_FROM_ISO,      /* @iso (or none) */
    MGR_FROM_CATALOG,  /* @catalog_id downloaded (fetch_catalog.h), then as an ISO */
    MGR_FROM_IMAGE,    /* @image imported, or with @image_overlay a base under an overlay */
} MgrNewVmSource;

/* Called on the main thread while a create works: a sentence for the user
 * (NULL: none), the download's fraction (negative: no download running) and
 * its text ("12.0 MiB of 64.0 MiB, 4.0 MiB/s"). Not called once the
 * create's cancellable is cancelled. */
typedef void (*MgrCreateProgressFunc)(const char *status, double fraction, const char *bar,
                                      gpointer data);

typedef struct {
    char *name;
    char *os;          /* "linux", "windows", "other" */
    MgrNewVmSource source;
    char *iso;         /* the installer CD image, or NULL */
    char *catalog_id;  /* MGR_FROM_CATALOG */
    char *image;       /* MGR_FROM_IMAGE */
    bool image_overlay;
    guint memory_gib;
    guint cpus;
    guint disk_gib;
    bool tpm, secure_boot;
    char *virtio_iso;  /* the virtio-win drivers CD, or NULL */
    bool virtio_fetch; /* download it (the catalog's virtio-win) instead */
    bool unattended;   /* install Windows hands-off with @unattend's account */
    UnattendSetup unattend;
    MgrCreateProgressFunc progress; /* may be NULL */
    gpointer progress_data;
} MgrNewVmSpec;

void mgr_new_vm_spec_free(MgrNewVmSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MgrNewVmSpec, mgr_new_vm_spec_free)

/* What this host allows (vm_host.h, the ranges `vmdesk doctor` states):
 * the most memory a VM should get and the free space where VMs are stored
 * (GiB), and its processors. */
void mgr_ops_host_limits(guint *memory_gib, guint *cpus, guint *disk_gib);

/* A downloadable installer of the catalog (fetch_catalog.h) for this host's
 * architecture, for the assistant's list. */
typedef struct {
    char *id;    /* the catalog ID ("debian-12-netinst") */
    char *name;  /* for people */
    char *label; /* the name with its approximate size */
    char *note;  /* how it is verified, or NULL */
} MgrCatalogItem;

/* The installers, in the catalog's order (MgrCatalogItem*, freed with the
 * array). No I/O. */
GPtrArray *mgr_ops_catalog_installers(void);

/* This host's locale and time zone in Windows' terms (unattend_setup.h), the
 * hands-off installation's defaults. Caller frees both. */
void mgr_ops_host_windows_settings(char **locale, char **zone);

/* Where the assistant's downloads go (vmdesk's data folder, "downloads"):
 * a stopped download's .part stays there for the next try. Caller frees. */
char *mgr_ops_downloads_dir(void);

/* Create the VM of @spec (ownership taken) in a worker thread, with the
 * orchestrator code of `vmdesk create`, `vmdesk fetch` and `vmdesk create
 * --unattended` (mgr_create.c): everything the user named is checked, and the
 * free space for a new disk, before anything is downloaded or written; a
 * catalog entry (and virtio-win) is downloaded resumably and verified; then
 * the VM is made and, for a hands-off installation, its answer-file and
 * tools CDs and its account (secrets/credentials.h) added. On failure or
 * when @cancellable is cancelled nothing of the VM is left (a download's
 * .part is kept for a resume); the error is G_IO_ERROR_CANCELLED when
 * cancelled. */
void mgr_ops_create_async(MgrNewVmSpec *spec, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer data);
bool mgr_ops_create_finish(GAsyncResult *res, GError **error);

/* What the accelerator will be, said plainly (probes KVM: up to a few
 * seconds, in a worker thread). */
void mgr_ops_accel_text_async(GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer data);
char *mgr_ops_accel_text_finish(GAsyncResult *res);

G_END_DECLS
