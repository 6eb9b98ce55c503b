/* The values of the config's device keys: shared folders, USB devices, the
 * idle-suspend delay (vm_config.h). Pure functions; the only I/O is
 * vm_config_share_add's check that the folder exists. */
#include "vm/vm_config.h"

#include "common/error.h"
#include "common/text.h"

#include <stdio.h>
#include <string.h>

#define SHARE_TAG "vmdesk_share"
#define DURATION_MAX (7u * 24 * 3600)

bool vm_share_parse(const char *entry, VmShare *out)
{
    if (!g_ascii_isalpha(entry[0]))
        return false;
    const char *rest = entry + 1;
    bool ro = g_str_has_prefix(rest, ":ro=");
    if (ro)
        rest += 3;
    if (rest[0] != '=' || rest[1] != '/')
        return false;
    out->letter = g_ascii_toupper(entry[0]);
    out->read_only = ro;
    out->path = rest + 1;
    return true;
}

char *vm_share_tag(const VmShare *share, unsigned index)
{
    if (index == 0)
        return g_strdup(SHARE_TAG);
    return g_strdup_printf(SHARE_TAG "_%c", g_ascii_tolower(share->letter));
}

static void export_free(gpointer p)
{
    VmShareExport *e = p;
    g_free(e->tag);
    g_free(e);
}

GPtrArray *vm_config_share_exports(const VmConfig *cfg)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(export_free);
    for (char **s = cfg->shares; s && *s; s++) {
        VmShareExport *e = g_new0(VmShareExport, 1);
        if (!vm_share_parse(*s, &e->share)) {
            g_free(e);
            continue;
        }
        if (cfg->os != VM_OS_WINDOWS)
            e->tag = vm_share_tag(&e->share, out->len);
        g_ptr_array_add(out, e);
    }
    return out;
}

static bool usb_spec_bad(const char *text, GError **error)
{
    g_autofree char *q = vd_text_quote(text, -1);
    g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                "%s is not a USB device: give VENDOR:PRODUCT (hex, for example 046d:c52b) or "
                "BUS-PORT (for example 1-2 or 3-1.4), as vmdesk usb list shows them",
                q);
    return false;
}

static bool parse_hex4(const char *s, size_t n, unsigned *out)
{
    if (n == 0 || n > 4)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!g_ascii_isxdigit(s[i]))
            return false;
        v = v * 16 + (unsigned)g_ascii_xdigit_value(s[i]);
    }
    *out = v;
    return true;
}

/* "2", "1.4": 1 to 7 numbers 1-255 (USB's tiers) joined by dots. */
static bool valid_port_path(const char *s)
{
    g_auto(GStrv) parts = g_strsplit(s, ".", -1);
    guint n = g_strv_length(parts);
    if (n == 0 || n > 7)
        return false;
    for (guint i = 0; i < n; i++) {
        guint64 v;
        if (!g_ascii_string_to_unsigned(parts[i], 10, 1, 255, &v, NULL))
            return false;
    }
    return true;
}

bool vm_usb_spec_parse(const char *text, VmUsbSpec *out, GError **error)
{
    memset(out, 0, sizeof(*out));
    const char *colon = strchr(text, ':');
    const char *dash = strchr(text, '-');
    if (colon && !dash) {
        out->by_id = true;
        if (!parse_hex4(text, (size_t)(colon - text), &out->vendor) ||
            !parse_hex4(colon + 1, strlen(colon + 1), &out->product))
            return usb_spec_bad(text, error);
        return true;
    }
    if (dash && !colon) {
        g_autofree char *bus = g_strndup(text, (gsize)(dash - text));
        guint64 b;
        if (!g_ascii_string_to_unsigned(bus, 10, 1, 255, &b, NULL) || !valid_port_path(dash + 1) ||
            strlen(dash + 1) >= sizeof(out->port))
            return usb_spec_bad(text, error);
        out->bus = (unsigned)b;
        g_strlcpy(out->port, dash + 1, sizeof(out->port));
        return true;
    }
    return usb_spec_bad(text, error);
}

char *vm_usb_spec_to_string(const VmUsbSpec *spec)
{
    if (spec->by_id)
        return g_strdup_printf("%04x:%04x", spec->vendor, spec->product);
    return g_strdup_printf("%u-%s", spec->bus, spec->port);
}

char *vm_usb_spec_device_id(const VmUsbSpec *spec)
{
    g_autofree char *s = vm_usb_spec_to_string(spec);
    /* QEMU ids: a letter, then letters, digits, '-', '.', '_'. */
    g_strdelimit(s, ":", '-');
    return g_strdup_printf("usb-%s", s);
}

bool vm_duration_parse(const char *text, unsigned *seconds, GError **error)
{
    if (!g_ascii_strcasecmp(text, "off") || !strcmp(text, "0")) {
        *seconds = 0;
        return true;
    }
    size_t n = strlen(text);
    unsigned mult = 1;
    g_autofree char *num = g_strdup(text);
    if (n > 1 && strchr("smh", text[n - 1])) {
        mult = text[n - 1] == 's' ? 1 : text[n - 1] == 'm' ? 60 : 3600;
        num[n - 1] = '\0';
    }
    guint64 v;
    if (!g_ascii_string_to_unsigned(num, 10, 1, DURATION_MAX, &v, NULL) ||
        v * mult > DURATION_MAX) {
        g_autofree char *q = vd_text_quote(text, -1);
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "%s is not a duration: give seconds, minutes or hours (30s, 10m, 1h; at "
                    "most a week) or off",
                    q);
        return false;
    }
    *seconds = (unsigned)v * mult;
    return true;
}

char *vm_duration_format(unsigned seconds)
{
    if (seconds == 0)
        return g_strdup("off");
    if (seconds % 3600 == 0)
        return g_strdup_printf("%uh", seconds / 3600);
    if (seconds % 60 == 0)
        return g_strdup_printf("%um", seconds / 60);
    return g_strdup_printf("%us", seconds);
}

/* @cfg->shares without drive @letter's entry; whether it had one. */
static bool drop_share(VmConfig *cfg, char letter)
{
    GStrvBuilder *b = g_strv_builder_new();
    bool found = false;
    for (char **s = cfg->shares; s && *s; s++) {
        if (g_ascii_toupper((*s)[0]) == g_ascii_toupper(letter))
            found = true;
        else
            g_strv_builder_add(b, *s);
    }
    g_strfreev(cfg->shares);
    cfg->shares = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    if (!*cfg->shares)
        g_clear_pointer(&cfg->shares, g_strfreev);
    return found;
}

bool vm_config_share_add(VmConfig *cfg, char letter, const char *path, bool read_only,
                         GError **error)
{
    if (read_only && cfg->os == VM_OS_WINDOWS) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID,
                    "read-only: %s is a Windows guest, which gets shares as RDP drives only, "
                    "and RDP drive redirection cannot make a drive read-only",
                    cfg->name);
        return false;
    }
    if (!g_ascii_isalpha(letter)) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "%c is no drive letter: give one of A-Z",
                    letter);
        return false;
    }
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    if (!g_file_test(abs, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "%s is not a folder", path);
        return false;
    }
    g_auto(GStrv) was = g_strdupv(cfg->shares);
    drop_share(cfg, letter);
    g_autofree char *value =
        g_strdup_printf("share+=%c%s=%s", g_ascii_toupper(letter), read_only ? ":ro" : "", abs);
    if (vm_config_set(cfg, value, false, NULL, error))
        return true;
    g_strfreev(cfg->shares);
    cfg->shares = g_steal_pointer(&was);
    return false;
}

bool vm_config_share_remove(VmConfig *cfg, char letter, GError **error)
{
    if (drop_share(cfg, letter))
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND, "%s shares nothing as %c:", cfg->name,
                g_ascii_toupper(letter));
    return false;
}
