#include "guest/guest_apps.h"

#include "common/error.h"
#include "common/text.h"
#include "qemu/json_lines.h"
#include "secrets/credentials.h"
#include "vm/vm_store.h"

#include <string.h>

/* The scripts, embedded at build time (orchestrator/CMakeLists.txt, bin2c). */
extern const unsigned char guest_apps_linux_script[];
extern const unsigned int guest_apps_linux_script_len;
extern const unsigned char guest_apps_windows_script[];
extern const unsigned int guest_apps_windows_script_len;

/* What the guest tools are, for the "no agent" hint. */
#define AGENT_HINT                                                                                \
    "vmdesk lists a guest's applications through the QEMU guest agent: install it in the "    \
    "guest (Debian/Ubuntu: apt install qemu-guest-agent; Fedora: dnf install "               \
    "qemu-guest-agent; Windows: the qemu-ga installer of the virtio-win guest tools) and "     \
    "start it"

const char *guest_apps_script(VmOs os, gsize *len)
{
    if (os == VM_OS_WINDOWS) {
        *len = guest_apps_windows_script_len;
        return (const char *)guest_apps_windows_script;
    }
    *len = guest_apps_linux_script_len;
    return (const char *)guest_apps_linux_script;
}

/* What a program printed (@text, its stderr) as the tail of a message:
 * ": " and its beginning quoted, or "" when it printed nothing. Caller frees. */
static char *head_of(const char *text, gsize len)
{
    g_autofree char *s = g_strstrip(g_strndup(text, len));
    if (!*s)
        return g_strdup("");
    g_autofree char *q = vd_text_quote(s, -1);
    return g_strconcat(": ", q, NULL);
}

GPtrArray *guest_apps_query(QgaClient *c, VmOs os, const char *const *users, int timeout_ms,
                            GError **error)
{
    gsize script_len = 0;
    const char *script = guest_apps_script(os, &script_len);
    QgaExecResult r;
    bool ok;
    const char *what;
    if (os == VM_OS_WINDOWS) {
        /* The whole script is read first, then run: PowerShell's own
         * `-Command -` runs stdin line by line and trips over blocks. */
        const char *argv[] = {"powershell.exe", "-NoProfile", "-NonInteractive",
                              "-ExecutionPolicy", "Bypass", "-Command",
                              "iex ([Console]::In.ReadToEnd())", NULL};
        what = "list-apps.ps1 (powershell.exe)";
        ok = qga_client_exec_input(c, "powershell.exe", argv, NULL, script, script_len,
                                   timeout_ms, &r, error);
    } else {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_ptr_array_add(argv, (char *)"sh");
        g_ptr_array_add(argv, (char *)"-s");
        g_ptr_array_add(argv, (char *)"--");
        for (const char *const *u = users; u && *u; u++)
            g_ptr_array_add(argv, (char *)*u);
        g_ptr_array_add(argv, NULL);
        /* A known environment: the agent's own may lack PATH or a locale. */
        const char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                             "LC_ALL=C", "HOME=/", NULL};
        what = "list-apps.sh (/bin/sh)";
        ok = qga_client_exec_input(c, "/bin/sh", (const char *const *)argv->pdata, env, script,
                                   script_len, timeout_ms, &r, error);
    }
    if (!ok)
        return NULL;
    if (r.exit_code != 0 || r.out_truncated) {
        g_autofree char *said = head_of(r.err_len ? r.err : r.out, r.err_len ? r.err_len : r.out_len);
        if (r.out_truncated)
            g_set_error(error, VD_ERROR, VD_ERROR_VM,
                        "the guest's application list is larger than the guest agent passes "
                        "on (it cut the output)");
        else if (r.signal)
            g_set_error(error, VD_ERROR, VD_ERROR_VM, "%s was killed by signal %d in the guest%s",
                        what, r.signal, said);
        else
            g_set_error(error, VD_ERROR, VD_ERROR_VM, "%s failed in the guest (exit status %d)%s",
                        what, r.exit_code, said);
        qga_exec_result_clear(&r);
        return NULL;
    }
    GPtrArray *apps = guest_apps_parse(r.out, r.out_len, NULL, error);
    qga_exec_result_clear(&r);
    return apps;
}

/* @err (taken) with the hint that names the guest tools to install. */
static void with_hint(GError *err, GError **error)
{
    g_set_error(error, VD_ERROR, err->code, "%s. %s", err->message, AGENT_HINT);
    g_error_free(err);
}

bool guest_apps_agent_os(QgaClient *c, int timeout_ms, VmOs *os, GError **error)
{
    GError *err = NULL;
    g_autoptr(JsonNode) r = qga_client_execute(c, "guest-get-osinfo", NULL, timeout_ms, &err);
    if (!r && g_error_matches(err, VD_ERROR, VD_ERROR_NOT_FOUND) && !strstr(err->message, "no guest agent")) {
        /* An agent older than guest-get-osinfo (QEMU 2.10): not Windows's. */
        g_error_free(err);
        *os = VM_OS_LINUX;
        return true;
    }
    if (!r) {
        g_propagate_error(error, err);
        return false;
    }
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(r) ? json_node_get_object(r) : NULL;
    const char *id = json_member_string(o, "id");
    const char *kernel = json_member_string(o, "kernel-name");
    bool windows = !g_strcmp0(id, "mswindows") || (kernel && g_str_has_prefix(kernel, "Windows"));
    *os = windows ? VM_OS_WINDOWS : VM_OS_LINUX;
    return true;
}

GPtrArray *guest_apps_list_client(QgaClient *c, const VmOs *os, const char *const *users,
                                  int timeout_ms, GError **error)
{
    GError *err = NULL;
    /* Sync first, with a short deadline of its own, so that a guest without
     * an agent reads as such and not as a script that never ended. */
    if (!qga_client_sync(c, MIN(timeout_ms, 10000), &err)) {
        with_hint(err, error);
        return NULL;
    }
    VmOs asked = VM_OS_LINUX;
    if (!os && !guest_apps_agent_os(c, MIN(timeout_ms, 10000), &asked, error))
        return NULL;
    return guest_apps_query(c, os ? *os : asked, users, timeout_ms, error);
}

GPtrArray *guest_apps_list(const char *name, int timeout_ms, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return NULL;
    g_autoptr(VmStatus) st = vm_status_get(name);
    if (st->state != VM_STATE_RUNNING) {
        const char *state = vm_state_to_string(st->state);
        g_autofree char *lower = g_ascii_strdown(state, -1);
        g_autofree char *plain = g_strdup_printf(
            "VM \"%s\" is %s: its programs can only be listed while it runs; start it first",
            name, lower);
        vd_error_set_worded(error, VD_ERROR_STATE, NULL, plain,
                            "VM \"%s\" is %s: its applications can only be listed while it runs "
                            "(vmdesk start %s, or add --start)",
                            name, state, name);
        return NULL;
    }
    g_autofree char *path = vm_runtime_path(name, "qga.sock");
    GError *err = NULL;
    g_autoptr(QgaClient) c = qga_client_connect_unix(path, &err);
    if (!c) {
        with_hint(err, error);
        return NULL;
    }
    g_autofree char *user = credentials_user(name);
    const char *users[] = {user, NULL};
    return guest_apps_list_client(c, &cfg->os, user ? users : NULL, timeout_ms, error);
}
