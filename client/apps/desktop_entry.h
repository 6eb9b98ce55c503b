/* Desktop menu entries for a guest's applications (freedesktop Desktop Entry
 * and Icon Theme specifications), so that each starts with one click as
 * `vmdesk app --class vmdesk-VM-APPID VM PROGRAM %F`:
 *
 *   $XDG_DATA_HOME/applications/vmdesk-VM-APPID.desktop
 *   $XDG_DATA_HOME/icons/hicolor/SIZExSIZE/apps/vmdesk-VM-APPID.png
 *
 * (a libvirt domain's: vmdesk-DOMAIN-HASH-APPID, HASH a short hash of its
 * URI, so that it never takes the file of vmdesk's own VM of that name, nor
 * of a domain of that name on another host);
 * APPID is the guest's id made safe for a file name (desktop_entry_sanitize);
 * the entry's StartupWMClass is "vmdesk-VM-APPID" too, and Exec passes it
 * as `--class` (the program's windows set that class, so the desktop groups
 * them under the entry), and its
 * X-Vmdesk-VM / X-Vmdesk-Connect / X-Vmdesk-Program / X-Vmdesk-App-Id keys
 * let `remove` find exactly vmdesk's own entries, a VM's or a domain's. Files are written atomically (temporary file,
 * rename), 0644. Blocking; any thread, but two processes installing for one
 * VM race (last writer wins). No global state. */
#pragma once

#include "guest/guest_apps.h"

#include <glib.h>
#include <stdbool.h>

/* The icon sizes written (hicolor folders): every one the source allows,
 * at least DESKTOP_ENTRY_SIZES_REQUIRED (scaled up when the source is smaller). */
extern const int desktop_entry_sizes[];          /* 16 24 32 48 64 128 256, 0-terminated */
extern const int desktop_entry_sizes_required[]; /* 32 48 64 128, 0-terminated */

/* @s with every byte outside [A-Za-z0-9_.-] replaced by '_' ("app" when that
 * leaves nothing, never starting with '.'). Caller frees. */
char *desktop_entry_sanitize(const char *s);

/* File-safe ids for @apps (GuestApp*), in order and unique: the sanitized
 * guest id, "-2", "-3"... appended on a clash. NULL-terminated; caller frees. */
char **desktop_entry_assign_ids(GPtrArray *apps);

/* Hex digits of the SHA-256 of a libvirt URI in a domain's file ids. */
#define DESKTOP_ENTRY_URI_HASH_LEN 8

/* The file id of app @app_id's entry for VM @vm ("vmdesk-VM-APPID"), or for
 * libvirt domain @vm at URI @connect ("vmdesk-VM-HASH-APPID"); both parts
 * sanitized. Caller frees. */
char *desktop_entry_file_id(const char *vm, const char *connect, const char *app_id);

/* One argument quoted by the Desktop Entry spec's Exec rules: as is when it
 * holds no reserved character, else in double quotes with " ` $ \ escaped by
 * a backslash; '%' doubled either way. Before the key file's own string
 * escaping (GKeyFile adds that). Caller frees. */
char *desktop_entry_exec_quote(const char *arg);

/* The Exec value, each word quoted:
 *   @vmdesk app --class @wm_class [--connect @connect] [--] @vm @program @args... %F
 * (@connect: a libvirt domain's URI, or NULL for vmdesk's own VM)
 * ("--" when an argument starts with '-', so that it is not taken for an
 * option of vmdesk's). */
char *desktop_entry_exec_line(const char *vmdesk, const char *wm_class, const char *connect,
                              const char *vm, const char *program, const char *const *args);

/* "$XDG_DATA_HOME/applications" and "$XDG_DATA_HOME/icons/hicolor". Caller frees. */
char *desktop_entry_apps_dir(void);
char *desktop_entry_icons_dir(void);

/* The format gdk-pixbuf names @data's image ("png", "svg", "xpm", "ico"...;
 * caller frees) and its natural size, or NULL when it does not decode. */
char *desktop_entry_probe_icon(GBytes *data, int *width, int *height);

/* The icon's PNG images at the sizes above, from @data (PNG, XPM, ICO, SVG:
 * whatever gdk-pixbuf reads). Returns GBytes* (PNG) in the order of
 * *@sizes_out (0-terminated, caller frees), or NULL with VD_ERROR_INVALID when
 * the data is no image gdk-pixbuf can read. */
GPtrArray *desktop_entry_render_icon(GBytes *data, int **sizes_out, GError **error);

/* Write @app's entry for VM @vm (a libvirt domain at URI @connect, which
 * Exec and X-Vmdesk-Connect then carry; NULL: vmdesk's own) as
 * desktop_entry_file_id(@vm, @connect, @app_id), its icons (when it has
 * one that decodes; else a warning in *@warning, caller frees, and no Icon
 * key), running @vmdesk (an absolute path). Replaces an earlier entry of the
 * same name and its icons. *@path_out (may be NULL) gets the entry's path.
 * Does not refresh the caches: see desktop_entry_refresh_caches(). */
bool desktop_entry_install(const char *vm, const char *connect, const GuestApp *app,
                           const char *app_id, const char *vmdesk, char **path_out,
                           char **warning, GError **error);

/* The paths of VM @vm's entries (X-Vmdesk-VM=@vm, and X-Vmdesk-Connect=
 * @connect for a libvirt domain; no such key when @connect is NULL) whose
 * program, guest id, file id or name is one of @which (case-insensitive for
 * names; NULL: all). Caller frees. */
char **desktop_entry_find(const char *vm, const char *connect, const char *const *which);

/* Remove the entry at @path and every icon it names under our hicolor folder,
 * in every size. */
bool desktop_entry_remove_file(const char *path, GError **error);

/* Remove all of vmdesk VM @vm's entries and icons (not a libvirt domain's
 * of the same name); *@removed (may be NULL) counts
 * them. Refreshes the caches when something was removed. For `vmdesk delete`. */
bool desktop_entry_remove_vm(const char *vm, guint *removed, GError **error);

/* update-desktop-database and gtk-update-icon-cache -f -t on our folders,
 * where installed (missing programs are fine; failures are ignored: the
 * caches only speed menus up). */
void desktop_entry_refresh_caches(void);
