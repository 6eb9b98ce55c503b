/* The vmdesk window: one SDL2 window showing one live session, with the
 * keyboard, mouse, clipboard and scaling users expect. Main thread only.
 * No SDL type leaves the window's files (window*.c, window_priv.h), and no
 * orchestrator header enters them: what the window learns about a VM comes
 * through WindowVmHooks, which the caller fills in. */
#pragma once

#include "session/rdp/rdp_session.h"
#include "session/vnc/vnc_session.h"
#include "ui/switch.h"

#include <glib.h>
#include <stdbool.h>

typedef enum { WINDOW_SCALE_AUTO, WINDOW_SCALE_FIT, WINDOW_SCALE_1, WINDOW_SCALE_2 } WindowScale;

bool window_scale_parse(const char *s, WindowScale *out, GError **error);

/* auto: VNC first (firmware, boot, installer), RDP by itself once the guest's
 * RDP service answers, VNC again if RDP drops (ARCHITECTURE.md, "The session
 * switch"). */
typedef enum { WINDOW_PROTOCOL_AUTO, WINDOW_PROTOCOL_VNC, WINDOW_PROTOCOL_RDP } WindowProtocol;

bool window_protocol_parse(const char *s, WindowProtocol *out, GError **error);

/* Where the VM is in its life, as far as the window cares. */
typedef enum {
    WINDOW_VM_ACTIVE,   /* its QEMU runs (starting, running, paused, ...) */
    WINDOW_VM_STOPPING, /* shutting down: its connections are about to close */
    WINDOW_VM_STOPPED,  /* shut down */
    WINDOW_VM_FAILED,   /* its QEMU or supervisor died */
} WindowVmPhase;

typedef struct {
    WindowVmPhase phase;
    char *state;  /* for the title: "RUNNING" (owned, g_malloc) */
    char *reason; /* why it is in this state, or NULL (owned) */
} WindowVmStatus;

/* Frees the strings of @st (not @st). */
void window_vm_status_clear(WindowVmStatus *st);

/* What the on-shutdown=ask question is about. */
typedef struct {
    char *base;             /* the base image the changes would go into (owned) */
    guint64 changed_bytes;  /* guest bytes the overlay holds */
    bool firmware_changed;  /* new UEFI variables or TPM state too */
} WindowOverlayInfo;

/* Frees the strings of @info (not @info). */
void window_overlay_info_clear(WindowOverlayInfo *info);

/* The user's answer to the question. */
typedef enum { WINDOW_OVERLAY_KEEP, WINDOW_OVERLAY_COMMIT, WINDOW_OVERLAY_DISCARD } WindowOverlayAnswer;

/* How the window follows the VM it shows: the caller's calls into the
 * orchestrator (client/cli/cli_window.c), each given @data. Borrowed by
 * window_run for its whole run. */
typedef struct {
    void *data;
    /* The VM's state now: fills @out (the caller of the hook clears it).
     * Never fails: a VM without a state is STOPPED. Main thread, every
     * 500 ms and when a session closes. */
    void (*status)(void *data, WindowVmStatus *out);
    /* Whether the guest runs its RDP service, as the guest agent says;
     * UNKNOWN when it cannot tell. Blocks up to about @timeout_ms. *@detail:
     * one sentence for the debug log or NULL (the caller of the hook frees
     * it). Called on the window's probe thread (auto mode), every few s. */
    SwitchRdpService (*rdp_service)(void *data, int timeout_ms, char **detail);
    /* Whether the VM's last shutdown left an on-shutdown=ask question
     * unanswered. Never fails. Main thread, once the VM shut down. */
    bool (*overlay_pending)(void *data);
    /* What the question is about: fills @out (the caller of the hook clears
     * it); false with @error when that cannot be told (then nothing is
     * asked). Main thread. */
    bool (*overlay_info)(void *data, WindowOverlayInfo *out, GError **error);
    /* Apply the user's @answer; false with @error when it could not be (the
     * overlay is kept then). Main thread. */
    bool (*overlay_answer)(void *data, WindowOverlayAnswer answer, GError **error);
} WindowVmHooks;

typedef struct {
    const char *title;        /* VM name or server address */
    const char *vm_name;      /* follow this VM's state (title, close on shutdown); or NULL */
    const WindowVmHooks *vm;  /* with @vm_name (required then): how to follow it */
    const VncTarget *vnc;     /* where to connect (and reconnect); NULL: no VNC */
    const RdpTarget *rdp;     /* NULL: no RDP; its size and scale come from the window */
    WindowProtocol protocol;  /* AUTO needs both targets */
    bool fullscreen;
    WindowScale scale;
    int rdp_scale_pct;        /* RDP desktop scale factor; 0: the display's own */
    const char *wm_class;     /* the window's class (a desktop entry's StartupWMClass), or NULL */
    bool close_on_end;        /* a session that ends without an error closes the window */
} WindowOptions;

/* Open the window and run until the user closes it, the VM shuts down, or
 * the first connection fails (then @error says why, e.g. a wrong password).
 * A connection lost later is shown in the title and retried. Main thread;
 * returns once every session it opened reported CLOSED and was destroyed. */
bool window_run(const WindowOptions *opts, GError **error);
