/* Connections to libvirt and its errors as vmdesk's. */
#include "libvirt/lv_conn_priv.h"

#include "common/error.h"

#include <string.h>

char *lv_config_path(void)
{
    return g_build_filename(g_get_user_config_dir(), "vmdesk", "vmdesk.conf", NULL);
}

/* connect= in [libvirt] of vmdesk's config file: NULL when the file or the
 * key is not there (or empty). */
static bool uri_from_config(char **uri, GError **error)
{
    *uri = NULL;
    g_autofree char *path = lv_config_path();
    g_autoptr(GKeyFile) kf = g_key_file_new();
    GError *e = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
        bool missing = g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT);
        if (!missing)
            g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%s: %s", path, e->message);
        g_error_free(e);
        return missing;
    }
    g_autofree char *v = g_key_file_get_string(kf, "libvirt", "connect", NULL);
    if (v && *g_strstrip(v))
        *uri = g_steal_pointer(&v);
    return true;
}

bool lv_uri_default(char **uri, GError **error)
{
    *uri = NULL;
    const char *v = g_getenv("VMDESK_CONNECT");
    if (v && *v) {
        *uri = g_strdup(v);
        return true;
    }
    if (!uri_from_config(uri, error))
        return false;
    v = g_getenv("LIBVIRT_DEFAULT_URI");
    if (!*uri && v && *v)
        *uri = g_strdup(v);
    return true;
}

bool lv_uri_is_vmdesk(const char *s)
{
    return s && !strcmp(s, "vmdesk");
}

/* libvirt prints every error on stderr unless told otherwise; vmdesk reports
 * each error once, where it is handled. */
static void quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

static gpointer setup_once(gpointer data)
{
    (void)data;
    virSetErrorFunc(NULL, quiet);
    return GINT_TO_POINTER(virEventRegisterDefaultImpl() == 0);
}

void lv_set_error(GError **error, const char *what, ...)
{
    va_list ap;
    va_start(ap, what);
    g_autofree char *prefix = g_strdup_vprintf(what, ap);
    va_end(ap);
    virErrorPtr e = virGetLastError();
    int code = VD_ERROR_FAILED;
    if (e && (e->code == VIR_ERR_NO_DOMAIN))
        code = VD_ERROR_NOT_FOUND;
    else if (e && e->code == VIR_ERR_OPERATION_INVALID)
        code = VD_ERROR_STATE;
    g_set_error(error, VD_ERROR, code, "%s: %s", prefix,
                e && e->message ? e->message : "libvirt gave no reason");
}

LvConn *lv_conn_open(const char *uri, GError **error)
{
    static GOnce once = G_ONCE_INIT;
    if (!GPOINTER_TO_INT(g_once(&once, setup_once, NULL))) {
        lv_set_error(error, "cannot set up libvirt's event loop");
        return NULL;
    }
    if (!uri || !*uri || lv_uri_is_vmdesk(uri)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "no libvirt URI given (--connect qemu:///system, qemu+ssh://HOST/system ...)");
        return NULL;
    }
    virConnectPtr conn = virConnectOpenAuth(uri, virConnectAuthPtrDefault, 0);
    if (!conn) {
        lv_set_error(error, "cannot connect to libvirt at %s", uri);
        return NULL;
    }
    LvConn *c = g_new0(LvConn, 1);
    c->conn = conn;
    c->uri = g_strdup(uri);
    return c;
}

void lv_conn_close(LvConn *c)
{
    if (!c)
        return;
    virConnectClose(c->conn);
    g_free(c->uri);
    g_free(c);
}

const char *lv_conn_uri(const LvConn *c)
{
    return c->uri;
}

virDomainPtr lv_lookup(LvConn *c, const char *name, GError **error)
{
    virDomainPtr d = virDomainLookupByName(c->conn, name);
    if (!d)
        lv_set_error(error, "no domain \"%s\" on %s", name, c->uri);
    return d;
}
