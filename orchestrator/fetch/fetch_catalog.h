/* Known installer ISOs for `vmdesk fetch ID`: where they come from and how
 * they are verified. A built-in table; the folder URLs can be pointed at a
 * mirror (or a test server) with VMDESK_FETCH_MIRROR=URL, which replaces
 * every entry's folder. Pure data plus a small GET for checksum lists. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *id;            /* "debian-12-netinst" */
    const char *name;          /* for people */
    const char *arch;          /* the guest architecture it installs: "x86_64", "aarch64",
                                  or NULL for any (drivers) */
    const char *folder_url;    /* official folder, ends in '/' (NULL for manual entries) */
    const char *file;          /* file name, or a pattern with '*' looked up in the checksum
                                  list (the highest version wins) */
    const char *sha256;        /* a fixed digest, or NULL */
    const char *checksum_file; /* a SHA256SUMS-style list in the folder, or NULL */
    uint64_t approx_size;      /* bytes, about; 0 when unknown */
    const char *manual_page;   /* not downloadable by vmdesk: the official page, else NULL */
    const char *note;          /* why unverified, how to get it... or NULL */
} FetchCatalogEntry;

/* The table (static, never freed); *@n its length. Any thread. */
const FetchCatalogEntry *fetch_catalog_entries(size_t *n);
/* The entry for @id (case-insensitive), or NULL. */
const FetchCatalogEntry *fetch_catalog_find(const char *id);
/* The folder to download @e from: $VMDESK_FETCH_MIRROR (with a '/' added)
 * when set, else the official one. Caller frees; NULL for manual entries. */
char *fetch_catalog_folder(const FetchCatalogEntry *e);

/* What to download for an entry. */
typedef struct {
    char *url;          /* the file */
    char *file_name;    /* the default output name */
    char *sha256;       /* expected digest, or NULL (unverified) */
    char *checksum_url; /* where the digest came from, or NULL (fixed or none) */
} FetchCatalogTarget;

void fetch_catalog_target_clear(FetchCatalogTarget *t);
/* Fill @t for @e: fetches the checksum list when the entry has one (network,
 * blocking) and picks the file from it. VD_ERROR_INVALID for manual entries
 * (the message names the official page); VD_ERROR_NOT_FOUND when the list
 * has no matching file; network errors as fetch_get_text. */
bool fetch_catalog_resolve(const FetchCatalogEntry *e, FetchCatalogTarget *t, GError **error);

/* Find the file matching @pattern ('*' and '?' wildcards) in a checksum list
 * @text: GNU lines ("HEX  NAME", "HEX *NAME") or BSD lines
 * ("SHA256 (NAME) = HEX"); other lines (PGP armour) are skipped. Several
 * matches: the highest version (strverscmp). Sets *@name and *@sha256
 * (lowercase; caller frees) and returns true when found. */
bool fetch_checksum_list_find(const char *text, const char *pattern, char **name,
                              char **sha256);
