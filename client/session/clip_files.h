/* Clipboard file lists (MS-RDPECLIP 2.2.5.2.3.1, CLIPRDR_FILELIST: a count,
 * then one 592-byte FILEDESCRIPTORW per file) and the host's lists of
 * copied files (text/uri-list, x-special/gnome-copied-files). Pure: no
 * FreeRDP type, no X call; any thread.
 *
 * Every list from a server is hostile. clip_files_parse() takes only names a
 * staging folder can hold without leaving it: relative, '/'-separated once
 * parsed, no empty, "." or ".." component, no drive letter or ':' at all, no
 * control character, no '/' inside a Windows name, no component longer than
 * CLIP_FILES_COMPONENT_MAX bytes, no name given twice, at most
 * CLIP_FILES_MAX entries. A refused list is refused whole, with an error
 * that names the first bad entry (quoted, see common/text.h). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define CLIP_FILE_DESCRIPTOR_SIZE 592
#define CLIP_FILES_MAX 10000          /* entries in one list */
#define CLIP_FILES_COMPONENT_MAX 255  /* bytes of one name component (NAME_MAX) */
#define CLIP_FILES_NAME_UNITS 260     /* cFileName: UTF-16 units, the NUL included */

/* FILEDESCRIPTORW.dwFlags and dwFileAttributes bits used here. */
#define CLIP_FD_ATTRIBUTES 0x00000004
#define CLIP_FD_WRITESTIME 0x00000020
#define CLIP_FD_FILESIZE 0x00000040
#define CLIP_FD_SHOWPROGRESSUI 0x00004000
#define CLIP_FILE_ATTRIBUTE_DIRECTORY 0x00000010
#define CLIP_FILE_ATTRIBUTE_NORMAL 0x00000080

typedef struct {
    char *name;      /* relative, '/'-separated, UTF-8 */
    bool is_dir;
    bool has_size;   /* the descriptor had FD_FILESIZE */
    uint64_t size;   /* bytes (files only) */
    int64_t mtime;   /* seconds since 1970, 0 when unknown */
    uint64_t dev, ino; /* the host's file as collected (clip_files_collect), else 0 */
} ClipFile;

typedef struct {
    ClipFile *files;
    guint n;
} ClipFileList;

/* Parse the server's FileGroupDescriptorW data (@len bytes at @data) into
 * @out (cleared first; the caller clears it with clip_file_list_clear).
 * Fails with VD_ERROR_PROTOCOL (a broken list) or VD_ERROR_INVALID (a name
 * or size refused); @out is then empty. */
bool clip_files_parse(const uint8_t *data, size_t len, ClipFileList *out, GError **error);

/* The FileGroupDescriptorW data for @list (names '/'-separated, as collected
 * by clip_files_collect): a new buffer of *@len bytes (caller frees). Fails
 * with VD_ERROR_INVALID when a name does not fit a descriptor. */
uint8_t *clip_files_build(const ClipFileList *list, size_t *len, GError **error);

/* Whether @name (UTF-8, '/'-separated) is a name clip_files_parse() would
 * take; the error says why not. */
bool clip_files_name_check(const char *name, GError **error);

/* The host's copied files: @data (@len bytes) as text/uri-list (RFC 2483:
 * CRLF or LF lines, '#' comments) or x-special/gnome-copied-files (a first
 * line "copy" or "cut", then URIs). Only file:// URIs on this host are
 * taken; returns the local paths (NULL-terminated, caller frees with
 * g_strfreev), or NULL with VD_ERROR_INVALID when none is usable. */
char **clip_files_from_uri_list(const char *data, size_t len, bool gnome, GError **error);

/* The text/uri-list (@gnome false) or x-special/gnome-copied-files ("copy"
 * first) text for the absolute @paths. Caller frees. */
char *clip_files_to_uri_list(const char *const *paths, bool gnome);

/* The file list for the host's @paths: each path under its own base name,
 * a folder with everything in it (symbolic links inside folders are left
 * out, as is what cannot be read), at most CLIP_FILES_MAX entries.
 * @sources gets the absolute host path of each entry, in order (caller
 * frees with g_strfreev). Fails with VD_ERROR_NOT_FOUND or VD_ERROR_INVALID. */
bool clip_files_collect(const char *const *paths, ClipFileList *out, char ***sources,
                        GError **error);

/* Open @source, the host's file @f as clip_files_collect found it, to read
 * for the server: a descriptor, or -1 with errno (ELOOP: a symbolic link
 * now; ESTALE: another file or no plain file now, e.g. a folder on the
 * way swapped for a link by a guest writing to a shared folder). Never
 * follows a link, never blocks on a FIFO. */
int clip_files_open_source(const ClipFile *f, const char *source);

void clip_file_list_clear(ClipFileList *list);

/* Windows FILETIME (100 ns since 1601) <-> seconds since 1970. */
int64_t clip_files_filetime_to_unix(uint64_t ft);
uint64_t clip_files_unix_to_filetime(int64_t t);
