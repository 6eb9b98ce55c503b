/* Internals of lv_agent.c that the unit tests reach. */
#pragma once

#include <glib.h>

/* libvirt's error (virErrorNumber @vir_code, its @message; may be NULL) for a
 * guest agent command of domain @name at @uri that had @timeout_s seconds,
 * as vmdesk's: NULL with *@reply set (newly allocated JSON text, {"error":
 * {"class": ..., "desc": REASON}}) when libvirt passed on the agent's own
 * refusal ("unable to execute QEMU agent command 'CMD': REASON"), so that
 * the client judges it as one from the agent; else the error (see
 * lv_agent.h). Pure. */
GError *lv_agent_error(int vir_code, const char *message, const char *name, const char *uri,
                       int timeout_s, char **reply);
