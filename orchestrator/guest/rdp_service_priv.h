/* Internals of rdp_service.c for the unit tests: reading the answers of the
 * programs it runs in the guest. Pure functions. */
#pragma once

#include "guest/rdp_service.h"

/* The units asked about on Linux guests, in the order systemctl answers. */
extern const char *const rdp_service_linux_units[];

/* `systemctl is-active UNIT...` printed one state per line for @units:
 * RUNNING when one is "active" (*@which is then that unit), STOPPED when each
 * line is another state systemctl knows, UNKNOWN for anything else (no
 * systemd: "System has not been booted with systemd..."). */
RdpServiceState rdp_service_parse_systemctl(const char *out, const char *const *units,
                                            const char **which);

/* `sc.exe query TermService`: the STATE line ("STATE : 4  RUNNING", CRLF
 * line ends): RUNNING, or STOPPED for STOPPED and the *_PENDING states;
 * UNKNOWN without a STATE line ("[SC] OpenService FAILED 1060: ..."). */
RdpServiceState rdp_service_parse_sc_query(const char *out);
