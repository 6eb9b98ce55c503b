/* Internals of the RDP probe that the unit tests and the fuzz harness use:
 * the request bytes, the classification of the server's answer (pure), and
 * the exchange over a socket that is already connected. */
#pragma once

#include "session/helper/helper_proto.h"
#include "session/rdp/rdp_probe.h"

#include <stddef.h>

/* TPKT (4) + X.224 Connection Request header (7) + RDP_NEG_REQ (8). */
#define RDP_PROBE_REQUEST_LEN 19
/* Most bytes the probe reads: a Connection Confirm is 11 or 19 bytes; what
 * is read beyond that only describes an answer that is not one. */
#define RDP_PROBE_READ_MAX 512
/* Bytes of a non-RDP answer shown in its description (text up to its first
 * line end, or binary in hex). */
#define RDP_PROBE_SHOW_MAX 64

/* Fill @out with the Connection Request asking for @protocols. */
void rdp_probe_build_request(unsigned protocols, guint8 out[RDP_PROBE_REQUEST_LEN]);

/* Classify the @len bytes a server sent so far in answer to the request
 * asking for @requested. @closed: the server closed or reset the connection
 * after them (@reset tells which, for the sentence).
 *
 * Returns true when the answer is decided: @info's result, negotiated,
 * protocol, server_flags, failure_code and detail are set (detail replaced).
 * Returns false when more bytes are needed (never when @closed); *@want is
 * then the total length the answer needs, at most RDP_PROBE_READ_MAX. */
bool rdp_probe_classify(const guint8 *data, size_t len, unsigned requested, bool closed,
                        bool reset, size_t *want, RdpProbeInfo *info);

/* Send the request on the connected stream socket @fd (made non-blocking),
 * read the answer and classify it by @deadline (monotonic µs). Does not close
 * @fd. Sets @info's result and detail; the caller sets address and elapsed.
 * This parses the server's bytes: the probe helper runs it (below); the
 * window process calls rdp_probe_exchange_confined. */
void rdp_probe_exchange(int fd, unsigned requested, gint64 deadline, RdpProbeInfo *info);

/* rdp_probe_exchange in `vmdesk-probe-helper` (rdp_probe_helper.c),
 * asked by the window (rdp_probe_confined.c):
 * @fd (not closed; the helper gets a copy) goes to an idle helper of this
 * process, or a new one, whose verdict is checked (rdp_probe_answer_read)
 * and copied into @info. A helper that cannot start, dies, answers garbage
 * or has not answered PROBE_HELPER_GRACE_MS after @deadline is killed:
 * false, @info's result RDP_PROBE_ERROR, its detail and @error saying why.
 * Any thread; probes on several threads run at once, each in its helper. */
bool rdp_probe_exchange_confined(int fd, unsigned requested, gint64 deadline, RdpProbeInfo *info,
                                 GError **error);

/* The longest detail sentence a probe helper may send (it cuts longer ones). */
#define RDP_PROBE_DETAIL_MAX 512

/* Read the probe helper's answer @m (HELPER_MSG_PROBE_ANSWER: hostile) into
 * @info's result, negotiated, protocol, server_flags, failure_code and
 * detail. Every field is range-checked and must agree with the others (no
 * ERROR, a negotiation only when READY, no protocol or flags without one,
 * flags of one byte, a failure code only when REFUSED), the detail is
 * rdp_probe_detail_ok. False with @error (VD_ERROR_PROTOCOL), @info
 * untouched, otherwise. Any thread. */
bool rdp_probe_answer_read(const HelperMsg *m, RdpProbeInfo *info, GError **error);

/* Whether @detail may reach a log, a window or a terminal: 1 to
 * RDP_PROBE_DETAIL_MAX bytes of valid UTF-8, every character printable (no
 * control, format or unassigned character). */
bool rdp_probe_detail_ok(const char *detail);

/* End this process's idle probe helpers (tests; a process need not: its
 * helpers leave when it exits and their channel closes). Any thread. */
void rdp_probe_helpers_close(void);
