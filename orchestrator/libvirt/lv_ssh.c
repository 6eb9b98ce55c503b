/* SSH tunnels of a qemu+ssh:// connection's parameters. */
#include "libvirt/lv_ssh.h"

#include "common/error.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

GStrv lv_ssh_argv(const char *uri, const char *target, GError **error)
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
    g_strv_builder_add_many(b, "-W", target, "--", host, NULL);
    GStrv argv = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return argv;
}

static gpointer reap(gpointer data)
{
    pid_t pid = GPOINTER_TO_INT(data);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return NULL;
}

/* ssh with @fd as its standard input and output; @fd stays the caller's. */
static bool spawn_ssh(const char *uri, const char *target, int fd, GError **error)
{
    g_auto(GStrv) argv = lv_ssh_argv(uri, target, error);
    if (!argv)
        return false;
    GPid pid = 0;
    GError *e = NULL;
    if (!g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &pid, fd, fd, -1, &e)) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot run ssh to reach %s on %s: %s",
                    target, uri, e->message);
        g_error_free(e);
        return false;
    }
    g_thread_unref(g_thread_new("vd-ssh-reap", reap, GINT_TO_POINTER(pid)));
    return true;
}

int lv_ssh_open(const char *uri, const char *target, GError **error)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "socketpair: %s", g_strerror(errno));
        return -1;
    }
    bool ok = spawn_ssh(uri, target, sv[1], error);
    close(sv[1]);
    if (!ok) {
        close(sv[0]);
        return -1;
    }
    return sv[0];
}

struct LvRelay {
    char *uri, *target;
    int fd;
    unsigned port;
    GThread *thread;
};

static gpointer relay_run(gpointer data)
{
    LvRelay *r = data;
    for (;;) {
        int c = accept4(r->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* shut down by lv_relay_free */
        }
        GError *e = NULL;
        if (!spawn_ssh(r->uri, r->target, c, &e)) {
            g_printerr("vmdesk: %s\n", e->message);
            g_error_free(e);
        }
        close(c);
    }
}

LvRelay *lv_relay_new(const char *uri, const char *target, GError **error)
{
    g_auto(GStrv) check = lv_ssh_argv(uri, target, error);
    if (!check)
        return NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                    "cannot listen on 127.0.0.1 for the tunnel to %s: %s", target,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    LvRelay *r = g_new0(LvRelay, 1);
    r->uri = g_strdup(uri);
    r->target = g_strdup(target);
    r->fd = fd;
    r->port = ntohs(a.sin_port);
    r->thread = g_thread_new("vd-lv-relay", relay_run, r);
    return r;
}

unsigned lv_relay_port(const LvRelay *r)
{
    return r->port;
}

void lv_relay_free(LvRelay *r)
{
    if (!r)
        return;
    /* Wakes the accept() with EINVAL. */
    shutdown(r->fd, SHUT_RDWR);
    g_thread_join(r->thread);
    close(r->fd);
    g_free(r->uri);
    g_free(r->target);
    g_free(r);
}
