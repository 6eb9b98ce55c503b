/* unit-qmp, second file: the typed commands (orchestrator/qemu/qmp_cmd.c)
 * against the real QEMU (-machine none, with block nodes on images in the
 * test's folder), and against answers written ahead on a socketpair for
 * what the real QEMU never answers: answers of the wrong shape. And the
 * event table (qmp_client_set_event_table). */
#include "common/error.h"
#include "qemu/qmp_client.h"
#include "qemu/qmp_cmd.h"
#include "test_qmp.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- the real QEMU --- */

void tq_qemu_init(TqQemu *q)
{
    g_assert_true(tu_have_program("qemu-system-x86_64")); /* no skip: CI installs it */
    q->dir = tu_tmpdir();
    q->qemu = NULL;
    q->c = NULL;
}

void tq_qemu_start(TqQemu *q, const char *const *extra)
{
    g_autofree char *sock = g_build_filename(q->dir, "qmp.sock", NULL);
    g_autofree char *qmp_opt = g_strdup_printf("unix:%s,server=on,wait=off", sock);
    const char *const base[] = {"qemu-system-x86_64", "-machine", "none", "-nodefaults",
                                "-display", "none", "-accel", "tcg", "-qmp", qmp_opt, NULL};
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_addv(b, (const char **)base);
    if (extra)
        g_strv_builder_addv(b, (const char **)extra);
    g_auto(GStrv) argv = g_strv_builder_end(b);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
    q->qemu = g_subprocess_launcher_spawnv(l, (const char *const *)argv, &err);
    g_assert_no_error(err);
    q->c = qmp_client_connect_unix(sock, 10000, &err);
    g_assert_no_error(err);
}

void tq_qemu_assert_ended(TqQemu *q)
{
    g_assert_true(tu_subprocess_wait(q->qemu, 5000));
    g_autofree char *text = tu_subprocess_stderr(q->qemu);
    g_assert_cmpstr(text, ==, "");
    g_assert_true(g_subprocess_get_if_exited(q->qemu));
    g_assert_cmpint(g_subprocess_get_exit_status(q->qemu), ==, 0);
}

void tq_qemu_clear(TqQemu *q)
{
    qmp_client_destroy(q->c);
    g_clear_object(&q->qemu);
    tu_rm_rf(q->dir);
    g_free(q->dir);
}

char *tq_status(QmpClient *c, bool *running)
{
    g_autoptr(GError) err = NULL;
    QmpStatus st;
    g_assert_true(qmp_cmd_query_status(c, 5000, &st, &err));
    g_assert_no_error(err);
    if (running)
        *running = st.running;
    return g_strdup(st.status);
}

/* @name in @q's folder. Caller frees. */
static char *path_in(TqQemu *q, const char *name)
{
    return g_build_filename(q->dir, name, NULL);
}

static void start_negotiated(TqQemu *q, const char *const *extra)
{
    tq_qemu_start(q, extra);
    g_autoptr(GError) err = NULL;
    g_assert_true(qmp_client_handshake(q->c, 10000, &err));
    g_assert_no_error(err);
}

static void quit(TqQemu *q)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(qmp_cmd_quit(q->c, 5000, &err));
    g_assert_no_error(err);
    tq_qemu_assert_ended(q);
    tq_qemu_clear(q);
}

/* Drives: block_resize on a node, query-block, and QEMU's refusals mapped
 * to our codes: a drive that does not exist (DeviceNotFound), a node that
 * does not, a screendump without a console (GenericError). */
static void test_cmd_drives(void)
{
    TqQemu q;
    tq_qemu_init(&q);
    g_autofree char *raw = path_in(&q, "raw.img");
    g_autofree char *iso = path_in(&q, "cd.iso");
    g_autofree char *png = path_in(&q, "screen.png");
    tu_write_file(raw, "");
    g_assert_cmpint(truncate(raw, 1 << 20), ==, 0);
    tu_write_file(iso, "not quite an ISO image");
    g_autofree char *node = g_strdup_printf("driver=file,filename=%s,node-name=raw0", raw);
    g_autofree char *drive = g_strdup_printf("if=none,id=drv0,file=%s,format=raw,readonly=on",
                                             iso);
    const char *const extra[] = {"-blockdev", node, "-drive", drive, NULL};
    start_negotiated(&q, extra);
    g_autoptr(GError) err = NULL;

    g_assert_true(qmp_cmd_block_resize(q.c, "raw0", 3 << 20, 5000, &err));
    g_assert_no_error(err);
    GStatBuf sb;
    g_assert_cmpint(g_stat(raw, &sb), ==, 0);
    g_assert_cmpint(sb.st_size, ==, 3 << 20);
    g_assert_false(qmp_cmd_block_resize(q.c, "nope", 3 << 20, 5000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_VM);
    g_assert_true(g_str_has_prefix(err->message, "QEMU refused block_resize: Cannot find"));
    g_clear_error(&err);

    /* drv0 is a drive of no device: no device id names it. */
    QmpDrive d;
    g_assert_true(qmp_cmd_query_drive(q.c, "drv0", 5000, &d, &err));
    g_assert_no_error(err);
    g_assert_false(d.found);
    qmp_cmd_drive_clear(&d);

    g_assert_false(qmp_cmd_change_medium(q.c, "cd0", iso, false, 5000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_cmpstr(err->message, ==,
                    "QEMU refused blockdev-change-medium: Device 'cd0' not found");
    g_clear_error(&err);
    g_assert_false(qmp_cmd_eject(q.c, "cd0", true, 5000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    g_assert_cmpstr(err->message, ==, "QEMU refused eject: Device 'cd0' not found");
    g_clear_error(&err);

    g_assert_false(qmp_cmd_screendump(q.c, png, 5000, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_VM);
    g_assert_nonnull(strstr(err->message, "QEMU refused screendump: There is no console"));
    g_clear_error(&err);

    /* Refusals leave the client usable. */
    g_autofree char *status = tq_status(q.c, NULL);
    g_assert_cmpstr(status, ==, "running");
    quit(&q);
}

/* Whether `qemu-img snapshot -l` lists @tag in @disk (which QEMU has open). */
static bool disk_has_snapshot(const char *disk, const char *tag)
{
    const char *argv[] = {"qemu-img", "snapshot", "-l", "-U", disk, NULL};
    g_autofree char *out = NULL;
    int status = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, &err));
    g_assert_true(g_spawn_check_wait_status(status, &err));
    g_autofree char *word = g_strdup_printf(" %s ", tag);
    return strstr(out, word) != NULL;
}

/* JOB_STATUS_CHANGE events as "ID:STATUS" in the GPtrArray @user_data. */
static void on_job_status(const char *event, JsonObject *data, void *user_data)
{
    JsonNode *id = json_object_get_member(data, "id");
    JsonNode *status = json_object_get_member(data, "status");
    g_ptr_array_add(user_data, g_strdup_printf("%s:%s", json_node_get_string(id),
                                               json_node_get_string(status)));
}

/* Start the snapshot job @job and wait for it, as storage/vm_snapshot.c does. */
static bool run_job(QmpClient *c, const QmpSnapshotJob *job, GError **error)
{
    return qmp_cmd_snapshot_start(c, job, 5000, error) &&
           qmp_cmd_job_wait(c, job->job_id, 5000, 60000, error);
}

/* Snapshot jobs on a qcow2 node: save, a load that fails, load, delete. */
static void test_cmd_snapshot_jobs(void)
{
    static const QmpEventHandler job_events[] = {
        {"JOB_STATUS_CHANGE", on_job_status},
        {NULL, NULL},
    };
    static const char *const disks[] = {"disk0", NULL};
    TqQemu q;
    tq_qemu_init(&q);
    g_autofree char *disk = path_in(&q, "disk.qcow2");
    const char *create[] = {"qemu-img", "create", "-q", "-f", "qcow2", disk, "1M", NULL};
    int status = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)create, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               NULL, NULL, &status, &err));
    g_assert_true(g_spawn_check_wait_status(status, &err));
    g_autofree char *file = g_strdup_printf("driver=file,filename=%s,node-name=disk0-file", disk);
    const char *const extra[] = {"-blockdev", file, "-blockdev",
                                 "driver=qcow2,file=disk0-file,node-name=disk0", NULL};
    start_negotiated(&q, extra);
    g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func(g_free);
    qmp_client_set_event_table(q.c, job_events, log);

    QmpSnapshotJob save = {QMP_SNAPSHOT_SAVE, "snap-save", "t1", "disk0", disks};
    g_assert_true(run_job(q.c, &save, &err));
    g_assert_no_error(err);
    /* QEMU's events, through the table, as the supervisor sees them. */
    g_assert_true(g_ptr_array_find_with_equal_func(log, "snap-save:running", g_str_equal, NULL));
    g_assert_true(
        g_ptr_array_find_with_equal_func(log, "snap-save:concluded", g_str_equal, NULL));
    g_assert_true(disk_has_snapshot(disk, "t1"));
    /* Dismissed once concluded. */
    g_autoptr(JsonNode) jobs = qmp_cmd_execute(q.c, "query-jobs", NULL, 5000, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(json_array_get_length(json_node_get_array(jobs)), ==, 0);

    /* A job that fails: QEMU's reason. */
    QmpSnapshotJob bad = {QMP_SNAPSHOT_LOAD, "snap-bad", "nope", "disk0", disks};
    g_assert_false(run_job(q.c, &bad, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_VM);
    g_assert_true(g_str_has_prefix(err->message, "QEMU's snapshot-load failed: Snapshot 'nope'"));
    g_clear_error(&err);

    /* A loaded VM waits to be resumed (vm_snapshot.c does that). */
    QmpSnapshotJob load = {QMP_SNAPSHOT_LOAD, "snap-load", "t1", "disk0", disks};
    g_assert_true(run_job(q.c, &load, &err));
    g_assert_no_error(err);
    bool running = true;
    g_free(tq_status(q.c, &running));
    g_assert_false(running);
    g_assert_true(qmp_cmd_cont(q.c, 5000, &err));
    g_free(tq_status(q.c, &running));
    g_assert_true(running);

    QmpSnapshotJob del = {QMP_SNAPSHOT_DELETE, "snap-delete", "t1", NULL, disks};
    g_assert_true(run_job(q.c, &del, &err));
    g_assert_no_error(err);
    g_assert_false(disk_has_snapshot(disk, "t1"));

    /* A job that never concludes (here: no job of that id): a timeout. */
    g_assert_false(qmp_cmd_job_wait(q.c, "no-such-job", 5000, 200, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_TIMEOUT);
    g_assert_cmpstr(err->message, ==, "QEMU's no-such-job did not finish");
    g_clear_error(&err);
    quit(&q);
}

/* --- the event table --- */

/* Handlers that log "TAG:EVENT" in the GPtrArray @user_data. */
static void log_event(GPtrArray *log, const char *tag, const char *event)
{
    g_ptr_array_add(log, g_strdup_printf("%s:%s", tag, event));
}

static void on_stop(const char *event, JsonObject *data, void *user_data)
{
    log_event(user_data, "stop", event);
}

static void on_job(const char *event, JsonObject *data, void *user_data)
{
    g_assert_nonnull(data); /* its data object */
    log_event(user_data, "job", event);
}

static void on_other(const char *event, JsonObject *data, void *user_data)
{
    log_event(user_data, "other", event);
}

static void test_cmd_event_table(void)
{
    static const QmpEventHandler with_rest[] = {
        {"STOP", on_stop},
        {"JOB_STATUS_CHANGE", on_job},
        {NULL, on_other},
    };
    static const QmpEventHandler named_only[] = {
        {"STOP", on_stop},
        {NULL, NULL},
    };
    static const char events[] = "{\"event\": \"RESUME\"}\n"
                                 "{\"event\": \"STOP\"}\n"
                                 "{\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"id\": \"j\"}}\n"
                                 "{\"event\": \"STOPPED\"}\n";
    g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(QmpClient) c = qmp_client_new_fd(-1);
    g_autoptr(GError) err = NULL;
    /* Each event to the row of its whole name; the others to the last row. */
    qmp_client_set_event_table(c, with_rest, log);
    g_assert_true(qmp_client_feed(c, events, strlen(events), &err));
    g_assert_no_error(err);
    g_assert_cmpuint(log->len, ==, 4);
    g_assert_cmpstr(g_ptr_array_index(log, 0), ==, "other:RESUME");
    g_assert_cmpstr(g_ptr_array_index(log, 1), ==, "stop:STOP");
    g_assert_cmpstr(g_ptr_array_index(log, 2), ==, "job:JOB_STATUS_CHANGE");
    g_assert_cmpstr(g_ptr_array_index(log, 3), ==, "other:STOPPED");
    /* Without a handler in the last row, the others are dropped. */
    g_ptr_array_set_size(log, 0);
    qmp_client_set_event_table(c, named_only, log);
    g_assert_true(qmp_client_feed(c, events, strlen(events), &err));
    g_assert_cmpuint(log->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(log, 0), ==, "stop:STOP");
}

/* --- answers written ahead --- */

/* The bytes the client sent on @fd: @n lines. Caller frees. */
static char *read_lines(int fd, int n)
{
    GString *s = g_string_new(NULL);
    char ch;
    while (n > 0 && read(fd, &ch, 1) == 1) {
        g_string_append_c(s, ch);
        n -= ch == '\n';
    }
    return g_string_free(s, FALSE);
}

/* One answer a request, ids vd-1 (qmp_capabilities), vd-2... in order:
 * the typed calls take apart answers of the wrong shape without trusting
 * them, and send what vmdesk always sent. */
static void test_cmd_answers(void)
{
    static const char answers[] =
        "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}}}}\n"
        "{\"return\": {}, \"id\": \"vd-1\"}\n"
        "{\"return\": {}, \"id\": \"vd-2\"}\n"
        "{\"return\": [], \"id\": \"vd-3\"}\n"
        "{\"return\": {}, \"id\": \"vd-4\"}\n"
        "{\"return\": [5, {\"qdev\": 7}, {\"qdev\": \"/machine/peripheral/xcd0\"}, {\"qdev\": "
        "\"/machine/peripheral/cd0\", \"tray_open\": \"yes\", \"inserted\": {\"file\": 1}}], "
        "\"id\": \"vd-5\"}\n"
        "{\"return\": [{\"qdev\": \"cd0\", \"tray_open\": true, \"inserted\": {\"file\": "
        "\"/i.iso\"}}], \"id\": \"vd-6\"}\n";
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_assert_cmpint(write(sv[1], answers, strlen(answers)), ==, (ssize_t)strlen(answers));
    g_autoptr(QmpClient) c = qmp_client_new_fd(sv[0]);
    g_autoptr(GError) err = NULL;
    g_assert_true(qmp_client_handshake(c, 2000, &err));
    g_assert_true(qmp_cmd_change_medium(c, "cd1", "/a,b.iso", true, 2000, &err));
    g_assert_no_error(err);

    QmpStatus st;
    g_assert_false(qmp_cmd_query_status(c, 2000, &st, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_cmpstr(err->message, ==, "QEMU answered query-status without a status");
    g_clear_error(&err);
    QmpDrive d;
    g_assert_false(qmp_cmd_query_drive(c, "cd0", 2000, &d, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    g_assert_cmpstr(err->message, ==, "QEMU answered query-block without a list");
    g_clear_error(&err);
    /* Members of other types read as absent; a QOM path ends in "/cd0". */
    g_assert_true(qmp_cmd_query_drive(c, "cd0", 2000, &d, &err));
    g_assert_true(d.found);
    g_assert_false(d.tray_open);
    g_assert_null(d.file);
    qmp_cmd_drive_clear(&d);
    g_assert_true(qmp_cmd_query_drive(c, "cd0", 2000, &d, &err));
    g_assert_no_error(err);
    g_assert_true(d.found && d.tray_open);
    g_assert_cmpstr(d.file, ==, "/i.iso");
    qmp_cmd_drive_clear(&d);

    g_autofree char *sent = read_lines(sv[1], 2);
    g_assert_cmpstr(strchr(sent, '\n') + 1, ==,
                    "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":\"cd1\","
                    "\"filename\":\"/a,b.iso\",\"format\":\"raw\",\"read-only-mode\":"
                    "\"read-only\",\"force\":true},\"id\":\"vd-2\"}\n");
    close(sv[1]);
}

void tq_add_cmd_tests(void)
{
    g_test_add_func("/qmp/cmd/drives", test_cmd_drives);
    g_test_add_func("/qmp/cmd/snapshot-jobs", test_cmd_snapshot_jobs);
    g_test_add_func("/qmp/cmd/answers", test_cmd_answers);
    g_test_add_func("/qmp/cmd/event-table", test_cmd_event_table);
}
