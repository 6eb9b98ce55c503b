#include "common/json_build.h"

void vd_json_add_string_or_null(JsonBuilder *b, const char *member, const char *value)
{
    json_builder_set_member_name(b, member);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

char *vd_json_node_to_string(JsonNode *node, gboolean pretty)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, pretty);
    json_generator_set_root(gen, node);
    return json_generator_to_data(gen, NULL);
}

char *vd_json_builder_to_string(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return vd_json_node_to_string(root, FALSE);
}
