/* vmdesk probe: is RDP ready on a VM's forwarded port, or on any HOST:PORT?
 * One X.224 connection request (client/session/rdp/rdp_probe.h); for a VM also the
 * guest agent's word on its RDP service (orchestrator/guest/rdp_service.h). */
#include "cli/cli.h"
#include "cli/cli_libvirt.h"

#include "common/error.h"
#include "common/json_build.h"
#include "common/paths.h"
#include "guest/rdp_service.h"
#include "libvirt/lv_domain.h"
#include "session/rdp/rdp_probe.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_DEFAULT_TIMEOUT_MS 2000
/* The agent's answer must not hold up a readiness check for long. */
#define PROBE_AGENT_TIMEOUT_MS 1000

/* Exit statuses of `vmdesk probe` (docs/cli.md). */
#define PROBE_EXIT_READY 0
#define PROBE_EXIT_REJECTED 1   /* refused or not RDP: waiting will not help */
#define PROBE_EXIT_NOT_READY 5  /* no service yet, or no answer: try again later */

typedef struct {
    char *vm;        /* NULL for HOST:PORT */
    char *host;
    unsigned port;
    char **tunnel;   /* a libvirt domain on another host: ssh -W (RdpTarget's) */
    bool vm_running;
} Target;

static void target_clear(Target *t)
{
    g_free(t->vm);
    g_free(t->host);
    g_strfreev(t->tunnel);
}

/* "HOST:PORT", "[V6ADDR]:PORT", "rdp://HOST:PORT", or a VM's name. */
static bool parse_target(const char *arg, Target *t, GError **error)
{
    memset(t, 0, sizeof(*t));
    const char *s = g_str_has_prefix(arg, "rdp://") ? arg + 6 : arg;
    const char *colon = strrchr(s, ':');
    if (!colon && s == arg) {
        if (!vd_name_validate(arg, error))
            return false;
        g_autoptr(VmConfig) cfg = vm_store_load(arg, error);
        if (!cfg)
            return false;
        g_autoptr(VmStatus) st = vm_status_get(arg);
        t->vm_running = vm_state_is_active(st->state);
        t->vm = g_strdup(arg);
        t->host = g_strdup("127.0.0.1");
        t->port = t->vm_running && st->rdp_port ? st->rdp_port : cfg->rdp_port;
        return true;
    }
    g_autofree char *host = NULL;
    const char *port_text = NULL;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end && (end[1] == ':' || end[1] == 0)) {
            host = g_strndup(s, (gsize)(end - s + 1));
            port_text = end[1] ? end + 2 : NULL;
        }
    } else if (colon && strchr(s, ':') == colon) {
        host = g_strndup(s, (gsize)(colon - s));
        port_text = colon + 1;
    } else if (!colon) {
        host = g_strdup(s);
    }
    char *end = NULL;
    unsigned long port = port_text ? strtoul(port_text, &end, 10) : 3389;
    if (!host || !*host || (port_text && (!*port_text || *end)) || port == 0 || port > 65535) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "\"%s\" is neither a VM name nor HOST:PORT (write IPv6 addresses as "
                    "[ADDRESS]:PORT)",
                    arg);
        return false;
    }
    t->host = g_steal_pointer(&host);
    t->port = (unsigned)port;
    return true;
}

static int exit_status(RdpProbeResult r)
{
    switch (r) {
    case RDP_PROBE_READY:
        return PROBE_EXIT_READY;
    case RDP_PROBE_NO_SERVICE:
    case RDP_PROBE_TIMEOUT:
        return PROBE_EXIT_NOT_READY;
    case RDP_PROBE_NOT_RDP:
    case RDP_PROBE_REFUSED:
    case RDP_PROBE_ERROR:
        break;
    }
    return PROBE_EXIT_REJECTED;
}

/* The why of a "not ready" line: for a VM, what it means for the guest. */
static char *not_ready_reason(const Target *t, const RdpProbeInfo *info)
{
    if (info->result == RDP_PROBE_TIMEOUT) {
        bool plain = !g_strcmp0(info->detail, "no answer in time");
        return g_strdup_printf("%s%s%s", plain ? "" : info->detail, !plain && t->vm ? "; " : "",
                               t->vm ? "the guest may still be booting" : "");
    }
    if (!info->connected) {
        if (t->vm && !t->vm_running)
            return g_strdup_printf("VM \"%s\" is not running", t->vm);
        /* "connection refused: nothing listens" says it twice after "nothing listens on". */
        return g_str_has_prefix(info->detail, "connection refused")
                   ? g_strdup("connection refused")
                   : g_strdup(info->detail);
    }
    if (!t->vm)
        return g_strdup(info->detail);
    /* Connected, then closed without an answer: what user networking does
     * when nothing listens on the guest's port. */
    return g_strdup("no RDP service in the guest yet");
}

static void print_text(const Target *t, const RdpProbeInfo *info, int timeout_ms,
                       const RdpServiceInfo *agent)
{
    switch (info->result) {
    case RDP_PROBE_READY:
        if (info->negotiated)
            printf("ready: %s (%s)\n", rdp_probe_protocol_name(info->protocol), info->address);
        else
            printf("ready: standard RDP, without negotiation (%s)\n", info->address);
        break;
    case RDP_PROBE_NO_SERVICE: {
        g_autofree char *why = not_ready_reason(t, info);
        printf("not ready: nothing %s on %s (%s)\n", info->connected ? "answers" : "listens",
               info->address, why);
        break;
    }
    case RDP_PROBE_TIMEOUT: {
        g_autofree char *why = not_ready_reason(t, info);
        printf("not ready: no answer from %s within %d ms%s%s%s\n", info->address, timeout_ms,
               *why ? " (" : "", why, *why ? ")" : "");
        break;
    }
    case RDP_PROBE_REFUSED:
        printf("refused: %s (%s)\n", info->detail, info->address);
        break;
    case RDP_PROBE_NOT_RDP:
        printf("not RDP: %s (%s)\n", info->detail, info->address);
        break;
    case RDP_PROBE_ERROR:
        break;
    }
    if (agent) {
        const char *says = agent->state == RDP_SERVICE_RUNNING   ? "RDP service running"
                           : agent->state == RDP_SERVICE_STOPPED ? "RDP service not running"
                                                                 : "unknown";
        printf("guest agent: %s (%s)\n", says, agent->detail);
    }
}

static void print_json(const Target *t, unsigned requested, const RdpProbeInfo *info,
                       const RdpServiceInfo *agent)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    vd_json_add_string_or_null(b, "vm", t->vm);
    vd_json_add_string_or_null(b, "host", t->host);
    json_builder_set_member_name(b, "port");
    json_builder_add_int_value(b, t->port);
    vd_json_add_string_or_null(b, "address", info->address);
    vd_json_add_string_or_null(b, "result", rdp_probe_result_to_string(info->result));
    json_builder_set_member_name(b, "ready");
    json_builder_add_boolean_value(b, info->result == RDP_PROBE_READY);
    json_builder_set_member_name(b, "connected");
    json_builder_add_boolean_value(b, info->connected);
    json_builder_set_member_name(b, "requested");
    json_builder_begin_array(b);
    if (requested == RDP_PROTOCOL_RDP)
        json_builder_add_string_value(b, rdp_probe_protocol_id(RDP_PROTOCOL_RDP));
    for (unsigned bit = 1; bit; bit <<= 1)
        if ((requested & bit) && rdp_probe_protocol_id(bit))
            json_builder_add_string_value(b, rdp_probe_protocol_id(bit));
    json_builder_end_array(b);
    bool ready = info->result == RDP_PROBE_READY;
    json_builder_set_member_name(b, "negotiated");
    json_builder_add_boolean_value(b, ready && info->negotiated);
    vd_json_add_string_or_null(b, "protocol", ready ? rdp_probe_protocol_id(info->protocol) : NULL);
    vd_json_add_string_or_null(b, "protocol-name", ready ? rdp_probe_protocol_name(info->protocol) : NULL);
    json_builder_set_member_name(b, "server-flags");
    json_builder_add_int_value(b, ready ? info->server_flags : 0);
    json_builder_set_member_name(b, "failure-code");
    if (info->result == RDP_PROBE_REFUSED)
        json_builder_add_int_value(b, info->failure_code);
    else
        json_builder_add_null_value(b);
    vd_json_add_string_or_null(b, "detail", info->detail);
    json_builder_set_member_name(b, "elapsed-ms");
    json_builder_add_double_value(b, (double)info->elapsed_us / 1000.0);
    json_builder_set_member_name(b, "guest-agent");
    if (agent) {
        json_builder_begin_object(b);
        vd_json_add_string_or_null(b, "rdp-service", rdp_service_state_to_string(agent->state));
        vd_json_add_string_or_null(b, "service", agent->service);
        vd_json_add_string_or_null(b, "detail", agent->detail);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    cli_print_json(root);
}

/* A libvirt domain's RDP address (cli_libvirt_rdp.c) as @t; over
 * qemu+ssh:// through its tunnel. A domain that is not running or has no
 * known address yet is "not ready" (*@not_ready, printed here). */
static bool libvirt_target(const char *uri, const char *name, Target *t, bool *not_ready,
                           GError **error)
{
    memset(t, 0, sizeof(*t));
    *not_ready = false;
    g_autoptr(LvConn) c = lv_conn_open(uri, error);
    bool exists = false;
    if (!c || !lv_domain_exists(c, name, &exists, error))
        return false;
    if (!exists) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "no domain \"%s\" on %s", name, uri);
        return false;
    }
    RdpTarget rt;
    GError *e = NULL;
    if (!cli_libvirt_rdp_target(c, name, &rt, &e)) {
        if (!g_error_matches(e, VD_ERROR, VD_ERROR_STATE) &&
            !g_error_matches(e, VD_ERROR, VD_ERROR_NOT_FOUND)) {
            g_propagate_error(error, e);
            return false;
        }
        printf("not ready: %s\n", e->message);
        g_error_free(e);
        *not_ready = true;
        return true;
    }
    t->host = g_strdup(rt.host);
    t->port = rt.port;
    t->tunnel = g_steal_pointer(&rt.tunnel);
    rdp_target_clear(&rt);
    return true;
}

int cli_probe(int argc, char **argv)
{
    gboolean json = FALSE;
    g_autofree char *connect = NULL, *uri = NULL;
    int timeout_ms = PROBE_DEFAULT_TIMEOUT_MS;
    g_autofree char *protocols = NULL;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output (docs/cli.md)", NULL},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout_ms,
         "give up after MS milliseconds (default 2000)", "MS"},
        {"protocols", 0, 0, G_OPTION_ARG_STRING, &protocols,
         "security protocols to ask for, from rdp, tls, nla, nla-ex, rdstls, aad "
         "(default tls,nla,nla-ex, as FreeRDP asks)",
         "LIST"},
        CLI_CONNECT_ENTRY(&connect),
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("probe", "NAME|HOST:PORT",
                   "Is RDP ready? Sends an RDP connection request (X.224 with RDP negotiation) "
                   "and reads the answer;\nfor a VM also asks its guest agent whether the RDP "
                   "service runs.\n\nExit status: 0 ready, 5 not ready yet (nothing answers, or "
                   "no answer in time),\n1 refused (the server refuses the protocols asked for) "
                   "or not RDP, 2 bad usage, 3 no such VM.\nWith --connect, a libvirt domain's RDP "
                   "address (its port forward, guest agent or DHCP lease; through ssh -W over "
                   "qemu+ssh://).",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("probe", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    if (timeout_ms <= 0) {
        g_set_error(&err, VD_ERROR, VD_ERROR_INVALID, "--timeout must be positive");
        return cli_fail(err);
    }
    unsigned requested = RDP_PROBE_DEFAULT_PROTOCOLS;
    if (protocols && !rdp_probe_protocols_parse(protocols, &requested, &err))
        return cli_fail(err);
    Target t;
    if (!strchr(argv[1], ':') && !cli_libvirt_pick(connect, argv[1], &uri, &err))
        return cli_fail(err);
    if (uri) {
        bool not_ready = false;
        if (!libvirt_target(uri, argv[1], &t, &not_ready, &err))
            return cli_fail(err);
        if (not_ready)
            return PROBE_EXIT_NOT_READY;
    } else if (!parse_target(argv[1], &t, &err)) {
        return cli_fail(err);
    }
    /* Asking about a VM uses it: one that idle suspend paused runs again first. */
    int lease = t.vm_running ? cli_vm_lease(t.vm, "probe") : -1;
    RdpProbeInfo info = {0};
    g_autofree char *address = g_strdup_printf("%s:%u", t.host, t.port);
    RdpProbeResult r = t.tunnel ? rdp_probe_tunnel((const char *const *)t.tunnel, address,
                                                   requested, timeout_ms, &info, &err)
                                : rdp_probe(t.host, t.port, requested, timeout_ms, &info, &err);
    if (r == RDP_PROBE_ERROR) {
        if (lease >= 0)
            close(lease);
        rdp_probe_info_clear(&info);
        target_clear(&t);
        return cli_fail(err);
    }
    RdpServiceInfo agent = {0};
    if (t.vm)
        rdp_service_running(t.vm, MIN(timeout_ms, PROBE_AGENT_TIMEOUT_MS), &agent);
    if (json)
        print_json(&t, requested, &info, t.vm ? &agent : NULL);
    else
        print_text(&t, &info, timeout_ms, t.vm ? &agent : NULL);
    if (lease >= 0)
        close(lease);
    rdp_service_info_clear(&agent);
    rdp_probe_info_clear(&info);
    target_clear(&t);
    return exit_status(r);
}
