/* A private libvirtd for the tests, and the reaper that cleans up after them. */
#include "harness_libvirt.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *run_ok(const char *const *argv)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) e = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, &e);
    if (!ok || !g_spawn_check_wait_status(status, NULL))
        g_error("%s failed: %s %s", argv[0], e ? e->message : "", err ? err : "");
    return g_steal_pointer(&out);
}

int read_pid(const char *path, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(path, &text, NULL, NULL) && atoi(text) > 0)
            return atoi(text);
        g_usleep(50000);
    }
    g_error("no pid in %s", path);
}

/* SIGTERM, then SIGKILL after 10 s; whether it is gone. */
static bool end_daemon(int pid)
{
    if (pid <= 0)
        return true;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200 && kill(pid, 0) == 0; i++)
        g_usleep(50000);
    if (kill(pid, 0) == 0) {
        kill(pid, SIGKILL);
        g_usleep(200000);
    }
    return kill(pid, 0) != 0;
}

void stop_daemon(int pid)
{
    g_assert_true(end_daemon(pid));
}

void libvirt_start(Libvirt *lv, const char *guest_dir)
{
    lv->reaper_fd = -1;
    lv->sock_dir = g_dir_make_tmp("vmdesk-lvd-XXXXXX", NULL);
    lv->dir = g_dir_make_tmp("vmdesk-lvq-XXXXXX", NULL);
    g_assert_nonnull(lv->sock_dir);
    g_assert_nonnull(lv->dir);
    /* QEMU runs as libvirt-qemu: the folder of its files is that user's. */
    struct passwd *pw = getpwnam("libvirt-qemu");
    g_assert_nonnull(pw);
    g_assert_cmpint(chown(lv->dir, pw->pw_uid, pw->pw_gid), ==, 0);
    g_assert_cmpint(chmod(lv->dir, 0750), ==, 0);
    const char *files[] = {"vmlinuz", "initrd.img"};
    for (int i = 0; i < 2; i++) {
        g_autofree char *from = g_build_filename(guest_dir, files[i], NULL);
        g_autofree char *to = g_build_filename(lv->dir, files[i], NULL);
        const char *cp[] = {"cp", from, to, NULL};
        g_free(run_ok(cp));
    }
    /* virtlogd: the one the qemu driver talks to, at its fixed socket. */
    if (!g_file_test("/run/libvirt/virtlogd-sock", G_FILE_TEST_EXISTS)) {
        g_autofree char *pidf = g_build_filename(lv->sock_dir, "virtlogd.pid", NULL);
        const char *argv[] = {"virtlogd", "-d", "-p", pidf, NULL};
        g_free(run_ok(argv));
        lv->virtlogd_pid = read_pid(pidf, 10000);
    }
    g_autofree char *conf = g_build_filename(lv->sock_dir, "libvirtd.conf", NULL);
    g_autofree char *conf_text =
        g_strdup_printf("unix_sock_dir = \"%s\"\nauth_unix_rw = \"none\"\n", lv->sock_dir);
    g_assert_true(g_file_set_contents(conf, conf_text, -1, NULL));
    g_autofree char *pidf = g_build_filename(lv->sock_dir, "libvirtd.pid", NULL);
    const char *argv[] = {"libvirtd", "-d", "-f", conf, "-p", pidf, NULL};
    g_free(run_ok(argv));
    lv->libvirtd_pid = read_pid(pidf, 20000);
    g_autofree char *sock = g_build_filename(lv->sock_dir, "libvirt-sock", NULL);
    /* libvirtd probes every hypervisor driver first: slow on a busy host. */
    for (int i = 0; i < 1800 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++) {
        if (kill(lv->libvirtd_pid, 0) != 0)
            g_error("libvirtd (pid %d) ended without making %s", lv->libvirtd_pid, sock);
        g_usleep(50000);
    }
    if (!g_file_test(sock, G_FILE_TEST_EXISTS))
        g_error("libvirtd made no socket %s in 90 s", sock);
    lv->uri = g_strdup_printf("qemu:///system?socket=%s", sock);
}

/* virsh -c URI ARGS..., its output and failure ignored. */
static void virsh_quiet(const char *uri, const char *a, const char *b, const char *c,
                        const char *d)
{
    const char *argv[] = {"virsh", "-c", uri, a, b, c, d, NULL};
    g_spawn_sync(NULL, (char **)argv, NULL,
                 G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                 NULL, NULL, NULL, NULL, NULL, NULL);
}

/* Everything the test may have left: domains (their snapshots, UEFI
 * variables, serial logs), pools with their volumes, daemons, folders. */
static void clean_up(const Libvirt *lv, char **domains, char **pools)
{
    for (char **d = domains; d && *d; d++) {
        virsh_quiet(lv->uri, "destroy", *d, NULL, NULL);
        /* Snapshot metadata first: undefine refuses a domain that has some. */
        virsh_quiet(lv->uri, "undefine", *d, "--nvram", "--snapshots-metadata");
        virsh_quiet(lv->uri, "undefine", *d, NULL, NULL);
        g_autofree char *log = g_strdup_printf("/var/log/libvirt/qemu/%s-serial.log", *d);
        g_unlink(log);
    }
    for (char **p = pools; p && *p; p++) {
        virsh_quiet(lv->uri, "pool-destroy", *p, NULL, NULL);
        virsh_quiet(lv->uri, "pool-undefine", *p, NULL, NULL);
    }
    end_daemon(lv->libvirtd_pid);
    end_daemon(lv->virtlogd_pid);
    const char *rm[] = {"rm", "-rf", lv->dir, lv->sock_dir, NULL};
    g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                 NULL);
}

void libvirt_reaper_start(Libvirt *lv, const char *const *domains, const char *const *pools)
{
    char **doms = g_strdupv((char **)domains), **pls = g_strdupv((char **)pools);
    int go[2], done[2];
    g_assert_cmpint(pipe2(go, O_CLOEXEC), ==, 0);
    g_assert_cmpint(pipe2(done, O_CLOEXEC), ==, 0);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        /* Twice, as harness.c's reaper: ctest's timeout kills the test and
         * its children; a grandchild whose parent has exited belongs to
         * init, in its own session (not the test's process group either). */
        if (fork() != 0)
            _exit(0);
        setsid();
        /* Hold only the two pipes: not ctest's output pipe, not the test's
         * sockets. @done's write end closes when the clean-up is over. */
        for (int fd = 3; fd < 1024; fd++)
            if (fd != go[0] && fd != done[1])
                close(fd);
        char c;
        ssize_t r;
        while ((r = read(go[0], &c, 1)) > 0 || (r < 0 && errno == EINTR))
            ;
        clean_up(lv, doms, pls);
        _exit(0);
    }
    close(go[0]);
    close(done[1]);
    g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
    g_strfreev(doms);
    g_strfreev(pls);
    lv->reaper_fd = go[1];
    lv->reaper_done_fd = done[0];
}

void libvirt_stop(Libvirt *lv)
{
    if (lv->reaper_fd >= 0) {
        close(lv->reaper_fd);
        /* The reaper is not our child: its end of @done closing says it
         * has cleaned up. */
        char c;
        ssize_t r;
        while ((r = read(lv->reaper_done_fd, &c, 1)) > 0 || (r < 0 && errno == EINTR))
            ;
        close(lv->reaper_done_fd);
        g_assert_true(kill(lv->libvirtd_pid, 0) != 0);
    } else {
        stop_daemon(lv->libvirtd_pid);
        stop_daemon(lv->virtlogd_pid);
        const char *rm1[] = {"rm", "-rf", lv->dir, lv->sock_dir, NULL};
        g_free(run_ok(rm1));
    }
    g_free(lv->dir);
    g_free(lv->sock_dir);
    g_free(lv->uri);
}

void undefine_stale(Libvirt *lv, const char *name)
{
    virsh_quiet(lv->uri, "undefine", name, NULL, NULL);
}

void load_ppm(const char *file, Image *im)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(file, &data, &len, NULL));
    int w = 0, h = 0, max = 0, off = 0;
    g_assert_cmpint(sscanf(data, "P6 %d %d %d%n", &w, &h, &max, &off), ==, 3);
    g_assert_cmpint(max, ==, 255);
    g_assert_true(w > 0 && h > 0 && (gsize)off + 1 + (gsize)w * h * 3 <= len);
    const guint8 *p = (const guint8 *)data + off + 1;
    im->w = w;
    im->h = h;
    im->px = g_new(uint32_t, (gsize)w * h);
    for (int i = 0; i < w * h; i++, p += 3)
        im->px[i] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

void load_screenshot(const char *file, Image *im)
{
    g_autofree char *head = NULL;
    g_assert_true(g_file_get_contents(file, &head, NULL, NULL));
    if (!g_str_has_prefix(head, "\x89PNG"))
        load_ppm(file, im);
    else if (!image_load_png(file, im))
        g_error("cannot read %s", file);
}
