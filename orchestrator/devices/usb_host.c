#include "devices/usb_host.h"

#include "common/error.h"
#include "common/text.h"

#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef VMDESK_UDEV_RULES_DIR
#define VMDESK_UDEV_RULES_DIR "/usr/local/lib/udev/rules.d"
#endif

static void device_free(gpointer p)
{
    UsbHostDevice *d = p;
    g_free(d->vendor_name);
    g_free(d->product_name);
    g_free(d->node);
    g_free(d);
}

static bool hex_attr(struct udev_device *dev, const char *attr, unsigned *out)
{
    const char *v = udev_device_get_sysattr_value(dev, attr);
    guint64 n;
    if (!v || !g_ascii_string_to_unsigned(v, 16, 0, 0xffff, &n, NULL))
        return false;
    *out = (unsigned)n;
    return true;
}

/* A name from the hwdb for @modalias's @key, or NULL. */
static char *hwdb_name(struct udev *u, const char *modalias, const char *key)
{
    struct udev_hwdb *hwdb = udev_hwdb_new(u);
    if (!hwdb)
        return NULL;
    char *out = NULL;
    struct udev_list_entry *e;
    udev_list_entry_foreach(e, udev_hwdb_get_properties_list_entry(hwdb, modalias, 0))
        if (!strcmp(udev_list_entry_get_name(e), key))
            out = g_strdup(udev_list_entry_get_value(e));
    udev_hwdb_unref(hwdb);
    return out;
}

/* The database's name (recorded by udev, else the hwdb's), else the
 * device's descriptor string @attr. */
static char *device_name(struct udev *u, struct udev_device *dev, const char *prop,
                         const char *modalias, const char *attr)
{
    const char *v = udev_device_get_property_value(dev, prop);
    if (v && *v)
        return g_strdup(v);
    char *h = hwdb_name(u, modalias, prop);
    if (h)
        return h;
    v = udev_device_get_sysattr_value(dev, attr);
    return v && *v ? g_strdup(v) : NULL;
}

/* bus-port from the sysfs name "B-P.P..." (root hubs are "usbB"). */
static bool parse_sysname(const char *sysname, VmUsbSpec *port)
{
    if (!g_ascii_isdigit(sysname[0]) || strchr(sysname, ':'))
        return false;
    return vm_usb_spec_parse(sysname, port, NULL) && !port->by_id;
}

static int compare_devices(gconstpointer a, gconstpointer b)
{
    const UsbHostDevice *x = *(UsbHostDevice *const *)a, *y = *(UsbHostDevice *const *)b;
    if (x->port.bus != y->port.bus)
        return x->port.bus < y->port.bus ? -1 : 1;
    return strcmp(x->port.port, y->port.port);
}

GPtrArray *usb_host_list(GError **error)
{
    struct udev *u = udev_new();
    if (!u) {
        g_set_error(error, VD_ERROR, VD_ERROR_FAILED, "cannot ask udev for USB devices: %s",
                    g_strerror(errno));
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new_with_free_func(device_free);
    struct udev_enumerate *en = udev_enumerate_new(u);
    udev_enumerate_add_match_subsystem(en, "usb");
    udev_enumerate_add_match_property(en, "DEVTYPE", "usb_device");
    udev_enumerate_scan_devices(en);
    struct udev_list_entry *e;
    udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en))
    {
        struct udev_device *dev = udev_device_new_from_syspath(u, udev_list_entry_get_name(e));
        if (!dev)
            continue;
        UsbHostDevice d = {0};
        const char *cls = udev_device_get_sysattr_value(dev, "bDeviceClass");
        if (parse_sysname(udev_device_get_sysname(dev), &d.port) &&
            hex_attr(dev, "idVendor", &d.vendor) && hex_attr(dev, "idProduct", &d.product) &&
            g_strcmp0(cls, "09")) {
            g_autofree char *modalias = g_strdup_printf("usb:v%04Xp%04X*", d.vendor, d.product);
            UsbHostDevice *n = g_new(UsbHostDevice, 1);
            *n = d;
            n->vendor_name = device_name(u, dev, "ID_VENDOR_FROM_DATABASE", modalias,
                                         "manufacturer");
            n->product_name = device_name(u, dev, "ID_MODEL_FROM_DATABASE", modalias, "product");
            n->node = g_strdup(udev_device_get_devnode(dev));
            g_ptr_array_add(out, n);
        }
        udev_device_unref(dev);
    }
    udev_enumerate_unref(en);
    udev_unref(u);
    g_ptr_array_sort(out, compare_devices);
    return out;
}

const UsbHostDevice *usb_host_find(GPtrArray *list, const VmUsbSpec *spec)
{
    for (guint i = 0; list && i < list->len; i++) {
        const UsbHostDevice *d = g_ptr_array_index(list, i);
        if (spec->by_id ? d->vendor == spec->vendor && d->product == spec->product
                        : d->port.bus == spec->bus && !strcmp(d->port.port, spec->port))
            return d;
    }
    return NULL;
}

/* @s with control characters and invalid UTF-8 replaced by '?'. */
static char *printable(const char *s)
{
    char *v = g_utf8_make_valid(s, -1);
    for (char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return v;
}

char *usb_host_device_name(const UsbHostDevice *d)
{
    if (!d->vendor_name && !d->product_name)
        return g_strdup_printf("USB device %04x:%04x", d->vendor, d->product);
    g_autofree char *v = d->vendor_name ? printable(d->vendor_name) : NULL;
    g_autofree char *p = d->product_name ? printable(d->product_name) : NULL;
    return g_strjoin(" ", v ? v : p, v && p ? p : NULL, NULL);
}

bool usb_host_check_access(const UsbHostDevice *d, GError **error)
{
    if (!d->node || access(d->node, R_OK | W_OK) == 0)
        return true;
    int err = errno;
    if (err == ENOENT)
        return true; /* unplugged meanwhile: QEMU waits for it */
    g_autofree char *name = usb_host_device_name(d);
    g_set_error(error, VD_ERROR, VD_ERROR_FAILED,
                "cannot pass %s through: its device node %s is not readable and writable by "
                "you (%s), and QEMU runs as you. vmdesk changes no permission itself. Install "
                "vmdesk's udev rule, which gives the logged-in user access to USB devices "
                "(uaccess): sudo cp %s/%s /etc/udev/rules.d/ && sudo udevadm control --reload "
                "&& sudo udevadm trigger; or grant this device alone with the rule line "
                "SUBSYSTEM==\"usb\", ATTR{idVendor}==\"%04x\", ATTR{idProduct}==\"%04x\", "
                "TAG+=\"uaccess\"; then unplug and plug it in again",
                name, d->node, g_strerror(err), VMDESK_UDEV_RULES_DIR, USB_HOST_UDEV_RULE,
                d->vendor, d->product);
    return false;
}
