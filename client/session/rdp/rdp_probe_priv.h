/* Internals of the RDP probe that the unit tests and the fuzz harness use:
 * the request bytes, the classification of the server's answer (pure), and
 * the exchange over a socket that is already connected. */
#pragma once

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
 * @fd. Sets @info's result and detail; the caller sets address and elapsed. */
void rdp_probe_exchange(int fd, unsigned requested, gint64 deadline, RdpProbeInfo *info);
