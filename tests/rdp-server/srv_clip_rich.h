/* The test server's clipboard pictures and files (srv_clip_rich.c says
 * what it offers and logs). The library's cliprdr thread only. */
#pragma once

#include "srv.h"

#include <freerdp/server/cliprdr.h>

typedef struct SrvClipRich SrvClipRich;

/* From --clipboard-offer @spec (NULL: nothing offered, the client's
 * pictures and files still fetched); NULL with @error on a bad spec. */
SrvClipRich *srv_clip_rich_new(const char *spec, GError **error);
void srv_clip_rich_free(SrvClipRich *r);
/* Our formats (at most 1) into @fmts; 0 when we offer nothing. */
UINT32 srv_clip_rich_formats(SrvClipRich *r, CLIPRDR_FORMAT *fmts);
/* The data of our format @id (caller frees), NULL if not ours. */
uint8_t *srv_clip_rich_data(SrvClipRich *r, UINT32 id, size_t *len);
/* Answer the client's FILECONTENTS request for our files. */
UINT srv_clip_rich_contents(SrvClipRich *r, CliprdrServerContext *ctx,
                            const CLIPRDR_FILE_CONTENTS_REQUEST *req);
/* What to ask of the client's list (files marked with bit 31), or 0. */
UINT32 srv_clip_rich_choose(SrvClipRich *r, const CLIPRDR_FORMAT_LIST *list);
/* The client's data for @chosen: a file list (then fetched) or a picture. */
UINT srv_clip_rich_response(SrvClipRich *r, CliprdrServerContext *ctx, UINT32 chosen,
                            const uint8_t *data, size_t len);
UINT srv_clip_rich_contents_response(SrvClipRich *r, CliprdrServerContext *ctx,
                                     const CLIPRDR_FILE_CONTENTS_RESPONSE *resp);
