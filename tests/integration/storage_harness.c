#include "storage_harness.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <sys/wait.h>
#include <stdio.h>

char *st_vm_path(Harness *h, const char *name, const char *file)
{
    return g_build_filename(h->root, "data", "vmdesk", "vms", name, file, NULL);
}

void st_wait_serial(Harness *h, const char *name, const char *needle, int timeout_ms)
{
    g_autofree char *log = st_vm_path(h, name, "logs/serial.log");
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        g_autofree char *text = NULL;
        g_file_get_contents(log, &text, NULL, NULL);
        /* The log is appended to, run after run: look in this run's part. */
        const char *run = text ? g_strrstr(text, ": starting QEMU\n") : NULL;
        if (text && strstr(run ? run : text, needle))
            return;
        if (g_get_monotonic_time() > deadline) {
            g_printerr("serial log of %s without \"%s\":\n%s\n", name, needle,
                       text ? text : "(none)");
            g_assert_not_reached();
        }
        g_usleep(100 * 1000);
    }
}

int st_run(const char *const *argv, char **out)
{
    g_autofree char *o = NULL, *e = NULL;
    int status = -1;
    g_autoptr(GError) err = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, harness_die_with_parent,
                      NULL, &o, &e, &status, &err)) {
        g_printerr("%s: %s\n", argv[0], err->message);
        return -1;
    }
    if (out)
        *out = g_strconcat(o ? o : "", e ? e : "", NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *st_first_line(const char *path)
{
    g_autofree char *tmp = g_strdup_printf("%s.sector0", path);
    g_autofree char *of = g_strdup_printf("of=%s", tmp);
    g_autofree char *inf = g_strdup_printf("if=%s", path);
    const char *argv[] = {"qemu-img", "dd", "-U", "-O", "raw", inf, of, "bs=512", "count=1",
                          NULL};
    g_autofree char *out = NULL;
    int rc = st_run(argv, &out);
    if (rc)
        g_printerr("qemu-img dd: %s\n", out);
    g_assert_cmpint(rc, ==, 0);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(tmp, &data, &len, NULL));
    remove(tmp);
    gsize n = 0;
    while (n < len && data[n] && data[n] != '\n')
        n++;
    return g_strndup(data, n);
}

void st_make_raw(const char *path, const char *word, gsize size)
{
    char *buf = g_malloc0(size);
    g_snprintf(buf, 512, "%s\n", word);
    g_assert_true(g_file_set_contents(path, buf, (gssize)size, NULL));
    g_free(buf);
}

void st_guest_shell(Harness *h, const char *name, const char *command, const char *done,
                    int timeout_ms)
{
    g_free(st_guest_shell_output(h, name, command, done, timeout_ms));
}

char *st_guest_shell_output(Harness *h, const char *name, const char *command, const char *done,
                            int timeout_ms)
{
    g_autofree char *sock = g_build_filename(h->root, "run", "vmdesk", name, "serial.sock", NULL);
    return st_serial_shell(sock, command, done, timeout_ms);
}

char *st_serial_shell(const char *sock, const char *command, const char *done, int timeout_ms)
{
    g_autoptr(GSocketClient) c = g_socket_client_new();
    g_autoptr(GSocketAddress) a = g_unix_socket_address_new(sock);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect(c, G_SOCKET_CONNECTABLE(a), NULL, &err);
    g_assert_no_error(err);
    g_autofree char *line = g_strdup_printf("\n%s\n", command);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_assert_true(g_output_stream_write_all(out, line, strlen(line), NULL, NULL, &err));
    GSocket *s = g_socket_connection_get_socket(conn);
    GString *got = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!strstr(got->str, done)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        if (g_socket_condition_timed_wait(s, G_IO_IN, 200 * 1000, NULL, NULL)) {
            char buf[512];
            gssize n = g_socket_receive(s, buf, sizeof(buf), NULL, NULL);
            g_assert_cmpint(n, >, 0);
            g_string_append_len(got, buf, n);
        }
    }
    return g_string_free(got, FALSE);
}

char *st_state(Harness *h, const char *name)
{
    g_autoptr(JsonObject) o = harness_show(h, name);
    return g_strdup(json_object_get_string_member(o, "state"));
}
