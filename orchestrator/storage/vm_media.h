/* A VM's CD drive (cd0, always present): insert and eject media while the VM
 * runs (QMP) or while it is stopped (the config's iso= for the next start);
 * both update the config, so the medium survives a restart. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    bool tray_open;
    char *medium;   /* the image in the drive, or NULL (empty) */
} VmCdrom;

void vm_cdrom_clear(VmCdrom *cd);

/* What QEMU says of the running VM's drive (VD_ERROR_STATE when stopped). */
bool vm_cdrom_query(const char *name, VmCdrom *cd, GError **error);
/* Put the image at @path (any file QEMU reads as raw: an ISO) in the drive.
 * *@live: the running guest got it now (else at the next start). */
bool vm_cdrom_insert(const char *name, const char *path, bool *live, GError **error);
bool vm_cdrom_eject(const char *name, bool *live, GError **error);

/* Is @path a CD image: a readable file with an ISO 9660 ("CD001") or UDF
 * ("BEA01") volume descriptor at byte 32769? VD_ERROR_NOT_FOUND when it
 * cannot be read, VD_ERROR_INVALID (naming the file) when it is something
 * else. Reads 6 bytes; any thread. */
bool vm_media_check_iso(const char *path, GError **error);
