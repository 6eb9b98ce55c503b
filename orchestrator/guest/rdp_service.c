#include "guest/rdp_service_priv.h"

#include "common/error.h"
#include "common/text.h"
#include "vm/vm_store.h"

#include <string.h>

const char *const rdp_service_linux_units[] = {"xrdp", "gnome-remote-desktop", NULL};

/* The states `systemctl is-active` prints (systemd's unit active states). */
static const char *const systemd_states[] = {"active",       "inactive",  "failed",
                                             "activating",   "deactivating", "reloading",
                                             "refreshing",   "maintenance", NULL};

void rdp_service_info_clear(RdpServiceInfo *info)
{
    if (!info)
        return;
    g_free(info->service);
    g_free(info->detail);
    memset(info, 0, sizeof(*info));
}

const char *rdp_service_state_to_string(RdpServiceState state)
{
    switch (state) {
    case RDP_SERVICE_RUNNING:
        return "running";
    case RDP_SERVICE_STOPPED:
        return "stopped";
    case RDP_SERVICE_UNKNOWN:
        break;
    }
    return "unknown";
}

RdpServiceState rdp_service_parse_systemctl(const char *out, const char *const *units,
                                            const char **which)
{
    g_auto(GStrv) lines = g_strsplit(out ? out : "", "\n", -1);
    size_t n = 0;
    for (char **l = lines; *l; l++) {
        char *state = g_strstrip(*l);
        if (!*state)
            continue;
        if (!g_strv_contains(systemd_states, state))
            return RDP_SERVICE_UNKNOWN;
        if (!strcmp(state, "active")) {
            if (which)
                *which = n < g_strv_length((char **)units) ? units[n] : NULL;
            return RDP_SERVICE_RUNNING;
        }
        n++;
    }
    return n ? RDP_SERVICE_STOPPED : RDP_SERVICE_UNKNOWN;
}

RdpServiceState rdp_service_parse_sc_query(const char *out)
{
    g_auto(GStrv) lines = g_strsplit(out ? out : "", "\n", -1);
    for (char **l = lines; *l; l++) {
        char *line = g_strstrip(*l);
        const char *colon = strchr(line, ':');
        if (!g_str_has_prefix(line, "STATE") || !colon)
            continue;
        /* "STATE              : 4  RUNNING " */
        g_auto(GStrv) words = g_strsplit_set(colon + 1, " \t", -1);
        for (char **w = words; *w; w++) {
            if (!strcmp(*w, "RUNNING"))
                return RDP_SERVICE_RUNNING;
            if (g_str_has_suffix(*w, "STOPPED") || g_str_has_suffix(*w, "_PENDING") ||
                !strcmp(*w, "PAUSED"))
                return RDP_SERVICE_STOPPED;
        }
    }
    return RDP_SERVICE_UNKNOWN;
}

static RdpServiceState set(RdpServiceInfo *info, RdpServiceState state, const char *service,
                           char *detail)
{
    info->state = state;
    g_free(info->service);
    info->service = g_strdup(service);
    g_free(info->detail);
    info->detail = detail;
    return state;
}

static int ms_left(gint64 deadline)
{
    /* Rounded up: the time left right after the call is the whole timeout. */
    gint64 left = (deadline - g_get_monotonic_time() + 999) / 1000;
    return (int)CLAMP(left, 1, G_MAXINT);
}

/* The first line of what the guest printed, quoted for a detail. Caller frees. */
static char *first_line(const char *text)
{
    const char *nl = strpbrk(text, "\r\n");
    g_autofree char *s = g_strndup(text, nl ? (gsize)(nl - text) : strlen(text));
    return vd_text_quote(g_strstrip(s), -1);
}

static RdpServiceState query_linux(QgaClient *c, gint64 deadline, RdpServiceInfo *info)
{
    g_autoptr(GError) err = NULL;
    QgaExecResult r;
    const char *argv[G_N_ELEMENTS(rdp_service_linux_units) + 2] = {"systemctl", "is-active"};
    for (size_t i = 0; rdp_service_linux_units[i]; i++)
        argv[i + 2] = rdp_service_linux_units[i];
    g_autofree char *units = g_strjoinv(", ", (char **)rdp_service_linux_units);
    if (qga_client_exec(c, "systemctl", argv, ms_left(deadline), &r, &err)) {
        const char *which = NULL;
        RdpServiceState s = rdp_service_parse_systemctl(r.out, rdp_service_linux_units, &which);
        g_autofree char *said = first_line(r.out_len ? r.out : r.err);
        qga_exec_result_clear(&r);
        if (s == RDP_SERVICE_RUNNING)
            return set(info, s, which, g_strdup_printf("%s is active", which ? which : "a unit"));
        if (s == RDP_SERVICE_STOPPED)
            return set(info, s, NULL, g_strdup_printf("none of %s is active", units));
        /* No systemd in the guest (a container, another init): ask pidof. */
        g_set_error(&err, VD_ERROR, VD_ERROR_FAILED, "systemctl could not tell: %s", said);
    } else if (!g_error_matches(err, VD_ERROR, VD_ERROR_NOT_FOUND)) {
        return set(info, RDP_SERVICE_UNKNOWN, NULL, g_strdup(err->message));
    }
    g_autoptr(GError) err2 = NULL;
    const char *pidof_argv[] = {"pidof", "xrdp", NULL};
    if (!qga_client_exec(c, "pidof", pidof_argv, ms_left(deadline), &r, &err2))
        return set(info, RDP_SERVICE_UNKNOWN, NULL,
                   g_strdup_printf("%s; %s", err->message, err2->message));
    int code = r.exit_code;
    qga_exec_result_clear(&r);
    if (code == 0)
        return set(info, RDP_SERVICE_RUNNING, "xrdp", g_strdup("an xrdp process runs"));
    if (code == 1)
        return set(info, RDP_SERVICE_STOPPED, NULL, g_strdup("no xrdp process runs"));
    return set(info, RDP_SERVICE_UNKNOWN, NULL,
               g_strdup_printf("%s; pidof exited with status %d", err->message, code));
}

static RdpServiceState query_windows(QgaClient *c, gint64 deadline, RdpServiceInfo *info)
{
    g_autoptr(GError) err = NULL;
    QgaExecResult r;
    const char *argv[] = {"sc.exe", "query", "TermService", NULL};
    if (!qga_client_exec(c, "sc.exe", argv, ms_left(deadline), &r, &err))
        return set(info, RDP_SERVICE_UNKNOWN, NULL, g_strdup(err->message));
    RdpServiceState s = rdp_service_parse_sc_query(r.out);
    g_autofree char *said = first_line(r.out_len ? r.out : r.err);
    qga_exec_result_clear(&r);
    switch (s) {
    case RDP_SERVICE_RUNNING:
        return set(info, s, "TermService", g_strdup("TermService is running"));
    case RDP_SERVICE_STOPPED:
        return set(info, s, NULL, g_strdup("TermService is not running"));
    case RDP_SERVICE_UNKNOWN:
        break;
    }
    return set(info, s, NULL, g_strdup_printf("sc.exe query TermService could not tell: %s",
                                              said));
}

static RdpServiceState query_by(QgaClient *c, VmOs os, gint64 deadline, RdpServiceInfo *info)
{
    g_autoptr(GError) err = NULL;
    /* Sync here, so that "no agent" reads as such and not as a failed command. */
    if (!qga_client_sync(c, ms_left(deadline), &err))
        return set(info, RDP_SERVICE_UNKNOWN, NULL, g_strdup(err->message));
    return os == VM_OS_WINDOWS ? query_windows(c, deadline, info) : query_linux(c, deadline, info);
}

RdpServiceState rdp_service_query(QgaClient *c, VmOs os, int timeout_ms, RdpServiceInfo *info)
{
    rdp_service_info_clear(info);
    return query_by(c, os, g_get_monotonic_time() + (gint64)timeout_ms * 1000, info);
}

RdpServiceState rdp_service_running(const char *name, int timeout_ms, RdpServiceInfo *info)
{
    rdp_service_info_clear(info);
    g_autoptr(GError) err = NULL;
    g_autoptr(VmConfig) cfg = vm_store_load(name, &err);
    if (!cfg)
        return set(info, RDP_SERVICE_UNKNOWN, NULL, g_strdup(err->message));
    /* The supervisor removes the socket when QEMU ends. */
    g_autofree char *path = vm_runtime_path(name, "qga.sock");
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return set(info, RDP_SERVICE_UNKNOWN, NULL,
                   g_strdup_printf("no guest agent: VM \"%s\" is not running", name));
    g_autoptr(QgaClient) c = qga_client_connect_unix(path, &err);
    if (!c)
        return set(info, RDP_SERVICE_UNKNOWN, NULL, g_strdup(err->message));
    /* The local steps above take microseconds; the deadline is the agent's. */
    return query_by(c, cfg->os, g_get_monotonic_time() + (gint64)timeout_ms * 1000, info);
}
