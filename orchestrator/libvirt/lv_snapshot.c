/* libvirt snapshots of a domain. */
#include "libvirt/lv_snapshot.h"

#include "common/error.h"
#include "libvirt/lv_conn_priv.h"
#include "libvirt/lv_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

void lv_snapshot_free(LvSnapshot *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_free(s);
}

/* Name, creation time and state of snapshot description @xml. */
static LvSnapshot *parse(const char *xml)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "snapshot.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    LvSnapshot *s = g_new0(LvSnapshot, 1);
    for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *t = xmlNodeGetContent(n);
        const char *text = t ? (const char *)t : "";
        if (!strcmp((const char *)n->name, "name"))
            s->name = g_strdup(text);
        else if (!strcmp((const char *)n->name, "creationTime"))
            s->date = g_ascii_strtoll(text, NULL, 10);
        else if (!strcmp((const char *)n->name, "state"))
            s->live = strcmp(text, "shutoff") && strcmp(text, "disk-snapshot");
        xmlFree(t);
    }
    xmlFreeDoc(doc);
    if (!s->name) {
        lv_snapshot_free(s);
        return NULL;
    }
    return s;
}

static gint by_date(gconstpointer a, gconstpointer b)
{
    const LvSnapshot *x = *(LvSnapshot *const *)a, *y = *(LvSnapshot *const *)b;
    return x->date < y->date ? -1 : x->date > y->date ? 1 : strcmp(x->name, y->name);
}

GPtrArray *lv_snapshot_list(LvConn *c, const char *name, GError **error)
{
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return NULL;
    virDomainSnapshotPtr *snaps = NULL;
    int n = virDomainListAllSnapshots(d, &snaps, 0);
    if (n < 0) {
        lv_set_error(error, "cannot list the snapshots of domain \"%s\" on %s", name, c->uri);
        virDomainFree(d);
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)lv_snapshot_free);
    for (int i = 0; i < n; i++) {
        char *xml = virDomainSnapshotGetXMLDesc(snaps[i], 0);
        LvSnapshot *s = xml ? parse(xml) : NULL;
        if (s) {
            s->current = virDomainSnapshotIsCurrent(snaps[i], 0) == 1;
            g_ptr_array_add(out, s);
        }
        free(xml);
        virDomainSnapshotFree(snaps[i]);
    }
    free(snaps);
    virDomainFree(d);
    g_ptr_array_sort(out, by_date);
    return out;
}

/* Domain @name and its snapshot @tag (both to free), or false. */
static bool lookup(LvConn *c, const char *name, const char *tag, virDomainPtr *d,
                   virDomainSnapshotPtr *s, GError **error)
{
    *d = lv_lookup(c, name, error);
    if (!*d)
        return false;
    *s = virDomainSnapshotLookupByName(*d, tag, 0);
    if (*s)
        return true;
    g_set_error(error, VD_ERROR, VD_ERROR_NOT_FOUND,
                "domain \"%s\" on %s has no snapshot \"%s\" (vmdesk snapshot %s list)", name,
                c->uri, tag, name);
    virDomainFree(*d);
    return false;
}

bool lv_snapshot_save(LvConn *c, const char *name, const char *tag, bool *live, GError **error)
{
    if (!*tag) {
        g_set_error(error, VD_ERROR, VD_ERROR_INVALID, "a snapshot needs a name");
        return false;
    }
    virDomainPtr d = lv_lookup(c, name, error);
    if (!d)
        return false;
    virDomainSnapshotPtr old = virDomainSnapshotLookupByName(d, tag, 0);
    if (old) {
        virDomainSnapshotFree(old);
        virDomainFree(d);
        g_set_error(error, VD_ERROR, VD_ERROR_EXISTS,
                    "domain \"%s\" has a snapshot \"%s\" already; delete it first", name, tag);
        return false;
    }
    g_autofree char *xml = lv_xml_snapshot(tag, error);
    *live = virDomainIsActive(d) == 1;
    virDomainSnapshotPtr s = xml ? virDomainSnapshotCreateXML(d, xml, 0) : NULL;
    if (xml && !s)
        lv_set_error(error, "cannot take snapshot \"%s\" of domain \"%s\" on %s", tag, name,
                     c->uri);
    if (s)
        virDomainSnapshotFree(s);
    virDomainFree(d);
    return s != NULL;
}

bool lv_snapshot_restore(LvConn *c, const char *name, const char *tag, bool force, bool *live,
                         GError **error)
{
    virDomainPtr d;
    virDomainSnapshotPtr s;
    if (!lookup(c, name, tag, &d, &s, error))
        return false;
    bool ok = false;
    if (virDomainIsActive(d) == 1 && !force) {
        g_set_error(error, VD_ERROR, VD_ERROR_STATE,
                    "domain \"%s\" is running: restoring \"%s\" loses its current state; stop "
                    "it first or add --force",
                    name, tag);
    } else if (virDomainRevertToSnapshot(s, 0) < 0) {
        lv_set_error(error, "cannot restore snapshot \"%s\" of domain \"%s\" on %s", tag, name,
                     c->uri);
    } else {
        *live = virDomainIsActive(d) == 1;
        ok = true;
    }
    virDomainSnapshotFree(s);
    virDomainFree(d);
    return ok;
}

bool lv_snapshot_delete(LvConn *c, const char *name, const char *tag, GError **error)
{
    virDomainPtr d;
    virDomainSnapshotPtr s;
    if (!lookup(c, name, tag, &d, &s, error))
        return false;
    bool ok = virDomainSnapshotDelete(s, 0) == 0;
    if (!ok)
        lv_set_error(error, "cannot delete snapshot \"%s\" of domain \"%s\" on %s", tag, name,
                     c->uri);
    virDomainSnapshotFree(s);
    virDomainFree(d);
    return ok;
}
