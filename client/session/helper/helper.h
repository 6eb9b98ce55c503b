/* The session helper: each connection's protocol library runs in a process
 * of its own (`vmdesk-session-helper PROTOCOL`, vmdesk's code in a program
 * that links only the protocol library, so it starts fast), confined
 * (confine.h) before it reads a byte from the server. The window process
 * connects the socket, starts the helper with it, and relays: pictures
 * through a shared-memory framebuffer the library draws into, the rest
 * through a checked message channel (helper_proto.h). It treats the helper as
 * hostile, and a helper that dies is a lost connection. docs/SECURITY.md
 * says what this protects. */
#pragma once

#include "session/clip_stage.h"
#include "session/helper/helper_proto.h"
#include "session/session_priv.h"

#include <sys/types.h>

/* The window side. Connects the server socket for a protocol: a connected
 * socket, or -1 with @error (the user's message: "nothing accepts VNC
 * connections at ..."). Called on the session thread. */
typedef int (*HelperConnectFunc)(void *data, GError **error);

/* The window side's answer to the server's certificate (PEM, as the helper
 * says it came; hostile): whether to trust it, else false with @error (the
 * session's error then). @subject is the helper's word, for messages only.
 * Called with @connect_data on the session thread. */
typedef bool (*HelperCertFunc)(void *data, const char *host, unsigned port, const char *subject,
                               const char *pem, GError **error);

/* The window side. The message for a protocol's own input @in that
 * carries more than bytes (RDP: RemoteApp's launches and window commands),
 * begun and filled in @b; false when @in is none of these. */
typedef bool (*HelperEncodeFunc)(const SessionInput *in, GByteArray *b);

typedef struct {
    const char *protocol;       /* "vnc", "rdp" */
    const char *where;          /* the server, for messages: "127.0.0.1:5901" */
    const char *password;       /* or NULL; goes to the helper over the channel only */
    GBytes *options;            /* or NULL: the protocol's own settings, as its helper
                                   reads them (borrowed) */
    HelperConnectFunc connect;
    HelperCertFunc check_cert;  /* NULL: a helper asking is broken */
    void *connect_data;         /* taken: freed with @free_connect_data */
    GDestroyNotify free_connect_data;
    bool sound;                 /* the session plays sound (RDP with audio): only then are
                                   the helper's sound messages taken, and the microphone
                                   recorded while it asks; otherwise one is a broken rule */
    HelperEncodeFunc encode_input; /* NULL: no such inputs */
} HelperSpec;

/* A session whose protocol runs in a helper process (@spec copied). Does not
 * connect yet (session_connect); never fails. @notify (may be NULL) is
 * called with @data on the session thread after each event. Main thread. */
Session *helper_session_create(const HelperSpec *spec, SessionNotifyFunc notify, void *data);

/* Connect a TCP socket to @host:@port (at most @timeout_s a try): the
 * socket, or -1 with @error when @host cannot be resolved ("cannot find
 * the @what ...") or with *@err the errno of the last try. */
int helper_connect_tcp(const char *host, int port, int timeout_s, const char *what, int *err,
                       GError **error);

/* The helper side. The descriptors it is started with. */
enum { HELPER_FD_CHANNEL = 3, HELPER_FD_SERVER = 4 };

/* The helper programs: a session's (`vmdesk-session-helper vnc|rdp`) and
 * the RDP probe's (`vmdesk-probe-helper`, session/rdp/rdp_probe.h), which
 * links no protocol library and so starts faster. */
#define HELPER_SESSION_PROGRAM "vmdesk-session-helper"
#define HELPER_PROBE_PROGRAM "vmdesk-probe-helper"

/* The window side. Start helper @program with argument @mode (NULL: none)
 * and @chan as its descriptor HELPER_FD_CHANNEL and @server (or -1: none)
 * as HELPER_FD_SERVER, /dev/null as stdin and stdout, the filtered
 * environment; both descriptors stay the caller's. The child's pid (the
 * caller reaps it), or -1 with @error. Any thread. */
pid_t helper_spawn(const char *program, const char *mode, int chan, int server,
                   GError **error);

/* What the window sent first: where the server is, the password, the
 * protocol's own settings (never NULL after helper_begin). */
typedef struct {
    char *where;
    char *password;
    GBytes *options;
} HelperConfig;

void helper_config_clear(HelperConfig *c);

/* Start of `vmdesk-session-helper PROTOCOL`: close every other descriptor,
 * read the configuration, confine the process (unless
 * VMDESK_UNSAFE_NO_CONFINE=1, for the escape test's control run). False with
 * @error when it must not go on. Main thread, before any other thread. */
bool helper_begin(HelperConfig *config, GError **error);
/* helper_begin, with the protocol library's own read-only paths besides /usr
 * (NULL-terminated; NULL: none) and the session's shared folders,
 * read-write. */
bool helper_begin_with(HelperConfig *config, const char *const *read_only,
                       const char *const *read_write, GError **error);

/* Start of `vmdesk-probe-helper` (session/rdp/rdp_probe.h): close
 * every descriptor but the channel, confine the process as helper_begin
 * does with nothing to read beyond /usr and nothing to write. It reads no
 * configuration: each request brings its socket. Main thread, before any
 * other thread. */
bool helper_begin_probe(GError **error);

/* helper_begin_with in two steps, for a helper whose shares come with the
 * configuration: read it (no confinement yet), then confine. */
bool helper_begin_read(HelperConfig *config, GError **error);
bool helper_confine(const char *const *read_only, const char *const *read_write, GError **error);

/* Where the helper's streamed clipboard stage sends the server's copied
 * files (clip_stage_create_streamed, with NULL data): the list, each
 * file's size and bytes, the end, as HELPER_MSG_CLIP_PASTE, _FILE, _BYTES
 * and _END; the window stages them (helper_window_clip.c). The helper
 * itself writes no file but in the shares. The session thread. */
extern const ClipStageSink helper_clip_sink;

/* A message of the window's in 0x30-0x3f (RDP: RemoteApp's, helper_proto.h)
 * for the local session @s; the window is trusted, but a malformed one is
 * ignored. */
typedef void (*HelperInputFunc)(Session *s, const HelperMsg *m);
/* Who reads those messages (NULL: ignored). Before helper_serve. */
void helper_set_input_hook(HelperInputFunc hook);

/* Ask the window for bytes of the host's copied file @index (of the list it
 * last sent): @len from @pos, or with @size its size (8 bytes, LE). NULL
 * when the window refuses or does not answer. Any thread but helper_serve's. */
GBytes *helper_clip_read(guint index, uint64_t pos, uint32_t len, bool size);

/* Ask the window whether to trust the server's certificate (@pem) and wait
 * for its answer: the helper never decides trust. False when the window
 * refuses it or does not answer. The session thread of the helper. */
bool helper_check_cert(const char *host, unsigned port, const char *subject, const char *pem);

/* The notify hook (session_alloc's) of the helper's local session: wakes
 * helper_serve. Valid after helper_begin. */
void helper_session_notify(void *unused);

/* Relay the local session @s (created with fb_shared and
 * helper_session_notify, connected) over the
 * channel until the window closes it or the session ends; destroys @s.
 * Returns the process's exit status. */
int helper_serve(Session *s);

/* Whether the error that ended a session is one a fresh connection mends
 * (VNC: a stream that cannot be resynced); the window reconnects then. */
GQuark helper_resync_quark(void);
#define HELPER_RESYNC helper_resync_quark()
