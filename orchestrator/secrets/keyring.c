#include "secrets/keyring.h"

#include "common/error.h"
#include "common/log.h"

#include <gio/gio.h>
#include <libsecret/secret.h>
#include <string.h>

/* Grace after the cancellation for the thread to report; then it is left. */
#define CANCEL_GRACE_MS 1000

static const SecretSchema schema = {
    .name = "org.vmdesk.Credentials",
    .flags = SECRET_SCHEMA_NONE,
    .attributes = {
        {"vm", SECRET_SCHEMA_ATTRIBUTE_STRING},
        {"user", SECRET_SCHEMA_ATTRIBUTE_STRING},
        {"folder", SECRET_SCHEMA_ATTRIBUTE_STRING},
        {NULL, 0},
    },
};

typedef enum { OP_STORE, OP_LOOKUP, OP_CLEAR } Op;

/* One call, shared by the caller and its thread (two references): whoever
 * lets go last frees it, so a thread that outlives its caller's patience
 * still has valid data. */
typedef struct {
    gint refs;
    Op op;
    char *vm, *folder, *user;   /* user: NULL for OP_CLEAR */
    char *password;             /* OP_STORE: in; OP_LOOKUP: out (NULL: none) */
    GCancellable *cancellable;
    GMutex lock;
    GCond cond;
    bool done;                  /* the fields below are set (under lock) */
    bool ok;
    bool removed;
    GError *error;
} Job;

static void wipe(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    g_free(s);
}

static void job_unref(Job *j)
{
    if (!g_atomic_int_dec_and_test(&j->refs))
        return;
    g_free(j->vm);
    g_free(j->folder);
    g_free(j->user);
    wipe(j->password);
    g_object_unref(j->cancellable);
    g_clear_error(&j->error);
    g_mutex_clear(&j->lock);
    g_cond_clear(&j->cond);
    g_free(j);
}

static const char *service_name(void)
{
    /* libsecret talks to this name instead when it is set: check that one. */
    const char *name = g_getenv("SECRET_SERVICE_BUS_NAME");
    return name && *name ? name : KEYRING_SERVICE_NAME;
}

/* Is @name owned, or can the bus start it? */
static bool name_reachable(GDBusConnection *bus, const char *name, GCancellable *cancellable,
                           GError **error)
{
    g_autoptr(GVariant) owned = g_dbus_connection_call_sync(
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "NameHasOwner", g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"),
        G_DBUS_CALL_FLAGS_NONE, -1, cancellable, error);
    if (!owned)
        return false;
    gboolean has_owner = FALSE;
    g_variant_get(owned, "(b)", &has_owner);
    if (has_owner)
        return true;
    g_autoptr(GVariant) names = g_dbus_connection_call_sync(
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "ListActivatableNames", NULL, G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NONE, -1,
        cancellable, error);
    if (!names)
        return false;
    g_autofree const char **list = NULL;
    g_variant_get(names, "(^a&s)", &list);
    if (list && g_strv_contains(list, name))
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                "no secret service (%s) runs on the D-Bus session bus", name);
    return false;
}

static GHashTable *attributes(const Job *j)
{
    GHashTable *a = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(a, (char *)"vm", j->vm);
    g_hash_table_insert(a, (char *)"folder", j->folder);
    if (j->user)
        g_hash_table_insert(a, (char *)"user", j->user);
    return a;
}

/* The call itself, on the job's thread. */
static bool run(Job *j, GError **error)
{
    GError *err = NULL;
    /* The caller checked DBUS_SESSION_BUS_ADDRESS: this connects to that
     * address and never autolaunches. */
    g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, j->cancellable, &err);
    if (!bus) {
        g_set_error(error, VD_ERROR,
                    g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? VD_ERROR_TIMEOUT
                                                                             : VD_ERROR_NOT_FOUND,
                    "the D-Bus session bus is not reachable: %s", err->message);
        g_error_free(err);
        return false;
    }
    /* Shared with libsecret, process-wide: a bus that goes away must not end
     * vmdesk (GLib's default for the shared connection). */
    g_dbus_connection_set_exit_on_close(bus, FALSE);
    if (!name_reachable(bus, service_name(), j->cancellable, error))
        return false;

    g_autoptr(SecretService) service =
        secret_service_get_sync(SECRET_SERVICE_NONE, j->cancellable, error);
    if (!service)
        return false;
    g_autoptr(GHashTable) attrs = attributes(j);
    switch (j->op) {
    case OP_STORE: {
        /* Another user's item of this VM would outlive the change. */
        g_autoptr(GHashTable) scope = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_insert(scope, (char *)"vm", j->vm);
        g_hash_table_insert(scope, (char *)"folder", j->folder);
        if (!secret_service_clear_sync(service, &schema, scope, j->cancellable, &err) && err) {
            g_propagate_error(error, err);
            return false;
        }
        g_autofree char *label = g_strdup_printf("vmdesk: RDP password of VM %s (user %s)",
                                                 j->vm, j->user);
        SecretValue *value = secret_value_new(j->password, -1, "text/plain");
        bool ok = secret_service_store_sync(service, &schema, attrs, SECRET_COLLECTION_DEFAULT,
                                            label, value, j->cancellable, error);
        secret_value_unref(value);   /* libsecret's copy: wiped by libsecret */
        return ok;
    }
    case OP_LOOKUP: {
        SecretValue *value = secret_service_lookup_sync(service, &schema, attrs, j->cancellable,
                                                        &err);
        if (err) {
            g_propagate_error(error, err);
            return false;
        }
        if (!value)
            return true;
        const char *text = secret_value_get_text(value);
        if (text)
            j->password = g_strdup(text);
        secret_value_unref(value);
        if (!text) {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                        "the secret service holds the password of VM %s as something other than "
                        "text",
                        j->vm);
            return false;
        }
        return true;
    }
    case OP_CLEAR:
        j->removed = secret_service_clear_sync(service, &schema, attrs, j->cancellable, &err);
        if (err) {
            g_propagate_error(error, err);
            return false;
        }
        return true;
    }
    g_assert_not_reached();
}

static gpointer job_thread(gpointer data)
{
    Job *j = data;
    GError *err = NULL;
    bool ok = run(j, &err);
    g_mutex_lock(&j->lock);
    j->ok = ok;
    j->error = err;
    j->done = true;
    g_cond_signal(&j->cond);
    g_mutex_unlock(&j->lock);
    job_unref(j);
    return NULL;
}

/* Wait for @j until @deadline (monotonic µs); true when it reported. */
static bool wait_until(Job *j, gint64 deadline)
{
    g_mutex_lock(&j->lock);
    while (!j->done && g_cond_wait_until(&j->cond, &j->lock, deadline))
        ;
    bool done = j->done;
    g_mutex_unlock(&j->lock);
    return done;
}

/* Run @j (takes ownership) on its own thread, at most KEYRING_TIMEOUT_MS
 * (plus the grace after cancelling). On success the job is handed back (the
 * caller unrefs it), else NULL with @error set. */
static Job *job_run(Job *j, GError **error)
{
    const char *address = g_getenv("DBUS_SESSION_BUS_ADDRESS");
    if (!address || !*address) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no secret "
                    "service");
        job_unref(j);
        return NULL;
    }
    j->refs = 2;   /* the caller's and the thread's */
    GError *err = NULL;
    GThread *t = g_thread_try_new("vd-keyring", job_thread, j, &err);
    if (!t) {
        j->refs = 1;
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot start a thread: %s",
                    err->message);
        g_error_free(err);
        job_unref(j);
        return NULL;
    }
    g_thread_unref(t);   /* detached: it holds its own reference */

    gint64 deadline = g_get_monotonic_time() + (gint64)KEYRING_TIMEOUT_MS * 1000;
    bool done = wait_until(j, deadline), late = !done;
    if (late) {
        g_cancellable_cancel(j->cancellable);
        done = wait_until(j, g_get_monotonic_time() + (gint64)CANCEL_GRACE_MS * 1000);
    }
    /* A call that still made it counts; any other late end is a time-out. */
    if (done && j->ok)
        return j;
    if (done && !late) {
        if (j->error->domain == VD_ERROR) {
            g_propagate_error(error, g_steal_pointer(&j->error));
        } else {
            g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "the secret service (%s) failed: %s",
                        service_name(), j->error->message);
        }
    } else {
        g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                    "the secret service (%s) did not answer within %d s (a locked keyring "
                    "waiting for its password?)",
                    service_name(), KEYRING_TIMEOUT_MS / 1000);
    }
    job_unref(j);
    return NULL;
}

static Job *job_new(Op op, const char *vm, const char *folder, const char *user)
{
    Job *j = g_new0(Job, 1);
    j->refs = 1;
    j->op = op;
    j->vm = g_strdup(vm);
    j->folder = g_strdup(folder);
    j->user = g_strdup(user);
    j->cancellable = g_cancellable_new();
    g_mutex_init(&j->lock);
    g_cond_init(&j->cond);
    return j;
}

bool keyring_store(const char *vm, const char *folder, const char *user, const char *password,
                   GError **error)
{
    Job *j = job_new(OP_STORE, vm, folder, user);
    j->password = g_strdup(password);
    if (!(j = job_run(j, error)))
        return false;
    vd_debug("stored the password of VM %s in the secret service", vm);
    job_unref(j);
    return true;
}

bool keyring_lookup(const char *vm, const char *folder, const char *user, char **password,
                    GError **error)
{
    *password = NULL;
    Job *j = job_run(job_new(OP_LOOKUP, vm, folder, user), error);
    if (!j)
        return false;
    *password = g_steal_pointer(&j->password);
    job_unref(j);
    return true;
}

bool keyring_clear(const char *vm, const char *folder, bool *removed, GError **error)
{
    *removed = false;
    Job *j = job_run(job_new(OP_CLEAR, vm, folder, NULL), error);
    if (!j)
        return false;
    *removed = j->removed;
    job_unref(j);
    return true;
}
