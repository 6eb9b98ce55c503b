/* unit-fetch-parse: the pure parts of `vmdesk fetch` (orchestrator/fetch/fetch_*.c):
 * checksum lists, byte-range sets, Content-Range values and header lines,
 * URLs and file names, sizes for people, and the resume state file's round
 * trip. The downloads themselves are tested against real servers in
 * tests/integration/test_fetch.c. */
#include "common/error.h"
#include "fetch/fetch.h"
#include "fetch/fetch_catalog.h"
#include "fetch/fetch_priv.h"
#include "test_util.h"

#include <string.h>

static void test_checksum_list_and_ranges(void)
{
    const char *list = "-----BEGIN PGP SIGNED MESSAGE-----\n"
                       "# Fedora-Workstation-40-1.14-x86_64.iso: 2295853056 bytes\n"
                       "SHA256 (Fedora-Workstation-Live-x86_64-40-1.14.iso) = "
                       "DFA1E3E4A1E0A2C3E8F2AB0D1C3F6A9B8E7D6C5B4A39281706F5E4D3C2B1A098\n"
                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
                       "*ubuntu-24.04.2-desktop-amd64.iso\n"
                       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb "
                       "*ubuntu-24.04.10-desktop-amd64.iso\n";
    char *name = NULL, *sha = NULL;
    g_assert_true(fetch_checksum_list_find(list, "Fedora-Workstation-Live-x86_64-40-1.14.iso",
                                           &name, &sha));
    g_assert_cmpstr(sha, ==, "dfa1e3e4a1e0a2c3e8f2ab0d1c3f6a9b8e7d6c5b4a39281706f5e4d3c2b1a098");
    g_free(name);
    g_free(sha);
    g_assert_true(fetch_checksum_list_find(list, "ubuntu-24.04*-desktop-amd64.iso", &name, &sha));
    g_assert_cmpstr(name, ==, "ubuntu-24.04.10-desktop-amd64.iso"); /* version order */
    g_assert_cmpstr(sha, ==, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    g_free(name);
    g_free(sha);
    g_assert_false(fetch_checksum_list_find(list, "debian-*.iso", &name, &sha));

    g_autoptr(GArray) r = g_array_new(FALSE, FALSE, sizeof(FetchRange));
    fetch_ranges_add(r, 10, 20);
    fetch_ranges_add(r, 30, 40);
    fetch_ranges_add(r, 20, 25);
    fetch_ranges_add(r, 5, 5);
    g_assert_cmpuint(r->len, ==, 2);
    g_assert_cmpuint(fetch_ranges_total(r), ==, 25);
    g_autoptr(GArray) m = fetch_ranges_missing(r, 50);
    g_assert_cmpuint(m->len, ==, 3); /* [0,10) [25,30) [40,50) */
    g_assert_cmpuint(g_array_index(m, FetchRange, 1).start, ==, 25);
    g_assert_cmpuint(fetch_ranges_total(m), ==, 25);
    fetch_ranges_add(r, 0, 50);
    g_assert_cmpuint(r->len, ==, 1);
}


static void test_content_range_and_headers(void)
{
    uint64_t s, e, t;
    bool known;
    g_assert_true(fetch_parse_content_range("bytes 0-0/67108864", &s, &e, &t, &known));
    g_assert_true(s == 0 && e == 0 && t == 67108864 && known);
    g_assert_true(fetch_parse_content_range("bytes 10-19/*", &s, &e, &t, &known));
    g_assert_true(s == 10 && e == 19 && !known);
    g_assert_false(fetch_parse_content_range("bytes 5-3/10", &s, &e, &t, &known));
    g_assert_false(fetch_parse_content_range("bytes 0-10/10", &s, &e, &t, &known));
    g_assert_false(fetch_parse_content_range("items 0-1/2", &s, &e, &t, &known));
    g_assert_false(fetch_parse_content_range(NULL, &s, &e, &t, &known));

    /* A redirect, then the answer: only the last response's headers stay. */
    const char *lines[] = {"HTTP/1.1 302 Found\r\n", "ETag: \"old\"\r\n",
                           "Location: /x\r\n", "\r\n", "HTTP/1.1 206 Partial Content\r\n",
                           "etag: \"new\"\r\n", "Content-Range: bytes 0-0/5\r\n",
                           "Content-Length: 1\r\n", "\r\n", NULL};
    FetchHeaders h;
    fetch_headers_init(&h);
    for (int i = 0; lines[i]; i++)
        g_assert_cmpuint(fetch_headers_cb((char *)lines[i], 1, strlen(lines[i]), &h), ==,
                         strlen(lines[i]));
    g_assert_cmpint(h.status, ==, 206);
    g_assert_cmpstr(h.reason, ==, "Partial Content");
    g_assert_cmpstr(h.etag, ==, "\"new\"");
    g_assert_cmpstr(h.content_range, ==, "bytes 0-0/5");
    g_assert_null(h.last_modified);
    g_assert_cmpint(h.content_length, ==, 1);
    fetch_headers_clear(&h);
}

static void test_urls_and_sizes(void)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(fetch_url_check("https://cdimage.debian.org/x.iso", NULL));
    g_assert_true(fetch_url_check("HTTP://127.0.0.1:8080/x", NULL));
    g_assert_false(fetch_url_check("ftp://h/x.iso", &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_false(fetch_url_check("file:///etc/passwd", NULL));
    g_assert_false(fetch_url_check("/tmp/x.iso", NULL));
    g_assert_false(fetch_url_check("http:///x.iso", NULL));
    g_assert_false(fetch_url_check("https://me:secret@h/x.iso", &err));
    g_assert_nonnull(strstr(err->message, "password"));
    g_assert_null(strstr(err->message, "secret"));
    g_clear_error(&err);

    g_autofree char *a = fetch_url_file_name("https://h/a/b/My%20Disk.iso?x=1#f", NULL);
    g_assert_cmpstr(a, ==, "My Disk.iso");
    g_autofree char *b = fetch_url_file_name("https://h/dir/", &err);
    g_assert_null(b);
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_clear_error(&err);
    g_autofree char *c = fetch_url_file_name("https://h/a/..", NULL);
    g_assert_null(c);
    g_autofree char *d = fetch_url_file_name("https://h/a%2Fb", NULL);
    g_assert_null(d); /* an encoded slash would leave the folder */

    g_assert_true(fetch_sha256_valid("0cc597e0a9aad73178af9c8917c5fedccca08005a1033936fff8ee318a52e823"));
    g_assert_false(fetch_sha256_valid("0cc597e0"));
    g_assert_false(fetch_sha256_valid(NULL));

    g_autofree char *s1 = fetch_format_bytes(512);
    g_autofree char *s2 = fetch_format_bytes(64u << 20);
    g_autofree char *s3 = fetch_format_bytes(UINT64_C(6) << 30);
    g_assert_cmpstr(s1, ==, "512 bytes");
    g_assert_cmpstr(s2, ==, "64.0 MiB");
    g_assert_cmpstr(s3, ==, "6.0 GiB");
}

static void test_state_round_trip(void)
{
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *path = g_build_filename(dir, "x.iso.part.json", NULL);
    FetchState st;
    fetch_state_init(&st);
    st.url = g_strdup("http://127.0.0.1/x.iso");
    st.size = 100;
    st.etag = g_strdup("\"e\"");
    fetch_ranges_add(st.done, 0, 10);
    g_autoptr(GArray) extra = g_array_new(FALSE, FALSE, sizeof(FetchRange));
    fetch_ranges_add(extra, 10, 20);
    fetch_ranges_add(extra, 50, 60);
    g_autoptr(GError) err = NULL;
    g_assert_true(fetch_state_save(path, &st, extra, &err));
    g_assert_no_error(err);
    FetchState back;
    fetch_state_init(&back);
    g_assert_true(fetch_state_load(path, &back, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(back.url, ==, st.url);
    g_assert_cmpuint(back.size, ==, 100);
    g_assert_cmpstr(back.etag, ==, "\"e\"");
    g_assert_null(back.last_modified);
    g_assert_cmpuint(back.done->len, ==, 2); /* [0,20) [50,60) */
    g_assert_cmpuint(fetch_ranges_total(back.done), ==, 30);
    fetch_state_clear(&back);
    fetch_state_clear(&st);

    /* Ranges past the size, or no URL: not a state of ours. */
    const char *bad[] = {"{\"url\":\"u\",\"size\":10,\"done\":[[0,11]]}",
                         "{\"size\":10,\"done\":[]}", "{\"url\":\"u\",\"size\":-1,\"done\":[]}",
                         "[1,2]", "not json", NULL};
    for (int i = 0; bad[i]; i++) {
        tu_write_file(path, bad[i]);
        fetch_state_init(&back);
        g_assert_false(fetch_state_load(path, &back, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        g_clear_error(&err);
        fetch_state_clear(&back);
    }
    tu_rm_rf(dir);
}

/* State files from disk that are not ours: each refused with a reason, no
 * crash (json-glib recurses per nesting level) and no GLib critical (GTest
 * makes criticals fatal); the FetchState is left empty. */
static void test_state_hostile(void)
{
    g_autofree char *deep = tu_deep_json("{\"url\":\"u\",\"size\":10,\"done\":", 100000, "}");
    GString *huge = g_string_new("{\"url\":\"u\",\"size\":10,\"done\":[], \"x\":\"");
    for (int i = 0; i < (1 << 20); i++)
        g_string_append_c(huge, 'x');
    g_string_append(huge, "\"}");
    static const char *const base = "{\"url\":\"u\",\"size\":10,\"done\":";
    const struct {
        const char *text;
        const char *why;
    } bad[] = {
        {deep, "nested too deeply"},
        {huge->str, "larger than 1 MiB"},
        {"{\"url\":\"u\",\"size\":10,\"done\":[[\"a\",{}]]}", "range 0 is not a pair"},
        {"{\"url\":\"u\",\"size\":10,\"done\":[[0,5],[[],1]]}", "range 1 is not a pair"},
        {"{\"url\":\"u\",\"size\":10,\"done\":[[1.5,2]]}", "not a pair"},
        {"{\"url\":\"u\",\"size\":10,\"done\":[[true,2]]}", "not a pair"},
        {"{\"url\":\"u\",\"size\":10,\"done\":[[0,null]]}", "not a pair"},
        {"{\"url\":\"u\",\"size\":10,\"done\":[[0,1,2]]}", "not a pair"},
        {"{\"url\":\"u\",\"size\":10,\"done\":[7]}", "not a pair"},
        {"{\"url\":\"u\",\"size\":10,\"done\":[[-1,2]]}", "not a pair"},
        {"{\"url\":\"u\",\"size\":10,\"done\":[[5,2]]}", "outside the file"},
        {"{\"url\":\"u\",\"size\":\"10\",\"done\":[]}", "\"size\""},
        {"{\"url\":\"u\",\"size\":10.0,\"done\":[]}", "\"size\""},
        {"{\"url\":\"u\",\"size\":10,\"done-bytes\":\"x\",\"done\":[]}", "\"done-bytes\""},
        {"{\"url\":5,\"size\":10,\"done\":[]}", "\"url\""},
        {"{\"url\":\"u\",\"etag\":[],\"size\":10,\"done\":[]}", "\"etag\""},
        {"{\"url\":\"u\",\"last-modified\":{},\"size\":10,\"done\":[]}", "\"last-modified\""},
        {"{\"url\":\"u\",\"size\":10,\"done\":{}}", "\"done\""},
        {"{\"url\":\"u\",\"size\":10}", "\"done\""},
        {"{\"url\":\"u\",\"size\":10,\"done\":[]} {}", "more than one value"},
        {"]{\"url\":\"u\",\"size\":10,\"done\":[]}", "never opened"},
        {"{\"url\":'u',\"size\":10,\"done\":[]}", "outside a string"},
        {"{\"url\":\"\xff\",\"size\":10,\"done\":[]}", "not UTF-8"},
        {"", "not a JSON object"},
    };
    g_autofree char *dir = tu_tmpdir();
    g_autofree char *path = g_build_filename(dir, "x.iso.part.json", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        tu_write_file(path, bad[i].text);
        FetchState st;
        fetch_state_init(&st);
        g_autoptr(GError) err = NULL;
        g_assert_false(fetch_state_load(path, &st, &err));
        g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
        if (!strstr(err->message, bad[i].why) || !strstr(err->message, "download state"))
            g_error("state #%zu: \"%s\" lacks \"%s\"", i, err->message, bad[i].why);
        g_assert_null(st.url);
        g_assert_cmpuint(st.done->len, ==, 0);
        fetch_state_clear(&st);
    }
    /* No file at all is told apart: that is a .part without a state. */
    FetchState st;
    fetch_state_init(&st);
    g_autoptr(GError) err = NULL;
    g_assert_false(fetch_state_load("/nonexistent/x.part.json", &st, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_NOT_FOUND);
    fetch_state_clear(&st);
    /* Unknown members are ignored; nulls are absent validators. */
    g_autofree char *ok_text = g_strconcat(base, "[[0,4],[4,10]],\"etag\":null,\"new\":{}}", NULL);
    tu_write_file(path, ok_text);
    fetch_state_init(&st);
    g_assert_true(fetch_state_load(path, &st, NULL));
    g_assert_null(st.etag);
    g_assert_cmpuint(fetch_ranges_total(st.done), ==, 10);
    fetch_state_clear(&st);
    g_string_free(huge, TRUE);
    tu_rm_rf(dir);
}

static void test_catalog(void)
{
    size_t n = 0;
    const FetchCatalogEntry *e = fetch_catalog_entries(&n);
    g_assert_cmpuint(n, >=, 6);
    for (size_t i = 0; i < n; i++) {
        /* Every entry is either downloadable over https or names a page. */
        g_assert_true(e[i].manual_page ? g_str_has_prefix(e[i].manual_page, "https://")
                                       : g_str_has_prefix(e[i].folder_url, "https://") &&
                                             g_str_has_suffix(e[i].folder_url, "/"));
        g_assert_true(e[i].manual_page || e[i].sha256 || e[i].checksum_file || e[i].note);
    }
    g_assert_nonnull(fetch_catalog_find("DEBIAN-12-netinst"));
    /* Both architectures: Debian's arm64 netinst from its own folder, the
     * Windows on Arm page. */
    const FetchCatalogEntry *arm = fetch_catalog_find("debian-12-netinst-arm64");
    g_assert_cmpstr(arm->arch, ==, "aarch64");
    g_assert_nonnull(strstr(arm->folder_url, "/arm64/"));
    g_assert_cmpstr(fetch_catalog_find("debian-12-netinst")->arch, ==, "x86_64");
    g_assert_cmpstr(fetch_catalog_find("windows-11-arm64")->arch, ==, "aarch64");
    g_assert_nonnull(fetch_catalog_find("windows-11-arm64")->manual_page);
    g_assert_null(fetch_catalog_find("debian"));
    const FetchCatalogEntry *win = fetch_catalog_find("windows-11");
    FetchCatalogTarget t;
    g_autoptr(GError) err = NULL;
    g_assert_false(fetch_catalog_resolve(win, &t, &err));
    g_assert_error(err, VD_ERROR, VD_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "microsoft.com"));

    g_unsetenv("VMDESK_FETCH_MIRROR");
    g_autofree char *official = fetch_catalog_folder(fetch_catalog_find("debian-12-netinst"));
    g_assert_true(g_str_has_prefix(official, "https://cdimage.debian.org/"));
    g_setenv("VMDESK_FETCH_MIRROR", "http://127.0.0.1:8080/m", TRUE);
    g_autofree char *mirror = fetch_catalog_folder(fetch_catalog_find("debian-12-netinst"));
    g_assert_cmpstr(mirror, ==, "http://127.0.0.1:8080/m/");
    g_unsetenv("VMDESK_FETCH_MIRROR");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fetch-parse/checksum-list-and-ranges", test_checksum_list_and_ranges);
    g_test_add_func("/fetch-parse/content-range-and-headers", test_content_range_and_headers);
    g_test_add_func("/fetch-parse/urls-and-sizes", test_urls_and_sizes);
    g_test_add_func("/fetch-parse/state-round-trip", test_state_round_trip);
    g_test_add_func("/fetch-parse/state-hostile", test_state_hostile);
    g_test_add_func("/fetch-parse/catalog", test_catalog);
    return g_test_run();
}
