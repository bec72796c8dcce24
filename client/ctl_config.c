/*
 * ctl_config.c - listen.unix from the daemon's configuration file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "ctl_config.h"

/* The value node of KEY in mapping node MAP, or NULL. */
static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(doc, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

int
ctl_config_socket(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *unix_node;
	FILE *f;
	int rc = -1;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail_file;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
		    parser.problem != NULL ? parser.problem : "invalid YAML");
		goto fail_parser;
	}
	unix_node =
	    map_get(&doc, map_get(&doc, yaml_document_get_root_node(&doc), "listen"), "unix");
	if (unix_node == NULL || unix_node->type != YAML_SCALAR_NODE) {
		rc = 1;
	} else if (unix_node->data.scalar.length >= outlen) {
		snprintf(err, errlen, "%s: listen.unix is too long", path);
	} else {
		memcpy(out, unix_node->data.scalar.value, unix_node->data.scalar.length);
		out[unix_node->data.scalar.length] = '\0';
		rc = 0;
	}
	yaml_document_delete(&doc);
fail_parser:
	yaml_parser_delete(&parser);
fail_file:
	fclose(f);
	return rc;
}
