/* A VM's host USB devices: passed through live over QMP (usb-host on its
 * xHCI controller) and/or kept in its config for every start. Blocking;
 * each call talks to the VM's QMP socket when it runs. While one runs it
 * holds a lease on the VM (vm/vm_lease.h), so idle suspend never pauses the
 * VM in the middle of it. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *device;       /* canonical "046d:c52b" or "1-2.3" */
    char *id;           /* QEMU's device id */
    bool kept;          /* in the config: attached at every start */
    bool live;          /* QEMU has the usb-host now */
    bool attached;      /* live, and a host device matched: the guest has it */
    char *host_name;    /* the matching host device's name, or NULL when none is plugged */
} VmUsbDevice;

/* Pass @device ("VVVV:PPPP" or "BUS-PORT") to VM @name: live when it runs,
 * and with @keep at every start too (a stopped VM needs @keep). A device
 * that is plugged in must be accessible (devices/usb_host.h explains the
 * udev rule otherwise); one that is not is attached by QEMU when it appears.
 * *@out (caller clears with vm_usb_device_clear) says what happened. */
bool vm_usb_attach(const char *name, const char *device, bool keep, VmUsbDevice *out,
                   GError **error);
/* Take @device away from VM @name: out of the running VM and out of the
 * config. VD_ERROR_NOT_FOUND when it has no such device. */
bool vm_usb_detach(const char *name, const char *device, GError **error);
/* The VM's devices, kept and live, as a new array of VmUsbDevice (caller
 * unrefs). */
GPtrArray *vm_usb_list(const char *name, GError **error);

void vm_usb_device_clear(VmUsbDevice *d);
