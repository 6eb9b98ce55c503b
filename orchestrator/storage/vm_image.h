/* How vmdesk names a VM's disk images to qemu-img and QEMU without ever
 * letting an image's own bytes choose a format or a file.
 *
 * A guest owns the bytes of its disk, and after an overlay commit they are
 * the base's bytes: a raw base may then hold a qcow2 header that names any
 * host file as its backing file. So every format is the one recorded in the
 * VM's config when the user handed the image in (disk-format, base-format),
 * and the overlay's backing is given explicitly instead of read from its
 * header. Probing (qemu-img without -f) is left only for files the user has
 * just named on the command line (create --import-disk, --base, disk import).
 *
 * Pure functions except vm_image_virtual_size (runs qemu-img); any thread. */
#pragma once

#include "vm/vm_config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

/* The VM's disk @disk_path (vm_store_disk_path) as a "json:{...}" image name
 * for qemu-img: the disk in @cfg->disk_format and, for an overlay, its
 * backing set to the base in @cfg->base_format with no backing of its own.
 * Newly allocated; NULL with VD_ERROR_INVALID when the VM has no disk or its
 * base format is unknown. */
char *vm_image_chain_spec(const VmConfig *cfg, const char *disk_path, GError **error);

/* Whether @cfg->base_format is recorded (raw or qcow2); else VD_ERROR_INVALID
 * saying how to record it. */
bool vm_image_base_format_check(const VmConfig *cfg, GError **error);

/* One image @path in @format ("raw" or "qcow2") with no backing file, as a
 * "json:{...}" image name. Newly allocated. */
char *vm_image_spec(const char *path, const char *format);

/* The virtual size of @path read as @format (qemu-img info -f, which never
 * opens a backing file). */
bool vm_image_virtual_size(const char *path, const char *format, uint64_t *bytes,
                           GError **error);

/* What a file the user has just named is (qemu-img info without -f: the one
 * place vmdesk probes, on a file no guest has written yet): its format, which
 * must be raw or qcow2, and no backing file of its own (a base must stand
 * alone, so that a chain never depends on a header; nor a qcow2 data file).
 * @what names the file in
 * errors ("the base"). */
bool vm_image_probe_user_file(const char *path, const char *what, char **format,
                              GError **error);

/* Configs from before base-format: the base's format as vmdesk recorded it
 * in the overlay @overlay's header when it made the overlay, or NULL when that
 * cannot be trusted: the header says qcow2 while the base, read as qcow2,
 * names a backing file (what a guest-written header looks like). */
char *vm_image_legacy_base_format(const char *overlay, const char *base);

/* Run qemu-img @argv (an --output=json form) for at most @timeout_ms and parse
 * what it prints: the root node, owned by @p. NULL with VD_ERROR_FAILED and
 * qemu-img's own message when it fails or prints no JSON. */
JsonNode *vm_image_run_json(const char *const *argv, int timeout_ms, JsonParser *p,
                            GError **error);

/* Whether @format may be recorded for a base or a disk: "raw" or "qcow2". */
bool vm_image_format_known(const char *format);
