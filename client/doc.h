/*
 * doc.h - YAML or JSON input files (a therapist, an intake, a roster) read
 * with libyaml into Jansson values, remembering the line of every mapping
 * so that errors can name it.  JSON is read by the same parser: a JSON
 * document is a YAML flow document.  Plain scalars follow the YAML 1.2 core
 * schema (null, true/false, integers, floats), quoted scalars are strings.
 *
 * Ownership: struct doc owns its root and its line table; doc_clear()
 * frees both.  doc_line() returns a line for a value borrowed from root.
 */
#ifndef DOC_H
#define DOC_H

#include <stddef.h>

#include <jansson.h>

struct doc_line {
	const json_t *value; /* borrowed from root: a mapping */
	unsigned line;       /* 1-based */
};

struct doc {
	json_t *root;           /* owned */
	struct doc_line *lines; /* owned */
	size_t nlines, caplines;
};

/* 0, or -1 with "FILE:LINE: problem" in ERR.  PATH "-" is stdin. */
int doc_load(struct doc *d, const char *path, char *err, size_t errlen);
void doc_clear(struct doc *d);
/* The line where mapping V starts, 0 when unknown. */
unsigned doc_line(const struct doc *d, const json_t *v);

#endif
