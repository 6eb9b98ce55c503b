/* A libvirt domain's QEMU guest agent, reached through libvirt
 * (virDomainQemuAgentCommand of libvirt-qemu): on this host or over
 * qemu+ssh://, with no socket of ours. libvirt frames and synchronizes
 * (guest-sync) by itself; the answer comes back as text that
 * guest/qga_client.h checks as hostile, so every caller of a QgaClient (the
 * application listing, guest-exec) runs unchanged on a domain.
 * Main thread (or any one thread per client). */
#pragma once

#include "guest/qga_client.h"
#include "libvirt/lv_conn.h"

/* A guest agent client for domain @name of @c (the client keeps its own
 * reference to the domain and its connection: @c may be closed first).
 * Fails only when there is no such domain (VD_ERROR_NOT_FOUND); whether an
 * agent answers shows at the first command. The client's errors:
 * VD_ERROR_NOT_FOUND "no guest agent ..." for a domain without an agent
 * channel or with no agent connected to it, VD_ERROR_TIMEOUT "no guest
 * agent answered ..." when it does not answer in time, VD_ERROR_STATE for a
 * domain that is not running, the agent's refusals as from a socket's
 * client, anything else VD_ERROR_FAILED with libvirt's words. */
/* Words of the error for a domain without an agent channel (no waiting for
 * an agent can help there). */
#define LV_AGENT_NO_CHANNEL "has no guest agent channel"

QgaClient *lv_agent_open(LvConn *c, const char *name, GError **error);
