/* unit-libvirt-parse: what orchestrator/libvirt reads without a daemon:
 * which of a domain description's displays is VNC and where it listens
 * (lv_graphics.c), the ssh argv of a qemu+ssh:// URI (lv_ssh.c), a
 * domain's RDP port forward (lv_rdp.c), the state
 * each lifecycle event leaves (lv_domain.c), and where the default URI comes
 * from (lv_conn.c), and what libvirt's errors for a guest agent command
 * mean to vmdesk (lv_agent.c). */
#include "common/error.h"
#include "common/paths.h"
#include "libvirt/lv_agent_priv.h"
#include "libvirt/lv_domain.h"
#include "libvirt/lv_graphics.h"
#include "libvirt/lv_rdp.h"
#include "libvirt/lv_ssh.h"
#include "test_util.h"

#include <json-glib/json-glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
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

static void test_vnc_endpoint(void)
{
    LvVncEndpoint ep;
    g_autoptr(GError) err = NULL;
    /* A running domain's description: the port libvirt picked, its listen. */
    g_assert_true(lv_graphics_vnc_endpoint(
        "<domain><devices><graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>"
        "<listen type='address' address='127.0.0.1'/></graphics></devices></domain>",
        &ep, &err));
    g_autofree char *t1 = lv_vnc_endpoint_target(&ep, "d", "u", &err);
    g_assert_cmpstr(t1, ==, "127.0.0.1:5901");
    lv_vnc_endpoint_clear(&ep);
    /* A wildcard listener is reached at the host's loopback. */
    g_assert_true(lv_graphics_vnc_endpoint(
        "<domain><devices><graphics type='vnc' port='5900'><listen type='address' "
        "address='::'/></graphics></devices></domain>",
        &ep, &err));
    g_autofree char *t2 = lv_vnc_endpoint_target(&ep, "d", "u", &err);
    g_assert_cmpstr(t2, ==, "[::1]:5900");
    lv_vnc_endpoint_clear(&ep);
    /* What ssh -W cannot reach: a clear error each. */
    const char *unreachable[] = {
        "<domain><devices><graphics type='vnc'><listen type='none'/></graphics></devices></domain>",
        "<domain><devices><graphics type='vnc' socket='/v.sock'/></devices></domain>",
        "<domain><devices><graphics type='vnc' port='-1' autoport='yes'/></devices></domain>",
        "<domain><devices><graphics type='spice' port='5900'/></devices></domain>",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(unreachable); i++) {
        g_assert_true(lv_graphics_vnc_endpoint(unreachable[i], &ep, &err));
        g_autofree char *t = lv_vnc_endpoint_target(&ep, "d", "u", &err);
        g_assert_null(t);
        g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
        g_clear_error(&err);
        lv_vnc_endpoint_clear(&ep);
    }
}

static void test_ssh_argv(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) a = lv_ssh_argv("qemu+ssh://root@127.0.0.1:2222/system?socket=/s&keyfile=/k%20"
                                  "x&no_verify=1",
                                  "10.0.0.5:3389", NULL, &err);
    g_assert_no_error(err);
    g_autofree char *joined = g_strjoinv(" ", a);
    g_assert_cmpstr(joined, ==,
                    "ssh -T -e none -o LogLevel=ERROR -p 2222 -l root -i /k x -o "
                    "StrictHostKeyChecking=no -W 10.0.0.5:3389 -- 127.0.0.1");
    g_auto(GStrv) b = lv_ssh_argv("qemu+ssh://host/system?no_tty=1", "[::1]:5900", NULL, &err);
    g_autofree char *jb = g_strjoinv(" ", b);
    g_assert_cmpstr(jb, ==, "ssh -T -e none -o LogLevel=ERROR -o BatchMode=yes -W [::1]:5900 -- host");
    /* Never an option smuggled in as a host or user name; never a local URI. */
    const char *bad[] = {"qemu+ssh://-oProxyCommand=x/system", "qemu+ssh://-l@host/system",
                         "qemu:///system", "qemu+tls://host/system", "not a uri"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_auto(GStrv) v = lv_ssh_argv(bad[i], "h:1", "/run/x", &err);
        g_assert_null(v);
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        g_clear_error(&err);
    }
    g_assert_true(lv_uri_is_local("qemu:///system?socket=/x"));
    g_assert_true(lv_uri_is_local("qemu+unix:///system"));
    g_assert_false(lv_uri_is_local("qemu+ssh://h/system"));
    g_assert_true(lv_uri_is_ssh("qemu+libssh2://h/system"));
}

/* One SSH login per user, host and port, its socket named by a short hash
 * in the given (0700) folder: every tunnel after the first rides it. */
static void test_ssh_control_path(void)
{
    GError *err = NULL;
    g_auto(GStrv) a = lv_ssh_argv("qemu+ssh://root@h:2222/system", "10.0.0.5:3389", "/run/v",
                                  &err);
    g_assert_no_error(err);
    g_autofree char *joined = g_strjoinv(" ", a);
    g_autofree char *path = lv_ssh_control_path("qemu+ssh://root@h:2222/system", "/run/v");
    g_autofree char *want = g_strdup_printf(
        "ssh -T -e none -o LogLevel=ERROR -p 2222 -l root -o ControlMaster=auto -o "
        "ControlPersist=%d -o ControlPath=%s -W 10.0.0.5:3389 -- h",
        LV_SSH_PERSIST_S, path);
    g_assert_cmpstr(joined, ==, want);
    g_assert_true(g_str_has_prefix(path, "/run/v/ssh-"));
    g_assert_cmpuint(strlen(path), ==, strlen("/run/v/ssh-") + LV_SSH_HASH_LEN);
    /* The port, the user and the host each make another login; no port is 22. */
    g_autofree char *p22 = lv_ssh_control_path("qemu+ssh://root@h/system", "/run/v");
    g_autofree char *p22b = lv_ssh_control_path("qemu+ssh://root@h:22/session", "/run/v");
    g_autofree char *other_port = lv_ssh_control_path("qemu+ssh://root@h:2223/system", "/run/v");
    g_autofree char *other_user = lv_ssh_control_path("qemu+ssh://u@h:2222/system", "/run/v");
    g_assert_cmpstr(p22, ==, p22b);
    g_assert_cmpstr(path, !=, other_port);
    g_assert_cmpstr(path, !=, other_user);
    g_assert_cmpstr(p22, !=, path);
    /* Nor is a login shared across key files, known_hosts or no_verify. */
    g_autofree char *key_a = lv_ssh_control_path("qemu+ssh://h/system?keyfile=/a", "/run/v");
    g_autofree char *key_b = lv_ssh_control_path("qemu+ssh://h/system?keyfile=/b", "/run/v");
    g_autofree char *lax = lv_ssh_control_path("qemu+ssh://h/system?no_verify=1", "/run/v");
    g_autofree char *strict = lv_ssh_control_path("qemu+ssh://h/system?no_verify=0", "/run/v");
    g_autofree char *known = lv_ssh_control_path("qemu+ssh://h/system?known_hosts=/k", "/run/v");
    g_autofree char *plain = lv_ssh_control_path("qemu+ssh://h/system", "/run/v");
    g_assert_cmpstr(key_a, !=, key_b);
    g_assert_cmpstr(lax, !=, strict);
    g_assert_cmpstr(strict, ==, plain);
    g_assert_cmpstr(known, !=, plain);
    /* A host name of any length fits; a folder too long for a socket
     * shares nothing (ssh then logs in per tunnel). */
    g_autofree char *longhost = g_strdup_printf("qemu+ssh://%0200d/system", 0);
    g_autofree char *lp = lv_ssh_control_path(longhost, "/run/v");
    g_assert_nonnull(lp);
    g_assert_cmpuint(strlen(lp), <=, VD_UNIX_PATH_MAX);
    g_autofree char *longdir = g_strnfill(90, 'd');
    g_assert_null(lv_ssh_control_path("qemu+ssh://h/system", longdir));
    g_assert_null(lv_ssh_control_path("qemu+ssh://h/system", NULL));
    g_auto(GStrv) b = lv_ssh_argv("qemu+ssh://h/system", "h:1", longdir, &err);
    g_autofree char *jb = g_strjoinv(" ", b);
    g_assert_null(strstr(jb, "Control"));
}

static void test_hostfwd(void)
{
    const char *ns = "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>";
    g_autofree char *x1 = g_strdup_printf(
        "%s<qemu:commandline><qemu:arg value='-netdev'/><qemu:arg value='user,id=n,"
        "hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp::4489-10.0.2.15:3389'/></qemu:commandline>"
        "</domain>",
        ns);
    char *host = NULL;
    unsigned port = 0;
    g_assert_true(lv_rdp_hostfwd(x1, 3389, &host, &port));
    g_assert_cmpstr(host, ==, "127.0.0.1");
    g_assert_cmpuint(port, ==, 4489);
    g_free(host);
    const char *none[] = {
        "<domain><devices/></domain>",
        ("<domain><qemu:commandline><qemu:arg value='user,hostfwd=udp::1-:3389'/>"
         "</qemu:commandline></domain>"),
        ("<domain><qemu:commandline><qemu:arg value='user,hostfwd=tcp::99999-:3389'/>"
         "</qemu:commandline></domain>"),
        ("<domain><qemu:commandline><qemu:arg value='hostfwd=tcp::1-:33890'/>"
         "</qemu:commandline></domain>"),
        "not xml",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(none); i++)
        g_assert_false(lv_rdp_hostfwd(none[i], 3389, &host, &port));
}

/* A guest agent's word for its address: only plain unicast IPv4 goes on. */
/* Pins and sockets are per host and port: two hosts behind one address on
 * different SSH ports are two hosts; SSH's own port is the same as none. */
static void test_host_key(void)
{
    const struct {
        const char *uri, *key;
    } cases[] = {
        {"qemu+ssh://root@h/system", "h"},
        {"qemu+ssh://root@h:22/system", "h"},
        {"qemu+ssh://root@h:2222/system?keyfile=/k", "h:2222"},
        {"qemu+ssh://root@[::1]:2223/system", "[::1]:2223"},
        {"qemu+tcp://h:16509/system", "h:16509"},
        {"qemu:///system", "localhost"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *k = lv_uri_host_key(cases[i].uri);
        g_assert_cmpstr(k, ==, cases[i].key);
    }
    const char *uuid = "8e0c1d7a-3b5e-4f4e-9d3c-2a1b0c9d8e7f";
    g_autofree char *a = lv_domain_socket_name("apps-libvirt", "qemu+ssh://h:2222/system", uuid);
    g_autofree char *b = lv_domain_socket_name("apps-libvirt", "qemu+ssh://h:2223/system", uuid);
    g_autofree char *c = lv_domain_socket_name("apps-libvirt", "qemu+ssh://h/system", "x");
    g_assert_cmpstr(a, !=, b);
    g_assert_cmpstr(a, !=, c);
    g_assert_true(g_str_has_prefix(a, "apps-libvirt-") && g_str_has_suffix(a, ".sock"));
    /* A host name of 250 characters still makes a name that fits. */
    g_autofree char *hh = g_strnfill(250, 'h');
    g_autofree char *longuri = g_strdup_printf("qemu+ssh://%s/system", hh);
    g_autofree char *l = lv_domain_socket_name("apps-libvirt", longuri, uuid);
    g_assert_cmpuint(strlen(l), ==, strlen(a));
}

static void test_guest_address(void)
{
    const char *good[][2] = {{"10.0.2.15", "10.0.2.15"},
                             {"192.168.122.7", "192.168.122.7"},
                             {"169.253.1.1", "169.253.1.1"}};
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autofree char *a = lv_rdp_guest_address(good[i][0]);
        g_assert_cmpstr(a, ==, good[i][1]);
    }
    const char *bad[] = {"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.9.9.9", "169.254.1.1",
                         "224.0.0.1", "239.1.1.1", "240.0.0.1", "255.255.255.255", "localhost",
                         "2130706433", "0177.0.0.1", "010.0.0.1", "10.0.0", "10.0.0.1:22",
                         "10.0.0.1 ", " 10.0.0.1", "/run/user/1000/bus", "|3", "::1",
                         "fe80::1", "example.com", "", NULL};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_null(lv_rdp_guest_address(bad[i]));
}

/* libvirt 9.0's words for each case (src/qemu/qemu_domain.c
 * qemuDomainAgentAvailable, qemu_agent.c). */
static void test_agent_errors(void)
{
    struct {
        int code;
        const char *message;
        int want;
        const char *words;
    } cases[] = {
        {VIR_ERR_ARGUMENT_UNSUPPORTED, "argument unsupported: QEMU guest agent is not configured",
         VD_ERROR_NOT_FOUND, "no guest agent: domain \"d\" on qemu:///system has no guest agent "
                             "channel"},
        {VIR_ERR_AGENT_UNRESPONSIVE,
         "Guest agent is not responding: QEMU guest agent is not connected", VD_ERROR_NOT_FOUND,
         "no guest agent: none runs in domain \"d\""},
        {VIR_ERR_AGENT_UNRESPONSIVE,
         "Guest agent is not responding: Guest agent not available for now", VD_ERROR_TIMEOUT,
         "no guest agent answered within 7 s in domain \"d\""},
        {VIR_ERR_OPERATION_INVALID, "Requested operation is not valid: domain is not running",
         VD_ERROR_STATE, "domain \"d\" on qemu:///system is not running"},
        {VIR_ERR_NO_DOMAIN, "Domain not found", VD_ERROR_NOT_FOUND, "no domain \"d\""},
        {VIR_ERR_INTERNAL_ERROR, "internal error: End of file from agent socket",
         VD_ERROR_FAILED, "End of file from agent socket"},
        {VIR_ERR_RPC, NULL, VD_ERROR_FAILED, "libvirt gave no reason"},
        /* A refusal without its reason is no refusal. */
        {VIR_ERR_INTERNAL_ERROR, "internal error: unable to execute QEMU agent command 'x'",
         VD_ERROR_FAILED, "unable to execute"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *reply = NULL;
        g_autoptr(GError) e = lv_agent_error(cases[i].code, cases[i].message, "d",
                                             "qemu:///system", 7, &reply);
        g_assert_null(reply);
        g_assert_nonnull(e);
        if (e->code != cases[i].want || !strstr(e->message, cases[i].words))
            g_error("case %zu: %d \"%s\", want %d \"%s\"", i, e->code, e->message,
                    cases[i].want, cases[i].words);
    }
    /* The agent's refusal, passed on by libvirt, back as the agent's answer
     * (the reason may hold quotes and the marker itself). */
    const char *refusals[][3] = {
        {"internal error: unable to execute QEMU agent command 'guest-exec': Failed to execute "
         "child process \"x\" (No such file or directory)",
         "GenericError", "Failed to execute child process \"x\" (No such file or directory)"},
        {"internal error: unable to execute QEMU agent command 'guest-nope': The command "
         "guest-nope has not been found",
         "CommandNotFound", "The command guest-nope has not been found"},
        {"internal error: unable to execute QEMU agent command 'a': b': QEMU agent command 'c': d",
         "GenericError", "b': QEMU agent command 'c': d"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++) {
        g_autofree char *reply = NULL;
        GError *e = lv_agent_error(VIR_ERR_INTERNAL_ERROR, refusals[i][0], "d", "u", 1, &reply);
        g_assert_null(e);
        g_autoptr(JsonParser) p = json_parser_new();
        g_assert_true(json_parser_load_from_data(p, reply, -1, NULL));
        JsonObject *err = json_object_get_object_member(
            json_node_get_object(json_parser_get_root(p)), "error");
        g_assert_cmpstr(json_object_get_string_member(err, "class"), ==, refusals[i][1]);
        g_assert_cmpstr(json_object_get_string_member(err, "desc"), ==, refusals[i][2]);
    }
}

int main(int argc, char **argv)
{
    /* Before GLib reads it: the config file goes to a folder of our own. */
    g_autofree char *home = g_dir_make_tmp("vmdesk-unit-lv-XXXXXX", NULL);
    g_setenv("XDG_CONFIG_HOME", home, TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/libvirt/ssh-control-path", test_ssh_control_path);
    g_test_add_func("/libvirt/host-key", test_host_key);
    g_test_add_func("/libvirt/vnc-index", test_vnc_index);
    g_test_add_func("/libvirt/guest-address", test_guest_address);
    g_test_add_func("/libvirt/vnc-index-hostile", test_vnc_index_hostile);
    g_test_add_func("/libvirt/event-state", test_event_state);
    g_test_add_func("/libvirt/default-uri", test_default_uri);
    g_test_add_func("/libvirt/vnc-endpoint", test_vnc_endpoint);
    g_test_add_func("/libvirt/ssh-argv", test_ssh_argv);
    g_test_add_func("/libvirt/hostfwd", test_hostfwd);
    g_test_add_func("/libvirt/agent-errors", test_agent_errors);
    int rc = g_test_run();
    rmdir(home);
    return rc;
}
