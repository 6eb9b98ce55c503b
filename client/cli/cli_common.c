#include "cli/cli.h"

#include "common/error.h"
#include "common/json_build.h"
#include "common/size.h"
#include "vm/vm_control.h"
#include "vm/vm_lease.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* The pipe for the error's words (common/error.h), or -1. */
static int words_fd = -1;

void cli_words_init(void)
{
    const char *value = g_getenv(VD_ERROR_WORDS_ENV);
    if (!value)
        return;
    guint64 fd = 0;
    /* A descriptor number past stdin, stdout and stderr, open, and a pipe;
     * anything else (an old "1", a file, a terminal) means no words. */
    bool number = g_ascii_string_to_unsigned(value, 10, 3, INT_MAX, &fd, NULL);
    /* Nothing vmdesk starts (a session helper, QEMU, the supervisor) takes
     * it for its own. */
    g_unsetenv(VD_ERROR_WORDS_ENV);
    if (!number)
        return;
    int flags = fcntl((int)fd, F_GETFD);
    struct stat st;
    if (flags < 0 || fstat((int)fd, &st) < 0 || !S_ISFIFO(st.st_mode))
        return;
    /* Nor does it inherit the pipe: only this process writes to it. */
    if (fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        return;
    words_fd = (int)fd;
}

/* Write @lines to the words pipe, whole or as far as it takes them. */
static void write_words(const char *lines)
{
    /* A reader that went away ends no command. */
    signal(SIGPIPE, SIG_IGN);
    size_t len = strlen(lines), off = 0;
    while (off < len) {
        ssize_t n = write(words_fd, lines + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
}

int cli_fail(GError *error)
{
    int status = vd_error_exit_status(error);
    g_autofree char *lines = vd_error_lines(error, FALSE);
    fputs(lines, stderr);
    if (words_fd >= 0) {
        g_autofree char *words = vd_error_lines(error, TRUE);
        write_words(words);
    }
    g_error_free(error);
    return status ? status : 1;
}

bool cli_parse(const char *cmd, const char *params, const char *summary, GOptionEntry *entries,
               int *argc, char ***argv, int *status)
{
    g_autofree char *prg = g_strdup_printf("vmdesk %s", cmd);
    g_set_prgname(prg);
    g_autoptr(GOptionContext) ctx = g_option_context_new(params);
    g_option_context_set_summary(ctx, summary);
    if (entries)
        g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_strict_posix(ctx, FALSE);
    GError *err = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "vmdesk %s: %s (see vmdesk %s --help)\n", cmd, err->message, cmd);
        g_error_free(err);
        *status = 2;
        return false;
    }
    return true;
}

bool cli_parse_json_flag(const char *cmd, const char *params, const char *summary, int nargs,
                         int *argc, char ***argv, gboolean *json, int *status)
{
    GOptionEntry entries[] = {{"json", 0, 0, G_OPTION_ARG_NONE, json, "JSON output", NULL},
                              G_OPTION_ENTRY_NULL};
    return cli_parse(cmd, params, summary, entries, argc, argv, status) &&
           cli_expect_args(cmd, *argc, nargs, nargs, status);
}

bool cli_expect_args(const char *cmd, int argc, int min, int max, int *status)
{
    int n = argc - 1;
    if (n >= min && n <= max)
        return true;
    fprintf(stderr, "vmdesk %s: %s (see vmdesk %s --help)\n", cmd,
            n < min ? "missing arguments" : "too many arguments", cmd);
    *status = 2;
    return false;
}

void cli_print_json(JsonNode *node)
{
    g_autofree char *s = vd_json_node_to_string(node, TRUE);
    printf("%s\n", s);
}

static void add_endpoint(JsonBuilder *b, const char *member, const char *key, const char *path)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, key);
    json_builder_add_string_value(b, path);
    json_builder_end_object(b);
}

/* The config's shares, USB devices and idle-suspend (docs/cli.md). */
static void add_devices(JsonBuilder *b, const VmConfig *cfg)
{
    json_builder_set_member_name(b, "shares");
    json_builder_begin_array(b);
    g_autoptr(GPtrArray) exports = vm_config_share_exports(cfg);
    for (guint i = 0; i < exports->len; i++) {
        const VmShareExport *e = g_ptr_array_index(exports, i);
        const VmShare sh = e->share;
        char letter[2] = {sh.letter, 0};
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, sh.path);
        json_builder_set_member_name(b, "read-only");
        json_builder_add_boolean_value(b, sh.read_only);
        vd_json_add_string_or_null(b, "rdp-drive", sh.read_only ? NULL : letter);
        vd_json_add_string_or_null(b, "9p-tag", e->tag);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "usb");
    json_builder_begin_array(b);
    for (char **u = cfg->usb; u && *u; u++)
        json_builder_add_string_value(b, *u);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "idle-suspend-seconds");
    json_builder_add_int_value(b, cfg->idle_suspend);
}

JsonNode *cli_vm_json(const VmConfig *cfg, const VmStatus *st, bool full)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    bool active = vm_state_is_active(st->state);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, cfg->name);
    json_builder_set_member_name(b, "arch");
    json_builder_add_string_value(b, vm_arch_to_string(cfg->arch));
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, vm_state_to_string(st->state));
    json_builder_set_member_name(b, "idle");
    json_builder_add_boolean_value(b, st->state == VM_STATE_PAUSED && st->idle);
    vd_json_add_string_or_null(b, "reason", st->reason);
    vd_json_add_string_or_null(b, "accelerator", active ? st->accel : NULL);
    vd_json_add_string_or_null(b, "accelerator-reason", active ? st->accel_reason : NULL);
    unsigned port = active && st->rdp_port ? st->rdp_port : cfg->rdp_port;
    json_builder_set_member_name(b, "rdp");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "host");
    json_builder_add_string_value(b, "127.0.0.1");
    json_builder_set_member_name(b, "port");
    json_builder_add_int_value(b, port);
    json_builder_end_object(b);
    g_autofree char *vnc = vm_runtime_path(cfg->name, "vnc.sock");
    add_endpoint(b, "vnc", "socket", vnc);
    if (full) {
        g_autofree char *qmp = vm_runtime_path(cfg->name, "qmp.sock");
        g_autofree char *qga = vm_runtime_path(cfg->name, "qga.sock");
        g_autofree char *serial = vm_runtime_path(cfg->name, "serial.sock");
        add_endpoint(b, "qmp", "socket", qmp);
        add_endpoint(b, "guest-agent", "socket", qga);
        add_endpoint(b, "serial", "socket", serial);
        json_builder_set_member_name(b, "forwards");
        json_builder_begin_array(b);
        for (char **f = cfg->forwards; f && *f; f++) {
            g_auto(GStrv) hp = g_strsplit(*f, ":", 2);
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "host");
            json_builder_add_string_value(b, "127.0.0.1");
            json_builder_set_member_name(b, "port");
            json_builder_add_int_value(b, atoi(hp[0]));
            json_builder_set_member_name(b, "guest-port");
            json_builder_add_int_value(b, hp[1] ? atoi(hp[1]) : 0);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);

        json_builder_set_member_name(b, "config");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "os");
        json_builder_add_string_value(b, vm_os_to_string(cfg->os));
        json_builder_set_member_name(b, "memory-bytes");
        json_builder_add_int_value(b, (gint64)cfg->memory);
        json_builder_set_member_name(b, "cpus");
        json_builder_add_int_value(b, cfg->cpus);
        json_builder_set_member_name(b, "firmware");
        json_builder_add_string_value(b, vm_firmware_to_string(cfg->firmware));
        json_builder_set_member_name(b, "tpm");
        json_builder_add_boolean_value(b, cfg->tpm);
        json_builder_set_member_name(b, "secure-boot");
        json_builder_add_boolean_value(b, cfg->secure_boot);
        json_builder_set_member_name(b, "accel");
        json_builder_add_string_value(b, vm_accel_to_string(cfg->accel));
        json_builder_set_member_name(b, "performance");
        json_builder_add_string_value(b, vm_perf_to_string(cfg->performance));
        g_autofree char *disk = vm_store_disk_path(cfg);
        vd_json_add_string_or_null(b, "disk", disk);
        json_builder_set_member_name(b, "disk-format");
        json_builder_add_string_value(b, cfg->disk_format);
        vd_json_add_string_or_null(b, "base", cfg->base);
        vd_json_add_string_or_null(b, "base-format", cfg->base ? cfg->base_format : NULL);
        json_builder_set_member_name(b, "on-shutdown");
        json_builder_add_string_value(b, vm_on_shutdown_to_string(cfg->on_shutdown));
        vd_json_add_string_or_null(b, "iso", cfg->iso);
        json_builder_set_member_name(b, "cds");
        json_builder_begin_array(b);
        for (char **c = cfg->cds; c && *c; c++)
            json_builder_add_string_value(b, *c);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "virtio");
        json_builder_add_boolean_value(b, cfg->virtio);
        vd_json_add_string_or_null(b, "kernel", cfg->kernel);
        vd_json_add_string_or_null(b, "initrd", cfg->initrd);
        vd_json_add_string_or_null(b, "append", cfg->append);
        json_builder_set_member_name(b, "qemu-args");
        json_builder_begin_array(b);
        for (char **q = cfg->qemu_args; q && *q; q++)
            json_builder_add_string_value(b, *q);
        json_builder_end_array(b);
        add_devices(b, cfg);
        json_builder_end_object(b);

        json_builder_set_member_name(b, "process");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "supervisor-pid");
        json_builder_add_int_value(b, active ? st->supervisor_pid : 0);
        json_builder_set_member_name(b, "qemu-pid");
        json_builder_add_int_value(b, active ? st->qemu_pid : 0);
        vd_json_add_string_or_null(b, "qemu-version", st->qemu_version);
        json_builder_set_member_name(b, "since");
        json_builder_add_int_value(b, st->since / G_USEC_PER_SEC);
        json_builder_set_member_name(b, "exit-status");
        json_builder_add_int_value(b, st->exit_status);
        json_builder_set_member_name(b, "log-tail");
        json_builder_begin_array(b);
        for (char **l = st->log_tail; l && *l; l++)
            json_builder_add_string_value(b, *l);
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

int cli_vm_lease(const char *name, const char *who)
{
    g_autoptr(GError) err = NULL;
    int fd = vm_lease_use(name, who, &err);
    if (fd < 0 && !g_error_matches(err, VD_ERROR, VD_ERROR_STATE))
        fprintf(stderr, "vmdesk: warning: %s\n", err->message);
    return fd;
}

const char *cli_state_text(const VmStatus *st)
{
    return st->state == VM_STATE_PAUSED && st->idle ? "PAUSED (idle)"
                                                    : vm_state_to_string(st->state);
}

char *cli_self_exe(void)
{
    char *p = g_file_read_link("/proc/self/exe", NULL);
    return p ? p : g_strdup("vmdesk");
}

bool cli_vm_ensure_running(const char *name, bool start, bool *started, GError **error)
{
    if (started)
        *started = false;
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    g_autoptr(VmStatus) st = vm_status_get(name);
    if (vm_state_is_active(st->state))
        return true;
    if (!start) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "VM \"%s\" is not running (%s); start it with vmdesk start %s", name,
                    vm_state_to_string(st->state), name);
        return false;
    }
    g_autofree char *self = cli_self_exe();
    VmStartOptions opts = {.self_exe = self};
    g_autoptr(VmStatus) now = NULL;
    printf("Starting VM \"%s\"...\n", name);
    fflush(stdout);
    if (!vm_start(name, &opts, &now, error))
        return false;
    if (started)
        *started = true;
    return true;
}

bool cli_wait_agent(CliAgentTry try_once, void *data, const char *who, gint64 deadline,
                    int timeout_s, GError **error)
{
    g_autoptr(GError) last = NULL;
    while (g_get_monotonic_time() < deadline) {
        g_clear_error(&last);
        int r = try_once(data, &last, error);
        if (r)
            return r > 0;
        g_usleep(500 * 1000);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                "the guest agent of %s did not answer within %d s of the start (%s); is "
                "qemu-guest-agent installed in the guest?",
                who, timeout_s, last ? last->message : "no answer");
    return false;
}
