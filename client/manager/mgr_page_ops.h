/* The orchestrator's side of a VM's page (mgr_page.c): what the page shows
 * of one VM (its settings, shared folders, CD, snapshots, overlay, logs) read
 * in one go, and each of the page's changes, all in GTask worker threads with
 * the same code and rules as the vmdesk command (`vmdesk set`, share, cdrom,
 * snapshot, overlay, apps, tools, certificate, credentials). No GTK widget
 * here; with mgr_ops.c and mgr_vm_list.c the only files that include
 * orchestrator headers. */
#pragma once

#include <gio/gio.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef struct {
    char letter;         /* the guest's drive letter */
    bool read_only;
    char *path;
    char *text;          /* "RDP drive Z:, 9p tag vmdesk_share" */
} MgrShare;

typedef struct {
    char *tag;
    char *text;          /* "2026-12-06 04:10, with memory (12.0 MiB)" */
} MgrSnapshot;

/* What the page shows of a VM; every string owned. */
typedef struct {
    char *name;
    bool running;          /* its QEMU runs (or is paused) */
    bool windows;          /* a Windows guest: shares are RDP drives only */
    char *memory;          /* "4G", as `vmdesk show` writes it */
    guint cpus;
    guint performance;     /* 0 standard, 1 powersave, 2 turbo */
    char *qemu_args;       /* the extra arguments, shell-quoted, space-separated */
    GPtrArray *shares;     /* MgrShare* */
    char *cd;              /* the image in the CD drive, or NULL */
    GPtrArray *snapshots;  /* MgrSnapshot*, oldest first */
    char *snapshot_error;  /* why there are none (no qcow2 disk...), or NULL */
    bool has_overlay;
    char *overlay_text;    /* sizes and what changed, or why there is no overlay */
    bool overlay_pending;  /* on-shutdown=ask left a question open */
    guint on_shutdown;     /* 0 keep, 1 commit, 2 discard, 3 ask */
    char **logs;           /* the file names in the VM's logs folder, sorted */
    char *certificate;     /* the pinned RDP certificate's SHA-256, or NULL */
    char *certificate_error; /* why the pin file cannot be read (a connection
                                refuses then), or NULL */
    char *account_user;    /* the stored RDP account's user name, or NULL */
    /* The host's ranges (vmdesk doctor) for the settings. */
    guint64 memory_max;    /* bytes */
    guint cpus_max;
} MgrPageInfo;

void mgr_page_info_free(MgrPageInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MgrPageInfo, mgr_page_info_free)

/* The performance modes and overlay policies in the order of the indexes
 * above, as the config writes them. */
extern const char *const mgr_page_perf_names[3];
extern const char *const mgr_page_policy_names[4];

typedef enum {
    MGR_PAGE_LOAD,          /* nothing changes; the info is read */
    MGR_PAGE_SET,           /* @args: KEY=VALUE... applied as `vmdesk set` does */
    MGR_PAGE_SHARE_ADD,     /* @arg: folder; @flag: read-only; the first free letter from Z down */
    MGR_PAGE_SHARE_REMOVE,  /* @arg: the letter */
    MGR_PAGE_CD_INSERT,     /* @arg: the image */
    MGR_PAGE_CD_EJECT,
    MGR_PAGE_SNAPSHOT_SAVE,     /* @arg: the tag */
    MGR_PAGE_SNAPSHOT_RESTORE,  /* @arg: the tag; the user accepted losing the unsaved state */
    MGR_PAGE_SNAPSHOT_DELETE,   /* @arg: the tag */
    MGR_PAGE_OVERLAY_COMMIT,
    MGR_PAGE_OVERLAY_DISCARD,
    MGR_PAGE_CERT_FORGET,   /* the pinned RDP certificate, as `vmdesk certificate --forget` */
    MGR_PAGE_ACCOUNT_SAVE,  /* @arg: the user ("DOMAIN\\user" gives a domain); @args: {the
                               password}, wiped when done; as `vmdesk credentials` */
    MGR_PAGE_ACCOUNT_FORGET, /* as `vmdesk credentials --forget` */
} MgrPageOp;

/* Run @op on VM @name (with @arg, @args, @flag as the op says), then read the
 * page's info again (also after a failure: the page shows what is). */
void mgr_page_ops_run_async(MgrPageOp op, const char *name, const char *arg,
                            const char *const *args, bool flag, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer data);
/* The fresh info (NULL only when the VM cannot be read at all: *@error),
 * and in *@done what the op did for a toast ("Saved snapshot s1", NULL for
 * LOAD) or in *@error why it failed (then the info is returned too). */
MgrPageInfo *mgr_page_ops_run_finish(GAsyncResult *res, char **done, GError **error);

/* --- the guest's programs (the guest agent; up to GUEST_APPS_TIMEOUT) --- */

typedef struct {
    char *name;
    char *program;          /* in the guest: what `vmdesk app VM PROGRAM` starts */
    GBytes *icon;           /* PNG/SVG/XPM/ICO bytes from the guest (hostile), or NULL */
    bool in_menu;           /* a desktop menu entry exists */
    char *app_id;           /* internal: its menu entry's id */
    void *guest;            /* internal: the guest's GuestApp */
} MgrApp;

/* The programs VM @name's guest reports (an array of MgrApp*; opaque state
 * for the menu calls rides along in it). */
void mgr_page_apps_async(const char *name, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer data);
GPtrArray *mgr_page_apps_finish(GAsyncResult *res, GError **error);

/* Add (@add) or remove the desktop menu entry of @apps' @index-th program
 * (the array from mgr_page_apps_finish); updates its in_menu. */
void mgr_page_app_menu_async(const char *name, GPtrArray *apps, guint index, bool add,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer data);
bool mgr_page_app_menu_finish(GAsyncResult *res, GError **error);

/* The guest tools and agent as the agent reports them, in a few lines (a
 * stopped VM: says so). */
void mgr_page_tools_async(const char *name, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer data);
char *mgr_page_tools_finish(GAsyncResult *res);

/* The end of log file @file of VM @name (at most the last 256 KiB, made
 * valid UTF-8: the serial log holds what the guest printed). */
void mgr_page_log_async(const char *name, const char *file, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer data);
char *mgr_page_log_finish(GAsyncResult *res, GError **error);

G_END_DECLS
