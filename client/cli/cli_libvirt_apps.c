/* vmdesk apps list|install DOMAIN --connect URI: a libvirt domain's
 * applications, listed by the same code as a vmdesk VM's
 * (guest/guest_apps.h), its guest agent reached through libvirt
 * (libvirt/lv_agent.h): on this host or over qemu+ssh://. */
#include "cli/cli_libvirt.h"

#include "common/error.h"
#include "guest/guest_apps.h"
#include "libvirt/lv_agent.h"
#include "libvirt/lv_domain.h"

#include <stdio.h>
#include <string.h>

/* Boot shut off domain @name and wait until @agent answers, up to
 * @timeout_s seconds. A domain with no agent channel fails at once. */
static bool start_and_wait_agent(LvConn *c, const char *name, QgaClient *agent, int timeout_s,
                                 GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    if (!lv_domain_start(c, name, error))
        return false;
    fprintf(stderr, "Started libvirt domain \"%s\"; waiting for its guest agent...\n", name);
    g_autoptr(GError) last = NULL;
    while (g_get_monotonic_time() < deadline) {
        g_clear_error(&last);
        if (qga_client_sync(agent, 2000, &last))
            return true;
        if (strstr(last->message, LV_AGENT_NO_CHANNEL)) {
            g_propagate_error(error, g_steal_pointer(&last));
            return false;
        }
        VmState state = VM_STATE_ERROR;
        const char *word = NULL;
        if (!lv_domain_state(c, name, &state, &word, error))
            return false;
        if (!vm_state_is_active(state)) {
            g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                        "libvirt domain \"%s\" stopped while booting (%s)", name, word);
            return false;
        }
        g_usleep(500 * 1000);
    }
    g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                "the guest agent of libvirt domain \"%s\" did not answer within %d s of the "
                "start (%s); is qemu-guest-agent installed in the guest?",
                name, timeout_s, last ? last->message : "no answer");
    return false;
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

bool cli_libvirt_apps_no_agent(const GError *error)
{
    return error && error->domain == VD_ERROR &&
           (error->code == VD_ERROR_NOT_FOUND || error->code == VD_ERROR_TIMEOUT) &&
           g_str_has_prefix(error->message, "no guest agent");
}
