/* integration-credentials: where `vmdesk credentials` keeps a VM's RDP
 * password, with the real vmdesk binary, real D-Bus buses and a real keyring,
 * no VM needed:
 *
 *   no DBUS_SESSION_BUS_ADDRESS: the 0600 file (folder 0700), and D-Bus is
 *     not touched at all: a fake dbus-launch in PATH (GLib's autolaunch) and
 *     a socket at $XDG_RUNTIME_DIR/bus (GLib's other guess) see nobody;
 *   a private dbus-daemon (our own configuration: no service folders, so it
 *     activates nothing) without a secret service: the file, no warning;
 *   the same with gnome-keyring-daemon (--foreground, secrets only, unlocked
 *     from stdin, HOME and XDG folders in our temporary folder: a real keyring
 *     of this machine is never touched): the password in the keyring (read
 *     back with secret-tool) and not in the file; a change of user replaces
 *     the item; a deleted item gives the clear error; forget removes both and
 *     leaves another VM's item alone;
 *   a bus on which this test owns org.freedesktop.secrets and never answers
 *     (a keyring stuck at its unlock prompt): vmdesk gives up after the
 *     time-out and keeps the password in the file with a warning; a password
 *     the file says is in that service gives a time-out error, and forget
 *     keeps the file.
 *
 * Each save writes the password through a FIFO given as --password-file:
 * vmdesk's argv (/proc/PID/cmdline, comm and `ps`) is checked before the
 * password exists and again and again while vmdesk holds it. Loading runs in
 * a fresh process (this binary with --load VM) so each one gets the bus its
 * environment names. Every process started dies with the test
 * (PR_SET_PDEATHSIG). */
#include "common/error.h"
#include "secrets/credentials.h"
#include "secrets/keyring.h"
#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Quotes, spaces, '=', a backslash, '$', '#' and UTF-8: the key file and the
 * keyring keep them as they are. */
#define PW_A "correct horse \"battery\"=staple \\ $HOME #1 \xc3\xa9t\xc3\xa9"
#define PW_B "other VM's secret"
#define PW_C "carol's new password"

static char *root;
static char *self_exe;
static char **base_env;   /* what every child gets, less the bus */

typedef struct {
    int status;
    char *out, *err;
    double secs;
} Run;

static void run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
    memset(r, 0, sizeof(*r));
}

static char **child_env(const char *bus)
{
    char **env = g_strdupv(base_env);
    if (bus)
        return g_environ_setenv(env, "DBUS_SESSION_BUS_ADDRESS", bus, TRUE);
    return g_environ_unsetenv(env, "DBUS_SESSION_BUS_ADDRESS");
}

static void finish(Run *r, GSubprocess *p, gint64 start, bool quiet)
{
    g_autoptr(GError) err = NULL;
    g_subprocess_communicate_utf8(p, NULL, NULL, &r->out, &r->err, &err);
    g_assert_no_error(err);
    g_subprocess_wait(p, NULL, NULL);
    r->status = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
    r->secs = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    if (!quiet)
        g_test_message("[%.1f s, status %d] %s%s", r->secs, r->status, r->out, r->err);
}

/* Run @argv (vmdesk, secret-tool, this binary) with @bus (NULL: none); log
 * its output unless @quiet. */
static void run_full(Run *r, const char *bus, const char *const *argv, bool quiet)
{
    memset(r, 0, sizeof(*r));
    g_autoptr(GSubprocessLauncher) l =
        tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_auto(GStrv) env = child_env(bus);
    g_subprocess_launcher_set_environ(l, env);
    g_autoptr(GError) err = NULL;
    gint64 start = g_get_monotonic_time();
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, argv, &err);
    g_assert_no_error(err);
    finish(r, p, start, quiet);
}

static void run(Run *r, const char *bus, const char *const *argv)
{
    run_full(r, bus, argv, false);
}

#define VMDESK(r, bus, ...) \
    run(r, bus, (const char *const[]){g_getenv("VMDESK_BIN"), __VA_ARGS__, NULL})

static void vmdesk_ok(const char *bus, const char *const *args)
{
    Run r;
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)g_getenv("VMDESK_BIN"));
    for (; *args; args++)
        g_ptr_array_add(argv, (char *)*args);
    g_ptr_array_add(argv, NULL);
    run(&r, bus, (const char *const *)argv->pdata);
    g_assert_cmpint(r.status, ==, 0);
    run_clear(&r);
}

/* --- the password never in a process's argv --- */

/* Neither @pid's argv nor its name nor any line of `ps` holds @password.
 * False when @pid is gone (nothing to check then). */
static bool check_argv(const char *pid, const char *password)
{
    g_autofree char *cmdline_path = g_strdup_printf("/proc/%s/cmdline", pid);
    g_autofree char *comm_path = g_strdup_printf("/proc/%s/comm", pid);
    g_autofree char *cmdline = NULL, *comm = NULL;
    gsize len = 0;
    if (!g_file_get_contents(cmdline_path, &cmdline, &len, NULL) || len == 0 ||
        !g_file_get_contents(comm_path, &comm, NULL, NULL))
        return false;
    g_assert_null(memmem(cmdline, len, password, strlen(password)));
    g_assert_nonnull(memmem(cmdline, len, "--password-file", strlen("--password-file")));
    g_assert_null(strstr(comm, password));

    const char *ps[] = {"ps", "-eww", "-o", "pid=,args=", NULL};
    Run r;
    run_full(&r, NULL, ps, true);   /* the whole machine's: not for the log */
    g_assert_cmpint(r.status, ==, 0);
    g_assert_null(strstr(r.out, password));
    run_clear(&r);
    return true;
}

/* `vmdesk credentials @vm --user @user --password-file FIFO`: the argv is
 * checked before the password is written into the FIFO, then while vmdesk
 * runs with it (for seconds when the secret service hangs). */
static void save(Run *r, const char *bus, const char *vm, const char *user,
                 const char *password)
{
    memset(r, 0, sizeof(*r));
    g_autofree char *fifo = g_strdup_printf("%s/password-%s", root, vm);
    g_remove(fifo);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_autoptr(GSubprocessLauncher) l =
        tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_auto(GStrv) env = child_env(bus);
    g_subprocess_launcher_set_environ(l, env);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocess) p =
        g_subprocess_launcher_spawn(l, &err, g_getenv("VMDESK_BIN"), "credentials", vm, "--user",
                                    user, "--password-file", fifo, NULL);
    g_assert_no_error(err);
    g_autofree char *pid = g_strdup(g_subprocess_get_identifier(p));
    g_assert_true(check_argv(pid, password));

    /* Opening the FIFO without a reader fails (ENXIO) until vmdesk opens it. */
    int fd = -1;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while ((fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 && errno == ENXIO &&
           g_get_monotonic_time() < deadline)
        g_usleep(10 * 1000);
    g_assert_cmpint(fd, >=, 0);
    g_autofree char *line = g_strdup_printf("%s\n", password);
    g_assert_cmpint(write(fd, line, strlen(line)), ==, (gssize)strlen(line));
    close(fd);
    gint64 start = g_get_monotonic_time();

    int checks = 0;
    while (g_subprocess_get_identifier(p) && check_argv(pid, password)) {
        checks++;
        g_main_context_iteration(NULL, FALSE);
        g_usleep(100 * 1000);
    }
    finish(r, p, start, false);
    g_test_message("argv of vmdesk checked %d times while it held the password", checks);
    g_remove(fifo);
}

/* --- what is stored --- */

static char *vm_dir(const char *vm)
{
    return g_build_filename(root, "data", "vmdesk", "vms", vm, NULL);
}

static char *file_path(const char *vm)
{
    g_autofree char *dir = vm_dir(vm);
    return g_build_filename(dir, "credentials", NULL);
}

/* The credentials file: mode 0600 in a 0700 folder; its text. */
static char *file_text(const char *vm)
{
    g_autofree char *dir = vm_dir(vm);
    g_autofree char *path = file_path(vm);
    GStatBuf st;
    g_assert_cmpint(g_stat(dir, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0700);
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* The file's key "@key" in group "rdp", or NULL. */
static char *file_key(const char *text, const char *key)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, NULL));
    return g_key_file_get_string(kf, "rdp", key, NULL);
}

/* @password as a key file writes it (a backslash is doubled). */
static char *keyfile_form(const char *password)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, "rdp", "password", password);
    g_autofree char *text = g_key_file_to_data(kf, NULL, NULL);
    char *line = strstr(text, "password=");
    g_assert_nonnull(line);
    return g_strndup(line + 9, strcspn(line + 9, "\n"));
}

static void assert_in_file(const char *vm, const char *user, const char *password)
{
    g_autofree char *text = file_text(vm);
    g_autofree char *u = file_key(text, "user");
    g_autofree char *pw = file_key(text, "password");
    g_autofree char *in = file_key(text, "password-in");
    g_assert_cmpstr(u, ==, user);
    g_assert_cmpstr(pw, ==, password);
    g_assert_null(in);
}

static void assert_in_keyring_only(const char *vm, const char *user, const char *password)
{
    g_autofree char *text = file_text(vm);
    g_autofree char *u = file_key(text, "user");
    g_autofree char *pw = file_key(text, "password");
    g_autofree char *in = file_key(text, "password-in");
    g_assert_cmpstr(u, ==, user);
    g_assert_null(pw);
    g_assert_cmpstr(in, ==, "secret-service");
    /* Not anywhere in the file, in any form. */
    g_autofree char *written = keyfile_form(password);
    g_assert_null(strstr(text, password));
    g_assert_null(strstr(text, written));
}

/* What `vmdesk credentials @vm --show` says. */
static void assert_show(const char *bus, const char *vm, const char *user, const char *in)
{
    Run r;
    VMDESK(&r, bus, "credentials", vm, "--show");
    g_assert_cmpint(r.status, ==, 0);
    g_autofree char *want = g_strdup_printf("user: %s\npassword: set\nstored in: %s\n", user, in);
    g_assert_cmpstr(r.out, ==, want);
    run_clear(&r);
}

/* credentials_load in a fresh process with @bus: its answer as a table
 * (user, password, in; or error, message). */
static GHashTable *load(const char *bus, const char *vm)
{
    Run r;
    run(&r, bus, (const char *const[]){self_exe, "--load", vm, NULL});
    g_assert_cmpint(r.status, ==, 0);
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) lines = g_strsplit(r.out, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *eq = strchr(*l, '=');
        if (eq)
            g_hash_table_insert(t, g_strndup(*l, (gsize)(eq - *l)), g_strdup(eq + 1));
    }
    run_clear(&r);
    return t;
}

static void assert_load(const char *bus, const char *vm, const char *user,
                        const char *password, const char *in)
{
    g_autoptr(GHashTable) t = load(bus, vm);
    g_assert_cmpstr(g_hash_table_lookup(t, "message"), ==, NULL);
    g_assert_cmpstr(g_hash_table_lookup(t, "user"), ==, user);
    g_assert_cmpstr(g_hash_table_lookup(t, "password"), ==, password);
    g_assert_cmpstr(g_hash_table_lookup(t, "in"), ==, in);
}

static int load_main(const char *vm)
{
    Credentials c;
    g_autoptr(GError) err = NULL;
    if (!credentials_load(vm, &c, &err)) {
        printf("error=%d\nmessage=%s\n", err->code, err->message);
        return 0;
    }
    printf("user=%s\npassword=%s\nin=%s\n", c.user ? c.user : "", c.password ? c.password : "",
           c.password_in == CREDENTIALS_IN_SECRET_SERVICE ? "secret-service" : "file");
    credentials_clear(&c);
    return 0;
}

static void create_vm(const char *vm)
{
    vmdesk_ok(NULL, (const char *const[]){"create", vm, "--os", "linux", "--disk", "0",
                                          "--firmware", "bios", NULL});
}

/* --- buses and keyrings --- */

typedef struct {
    GSubprocess *daemon;
    char *address;
    GDBusConnection *conn;   /* ours, private: never GLib's shared one */
} Bus;

/* A dbus-daemon of our own: listens in our folder, activates nothing. */
static void bus_start(Bus *b, const char *name)
{
    g_autofree char *conf = g_strdup_printf("%s/%s.conf", root, name);
    g_autofree char *text = g_strdup_printf(
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
        " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
        "<busconfig>\n"
        "  <type>session</type>\n"
        "  <listen>unix:path=%s/%s.socket</listen>\n"
        "  <auth>EXTERNAL</auth>\n"
        "  <policy context=\"default\">\n"
        "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
        "    <allow eavesdrop=\"true\"/>\n"
        "    <allow own=\"*\"/>\n"
        "  </policy>\n"
        "</busconfig>\n",
        root, name);
    tu_write_file(conf, text);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_autoptr(GError) err = NULL;
    g_autofree char *conf_arg = g_strdup_printf("--config-file=%s", conf);
    b->daemon = g_subprocess_launcher_spawn(l, &err, "dbus-daemon", conf_arg, "--nofork",
                                            "--print-address=1", NULL);
    g_assert_no_error(err);
    g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(b->daemon));
    b->address = g_data_input_stream_read_line(in, NULL, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(b->address);
    b->conn = g_dbus_connection_new_for_address_sync(
        b->address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &err);
    g_assert_no_error(err);
    g_dbus_connection_set_exit_on_close(b->conn, FALSE);
}

static void bus_stop(Bus *b)
{
    g_clear_object(&b->conn);
    g_subprocess_force_exit(b->daemon);
    tu_subprocess_wait(b->daemon, 5000);
    g_clear_object(&b->daemon);
    g_clear_pointer(&b->address, g_free);
}

static bool bus_call_bool(Bus *b, const char *method, const char *name)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) v = g_dbus_connection_call_sync(
        b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", method,
        g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL,
        &err);
    g_assert_no_error(err);
    gboolean yes = FALSE;
    g_variant_get(v, "(b)", &yes);
    return yes;
}

static bool name_activatable(Bus *b, const char *name)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) v = g_dbus_connection_call_sync(
        b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "ListActivatableNames", NULL, G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NONE, 5000,
        NULL, &err);
    g_assert_no_error(err);
    g_autofree const char **names = NULL;
    g_variant_get(v, "(^a&s)", &names);
    return g_strv_contains(names, name);
}

/* gnome-keyring-daemon on @b, its keyring in our folder, unlocked. */
static GSubprocess *keyring_start(Bus *b)
{
    g_autofree char *home = g_build_filename(root, "keyring-home", NULL);
    g_autofree char *data = g_build_filename(root, "keyring-data", NULL);
    g_autofree char *config = g_build_filename(root, "keyring-config", NULL);
    g_autofree char *run_dir = g_build_filename(root, "keyring-run", NULL);
    for (const char *const *d = (const char *const[]){home, data, config, run_dir, NULL}; *d;
         d++)
        g_assert_cmpint(g_mkdir(*d, 0700), ==, 0);
    g_autoptr(GSubprocessLauncher) l = tu_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE);
    g_auto(GStrv) env = child_env(b->address);
    env = g_environ_setenv(env, "HOME", home, TRUE);
    env = g_environ_setenv(env, "XDG_DATA_HOME", data, TRUE);
    env = g_environ_setenv(env, "XDG_CONFIG_HOME", config, TRUE);
    env = g_environ_setenv(env, "XDG_RUNTIME_DIR", run_dir, TRUE);
    g_subprocess_launcher_set_environ(l, env);
    g_autoptr(GError) err = NULL;
    GSubprocess *p = g_subprocess_launcher_spawn(l, &err, "gnome-keyring-daemon", "--foreground",
                                                 "--components=secrets", "--unlock", NULL);
    g_assert_no_error(err);
    /* The login keyring's password, on stdin (created with it). */
    GOutputStream *in = g_subprocess_get_stdin_pipe(p);
    g_assert_true(g_output_stream_write_all(in, "keyring password", 16, NULL, NULL, &err));
    g_assert_true(g_output_stream_close(in, NULL, &err));
    gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (!bus_call_bool(b, "NameHasOwner", KEYRING_SERVICE_NAME)) {
        g_assert_nonnull(g_subprocess_get_identifier(p));
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(50 * 1000);
    }
    return p;
}

/* secret-tool lookup ATTR VALUE...: the password, or NULL when none. */
static char *secret_tool_lookup(Bus *b, const char *vm, const char *user, const char *folder)
{
    Run r;
    if (folder)
        run(&r, b->address,
            (const char *const[]){"secret-tool", "lookup", "vm", vm, "user", user, "folder",
                                  folder, NULL});
    else if (user)
        run(&r, b->address,
            (const char *const[]){"secret-tool", "lookup", "vm", vm, "user", user, NULL});
    else
        run(&r, b->address, (const char *const[]){"secret-tool", "lookup", "vm", vm, NULL});
    char *pw = r.status == 0 ? g_steal_pointer(&r.out) : NULL;
    run_clear(&r);
    return pw;
}

/* --- the tests --- */

static void test_no_bus(void)
{
    /* A socket where GLib would look for a bus without the variable, and a
     * dbus-launch that would notice an autolaunch. */
    g_autofree char *bus_path = g_build_filename(root, "run", "bus", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSocket) guess =
        g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &err);
    g_assert_no_error(err);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(bus_path);
    g_assert_true(g_socket_bind(guess, addr, TRUE, &err));
    g_assert_true(g_socket_listen(guess, &err));
    g_autofree char *autolaunched = g_build_filename(root, "autolaunched", NULL);

    create_vm("nobus");
    Run r;
    save(&r, NULL, "nobus", "alice", PW_A);
    g_assert_cmpint(r.status, ==, 0);
    g_autofree char *path = file_path("nobus");
    g_autofree char *said =
        g_strdup_printf("Stored the credentials of nobus for user alice in %s (mode 0600).\n", path);
    g_assert_cmpstr(r.out, ==, said);
    g_assert_cmpstr(r.err, ==, "");
    run_clear(&r);
    assert_in_file("nobus", "alice", PW_A);
    assert_show(NULL, "nobus", "alice", path);
    assert_load(NULL, "nobus", "alice", PW_A, "file");

    VMDESK(&r, NULL, "credentials", "nobus", "--forget");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.out, ==, "Forgot the credentials of nobus.\n");
    run_clear(&r);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

    g_assert_false(g_file_test(autolaunched, G_FILE_TEST_EXISTS));
    g_assert_false(g_socket_condition_check(guess, G_IO_IN) & G_IO_IN);
    g_remove(bus_path);
}

static void test_bus_without_secret_service(void)
{
    Bus b = {0};
    bus_start(&b, "plain-bus");
    g_assert_false(bus_call_bool(&b, "NameHasOwner", KEYRING_SERVICE_NAME));
    g_assert_false(name_activatable(&b, KEYRING_SERVICE_NAME));

    create_vm("plainbus");
    Run r;
    save(&r, b.address, "plainbus", "alice", PW_A);
    g_assert_cmpint(r.status, ==, 0);
    g_autofree char *path = file_path("plainbus");
    g_assert_nonnull(strstr(r.out, path));
    g_assert_cmpstr(r.err, ==, "");   /* nothing to warn about */
    run_clear(&r);
    assert_in_file("plainbus", "alice", PW_A);
    assert_show(b.address, "plainbus", "alice", path);
    assert_load(b.address, "plainbus", "alice", PW_A, "file");
    VMDESK(&r, b.address, "credentials", "plainbus", "--forget");
    g_assert_cmpint(r.status, ==, 0);
    run_clear(&r);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    bus_stop(&b);
}

static void test_keyring(void)
{
    Bus b = {0};
    bus_start(&b, "keyring-bus");
    g_autoptr(GSubprocess) keyring = keyring_start(&b);
    const char *in_ss = "the secret service (org.freedesktop.secrets)";

    create_vm("kr");
    create_vm("kr-other");
    Run r;
    save(&r, b.address, "kr", "alice", PW_A);
    g_assert_cmpint(r.status, ==, 0);
    g_autofree char *path = file_path("kr");
    g_autofree char *said = g_strdup_printf(
        "Stored the credentials of kr for user alice: the password in %s, the user in %s "
        "(mode 0600).\n",
        in_ss, path);
    g_assert_cmpstr(r.out, ==, said);
    g_assert_cmpstr(r.err, ==, "");
    run_clear(&r);
    assert_in_keyring_only("kr", "alice", PW_A);
    /* In the keyring, under the VM, its user and its folder. */
    g_autofree char *folder = vm_dir("kr");
    g_autofree char *got = secret_tool_lookup(&b, "kr", "alice", folder);
    g_assert_cmpstr(got, ==, PW_A);
    assert_show(b.address, "kr", "alice", in_ss);
    assert_load(b.address, "kr", "alice", PW_A, "secret-service");
    /* The keyring is not needed without the bus: the error says so. */
    g_autoptr(GHashTable) nobus = load(NULL, "kr");
    g_assert_nonnull(strstr(g_hash_table_lookup(nobus, "message"), "DBUS_SESSION_BUS_ADDRESS"));
    g_autofree char *autolaunched = g_build_filename(root, "autolaunched", NULL);
    g_assert_false(g_file_test(autolaunched, G_FILE_TEST_EXISTS));

    save(&r, b.address, "kr-other", "bob", PW_B);
    g_assert_cmpint(r.status, ==, 0);
    run_clear(&r);

    /* A new user replaces the VM's item. */
    save(&r, b.address, "kr", "carol", PW_C);
    g_assert_cmpint(r.status, ==, 0);
    run_clear(&r);
    g_clear_pointer(&got, g_free);
    g_assert_null((got = secret_tool_lookup(&b, "kr", "alice", NULL)));
    g_assert_cmpstr((got = secret_tool_lookup(&b, "kr", "carol", NULL)), ==, PW_C);
    assert_in_keyring_only("kr", "carol", PW_C);
    assert_load(b.address, "kr", "carol", PW_C, "secret-service");

    /* Deleted behind vmdesk's back: the clear error, from load and --show. */
    const char *clear[] = {"secret-tool", "clear", "vm", "kr", NULL};
    run(&r, b.address, clear);
    g_assert_cmpint(r.status, ==, 0);
    run_clear(&r);
    const char *lost = "the password of VM kr is not in the secret service any more; set it "
                       "again with vmdesk credentials kr";
    g_autoptr(GHashTable) t = load(b.address, "kr");
    g_assert_cmpstr(g_hash_table_lookup(t, "message"), ==, lost);
    g_autofree char *code = g_strdup_printf("%d", VD_ERROR_NOT_FOUND);
    g_assert_cmpstr(g_hash_table_lookup(t, "error"), ==, code);
    VMDESK(&r, b.address, "credentials", "kr", "--show");
    g_assert_cmpint(r.status, ==, 3);
    g_assert_nonnull(strstr(r.err, lost));
    run_clear(&r);

    /* Forget: from both, and only this VM's. */
    save(&r, b.address, "kr", "dave", PW_A);
    g_assert_cmpint(r.status, ==, 0);
    run_clear(&r);
    g_clear_pointer(&got, g_free);
    g_assert_cmpstr((got = secret_tool_lookup(&b, "kr", "dave", NULL)), ==, PW_A);
    VMDESK(&r, b.address, "credentials", "kr", "--forget");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.out, ==, "Forgot the credentials of kr.\n");
    run_clear(&r);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_clear_pointer(&got, g_free);
    g_assert_null((got = secret_tool_lookup(&b, "kr", NULL, NULL)));
    g_assert_cmpstr((got = secret_tool_lookup(&b, "kr-other", "bob", NULL)), ==, PW_B);
    g_clear_pointer(&got, g_free);
    assert_load(b.address, "kr-other", "bob", PW_B, "secret-service");
    VMDESK(&r, b.address, "credentials", "kr", "--show");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.out, ==, "kr has no stored credentials; set them with vmdesk credentials kr\n");
    run_clear(&r);

    g_subprocess_force_exit(keyring);
    tu_subprocess_wait(keyring, 5000);
    bus_stop(&b);
}

/* Drop every method call to us: a service that never answers. */
static GDBusMessage *drop_calls(GDBusConnection *c, GDBusMessage *m, gboolean incoming,
                                gpointer data)
{
    if (incoming && g_dbus_message_get_message_type(m) == G_DBUS_MESSAGE_TYPE_METHOD_CALL) {
        g_atomic_int_inc((gint *)data);
        g_object_unref(m);
        return NULL;
    }
    return m;
}

static void test_hung_secret_service(void)
{
    Bus b = {0};
    bus_start(&b, "hung-bus");
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) v = g_dbus_connection_call_sync(
        b.conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "RequestName", g_variant_new("(su)", KEYRING_SERVICE_NAME, 4u), G_VARIANT_TYPE("(u)"),
        G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &err);
    g_assert_no_error(err);
    guint reply = 0;
    g_variant_get(v, "(u)", &reply);
    g_assert_cmpuint(reply, ==, 1);   /* the primary owner */
    gint dropped = 0;
    guint filter = g_dbus_connection_add_filter(b.conn, drop_calls, &dropped, NULL);

    create_vm("hung");
    Run r;
    save(&r, b.address, "hung", "alice", PW_A);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpint(g_atomic_int_get(&dropped), >, 0);
    /* Waited for the time-out, not for ever (D-Bus' own is 25 s). */
    g_assert_cmpfloat(r.secs, >=, KEYRING_TIMEOUT_MS / 1000.0 - 0.5);
    g_assert_cmpfloat(r.secs, <, KEYRING_TIMEOUT_MS / 1000.0 + 4);
    g_assert_nonnull(strstr(r.err, "vmdesk: warning: the secret service (org.freedesktop.secrets) "
                                   "did not answer within 5 s"));
    g_autofree char *path = file_path("hung");
    g_assert_nonnull(strstr(r.err, path));
    g_autofree char *said =
        g_strdup_printf("Stored the credentials of hung for user alice in %s (mode 0600).\n", path);
    g_assert_cmpstr(r.out, ==, said);
    run_clear(&r);
    /* Never lost: in the file, which load reads without asking the service. */
    assert_in_file("hung", "alice", PW_A);
    gint before = g_atomic_int_get(&dropped);
    assert_load(b.address, "hung", "alice", PW_A, "file");
    g_assert_cmpint(g_atomic_int_get(&dropped), ==, before);

    /* A password the file says is in that service: a time-out, exit 5. */
    tu_write_file(path, "[rdp]\nuser=alice\npassword-in=secret-service\n");
    VMDESK(&r, b.address, "credentials", "hung", "--show");
    g_assert_cmpint(r.status, ==, 5);
    g_assert_nonnull(strstr(r.err, "did not answer within 5 s"));
    g_assert_cmpfloat(r.secs, <, KEYRING_TIMEOUT_MS / 1000.0 + 4);
    run_clear(&r);
    /* Forget cannot remove it from there: it says so and keeps the file. */
    VMDESK(&r, b.address, "credentials", "hung", "--forget");
    g_assert_cmpint(r.status, ==, 5);
    g_assert_nonnull(strstr(r.err, "cannot remove the password of VM hung"));
    run_clear(&r);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));

    g_dbus_connection_remove_filter(b.conn, filter);
    bus_stop(&b);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--load") == 0)
        return load_main(argv[2]);
    g_test_init(&argc, &argv, NULL);
    g_assert_nonnull(g_getenv("VMDESK_BIN"));
    for (const char *const *p = (const char *const[]){"dbus-daemon", "gnome-keyring-daemon",
                                                      "secret-tool", "ps", NULL};
         *p; p++)
        if (!tu_have_program(*p))
            g_error("%s is not installed (run tools/install-deps)", *p);
    self_exe = g_file_read_link("/proc/self/exe", NULL);
    root = tu_tmpdir();
    const char *dirs[] = {"data", "run", "home", "config", "cache", "bin", NULL};
    for (const char *const *d = dirs; *d; d++) {
        g_autofree char *p = g_build_filename(root, *d, NULL);
        g_assert_cmpint(g_mkdir(p, 0700), ==, 0);
    }
    /* dbus-launch is what GLib runs to autolaunch a bus. */
    g_autofree char *fake = g_build_filename(root, "bin", "dbus-launch", NULL);
    g_autofree char *script = g_strdup_printf("#!/bin/sh\ntouch '%s/autolaunched'\nexit 1\n", root);
    tu_write_file(fake, script);
    g_assert_cmpint(g_chmod(fake, 0755), ==, 0);

    base_env = g_get_environ();
    struct {
        const char *name, *dir;
    } xdg[] = {{"XDG_DATA_HOME", "data"}, {"XDG_RUNTIME_DIR", "run"}, {"HOME", "home"},
               {"XDG_CONFIG_HOME", "config"}, {"XDG_CACHE_HOME", "cache"}};
    for (size_t i = 0; i < G_N_ELEMENTS(xdg); i++) {
        g_autofree char *p = g_build_filename(root, xdg[i].dir, NULL);
        base_env = g_environ_setenv(base_env, xdg[i].name, p, TRUE);
    }
    g_autofree char *path = g_strdup_printf("%s/bin:%s", root, g_getenv("PATH"));
    base_env = g_environ_setenv(base_env, "PATH", path, TRUE);
    /* A display makes GLib try dbus-launch when it looks for a bus. */
    base_env = g_environ_setenv(base_env, "DISPLAY", ":79", TRUE);
    base_env = g_environ_unsetenv(base_env, "SECRET_SERVICE_BUS_NAME");
    base_env = g_environ_unsetenv(base_env, "VMDESK_DEBUG");

    g_test_add_func("/credentials/no-bus", test_no_bus);
    g_test_add_func("/credentials/bus-without-secret-service", test_bus_without_secret_service);
    g_test_add_func("/credentials/keyring", test_keyring);
    g_test_add_func("/credentials/hung-secret-service", test_hung_secret_service);
    int status = g_test_run();
    g_strfreev(base_env);
    tu_rm_rf(root);
    return status;
}
