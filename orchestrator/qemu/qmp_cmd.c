#include "qemu/qmp_cmd.h"

#include "common/error.h"
#include "qemu/json_channel.h"
#include "qemu/json_lines.h"

#include <string.h>

#define JOB_POLL_US (50 * 1000)

/* QEMU's error classes (qapi/error.json) that mean something else than "QEMU
 * failed"; every other class maps to VD_ERROR_VM. */
static const struct {
    const char *cls;
    VdErrorCode code;
} error_classes[] = {
    {"CommandNotFound", VD_ERROR_NOT_FOUND},
    {"DeviceNotFound", VD_ERROR_NOT_FOUND},
};

static VdErrorCode map_error_class(const char *cls)
{
    for (size_t i = 0; cls && i < G_N_ELEMENTS(error_classes); i++)
        if (!strcmp(cls, error_classes[i].cls))
            return error_classes[i].code;
    return VD_ERROR_VM;
}

JsonNode *qmp_cmd_execute(QmpClient *c, const char *command, JsonObject *args, int timeout_ms,
                          GError **error)
{
    g_autoptr(JsonObject) refusal = NULL;
    JsonNode *r = qmp_client_call(c, command, args, timeout_ms, &refusal, error);
    if (refusal)
        g_set_error(error, VD_ERROR, map_error_class(json_member_string(refusal, "class")),
                    "QEMU refused %s: %s", command, json_channel_refusal_reason(refusal));
    return r;
}

/* A command whose answer is only "it is done". */
static bool run(QmpClient *c, const char *command, JsonObject *args, int timeout_ms,
                GError **error)
{
    g_autoptr(JsonNode) r = qmp_cmd_execute(c, command, args, timeout_ms, error);
    return r != NULL;
}

static bool wrong_answer(const char *command, const char *want, GError **error)
{
    g_set_error(error, VD_ERROR, VD_ERROR_PROTOCOL, "QEMU answered %s without %s", command,
                want);
    return false;
}

/* The answer of @command when it is a list (QEMU's query-*): its array,
 * which lives as long as *@answer (the caller unrefs that). */
static JsonArray *list_answer(QmpClient *c, const char *command, int timeout_ms,
                              JsonNode **answer, GError **error)
{
    *answer = qmp_cmd_execute(c, command, NULL, timeout_ms, error);
    if (*answer && !JSON_NODE_HOLDS_ARRAY(*answer)) {
        wrong_answer(command, "a list", error);
        g_clear_pointer(answer, json_node_unref);
    }
    return *answer ? json_node_get_array(*answer) : NULL;
}

/* The first object of @list whose string member @name @match accepts for
 * @want, or NULL. */
static JsonObject *find_in(JsonArray *list, const char *name,
                           bool (*match)(const char *value, const char *want), const char *want)
{
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonNode *n = json_array_get_element(list, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        const char *value = json_member_string(o, name);
        if (value && match(value, want))
            return o;
    }
    return NULL;
}

static bool equal(const char *value, const char *want)
{
    return !strcmp(value, want);
}

/* --- run state --- */

bool qmp_cmd_query_status(QmpClient *c, int timeout_ms, QmpStatus *status, GError **error)
{
    memset(status, 0, sizeof(*status));
    g_autoptr(JsonNode) r = qmp_cmd_execute(c, "query-status", NULL, timeout_ms, error);
    if (!r)
        return false;
    if (!JSON_NODE_HOLDS_OBJECT(r))
        return wrong_answer("query-status", "a status", error);
    JsonObject *o = json_node_get_object(r);
    const char *s = json_member_string(o, "status");
    /* QEMU's run states are short words ("internal-error" is the longest). */
    g_strlcpy(status->status, s ? s : "", sizeof(status->status));
    json_member_bool(o, "running", &status->running);
    return true;
}

bool qmp_cmd_stop(QmpClient *c, int timeout_ms, GError **error)
{
    return run(c, "stop", NULL, timeout_ms, error);
}

bool qmp_cmd_cont(QmpClient *c, int timeout_ms, GError **error)
{
    return run(c, "cont", NULL, timeout_ms, error);
}

bool qmp_cmd_system_powerdown(QmpClient *c, int timeout_ms, GError **error)
{
    return run(c, "system_powerdown", NULL, timeout_ms, error);
}

bool qmp_cmd_quit(QmpClient *c, int timeout_ms, GError **error)
{
    return run(c, "quit", NULL, timeout_ms, error);
}

/* --- drives --- */

/* A device's qdev is its id, or its QOM path ending in "/" and the id. */
static bool is_device_id(const char *qdev, const char *id)
{
    size_t n = strlen(qdev), k = strlen(id);
    return !strcmp(qdev, id) || (n > k && qdev[n - k - 1] == '/' && !strcmp(qdev + n - k, id));
}

bool qmp_cmd_query_drive(QmpClient *c, const char *id, int timeout_ms, QmpDrive *drive,
                         GError **error)
{
    memset(drive, 0, sizeof(*drive));
    g_autoptr(JsonNode) answer = NULL;
    JsonArray *list = list_answer(c, "query-block", timeout_ms, &answer, error);
    if (!list)
        return false;
    JsonObject *d = find_in(list, "qdev", is_device_id, id);
    if (d) {
        drive->found = true;
        json_member_bool(d, "tray_open", &drive->tray_open);
        drive->file = g_strdup(json_member_string(json_member_object(d, "inserted"), "file"));
    }
    return true;
}

void qmp_cmd_drive_clear(QmpDrive *drive)
{
    if (!drive)
        return;
    g_free(drive->file);
    memset(drive, 0, sizeof(*drive));
}

/* The arguments that name a drive by its device id. */
static JsonObject *drive_args(const char *id)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", id);
    return args;
}

bool qmp_cmd_change_medium(QmpClient *c, const char *id, const char *filename, bool force,
                           int timeout_ms, GError **error)
{
    JsonObject *args = drive_args(id);
    json_object_set_string_member(args, "filename", filename);
    json_object_set_string_member(args, "format", "raw");
    json_object_set_string_member(args, "read-only-mode", "read-only");
    if (force)
        json_object_set_boolean_member(args, "force", TRUE);
    return run(c, "blockdev-change-medium", args, timeout_ms, error);
}

bool qmp_cmd_eject(QmpClient *c, const char *id, bool force, int timeout_ms, GError **error)
{
    JsonObject *args = drive_args(id);
    if (force)
        json_object_set_boolean_member(args, "force", TRUE);
    return run(c, "eject", args, timeout_ms, error);
}

bool qmp_cmd_block_resize(QmpClient *c, const char *node_name, guint64 size, int timeout_ms,
                          GError **error)
{
    if (size > G_MAXINT64) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "a disk of %" G_GUINT64_FORMAT
                    " bytes is larger than QEMU can address", size);
        return false;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "node-name", node_name);
    json_object_set_int_member(args, "size", (gint64)size);
    return run(c, "block_resize", args, timeout_ms, error);
}

/* --- jobs and snapshots --- */

bool qmp_cmd_job_dismiss(QmpClient *c, const char *id, int timeout_ms, GError **error)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", id);
    return run(c, "job-dismiss", args, timeout_ms, error);
}

bool qmp_cmd_job_wait(QmpClient *c, const char *id, int timeout_ms, int job_timeout_ms,
                      GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)job_timeout_ms * 1000;
    g_autofree char *what = g_strdup(id); /* its type once QEMU lists it */
    for (;;) {
        g_autoptr(JsonNode) answer = NULL;
        JsonArray *jobs = list_answer(c, "query-jobs", timeout_ms, &answer, error);
        if (!jobs)
            return false;
        JsonObject *job = find_in(jobs, "id", equal, id);
        const char *type = json_member_string(job, "type");
        if (type && *type) {
            g_free(what);
            what = g_strdup(type);
        }
        if (!g_strcmp0(json_member_string(job, "status"), "concluded")) {
            /* Dismissed either way: a job that stays would block its id. */
            qmp_cmd_job_dismiss(c, id, timeout_ms, NULL);
            const char *why = json_member_string(job, "error");
            if (why) {
                g_set_error(error, VD_ERROR, VD_ERROR_VM, "QEMU's %s failed: %s", what, why);
                return false;
            }
            return true;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT, "QEMU's %s did not finish", what);
            return false;
        }
        g_usleep(JOB_POLL_US);
    }
}

bool qmp_cmd_snapshot_start(QmpClient *c, const QmpSnapshotJob *job, int timeout_ms,
                            GError **error)
{
    static const char *const commands[] = {
        [QMP_SNAPSHOT_SAVE] = "snapshot-save",
        [QMP_SNAPSHOT_LOAD] = "snapshot-load",
        [QMP_SNAPSHOT_DELETE] = "snapshot-delete",
    };
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "job-id", job->job_id);
    json_object_set_string_member(args, "tag", job->tag);
    if (job->vmstate)
        json_object_set_string_member(args, "vmstate", job->vmstate);
    JsonArray *devs = json_array_new();
    for (const char *const *d = job->devices; d && *d; d++)
        json_array_add_string_element(devs, *d);
    json_object_set_array_member(args, "devices", devs);
    return run(c, commands[job->op], args, timeout_ms, error);
}

/* --- display --- */

bool qmp_cmd_screendump(QmpClient *c, const char *filename, int timeout_ms, GError **error)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "filename", filename);
    json_object_set_string_member(args, "format", "png");
    return run(c, "screendump", args, timeout_ms, error);
}

/* --- host USB devices --- */

bool qmp_cmd_usb_host_add(QmpClient *c, const char *id, const VmUsbSpec *spec, int timeout_ms,
                          GError **error)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "driver", "usb-host");
    json_object_set_string_member(args, "bus", "usb.0");
    json_object_set_string_member(args, "id", id);
    if (spec->by_id) {
        json_object_set_int_member(args, "vendorid", spec->vendor);
        json_object_set_int_member(args, "productid", spec->product);
    } else {
        json_object_set_int_member(args, "hostbus", spec->bus);
        json_object_set_string_member(args, "hostport", spec->port);
    }
    return run(c, "device_add", args, timeout_ms, error);
}

bool qmp_cmd_device_del(QmpClient *c, const char *id, int timeout_ms, GError **error)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", id);
    return run(c, "device_del", args, timeout_ms, error);
}

static void usb_host_free(gpointer p)
{
    QmpUsbHost *h = p;
    g_free(h->id);
    g_free(h);
}

/* qom-get @property of @path: its value (caller unrefs) or NULL. */
static JsonNode *qom_get(QmpClient *c, const char *path, const char *property, int timeout_ms,
                         GError **error)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", property);
    return qmp_cmd_execute(c, "qom-get", args, timeout_ms, error);
}

static bool qom_get_uint(QmpClient *c, const char *path, const char *property, int timeout_ms,
                         unsigned *out, GError **error)
{
    g_autoptr(JsonNode) v = qom_get(c, path, property, timeout_ms, error);
    if (!v)
        return false;
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_INT64 ||
        json_node_get_int(v) < 0 || json_node_get_int(v) > G_MAXUINT16)
        return wrong_answer("qom-get", "a number", error);
    *out = (unsigned)json_node_get_int(v);
    return true;
}

/* The filter and state of the usb-host at @path into @h. */
static bool usb_host_read(QmpClient *c, const char *path, int timeout_ms, QmpUsbHost *h,
                          GError **error)
{
    unsigned vendor = 0, product = 0, bus = 0;
    if (!qom_get_uint(c, path, "vendorid", timeout_ms, &vendor, error) ||
        !qom_get_uint(c, path, "productid", timeout_ms, &product, error) ||
        !qom_get_uint(c, path, "hostbus", timeout_ms, &bus, error))
        return false;
    g_autoptr(JsonNode) port = qom_get(c, path, "hostport", timeout_ms, error);
    g_autoptr(JsonNode) attached = port ? qom_get(c, path, "attached", timeout_ms, error) : NULL;
    if (!attached)
        return false;
    if (!JSON_NODE_HOLDS_VALUE(port) || json_node_get_value_type(port) != G_TYPE_STRING ||
        !JSON_NODE_HOLDS_VALUE(attached) || json_node_get_value_type(attached) != G_TYPE_BOOLEAN)
        return wrong_answer("qom-get", "a usb-host's hostport and attached", error);
    h->attached = json_node_get_boolean(attached);
    h->spec.by_id = vendor || product;
    h->spec.vendor = vendor;
    h->spec.product = product;
    h->spec.bus = bus;
    g_strlcpy(h->spec.port, json_node_get_string(port), sizeof(h->spec.port));
    return true;
}

GPtrArray *qmp_cmd_usb_host_list(QmpClient *c, int timeout_ms, GError **error)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "path", "/machine/peripheral");
    g_autoptr(JsonNode) r = qmp_cmd_execute(c, "qom-list", args, timeout_ms, error);
    if (!r)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(r)) {
        wrong_answer("qom-list", "a list", error);
        return NULL;
    }
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(usb_host_free);
    JsonArray *list = json_node_get_array(r);
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonNode *n = json_array_get_element(list, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        const char *name = json_member_string(o, "name");
        if (!name || g_strcmp0(json_member_string(o, "type"), "child<usb-host>"))
            continue;
        QmpUsbHost *h = g_new0(QmpUsbHost, 1);
        h->id = g_strdup(name);
        g_ptr_array_add(out, h);
        g_autofree char *path = g_strconcat("/machine/peripheral/", name, NULL);
        if (!usb_host_read(c, path, timeout_ms, h, error))
            return NULL;
    }
    return g_steal_pointer(&out);
}
