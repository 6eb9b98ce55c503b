/* unit-libvirt-parse: what orchestrator/libvirt reads without a daemon:
 * which of a domain description's displays is VNC (lv_graphics.c), the state
 * each lifecycle event leaves (lv_domain.c), and where the default URI comes
 * from (lv_conn.c). */
#include "common/error.h"
#include "libvirt/lv_domain.h"
#include "libvirt/lv_graphics.h"
#include "test_util.h"

#include <libvirt/libvirt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void check(const char *xml, int want_index, const char *want_first)
{
    int index = -2;
    g_autofree char *first = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_true(lv_graphics_vnc_index(xml, &index, &first, &err));
    g_assert_no_error(err);
    g_assert_cmpint(index, ==, want_index);
    g_assert_cmpstr(first, ==, want_first);
}

static void test_vnc_index(void)
{
    check("<domain><devices><graphics type='vnc'><listen type='none'/></graphics>"
          "</devices></domain>",
          0, "vnc");
    /* SPICE first: VNC is the second display. */
    check("<domain><devices><graphics type='spice'/><video/><graphics type='vnc' "
          "socket='/x'/></devices></domain>",
          1, "spice");
    check("<domain><devices><serial type='pty'/></devices></domain>", -1, NULL);
    check("<domain><devices><graphics type='spice'/></devices></domain>", -1, "spice");
    /* Only domain/devices/graphics counts, not an element of that name
     * elsewhere (metadata of another program). */
    check("<domain><metadata><graphics type='vnc'/></metadata><devices/></domain>", -1, NULL);
}

static void test_vnc_index_hostile(void)
{
    const char *bad[] = {"", "<domain><devices>", "not xml", "<domain></devices></domain>"};
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        int index = 7;
        g_autoptr(GError) err = NULL;
        g_assert_false(lv_graphics_vnc_index(bad[i], &index, NULL, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_PROTOCOL);
    }
}

static void test_event_state(void)
{
    g_assert_cmpint(lv_event_state(VIR_DOMAIN_EVENT_STARTED, 0), ==, VIR_DOMAIN_RUNNING);
    g_assert_cmpint(lv_event_state(VIR_DOMAIN_EVENT_SUSPENDED, 0), ==, VIR_DOMAIN_PAUSED);
    g_assert_cmpint(lv_event_state(VIR_DOMAIN_EVENT_RESUMED, 0), ==, VIR_DOMAIN_RUNNING);
    g_assert_cmpint(lv_event_state(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN),
                    ==, VIR_DOMAIN_SHUTOFF);
    g_assert_cmpint(lv_event_state(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED),
                    ==, VIR_DOMAIN_CRASHED);
    g_assert_cmpint(lv_event_state(VIR_DOMAIN_EVENT_DEFINED, 0), ==, -1);
    g_assert_cmpint(lv_state_to_vm(lv_event_state(VIR_DOMAIN_EVENT_SHUTDOWN, 0)), ==,
                    VM_STATE_STOPPING);
}

static char *default_uri(void)
{
    char *uri = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_true(lv_uri_default(&uri, &err));
    g_assert_no_error(err);
    return uri;
}

/* $VMDESK_CONNECT, else the config file, else $LIBVIRT_DEFAULT_URI. */
static void test_default_uri(void)
{
    g_autofree char *conf = lv_config_path();
    g_autofree char *dir = g_path_get_dirname(conf);
    g_assert_true(g_str_has_prefix(conf, g_getenv("XDG_CONFIG_HOME")));
    g_unsetenv("VMDESK_CONNECT");
    g_unsetenv("LIBVIRT_DEFAULT_URI");
    g_autofree char *none = default_uri();
    g_assert_null(none);
    g_setenv("LIBVIRT_DEFAULT_URI", "qemu:///session", TRUE);
    g_autofree char *lv = default_uri();
    g_assert_cmpstr(lv, ==, "qemu:///session");
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(conf, "[libvirt]\nconnect = qemu+ssh://h/system \n", -1,
                                      NULL));
    g_autofree char *file = default_uri();
    g_assert_cmpstr(file, ==, "qemu+ssh://h/system");
    g_setenv("VMDESK_CONNECT", "qemu:///system", TRUE);
    g_autofree char *env = default_uri();
    g_assert_cmpstr(env, ==, "qemu:///system");
    g_setenv("VMDESK_CONNECT", "", TRUE); /* empty: unset */
    /* A damaged file is an error, not a silent fall-back. */
    g_assert_true(g_file_set_contents(conf, "[libvirt\nconnect=x\n", -1, NULL));
    char *uri = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_false(lv_uri_default(&uri, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, conf));
    g_assert_null(uri);
    g_assert_cmpint(remove(conf), ==, 0);
    g_assert_cmpint(rmdir(dir), ==, 0);
}

int main(int argc, char **argv)
{
    /* Before GLib reads it: the config file goes to a folder of our own. */
    g_autofree char *home = g_dir_make_tmp("vmdesk-unit-lv-XXXXXX", NULL);
    g_setenv("XDG_CONFIG_HOME", home, TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/libvirt/vnc-index", test_vnc_index);
    g_test_add_func("/libvirt/vnc-index-hostile", test_vnc_index_hostile);
    g_test_add_func("/libvirt/event-state", test_event_state);
    g_test_add_func("/libvirt/default-uri", test_default_uri);
    int rc = g_test_run();
    rmdir(home);
    return rc;
}
