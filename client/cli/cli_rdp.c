/* vmdesk credentials | share | certificate: what RDP sessions to a VM use. */
#include "cli/cli.h"

#include "common/error.h"
#include "common/paths.h"
#include "secrets/credentials.h"
#include "session/cert_pin.h"
#include "vm/vm_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

char *cli_known_hosts_path(void)
{
    g_autofree char *root = vd_paths_data_root();
    return g_build_filename(root, "known-rdp-hosts", NULL);
}

bool cli_vm_rdp_target(const char *name, RdpTarget *t, GError **error)
{
    memset(t, 0, sizeof(*t));
    g_autoptr(VmConfig) cfg = vm_store_load(name, error);
    if (!cfg)
        return false;
    Credentials c;
    if (!credentials_load(name, &c, error))
        return false;
    t->host = g_strdup("127.0.0.1");
    t->port = cfg->rdp_port;
    t->username = g_steal_pointer(&c.user);
    t->password = g_steal_pointer(&c.password);
    t->domain = g_steal_pointer(&c.domain);
    credentials_clear(&c);
    t->pin_file = cert_pin_vm_path(name);
    t->pin_group = g_strdup(CERT_PIN_VM_GROUP);
    t->pin_hint = g_strdup_printf("vmdesk certificate %s --forget", name);
    /* RDP drives: the read-write shares. FreeRDP's drive redirection cannot
     * make a drive read-only, so read-only shares go to 9p only. */
    GStrvBuilder *drives = g_strv_builder_new();
    for (char **e = cfg->shares; e && *e; e++) {
        VmShare sh;
        if (vm_share_parse(*e, &sh) && !sh.read_only) {
            g_autofree char *d = g_strdup_printf("%c=%s", sh.letter, sh.path);
            g_strv_builder_add(drives, d);
        }
    }
    t->drives = g_strv_builder_end(drives);
    g_strv_builder_unref(drives);
    if (!*t->drives)
        g_clear_pointer(&t->drives, g_strfreev);
    t->audio = true;
    t->no_logon_notice = cfg->os == VM_OS_LINUX;
    return true;
}

void cli_url_rdp_pin(RdpTarget *t)
{
    t->pin_file = cli_known_hosts_path();
    t->pin_group = g_strdup_printf("%s:%u", t->host, t->port);
    t->pin_hint = g_strdup_printf("vmdesk certificate rdp://%s:%u --forget", t->host, t->port);
}

/* A line from stdin; with a terminal, prompted and (for secrets) not echoed. */
static char *read_line(const char *prompt, bool secret, GError **error)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
        if (secret && tcgetattr(STDIN_FILENO, &old) == 0) {
            struct termios quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        } else {
            secret = false;
        }
    }
    char buf[1024];
    char *got = fgets(buf, sizeof(buf), stdin);
    if (tty && secret) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "no %s given on standard input",
                    secret ? "password" : "answer");
        return NULL;
    }
    buf[strcspn(buf, "\r\n")] = 0;
    char *line = g_strdup(buf);
    memset(buf, 0, sizeof(buf));
    return line;
}

bool cli_read_secret_file(const char *path, char **out, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, error))
        return false;
    data[strcspn(data, "\r\n")] = 0;
    *out = g_strdup(data);
    memset(data, 0, len);
    return true;
}

int cli_credentials(int argc, char **argv)
{
    g_autofree char *user = NULL, *domain = NULL, *password_file = NULL;
    gboolean show = FALSE, forget = FALSE;
    GOptionEntry entries[] = {
        {"user", 0, 0, G_OPTION_ARG_STRING, &user, "the guest user (asked when missing)", "USER"},
        {"domain", 0, 0, G_OPTION_ARG_STRING, &domain, "Windows domain (rarely needed)", "DOMAIN"},
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
         "read the password from this file's first line (else asked, or read from standard "
         "input)",
         "FILE"},
        {"show", 0, 0, G_OPTION_ARG_NONE, &show,
         "print the stored user and where the password is (never the password)", NULL},
        {"forget", 0, 0, G_OPTION_ARG_NONE, &forget,
         "remove the stored credentials (from the file and the secret service)", NULL},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("credentials", "NAME",
                   "Set the user name and password vmdesk logs in with over RDP. The password "
                   "goes to the desktop's secret service (org.freedesktop.secrets: GNOME "
                   "Keyring, KeePassXC...) when one runs on the D-Bus session bus "
                   "(DBUS_SESSION_BUS_ADDRESS), else, like the user name, to a file in the VM's "
                   "folder readable by you only (mode 0600); a secret service that does not "
                   "answer within a few seconds (a locked keyring) gets a warning and the file. "
                   "The password never appears in a command line or a log.",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("credentials", argc, 1, 1, &status))
        return status;
    const char *name = argv[1];
    GError *err = NULL;
    g_autoptr(VmConfig) cfg = vm_store_load(name, &err);
    if (!cfg)
        return cli_fail(err);
    if (forget) {
        bool removed;
        if (!credentials_forget(name, &removed, &err))
            return cli_fail(err);
        printf(removed ? "Forgot the credentials of %s.\n" : "%s has no stored credentials.\n",
               name);
        return 0;
    }
    if (show) {
        Credentials c;
        if (!credentials_load(name, &c, &err))
            return cli_fail(err);
        if (!c.user) {
            printf("%s has no stored credentials; set them with vmdesk credentials %s\n", name,
                   name);
        } else {
            g_autofree char *where = credentials_password_location(name, c.password_in);
            printf("user: %s%s%s\npassword: %s\nstored in: %s\n", c.domain ? c.domain : "",
                   c.domain ? "\\" : "", c.user, c.password ? "set" : "none", where);
        }
        credentials_clear(&c);
        return 0;
    }
    Credentials c = {0};
    if (!user && !(user = read_line("Guest user: ", false, &err)))
        return cli_fail(err);
    if (!*user)
        return cli_fail(g_error_new(VD_ERROR, VD_ERROR_INVALID, "the user name is empty"));
    c.user = g_steal_pointer(&user);
    c.domain = g_steal_pointer(&domain);
    g_autofree char *prompt = g_strdup_printf("Password for %s: ", c.user);
    bool ok = password_file ? cli_read_secret_file(password_file, &c.password, &err)
                            : (c.password = read_line(prompt, true, &err)) != NULL;
    CredentialsStore where = CREDENTIALS_IN_FILE;
    ok = ok && credentials_save(name, &c, &where, &err);
    g_autofree char *path = credentials_path(name);
    if (ok && where == CREDENTIALS_IN_SECRET_SERVICE) {
        g_autofree char *place = credentials_password_location(name, where);
        printf("Stored the credentials of %s for user %s: the password in %s, the user in %s "
               "(mode 0600).\n",
               name, c.user, place, path);
    } else if (ok) {
        printf("Stored the credentials of %s for user %s in %s (mode 0600).\n", name, c.user,
               path);
    }
    credentials_clear(&c);
    return ok ? 0 : cli_fail(err);
}

char *cli_share_text(const VmShareExport *e)
{
    const VmShare *sh = &e->share;
    g_autofree char *drive = sh->read_only ? g_strdup("read-only")
                                           : g_strdup_printf("RDP drive %c:", sh->letter);
    if (!e->tag)
        return g_strdup_printf("%s (%s)", sh->path, drive);
    return g_strdup_printf("%s (%s, 9p tag %s%s)", sh->path, drive, e->tag,
                           !strcmp(e->tag, "vmdesk_share")
                               ? ", on /mnt/vmdesk_share with the guest tools"
                               : "");
}

int cli_share(int argc, char **argv)
{
    g_autofree char *letter = NULL, *remove = NULL;
    gboolean list = FALSE, read_only = FALSE;
    GOptionEntry entries[] = {
        {"as", 0, 0, G_OPTION_ARG_STRING, &letter, "the guest's drive letter (default Z)",
         "LETTER"},
        {"read-only", 0, 0, G_OPTION_ARG_NONE, &read_only,
         "the guest cannot change the folder (QEMU enforces it on the 9p export; guests "
         "that are not Windows only, since RDP drives cannot be read-only)",
         NULL},
        {"remove", 0, 0, G_OPTION_ARG_STRING, &remove, "stop sharing the folder at LETTER",
         "LETTER"},
        {"list", 0, 0, G_OPTION_ARG_NONE, &list, "show the shared folders", NULL},
        G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("share", "NAME [PATH]",
                   "Share a host folder with the VM. Its RDP sessions redirect it as a drive "
                   "(\\\\tsclient\\LETTER), which the guest tools map to LETTER: at logon; "
                   "from the next RDP connection. A guest that is not Windows also gets it as "
                   "a virtio-9p export from the VM's next start (QEMU cannot add one to a "
                   "running VM): the first share has the tag vmdesk_share, which the Linux "
                   "guest tools mount on /mnt/vmdesk_share, the others vmdesk_share_LETTER. "
                   "The guest reaches nothing outside the folder (symlinks included).",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("share", argc, 1, 2, &status))
        return status;
    const char *name = argv[1];
    GError *err = NULL;
    g_autoptr(VmConfig) cfg = vm_store_load(name, &err);
    if (!cfg)
        return cli_fail(err);
    if (list || (argc == 2 && !remove)) {
        if (!cfg->shares)
            printf("%s shares no folder; add one with vmdesk share %s PATH\n", name, name);
        g_autoptr(GPtrArray) exports = vm_config_share_exports(cfg);
        for (guint i = 0; i < exports->len; i++) {
            g_autofree char *text = cli_share_text(g_ptr_array_index(exports, i));
            printf("%s\n", text);
        }
        return 0;
    }
    const char *drop = remove ? remove : letter ? letter : "Z";
    if (strlen(drop) != 1) {
        g_set_error(&err, VD_ERROR, VD_ERROR_INVALID, "--%s %s: give one drive letter",
                    remove ? "remove" : "as", drop);
        return cli_fail(err);
    }
    char l = g_ascii_toupper(drop[0]);
    if (remove && !vm_config_share_remove(cfg, l, &err))
        return cli_fail(err);
    g_autoptr(VmStatus) st = vm_status_get(name);
    const char *when = vm_state_is_active(st->state) ? "the next start" : "its start";
    if (!remove) {
        if (!vm_config_share_add(cfg, l, argv[2], read_only, &err))
            return cli_fail(err);
        g_autofree char *abs = g_canonicalize_filename(argv[2], NULL);
        if (read_only)
            printf("%s: %s is shared read-only over 9p from %s\n", name, abs, when);
        else if (cfg->os != VM_OS_WINDOWS)
            printf("%s: %s is shared as %c: from the next RDP connection, and over 9p from "
                   "%s\n",
                   name, abs, l, when);
        else
            printf("%s: %s is shared as %c: from the next RDP connection\n", name, abs, l);
    } else {
        printf("%s: %c: is no longer shared (from the next RDP connection%s)\n", name, l,
               cfg->os != VM_OS_WINDOWS ? "; over 9p from the next start" : "");
    }
    if (!vm_store_save(cfg, &err))
        return cli_fail(err);
    return 0;
}

int cli_certificate(int argc, char **argv)
{
    gboolean forget = FALSE;
    GOptionEntry entries[] = {{"forget", 0, 0, G_OPTION_ARG_NONE, &forget,
                               "forget the pinned certificate: the next connection trusts the "
                               "one it sees",
                               NULL},
                              G_OPTION_ENTRY_NULL};
    int status;
    if (!cli_parse("certificate", "NAME | rdp://HOST[:PORT]",
                   "Show the RDP certificate vmdesk pinned on first use, or forget it after a "
                   "legitimate change (a reinstalled guest).",
                   entries, &argc, &argv, &status) ||
        !cli_expect_args("certificate", argc, 1, 1, &status))
        return status;
    GError *err = NULL;
    g_autofree char *file = NULL, *group = NULL;
    if (strstr(argv[1], "://")) {
        RdpTarget t;
        if (!rdp_target_parse(argv[1], &t, &err))
            return cli_fail(err);
        cli_url_rdp_pin(&t);
        file = g_strdup(t.pin_file);
        group = g_strdup(t.pin_group);
        rdp_target_clear(&t);
    } else {
        g_autoptr(VmConfig) cfg = vm_store_load(argv[1], &err);
        if (!cfg)
            return cli_fail(err);
        file = cert_pin_vm_path(argv[1]);
        group = g_strdup(CERT_PIN_VM_GROUP);
    }
    if (forget) {
        bool removed;
        if (!cert_pin_forget(file, group, &removed, &err))
            return cli_fail(err);
        printf(removed ? "Forgot the certificate of %s: the next connection pins the one it "
                         "sees.\n"
                       : "No certificate of %s was pinned.\n",
               argv[1]);
        return 0;
    }
    g_autofree char *pin = cert_pin_get(file, group);
    if (pin)
        printf("%s: SHA-256 %s\n", argv[1], pin);
    else
        printf("%s: no certificate pinned yet (the first RDP connection pins it)\n", argv[1]);
    return 0;
}
