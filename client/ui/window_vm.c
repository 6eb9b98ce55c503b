/* The VM behind the desktop window, through the caller's WindowVmHooks
 * (window.h): its state in the title, the window closing when it shut down,
 * and the on-shutdown=ask question about its overlay. */
#include "common/log.h"
#include "common/size.h"
#include "ui/window_priv.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void window_vm_status_clear(WindowVmStatus *st)
{
    g_clear_pointer(&st->state, g_free);
    g_clear_pointer(&st->reason, g_free);
}

void window_overlay_info_clear(WindowOverlayInfo *info)
{
    g_clear_pointer(&info->base, g_free);
}

static const char *answer_to_string(WindowOverlayAnswer a)
{
    static const char *const names[] = {"keep", "commit", "discard"};
    return names[a];
}

/* What a SIGTERM or SIGINT during the overlay question says on its way out:
 * SDL's message box runs its own X event loop, which never sees the SDL_QUIT
 * SDL's signal handler queues, so the question would block the signal. */
static char ask_interrupted_msg[512];

/* Keeping is the answer that touches nothing: the process can just end, and
 * the question stays for `vmdesk overlay NAME status`. */
static void on_signal_while_asking(int sig)
{
    (void)sig;
    ssize_t r = write(STDOUT_FILENO, ask_interrupted_msg, strlen(ask_interrupted_msg));
    (void)r;
    _exit(0);
}

/* on-shutdown=ask: the guest shut down with changes in its overlay, and the
 * supervisor left the question for us (docs/storage.md). Enter commits them
 * into the base, Escape keeps them for later; nothing is lost either way. */
static void ask_overlay(Win *w)
{
    const char *name = w->opts->vm_name;
    const WindowVmHooks *vm = w->opts->vm;
    if (!vm->overlay_pending(vm->data))
        return;
    WindowOverlayInfo st = {0};
    g_autoptr(GError) err = NULL;
    if (!vm->overlay_info(vm->data, &st, &err)) {
        window_overlay_info_clear(&st);
        return;
    }
    g_autofree char *changed = vd_size_format(st.changed_bytes);
    g_autofree char *text = g_strdup_printf(
        /* SDL's X11 dialog does not wrap lines */
        "The guest of %s shut down.\nIts overlay holds %s of changes%s.\n\n"
        "Commit them into the base image\n%s,\ndiscard them, or keep the overlay and decide "
        "later\n(vmdesk overlay %s commit | discard)?",
        name, changed,
        st.firmware_changed ? "\n(and new UEFI variables or TPM state)" : "", st.base, name);
    window_overlay_info_clear(&st);
    const SDL_MessageBoxButtonData buttons[] = {
        {SDL_MESSAGEBOX_BUTTON_ESCAPEKEY_DEFAULT, WINDOW_OVERLAY_KEEP, "Keep for later"},
        {0, WINDOW_OVERLAY_DISCARD, "Discard"},
        {SDL_MESSAGEBOX_BUTTON_RETURNKEY_DEFAULT, WINDOW_OVERLAY_COMMIT, "Commit"},
    };
    g_autofree char *title = g_strdup_printf("%s: keep the changes? — vmdesk", name);
    const SDL_MessageBoxData box = {SDL_MESSAGEBOX_INFORMATION, w->win, title, text,
                                    (int)G_N_ELEMENTS(buttons), buttons, NULL};
    int choice = WINDOW_OVERLAY_KEEP;
    g_snprintf(ask_interrupted_msg, sizeof ask_interrupted_msg,
               "%s: interrupted while asking; the overlay is kept (vmdesk overlay %s status)\n",
               name, name);
    fflush(stdout);
    struct sigaction ours = {.sa_handler = on_signal_while_asking}, old_term, old_int;
    sigemptyset(&ours.sa_mask);
    sigaction(SIGTERM, &ours, &old_term);
    sigaction(SIGINT, &ours, &old_int);
    int shown = SDL_ShowMessageBox(&box, &choice);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    if (shown != 0 || choice < 0)
        choice = WINDOW_OVERLAY_KEEP;
    if (!vm->overlay_answer(vm->data, (WindowOverlayAnswer)choice, &err)) {
        vd_warn("%s: %s; the overlay is kept (vmdesk overlay %s status)", name, err->message,
                name);
        return;
    }
    printf("%s: the overlay's changes: %s\n", name,
           answer_to_string((WindowOverlayAnswer)choice));
}

void window_vm_poll(Win *w)
{
    const WindowVmHooks *vm = w->opts->vm;
    WindowVmStatus st = {0};
    vm->status(vm->data, &st);
    if (g_strcmp0(st.state, w->vm_state)) {
        g_free(w->vm_state);
        w->vm_state = g_strdup(st.state);
        window_update_title(w);
    }
    bool active = st.phase == WINDOW_VM_ACTIVE || st.phase == WINDOW_VM_STOPPING;
    if (!active && !w->close_at) {
        g_autofree char *msg =
            g_strdup_printf("the VM %s%s%s", st.phase == WINDOW_VM_FAILED ? "failed" : "shut down",
                            st.reason ? ": " : "", st.reason ? st.reason : "");
        printf("%s: %s\n", w->opts->vm_name, msg);
        window_set_status(w, msg);
        if (st.phase == WINDOW_VM_STOPPED)
            ask_overlay(w);
        w->close_at = SDL_GetTicks() + 1500;
        w->reconnect_at = 0;
    }
    window_vm_status_clear(&st);
}

bool window_vm_going(Win *w)
{
    const WindowVmHooks *vm = w->opts->vm;
    WindowVmStatus st = {0};
    vm->status(vm->data, &st);
    window_vm_status_clear(&st);
    return st.phase != WINDOW_VM_ACTIVE;
}
