/* What the shell completions and the reference generator ask the program:
 * VM names and snapshot tags at Tab time, the command table at build time. */
#include "cli/cli.h"

#include "storage/vm_snapshot.h"
#include "vm/vm_store.h"

#include <stdio.h>
#include <string.h>

/* Completion runs on every Tab: it prints what it finds and never an error
 * (a damaged config or a VM without a qcow2 disk just offers nothing). */
int cli_complete(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "vms")) {
        g_auto(GStrv) names = vm_store_list(NULL);
        for (char **n = names; n && *n; n++)
            printf("%s\n", *n);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "snapshots")) {
        if (!vm_store_exists(argv[2]))
            return 0;
        g_autoptr(GPtrArray) list = vm_snapshot_list(argv[2], NULL);
        for (guint i = 0; list && i < list->len; i++)
            printf("%s\n", ((VmSnapshot *)g_ptr_array_index(list, i))->tag);
        return 0;
    }
    fprintf(stderr, "vmdesk __complete: vms | snapshots NAME\n");
    return 2;
}

static void add_words(JsonBuilder *b, const char *member, const char *words)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_array(b);
    g_auto(GStrv) list = g_strsplit(words ? words : "", " ", -1);
    for (char **w = list; *w; w++)
        if (**w)
            json_builder_add_string_value(b, *w);
    json_builder_end_array(b);
}

int cli_reference(const CliCommand *commands, size_t n)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_array(b);
    for (size_t i = 0; i < n; i++) {
        const CliCommand *c = &commands[i];
        if (!c->synopsis)
            continue;
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, c->name);
        json_builder_set_member_name(b, "synopsis");
        json_builder_add_string_value(b, c->synopsis);
        json_builder_set_member_name(b, "summary");
        json_builder_add_string_value(b, c->summary);
        add_words(b, "verbs", c->verbs);
        add_words(b, "operands", c->operands);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    cli_print_json(root);
    return 0;
}
