/* RemoteApp (RAIL, MS-RDPERP): the rail static channel through
 * libfreerdp-server3's RAIL server, the test programs, and their windows as
 * window orders (MS-RDPERP 2.2.1.3, srv_rail_orders.c) painted onto the
 * desktop surface. HiDef RemoteApp (MS-RDPERP 1.3.3.1, "Enhanced
 * RemoteApp") is offered: the HandshakeEx PDU with the HiDef flag goes out
 * in place of the Handshake when the client said it supports it.
 *
 * Threads: the library's RAIL thread runs the Client* callbacks; they log at
 * once and queue what needs an answer. Everything else (exec results,
 * window orders, pictures, stdin commands) happens on the peer thread, which
 * owns the connection: window orders and pictures go straight out through
 * the peer's update interface, which is not thread-safe. Channel PDUs the
 * library writes are queued by the channel manager and sent on the peer
 * thread too, so an exec result is flushed before the windows it announces.
 *
 * Windows (srv_rail_win.c) get ids 0x1001, 0x1002, ... in the order they
 * are created. See README.md for the programs, log lines and commands. */
#include "srv_rail_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <freerdp/channels/wtsvc.h>
#include <winpr/synch.h>

#define SLOWSTART_MS 2000
/* MS-RDPBCGR's capability set type of the Remote Programs set (FreeRDP
 * keeps its constant private). */
#define CAPSET_TYPE_RAIL 0x0017
/* What the HandshakeEx PDU says the server does: HiDef (Enhanced
 * RemoteApp), the extended system parameters and SnapArrange. */
#define HANDSHAKE_EX_FLAGS                                                                    \
    (TS_RAIL_ORDER_HANDSHAKEEX_FLAGS_HIDEF | TS_RAIL_ORDER_HANDSHAKE_EX_FLAGS_EXTENDED_SPI_SUPPORTED | \
     TS_RAIL_ORDER_HANDSHAKE_EX_FLAGS_SNAP_ARRANGE_SUPPORTED)

/* --- events from the RAIL thread --- */

typedef enum { EV_EXEC, EV_ACTIVATE, EV_SYSCOMMAND, EV_MOVE, EV_WORKAREA, EV_APPID } EvType;

typedef struct {
    EvType type;
    uint32_t id;
    int a, b, c, d;    /* rect (left, top, right, bottom), or the command / enabled flag */
    char *program;     /* EV_EXEC */
} RailEvent;

static void event_free(gpointer data)
{
    RailEvent *ev = data;
    g_free(ev->program);
    g_free(ev);
}

static void post(SrvRail *r, RailEvent *ev)
{
    g_mutex_lock(&r->lock);
    g_queue_push_tail(&r->events, ev);
    SetEvent(r->event);
    g_mutex_unlock(&r->lock);
}

static RailEvent *event_new(EvType type, uint32_t id)
{
    RailEvent *ev = g_new0(RailEvent, 1);
    ev->type = type;
    ev->id = id;
    return ev;
}

/* --- client PDUs (RAIL thread) --- */

static UINT on_handshake(RailServerContext *ctx, const RAIL_HANDSHAKE_ORDER *o)
{
    srv_log("rail client-handshake %u", o->buildNumber);
    return CHANNEL_RC_OK;
}

static UINT on_client_status(RailServerContext *ctx, const RAIL_CLIENT_STATUS_ORDER *o)
{
    srv_log("rail client-status 0x%x", o->flags);
    return CHANNEL_RC_OK;
}

static UINT on_exec(RailServerContext *ctx, const RAIL_EXEC_ORDER *o)
{
    SrvRail *r = ctx->custom;
    const char *program = o->RemoteApplicationProgram ? o->RemoteApplicationProgram : "";
    const char *dir = o->RemoteApplicationWorkingDir, *args = o->RemoteApplicationArguments;
    srv_log("rail exec %s", program);
    if (dir && *dir)
        srv_log("rail exec-dir %s", dir);
    if (args && *args)
        srv_log("rail exec-args %s", args);
    srv_log("rail exec-flags 0x%x", o->flags);
    RailEvent *ev = event_new(EV_EXEC, 0);
    ev->program = g_strdup(program);
    ev->a = o->flags;
    post(r, ev);
    return CHANNEL_RC_OK;
}

static const char *spi_name(UINT32 param)
{
    switch (param) {
    case SPI_SET_DRAG_FULL_WINDOWS: return "drag-full-windows";
    case SPI_SET_KEYBOARD_CUES: return "keyboard-cues";
    case SPI_SET_KEYBOARD_PREF: return "keyboard-pref";
    case SPI_SET_MOUSE_BUTTON_SWAP: return "mouse-button-swap";
    case SPI_SET_HIGH_CONTRAST: return "high-contrast";
    case SPI_DISPLAY_CHANGE: return "display-change";
    case SPI_TASKBAR_POS: return "taskbar-pos";
    default: return NULL;
    }
}

static UINT on_sysparam(RailServerContext *ctx, const RAIL_SYSPARAM_ORDER *o)
{
    SrvRail *r = ctx->custom;
    if (o->param == SPI_SET_WORK_AREA) {
        const RECTANGLE_16 *a = &o->workArea;
        srv_log("rail sysparam work-area %u %u %u %u", a->left, a->top, a->right, a->bottom);
        RailEvent *ev = event_new(EV_WORKAREA, 0);
        ev->a = a->left;
        ev->b = a->top;
        ev->c = a->right;
        ev->d = a->bottom;
        post(r, ev);
    } else if (spi_name(o->param)) {
        srv_log("rail sysparam %s", spi_name(o->param));
    } else {
        srv_log("rail sysparam 0x%x", o->param);
    }
    return CHANNEL_RC_OK;
}

static UINT on_activate(RailServerContext *ctx, const RAIL_ACTIVATE_ORDER *o)
{
    srv_log("rail activate 0x%x %d", o->windowId, o->enabled ? 1 : 0);
    RailEvent *ev = event_new(EV_ACTIVATE, o->windowId);
    ev->a = o->enabled ? 1 : 0;
    post(ctx->custom, ev);
    return CHANNEL_RC_OK;
}

static UINT on_sysmenu(RailServerContext *ctx, const RAIL_SYSMENU_ORDER *o)
{
    srv_log("rail sysmenu 0x%x %d %d", o->windowId, o->left, o->top);
    return CHANNEL_RC_OK;
}

static const char *sc_name(UINT16 command)
{
    switch (command) {
    case SC_CLOSE: return "close";
    case SC_MINIMIZE: return "minimize";
    case SC_MAXIMIZE: return "maximize";
    case SC_RESTORE: return "restore";
    case SC_MOVE: return "move";
    case SC_SIZE: return "size";
    case SC_KEYMENU: return "keymenu";
    case SC_DEFAULT: return "default";
    default: return NULL;
    }
}

static UINT on_syscommand(RailServerContext *ctx, const RAIL_SYSCOMMAND_ORDER *o)
{
    if (sc_name(o->command))
        srv_log("rail syscommand 0x%x %s", o->windowId, sc_name(o->command));
    else
        srv_log("rail syscommand 0x%x 0x%04x", o->windowId, o->command);
    RailEvent *ev = event_new(EV_SYSCOMMAND, o->windowId);
    ev->a = o->command;
    post(ctx->custom, ev);
    return CHANNEL_RC_OK;
}

static UINT on_notify_event(RailServerContext *ctx, const RAIL_NOTIFY_EVENT_ORDER *o)
{
    srv_log("rail notify-event 0x%x 0x%x 0x%x", o->windowId, o->notifyIconId, o->message);
    return CHANNEL_RC_OK;
}

static void post_move(SrvRail *r, uint32_t id, int l, int t, int right, int bottom)
{
    RailEvent *ev = event_new(EV_MOVE, id);
    ev->a = l;
    ev->b = t;
    ev->c = right;
    ev->d = bottom;
    post(r, ev);
}

static UINT on_window_move(RailServerContext *ctx, const RAIL_WINDOW_MOVE_ORDER *o)
{
    /* right and bottom are one past the window (as xfreerdp sends them) */
    srv_log("rail window-move 0x%x %d %d %d %d", o->windowId, o->left, o->top,
            o->right - o->left, o->bottom - o->top);
    post_move(ctx->custom, o->windowId, o->left, o->top, o->right, o->bottom);
    return CHANNEL_RC_OK;
}

static UINT on_snap_arrange(RailServerContext *ctx, const RAIL_SNAP_ARRANGE *o)
{
    srv_log("rail snap-arrange 0x%x %d %d %d %d", o->windowId, o->left, o->top,
            o->right - o->left, o->bottom - o->top);
    post_move(ctx->custom, o->windowId, o->left, o->top, o->right, o->bottom);
    return CHANNEL_RC_OK;
}

static UINT on_get_appid(RailServerContext *ctx, const RAIL_GET_APPID_REQ_ORDER *o)
{
    srv_log("rail get-appid 0x%x", o->windowId);
    post(ctx->custom, event_new(EV_APPID, o->windowId));
    return CHANNEL_RC_OK;
}

static UINT on_langbar(RailServerContext *ctx, const RAIL_LANGBAR_INFO_ORDER *o)
{
    srv_log("rail langbar 0x%x", o->languageBarStatus);
    return CHANNEL_RC_OK;
}

static UINT on_language_ime(RailServerContext *ctx, const RAIL_LANGUAGEIME_INFO_ORDER *o)
{
    srv_log("rail language-ime 0x%x 0x%x", o->ProfileType, o->LanguageID);
    return CHANNEL_RC_OK;
}

static UINT on_compartment(RailServerContext *ctx, const RAIL_COMPARTMENT_INFO_ORDER *o)
{
    srv_log("rail compartment 0x%x 0x%x", o->ImeState, o->ImeConvMode);
    return CHANNEL_RC_OK;
}

static UINT on_cloak(RailServerContext *ctx, const RAIL_CLOAK *o)
{
    srv_log("rail cloak 0x%x %d", o->windowId, o->cloak ? 1 : 0);
    return CHANNEL_RC_OK;
}

/* --- the programs --- */

/* "C:\\Windows\\notepad.exe", "||notepad" -> "notepad" */
static char *program_name(const char *program)
{
    const char *base = program;
    for (const char *c = program; *c; c++)
        if (*c == '\\' || *c == '/')
            base = c + 1;
    while (*base == '|')
        base++;
    char *name = g_strdup(base);
    size_t n = strlen(name);
    if (n > 4 && g_ascii_strcasecmp(name + n - 4, ".exe") == 0)
        name[n - 4] = '\0';
    return name;
}

/* Opens @name's windows (main one cascaded by the open top-level windows). */
static bool open_program(SrvRail *r, const char *name)
{
    int cascade = 30 * (int)rail_win_count_top(r);
    g_autofree char *title = g_strdup_printf("%s - vmdesk test", name);
    RailWin *main_win = rail_win_new(r, 0, title, 120 + cascade, 90 + cascade, 640, 400);
    if (strcmp(name, "framed") == 0) {
        main_win->margin = 8;
        srv_log("rail window-visible 0x%x %d 0 %d %d", main_win->id, main_win->margin,
                main_win->w - main_win->margin, main_win->h - main_win->margin);
    }
    if (!rail_win_announce(r, main_win))
        return false;
    if (strcmp(name, "dialog") == 0) {
        RailWin *dlg = rail_win_new(r, main_win->id, "dialog box - vmdesk test",
                                    main_win->x + 160, main_win->y + 120, 320, 200);
        if (!rail_win_announce(r, dlg))
            return false;
    }
    return rail_win_send_desktop(r);
}

static bool send_exec_result(SrvRail *r, const char *program, UINT16 flags, UINT16 result,
                             UINT32 raw, const char *why)
{
    /* The library refuses an empty name or one over 520 bytes. */
    glong n = 0;
    gunichar2 *u = g_utf8_to_utf16(*program ? program : "?", -1, NULL, &n, NULL);
    if (!u)
        u = g_utf8_to_utf16("?", -1, NULL, &n, NULL);
    RAIL_EXEC_RESULT_ORDER res = {0};
    res.flags = flags; /* the Exec's, as Windows echoes them */
    res.execResult = result;
    res.rawResult = raw;
    res.exeOrFile.length = (UINT16)(MIN(n, 260) * 2);
    res.exeOrFile.string = (BYTE *)u;
    UINT rc = r->ctx->ServerExecResult(r->ctx, &res);
    g_free(u);
    if (rc != CHANNEL_RC_OK) {
        srv_warn("rail: sending the exec result failed (error %u)", rc);
        return false;
    }
    srv_log("rail exec-result %s %s", program, why);
    /* Out before the windows it announces. */
    return WTSVirtualChannelManagerCheckFileDescriptor(r->vcm);
}

static bool handle_exec(SrvRail *r, const char *program, UINT16 flags)
{
    g_autofree char *name = program_name(program);
    if (g_ascii_strcasecmp(name, "missing") == 0)
        return send_exec_result(r, program, flags, RAIL_EXEC_E_FILE_NOT_FOUND,
                                2 /* ERROR_FILE_NOT_FOUND */, "file-not-found");
    if (g_ascii_strcasecmp(name, "forbidden") == 0)
        return send_exec_result(r, program, flags, RAIL_EXEC_E_NOT_IN_ALLOWLIST, 0,
                                "not-in-allowlist");
    if (!send_exec_result(r, program, flags, RAIL_EXEC_S_OK, 0, "ok"))
        return false;
    if (!r->arc_sent) {
        /* Windows opens the session's window list this way. */
        r->arc_sent = true;
        if (!rail_win_send_arc_began(r))
            return false;
    }
    if (g_ascii_strcasecmp(name, "slowstart") == 0) {
        /* its window comes later (one slow program at a time) */
        g_free(r->slow_name);
        r->slow_name = g_strdup(name);
        r->slow_due = g_get_monotonic_time() + SLOWSTART_MS * 1000;
        return true;
    }
    return open_program(r, name);
}

/* --- stdin commands (peer thread) --- */

static bool parse_id(const char *s, uint32_t *id)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || !end || *end || end == s || v > G_MAXUINT32)
        return false;
    *id = (uint32_t)v;
    return true;
}

static bool parse_rect(char **f, int *x, int *y, int *w, int *h)
{
    int v[4];
    for (int i = 0; i < 4; i++) {
        char *end = NULL;
        long n = strtol(f[i], &end, 10);
        if (!end || *end || end == f[i] || n < -32768 || n > 32767)
            return false;
        v[i] = (int)n;
    }
    if (v[2] < 1 || v[3] < 1)
        return false;
    *x = v[0];
    *y = v[1];
    *w = v[2];
    *h = v[3];
    return true;
}

/* One command; false when the session must end. A bad command is logged
 * ("rail command-failed LINE: WHY") and changes nothing. */
static bool run_command(SrvRail *r, const char *line)
{
    srv_log("rail command %s", line);
    g_auto(GStrv) f = g_strsplit_set(line, " \t", -1);
    /* drop empty fields (runs of blanks) */
    guint n = 0;
    for (guint i = 0; f[i]; i++) {
        if (*f[i])
            f[n++] = f[i];
        else
            g_free(f[i]);
    }
    f[n] = NULL;
    if (n == 0)
        return true;
    const char *cmd = f[0];
    const char *why = NULL;
    uint32_t id = 0;
    int x, y, w, h;
    RailWin *win = NULL;
    bool needs_window = strcmp(cmd, "move") == 0 || strcmp(cmd, "title") == 0 ||
                        strcmp(cmd, "close") == 0 || strcmp(cmd, "minimize") == 0 ||
                        strcmp(cmd, "maximize") == 0 || strcmp(cmd, "restore") == 0 ||
                        strcmp(cmd, "activate") == 0;
    if (needs_window) {
        if (n < 2 || !parse_id(f[1], &id))
            why = "write the window id (0x1001)";
        else if (!(win = rail_win_find(r, id)))
            why = "no such window";
    }
    bool ok = true;
    if (why) {
    } else if (strcmp(cmd, "move") == 0) {
        if (n != 6 || !parse_rect(f + 2, &x, &y, &w, &h))
            why = "write move ID X Y W H";
        else
            ok = rail_win_move(r, win, x, y, w, h);
    } else if (strcmp(cmd, "title") == 0) {
        const char *text = strstr(line, f[1]) + strlen(f[1]);
        text += strspn(text, " \t");
        ok = rail_win_set_title(r, win, text);
    } else if (strcmp(cmd, "close") == 0) {
        ok = rail_win_close(r, win);
    } else if (strcmp(cmd, "minimize") == 0) {
        ok = rail_win_show(r, win, WINDOW_SHOW_MINIMIZED);
    } else if (strcmp(cmd, "maximize") == 0) {
        ok = rail_win_show(r, win, WINDOW_SHOW_MAXIMIZED);
    } else if (strcmp(cmd, "restore") == 0) {
        ok = rail_win_show(r, win, WINDOW_SHOW);
    } else if (strcmp(cmd, "activate") == 0) {
        rail_win_raise(r, win);
        ok = rail_win_send_desktop(r);
    } else if (strcmp(cmd, "newwindow") == 0) {
        if (n < 6 || !parse_rect(f + n - 4, &x, &y, &w, &h)) {
            why = "write newwindow TITLE X Y W H";
        } else {
            /* the title: everything between the command and the numbers */
            GString *title = g_string_new(NULL);
            for (guint i = 1; i < n - 4; i++)
                g_string_append_printf(title, "%s%s", i > 1 ? " " : "", f[i]);
            win = rail_win_new(r, 0, title->str, x, y, w, h);
            g_string_free(title, TRUE);
            ok = rail_win_announce(r, win) && rail_win_send_desktop(r);
        }
    } else if (strcmp(cmd, "copy") == 0) {
        /* the text: everything after the command */
        const char *text = line + strspn(line, " \t") + strlen(cmd);
        text += strspn(text, " \t");
        if (!r->clip)
            why = "no clipboard: start the server with --clipboard";
        else if (!*text)
            why = "write copy TEXT";
        else
            srv_clip_copy(r->clip, text);
    } else if (strcmp(cmd, "disconnect") == 0) {
        srv_log("rail disconnecting");
        return false;
    } else {
        why = "unknown command (move, title, close, minimize, maximize, restore, activate, "
              "newwindow, copy, disconnect)";
    }
    if (why)
        srv_log("rail command-failed %s: %s", line, why);
    return ok;
}

/* Reads what stdin has; runs each whole line. */
static bool read_stdin(SrvRail *r)
{
    char buf[4096];
    for (;;) {
        ssize_t got = read(STDIN_FILENO, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (got <= 0) {
            /* EOF or an error: no more commands */
            CloseHandle(r->stdin_event);
            r->stdin_event = NULL;
            break;
        }
        g_string_append_len(r->stdin_buf, buf, got);
    }
    char *nl;
    while ((nl = memchr(r->stdin_buf->str, '\n', r->stdin_buf->len)) != NULL) {
        g_autofree char *line = g_strndup(r->stdin_buf->str, (gsize)(nl - r->stdin_buf->str));
        g_string_erase(r->stdin_buf, 0, nl - r->stdin_buf->str + 1);
        g_strchomp(line);
        if (!run_command(r, line))
            return false;
    }
    return true;
}

/* --- the peer thread's side --- */

static bool handle_event(SrvRail *r, RailEvent *ev)
{
    RailWin *win = ev->id ? rail_win_find(r, ev->id) : NULL;
    switch (ev->type) {
    case EV_EXEC:
        return handle_exec(r, ev->program, (UINT16)ev->a);
    case EV_WORKAREA:
        r->work_area = (RECTANGLE_16){(UINT16)ev->a, (UINT16)ev->b, (UINT16)ev->c, (UINT16)ev->d};
        r->have_work_area = true;
        return true;
    case EV_ACTIVATE:
        if (!win || !ev->a)
            return true;
        rail_win_raise(r, win);
        return rail_win_send_desktop(r);
    case EV_SYSCOMMAND:
        if (!win)
            return true;
        switch (ev->a) {
        case SC_CLOSE: return rail_win_close(r, win);
        case SC_MINIMIZE: return rail_win_show(r, win, WINDOW_SHOW_MINIMIZED);
        case SC_MAXIMIZE: return rail_win_show(r, win, WINDOW_SHOW_MAXIMIZED);
        case SC_RESTORE: return rail_win_show(r, win, WINDOW_SHOW);
        default: return true;
        }
    case EV_MOVE:
        if (!win || ev->c <= ev->a || ev->d <= ev->b)
            return true;
        return rail_win_move(r, win, ev->a, ev->b, ev->c - ev->a, ev->d - ev->b);
    case EV_APPID:
        return rail_win_send_appid(r, ev->id);
    }
    return true;
}

bool srv_rail_dispatch(SrvRail *r)
{
    if (!r)
        return true;
    g_mutex_lock(&r->lock);
    ResetEvent(r->event);
    GQueue events = r->events;
    g_queue_init(&r->events);
    g_mutex_unlock(&r->lock);
    bool ok = true;
    for (GList *l = events.head; l; l = l->next)
        if (ok)
            ok = handle_event(r, l->data);
    g_queue_clear_full(&events, event_free);
    if (ok && r->slow_name && g_get_monotonic_time() >= r->slow_due) {
        g_autofree char *name = g_steal_pointer(&r->slow_name);
        ok = open_program(r, name);
    }
    if (ok && r->stdin_event && WaitForSingleObject(r->stdin_event, 0) == WAIT_OBJECT_0)
        ok = read_stdin(r);
    return ok;
}

DWORD srv_rail_timeout_ms(SrvRail *r)
{
    if (!r || !r->slow_name)
        return INFINITE;
    gint64 left = (r->slow_due - g_get_monotonic_time()) / 1000;
    return left <= 0 ? 0 : (DWORD)left;
}

void srv_rail_add_handles(SrvRail *r, HANDLE *handles, DWORD *n)
{
    if (!r)
        return;
    handles[(*n)++] = r->event;
    if (r->stdin_event)
        handles[(*n)++] = r->stdin_event;
}

bool srv_rail_take_redraw(SrvRail *r)
{
    if (!r || !r->redraw)
        return false;
    r->redraw = false;
    return true;
}

/* The RAIL support level of the client's own capability set (its Confirm
 * Active), not the one the library keeps: that one always has
 * RAIL_LEVEL_HANDSHAKE_EX_SUPPORTED in RemoteApp mode. 0 when absent. */
static UINT32 client_rail_level(const rdpSettings *st)
{
    const UINT32 *sizes = freerdp_settings_get_pointer(st, FreeRDP_ReceivedCapabilityDataSizes);
    BYTE *const *caps = freerdp_settings_get_pointer(st, FreeRDP_ReceivedCapabilityData);
    if (!sizes || !caps ||
        freerdp_settings_get_uint32(st, FreeRDP_ReceivedCapabilitiesSize) <= CAPSET_TYPE_RAIL ||
        !caps[CAPSET_TYPE_RAIL] || sizes[CAPSET_TYPE_RAIL] < 4)
        return 0;
    const BYTE *data = caps[CAPSET_TYPE_RAIL];
    return (UINT32)data[0] | (UINT32)data[1] << 8 | (UINT32)data[2] << 16 |
           (UINT32)data[3] << 24;
}

void srv_rail_activated(SrvRail *r)
{
    if (!r || r->handshake_sent)
        return;
    /* HiDef RemoteApp needs both: INFO_HIDEF_RAIL_SUPPORTED in the client's
     * info, and HandshakeEx in its RAIL capability set (ours has it). */
    const rdpSettings *st = r->client->context->settings;
    const UINT32 level = client_rail_level(st);
    r->hidef = freerdp_settings_get_bool(st, FreeRDP_HiDefRemoteApp) &&
               (level & RAIL_LEVEL_HANDSHAKE_EX_SUPPORTED);
    srv_log("rail-hidef %s", r->hidef ? "yes" : "no");
    /* The client reads it only after its own post-connect (FreeRDP stops
     * reading at activation until then), when its rail plugin listens. */
    UINT rc;
    if (r->hidef) {
        RAIL_HANDSHAKE_EX_ORDER hs = {.buildNumber = 0x1DB0,
                                      .railHandshakeFlags = HANDSHAKE_EX_FLAGS};
        rc = r->ctx->ServerHandshakeEx(r->ctx, &hs);
    } else {
        RAIL_HANDSHAKE_ORDER hs = {.buildNumber = 0x1DB0};
        rc = r->ctx->ServerHandshake(r->ctx, &hs);
    }
    if (rc != CHANNEL_RC_OK) {
        srv_warn("rail: sending the handshake failed (error %u)", rc);
        return;
    }
    r->handshake_sent = true;
    if (r->hidef)
        srv_log("rail handshake-sent ex 0x%x", HANDSHAKE_EX_FLAGS);
    else
        srv_log("rail handshake-sent");
}

SrvRail *srv_rail_create(HANDLE vcm, freerdp_peer *client)
{
    SrvRail *r = g_new0(SrvRail, 1);
    r->client = client;
    r->vcm = vcm;
    g_mutex_init(&r->lock);
    g_queue_init(&r->events);
    r->windows = g_ptr_array_new_with_free_func(rail_win_free);
    r->next_id = 0x1001;
    r->stdin_buf = g_string_new(NULL);
    r->stdin_flags = -1;
    r->event = CreateEvent(NULL, TRUE, FALSE, NULL);
    r->ctx = rail_server_context_new(vcm);
    if (!r->event || !r->ctx) {
        srv_warn("rail: cannot open the channel");
        srv_rail_destroy(r);
        return NULL;
    }
    RailServerContext *ctx = r->ctx;
    ctx->custom = r;
    ctx->rdpcontext = client->context;
    ctx->ClientHandshake = on_handshake;
    ctx->ClientClientStatus = on_client_status;
    ctx->ClientExec = on_exec;
    ctx->ClientSysparam = on_sysparam;
    ctx->ClientActivate = on_activate;
    ctx->ClientSysmenu = on_sysmenu;
    ctx->ClientSyscommand = on_syscommand;
    ctx->ClientNotifyEvent = on_notify_event;
    ctx->ClientGetAppidReq = on_get_appid;
    ctx->ClientWindowMove = on_window_move;
    ctx->ClientSnapArrange = on_snap_arrange;
    ctx->ClientLangbarInfo = on_langbar;
    ctx->ClientLanguageImeInfo = on_language_ime;
    ctx->ClientCompartmentInfo = on_compartment;
    ctx->ClientCloak = on_cloak;
    UINT rc = ctx->Start(ctx);
    if (rc != CHANNEL_RC_OK) {
        srv_warn("rail: the channel did not start (error %u)", rc);
        srv_rail_destroy(r);
        return NULL;
    }
    r->started = true;
    /* Commands on stdin, read without blocking the session. */
    int fl = fcntl(STDIN_FILENO, F_GETFL);
    if (fl >= 0 && fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK) == 0) {
        r->stdin_flags = fl;
        r->stdin_event = CreateFileDescriptorEvent(NULL, TRUE, FALSE, STDIN_FILENO, WINPR_FD_READ);
    }
    srv_log("rail channel-open");
    return r;
}

void srv_rail_set_clip(SrvRail *r, SrvClip *clip)
{
    if (r)
        r->clip = clip;
}

void srv_rail_destroy(SrvRail *r)
{
    if (!r)
        return;
    if (r->ctx) {
        if (r->started)
            r->ctx->Stop(r->ctx); /* joins the thread, closes the channel */
        rail_server_context_free(r->ctx);
    }
    if (r->event)
        CloseHandle(r->event);
    if (r->stdin_event)
        CloseHandle(r->stdin_event);
    if (r->stdin_flags >= 0) /* a terminal's shell would inherit O_NONBLOCK */
        fcntl(STDIN_FILENO, F_SETFL, r->stdin_flags);
    g_queue_clear_full(&r->events, event_free);
    g_ptr_array_unref(r->windows);
    g_string_free(r->stdin_buf, TRUE);
    g_free(r->slow_name);
    g_mutex_clear(&r->lock);
    g_free(r);
}
