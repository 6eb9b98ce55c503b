/* vmdesk view | connect | screenshot */
#include "cli/cli.h"

#include "cli/cli_libvirt.h"
#include "common/error.h"
#include "session/vnc/vnc_session.h"
#include "ui/monitors.h"
#include "ui/png_writer.h"
#include "ui/window.h"
#include "vm/vm_control.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SCREENSHOT_TIMEOUT_MS 40000
/* QEMU answers the first request with its copy of the screen before it has
 * refreshed it, then sends the real picture: wait for the updates to settle
 * (quiet this long, or at most SCREENSHOT_SETTLE_MAX_MS after the first). */
#define SCREENSHOT_QUIET_MS 300
/* RDP servers that capture a screen (the shadow server, xrdp) may send a
 * complete black picture before their first capture: settle longer. And an
 * RDP picture is the user's desktop, not the server's login or progress
 * screen, once the server sent its logon notification (xrdp never does: then
 * SCREENSHOT_NO_LOGON_MS after the first complete picture) and it is not all
 * black (an X session before its window manager paints); at most
 * SCREENSHOT_RDP_MAX_MS after the first complete picture. */
#define SCREENSHOT_QUIET_RDP_MS 1000
#define SCREENSHOT_NO_LOGON_MS 5000
#define SCREENSHOT_RDP_MAX_MS 15000
#define SCREENSHOT_SETTLE_MAX_MS 3000

/* The VNC target of a VM (its unix socket), starting it first if asked. */
static bool vm_target(const char *name, bool start, VncTarget *t, GError **error)
{
    if (!cli_vm_ensure_running(name, start, NULL, error))
        return false;
    memset(t, 0, sizeof(*t));
    t->socket_path = vm_runtime_path(name, "vnc.sock");
    return true;
}

int cli_view(int argc, char **argv)
{
    gboolean fullscreen = FALSE;
    g_autofree char *scale = NULL, *protocol = NULL, *monitors = NULL, *connect = NULL,
                    *uri = NULL;
    GOptionEntry entries[] = {
        {"fullscreen", 0, 0, G_OPTION_ARG_NONE, &fullscreen, "start in full screen (Ctrl+Alt+F)",
         NULL},
        {"scale", 0, 0, G_OPTION_ARG_STRING, &scale,
         "auto (default: whole-pixel factors when they fit), fit, 1 or 2", "SCALE"},
        {"protocol", 0, 0, G_OPTION_ARG_STRING, &protocol,
         "auto (default: VNC until the guest's RDP service answers, then RDP), vnc or rdp",
         "PROTO"},
        {"monitors", 0, 0, G_OPTION_ARG_STRING, &monitors,
         "RDP: full screen over all monitors or these (1,2: numbered from 1 in the order of "
         "xrandr --listmonitors), each a monitor of the remote desktop at its own scale",
         "all|N,N"},
        CLI_CONNECT_ENTRY(&connect),
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("view", "NAME",
                   "Show a VM in a window, starting it if it is stopped: its screen over VNC "
                   "from the first firmware picture, then its RDP desktop as soon as the "
                   "guest's RDP service answers (and VNC again while RDP is gone or stops "
                   "answering). Closing the window leaves the VM running. With --connect, a "
                   "libvirt domain: VNC through libvirt (no port opened) or, over qemu+ssh://, "
                   "through ssh -W to its VNC listener; RDP at the address its port forward, "
                   "guest agent or DHCP lease gives (through ssh -W over qemu+ssh://).\nKeys: Ctrl+Alt+F "
                   "full screen, Ctrl+Alt+G release the keyboard grab, Ctrl+Alt+End sends "
                   "Ctrl+Alt+Del, Escape cancels a copy of the guest's files while the title "
                   "shows it.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("view", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    WindowVmHooks vm = cli_window_vm_hooks(argv[1]);
    WindowOptions opts = {
        .title = argv[1], .vm_name = argv[1], .vm = &vm, .fullscreen = fullscreen};
    if ((scale && !window_scale_parse(scale, &opts.scale, &err)) ||
        (protocol && !window_protocol_parse(protocol, &opts.protocol, &err)) ||
        (monitors && !monitors_parse_selection(monitors, &opts.monitors, &err)))
        return cli_fail(err);
    if (!cli_libvirt_pick(connect, argv[1], &uri, &err))
        return cli_fail(err);
    if (uri) {
        opts.vm = NULL;
        return cli_libvirt_view(uri, argv[1], &opts);
    }
    /* Start first: the RDP port may change when the stored one was taken. */
    VncTarget t;
    if (!vm_target(argv[1], true, &t, &err))
        return cli_fail(err);
    RdpTarget rdp;
    if (!cli_vm_rdp_target(argv[1], &rdp, &err)) {
        vnc_target_clear(&t);
        return cli_fail(err);
    }
    opts.vnc = &t;
    opts.rdp = &rdp;
    /* The window uses the VM as long as it is open: no idle suspend. */
    int lease = cli_vm_lease(argv[1], "view");
    bool ok = window_run(&opts, &err);
    if (lease >= 0)
        close(lease);
    vnc_target_clear(&t);
    rdp_target_clear(&rdp);
    return ok ? 0 : cli_fail(err);
}

/* --scale for connect: a window mode (auto, fit, 1, 2) or, for RDP, the
 * desktop scale factor in percent (100..500). */
static bool parse_connect_scale(const char *s, WindowOptions *opts, GError **error)
{
    char *end;
    guint64 pct = g_ascii_strtoull(s, &end, 10);
    if (*end == '%')
        end++;
    if (!*end && pct >= 100) {
        if (pct > 500) {
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "--scale %s: at most 500%%", s);
            return false;
        }
        opts->rdp_scale_pct = (int)pct;
        return true;
    }
    return window_scale_parse(s, &opts->scale, error);
}

int cli_connect(int argc, char **argv)
{
    gboolean fullscreen = FALSE, no_audio = FALSE;
    g_autofree char *scale = NULL, *password_file = NULL, *app = NULL, *monitors = NULL;
    g_auto(GStrv) drives = NULL;
    gint linger_s = 20;
    GOptionEntry entries[] = {
        {"fullscreen", 0, 0, G_OPTION_ARG_NONE, &fullscreen, "start in full screen", NULL},
        {"scale", 0, 0, G_OPTION_ARG_STRING, &scale,
         "auto, fit, 1 or 2; for RDP also the desktop scale in percent (100-500; default: the "
         "display's)",
         "SCALE"},
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
         "read the password from this file (first line)", "FILE"},
        {"drive", 0, 0, G_OPTION_ARG_STRING_ARRAY, &drives,
         "RDP: redirect a host folder as drive NAME (repeat)", "NAME=PATH"},
        {"no-audio", 0, 0, G_OPTION_ARG_NONE, &no_audio, "RDP: no sound out or in", NULL},
        {"app", 0, 0, G_OPTION_ARG_STRING, &app,
         "RDP: only this program, in its own window (RemoteApp); more arguments go to it",
         "PROGRAM"},
        {"linger", 0, 0, G_OPTION_ARG_INT, &linger_s,
         "with --app: keep the connection this long after the last window (default 20)",
         "SECONDS"},
        {"monitors", 0, 0, G_OPTION_ARG_STRING, &monitors,
         "RDP: full screen over all monitors or these (1,2: numbered from 1 in the order of "
         "xrandr --listmonitors), each a monitor of the remote desktop at its own scale",
         "all|N,N"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("connect", "rdp://[USER@]HOST[:PORT] | vnc://HOST[:PORT] | vnc+unix:///PATH",
                   "Show any RDP or VNC server in a window. An RDP server's certificate is "
                   "trusted on first use and pinned; a changed one is refused.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("connect", argc, 1, app ? G_MAXINT : 1, &status))
        return status;
    if (app && !g_str_has_prefix(argv[1], "rdp://"))
        return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID, "--app is for rdp:// addresses"));
    GError *err = NULL;
    WindowOptions opts = {.title = argv[1], .fullscreen = fullscreen};
    if ((scale && !parse_connect_scale(scale, &opts, &err)) ||
        (monitors && !monitors_parse_selection(monitors, &opts.monitors, &err)))
        return cli_fail(err);
    if (monitors && app)
        return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID,
                                    "--monitors is for the desktop window; RemoteApp windows "
                                    "(--app) use every monitor by themselves"));
    bool ok;
    if (g_str_has_prefix(argv[1], "rdp://")) {
        RdpTarget r;
        if (!rdp_target_parse(argv[1], &r, &err))
            return cli_fail(err);
        cli_url_rdp_pin(&r);
        r.audio = !no_audio;
        for (char **d = drives; d && *d; d++) {
            const char *eq = strchr(*d, '=');
            if (!eq || eq == *d || !eq[1]) {
                rdp_target_clear(&r);
                return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID,
                                            "--drive %s: write NAME=PATH", *d));
            }
            g_autofree char *path = g_canonicalize_filename(eq + 1, NULL);
            if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
                rdp_target_clear(&r);
                return cli_fail(g_error_new(VD_ERROR, VD_ERROR_NOT_FOUND,
                                            "--drive %s: %s is not a folder", *d, path));
            }
        }
        r.drives = g_steal_pointer(&drives);
        if (password_file && !cli_read_secret_file(password_file, &r.password, &err)) {
            rdp_target_clear(&r);
            return cli_fail(err);
        }
        if (opts.rdp_scale_pct)
            r.scale_pct = opts.rdp_scale_pct;
        if (app) {
            int rc = cli_connect_app(&r, app, argv + 2, MAX(linger_s, 0));
            rdp_target_clear(&r);
            return rc;
        }
        opts.rdp = &r;
        opts.protocol = WINDOW_PROTOCOL_RDP;
        ok = window_run(&opts, &err);
        rdp_target_clear(&r);
    } else {
        if (opts.rdp_scale_pct || drives || no_audio)
            return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID,
                                        "--drive, --no-audio and a scale in percent are for "
                                        "rdp:// addresses"));
        VncTarget t;
        if (!vnc_target_parse(argv[1], &t, &err))
            return cli_fail(err);
        if (password_file && !cli_read_secret_file(password_file, &t.password, &err)) {
            vnc_target_clear(&t);
            return cli_fail(err);
        }
        opts.vnc = &t;
        opts.protocol = WINDOW_PROTOCOL_VNC;
        ok = window_run(&opts, &err);
        vnc_target_clear(&t);
    }
    return ok ? 0 : cli_fail(err);
}

/* Connect without a window, wait for the first complete picture that has
 * settled (for RDP: of the user's desktop), save it. */
static bool screenshot(Session *s, bool rdp, const char *file, GError **error)
{
    const char *what = rdp ? "RDP" : "VNC";
    gint64 quiet_us = (rdp ? SCREENSHOT_QUIET_RDP_MS : SCREENSHOT_QUIET_MS) * 1000LL;
    bool ok = session_connect(s, error);
    gint64 deadline = g_get_monotonic_time() + SCREENSHOT_TIMEOUT_MS * 1000;
    bool connected = false, logon = false;
    gint64 first = 0;
    while (ok) {
        SessionEvent *ev;
        while ((ev = session_next_event(s))) {
            if (ev->type == SESSION_EV_CONNECTED)
                connected = true;
            if (ev->type == SESSION_EV_LOGON)
                logon = true;
            if (ev->type == SESSION_EV_CLOSED) {
                if (ev->error)
                    g_propagate_error(error, g_steal_pointer(&ev->error));
                else
                    g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "the %s server closed", what);
                ok = false;
            }
            session_event_free(ev);
        }
        if (!ok)
            break;
        g_mutex_lock(&s->fb.lock);
        gint64 now = g_get_monotonic_time();
        if (connected && s->fb.frames > 0 && !first)
            first = now;
        bool quiet = now - s->fb.last_damage > quiet_us;
        bool have;
        if (rdp)
            have = first && ((quiet && (logon || now - first > SCREENSHOT_NO_LOGON_MS * 1000LL) &&
                              !session_fb_all_black(&s->fb)) ||
                             now - first > SCREENSHOT_RDP_MAX_MS * 1000LL);
        else
            have = first && (quiet || now - first > SCREENSHOT_SETTLE_MAX_MS * 1000);
        if (have)
            ok = png_write_xrgb(file, s->fb.pixels, s->fb.width, s->fb.height, s->fb.stride,
                               error);
        g_mutex_unlock(&s->fb.lock);
        if (have)
            break;
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                        "no complete picture from the %s server within %d s", what,
                        SCREENSHOT_TIMEOUT_MS / 1000);
            ok = false;
            break;
        }
        g_usleep(10 * 1000);
    }
    session_disconnect_start(s);
    session_destroy(s);
    return ok;
}

int cli_screenshot(int argc, char **argv)
{
    g_autofree char *password_file = NULL, *protocol = NULL, *size = NULL, *connect = NULL,
                    *uri = NULL;
    GOptionEntry entries[] = {
        CLI_CONNECT_ENTRY(&connect),
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
         "the password (first line of the file)", "FILE"},
        {"protocol", 0, 0, G_OPTION_ARG_STRING, &protocol,
         "for a VM: vnc (default) or rdp", "PROTO"},
        {"size", 0, 0, G_OPTION_ARG_STRING, &size, "RDP: the desktop size (default 1024x768)",
         "WxH"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("screenshot", "TARGET FILE.png",
                   "Save the first complete picture, without a display. TARGET is a running "
                   "VM's name, or an rdp://, vnc:// or vnc+unix:// address.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("screenshot", argc, 2, 2, &status))
        return status;
    GError *err = NULL;
    const char *target = argv[1];
    bool url = strstr(target, "://") != NULL;
    /* A libvirt domain: libvirt's own screenshot (QEMU's screendump). */
    if (!url && !cli_libvirt_pick(connect, target, &uri, &err))
        return cli_fail(err);
    if (uri && (protocol || password_file || size))
        return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID,
                                    "--protocol, --password-file and --size are not for a "
                                    "libvirt domain (libvirt takes its picture itself)"));
    if (uri)
        return cli_libvirt_screenshot(uri, target, argv[2]);
    WindowProtocol proto = WINDOW_PROTOCOL_VNC;
    if (protocol && (!window_protocol_parse(protocol, &proto, &err) ||
                     (proto == WINDOW_PROTOCOL_AUTO &&
                      !(err = g_error_new(VD_ERROR, VD_ERROR_INVALID,
                                          "--protocol: use vnc or rdp for a screenshot")))))
        return cli_fail(err);
    if (url)
        proto = g_str_has_prefix(target, "rdp://") ? WINDOW_PROTOCOL_RDP : WINDOW_PROTOCOL_VNC;
    Session *s;
    if (proto == WINDOW_PROTOCOL_RDP) {
        RdpTarget r;
        if (url ? !rdp_target_parse(target, &r, &err) : !cli_vm_rdp_target(target, &r, &err))
            return cli_fail(err);
        if (url)
            cli_url_rdp_pin(&r);
        r.audio = false;
        r.confined = true; /* a picture needs nothing the helper lacks */
        if (size && sscanf(size, "%dx%d", &r.width, &r.height) != 2) {
            rdp_target_clear(&r);
            return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID, "--size %s: write WxH", size));
        }
        if (password_file && !cli_read_secret_file(password_file, &r.password, &err)) {
            rdp_target_clear(&r);
            return cli_fail(err);
        }
        s = rdp_session_create(&r, NULL, NULL);
        rdp_target_clear(&r);
    } else {
        VncTarget t;
        if (url ? !vnc_target_parse(target, &t, &err) : !vm_target(target, false, &t, &err))
            return cli_fail(err);
        if (password_file && !cli_read_secret_file(password_file, &t.password, &err)) {
            vnc_target_clear(&t);
            return cli_fail(err);
        }
        s = vnc_session_create(&t, NULL, NULL);
        vnc_target_clear(&t);
    }
    bool ok = screenshot(s, proto == WINDOW_PROTOCOL_RDP, argv[2], &err);
    return ok ? 0 : cli_fail(err);
}
