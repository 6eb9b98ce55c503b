/* libFuzzer harness for the RDP probe's input side: what a server answers to
 * our X.224 Connection Request (client/session/rdp/rdp_probe.c).
 *
 *  1. rdp_probe_classify() on the whole input, then on growing prefixes the
 *     way the probe reads (4 bytes, then what it asks for): the verdict must
 *     not depend on how the bytes arrived, "more" never asks beyond the cap,
 *     and a closed connection always decides.
 *  2. The input as a server's whole answer on a socket pair, then EOF:
 *     rdp_probe_exchange() decides before its deadline, never with ERROR.
 *
 * The requested protocols come from the input's last byte. Any GLib critical
 * or warning aborts. Built as a fuzzer with VMDESK_FUZZ=ON and clang;
 * replayed over tests/fuzz/corpus/rdp-probe by unit-fuzz-replay. */
#include "fuzz_common.h"
#include "session/rdp/rdp_probe_priv.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return fuzz_common_initialize();
}

static void check_detail(const RdpProbeInfo *info)
{
    if (!info->detail || !g_utf8_validate(info->detail, -1, NULL) ||
        info->result == RDP_PROBE_ERROR)
        abort();
}

static void fuzz_classify(const uint8_t *data, size_t size, unsigned requested)
{
    RdpProbeInfo whole = {0}, parts = {0}, closed = {0};
    size_t want = 0;
    bool decided = rdp_probe_classify(data, size, requested, false, false, &want, &whole);
    if (decided)
        check_detail(&whole);
    else if (want <= size || want > RDP_PROBE_READ_MAX)
        abort();

    /* Prefixes as the probe reads them: what it asks for, or all there is. */
    bool decided_parts = false;
    for (size_t n = 0;;) {
        size_t w = 0;
        if (rdp_probe_classify(data, n, requested, false, false, &w, &parts)) {
            decided_parts = true;
            break;
        }
        if (w <= n || w > RDP_PROBE_READ_MAX)
            abort();
        if (n == size)
            break;
        n = MIN(w, size);
    }
    if (decided != decided_parts || (decided && whole.result != parts.result))
        abort();
    if (decided && whole.result != RDP_PROBE_NOT_RDP && strcmp(whole.detail, parts.detail))
        abort();

    if (!rdp_probe_classify(data, size, requested, true, size & 1, &want, &closed))
        abort();
    check_detail(&closed);
    if (size == 0 && closed.result != RDP_PROBE_NO_SERVICE)
        abort();
    rdp_probe_info_clear(&whole);
    rdp_probe_info_clear(&parts);
    rdp_probe_info_clear(&closed);
}

static void fuzz_exchange(const uint8_t *data, size_t size, unsigned requested)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(sv[1], SHUT_WR);
    RdpProbeInfo info = {0};
    rdp_probe_exchange(sv[0], requested, g_get_monotonic_time() + G_USEC_PER_SEC, &info);
    check_detail(&info);
    /* The server's side ended: the answer is known before the deadline. */
    if (info.result == RDP_PROBE_TIMEOUT)
        abort();
    rdp_probe_info_clear(&info);
    close(sv[0]);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned requested = size ? data[size - 1] & 0x1f : RDP_PROBE_DEFAULT_PROTOCOLS;
    fuzz_classify(data, size, requested);
    fuzz_exchange(data, size, requested);
    return 0;
}
