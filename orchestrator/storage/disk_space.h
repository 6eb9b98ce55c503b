/* Free-space checks before anything writes a disk image, and estimates of
 * how much an image operation will write (qemu-img measure / info). Every
 * command that writes images calls these first, so that a full disk fails
 * with VD_ERROR_NO_SPACE (exit 7) before anything was touched. Blocking
 * (runs qemu-img); any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Fail with VD_ERROR_NO_SPACE, naming @what, @need and what is free, when
 * the file system holding @dir (a folder that exists) has less than @need
 * bytes available to us. A file system that cannot be queried passes (the
 * write itself reports then). */
bool disk_space_check(const char *dir, uint64_t need, const char *what, GError **error);

/* Bytes available to us on the file system holding @dir; 0 when unknown. */
uint64_t disk_space_free(const char *dir);

/* Bytes that converting image @src (format @src_format, NULL: probe, only for
 * a file the user has just named; or a "json:" image name from vm_image.h) into
 * @out_format will write: qemu-img measure for qcow2; for other formats
 * (raw is written sparse, vmdk and vhdx cannot be measured by qemu-img 7.2)
 * the qcow2 measure (allocated data plus metadata) with 1% and 2 MiB added
 * for the other format's metadata. VD_ERROR_NOT_FOUND when
 * @src cannot be opened, VD_ERROR_INVALID when qemu-img cannot read it. */
bool disk_space_measure(const char *src, const char *src_format, const char *out_format,
                        uint64_t *bytes, GError **error);

/* Bytes of host storage that image @path, in @format, itself occupies
 * ("actual-size" of qemu-img info; the file's allocated blocks when @format
 * is NULL or qemu-img fails); 0 when unknown. Works while QEMU has the image
 * open (qemu-img -U). */
uint64_t disk_space_allocated(const char *path, const char *format);

/* Bytes a file or a folder tree occupies (allocated blocks). */
uint64_t disk_space_tree_size(const char *path);
