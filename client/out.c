/*
 * out.c - tables (libsmartcols), object views and JSON printing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libsmartcols.h>

#include "out.h"

struct out_table {
	struct libscols_table *tb;  /* owned */
	struct libscols_line *line; /* the last row, owned by tb */
};

void
out_init(struct out *o, bool json)
{
	const char *nc = getenv("NO_COLOR");

	o->json = json;
	o->color = isatty(STDOUT_FILENO) && (nc == NULL || nc[0] == '\0');
}

struct out_table *
out_table_new(const struct out *o, const char *const *cols, size_t ncols)
{
	struct out_table *t = calloc(1, sizeof(*t));
	char name[64];
	size_t i, n;
	int flags;

	if (t == NULL)
		return NULL;
	t->tb = scols_new_table();
	if (t->tb == NULL)
		goto fail;
	scols_table_enable_colors(t->tb, o->color);
	for (i = 0; i < ncols; i++) {
		snprintf(name, sizeof(name), "%s", cols[i]);
		n = strlen(name);
		flags = 0;
		if (n > 0 && name[n - 1] == '>') {
			flags = SCOLS_FL_RIGHT;
			name[--n] = '\0';
		} else if (n > 0 && name[n - 1] == '~') {
			flags = SCOLS_FL_WRAP;
			name[--n] = '\0';
		}
		if (scols_table_new_column(t->tb, name, flags == SCOLS_FL_WRAP ? 0.5 : 0, flags) ==
		    NULL)
			goto fail;
	}
	return t;
fail:
	out_table_free(t);
	return NULL;
}

int
out_row(struct out_table *t)
{
	t->line = scols_table_new_line(t->tb, NULL);
	return t->line != NULL ? 0 : -1;
}

int
out_cell(struct out_table *t, size_t col, const char *text, const char *color)
{
	struct libscols_cell *ce;

	if (t->line == NULL)
		return -1;
	if (scols_line_set_data(t->line, col, text != NULL ? text : "-") != 0)
		return -1;
	if (color != NULL) {
		ce = scols_line_get_cell(t->line, col);
		if (ce == NULL || scols_cell_set_color(ce, color) != 0)
			return -1;
	}
	return 0;
}

int
out_cellf(struct out_table *t, size_t col, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return out_cell(t, col, buf, NULL);
}

int
out_table_print(struct out_table *t)
{
	int rc = scols_print_table(t->tb);

	out_table_free(t);
	fflush(stdout);
	return rc == 0 ? 0 : -1;
}

void
out_table_free(struct out_table *t)
{
	if (t == NULL)
		return;
	scols_unref_table(t->tb);
	free(t);
}

static char *
scalar_text(const json_t *v)
{
	char *s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING: return strdup(json_string_value(v));
	case JSON_INTEGER:
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
			return NULL;
		return s;
	case JSON_REAL:
		if (asprintf(&s, "%g", json_real_value(v)) < 0)
			return NULL;
		return s;
	case JSON_TRUE: return strdup("yes");
	case JSON_FALSE: return strdup("no");
	case JSON_NULL: return strdup("-");
	default: return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	}
}

char *
out_text(const json_t *v)
{
	char *s = NULL, *part, *tmp;
	const json_t *e;
	size_t i;

	if (v == NULL)
		return strdup("-");
	if (!json_is_array(v))
		return scalar_text(v);
	if (json_array_size(v) == 0)
		return strdup("-");
	json_array_foreach (v, i, e) {
		part = scalar_text(e);
		if (part == NULL)
			goto fail;
		if (asprintf(&tmp, "%s%s%s", s != NULL ? s : "", s != NULL ? ", " : "", part) < 0) {
			free(part);
			goto fail;
		}
		free(part);
		free(s);
		s = tmp;
	}
	return s;
fail:
	free(s);
	return NULL;
}

int
out_object(const struct out *o, const json_t *obj)
{
	static const char *const cols[] = { "FIELD", "VALUE~" };
	struct out_table *t = out_table_new(o, cols, 2);
	const char *key;
	json_t *v;
	char *text;

	if (t == NULL)
		return -1;
	scols_table_enable_noheadings(t->tb, 1);
	json_object_foreach ((json_t *)obj, key, v) {
		text = out_text(v);
		if (text == NULL || out_row(t) != 0 || out_cell(t, 0, key, NULL) != 0 ||
		    out_cell(t, 1, text, out_status_color(json_string_value(v))) != 0) {
			free(text);
			goto fail;
		}
		free(text);
	}
	return out_table_print(t);
fail:
	out_table_free(t);
	return -1;
}

void
out_raw(const char *body)
{
	size_t n = strlen(body);

	fputs(body, stdout);
	if (n == 0 || body[n - 1] != '\n')
		putchar('\n');
	fflush(stdout);
}

int
out_json(const json_t *v)
{
	int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	putchar('\n');
	fflush(stdout);
	return rc;
}

int
out_listing_end(bool print, const char *key, json_t *all, json_t *next, struct out_table *t)
{
	json_t *wrap = NULL;
	int rc = 0;

	if (print && all != NULL) {
		wrap = json_pack("{s:O, s:O}", key, all, "next", next);
		rc = wrap == NULL || out_json(wrap) != 0 ? -1 : 0;
	} else if (print && t != NULL) {
		rc = out_table_print(t); /* frees t */
		t = NULL;
	}
	json_decref(wrap);
	json_decref(all);
	json_decref(next);
	out_table_free(t);
	return rc;
}

const char *
out_status_color(const char *word)
{
	static const struct {
		const char *word, *color;
	} colors[] = {
		{ "unsafe", "red" },
		{ "mismatch", "red" },
		{ "refer", "red" },
		{ "review", "red" },
		{ "not_ready", "red" },
		{ "disengaging", "yellow" },
		{ "strained", "yellow" },
		{ "discuss", "yellow" },
		{ "reach_out", "yellow" },
		{ "forming", "cyan" },
		{ "transference", "cyan" },
		{ "strong", "green" },
		{ "repaired", "green" },
		{ "continue", "green" },
		{ "ready", "green" },
		{ "ok", "green" },
	};
	size_t i;

	if (word == NULL)
		return NULL;
	for (i = 0; i < sizeof(colors) / sizeof(colors[0]); i++)
		if (strcmp(word, colors[i].word) == 0)
			return colors[i].color;
	return NULL;
}

void
out_paint(const struct out *o, const char *color, const char *text)
{
	static const struct {
		const char *name, *code;
	} codes[] = {
		{ "red", "\033[31m" },
		{ "green", "\033[32m" },
		{ "yellow", "\033[33m" },
		{ "cyan", "\033[36m" },
		{ "bold", "\033[1m" },
	};
	size_t i;

	if (o->color && color != NULL)
		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			if (strcmp(codes[i].name, color) == 0) {
				printf("%s%s\033[0m", codes[i].code, text);
				return;
			}
	fputs(text, stdout);
}
