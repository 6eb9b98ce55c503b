/* bench-probe-loop: what one RDP readiness probe costs a process that probes
 * many times (the session switch: every 100 ms), for bench/probe-cost.
 *
 *   bench-probe-loop HOST PORT ROUNDS PROBES
 *
 * Each round runs PROBES probes of HOST:PORT (numeric) one way, then PROBES
 * the other, the order alternating by round:
 *   window  connect here, the exchange here too (rdp_probe_exchange: what
 *           the window process did before the probe helper)
 *   helper  rdp_probe(): connect here, the exchange in the kept
 *           vmdesk-probe-helper
 * It prints one line per probe ("MODE ROUND US RESULT"), the first helper
 * probe (which starts the helper) marked "first". */
#include "session/rdp/rdp_probe_priv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 2000

static RdpProbeResult probe_in_window(const char *host, unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return RDP_PROBE_ERROR;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return RDP_PROBE_NO_SERVICE;
    }
    RdpProbeInfo info = {0};
    rdp_probe_exchange(fd, RDP_PROBE_DEFAULT_PROTOCOLS,
                       g_get_monotonic_time() + TIMEOUT_MS * 1000, &info);
    close(fd);
    RdpProbeResult r = info.result;
    rdp_probe_info_clear(&info);
    return r;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench-probe-loop HOST PORT ROUNDS PROBES\n");
        return 2;
    }
    const char *host = argv[1];
    unsigned port = (unsigned)atoi(argv[2]);
    int rounds = atoi(argv[3]), probes = atoi(argv[4]);
    bool first = true;
    for (int round = 0; round < rounds; round++) {
        for (int side = 0; side < 2; side++) {
            bool helper = (side == 0) == (round % 2 == 1);
            for (int i = 0; i < probes; i++) {
                gint64 t0 = g_get_monotonic_time();
                RdpProbeResult r = helper
                                       ? rdp_probe(host, port, RDP_PROBE_DEFAULT_PROTOCOLS,
                                                   TIMEOUT_MS, NULL, NULL)
                                       : probe_in_window(host, port);
                gint64 us = g_get_monotonic_time() - t0;
                printf("%s %d %" G_GINT64_FORMAT " %s%s\n", helper ? "helper" : "window", round,
                       us, rdp_probe_result_to_string(r), helper && first ? " first" : "");
                if (helper)
                    first = false;
            }
        }
    }
    /* The helpers this process keeps, and their memory. */
    int helpers = 0;
    long rss_kb = 0;
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    for (const char *e; d && (e = g_dir_read_name(d));) {
        g_autofree char *path = g_strdup_printf("/proc/%s/status", e);
        g_autofree char *text = NULL;
        if (!g_ascii_isdigit(*e) || !g_file_get_contents(path, &text, NULL, NULL))
            continue;
        g_autofree char *ppid = g_strdup_printf("\nPPid:\t%d\n", (int)getpid());
        const char *rss = strstr(text, "\nVmRSS:");
        if (!g_str_has_prefix(text, "Name:\tvmdesk-probe-h") || !strstr(text, ppid))
            continue;
        helpers++;
        rss_kb += rss ? atol(rss + strlen("\nVmRSS:")) : 0;
    }
    printf("helpers %d rss_kb %ld\n", helpers, rss_kb);
    return 0;
}
