/* The VM behind the desktop window: its state in the title, the window
 * closing when it shut down, and the on-shutdown=ask question about its
 * overlay. */
#include "common/log.h"
#include "common/size.h"
#include "storage/vm_overlay.h"
#include "ui/window_priv.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
 * supervisor left the question for us (README, Disks). Enter commits them
 * into the base, Escape keeps them for later; nothing is lost either way. */
static void ask_overlay(Win *w)
{
    const char *name = w->opts->vm_name;
    if (!vm_overlay_decision_pending(name))
        return;
    g_autoptr(VmOverlayStatus) st = NULL;
    g_autoptr(GError) err = NULL;
    if (!vm_overlay_status(name, &st, &err))
        return;
    g_autofree char *changed = vd_size_format(st->changed_bytes);
    g_autofree char *text = g_strdup_printf(
        /* SDL's X11 dialog does not wrap lines */
        "The guest of %s shut down.\nIts overlay holds %s of changes%s.\n\n"
        "Commit them into the base image\n%s,\ndiscard them, or keep the overlay and decide "
        "later\n(vmdesk overlay %s commit | discard)?",
        name, changed,
        st->vars_changed || st->tpm_changed ? "\n(and new UEFI variables or TPM state)" : "",
        st->base, name);
    const SDL_MessageBoxButtonData buttons[] = {
        {SDL_MESSAGEBOX_BUTTON_ESCAPEKEY_DEFAULT, VM_OVERLAY_KEEP, "Keep for later"},
        {0, VM_OVERLAY_DISCARD, "Discard"},
        {SDL_MESSAGEBOX_BUTTON_RETURNKEY_DEFAULT, VM_OVERLAY_COMMIT, "Commit"},
    };
    g_autofree char *title = g_strdup_printf("%s: keep the changes? — vmdesk", name);
    const SDL_MessageBoxData box = {SDL_MESSAGEBOX_INFORMATION, w->win, title, text,
                                    (int)G_N_ELEMENTS(buttons), buttons, NULL};
    int choice = VM_OVERLAY_KEEP;
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
        choice = VM_OVERLAY_KEEP;
    if (!vm_overlay_apply(name, (VmOverlayAction)choice, &err)) {
        vd_warn("%s: %s; the overlay is kept (vmdesk overlay %s status)", name, err->message,
                name);
        return;
    }
    printf("%s: the overlay's changes: %s\n", name,
           vm_overlay_action_to_string((VmOverlayAction)choice));
}

void window_vm_poll(Win *w)
{
    g_autoptr(VmStatus) st = vm_status_get(w->opts->vm_name);
    const char *name = vm_state_to_string(st->state);
    if (g_strcmp0(name, w->vm_state)) {
        g_free(w->vm_state);
        w->vm_state = g_strdup(name);
        window_update_title(w);
    }
    if (!vm_state_is_active(st->state) && !w->close_at) {
        g_autofree char *msg =
            g_strdup_printf("the VM %s%s%s", st->state == VM_STATE_ERROR ? "failed" : "shut down",
                            st->reason ? ": " : "", st->reason ? st->reason : "");
        printf("%s: %s\n", w->opts->vm_name, msg);
        window_set_status(w, msg);
        if (st->state == VM_STATE_STOPPED)
            ask_overlay(w);
        w->close_at = SDL_GetTicks() + 1500;
        w->reconnect_at = 0;
    }
}

bool window_vm_going(Win *w)
{
    g_autoptr(VmStatus) st = vm_status_get(w->opts->vm_name);
    return !vm_state_is_active(st->state) || st->state == VM_STATE_STOPPING;
}
