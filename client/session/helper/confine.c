/* The helper's confinement: no_new_privs, Landlock, then a seccomp allow list
 * (confine.h). Landlock comes before seccomp because its own system calls
 * are not on the list. */
#include "session/helper/confine.h"

#include "common/error.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

/* Landlock rights newer than Debian 12's <linux/landlock.h> (kernel ABI,
 * stable): ABI 3 truncate, ABI 4 TCP, ABI 5 device ioctl, ABI 6 scopes. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#define LL_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#define LL_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LL_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6; the kernel takes the prefix the
 * size says. */
struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

static int landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

static uint64_t fs_rights(int abi)
{
    uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
    if (abi >= 2)
        all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        all |= LL_ACCESS_FS_IOCTL_DEV;
    return all;
}

/* Allow @rights beneath @path (a file takes only the file rights). A path
 * that does not exist is skipped. */
static bool add_path_rule(int ruleset, const char *path, uint64_t rights, GError **error)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return true;
    struct stat st;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
        rights &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                  LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                  LL_ACCESS_FS_IOCTL_DEV;
    struct landlock_path_beneath_attr rule = {.allowed_access = rights, .parent_fd = fd};
    long r = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    int e = errno;
    close(fd);
    if (r < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "Landlock rule for %s: %s", path,
                    g_strerror(e));
        return false;
    }
    return true;
}

static bool apply_landlock(const ConfinePolicy *policy, int abi, GError **error)
{
    struct ll_ruleset_attr attr = {.handled_access_fs = fs_rights(abi)};
    size_t size = sizeof(attr.handled_access_fs);
    if (abi >= 4) {
        attr.handled_access_net = LL_ACCESS_NET_BIND_TCP | LL_ACCESS_NET_CONNECT_TCP;
        size += sizeof(attr.handled_access_net);
    }
    if (abi >= 6) {
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        size += sizeof(attr.scoped);
    }
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "Landlock ruleset: %s", g_strerror(errno));
        return false;
    }
    uint64_t ro = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    uint64_t rw = attr.handled_access_fs & ~(LANDLOCK_ACCESS_FS_EXECUTE | LL_ACCESS_FS_IOCTL_DEV);
    bool ok = true;
    for (const char *const *p = policy->read_only; ok && p && *p; p++)
        ok = add_path_rule(ruleset, *p, ro, error);
    for (const char *const *p = policy->read_write; ok && p && *p; p++)
        ok = add_path_rule(ruleset, *p, rw, error);
    if (ok && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "Landlock: %s", g_strerror(errno));
        ok = false;
    }
    close(ruleset);
    return ok;
}

/* What a protocol library, GLib and glibc need on descriptors they were
 * given. Not here, so failing with EPERM: execve, fork (clone without
 * CLONE_THREAD), socket, socketpair, connect, bind, listen, accept, ptrace,
 * process_vm_*, mount, unshare, setns, kill, bpf, keyctl, ... fcntl and
 * openat are allowed below for some arguments only. */
static const int allowed[] = {
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
    SCMP_SYS(pwrite64), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
    SCMP_SYS(sendmsg), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
    SCMP_SYS(close), SCMP_SYS(dup), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
    SCMP_SYS(statx), SCMP_SYS(lseek), SCMP_SYS(access), SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2), SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64),
    SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
    SCMP_SYS(brk), SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
    SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall), SCMP_SYS(getpid),
    SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
    SCMP_SYS(getegid), SCMP_SYS(getrandom), SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
    SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(eventfd2),
    SCMP_SYS(memfd_create), SCMP_SYS(ftruncate), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(shutdown), SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity), SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getcwd),
};

/* Allow @syscall when argument @arg compares to @a (masked by @mask for
 * SCMP_CMP_MASKED_EQ). */
static int allow_if(scmp_filter_ctx ctx, int syscall, unsigned arg, enum scmp_compare op,
                    scmp_datum_t mask, scmp_datum_t a)
{
    struct scmp_arg_cmp cmp = {
        .arg = arg, .op = op, .datum_a = op == SCMP_CMP_MASKED_EQ ? mask : a, .datum_b = a};
    return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, syscall, 1, &cmp);
}

/* What writing files beneath the read-write folders takes (drives, the
 * clipboard's staging folder). Allowed only where Landlock keeps the
 * writes to those folders: only calls Landlock checks. Never chmod and
 * its kin (Landlock checks no mode change: any file of the user's could
 * be opened to others) nor utimensat on a path (the same for times);
 * truncate(2) by path only from Landlock ABI 3 (Linux 6.2), which checks
 * it (below). A drive's file loses its read-only attribute and times. */
static const int writing[] = {
    SCMP_SYS(mkdir),  SCMP_SYS(mkdirat),  SCMP_SYS(rmdir),     SCMP_SYS(unlink),
    SCMP_SYS(unlinkat), SCMP_SYS(rename), SCMP_SYS(renameat),  SCMP_SYS(renameat2),
    SCMP_SYS(fsync),  SCMP_SYS(fdatasync), SCMP_SYS(fallocate), SCMP_SYS(statfs),
    SCMP_SYS(fstatfs), SCMP_SYS(flock),   SCMP_SYS(creat),
};

static bool apply_seccomp(bool writes, int landlock_abi, GError **error)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "seccomp_init failed");
        return false;
    }
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    for (size_t i = 0; r == 0 && i < G_N_ELEMENTS(allowed); i++)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
    /* Threads, not processes: glibc tries clone3 first and falls back to
     * clone on ENOSYS, whose flags a filter can read. */
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (r == 0)
        r = allow_if(ctx, SCMP_SYS(clone), 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
    /* fcntl's commands on its own descriptors only: never F_SETOWN(_EX),
     * F_SETSIG, F_NOTIFY or F_SETLEASE, through which the kernel would send
     * a signal the helper chose to any process of the user. */
    static const int fcntl_cmds[] = {F_GETFD,        F_SETFD,     F_GETFL,    F_SETFL,
                                     F_DUPFD_CLOEXEC, F_GET_SEALS, F_ADD_SEALS};
    for (size_t i = 0; r == 0 && i < G_N_ELEMENTS(fcntl_cmds); i++)
        r = allow_if(ctx, SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, 0, (scmp_datum_t)fcntl_cmds[i]);
    /* Files opened for reading only, whatever Landlock does (a kernel
     * without it would otherwise leave the user's files writable), unless
     * Landlock keeps the writes beneath the read-write folders. */
    if (r == 0 && !writes)
        r = allow_if(ctx, SCMP_SYS(openat), 2, SCMP_CMP_MASKED_EQ,
                     O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE, 0);
    if (r == 0 && writes)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 0);
    for (size_t i = 0; r == 0 && writes && i < G_N_ELEMENTS(writing); i++)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, writing[i], 0);
    /* futimens (utimensat on a descriptor, no path): on its own files. */
    if (r == 0 && writes)
        r = allow_if(ctx, SCMP_SYS(utimensat), 1, SCMP_CMP_EQ, 0, 0);
    if (r == 0 && writes && landlock_abi >= 3)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(truncate), 0);
    /* Signals to itself only (abort, thread cancellation). */
    if (r == 0)
        r = allow_if(ctx, SCMP_SYS(tgkill), 0, SCMP_CMP_EQ, 0, (scmp_datum_t)getpid());
    /* Naming its threads; isatty() and FIONREAD on its own descriptors. */
    if (r == 0)
        r = allow_if(ctx, SCMP_SYS(prctl), 0, SCMP_CMP_EQ, 0, PR_SET_NAME);
    if (r == 0)
        r = allow_if(ctx, SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, 0, TCGETS);
    if (r == 0)
        r = allow_if(ctx, SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, 0, FIONREAD);
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "seccomp filter: %s", g_strerror(-r));
        return false;
    }
    return true;
}

bool confine_apply(const ConfinePolicy *policy, ConfineReport *report, GError **error)
{
    memset(report, 0, sizeof(*report));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "no_new_privs: %s", g_strerror(errno));
        return false;
    }
    report->no_new_privs = true;
    int abi = landlock_abi();
    if (abi > 0) {
        g_autoptr(GError) err = NULL;
        if (apply_landlock(policy, abi, &err))
            report->landlock_abi = abi;
        else
            vd_warn("the session helper runs without Landlock: %s", err->message);
    }
    /* Writes only with Landlock on: without it, nothing is written at all
     * (the shares and the clipboard's files fail, said once here). */
    bool writes = policy->read_write && *policy->read_write;
    if (writes && !report->landlock_abi) {
        vd_warn("the session helper cannot write to the shared folders: this kernel has no "
                "Landlock to keep its writes there");
        writes = false;
    }
    if (!apply_seccomp(writes, report->landlock_abi, error))
        return false;
    report->seccomp = true;
    return true;
}

char *confine_describe(const ConfineReport *r)
{
    GString *s = g_string_new(NULL);
    g_string_append(s, r->no_new_privs ? "no_new_privs" : "NO no_new_privs");
    g_string_append(s, r->seccomp ? ", seccomp" : ", NO seccomp");
    if (!r->landlock_abi)
        g_string_append(s, ", NO Landlock (the kernel has none: files are not confined)");
    else
        g_string_append_printf(s, ", Landlock ABI %d (files%s%s)", r->landlock_abi,
                               r->landlock_abi >= 4 ? ", TCP" : "",
                               r->landlock_abi >= 6 ? ", signals, abstract sockets" : "");
    return g_string_free(s, FALSE);
}
