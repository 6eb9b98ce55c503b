/* The guest agent through virDomainQemuAgentCommand. */
#include "libvirt/lv_agent.h"
#include "libvirt/lv_agent_priv.h"

#include "common/error.h"
#include "libvirt/lv_conn_priv.h"

#include <json-glib/json-glib.h>
#include <libvirt/libvirt-qemu.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    virDomainPtr dom; /* holds its connection too */
    char *name;
    char *uri;
} LvAgent;

/* What libvirt writes before an agent's refusal, in libvirt 9's words (its
 * messages are not translated for C or English locales). */
#define REFUSAL_MARK "QEMU agent command '"

static char *refusal_reply(const char *reason)
{
    g_autoptr(JsonObject) e = json_object_new();
    /* libvirt words CommandNotFound "The command X has not been found". */
    json_object_set_string_member(e, "class", strstr(reason, "has not been found")
                                                  ? "CommandNotFound"
                                                  : "GenericError");
    json_object_set_string_member(e, "desc", reason);
    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_object_member(o, "error", json_object_ref(e));
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);
    return json_to_string(n, FALSE);
}

GError *lv_agent_error(int vir_code, const char *message, const char *name, const char *uri,
                       int timeout_s, char **reply)
{
    *reply = NULL;
    const char *m = message && *message ? message : "libvirt gave no reason";
    const char *mark = strstr(m, REFUSAL_MARK);
    const char *reason = mark ? strstr(mark + strlen(REFUSAL_MARK), "': ") : NULL;
    switch (vir_code) {
    case VIR_ERR_INTERNAL_ERROR:
        if (!reason)
            break;
        *reply = refusal_reply(reason + 3);
        return NULL;
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
        return g_error_new(VD_ERROR, VD_ERROR_NOT_FOUND,
                           "no guest agent: domain \"%s\" on %s " LV_AGENT_NO_CHANNEL
                           " (libvirt: %s); add <channel type='unix'><target type='virtio' "
                           "name='org.qemu.guest_agent.0'/></channel> to its devices (virsh "
                           "edit %s)",
                           name, uri, m, name);
    case VIR_ERR_AGENT_UNRESPONSIVE:
        /* Not connected: nothing in the guest opened the channel (no agent
         * runs). Otherwise an agent is there but did not answer in time. */
        if (strstr(m, "not connected"))
            return g_error_new(VD_ERROR, VD_ERROR_NOT_FOUND,
                               "no guest agent: none runs in domain \"%s\" on %s (libvirt: %s)",
                               name, uri, m);
        return g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                           "no guest agent answered within %d s in domain \"%s\" on %s "
                           "(libvirt: %s)",
                           timeout_s, name, uri, m);
    case VIR_ERR_OPERATION_TIMEOUT:
        return g_error_new(VD_ERROR, VD_ERROR_TIMEOUT,
                           "no guest agent answered within %d s in domain \"%s\" on %s "
                           "(libvirt: %s)",
                           timeout_s, name, uri, m);
    case VIR_ERR_OPERATION_INVALID:
        return g_error_new(VD_ERROR, VD_ERROR_STATE,
                           "domain \"%s\" on %s is not running (libvirt: %s)", name, uri, m);
    case VIR_ERR_NO_DOMAIN:
        return g_error_new(VD_ERROR, VD_ERROR_NOT_FOUND, "no domain \"%s\" on %s", name, uri);
    default:
        break;
    }
    return g_error_new(VD_ERROR, VD_ERROR_FAILED, "the guest agent of domain \"%s\" on %s: %s",
                       name, uri, m);
}

static char *exchange(void *data, const char *request, int timeout_ms, GError **error)
{
    LvAgent *a = data;
    /* libvirt counts whole seconds, at least one. */
    int timeout_s = timeout_ms <= 0 ? 1 : (int)MIN(((gint64)timeout_ms + 999) / 1000, G_MAXINT);
    char *text = virDomainQemuAgentCommand(a->dom, request, timeout_s, 0);
    if (text) {
        char *copy = g_strdup(text);
        free(text);
        return copy;
    }
    virErrorPtr e = virGetLastError();
    char *reply = NULL;
    GError *err = lv_agent_error(e ? e->code : VIR_ERR_INTERNAL_ERROR, e ? e->message : NULL,
                                 a->name, a->uri, timeout_s, &reply);
    if (err)
        g_propagate_error(error, err);
    return reply;
}

static void agent_free(void *data)
{
    LvAgent *a = data;
    virDomainFree(a->dom);
    g_free(a->name);
    g_free(a->uri);
    g_free(a);
}

QgaClient *lv_agent_open(LvConn *c, const char *name, GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return NULL;
    LvAgent *a = g_new0(LvAgent, 1);
    a->dom = d;
    a->name = g_strdup(name);
    a->uri = g_strdup(c->uri);
    g_autofree char *who = g_strdup_printf("the guest agent of domain \"%s\" on %s", name, c->uri);
    return qga_client_new_exchange(exchange, a, agent_free, who);
}
