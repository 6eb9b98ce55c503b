/* The built-in ISO catalog and checksum lists (fetch_catalog.h). The URLs
 * are the projects' own download folders; point releases change file names,
 * so entries that move name a pattern and take name and digest from the
 * project's checksum list in the same folder. */
#include "fetch/fetch_catalog.h"

#include "common/error.h"
#include "fetch/fetch.h"

#include <string.h>

#define MIB (UINT64_C(1) << 20)

static const FetchCatalogEntry catalog[] = {
    {
        .id = "debian-12-netinst",
        .name = "Debian 12 (bookworm) network installer, amd64",
        .arch = "x86_64",
        .folder_url = "https://cdimage.debian.org/cdimage/archive/latest-oldstable/amd64/iso-cd/",
        .file = "debian-12.*-amd64-netinst.iso",
        .checksum_file = "SHA256SUMS",
        .approx_size = 630 * MIB,
        .note = "the latest Debian 12 point release; name and SHA-256 from SHA256SUMS",
    },
    {
        .id = "debian-12-netinst-arm64",
        .name = "Debian 12 (bookworm) network installer, arm64",
        .arch = "aarch64",
        .folder_url = "https://cdimage.debian.org/cdimage/archive/latest-oldstable/arm64/iso-cd/",
        .file = "debian-12.*-arm64-netinst.iso",
        .checksum_file = "SHA256SUMS",
        .approx_size = 530 * MIB,
        .note = "the latest Debian 12 point release; name and SHA-256 from SHA256SUMS",
    },
    {
        .id = "ubuntu-24.04-desktop",
        .name = "Ubuntu 24.04 LTS Desktop, amd64",
        .arch = "x86_64",
        .folder_url = "https://releases.ubuntu.com/24.04/",
        .file = "ubuntu-24.04*-desktop-amd64.iso",
        .checksum_file = "SHA256SUMS",
        .approx_size = 6000 * MIB,
        .note = "the latest 24.04 point release; name and SHA-256 from SHA256SUMS",
    },
    {
        .id = "ubuntu-24.04-server",
        .name = "Ubuntu 24.04 LTS Server, amd64",
        .arch = "x86_64",
        .folder_url = "https://releases.ubuntu.com/24.04/",
        .file = "ubuntu-24.04*-live-server-amd64.iso",
        .checksum_file = "SHA256SUMS",
        .approx_size = 3000 * MIB,
        .note = "the latest 24.04 point release; name and SHA-256 from SHA256SUMS",
    },
    {
        .id = "ubuntu-24.04-server-arm64",
        .name = "Ubuntu 24.04 LTS Server, arm64",
        .arch = "aarch64",
        .folder_url = "https://cdimage.ubuntu.com/releases/24.04/release/",
        .file = "ubuntu-24.04*-live-server-arm64.iso",
        .checksum_file = "SHA256SUMS",
        .approx_size = 2700 * MIB,
        .note = "the latest 24.04 point release; name and SHA-256 from SHA256SUMS",
    },
    {
        .id = "fedora-workstation-40",
        .name = "Fedora Workstation 40 Live, x86_64",
        .arch = "x86_64",
        .folder_url = "https://archives.fedoraproject.org/pub/archive/fedora/linux/releases/40/"
                      "Workstation/x86_64/iso/",
        .file = "Fedora-Workstation-Live-x86_64-40-1.14.iso",
        .checksum_file = "Fedora-Workstation-40-1.14-x86_64-CHECKSUM",
        .approx_size = 2200 * MIB,
        .note = "archived release (end of life); SHA-256 from the release's CHECKSUM file",
    },
    {
        .id = "virtio-win",
        .name = "virtio-win drivers for Windows guests (stable)",
        .folder_url = "https://fedorapeople.org/groups/virt/virtio-win/direct-downloads/"
                      "stable-virtio/",
        .file = "virtio-win.iso",
        .note = "the stable link moves to each new release and no checksum is published "
                "beside it: not verified (HTTPS with certificate checks only)",
    },
    {
        .id = "windows-11",
        .name = "Windows 11 (x64)",
        .arch = "x86_64",
        .manual_page = "https://www.microsoft.com/software-download/windows11",
        .approx_size = 5600 * MIB,
        .note = "Microsoft hands out Windows ISOs only through short-lived links made for "
                "each visitor on its download page",
    },
    {
        .id = "windows-11-arm64",
        .name = "Windows 11 on Arm (arm64)",
        .arch = "aarch64",
        .manual_page = "https://www.microsoft.com/software-download/windows11arm64",
        .approx_size = 5500 * MIB,
        .note = "Microsoft hands out Windows ISOs only through short-lived links made for "
                "each visitor on its download page",
    },
    {
        .id = "windows-10",
        .name = "Windows 10 (x64)",
        .arch = "x86_64",
        .manual_page = "https://www.microsoft.com/software-download/windows10",
        .approx_size = 5800 * MIB,
        .note = "Microsoft hands out Windows ISOs only through short-lived links made for "
                "each visitor on its download page",
    },
};

const FetchCatalogEntry *fetch_catalog_entries(size_t *n)
{
    *n = G_N_ELEMENTS(catalog);
    return catalog;
}

const FetchCatalogEntry *fetch_catalog_find(const char *id)
{
    for (size_t i = 0; i < G_N_ELEMENTS(catalog); i++)
        if (!g_ascii_strcasecmp(catalog[i].id, id))
            return &catalog[i];
    return NULL;
}

char *fetch_catalog_folder(const FetchCatalogEntry *e)
{
    if (e->manual_page)
        return NULL;
    const char *mirror = g_getenv("VMDESK_FETCH_MIRROR");
    if (mirror && *mirror)
        return g_str_has_suffix(mirror, "/") ? g_strdup(mirror) : g_strconcat(mirror, "/", NULL);
    return g_strdup(e->folder_url);
}

void fetch_catalog_target_clear(FetchCatalogTarget *t)
{
    g_free(t->url);
    g_free(t->file_name);
    g_free(t->sha256);
    g_free(t->checksum_url);
    memset(t, 0, sizeof(*t));
}

bool fetch_catalog_resolve(const FetchCatalogEntry *e, FetchCatalogTarget *t, GError **error)
{
    memset(t, 0, sizeof(*t));
    if (e->manual_page) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s cannot be downloaded automatically: %s. Download it from %s and give "
                    "the file to vmdesk create --iso",
                    e->name, e->note, e->manual_page);
        return false;
    }
    g_autofree char *folder = fetch_catalog_folder(e);
    if (e->checksum_file) {
        t->checksum_url = g_strconcat(folder, e->checksum_file, NULL);
        g_autofree char *list = NULL;
        if (!fetch_get_text(t->checksum_url, 4 << 20, &list, error)) {
            fetch_catalog_target_clear(t);
            return false;
        }
        if (!fetch_checksum_list_find(list, e->file, &t->file_name, &t->sha256)) {
            g_autofree char *plain =
                g_strdup_printf("%s lists no file named like %s; the catalog entry %s may be "
                                "out of date",
                                t->checksum_url, e->file, e->id);
            vd_error_set_worded(error, VD_ERROR_NOT_FOUND, NULL, plain,
                                "%s (fetch the URL directly with --sha256)", plain);
            fetch_catalog_target_clear(t);
            return false;
        }
    } else {
        t->file_name = g_strdup(e->file);
        t->sha256 = g_strdup(e->sha256);
    }
    g_autofree char *escaped = g_uri_escape_string(t->file_name, NULL, FALSE);
    t->url = g_strconcat(folder, escaped, NULL);
    return true;
}
