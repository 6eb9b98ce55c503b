#include "harness_demo.h"

#include "guest/qga_client.h"

#include <string.h>

/* The value of @key in guest.env's @lines, unquoted as the shell would. */
static char *env_value(char **lines, const char *key)
{
    g_autofree char *prefix = g_strdup_printf("%s=", key);
    for (char **l = lines; *l; l++)
        if (g_str_has_prefix(*l, prefix))
            return g_shell_unquote(*l + strlen(prefix), NULL);
    g_error("guest.env has no %s", key);
}

void demo_guest_load(DemoGuest *g)
{
    const char *dir = g_getenv("VMDESK_DEMO_GUEST_DIR");
    g_assert_nonnull(dir);
    g_autofree char *path = g_build_filename(dir, "guest.env", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g->kernel = env_value(lines, "KERNEL");
    g->initrd = env_value(lines, "INITRD");
    g->disk = env_value(lines, "DISK");
    g->append = env_value(lines, "APPEND");
    g->user = env_value(lines, "USER");
    g->password_file = env_value(lines, "PASSWORD_FILE");
}

void demo_guest_clear(DemoGuest *g)
{
    g_free(g->kernel);
    g_free(g->initrd);
    g_free(g->disk);
    g_free(g->append);
    g_free(g->user);
    g_free(g->password_file);
    memset(g, 0, sizeof(*g));
}

char *demo_guest_agent_socket(Harness *h, const char *vm)
{
    return g_build_filename(h->root, "run", "vmdesk", vm, "qga.sock", NULL);
}

char *demo_guest_run(const char *agent_socket_path, const char *const *argv, int timeout_ms)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QgaClient) c = qga_client_connect_unix(agent_socket_path, &err);
    if (!c)
        g_error("%s in the guest: %s", argv[0], err->message);
    /* The exec synchronizes with the agent first, within the same time. */
    QgaExecResult r = {0};
    if (!qga_client_exec(c, argv[0], argv, timeout_ms, &r, &err))
        g_error("%s in the guest: %s", argv[0], err->message);
    if (r.exit_code != 0) {
        g_autofree char *line = g_strjoinv(" ", (char **)argv);
        g_printerr("%s in the guest: exit %d (signal %d)\nits stdout:\n%s\nits stderr:\n%s\n",
                   line, r.exit_code, r.signal, r.out ? r.out : "", r.err ? r.err : "");
    }
    g_assert_cmpint(r.exit_code, ==, 0);
    char *out = g_strdup(r.out ? r.out : "");
    qga_exec_result_clear(&r);
    return out;
}
