/* The RDP connection target: the RdpTarget a session connects to (host,
 * credentials, pin, drives, sound, RemoteApp), parsed from an rdp:// address,
 * copied into the session and cleared (its password wiped). No FreeRDP here. */
#include "session/rdp/rdp_session_priv.h"

#include "common/error.h"
#include "common/spawn.h"
#include "session/helper/helper.h"

#include <string.h>

void rdp_target_clear(RdpTarget *t)
{
    g_free(t->host);
    g_free(t->username);
    if (t->password)
        memset(t->password, 0, strlen(t->password));
    g_free(t->password);
    g_free(t->domain);
    g_free(t->pin_file);
    g_free(t->pin_group);
    g_free(t->pin_hint);
    g_strfreev(t->drives);
    g_strfreev(t->tunnel);
    g_free(t->remote_app);
    g_free(t->remote_app_args);
    g_free(t->shell);
    memset(t, 0, sizeof(*t));
}

void rdp_target_copy(RdpTarget *dst, const RdpTarget *src)
{
    *dst = *src;
    dst->host = g_strdup(src->host);
    dst->username = g_strdup(src->username);
    dst->password = g_strdup(src->password);
    dst->domain = g_strdup(src->domain);
    dst->pin_file = g_strdup(src->pin_file);
    dst->pin_group = g_strdup(src->pin_group);
    dst->pin_hint = g_strdup(src->pin_hint);
    dst->drives = g_strdupv(src->drives);
    dst->tunnel = g_strdupv(src->tunnel);
    dst->remote_app = g_strdup(src->remote_app);
    dst->remote_app_args = g_strdup(src->remote_app_args);
    dst->shell = g_strdup(src->shell);
}

int rdp_target_connect(const RdpTarget *t, int timeout_s, GError **error)
{
    if (t->tunnel) {
        g_autofree char *what = g_strdup_printf("the RDP server at %s:%u", t->host, t->port);
        return vd_spawn_tunnel((const char *const *)t->tunnel, what, error);
    }
    int err = 0;
    GError *e = NULL;
    int fd = helper_connect_tcp(t->host, (int)t->port, timeout_s, "RDP server", &err, &e);
    if (fd < 0 && !e)
        g_set_error(&e, VD_ERROR, VD_ERROR_FAILED, "cannot reach an RDP server at %s:%u (%s)",
                    t->host, t->port, g_strerror(err));
    if (e)
        g_propagate_error(error, e);
    return fd;
}

RdpProbeResult rdp_target_probe(const RdpTarget *t, int timeout_ms, RdpProbeInfo *info)
{
    if (!t->tunnel)
        return rdp_probe(t->host, t->port, RDP_PROBE_DEFAULT_PROTOCOLS, timeout_ms, info, NULL);
    g_autofree char *address = strchr(t->host, ':') ? g_strdup_printf("[%s]:%u", t->host, t->port)
                                                    : g_strdup_printf("%s:%u", t->host, t->port);
    return rdp_probe_tunnel((const char *const *)t->tunnel, address, RDP_PROBE_DEFAULT_PROTOCOLS,
                            timeout_ms, info, NULL);
}

bool rdp_target_parse(const char *url, RdpTarget *t, GError **error)
{
    memset(t, 0, sizeof(*t));
    if (!g_str_has_prefix(url, "rdp://")) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is not an RDP address; write rdp://[USER@]HOST[:PORT]", url);
        return false;
    }
    const char *rest = url + strlen("rdp://");
    g_autofree char *hostport = g_strndup(rest, strcspn(rest, "/"));
    char *at = strrchr(hostport, '@');
    const char *hp = hostport;
    if (at) {
        *at = 0;
        if (strchr(hostport, ':')) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                        "%s: a password does not belong in the address (it would show in the "
                        "process list); use vmdesk credentials or --password-file",
                        url);
            return false;
        }
        char *bs = strchr(hostport, '\\');
        if (bs) {
            *bs = 0;
            t->domain = g_uri_unescape_string(hostport, NULL);
            t->username = g_uri_unescape_string(bs + 1, NULL);
        } else {
            t->username = g_uri_unescape_string(hostport, NULL);
        }
        hp = at + 1;
    }
    const char *colon = strrchr(hp, ':');
    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (!close) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: unbalanced [", url);
            rdp_target_clear(t);
            return false;
        }
        t->host = g_strndup(hp + 1, (gsize)(close - hp - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        t->host = colon ? g_strndup(hp, (gsize)(colon - hp)) : g_strdup(hp);
    }
    t->port = 3389;
    if (colon) {
        char *end;
        guint64 p = g_ascii_strtoull(colon + 1, &end, 10);
        if (*end || end == colon + 1 || p == 0 || p > 65535) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: \"%s\" is not a port", url,
                        colon + 1);
            rdp_target_clear(t);
            return false;
        }
        t->port = (unsigned)p;
    }
    if (!*t->host) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: no host", url);
        rdp_target_clear(t);
        return false;
    }
    return true;
}
