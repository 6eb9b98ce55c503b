/* The RDP readiness probe: is an RDP server answering on HOST:PORT?
 *
 * Under QEMU user networking a TCP connect to the forwarded port always
 * succeeds (slirp accepts before it knows whether the guest listens), so a
 * connect proves nothing. The probe sends what every RDP client sends first,
 * an X.224 Connection Request with an RDP Negotiation Request
 * (MS-RDPBCGR 2.2.1.1), and reads the server's X.224 Connection Confirm
 * (2.2.1.2): with an RDP Negotiation Response the server is ready and says
 * which security protocol it picked; with an RDP Negotiation Failure it
 * refuses what we asked for. Nothing else is sent: no TLS, no credentials.
 *
 * The window process resolves and connects; the server's bytes are read and
 * classified in a confined helper process (`vmdesk-probe-helper`,
 * kept for the next probe), never here, and its verdict is checked as
 * hostile. Blocking and synchronous, any thread. One overall deadline
 * covers name resolution, connect, send and receive. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Security protocols, the requestedProtocols / selectedProtocol flags of
 * MS-RDPBCGR 2.2.1.1.1. Standard RDP security is the absence of flags. */
#define RDP_PROTOCOL_RDP 0x00u        /* standard RDP security (RC4) */
#define RDP_PROTOCOL_SSL 0x01u        /* TLS */
#define RDP_PROTOCOL_HYBRID 0x02u     /* CredSSP: Network Level Authentication */
#define RDP_PROTOCOL_RDSTLS 0x04u     /* RDSTLS (redirected connections) */
#define RDP_PROTOCOL_HYBRID_EX 0x08u  /* CredSSP with Early User Authorization Result */
#define RDP_PROTOCOL_RDSAAD 0x10u     /* Azure AD authentication */

/* What FreeRDP asks for by default: TLS, NLA, and NLA with the early
 * authorization result. */
#define RDP_PROBE_DEFAULT_PROTOCOLS \
    (RDP_PROTOCOL_SSL | RDP_PROTOCOL_HYBRID | RDP_PROTOCOL_HYBRID_EX)

/* The Negotiation Response flags (MS-RDPBCGR 2.2.1.2.1). */
#define RDP_NEG_FLAG_EXTENDED_CLIENT_DATA 0x01u
#define RDP_NEG_FLAG_DYNVC_GFX 0x02u
#define RDP_NEG_FLAG_RESTRICTED_ADMIN 0x08u
#define RDP_NEG_FLAG_REDIRECTED_AUTH 0x10u

/* The Negotiation Failure codes (MS-RDPBCGR 2.2.1.2.2). */
#define RDP_NEG_FAILURE_SSL_REQUIRED_BY_SERVER 1u
#define RDP_NEG_FAILURE_SSL_NOT_ALLOWED_BY_SERVER 2u
#define RDP_NEG_FAILURE_SSL_CERT_NOT_ON_SERVER 3u
#define RDP_NEG_FAILURE_INCONSISTENT_FLAGS 4u
#define RDP_NEG_FAILURE_HYBRID_REQUIRED_BY_SERVER 5u
#define RDP_NEG_FAILURE_SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER 6u

typedef enum {
    RDP_PROBE_READY,      /* a Connection Confirm: an RDP server will take a client now */
    RDP_PROBE_NO_SERVICE, /* connection refused, or closed or reset without an answer */
    RDP_PROBE_NOT_RDP,    /* an answer that is not an RDP Connection Confirm */
    RDP_PROBE_REFUSED,    /* an RDP server that refuses the protocols we asked for */
    RDP_PROBE_TIMEOUT,    /* no answer (or no connection) within the deadline */
    RDP_PROBE_ERROR,      /* we could not probe at all: bad host name, no socket */
} RdpProbeResult;

typedef struct {
    RdpProbeResult result;
    char *address;           /* "127.0.0.1:47101", "[::1]:3389" (the one tried last) */
    bool connected;          /* the TCP connection was accepted (under user networking
                              * it always is: only the answer tells) */
    /* READY */
    bool negotiated;         /* the confirm carried a Negotiation Response; false: an old
                              * server without negotiation, standard RDP security */
    unsigned protocol;       /* RDP_PROTOCOL_* the server selected */
    unsigned server_flags;   /* RDP_NEG_FLAG_* of the response */
    /* REFUSED */
    unsigned failure_code;   /* RDP_NEG_FAILURE_*; 0 for an X.224 Disconnect Request */
    /* every result: one sentence for the user, without the address, e.g.
     * "the server requires TLS" or "another service answered: \"SSH-2.0-...\"" */
    char *detail;
    gint64 elapsed_us;       /* from the call until the result was known */
} RdpProbeInfo;

/* Free what @info holds (NULL-safe) and zero it. */
void rdp_probe_info_clear(RdpProbeInfo *info);

/* Probe @host (a numeric address or a name; NULL means 127.0.0.1) on @port,
 * asking for @requested_protocols (RDP_PROTOCOL_* flags;
 * RDP_PROBE_DEFAULT_PROTOCOLS for what FreeRDP asks). Returns within about
 * @timeout_ms whatever the server does (a name that resolves slowly included:
 * the lookup is abandoned at the deadline). At most 512 bytes are read.
 *
 * Fills @info (cleared first; may be NULL) and returns its result. Only
 * RDP_PROBE_ERROR sets @error (VD_ERROR_INVALID for a bad port or a name
 * that does not resolve, VD_ERROR_FAILED when no socket can be made); every
 * other result is an answer about the server, not a failure of the probe. */
RdpProbeResult rdp_probe(const char *host, unsigned port, unsigned requested_protocols,
                         int timeout_ms, RdpProbeInfo *info, GError **error);

/* rdp_probe through a tunnel: @tunnel (an argv such as `ssh -W HOST:PORT
 * ...`) is started with one end of a socket pair as its standard input and
 * output (vd_spawn_tunnel) and the request goes through the other end, so
 * nothing listens here; @address names the far end in @info. A tunnel that
 * closes without an answer (ssh could not reach the far end) is
 * RDP_PROBE_NO_SERVICE; one that cannot be started is RDP_PROBE_ERROR with
 * @error. */
RdpProbeResult rdp_probe_tunnel(const char *const *tunnel, const char *address,
                                unsigned requested, int timeout_ms, RdpProbeInfo *info,
                                GError **error);

/* `vmdesk-probe-helper`: the probe's exchange with servers, confined
 * (rdp_probe_helper.c), for the window process that hands it each connected
 * socket. Returns the exit status. */
int rdp_probe_helper_main(void);

/* "ready", "no-service", "not-rdp", "refused", "timeout", "error". */
const char *rdp_probe_result_to_string(RdpProbeResult result);

/* A selected protocol for people: "standard RDP", "TLS", "NLA (CredSSP)",
 * "RDSTLS", "NLA (CredSSP, HYBRID_EX)", "RDS AAD"; "protocol 0x40" for others.
 * Static storage except for unknown values, which use a per-thread buffer. */
const char *rdp_probe_protocol_name(unsigned protocol);
/* Short lowercase names as the CLI takes and prints them: "rdp", "tls", "nla",
 * "rdstls", "nla-ex", "aad"; NULL for an unknown value. */
const char *rdp_probe_protocol_id(unsigned protocol);

/* Parse a comma-separated list of protocol ids ("tls,nla", "rdp") into
 * RDP_PROTOCOL_* flags. VD_ERROR_INVALID names the unknown word. */
bool rdp_probe_protocols_parse(const char *text, unsigned *protocols, GError **error);

/* The sentence for a Negotiation Failure code, e.g. 1 -> "the server
 * requires TLS". Unknown codes get a sentence with the number. Caller frees. */
char *rdp_probe_failure_sentence(unsigned failure_code);
