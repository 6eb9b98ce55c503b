/* The escape test's attempts (helper_escape.h). */
#include "session/helper/helper_escape.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what, bool allowed, const char *why)
{
    if (allowed)
        fprintf(stderr, "vmdesk helper escape: %s: ALLOWED\n", what);
    else
        fprintf(stderr, "vmdesk helper escape: %s: denied (%s)\n", what, why);
}

static void try_read(const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    report("read-secret", n > 0, g_strerror(e));
}

static void try_write(const char *what, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ssize_t n = fd >= 0 ? write(fd, "escaped\n", 8) : -1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    report(what, n == 8, g_strerror(e));
}

/* What Landlock does not check (a mode, times) or checks only from ABI 3
 * (truncate by path): on the user's file, outside every share. */
static void try_metadata(const char *path)
{
    int r = chmod(path, 0666);
    report("chmod-secret", r == 0, g_strerror(errno));
    r = utimensat(AT_FDCWD, path, NULL, 0);
    report("utime-secret", r == 0, g_strerror(errno));
    r = truncate(path, 0);
    report("truncate-secret", r == 0, g_strerror(errno));
}

static void try_socket_and_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    report("socket", fd >= 0, g_strerror(errno));
    if (fd < 0) {
        report("connect", false, "no socket");
        return;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    report("connect", r == 0, g_strerror(errno));
    close(fd);
}

static void try_exec(void)
{
    char *argv[] = {"/bin/sh", "-c", "echo 'vmdesk helper escape: exec: ALLOWED' >&2", NULL};
    char *envp[] = {NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execve(argv[0], argv, envp);
        _exit(127);
    }
    if (pid > 0) {
        waitpid(pid, NULL, 0);
        return;
    }
    /* No fork: try in place (a success would replace this process). */
    execve(argv[0], argv, envp);
    report("exec", false, g_strerror(errno));
}

static void try_ptrace_parent(void)
{
    pid_t parent = getppid();
    if (ptrace(PTRACE_SEIZE, parent, 0, 0) != 0) {
        report("ptrace-parent", false, g_strerror(errno));
        return;
    }
    report("ptrace-parent", true, NULL);
    if (ptrace(PTRACE_INTERRUPT, parent, 0, 0) == 0)
        waitpid(parent, NULL, __WALL);
    ptrace(PTRACE_DETACH, parent, 0, 0);
}

static void try_list(const char *dir)
{
    DIR *d = opendir(dir);
    int e = errno;
    report("read-other-vm", d && readdir(d), g_strerror(e));
    if (d)
        closedir(d);
}

void helper_escape_try(void)
{
    const char *spec = g_getenv("VMDESK_TEST_HELPER_ESCAPE");
    if (!spec)
        return;
    g_auto(GStrv) f = g_strsplit(spec, ":", 7);
    guint n = g_strv_length(f);
    if (n < 4) {
        fprintf(stderr, "vmdesk helper escape: VMDESK_TEST_HELPER_ESCAPE is "
                        "SECRET:WRITE:DIR:PORT[:SHARED[:STAGE[:RUN]]]\n");
        return;
    }
    try_read(f[0]);
    try_write("write-home", f[1]);
    try_metadata(f[0]); /* after the read: the control run empties the secret */
    /* What the session may write (a share): allowed confined too, so the
     * test sees the rules are not just "nothing". */
    if (n > 4 && *f[4])
        try_write("write-share", f[4]);
    /* The window's clipboard staging folder and the runtime folder (a
     * small tmpfs every program of the user shares): the window writes the
     * server's files there itself, within its limit; the helper may not. */
    if (n > 5 && *f[5])
        try_write("write-stage", f[5]);
    if (n > 6 && *f[6])
        try_write("write-runtime", f[6]);
    try_socket_and_connect(atoi(f[3]));
    try_ptrace_parent();
    try_list(f[2]);
    try_exec();
}
