/* The staging folder of one paste of the server's files on the host, and
 * the bookkeeping of its fetch.
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
 * The bytes written are bounded: each file at most what the server
 * announced for it, and all of them at most the stage's limit, the smaller
 * of a cap (CLIP_STAGE_CAP by default) and the free space of ROOT less a
 * margin (CLIP_STAGE_MARGIN_MIN, or a twentieth of the file system if
 * more): $XDG_RUNTIME_DIR is a small tmpfs every program of the user
 * shares. A list whose announced total is beyond the limit is refused
 * before a byte comes, and so is a file whose size, announced late, would
 * take the total beyond it.
 *
 * A streamed stage (clip_stage_create_streamed) keeps the same bookkeeping
 * and checks but writes nothing: its bytes go to a ClipStageSink (the
 * confined session's helper sends them to the window, which stages them in
 * a folder of its own; session/helper/helper.h).
 *
 * One thread at a time (the session thread writes, then hands the paths on). */
#pragma once

#include "session/clip_files.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define CLIP_STAGE_CAP (G_GUINT64_CONSTANT(4) << 30)       /* bytes of one paste, at most */
#define CLIP_STAGE_MARGIN_MIN (G_GUINT64_CONSTANT(64) << 20) /* free space left to the others */

typedef struct ClipStage ClipStage;

/* Where a streamed stage's bytes go. Each returns false (with @error) when
 * they cannot go on; the stage's caller then cancels. Called on the
 * stage's thread. */
typedef struct {
    /* The copy begins: the server's list as it came (@len bytes). */
    bool (*start)(void *data, const uint8_t *list, size_t len, GError **error);
    /* File @index of the list begins; it has @size bytes (known now). */
    bool (*file)(void *data, guint index, uint64_t size, GError **error);
    /* The next bytes of that file. */
    bool (*write)(void *data, const uint8_t *bytes, size_t len, GError **error);
    /* The copy ended: @complete (every file came whole) or given up. */
    void (*finish)(void *data, bool complete);
} ClipStageSink;

/* A new staging folder for @list (copied) under @root (NULL: the default),
 * with the list's folders made, writing at most @cap bytes in all (0:
 * CLIP_STAGE_CAP; less when the free space is less, see above). Fails
 * (VD_ERROR_NO_SPACE) when the sizes announced are beyond that limit, or
 * when a folder cannot be made. Staging folders of processes that are gone
 * (paste-PID-*, no such PID) are removed from @root first. */
ClipStage *clip_stage_create(const char *root, const ClipFileList *list, uint64_t cap,
                             GError **error);

/* A stage for @list (copied) that writes nothing: @sink (borrowed, with
 * @data) gets the list's @raw bytes now, then each file's size and bytes.
 * Fails with the error of @sink's start. */
ClipStage *clip_stage_create_streamed(const ClipFileList *list, const uint8_t *raw,
                                      size_t raw_len, const ClipStageSink *sink, void *data,
                                      GError **error);

/* Remove @name under @dir_fd and everything in it, following no link. */
void clip_stage_rm_tree_at(int dir_fd, const char *name);
/* The same for the absolute @path. */
void clip_stage_rm_path(const char *path);

/* Remove the staging folder and everything in it, and free @st. A streamed
 * stage not finished tells its sink it was given up. NULL is fine. */
void clip_stage_destroy(ClipStage *st);

const ClipFileList *clip_stage_list(const ClipStage *st);

/* Start file @index of the list: opens its partial file. The size the
 * server announced, when the descriptor had none, comes with
 * clip_stage_set_size() before the first write. Fails (VD_ERROR_INVALID)
 * for an index that is no file of the list or one that already came. */
bool clip_stage_begin(ClipStage *st, guint index, GError **error);
/* Fails with VD_ERROR_INVALID when it differs from the size announced
 * before, VD_ERROR_NO_SPACE when it takes the total beyond the limit. */
bool clip_stage_set_size(ClipStage *st, uint64_t size, GError **error);
/* Append @len bytes to the open file; more than announced is refused
 * (VD_ERROR_INVALID), as is a write beyond the limit (VD_ERROR_NO_SPACE,
 * also when the file system is full). */
bool clip_stage_write(ClipStage *st, const uint8_t *data, size_t len, GError **error);
/* How many bytes the open file still waits for. */
uint64_t clip_stage_missing(const ClipStage *st);
/* Whether a file is open (begun, not yet ended or aborted). */
bool clip_stage_is_open(const ClipStage *st);
/* The open file is complete: fewer bytes than announced are refused (the
 * partial file is removed), else it is renamed to its final name. */
bool clip_stage_end(ClipStage *st, GError **error);
/* Drop the open file's partial bytes, if a file is open. */
void clip_stage_abort(ClipStage *st);

/* Whether every file of the list came whole. */
bool clip_stage_complete(const ClipStage *st);
/* The copy is complete: a streamed stage tells its sink. */
void clip_stage_finish(ClipStage *st);

/* Bytes written so far and announced in all (files with a known size). */
void clip_stage_progress(const ClipStage *st, uint64_t *done, uint64_t *total);
/* The most the stage writes in all. */
uint64_t clip_stage_limit(const ClipStage *st);

/* The absolute host paths of the list's top entries (what a file manager
 * pastes), NULL-terminated; caller frees with g_strfreev. NULL for a
 * streamed stage. */
char **clip_stage_paths(const ClipStage *st);
