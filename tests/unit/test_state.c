/* unit-state: the VM state machine of ARCHITECTURE.md ("VM states") and the
 * published state file (orchestrator/vm/vm_state.c). */
#include "common/error.h"
#include "common/text.h"
#include "test_util.h"
#include "vm/vm_state.h"

#include <string.h>
#include <sys/stat.h>

#define N_STATES (VM_STATE_ERROR + 1)

static void test_names(void)
{
    static const char *const names[N_STATES] = {
        "STOPPED", "STARTING", "RUNNING", "PAUSING", "PAUSED",
        "RESUMING", "STOPPING", "SNAPSHOTTING", "ERROR",
    };
    for (int s = 0; s < N_STATES; s++) {
        g_assert_cmpstr(vm_state_to_string((VmState)s), ==, names[s]);
        VmState back = VM_STATE_ERROR;
        g_assert_true(vm_state_from_string(names[s], &back, NULL));
        g_assert_cmpint(back, ==, s);
    }
    g_assert_cmpstr(vm_state_to_string((VmState)N_STATES), ==, "UNKNOWN");
    g_assert_cmpstr(vm_state_to_string((VmState)-1), ==, "UNKNOWN");
}

static void test_from_string_case(void)
{
    static const struct {
        const char *text;
        VmState state;
    } cases[] = {
        {"running", VM_STATE_RUNNING}, {"Running", VM_STATE_RUNNING},
        {"RUNNING", VM_STATE_RUNNING}, {"PAUSED", VM_STATE_PAUSED},
        {"paused", VM_STATE_PAUSED},   {"sNaPsHoTtInG", VM_STATE_SNAPSHOTTING},
        {"error", VM_STATE_ERROR},     {"stopped", VM_STATE_STOPPED},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        VmState s = VM_STATE_ERROR == cases[i].state ? VM_STATE_STOPPED : VM_STATE_ERROR;
        g_autoptr(GError) err = NULL;
        g_assert_true(vm_state_from_string(cases[i].text, &s, &err));
        g_assert_no_error(err);
        g_assert_cmpint(s, ==, cases[i].state);
    }
}

static void test_from_string_bad(void)
{
    static const char *const bad[] = {"", "run", "RUNNING ", " RUNNING", "PAUSE", "stopped\n",
                                      "UNKNOWN", "2", "RUNNINGX"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        VmState s = VM_STATE_PAUSED;
        g_autoptr(GError) err = NULL;
        if (vm_state_from_string(bad[i], &s, &err))
            g_error("\"%s\" was read as %s", bad[i], vm_state_to_string(s));
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        g_assert_cmpint(s, ==, VM_STATE_PAUSED);
        /* The value shown quoted, a newline escaped. */
        g_autofree char *quoted = vd_text_quote(bad[i], -1);
        g_assert_nonnull(strstr(err->message, quoted));
        g_assert_null(strchr(err->message, '\n'));
        g_assert_nonnull(strstr(err->message, "SNAPSHOTTING"));
    }
    VmState s;
    g_autoptr(GError) err = NULL;
    g_assert_false(vm_state_from_string(NULL, &s, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
}

#define E(a, b) {VM_STATE_##a, VM_STATE_##b}

/* The edges drawn in ARCHITECTURE.md:
 *   STOPPED -> STARTING -> RUNNING <-> PAUSING/PAUSED/RESUMING
 *   RUNNING -> STOPPING -> STOPPED
 *   RUNNING -> SNAPSHOTTING -> RUNNING
 *   any     -> ERROR */
static const VmState drawn[][2] = {
    E(STOPPED, STARTING),   E(STARTING, RUNNING),     E(RUNNING, PAUSING),
    E(PAUSING, PAUSED),     E(PAUSED, RESUMING),      E(RESUMING, RUNNING),
    E(RUNNING, STOPPING),   E(STOPPING, STOPPED),     E(RUNNING, SNAPSHOTTING),
    E(SNAPSHOTTING, RUNNING),
};

/* Edges the page implies and the supervisor takes (orchestrator/vm/supervisor.c):
 * QEMU started with -S or stopped by itself (STOP event without our pause),
 * a guest that powers off by itself (QEMU ends without STOPPING), a guest
 * that ignores the ACPI power button, a shutdown in the middle of a pause or
 * resume, a failed start, a restart after an error, and a snapshot of a
 * paused VM. */
static const VmState implied[][2] = {
    E(STARTING, PAUSED),  E(STARTING, STOPPED),      E(STARTING, STOPPING),
    E(RUNNING, PAUSED),   E(RUNNING, STOPPED),       E(PAUSED, RUNNING),
    E(PAUSING, RUNNING),  E(RESUMING, PAUSED),       E(PAUSED, STOPPING),
    E(PAUSED, STOPPED),   E(PAUSING, STOPPED),       E(RESUMING, STOPPED),
    E(STOPPING, RUNNING), E(ERROR, STARTING),        E(ERROR, STOPPED),
    E(PAUSED, SNAPSHOTTING), E(SNAPSHOTTING, PAUSED), E(PAUSING, STOPPING),
    E(RESUMING, STOPPING),
};

/* Edges that must not exist. */
static const VmState invalid[][2] = {
    E(STOPPED, RUNNING),      E(STOPPED, PAUSED),       E(STOPPED, PAUSING),
    E(STOPPED, RESUMING),     E(STOPPED, STOPPING),     E(STOPPED, SNAPSHOTTING),
    E(STARTING, PAUSING),     E(STARTING, RESUMING),    E(STARTING, SNAPSHOTTING),
    E(RUNNING, STARTING),     E(RUNNING, RESUMING),     E(PAUSED, STARTING),
    E(PAUSED, PAUSING),       E(PAUSING, RESUMING),     E(PAUSING, STARTING),
    E(RESUMING, PAUSING),     E(RESUMING, STARTING),    E(STOPPING, STARTING),
    E(STOPPING, PAUSED),      E(STOPPING, PAUSING),     E(STOPPING, RESUMING),
    E(STOPPING, SNAPSHOTTING), E(SNAPSHOTTING, STOPPED), E(SNAPSHOTTING, STOPPING),
    E(SNAPSHOTTING, STARTING), E(SNAPSHOTTING, PAUSING), E(ERROR, RUNNING),
    E(ERROR, PAUSED),         E(ERROR, STOPPING),       E(ERROR, SNAPSHOTTING),
    E(ERROR, RESUMING),       E(ERROR, PAUSING),        E(SNAPSHOTTING, RESUMING),
    E(PAUSING, SNAPSHOTTING), E(RESUMING, SNAPSHOTTING),
};

static void test_transitions(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(drawn); i++)
        if (!vm_state_transition_valid(drawn[i][0], drawn[i][1]))
            g_error("drawn edge %s -> %s refused", vm_state_to_string(drawn[i][0]),
                    vm_state_to_string(drawn[i][1]));
    for (size_t i = 0; i < G_N_ELEMENTS(implied); i++)
        if (!vm_state_transition_valid(implied[i][0], implied[i][1]))
            g_error("edge %s -> %s refused", vm_state_to_string(implied[i][0]),
                    vm_state_to_string(implied[i][1]));
    for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++)
        if (vm_state_transition_valid(invalid[i][0], invalid[i][1]))
            g_error("edge %s -> %s accepted", vm_state_to_string(invalid[i][0]),
                    vm_state_to_string(invalid[i][1]));

    /* Any state may fail into ERROR and may "move" to itself. */
    for (int s = 0; s < N_STATES; s++) {
        g_assert_true(vm_state_transition_valid((VmState)s, VM_STATE_ERROR));
        g_assert_true(vm_state_transition_valid((VmState)s, (VmState)s));
    }
    /* Out of range: never. */
    g_assert_false(vm_state_transition_valid((VmState)N_STATES, VM_STATE_ERROR));
    g_assert_false(vm_state_transition_valid(VM_STATE_RUNNING, (VmState)N_STATES));
    g_assert_false(vm_state_transition_valid((VmState)-1, VM_STATE_STOPPED));

    /* The three tables cover every ordered pair of distinct states except
     * those into ERROR, so a new edge cannot slip in unnoticed. */
    int counted = 0;
    for (int from = 0; from < N_STATES; from++) {
        for (int to = 0; to < N_STATES; to++) {
            if (from == to || to == VM_STATE_ERROR)
                continue;
            counted++;
            int listed = 0;
            for (size_t i = 0; i < G_N_ELEMENTS(drawn); i++)
                listed += drawn[i][0] == (VmState)from && drawn[i][1] == (VmState)to;
            for (size_t i = 0; i < G_N_ELEMENTS(implied); i++)
                listed += implied[i][0] == (VmState)from && implied[i][1] == (VmState)to;
            for (size_t i = 0; i < G_N_ELEMENTS(invalid); i++)
                listed += invalid[i][0] == (VmState)from && invalid[i][1] == (VmState)to;
            if (listed != 1)
                g_error("edge %s -> %s is listed %d times", vm_state_to_string((VmState)from),
                        vm_state_to_string((VmState)to), listed);
        }
    }
    g_assert_cmpint(counted, ==, N_STATES * (N_STATES - 1) - (N_STATES - 1));
}

static void test_is_active(void)
{
    for (int s = 0; s < N_STATES; s++) {
        bool want = s != VM_STATE_STOPPED && s != VM_STATE_ERROR;
        g_assert_cmpint(vm_state_is_active((VmState)s), ==, want);
    }
}

static void test_status_round_trip(void)
{
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *path = g_build_filename(dir, "state", NULL);
    g_autoptr(VmStatus) st = vm_status_new(VM_STATE_ERROR);
    g_assert_cmpint(st->exit_status, ==, -1);
    g_assert_cmpint(st->since, >, 0);
    st->since = G_GINT64_CONSTANT(1712345678123456);
    st->reason = g_strdup("QEMU was killed by signal 9 (Killed) unexpectedly; see log");
    st->reason_plain = g_strdup("QEMU was killed; see its log");
    st->accel = g_strdup("tcg");
    st->accel_reason = g_strdup("/dev/kvm: permission denied; using TCG = slow\\n");
    st->qemu_version = g_strdup("7.2.22");
    st->supervisor_pid = 4242;
    st->qemu_pid = 4343;
    st->rdp_port = 47101;
    st->exit_status = 9;
    st->log_tail = g_strdupv((char *[]){
        "qemu-system-x86_64: -drive file=a;b: Could not open",
        "key=value = more",
        "back\\slash \\n not a newline",
        "ünïcödé ✓ 日本語",
        " leading and trailing ",
        "#not a comment",
        "[not a group]",
        "",
        NULL});
    g_autoptr(GError) err = NULL;
    g_assert_true(vm_status_save(st, path, &err));
    g_assert_no_error(err);
    struct stat sb;
    g_assert_cmpint(stat(path, &sb), ==, 0);
    g_assert_cmpuint(sb.st_mode & 07777, ==, 0600);

    g_autoptr(VmStatus) back = vm_status_load(path, &err);
    g_assert_no_error(err);
    g_assert_cmpint(back->state, ==, VM_STATE_ERROR);
    g_assert_cmpint(back->since, ==, st->since);
    g_assert_cmpstr(back->reason, ==, st->reason);
    g_assert_cmpstr(back->reason_plain, ==, st->reason_plain);
    g_assert_cmpstr(back->accel, ==, st->accel);
    g_assert_cmpstr(back->accel_reason, ==, st->accel_reason);
    g_assert_cmpstr(back->qemu_version, ==, st->qemu_version);
    g_assert_cmpint(back->supervisor_pid, ==, 4242);
    g_assert_cmpint(back->qemu_pid, ==, 4343);
    g_assert_cmpuint(back->rdp_port, ==, 47101);
    g_assert_cmpint(back->exit_status, ==, 9);
    g_assert_cmpstrv(back->log_tail, st->log_tail);

    /* A minimal status: optional fields stay NULL. */
    g_autoptr(VmStatus) bare = vm_status_new(VM_STATE_RUNNING);
    g_assert_true(vm_status_save(bare, path, &err));
    g_autoptr(VmStatus) bare_back = vm_status_load(path, &err);
    g_assert_no_error(err);
    g_assert_cmpint(bare_back->state, ==, VM_STATE_RUNNING);
    g_assert_null(bare_back->reason);
    g_assert_null(bare_back->reason_plain);
    g_assert_null(bare_back->accel);
    g_assert_null(bare_back->log_tail);
    g_assert_cmpint(bare_back->exit_status, ==, -1);
    tu_rm_rf(dir);
}

static void test_status_load_bad(void)
{
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *path = g_build_filename(dir, "state", NULL);
    g_autoptr(GError) err = NULL;

    g_assert_null(vm_status_load(path, &err));
    g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_clear_error(&err);

    tu_write_file(path, "[state]\nstate=FLYING\n");
    g_assert_null(vm_status_load(path, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, path));
    g_assert_nonnull(strstr(err->message, "FLYING"));
    g_clear_error(&err);

    tu_write_file(path, "[state]\nsince=1\n");
    g_assert_null(vm_status_load(path, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);

    tu_write_file(path, "not a key file");
    g_assert_null(vm_status_load(path, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);

    /* Written by hand, lower case: still read. */
    tu_write_file(path, "[state]\nstate=paused\n");
    g_autoptr(VmStatus) st = vm_status_load(path, &err);
    g_assert_no_error(err);
    g_assert_cmpint(st->state, ==, VM_STATE_PAUSED);
    tu_rm_rf(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/state/names", test_names);
    g_test_add_func("/state/from-string/case", test_from_string_case);
    g_test_add_func("/state/from-string/bad", test_from_string_bad);
    g_test_add_func("/state/transitions", test_transitions);
    g_test_add_func("/state/is-active", test_is_active);
    g_test_add_func("/state/status/round-trip", test_status_round_trip);
    g_test_add_func("/state/status/load-bad", test_status_load_bad);
    return g_test_run();
}
