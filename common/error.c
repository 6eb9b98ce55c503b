#include "common/error.h"

#include <gio/gio.h>

G_DEFINE_QUARK(vmdesk-error-quark, vd_error)

int vd_error_exit_status(const GError *error)
{
    if (!error)
        return 0;
    if (error->domain == G_OPTION_ERROR)
        return 2;
    if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_NO_SPACE)
        return 7;
    if (error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_NOSPC)
        return 7;
    if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_TIMED_OUT)
        return 5;
    if (error->domain != VD_ERROR)
        return 1;
    switch ((VdErrorCode)error->code) {
    case VD_ERROR_INVALID:
    case VD_ERROR_EXISTS:
        return 2;
    case VD_ERROR_NOT_FOUND:
        return 3;
    case VD_ERROR_STATE:
        return 4;
    case VD_ERROR_TIMEOUT:
        return 5;
    case VD_ERROR_VM:
    case VD_ERROR_PROTOCOL:
        return 6;
    case VD_ERROR_NO_SPACE:
        return 7;
    case VD_ERROR_FAILED:
        break;
    }
    return 1;
}
