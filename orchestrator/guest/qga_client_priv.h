/* Internals of qga_client.c that the unit tests reach. */
#pragma once

#include "guest/qga_client.h"

/* An exchanger's answer @text (@len bytes) to @command, from @peer (for
 * messages): exactly one JSON object with "return" or "error", at most
 * QGA_MESSAGE_MAX bytes, checked as strictly as the socket's lines. Returns
 * it (caller unrefs) or NULL with VD_ERROR_PROTOCOL saying what is wrong.
 * Never crashes on any input. Pure. */
JsonObject *qga_reply_parse(const char *text, gsize len, const char *command, const char *peer,
                            GError **error);
