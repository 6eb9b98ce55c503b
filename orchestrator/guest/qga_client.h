/* A client for the QEMU guest agent (qemu-ga in the guest, reached through
 * the VM's virtio-serial channel, $XDG_RUNTIME_DIR/vmdesk/NAME/qga.sock).
 *
 * The agent speaks QMP's JSON lines without greeting, ids or events; the
 * socket, the framing and the broken state are a qemu/json_channel.h
 * channel, as for the QMP client. The virtio-serial channel outlives any one
 * client: bytes of an earlier client's exchange may still be in it. So
 * every client first synchronizes with guest-sync-delimited (a 0xFF byte to
 * reset the agent's parser, a random id, and the agent's 0xFF before its
 * answer: what came before is dropped, and answers with another id are
 * stale). Commands then get their answers in order; after a command timed
 * out, the next one resynchronizes first so that a late answer is never
 * taken for its own.
 *
 * The same client also runs over a transport of someone else's that does the
 * framing and synchronizing itself (qga_client_new_exchange: libvirt's
 * virDomainQemuAgentCommand, for libvirt's domains), so that everything
 * built on the client (guest-exec, the application listing) works there too.
 *
 * Blocking with deadlines. Not thread-safe: one thread owns a client.
 * Errors: VD_ERROR_NOT_FOUND when nothing listens on the socket, and
 * VD_ERROR_TIMEOUT when nothing answers; both messages start with "no guest
 * agent". VD_ERROR_PROTOCOL for framing errors and EOF (the client is then
 * broken: every later call fails the same way), VD_ERROR_VM (or NOT_FOUND
 * for CommandNotFound) when the agent refuses a command. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

/* Largest message the agent may send: guest-exec-status carries the
 * program's output, which the agent caps at 16 MiB, in base64. */
#define QGA_MESSAGE_MAX (24u << 20)

typedef struct QgaClient QgaClient;

/* Wrap a connected stream socket; takes ownership of @fd. @name names the
 * agent in messages (NULL: "the guest agent"). */
QgaClient *qga_client_new_fd(int fd, const char *name);
/* Connect to the unix socket at @path (once, no retry: a missing socket means
 * the VM is not running). Does not synchronize yet. */
QgaClient *qga_client_connect_unix(const char *path, GError **error);
/* Someone else's transport to an agent, that frames and synchronizes by
 * itself (libvirt's virDomainQemuAgentCommand: libvirt/lv_agent.h): send
 * @request, one command as JSON text ({"execute": ..., "arguments": ...}),
 * and return the agent's whole answer as text (newly allocated; it is
 * checked as hostile: qga_client_priv.h), within @timeout_ms. A refusal may
 * come as an answer with "error". NULL with @error when no answer came,
 * worded for users: VD_ERROR_NOT_FOUND or VD_ERROR_TIMEOUT messages that
 * start with "no guest agent" when none is there or none answers. */
typedef char *(*QgaExchangeFunc)(void *data, const char *request, int timeout_ms,
                                 GError **error);

/* A client whose commands go through @exchange with @data (@destroy, may be
 * NULL, frees @data with the client). The same calls work on it as on a
 * socket's client; qga_client_sync() is a guest-ping there. */
QgaClient *qga_client_new_exchange(QgaExchangeFunc exchange, void *data, GDestroyNotify destroy,
                                   const char *name);
void qga_client_destroy(QgaClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QgaClient, qga_client_destroy)

/* guest-sync-delimited with a fresh random id, dropping stale bytes and
 * answers. VD_ERROR_TIMEOUT "no guest agent answered ..." when nothing comes
 * within @timeout_ms (QEMU accepts on the socket whether or not an agent
 * runs in the guest). */
bool qga_client_sync(QgaClient *c, int timeout_ms, GError **error);

/* guest-ping (synchronizing first if needed). */
bool qga_client_ping(QgaClient *c, int timeout_ms, GError **error);

/* Run @command with @args (ownership taken; NULL for none), synchronizing
 * first if needed. Returns the "return" member (caller unrefs) or NULL with
 * @error set. */
JsonNode *qga_client_execute(QgaClient *c, const char *command, JsonObject *args,
                             int timeout_ms, GError **error);

typedef struct {
    int exit_code;      /* -1 when it was killed by a signal */
    int signal;         /* the signal that killed it, else 0 */
    char *out;          /* decoded stdout, NUL-terminated (may hold other NULs) */
    gsize out_len;
    bool out_truncated; /* the agent kept only the start */
    char *err;          /* decoded stderr, likewise */
    gsize err_len;
    bool err_truncated;
    gint64 pid;         /* in the guest */
} QgaExecResult;

void qga_exec_result_clear(QgaExecResult *r);

/* Run @path in the guest with guest-exec, @argv as for execv(): argv[0]
 * names the program, the arguments follow, NULL-terminated (NULL: none; the
 * agent cannot pass argv[0] on, the program sees @path there). Captures its
 * output, and polls
 * guest-exec-status until it ends or @timeout_ms (for the whole) passed.
 * The exit status is the caller's to judge. Fails with VD_ERROR_NOT_FOUND
 * when the program does not exist in the guest, VD_ERROR_TIMEOUT when it did
 * not end in time (it goes on running in the guest: the agent cannot kill it). */
bool qga_client_exec(QgaClient *c, const char *path, const char *const *argv, int timeout_ms,
                     QgaExecResult *result, GError **error);

/* qga_client_exec() with @input_len bytes of @input (borrowed; may hold NULs)
 * given to the program as its standard input (guest-exec's input-data: the
 * agent writes them, then closes the pipe), and @env (NULL-terminated
 * "KEY=VALUE" strings, borrowed; NULL: the agent's environment) as its whole
 * environment. This is how a script runs in the guest without being
 * installed there: `sh -s` reads it from stdin. The agent holds the input in
 * memory and the message carries it in base64: keep it to a few MiB. Same
 * errors as qga_client_exec(). */
bool qga_client_exec_input(QgaClient *c, const char *path, const char *const *argv,
                           const char *const *env, const void *input, gsize input_len,
                           int timeout_ms, QgaExecResult *result, GError **error);
