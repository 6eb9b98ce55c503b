/* SSH tunnels of a qemu+ssh:// connection's parameters. */
#include "libvirt/lv_ssh.h"

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/spawn.h"

#include <string.h>

bool lv_uri_is_local(const char *uri)
{
    g_autoptr(GUri) u = uri ? g_uri_parse(uri, G_URI_FLAGS_NON_DNS, NULL) : NULL;
    const char *plus = u ? strchr(g_uri_get_scheme(u), '+') : NULL;
    const char *host = u ? g_uri_get_host(u) : NULL;
    return u && (!host || !*host) && (!plus || !strcmp(plus, "+unix"));
}

bool lv_uri_is_ssh(const char *uri)
{
    g_autoptr(GUri) u = uri ? g_uri_parse(uri, G_URI_FLAGS_NON_DNS, NULL) : NULL;
    const char *plus = u ? strchr(g_uri_get_scheme(u), '+') : NULL;
    return plus && (!strcmp(plus, "+ssh") || !strcmp(plus, "+libssh") ||
                    !strcmp(plus, "+libssh2"));
}

/* A value of @uri's query (decoded), or NULL. */
static char *query_value(GUri *u, const char *key)
{
    const char *q = g_uri_get_query(u);
    if (!q)
        return NULL;
    g_autoptr(GHashTable) params = g_uri_parse_params(q, -1, "&", G_URI_PARAMS_NONE, NULL);
    const char *v = params ? g_hash_table_lookup(params, key) : NULL;
    return g_strdup(v);
}

GStrv lv_ssh_argv(const char *uri, const char *target, const char *share_dir, GError **error)
{
    g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NON_DNS, NULL);
    const char *host = u ? g_uri_get_host(u) : NULL;
    const char *user = u ? g_uri_get_user(u) : NULL;
    if (!lv_uri_is_ssh(uri) || !host || !*host) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is not a libvirt URI over SSH with a host (qemu+ssh://[USER@]HOST"
                    "[:PORT]/system)",
                    uri);
        return NULL;
    }
    /* ssh would read a leading "-" as an option (-oProxyCommand=...). */
    if (*host == '-' || (user && *user == '-') || *target == '-') {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s: a host or user name may not begin with \"-\"", uri);
        return NULL;
    }
    GStrvBuilder *b = g_strv_builder_new();
    g_strv_builder_add_many(b, "ssh", "-T", "-e", "none", "-o", "LogLevel=ERROR", NULL);
    if (g_uri_get_port(u) > 0) {
        g_autofree char *port = g_strdup_printf("%d", g_uri_get_port(u));
        g_strv_builder_add_many(b, "-p", port, NULL);
    }
    if (user && *user)
        g_strv_builder_add_many(b, "-l", user, NULL);
    g_autofree char *keyfile = query_value(u, "keyfile");
    if (keyfile && *keyfile)
        g_strv_builder_add_many(b, "-i", keyfile, NULL);
    /* libvirt's own meanings of its URI parameters (docs/uri.rst). */
    g_autofree char *no_tty = query_value(u, "no_tty");
    if (no_tty && strcmp(no_tty, "0"))
        g_strv_builder_add_many(b, "-o", "BatchMode=yes", NULL);
    g_autofree char *no_verify = query_value(u, "no_verify");
    g_autofree char *known = query_value(u, "known_hosts");
    if (no_verify && strcmp(no_verify, "0"))
        g_strv_builder_add_many(b, "-o", "StrictHostKeyChecking=no", NULL);
    if (known && *known) {
        g_autofree char *opt = g_strdup_printf("UserKnownHostsFile=%s", known);
        g_strv_builder_add_many(b, "-o", opt, NULL);
    }
    /* One login per user, host and port: every further tunnel (each RDP
     * probe, each connection) rides it while it lasts. */
    g_autofree char *control = lv_ssh_control_path(uri, share_dir);
    if (control) {
        g_autofree char *opt = g_strdup_printf("ControlPath=%s", control);
        g_strv_builder_add_many(b, "-o", "ControlMaster=auto", "-o",
                                "ControlPersist=" G_STRINGIFY(LV_SSH_PERSIST_S), "-o", opt, NULL);
    }
    g_strv_builder_add_many(b, "-W", target, "--", host, NULL);
    GStrv argv = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return argv;
}

char *lv_ssh_control_path(const char *uri, const char *dir)
{
    g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NON_DNS, NULL);
    if (!u || !dir)
        return NULL;
    const char *user = g_uri_get_user(u);
    /* What decides whose key is trusted and which host key is accepted is
     * part of the name: a login shared by a URI with no_verify=1 or another
     * key file is never reused by a stricter URI. */
    g_autofree char *keyfile = query_value(u, "keyfile");
    g_autofree char *known = query_value(u, "known_hosts");
    g_autofree char *no_verify = query_value(u, "no_verify");
    g_autofree char *key = g_strdup_printf(
        "%s@%s:%d\n%s\n%s\n%s", user ? user : "", g_uri_get_host(u),
        g_uri_get_port(u) > 0 ? g_uri_get_port(u) : 22, keyfile ? keyfile : "",
        known ? known : "", no_verify && strcmp(no_verify, "0") ? "no_verify" : "");
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
    sum[LV_SSH_HASH_LEN] = '\0';
    char *path = g_strdup_printf("%s/ssh-%s", dir, sum);
    /* ssh binds PATH.XXXXXXXXXXXXXXXX first, then links it to PATH. */
    if (strlen(path) + 17 > VD_UNIX_PATH_MAX)
        g_clear_pointer(&path, g_free);
    return path;
}

/* vmdesk's runtime folder (0700) for ssh's shared connections, created
 * here; NULL (each tunnel logs in anew) when it cannot be. */
static char *share_dir(void)
{
    char *dir = vd_paths_runtime_root();
    GError *e = NULL;
    if (!vd_mkdir_private(dir, &e)) {
        vd_debug("ssh: no shared connection: %s", e->message);
        g_error_free(e);
        g_clear_pointer(&dir, g_free);
    }
    return dir;
}

GStrv lv_ssh_tunnel_argv(const char *uri, const char *target, GError **error)
{
    g_autofree char *dir = share_dir();
    return lv_ssh_argv(uri, target, dir, error);
}

int lv_ssh_open(const char *uri, const char *target, GError **error)
{
    g_auto(GStrv) argv = lv_ssh_tunnel_argv(uri, target, error);
    if (!argv)
        return -1;
    g_autofree char *what = g_strdup_printf("%s on %s", target, uri);
    return vd_spawn_tunnel((const char *const *)argv, what, error);
}
