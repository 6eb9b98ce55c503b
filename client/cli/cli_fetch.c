/* vmdesk fetch: download an installer ISO (a URL or a catalog entry) with
 * several connections, resumably, verified by SHA-256 before it gets its
 * final name (orchestrator/fetch/fetch.h, orchestrator/fetch/fetch_catalog.h). */
#include "cli/cli.h"

#include "common/error.h"
#include "common/json_build.h"
#include "fetch/fetch.h"
#include "fetch/fetch_catalog.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FETCH_DEFAULT_CONNECTIONS 4

typedef struct {
    bool tty;   /* stderr is a terminal: draw a progress bar */
    bool drawn; /* a bar is on the current line */
} Ui;

/* Set by SIGINT/SIGTERM: the transfer stops and saves its state. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

static bool is_cancelled(void *user_data)
{
    return interrupted != 0;
}

/* The first Ctrl-C stops cleanly (state saved); a second one kills at once. */
static void catch_interrupts(void)
{
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void clear_bar(Ui *ui)
{
    if (ui->drawn) {
        fputs("\r\033[K", stderr);
        ui->drawn = false;
    }
}

static void on_note(const char *message, void *user_data)
{
    Ui *ui = user_data;
    clear_bar(ui);
    fprintf(stderr, "vmdesk: %s\n", message);
}

static void on_progress(const FetchProgress *p, void *user_data)
{
    Ui *ui = user_data;
    if (!ui->tty)
        return;
    if (p->finished) {
        clear_bar(ui);
        return;
    }
    g_autofree char *done = fetch_format_bytes(p->done);
    g_autofree char *rate = fetch_format_bytes((uint64_t)p->rate);
    char bar[32] = "";
    char pct[16] = "";
    char eta[32] = "";
    g_autofree char *total = p->total ? fetch_format_bytes(p->total) : g_strdup("?");
    if (p->total) {
        double frac = (double)p->done / (double)p->total;
        int fill = (int)(frac * 20);
        bar[0] = '[';
        for (int i = 0; i < 20; i++)
            bar[1 + i] = i < fill ? '#' : '.';
        bar[21] = ']';
        bar[22] = '\0';
        snprintf(pct, sizeof(pct), "%3d%%", (int)(frac * 100));
        if (p->rate > 0) {
            uint64_t s = (uint64_t)((double)(p->total - p->done) / p->rate);
            snprintf(eta, sizeof(eta), "ETA %" G_GUINT64_FORMAT ":%02u:%02u", s / 3600,
                     (unsigned)(s / 60 % 60), (unsigned)(s % 60));
        }
    }
    fprintf(stderr, "\r\033[K%s %s %s / %s  %s/s  %s", bar, pct, done, total, rate, eta);
    fflush(stderr);
    ui->drawn = true;
}

static void print_list_text(void)
{
    size_t n;
    const FetchCatalogEntry *e = fetch_catalog_entries(&n);
    const char *mirror = g_getenv("VMDESK_FETCH_MIRROR");
    if (mirror && *mirror)
        printf("(VMDESK_FETCH_MIRROR: downloads come from %s)\n", mirror);
    printf("%-26s %-8s %-10s %s\n", "ID", "ARCH", "SIZE", "NAME / SOURCE");
    for (size_t i = 0; i < n; i++) {
        g_autofree char *size = e[i].approx_size ? fetch_format_bytes(e[i].approx_size) : NULL;
        g_autofree char *size_col = size ? g_strdup_printf("~%s", size) : g_strdup("?");
        printf("%-26s %-8s %-10s %s\n", e[i].id, e[i].arch ? e[i].arch : "any", size_col,
               e[i].name);
        g_autofree char *folder = fetch_catalog_folder(&e[i]);
        if (e[i].manual_page)
            printf("%-46s manual download: %s\n", "", e[i].manual_page);
        else
            printf("%-46s %s%s (%s)\n", "", folder, e[i].file,
                   e[i].sha256          ? "fixed SHA-256"
                   : e[i].checksum_file ? "SHA-256 from the folder's checksum list"
                                        : "not verified");
    }
}

static void print_list_json(void)
{
    size_t n;
    const FetchCatalogEntry *e = fetch_catalog_entries(&n);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    const char *mirror = g_getenv("VMDESK_FETCH_MIRROR");
    vd_json_add_string_or_null(b, "mirror", mirror && *mirror ? mirror : NULL);
    json_builder_set_member_name(b, "isos");
    json_builder_begin_array(b);
    for (size_t i = 0; i < n; i++) {
        g_autofree char *folder = fetch_catalog_folder(&e[i]);
        g_autofree char *checksum =
            folder && e[i].checksum_file ? g_strconcat(folder, e[i].checksum_file, NULL) : NULL;
        json_builder_begin_object(b);
        vd_json_add_string_or_null(b, "id", e[i].id);
        vd_json_add_string_or_null(b, "name", e[i].name);
        vd_json_add_string_or_null(b, "arch", e[i].arch);
        vd_json_add_string_or_null(b, "folder", folder);
        vd_json_add_string_or_null(b, "file", e[i].manual_page ? NULL : e[i].file);
        json_builder_set_member_name(b, "approx-size-bytes");
        if (e[i].approx_size)
            json_builder_add_int_value(b, (gint64)e[i].approx_size);
        else
            json_builder_add_null_value(b);
        vd_json_add_string_or_null(b, "verification", e[i].manual_page    ? NULL
                                          : e[i].sha256        ? "fixed"
                                          : e[i].checksum_file ? "checksum-list"
                                                               : "none");
        vd_json_add_string_or_null(b, "sha256", e[i].sha256);
        vd_json_add_string_or_null(b, "checksum-url", checksum);
        json_builder_set_member_name(b, "downloadable");
        json_builder_add_boolean_value(b, e[i].manual_page == NULL);
        vd_json_add_string_or_null(b, "manual-page", e[i].manual_page);
        vd_json_add_string_or_null(b, "note", e[i].note);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    cli_print_json(root);
}

/* -o PATH: a file name, or an existing folder to put @name in. */
static char *output_path(const char *opt, const char *name)
{
    if (!opt)
        return g_strdup(name);
    if (g_file_test(opt, G_FILE_TEST_IS_DIR))
        return g_build_filename(opt, name, NULL);
    return g_strdup(opt);
}

int cli_fetch(int argc, char **argv)
{
    gboolean list = FALSE, json = FALSE;
    g_autofree char *sha256 = NULL, *output = NULL;
    int connections = FETCH_DEFAULT_CONNECTIONS;
    GOptionEntry entries[] = {
        {"sha256", 0, 0, G_OPTION_ARG_STRING, &sha256,
         "expected SHA-256 (overrides the catalog's)", "HEX"},
        {"connections", 'c', 0, G_OPTION_ARG_INT, &connections,
         "parallel byte-range connections, 1-16 (default 4)", "N"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "file or folder to save to (default: the URL's file name here)", "PATH"},
        {"list", 0, 0, G_OPTION_ARG_NONE, &list, "known installer ISOs and their sources", NULL},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "with --list: JSON output", NULL},
        G_OPTION_ENTRY_NULL};
    int status = 0;
    if (!cli_parse("fetch", "URL|CATALOG-ID",
                   "Download an installer ISO: resumable, several connections, SHA-256 verified.\n"
                   "Known IDs: vmdesk fetch --list",
                   entries, &argc, &argv, &status))
        return status;
    if (list) {
        if (!cli_expect_args("fetch", argc, 0, 0, &status))
            return status;
        if (json)
            print_list_json();
        else
            print_list_text();
        return 0;
    }
    if (json) {
        fprintf(stderr, "vmdesk fetch: --json goes with --list (see vmdesk fetch --help)\n");
        return 2;
    }
    if (!cli_expect_args("fetch", argc, 1, 1, &status))
        return status;
    if (connections < 1 || connections > FETCH_MAX_CONNECTIONS) {
        fprintf(stderr, "vmdesk fetch: --connections must be 1 to %d\n", FETCH_MAX_CONNECTIONS);
        return 2;
    }
    if (sha256 && !fetch_sha256_valid(sha256)) {
        fprintf(stderr, "vmdesk fetch: --sha256 wants 64 hexadecimal digits, not \"%s\"\n",
                sha256);
        return 2;
    }

    const char *what = argv[1];
    GError *err = NULL;
    FetchCatalogTarget target = {0};
    const char *unverified_why = "no --sha256 given";
    if (strstr(what, "://")) {
        if (!fetch_url_check(what, &err))
            return cli_fail(err);
        target.url = g_strdup(what);
        if (!output || g_file_test(output, G_FILE_TEST_IS_DIR)) {
            target.file_name = fetch_url_file_name(what, &err);
            if (!target.file_name)
                return cli_fail(err);
        } else {
            target.file_name = g_path_get_basename(output);
        }
    } else {
        const FetchCatalogEntry *e = fetch_catalog_find(what);
        if (!e) {
            g_set_error(&err, VD_ERROR, VD_ERROR_NOT_FOUND,
                        "\"%s\" is neither a URL nor a catalog ID (vmdesk fetch --list shows "
                        "them)",
                        what);
            return cli_fail(err);
        }
        if (!fetch_catalog_resolve(e, &target, &err))
            return cli_fail(err);
        if (target.checksum_url)
            fprintf(stderr, "vmdesk: %s: %s (SHA-256 from %s)\n", e->id, target.url,
                    target.checksum_url);
        else
            fprintf(stderr, "vmdesk: %s: %s\n", e->id, target.url);
        if (!target.sha256 && e->note)
            unverified_why = e->note;
    }
    g_autofree char *path = output_path(output, target.file_name);
    Ui ui = {.tty = isatty(STDERR_FILENO) == 1};
    FetchRequest req = {
        .url = target.url,
        .path = path,
        .sha256 = sha256 ? sha256 : target.sha256,
        .connections = connections,
        .progress = on_progress,
        .note = on_note,
        .cancelled = is_cancelled,
        .user_data = &ui,
    };
    FetchResult res;
    catch_interrupts();
    bool ok = fetch_run(&req, &res, &err);
    fetch_catalog_target_clear(&target);
    if (!ok) {
        status = cli_fail(err);
        return interrupted ? 128 + interrupted : status;
    }
    g_autofree char *size = fetch_format_bytes(res.size);
    if (res.already) {
        printf("already downloaded: %s (%s, SHA-256 %s matches)\n", path, size, res.sha256);
        return 0;
    }
    g_autofree char *got = fetch_format_bytes(res.transferred);
    g_autofree char *rate =
        fetch_format_bytes(res.seconds > 0 ? (uint64_t)((double)res.transferred / res.seconds) : 0);
    g_autofree char *check = res.verified
                                 ? g_strdup_printf("SHA-256 %s verified", res.sha256)
                                 : g_strdup_printf("not verified: %s", unverified_why);
    printf("saved %s (%s; %s received in %.1f s, %s/s, %d connection%s; %s)\n", path, size, got,
           res.seconds, rate, res.connections, res.connections == 1 ? "" : "s", check);
    return 0;
}
