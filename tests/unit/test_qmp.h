/* What the two files of unit-qmp share: test_qmp.c (the client: framing,
 * replies, events, errors; against the real QEMU and a fake server) and
 * test_qmp_cmd.c (the typed commands against the real QEMU). Test code
 * only; single-threaded. */
#pragma once

#include "qemu/qmp_client.h"

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>

/* A QEMU with -machine none and its QMP socket, in a folder of the test's. */
typedef struct {
    char *dir;          /* for the test's files too */
    GSubprocess *qemu;
    QmpClient *c;       /* connected; the handshake is the test's */
} TqQemu;

/* The folder, before QEMU starts (a test puts its images there). */
void tq_qemu_init(TqQemu *q);
/* Start QEMU with @extra arguments (NULL-terminated; NULL: none) and
 * connect to its QMP socket. */
void tq_qemu_start(TqQemu *q, const char *const *extra);
/* QEMU ended by itself, cleanly, with nothing on its stderr. */
void tq_qemu_assert_ended(TqQemu *q);
/* Destroy the client, drop QEMU (ended or killed by then), remove the folder. */
void tq_qemu_clear(TqQemu *q);

/* query-status: the status (caller frees); *@running when not NULL. */
char *tq_status(QmpClient *c, bool *running);

/* Register the tests of test_qmp_cmd.c. */
void tq_add_cmd_tests(void);
