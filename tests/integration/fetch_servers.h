/* The HTTP servers of integration-fetch, each on a free 127.0.0.1 port and
 * dying with the test (PR_SET_PDEATHSIG): nginx (private config, prefix,
 * temp folders, pid file and logs under the test's folder; one process, no
 * daemon) with /slow/ under limit_rate and a TLS server with a self-signed
 * certificate; python3's http.server (ignores Range); and a few lines of
 * Python that stream 64 MiB without a Content-Length. Test code only. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

/* Per connection under /slow/: 64 MiB over one connection take 8 s. */
#define SLOW_RATE "8m"

typedef struct {
    char *access_log;       /* nginx's, one line per request:
                               METHOD URI STATUS "RANGE" BODY-BYTES */
    unsigned nginx_port;    /* http: @www, and @www under /slow/ */
    unsigned tls_port;      /* https with a self-signed certificate */
    unsigned python_port;   /* python3 -m http.server over @www */
    unsigned stream_port;   /* any path: 64 MiB, no length, no ranges */
    GSubprocess *nginx, *python, *stream;
} FetchServers;

/* Start all of them; their files go under @root, they serve @www. Aborts the
 * test when one does not come up. */
void fetch_servers_start(FetchServers *s, const char *root, const char *www);
/* SIGTERM, wait, free. */
void fetch_servers_stop(FetchServers *s);
/* A 127.0.0.1 port nobody listens on right now. */
unsigned fetch_servers_free_port(void);
