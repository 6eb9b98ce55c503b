/* A hands-off Windows installation for a new VM (unattend_setup.h). */
#include "guest/unattend_setup.h"

#include "common/error.h"
#include "common/paths.h"
#include "guest/tools_iso.h"
#include "guest/unattend.h"
#include "vm/vm_store.h"

#include <string.h>
#include <unistd.h>

static void wipe_free(char *s, size_t len)
{
    if (!s)
        return;
    memset(s, 0, len);
    g_free(s);
}

void unattend_setup_clear(UnattendSetup *u)
{
    g_free(u->user);
    wipe_free(u->password, u->password ? strlen(u->password) : 0);
    g_free(u->locale);
    g_free(u->keyboard);
    g_free(u->timezone);
    g_free(u->tools_dir);
    wipe_free(u->xml, u->xml_len);
    memset(u, 0, sizeof(*u));
}

bool unattend_setup_prepare(const char *name, UnattendSetup *u, GError **error)
{
    if (!u->user) {
        const char *me = g_get_user_name();
        u->user = g_strdup(me && unattend_validate_user(me, NULL) ? me : "vmdesk");
    }
    if (!u->locale)
        u->locale = g_strdup("en-US");
    if (!u->keyboard)
        u->keyboard = g_strdup(u->locale);
    if (!u->timezone)
        u->timezone = g_strdup("UTC");
    if (!unattend_validate_user(u->user, error) ||
        !unattend_validate_locale("--locale", u->locale, error) ||
        !unattend_validate_keyboard(u->keyboard, error) ||
        !unattend_validate_timezone(u->timezone, error))
        return false;
    g_free(u->tools_dir);
    u->tools_dir = tools_guest_tools_dir(error);
    if (!u->tools_dir)
        return false;
    g_autofree char *tpl_path = g_build_filename(u->tools_dir, "windows", "autounattend.xml", NULL);
    g_autofree char *tpl = NULL;
    if (!g_file_get_contents(tpl_path, &tpl, NULL, error))
        return false;
    g_autofree char *xorriso = g_find_program_in_path("xorriso");
    if (!xorriso) {
        g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                    "the hands-off installation builds the answer-file and tools CDs with "
                    "xorriso, which is not installed; sudo apt install xorriso");
        return false;
    }
    if (!u->password || !*u->password) {
        wipe_free(u->password, u->password ? strlen(u->password) : 0);
        u->password = unattend_generate_password();
    }
    g_autofree char *computer = unattend_computer_name(name);
    UnattendParams p = {.user = u->user,
                        .password = u->password,
                        .locale = u->locale,
                        .keyboard = u->keyboard,
                        .timezone = u->timezone,
                        .computer_name = computer};
    wipe_free(u->xml, u->xml_len);
    u->xml = unattend_render(tpl, &p, error);
    u->xml_len = u->xml ? strlen(u->xml) : 0;
    return u->xml != NULL;
}

bool unattend_setup_apply(VmConfig *cfg, const UnattendSetup *u, CredentialsStore *where,
                          GError **error)
{
    g_autofree char *dir = vd_paths_vm_dir(cfg->name);
    g_autofree char *tools = g_build_filename(dir, TOOLS_ISO_FILE, NULL);
    g_autofree char *answer = g_build_filename(dir, TOOLS_UNATTEND_FILE, NULL);
    if (!tools_iso_build(tools, u->tools_dir, NULL, error) ||
        !tools_unattend_iso_build(answer, u->xml, u->xml_len, error))
        return false;
    const char *cds[] = {tools, answer};
    for (size_t i = 0; i < G_N_ELEMENTS(cds); i++) {
        g_autofree char *a = g_strdup_printf("cd+=%s", cds[i]);
        if (!vm_config_set(cfg, a, false, NULL, error))
            return false;
    }
    if (!vm_store_save(cfg, error))
        return false;
    Credentials c = {.user = u->user, .password = u->password};
    CredentialsStore in = CREDENTIALS_IN_FILE;
    if (!credentials_save(cfg->name, &c, &in, error))
        return false;
    if (where)
        *where = in;
    return true;
}

char *unattend_host_locale(void)
{
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < G_N_ELEMENTS(vars); i++) {
        const char *v = g_getenv(vars[i]);
        if (!v || !*v)
            continue;
        /* ll_CC[.codeset][@modifier] */
        size_t n = strcspn(v, ".@");
        g_autofree char *tag = g_strndup(v, n);
        for (char *c = tag; *c; c++)
            if (*c == '_')
                *c = '-';
        if (unattend_validate_locale("locale", tag, NULL))
            return g_steal_pointer(&tag);
        return g_strdup("en-US"); /* C, POSIX, C.UTF-8, a language without a country */
    }
    return g_strdup("en-US");
}

/* IANA zone -> Windows time zone name, after CLDR's windowsZones (the
 * zones people most often live in; the rest get UTC and can be changed). */
static const struct {
    const char *iana, *windows;
} zones[] = {
    {"Etc/UTC", "UTC"},
    {"UTC", "UTC"},
    {"Europe/London", "GMT Standard Time"},
    {"Europe/Dublin", "GMT Standard Time"},
    {"Europe/Lisbon", "GMT Standard Time"},
    {"Europe/Berlin", "W. Europe Standard Time"},
    {"Europe/Amsterdam", "W. Europe Standard Time"},
    {"Europe/Rome", "W. Europe Standard Time"},
    {"Europe/Stockholm", "W. Europe Standard Time"},
    {"Europe/Vienna", "W. Europe Standard Time"},
    {"Europe/Zurich", "W. Europe Standard Time"},
    {"Europe/Oslo", "W. Europe Standard Time"},
    {"Europe/Paris", "Romance Standard Time"},
    {"Europe/Brussels", "Romance Standard Time"},
    {"Europe/Madrid", "Romance Standard Time"},
    {"Europe/Copenhagen", "Romance Standard Time"},
    {"Europe/Prague", "Central Europe Standard Time"},
    {"Europe/Budapest", "Central Europe Standard Time"},
    {"Europe/Warsaw", "Central European Standard Time"},
    {"Europe/Athens", "GTB Standard Time"},
    {"Europe/Bucharest", "GTB Standard Time"},
    {"Europe/Helsinki", "FLE Standard Time"},
    {"Europe/Kiev", "FLE Standard Time"},
    {"Europe/Kyiv", "FLE Standard Time"},
    {"Europe/Istanbul", "Turkey Standard Time"},
    {"Europe/Moscow", "Russian Standard Time"},
    {"America/New_York", "Eastern Standard Time"},
    {"America/Toronto", "Eastern Standard Time"},
    {"America/Chicago", "Central Standard Time"},
    {"America/Denver", "Mountain Standard Time"},
    {"America/Phoenix", "US Mountain Standard Time"},
    {"America/Los_Angeles", "Pacific Standard Time"},
    {"America/Vancouver", "Pacific Standard Time"},
    {"America/Anchorage", "Alaskan Standard Time"},
    {"Pacific/Honolulu", "Hawaiian Standard Time"},
    {"America/Mexico_City", "Central Standard Time (Mexico)"},
    {"America/Sao_Paulo", "E. South America Standard Time"},
    {"America/Argentina/Buenos_Aires", "Argentina Standard Time"},
    {"Asia/Tokyo", "Tokyo Standard Time"},
    {"Asia/Seoul", "Korea Standard Time"},
    {"Asia/Shanghai", "China Standard Time"},
    {"Asia/Hong_Kong", "China Standard Time"},
    {"Asia/Taipei", "Taipei Standard Time"},
    {"Asia/Singapore", "Singapore Standard Time"},
    {"Asia/Kolkata", "India Standard Time"},
    {"Asia/Dubai", "Arabian Standard Time"},
    {"Asia/Jerusalem", "Israel Standard Time"},
    {"Africa/Johannesburg", "South Africa Standard Time"},
    {"Africa/Cairo", "Egypt Standard Time"},
    {"Australia/Sydney", "AUS Eastern Standard Time"},
    {"Australia/Melbourne", "AUS Eastern Standard Time"},
    {"Australia/Brisbane", "E. Australia Standard Time"},
    {"Australia/Perth", "W. Australia Standard Time"},
    {"Pacific/Auckland", "New Zealand Standard Time"},
};

char *unattend_host_timezone(void)
{
    g_autofree char *link = g_file_read_link("/etc/localtime", NULL);
    const char *iana = NULL;
    const char *mark = link ? strstr(link, "zoneinfo/") : NULL;
    if (mark)
        iana = mark + strlen("zoneinfo/");
    g_autofree char *file = NULL;
    if (!iana && g_file_get_contents("/etc/timezone", &file, NULL, NULL))
        iana = g_strstrip(file);
    for (size_t i = 0; iana && i < G_N_ELEMENTS(zones); i++)
        if (!strcmp(iana, zones[i].iana))
            return g_strdup(zones[i].windows);
    return g_strdup("UTC");
}
