/* vmdesk usb: the host's USB devices, and passing them through to a VM. */
#include "cli/cli.h"

#include "common/error.h"
#include "common/json_build.h"
#include "devices/usb_host.h"
#include "devices/vm_usb.h"

#include <stdio.h>
#include <string.h>

static int host_list(bool json)
{
    GError *err = NULL;
    g_autoptr(GPtrArray) list = usb_host_list(&err);
    if (!list)
        return cli_fail(err);
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < list->len; i++) {
            const UsbHostDevice *d = g_ptr_array_index(list, i);
            g_autofree char *port = vm_usb_spec_to_string(&d->port);
            g_autofree char *id = g_strdup_printf("%04x:%04x", d->vendor, d->product);
            g_autofree char *name = usb_host_device_name(d);
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "name");
            json_builder_add_string_value(b, name);
            json_builder_set_member_name(b, "id");
            json_builder_add_string_value(b, id);
            json_builder_set_member_name(b, "bus-port");
            json_builder_add_string_value(b, port);
            vd_json_add_string_or_null(b, "node", d->node);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
        return 0;
    }
    if (!list->len)
        printf("No USB devices on this host (hubs are not listed).\n");
    for (guint i = 0; i < list->len; i++) {
        const UsbHostDevice *d = g_ptr_array_index(list, i);
        g_autofree char *port = vm_usb_spec_to_string(&d->port);
        g_autofree char *name = usb_host_device_name(d);
        printf("%04x:%04x  %-8s %s\n", d->vendor, d->product, port, name);
    }
    return 0;
}

static const char *device_state(const VmUsbDevice *d)
{
    if (d->attached)
        return "attached";
    if (d->live)
        return "waiting for the device (QEMU attaches it when it appears)";
    return "at the next start";
}

char *cli_usb_device_text(const VmUsbDevice *d)
{
    return g_strdup_printf("%-10s %s%s; %s%s", d->device, device_state(d),
                           d->kept ? ", kept" : "", d->host_name ? "host: " : "not plugged in",
                           d->host_name ? d->host_name : "");
}

JsonNode *cli_usb_devices_json(GPtrArray *list)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        const VmUsbDevice *d = g_ptr_array_index(list, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "device");
        json_builder_add_string_value(b, d->device);
        json_builder_set_member_name(b, "qemu-id");
        json_builder_add_string_value(b, d->id);
        json_builder_set_member_name(b, "keep");
        json_builder_add_boolean_value(b, d->kept);
        json_builder_set_member_name(b, "live");
        json_builder_add_boolean_value(b, d->live);
        json_builder_set_member_name(b, "attached");
        json_builder_add_boolean_value(b, d->attached);
        vd_json_add_string_or_null(b, "host-name", d->host_name);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return json_builder_get_root(b);
}

static int vm_list(const char *name, bool json)
{
    GError *err = NULL;
    g_autoptr(GPtrArray) list = vm_usb_list(name, &err);
    if (!list)
        return cli_fail(err);
    if (json) {
        g_autoptr(JsonNode) root = cli_usb_devices_json(list);
        cli_print_json(root);
        return 0;
    }
    if (!list->len)
        printf("%s has no USB devices; pass one with vmdesk usb %s attach DEVICE\n", name, name);
    for (guint i = 0; i < list->len; i++) {
        g_autofree char *text = cli_usb_device_text(g_ptr_array_index(list, i));
        printf("%s\n", text);
    }
    return 0;
}

int cli_usb(int argc, char **argv)
{
    gboolean json = FALSE, keep = FALSE;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON output (list)", NULL},
        {"keep", 0, 0, G_OPTION_ARG_NONE, &keep,
         "attach: also at every start (a stopped VM needs it)", NULL},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("usb", "list | NAME attach|detach DEVICE | NAME list",
                   "Pass host USB devices through to a VM (QEMU's usb-host on the VM's USB 3 "
                   "controller). DEVICE is VENDOR:PRODUCT (hex) or BUS-PORT, as `vmdesk usb "
                   "list` shows them. attach works at once on a running VM; a device that is "
                   "not plugged in is attached when it appears. Your user needs read-write "
                   "access to the device node: vmdesk installs a udev rule for that "
                   "(70-vmdesk-usb.rules) and never changes permissions itself.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("usb", argc, 1, 3, &status))
        return status;
    if (argc == 2 && !strcmp(argv[1], "list"))
        return host_list(json);
    const char *name = argv[1];
    const char *verb = argc > 2 ? argv[2] : "";
    if (!strcmp(verb, "list") && argc == 3)
        return vm_list(name, json);
    bool attach = !strcmp(verb, "attach"), detach = !strcmp(verb, "detach");
    if ((!attach && !detach) || argc != 4) {
        fprintf(stderr, "vmdesk usb: write vmdesk usb list, vmdesk usb NAME list, or vmdesk usb "
                        "NAME attach|detach DEVICE (see vmdesk usb --help)\n");
        return 2;
    }
    GError *err = NULL;
    if (detach) {
        if (!vm_usb_detach(name, argv[3], &err))
            return cli_fail(err);
        printf("%s: %s is no longer passed through\n", name, argv[3]);
        return 0;
    }
    VmUsbDevice d;
    if (!vm_usb_attach(name, argv[3], keep, &d, &err))
        return cli_fail(err);
    printf("%s: %s%s%s%s %s%s\n", name, d.device, d.host_name ? " (" : "",
           d.host_name ? d.host_name : "", d.host_name ? ")" : "",
           d.attached ? "attached"
           : d.live   ? "waits for the device: QEMU attaches it when it is plugged in"
                      : "is attached at the next start",
           d.live && d.kept ? "; kept for every start" : "");
    vm_usb_device_clear(&d);
    return 0;
}
