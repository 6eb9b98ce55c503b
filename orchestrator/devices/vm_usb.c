#include "devices/vm_usb.h"

#include "common/error.h"
#include "devices/usb_host.h"
#include "qemu/qmp_cmd.h"
#include "vm/vm_control.h"
#include "vm/vm_lease.h"
#include "vm/vm_state.h"
#include "vm/vm_store.h"

#include <string.h>
#include <unistd.h>

#define QMP_TIMEOUT_MS 10000

void vm_usb_device_clear(VmUsbDevice *d)
{
    if (!d)
        return;
    g_free(d->device);
    g_free(d->id);
    g_free(d->host_name);
    memset(d, 0, sizeof(*d));
}

static void device_free(gpointer p)
{
    vm_usb_device_clear(p);
    g_free(p);
}

/* The index in @cfg->usb of the entry naming @spec, or -1. */
static int kept_index(const VmConfig *cfg, const VmUsbSpec *spec)
{
    g_autofree char *want = vm_usb_spec_to_string(spec);
    for (int i = 0; cfg->usb && cfg->usb[i]; i++) {
        VmUsbSpec s;
        g_autofree char *have =
            vm_usb_spec_parse(cfg->usb[i], &s, NULL) ? vm_usb_spec_to_string(&s) : NULL;
        if (!g_strcmp0(have, want))
            return i;
    }
    return -1;
}

static bool running(const char *name)
{
    g_autoptr(VmStatus) st = vm_status_get(name);
    return vm_state_is_active(st->state);
}

static char *host_name_of(GPtrArray *host, const VmUsbSpec *spec)
{
    const UsbHostDevice *d = usb_host_find(host, spec);
    return d ? usb_host_device_name(d) : NULL;
}

/* @device parsed into *@spec, and VM @name's config (caller frees). */
static VmConfig *load(const char *name, const char *device, VmUsbSpec *spec, GError **error)
{
    return vm_usb_spec_parse(device, spec, error) ? vm_store_load(name, error) : NULL;
}

bool vm_usb_attach(const char *name, const char *device, bool keep, VmUsbDevice *out,
                   GError **error)
{
    memset(out, 0, sizeof(*out));
    VmUsbSpec spec;
    g_autoptr(VmConfig) cfg = load(name, device, &spec, error);
    if (!cfg)
        return false;
    bool live = running(name);
    if (!live && !keep) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "VM \"%s\" is not running; attach with --keep to pass the device through "
                    "at its next start (and every one after)",
                    name);
        return false;
    }
    g_autoptr(GPtrArray) host = usb_host_list(error);
    if (!host)
        return false;
    const UsbHostDevice *d = usb_host_find(host, &spec);
    if (d && !usb_host_check_access(d, error))
        return false;
    out->device = vm_usb_spec_to_string(&spec);
    out->id = vm_usb_spec_device_id(&spec);
    out->host_name = d ? usb_host_device_name(d) : NULL;
    if (live) {
        int lease = vm_lease_hold(name, "usb attach", NULL);
        g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
        g_autoptr(GPtrArray) now = c ? qmp_cmd_usb_host_list(c, QMP_TIMEOUT_MS, error) : NULL;
        bool ok = now != NULL;
        bool present = false;
        for (guint i = 0; ok && i < now->len; i++)
            present |= !strcmp(((QmpUsbHost *)g_ptr_array_index(now, i))->id, out->id);
        if (ok && !present)
            ok = qmp_cmd_usb_host_add(c, out->id, &spec, QMP_TIMEOUT_MS, error);
        g_clear_pointer(&now, g_ptr_array_unref);
        /* QEMU attaches a present device while it realizes the usb-host. */
        if (ok)
            now = qmp_cmd_usb_host_list(c, QMP_TIMEOUT_MS, error);
        for (guint i = 0; now && i < now->len; i++) {
            QmpUsbHost *h = g_ptr_array_index(now, i);
            if (!strcmp(h->id, out->id))
                out->attached = h->attached;
        }
        if (lease >= 0)
            close(lease);
        if (!ok || !now)
            return false;
        out->live = true;
    }
    if (keep && kept_index(cfg, &spec) < 0) {
        g_autofree char *add = g_strdup_printf("usb+=%s", out->device);
        if (!vm_config_set(cfg, add, false, NULL, error) || !vm_store_save(cfg, error))
            return false;
    }
    out->kept = kept_index(cfg, &spec) >= 0;
    return true;
}

bool vm_usb_detach(const char *name, const char *device, GError **error)
{
    VmUsbSpec spec;
    g_autoptr(VmConfig) cfg = load(name, device, &spec, error);
    if (!cfg)
        return false;
    g_autofree char *id = vm_usb_spec_device_id(&spec);
    bool found = false;
    if (running(name)) {
        int lease = vm_lease_hold(name, "usb detach", NULL);
        g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
        g_autoptr(GError) local = NULL;
        bool ok = c && qmp_cmd_device_del(c, id, QMP_TIMEOUT_MS, &local);
        if (lease >= 0)
            close(lease);
        if (!c)
            return false;
        if (!ok && !g_error_matches(local, VD_ERROR, VD_ERROR_NOT_FOUND)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return false;
        }
        found = ok;
    }
    int k = kept_index(cfg, &spec);
    if (k >= 0) {
        GStrvBuilder *b = g_strv_builder_new();
        for (int i = 0; cfg->usb[i]; i++)
            if (i != k)
                g_strv_builder_add(b, cfg->usb[i]);
        g_strfreev(cfg->usb);
        cfg->usb = g_strv_builder_end(b);
        g_strv_builder_unref(b);
        if (!*cfg->usb)
            g_clear_pointer(&cfg->usb, g_strfreev);
        if (!vm_store_save(cfg, error))
            return false;
        found = true;
    }
    if (!found) {
        g_autofree char *canon = vm_usb_spec_to_string(&spec);
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "VM \"%s\" has no USB device %s; vmdesk usb %s list shows its devices", name,
                    canon, name);
        return false;
    }
    return true;
}

static VmUsbDevice *list_entry(GPtrArray *out, const char *id)
{
    for (guint i = 0; i < out->len; i++) {
        VmUsbDevice *d = g_ptr_array_index(out, i);
        if (!strcmp(d->id, id))
            return d;
    }
    return NULL;
}

static VmUsbDevice *list_add(GPtrArray *out, const VmUsbSpec *spec, GPtrArray *host)
{
    g_autofree char *id = vm_usb_spec_device_id(spec);
    VmUsbDevice *d = list_entry(out, id);
    if (d)
        return d;
    d = g_new0(VmUsbDevice, 1);
    d->device = vm_usb_spec_to_string(spec);
    d->id = g_steal_pointer(&id);
    d->host_name = host_name_of(host, spec);
    g_ptr_array_add(out, d);
    return d;
}

GPtrArray *vm_usb_list(const char *name, GError **error)
{
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return NULL;
    g_autoptr(GPtrArray) host = usb_host_list(error);
    if (!host)
        return NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(device_free);
    for (char **u = cfg->usb; u && *u; u++) {
        VmUsbSpec spec;
        if (vm_usb_spec_parse(*u, &spec, NULL))
            list_add(out, &spec, host)->kept = true;
    }
    if (running(name)) {
        g_autoptr(QmpClient) c = vm_qmp_connect(name, error);
        g_autoptr(GPtrArray) now = c ? qmp_cmd_usb_host_list(c, QMP_TIMEOUT_MS, error) : NULL;
        if (!now)
            return NULL;
        for (guint i = 0; i < now->len; i++) {
            QmpUsbHost *h = g_ptr_array_index(now, i);
            VmUsbDevice *d = list_add(out, &h->spec, host);
            d->live = true;
            d->attached = h->attached;
        }
    }
    return g_steal_pointer(&out);
}
