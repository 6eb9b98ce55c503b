/* vmdesk view | connect | screenshot */
#include "cli.h"

#include "error.h"
#include "png_writer.h"
#include "vm_control.h"
#include "vm_store.h"
#include "vnc_session.h"
#include "window.h"

#include <stdio.h>
#include <string.h>

#define SCREENSHOT_TIMEOUT_MS 20000
/* QEMU answers the first request with its copy of the screen before it has
 * refreshed it, then sends the real picture: wait for the updates to settle
 * (quiet this long, or at most SCREENSHOT_SETTLE_MAX_MS after the first). */
#define SCREENSHOT_QUIET_MS 300
#define SCREENSHOT_SETTLE_MAX_MS 3000

static bool read_password_file(const char *path, char **out, GError **error)
{
    g_autofree char *data = NULL;
    if (!g_file_get_contents(path, &data, NULL, error))
        return false;
    data[strcspn(data, "\r\n")] = 0;
    *out = g_steal_pointer(&data);
    return true;
}

/* The VNC target of a VM (its unix socket), starting it first if asked. */
static bool vm_target(const char *name, bool start, VncTarget *t, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    g_autoptr(VmStatus) st = vm_status_get(name);
    if (!vm_state_is_active(st->state)) {
        if (!start) {
            g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                        "VM \"%s\" is not running (%s); start it with vmdesk start %s", name,
                        vm_state_to_string(st->state), name);
            return false;
        }
        g_autofree char *self = cli_self_exe();
        VmStartOptions opts = {.self_exe = self};
        g_autoptr(VmStatus) started = NULL;
        printf("Starting VM \"%s\"...\n", name);
        fflush(stdout);
        if (!vm_start(name, &opts, &started, error))
            return false;
    }
    memset(t, 0, sizeof(*t));
    t->socket_path = vm_runtime_path(name, "vnc.sock");
    return true;
}

/* A TARGET is a VM name or a vnc:// / vnc+unix:// URL. */
static bool parse_target(const char *target, bool start_vm, VncTarget *t, GError **error)
{
    if (strstr(target, "://"))
        return vnc_target_parse(target, t, error);
    return vm_target(target, start_vm, t, error);
}

int cli_view(int argc, char **argv)
{
    gboolean fullscreen = FALSE;
    g_autofree char *scale = NULL;
    GOptionEntry entries[] = {
        {"fullscreen", 0, 0, G_OPTION_ARG_NONE, &fullscreen, "start in full screen (Ctrl+Alt+F)",
         NULL},
        {"scale", 0, 0, G_OPTION_ARG_STRING, &scale,
         "auto (default: whole-pixel factors when they fit), fit, 1 or 2", "SCALE"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("view", "NAME",
                   "Show a VM in a window, starting it if it is stopped. Closing the window "
                   "leaves the VM running.\nKeys: Ctrl+Alt+F full screen, Ctrl+Alt+G release the "
                   "keyboard grab, Ctrl+Alt+End sends Ctrl+Alt+Del.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("view", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    WindowOptions opts = {.title = argv[1], .vm_name = argv[1], .fullscreen = fullscreen};
    if (scale && !window_scale_parse(scale, &opts.scale, &err))
        return cli_fail(err);
    VncTarget t;
    if (!vm_target(argv[1], true, &t, &err))
        return cli_fail(err);
    opts.vnc = &t;
    bool ok = window_run(&opts, &err);
    vnc_target_clear(&t);
    return ok ? 0 : cli_fail(err);
}

int cli_connect(int argc, char **argv)
{
    gboolean fullscreen = FALSE;
    g_autofree char *scale = NULL, *password_file = NULL;
    GOptionEntry entries[] = {
        {"fullscreen", 0, 0, G_OPTION_ARG_NONE, &fullscreen, "start in full screen", NULL},
        {"scale", 0, 0, G_OPTION_ARG_STRING, &scale, "auto, fit, 1 or 2", "SCALE"},
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
         "read the VNC password from this file (first line)", "FILE"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("connect", "vnc://HOST[:PORT] | vnc+unix:///PATH",
                   "Show any VNC server in a window.", entries, &argc, &argv, &status) ||
        !cli_expect_args("connect", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    WindowOptions opts = {.title = argv[1], .fullscreen = fullscreen};
    if (scale && !window_scale_parse(scale, &opts.scale, &err))
        return cli_fail(err);
    VncTarget t;
    if (!vnc_target_parse(argv[1], &t, &err))
        return cli_fail(err);
    if (password_file && !read_password_file(password_file, &t.password, &err)) {
        vnc_target_clear(&t);
        return cli_fail(err);
    }
    opts.vnc = &t;
    bool ok = window_run(&opts, &err);
    vnc_target_clear(&t);
    return ok ? 0 : cli_fail(err);
}

/* Connect without a window, wait for the first complete frame, save it. */
static bool screenshot(const VncTarget *t, const char *file, GError **error)
{
    Session *s = vnc_session_create(t, NULL, NULL);
    bool ok = session_connect(s, error);
    gint64 deadline = g_get_monotonic_time() + SCREENSHOT_TIMEOUT_MS * 1000;
    bool connected = false;
    gint64 first = 0;
    while (ok) {
        SessionEvent *ev;
        while ((ev = session_next_event(s))) {
            if (ev->type == SESSION_EV_CONNECTED)
                connected = true;
            if (ev->type == SESSION_EV_CLOSED) {
                if (ev->error)
                    g_propagate_error(error, g_steal_pointer(&ev->error));
                else
                    g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "the VNC server closed");
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
        bool have = first && (now - s->fb.last_damage > SCREENSHOT_QUIET_MS * 1000 ||
                              now - first > SCREENSHOT_SETTLE_MAX_MS * 1000);
        if (have)
            ok = png_write_xrgb(file, s->fb.pixels, s->fb.width, s->fb.height, s->fb.stride,
                               error);
        g_mutex_unlock(&s->fb.lock);
        if (have)
            break;
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, VD_ERROR, VD_ERROR_TIMEOUT,
                        "no complete picture from the VNC server within %d s",
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
    g_autofree char *password_file = NULL;
    GOptionEntry entries[] = {
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
         "VNC password (first line of the file)", "FILE"},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("screenshot", "TARGET FILE.png",
                   "Save what the window would show, without a display. TARGET is a running "
                   "VM's name or a vnc:// or vnc+unix:// address.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("screenshot", argc, 2, 2, &status))
        return status;
    GError *err = NULL;
    VncTarget t;
    if (!parse_target(argv[1], false, &t, &err))
        return cli_fail(err);
    if (password_file && !read_password_file(password_file, &t.password, &err)) {
        vnc_target_clear(&t);
        return cli_fail(err);
    }
    bool ok = screenshot(&t, argv[2], &err);
    vnc_target_clear(&t);
    if (!ok)
        return cli_fail(err);
    return 0;
}
