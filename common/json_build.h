/* Small helpers for building JSON with json-glib's JsonBuilder, so that the
 * places that write JSON (the CLI's --json output, saved state files) say one
 * thing one way. Pure; any thread (each builder belongs to its caller). */
#pragma once

#include <json-glib/json-glib.h>

/* "@member": "@value", or "@member": null when @value is NULL. */
void vd_json_add_string_or_null(JsonBuilder *b, const char *member, const char *value);

/* @node as JSON text, compact or @pretty. Newly allocated; @node is borrowed. */
char *vd_json_node_to_string(JsonNode *node, gboolean pretty);

/* The finished builder @b's root as compact JSON text. Newly allocated. */
char *vd_json_builder_to_string(JsonBuilder *b);
