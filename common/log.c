#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static GMutex log_lock;
static FILE *log_file; /* NULL: stderr */
static int log_level = -1;

void vd_log_set_level(VdLogLevel level)
{
    g_mutex_lock(&log_lock);
    log_level = level;
    g_mutex_unlock(&log_lock);
}

bool vd_log_to_file(const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot open log file %s: %s", path, g_strerror(errno));
        return false;
    }
    FILE *f = fdopen(fd, "a");
    if (!f) {
        close(fd);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "fdopen failed");
        return false;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    g_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = f;
    g_mutex_unlock(&log_lock);
    return true;
}

void vd_log(VdLogLevel level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    g_mutex_lock(&log_lock);
    if (log_level < 0)
        log_level = g_strcmp0(g_getenv("VMDESK_DEBUG"), "1") == 0 ? VD_LOG_DEBUG : VD_LOG_INFO;
    if ((int)level < log_level) {
        g_mutex_unlock(&log_lock);
        return;
    }
    FILE *out = log_file ? log_file : stderr;
    if (log_file) {
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *ts = g_date_time_format(now, "%F %T.%f");
        fprintf(out, "%.23s [%d] %s: ", ts, (int)getpid(), names[level]);
    } else if (level != VD_LOG_INFO) {
        fprintf(out, "vmdesk: %s: ", names[level]);
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
    g_mutex_unlock(&log_lock);
}
