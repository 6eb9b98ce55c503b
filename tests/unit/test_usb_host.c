/* unit-usb-host: the host's USB device list (orchestrator/devices/usb_host.c,
 * libudev) and `vmdesk usb list`, run under umockdev-run with the recorded
 * devices of tests/data/usb-devices.umockdev (ctest starts it so; this
 * machine has no USB bus). Hubs are left out, names come from udev's
 * database or else the device's own strings with control characters
 * replaced, bus-port and vendor:product find a device. */
#include "common/error.h"
#include "devices/usb_host.h"
#include "test_util.h"

#include <json-glib/json-glib.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static GPtrArray *list(void)
{
    g_autoptr(GError) err = NULL;
    GPtrArray *l = usb_host_list(&err);
    g_assert_no_error(err);
    g_assert_nonnull(l);
    return l;
}

static void test_list(void)
{
    /* Only under umockdev: a real host's list would be another one. */
    g_assert_nonnull(g_getenv("UMOCKDEV_DIR"));
    g_autoptr(GPtrArray) l = list();
    g_assert_cmpuint(l->len, ==, 3);
    const UsbHostDevice *a = g_ptr_array_index(l, 0), *b = g_ptr_array_index(l, 1),
                        *c = g_ptr_array_index(l, 2);
    g_assert_cmpuint(a->port.bus, ==, 1);
    g_assert_cmpstr(a->port.port, ==, "2");
    g_assert_cmphex(a->vendor, ==, 0x046d);
    g_assert_cmphex(a->product, ==, 0xc52b);
    g_assert_cmpstr(a->vendor_name, ==, "Logitech, Inc.");
    g_assert_cmpstr(a->product_name, ==, "Unifying Receiver");
    g_assert_cmpstr(a->node, ==, "/dev/bus/usb/001/004");
    g_autofree char *an = usb_host_device_name(a);
    g_assert_cmpstr(an, ==, "Logitech, Inc. Unifying Receiver");

    g_assert_cmpstr(b->port.port, ==, "3.4");
    g_assert_null(b->vendor_name);
    g_autofree char *bn = usb_host_device_name(b);
    g_assert_cmpstr(bn, ==, "Evil?[31mDevice");

    g_assert_cmpuint(c->port.bus, ==, 2);
    g_assert_cmpstr(c->port.port, ==, "1");
    g_assert_null(c->node);
    g_autofree char *cn = usb_host_device_name(c);
    g_assert_cmpstr(cn, ==, "USB device abcd:0001");
}

static void test_find(void)
{
    g_autoptr(GPtrArray) l = list();
    VmUsbSpec s;
    g_assert_true(vm_usb_spec_parse("046D:C52B", &s, NULL));
    const UsbHostDevice *d = usb_host_find(l, &s);
    g_assert_nonnull(d);
    g_assert_cmpstr(d->port.port, ==, "2");
    g_assert_true(vm_usb_spec_parse("1-3.4", &s, NULL));
    d = usb_host_find(l, &s);
    g_assert_nonnull(d);
    g_assert_cmphex(d->vendor, ==, 0x1234);
    /* Hubs are not devices to pass through. */
    g_assert_true(vm_usb_spec_parse("1-3", &s, NULL));
    g_assert_null(usb_host_find(l, &s));
    g_assert_true(vm_usb_spec_parse("05e3:0610", &s, NULL));
    g_assert_null(usb_host_find(l, &s));
    /* Every listed device's node is accessible to root here. */
    g_autoptr(GError) err = NULL;
    g_assert_true(usb_host_check_access(g_ptr_array_index(l, 0), &err));
    g_assert_no_error(err);
}

/* The permission error names the node and the rule; it never chmods. A
 * node only root may open, checked as an ordinary user (root passes every
 * access check: as root the check runs in a child that drops to nobody). */
static void test_access_error(void)
{
    if (g_test_subprocess()) {
        const char *node = g_getenv("VMDESK_TEST_NODE");
        if (geteuid() == 0)
            g_assert_true(setgid(65534) == 0 && setuid(65534) == 0);
        UsbHostDevice d = {.vendor = 0x046d, .product = 0xc52b, .node = (char *)node};
        g_autoptr(GError) err = NULL;
        g_assert_false(usb_host_check_access(&d, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_FAILED);
        printf("%s\n", err->message);
        return;
    }
    g_autofree char *dir = tu_tmpdir();
    g_assert_cmpint(chmod(dir, 0755), ==, 0);
    g_autofree char *node = g_build_filename(dir, "004", NULL);
    tu_write_file(node, "");
    g_assert_cmpint(chmod(node, 0600), ==, 0);
    g_setenv("VMDESK_TEST_NODE", node, TRUE);
    g_test_trap_subprocess(NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stdout("*cannot pass USB device 046d:c52b through: its device node *004 is not readable and writable by you*");
    g_test_trap_assert_stdout("*" USB_HOST_UDEV_RULE "*");
    g_test_trap_assert_stdout("*ATTR{idVendor}==\"046d\", ATTR{idProduct}==\"c52b\"*");
    g_test_trap_assert_stdout("*TAG+=\"uaccess\"*");
    /* Nothing changed the node's mode. */
    struct stat st;
    g_assert_cmpint(stat(node, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    tu_rm_rf(dir);
}

/* vmdesk usb list, text and JSON, under the same umockdev. */
static void test_cli(void)
{
    const char *bin = g_getenv("VMDESK_BIN");
    g_assert_nonnull(bin);
    const char *argv[] = {bin, "usb", "list", "--json", NULL};
    g_autofree char *out = NULL;
    int wait = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               NULL, &wait, NULL));
    g_assert_cmpint(wait, ==, 0);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
    JsonArray *a = json_node_get_array(json_parser_get_root(p));
    g_assert_cmpuint(json_array_get_length(a), ==, 3);
    JsonObject *o = json_array_get_object_element(a, 0);
    g_assert_cmpstr(json_object_get_string_member(o, "name"), ==,
                    "Logitech, Inc. Unifying Receiver");
    g_assert_cmpstr(json_object_get_string_member(o, "id"), ==, "046d:c52b");
    g_assert_cmpstr(json_object_get_string_member(o, "bus-port"), ==, "1-2");
    g_assert_cmpstr(json_object_get_string_member(o, "node"), ==, "/dev/bus/usb/001/004");
    g_assert_true(json_object_get_null_member(json_array_get_object_element(a, 2), "node"));

    const char *text_argv[] = {bin, "usb", "list", NULL};
    g_autofree char *text = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)text_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &text, NULL, &wait, NULL));
    g_assert_cmpint(wait, ==, 0);
    g_assert_cmpstr(text, ==,
                    "046d:c52b  1-2      Logitech, Inc. Unifying Receiver\n"
                    "1234:5678  1-3.4    Evil?[31mDevice\n"
                    "abcd:0001  2-1      USB device abcd:0001\n");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/usb-host/list", test_list);
    g_test_add_func("/usb-host/find", test_find);
    g_test_add_func("/usb-host/access-error", test_access_error);
    g_test_add_func("/usb-host/cli", test_cli);
    return g_test_run();
}
