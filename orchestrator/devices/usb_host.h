/* The host's USB devices, from udev (libudev): where each is plugged, its
 * vendor:product, its names and its device node. Names come from udev's
 * hardware database (the ID_VENDOR_FROM_DATABASE and ID_MODEL_FROM_DATABASE
 * properties udev recorded, else a lookup in the hwdb by modalias), and only
 * then from the device's own descriptor strings, which a device makes up
 * (hostile text: shown quoted, never raw). Hubs are left out: passing a hub
 * through is not what a user means. Blocking, any thread; no global state. */
#pragma once

#include "vm/vm_config.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    VmUsbSpec port;      /* where it is plugged: bus-port (by_id false) */
    unsigned vendor;
    unsigned product;
    char *vendor_name;   /* NULL when unknown */
    char *product_name;  /* NULL when unknown */
    char *node;          /* /dev/bus/usb/BBB/DDD, or NULL when udev has none */
} UsbHostDevice;

/* Every USB device that is not a hub, ordered by bus and port path, as a
 * new array of UsbHostDevice (caller unrefs; elements freed with it). A host
 * without USB gives an empty array. VD_ERROR_FAILED when udev cannot be
 * asked. */
GPtrArray *usb_host_list(GError **error);

/* The device of @list that @spec names (vendor:product: the first such one),
 * or NULL. Borrowed from @list. */
const UsbHostDevice *usb_host_find(GPtrArray *list, const VmUsbSpec *spec);

/* "Logitech, Inc. Unifying Receiver" (either part may be missing); "USB
 * device VVVV:PPPP" without names. Control characters replaced. Caller frees. */
char *usb_host_device_name(const UsbHostDevice *d);

/* The file name of the udev rule vmdesk installs (assets/udev/), and where
 * `cmake --install` puts it. */
#define USB_HOST_UDEV_RULE "70-vmdesk-usb.rules"

/* Can QEMU, running as this user, open @d's device node read-write? If not,
 * VD_ERROR_FAILED naming the node and the udev rule that grants access
 * (the installed rule, and a line for this device alone). Never changes a
 * permission itself. A device without a node passes (QEMU finds out). */
bool usb_host_check_access(const UsbHostDevice *d, GError **error);
