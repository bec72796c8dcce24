/*
 * doc.c - libyaml events to Jansson values, with the line of each mapping.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "doc.h"

struct reader {
	yaml_parser_t parser;
	struct doc *doc;
	char *err; /* borrowed: the caller's buffer */
	size_t errlen;
	const char *path;
};

static json_t *read_node(struct reader *r, yaml_event_t *ev, int depth);

static int
fail_at(struct reader *r, size_t line, const char *what)
{
	snprintf(r->err, r->errlen, "%s:%zu: %s", r->path, line + 1, what);
	return -1;
}

static int
next_event(struct reader *r, yaml_event_t *ev)
{
	if (yaml_parser_parse(&r->parser, ev))
		return 0;
	return fail_at(r, r->parser.problem_mark.line,
	    r->parser.problem != NULL ? r->parser.problem : "invalid YAML or JSON");
}

static int
matches(const char *s, const char *pattern)
{
	regex_t re;
	int ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* YAML 1.2 core schema for plain scalars. */
static json_t *
plain_scalar(const char *s)
{
	if (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return json_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		return json_true();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		return json_false();
	if (matches(s, "^[-+]?[0-9]{1,18}$"))
		return json_integer(strtoll(s, NULL, 10));
	if (matches(s,
	        "^[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$"))
		return json_real(strtod(s, NULL));
	return json_string(s);
}

static int
remember_line(struct reader *r, const json_t *v, size_t line)
{
	struct doc *d = r->doc;
	struct doc_line *p;

	if (d->nlines == d->caplines) {
		d->caplines = d->caplines ? d->caplines * 2 : 64;
		p = realloc(d->lines, d->caplines * sizeof(*p));
		if (p == NULL)
			return -1;
		d->lines = p;
	}
	d->lines[d->nlines].value = v;
	d->lines[d->nlines].line = (unsigned)line + 1;
	d->nlines++;
	return 0;
}

static json_t *
read_mapping(struct reader *r, size_t line, int depth)
{
	json_t *obj = json_object(), *key = NULL, *val;
	yaml_event_t ev;

	if (obj == NULL || remember_line(r, obj, line) != 0)
		goto nomem;
	for (;;) {
		if (next_event(r, &ev) != 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return obj;
		}
		key = read_node(r, &ev, depth + 1);
		if (key == NULL)
			goto fail;
		if (!json_is_string(key)) {
			fail_at(r, line, "a mapping key must be a string");
			goto fail;
		}
		if (json_object_get(obj, json_string_value(key)) != NULL) {
			snprintf(r->err, r->errlen, "%s:%zu: duplicate key \"%s\"", r->path,
			    line + 1, json_string_value(key));
			goto fail;
		}
		if (next_event(r, &ev) != 0)
			goto fail;
		val = read_node(r, &ev, depth + 1);
		if (val == NULL || json_object_set_new(obj, json_string_value(key), val) != 0)
			goto fail;
		json_decref(key);
		key = NULL;
	}
nomem:
	snprintf(r->err, r->errlen, "%s: out of memory", r->path);
fail:
	json_decref(key);
	json_decref(obj);
	return NULL;
}

static json_t *
read_sequence(struct reader *r, int depth)
{
	json_t *arr = json_array(), *v;
	yaml_event_t ev;

	if (arr == NULL)
		goto fail;
	for (;;) {
		if (next_event(r, &ev) != 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		v = read_node(r, &ev, depth + 1);
		if (v == NULL || json_array_append_new(arr, v) != 0)
			goto fail;
	}
fail:
	json_decref(arr);
	return NULL;
}

/* Consumes EV (and the events of its children); a new value or NULL. */
static json_t *
read_node(struct reader *r, yaml_event_t *ev, int depth)
{
	size_t line = ev->start_mark.line;
	json_t *v = NULL;

	if (depth > 32) {
		fail_at(r, line, "nested too deeply");
		yaml_event_delete(ev);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			v = plain_scalar((const char *)ev->data.scalar.value);
		else
			v = json_stringn((const char *)ev->data.scalar.value,
			    ev->data.scalar.length);
		if (v == NULL)
			fail_at(r, line, "invalid text (not UTF-8?)");
		yaml_event_delete(ev);
		return v;
	case YAML_MAPPING_START_EVENT: yaml_event_delete(ev); return read_mapping(r, line, depth);
	case YAML_SEQUENCE_START_EVENT: yaml_event_delete(ev); return read_sequence(r, depth);
	case YAML_ALIAS_EVENT: fail_at(r, line, "YAML aliases are not supported"); break;
	default: fail_at(r, line, "unexpected YAML event"); break;
	}
	yaml_event_delete(ev);
	return NULL;
}

/* Stream start, document start, the root, document end, stream end. */
static int
read_document(struct reader *r)
{
	yaml_event_t ev;
	int i;

	for (i = 0; i < 2; i++) {
		if (next_event(r, &ev) != 0)
			return -1;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return fail_at(r, 0, "the file is empty");
		}
		yaml_event_delete(&ev);
	}
	if (next_event(r, &ev) != 0)
		return -1;
	r->doc->root = read_node(r, &ev, 0);
	if (r->doc->root == NULL)
		return -1;
	if (next_event(r, &ev) != 0)
		return -1;
	yaml_event_delete(&ev);
	if (next_event(r, &ev) != 0)
		return -1;
	if (ev.type != YAML_STREAM_END_EVENT) {
		fail_at(r, ev.start_mark.line, "only one document per file");
		yaml_event_delete(&ev);
		return -1;
	}
	yaml_event_delete(&ev);
	return 0;
}

int
doc_load(struct doc *d, const char *path, char *err, size_t errlen)
{
	struct reader r = { .doc = d, .err = err, .errlen = errlen, .path = path };
	FILE *f;
	int rc;

	memset(d, 0, sizeof(*d));
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&r.parser)) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
		goto out;
	}
	yaml_parser_set_input_file(&r.parser, f);
	rc = read_document(&r);
	yaml_parser_delete(&r.parser);
	if (rc != 0)
		doc_clear(d);
out:
	if (f != stdin)
		fclose(f);
	return rc;
}

void
doc_clear(struct doc *d)
{
	json_decref(d->root);
	free(d->lines);
	memset(d, 0, sizeof(*d));
}

unsigned
doc_line(const struct doc *d, const json_t *v)
{
	size_t i;

	for (i = 0; i < d->nlines; i++)
		if (d->lines[i].value == v)
			return d->lines[i].line;
	return 0;
}
