/* vmdesk apps list|install DOMAIN --connect URI: a libvirt domain's
 * applications, listed by the same code as a vmdesk VM's
 * (guest/guest_apps.h), its guest agent reached through libvirt
 * (libvirt/lv_agent.h): on this host or over qemu+ssh://. */
#include "cli/cli_libvirt.h"

#include "cli/cli.h"
#include "common/error.h"
#include "guest/guest_apps.h"
#include "libvirt/lv_agent.h"
#include "libvirt/lv_domain.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    LvConn *conn;
    const char *name;
    QgaClient *agent;
} AgentWait;

/* cli_wait_agent()'s try for a domain: a sync through libvirt. A domain
 * with no agent channel fails at once: no waiting can help there. */
static int try_domain_agent(void *data, GError **last, GError **error)
{
    AgentWait *w = data;
    if (qga_client_sync(w->agent, 2000, last))
        return 1;
    if (strstr((*last)->message, LV_AGENT_NO_CHANNEL)) {
        g_propagate_error(error, g_steal_pointer(last));
        return -1;
    }
    VmState state = VM_STATE_ERROR;
    const char *word = NULL;
    if (!lv_domain_state(w->conn, w->name, &state, &word, error))
        return -1;
    if (!vm_state_is_active(state)) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "libvirt domain \"%s\" stopped while booting (%s)", w->name, word);
        return -1;
    }
    return 0;
}

/* Boot shut off domain @name and wait until @agent answers, up to
 * @timeout_s seconds. */
static bool start_and_wait_agent(LvConn *c, const char *name, QgaClient *agent, int timeout_s,
                                 GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    if (!lv_domain_start(c, name, error))
        return false;
    fprintf(stderr, "Started libvirt domain \"%s\"; waiting for its guest agent...\n", name);
    AgentWait w = {c, name, agent};
    g_autofree char *who = g_strdup_printf("libvirt domain \"%s\"", name);
    return cli_wait_agent(try_domain_agent, &w, who, deadline, timeout_s, error);
}

GPtrArray *cli_libvirt_apps(const char *uri, const char *name, bool start, int timeout_s,
                            GError **error)
{
    g_autoptr(LvConn) c = lv_conn_open(uri, error);
    VmState state = VM_STATE_ERROR;
    const char *word = NULL;
    if (!c || !lv_domain_state(c, name, &state, &word, error))
        return NULL;
    bool boot = start && state == VM_STATE_STOPPED;
    if (state != VM_STATE_RUNNING && !boot) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "libvirt domain \"%s\" on %s is %s: its applications can only be listed "
                    "while it runs (vmdesk start %s --connect %s%s)",
                    name, uri, word, name, uri,
                    state == VM_STATE_STOPPED ? ", or add --start" : "");
        return NULL;
    }
    g_autoptr(QgaClient) agent = lv_agent_open(c, name, error);
    if (!agent || (boot && !start_and_wait_agent(c, name, agent, timeout_s, error)))
        return NULL;
    /* The OS from the agent itself: libvirt's XML need not say. Every
     * regular user's applications: vmdesk keeps no user for a domain. */
    return guest_apps_list_client(agent, NULL, NULL, GUEST_APPS_TIMEOUT_MS, error);
}

bool cli_libvirt_apps_unreachable(const GError *error)
{
    if (!error || error->domain != VD_ERROR)
        return false;
    if (error->code == VD_ERROR_STATE)
        return true;
    return (error->code == VD_ERROR_NOT_FOUND || error->code == VD_ERROR_TIMEOUT) &&
           g_str_has_prefix(error->message, "no guest agent");
}
