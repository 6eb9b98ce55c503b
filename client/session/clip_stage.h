/* The staging folder of one paste of the server's files on the host.
 *
 * Layout: ROOT/paste-PID-XXXXXX/ (0700), holding files/ (the list's tree,
 * under the names clip_files_parse() took) and partial/ (what is being
 * written). A file is written as partial/N and renamed to its place in
 * files/ only once exactly the announced bytes came, so nothing partial is
 * ever under a final name. Every open below the staging folder goes
 * component by component with O_NOFOLLOW from a folder descriptor: nothing
 * is written outside it whatever the names. ROOT defaults to
 * $XDG_RUNTIME_DIR/vmdesk/clipboard (GLib falls back to the cache folder).
 *
 * One thread at a time (the session thread writes, then hands the paths on). */
#pragma once

#include "session/clip_files.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ClipStage ClipStage;

/* A new staging folder for @list (copied) under @root (NULL: the default),
 * with the list's folders made. Fails (VD_ERROR_NO_SPACE) when the sizes
 * announced do not fit in the free space there, or when a folder cannot be
 * made. */
ClipStage *clip_stage_create(const char *root, const ClipFileList *list, GError **error);

/* Remove @name under @dir_fd and everything in it, following no link. */
void clip_stage_rm_tree_at(int dir_fd, const char *name);
/* The same for the absolute @path. */
void clip_stage_rm_path(const char *path);

/* Remove the staging folder and everything in it, and free @st. NULL is fine. */
void clip_stage_destroy(ClipStage *st);

const ClipFileList *clip_stage_list(const ClipStage *st);

/* Start file @index of the list: opens its partial file. The size the
 * server announced, when the descriptor had none, comes with
 * clip_stage_set_size() before the first write. */
bool clip_stage_begin(ClipStage *st, guint index, GError **error);
bool clip_stage_set_size(ClipStage *st, uint64_t size, GError **error);
/* Append @len bytes to the open file; more than announced is refused. */
bool clip_stage_write(ClipStage *st, const uint8_t *data, size_t len, GError **error);
/* How many bytes the open file still waits for. */
uint64_t clip_stage_missing(const ClipStage *st);
/* The open file is complete: fewer bytes than announced are refused (the
 * partial file is removed), else it is renamed to its final name. */
bool clip_stage_end(ClipStage *st, GError **error);
/* Drop the open file's partial bytes, if a file is open. */
void clip_stage_abort(ClipStage *st);

/* Bytes written so far and announced in all (files with a known size). */
void clip_stage_progress(const ClipStage *st, uint64_t *done, uint64_t *total);

/* The absolute host paths of the list's top entries (what a file manager
 * pastes), NULL-terminated; caller frees with g_strfreev. */
char **clip_stage_paths(const ClipStage *st);
