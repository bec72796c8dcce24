/*
 * roster.c - roster files (YAML, JSON, CSV) into therapist records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "roster.h"

enum col_kind { COL_TEXT, COL_INT, COL_BOOL, COL_LIST, COL_CONCERNS, COL_STYLE, COL_HOURS };

static const struct {
	const char *name;
	enum col_kind kind;
} columns[] = {
	{ "external_ref", COL_TEXT },
	{ "display_name", COL_TEXT },
	{ "gender", COL_TEXT },
	{ "capacity", COL_INT },
	{ "self_pay_fee", COL_INT },
	{ "accepting_new", COL_BOOL },
	{ "active", COL_BOOL },
	{ "sliding_scale", COL_BOOL },
	{ "languages", COL_LIST },
	{ "modalities", COL_LIST },
	{ "formats", COL_LIST },
	{ "sites", COL_LIST },
	{ "populations", COL_LIST },
	{ "identity", COL_LIST },
	{ "payers", COL_LIST },
	{ "concerns", COL_CONCERNS },
	{ "directiveness", COL_STYLE },
	{ "emotional_intensity", COL_STYLE },
	{ "past_orientation", COL_STYLE },
	{ "challenge", COL_STYLE },
	{ "availability", COL_HOURS },
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static struct roster_record *
add_record(struct roster *r, unsigned line)
{
	struct roster_record *p;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		p = realloc(r->v, r->cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		r->v = p;
	}
	p = &r->v[r->n++];
	memset(p, 0, sizeof(*p));
	p->line = line;
	return p;
}

void
roster_clear(struct roster *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		json_decref(r->v[i].obj);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* ---- YAML and JSON -------------------------------------------------------- */

static int
load_doc(struct roster *r, const char *path, char *err, size_t errlen)
{
	struct roster_record *rec;
	struct doc d;
	json_t *list, *t;
	size_t i;

	if (doc_load(&d, path, err, errlen) != 0)
		return -1;
	list = json_is_object(d.root) ? json_object_get(d.root, "therapists") : d.root;
	if (!json_is_array(list)) {
		snprintf(err, errlen,
		    "%s: expected a list of therapists (or {\"therapists\": "
		    "[...]})",
		    path);
		doc_clear(&d);
		return -1;
	}
	json_array_foreach (list, i, t) {
		rec = add_record(r, doc_line(&d, t));
		if (rec == NULL)
			goto nomem;
		if (json_is_object(t)) {
			rec->obj = json_incref(t);
		} else {
			snprintf(rec->field, sizeof(rec->field), "[%zu]", i);
			snprintf(rec->error, sizeof(rec->error), "a therapist must be a mapping");
		}
	}
	doc_clear(&d);
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
	doc_clear(&d);
	return -1;
}

/* ---- CSV ------------------------------------------------------------------ */

struct csv_state {
	struct roster *r;
	json_t *row; /* owned: this row's cells (strings) */
	int *map;    /* owned: column index -> columns[] index */
	size_t ncols;
	unsigned line, row_line;
	int header_done, failed;
	const char *path;
	char *err; /* borrowed */
	size_t errlen;
};

static void
on_field(void *s, size_t len, void *data)
{
	struct csv_state *st = data;

	if (st->row_line == 0)
		st->row_line = st->line;
	if (json_array_append_new(st->row, json_stringn(s != NULL ? s : "", len)) != 0)
		st->failed = 1;
}

static int
header(struct csv_state *st)
{
	const json_t *cell;
	const char *name;
	size_t i, j;

	st->ncols = json_array_size(st->row);
	st->map = calloc(st->ncols ? st->ncols : 1, sizeof(int));
	if (st->map == NULL)
		return -1;
	json_array_foreach (st->row, i, cell) {
		name = json_string_value(cell);
		for (j = 0; j < NCOLUMNS && strcmp(columns[j].name, name) != 0; j++)
			;
		if (j == NCOLUMNS) {
			snprintf(st->err, st->errlen,
			    "%s:%u: unknown column \"%s\" (see "
			    "alliancectl(1) for the column mapping)",
			    st->path, st->row_line, name);
			return -1;
		}
		st->map[i] = (int)j;
	}
	return 0;
}

static int
parse_int(const char *s, json_int_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0') ? -1 : 0;
}

static json_t *
split(const char *s)
{
	json_t *arr = json_array();
	const char *p = s, *semi;
	size_t n;

	while (arr != NULL && *p != '\0') {
		semi = strchr(p, ';');
		n = semi != NULL ? (size_t)(semi - p) : strlen(p);
		while (n > 0 && (*p == ' '))
			p++, n--;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n > 0 && json_array_append_new(arr, json_stringn(p, n)) != 0) {
			json_decref(arr);
			return NULL;
		}
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	return arr;
}

/* "trauma:2;anxiety" -> {"trauma": 2, "anxiety": 1} */
static json_t *
concerns(const char *s, char *why, size_t whylen)
{
	json_t *parts = split(s), *obj = json_object(), *p;
	json_int_t level;
	char tag[64];
	const char *colon, *txt;
	size_t i;

	if (parts == NULL || obj == NULL)
		goto fail;
	json_array_foreach (parts, i, p) {
		txt = json_string_value(p);
		colon = strchr(txt, ':');
		level = 1;
		if (colon != NULL && parse_int(colon + 1, &level) != 0) {
			snprintf(why, whylen, "\"%s\" is not TAG or TAG:LEVEL", txt);
			goto fail;
		}
		snprintf(tag, sizeof(tag), "%.*s", colon ? (int)(colon - txt) : (int)strlen(txt),
		    txt);
		if (json_object_set_new(obj, tag, json_integer(level)) != 0)
			goto fail;
	}
	json_decref(parts);
	return obj;
fail:
	json_decref(parts);
	json_decref(obj);
	return NULL;
}

/* "mon 09:00-13:00;wed 14:00-18:00" -> [{"day":"mon","from":"09:00","to":"13:00"}, ...] */
static json_t *
hours(const char *s, char *why, size_t whylen)
{
	json_t *parts = split(s), *arr = json_array(), *p;
	char day[8], from[8], to[8], extra;
	size_t i;

	if (parts == NULL || arr == NULL)
		goto fail;
	json_array_foreach (parts, i, p) {
		if (sscanf(json_string_value(p), "%7s %7[0-9:]-%7[0-9:] %c", day, from, to,
		        &extra) != 3) {
			snprintf(why, whylen, "\"%s\" is not DAY HH:MM-HH:MM",
			    json_string_value(p));
			goto fail;
		}
		if (json_array_append_new(arr,
		        json_pack("{s:s, s:s, s:s}", "day", day, "from", from, "to", to)) != 0)
			goto fail;
	}
	json_decref(parts);
	return arr;
fail:
	json_decref(parts);
	json_decref(arr);
	return NULL;
}

/* One cell into OBJ; -1 with WHY when the text does not fit its column. */
static int
cell(json_t *obj, size_t col, const char *text, char *why, size_t whylen)
{
	const char *name = columns[col].name;
	json_int_t n;
	json_t *v = NULL, *style;

	switch (columns[col].kind) {
	case COL_TEXT: v = json_string(text); break;
	case COL_INT:
	case COL_STYLE:
		if (parse_int(text, &n) != 0) {
			snprintf(why, whylen, "\"%s\" is not an integer", text);
			return -1;
		}
		v = json_integer(n);
		break;
	case COL_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1"))
			v = json_true();
		else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "0"))
			v = json_false();
		else {
			snprintf(why, whylen, "\"%s\" is not true or false", text);
			return -1;
		}
		break;
	case COL_LIST: v = split(text); break;
	case COL_CONCERNS: v = concerns(text, why, whylen); break;
	case COL_HOURS: v = hours(text, why, whylen); break;
	}
	if (v == NULL) {
		if (why[0] == '\0')
			snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (columns[col].kind != COL_STYLE)
		return json_object_set_new(obj, name, v);
	style = json_object_get(obj, "style");
	if (style == NULL && json_object_set_new(obj, "style", style = json_object()) != 0) {
		json_decref(v);
		return -1;
	}
	return json_object_set_new(style, name, v);
}

static int
data_row(struct csv_state *st)
{
	struct roster_record *rec = add_record(st->r, st->row_line);
	const json_t *c;
	json_t *obj = json_object();
	size_t i;

	if (rec == NULL || obj == NULL) {
		json_decref(obj);
		return -1;
	}
	if (json_array_size(st->row) != st->ncols) {
		snprintf(rec->field, sizeof(rec->field), "(row)");
		snprintf(rec->error, sizeof(rec->error), "%zu cells, the header has %zu",
		    json_array_size(st->row), st->ncols);
		json_decref(obj);
		return 0;
	}
	json_array_foreach (st->row, i, c) {
		if (json_string_length(c) == 0)
			continue;
		if (strcmp(columns[st->map[i]].name, "external_ref") == 0)
			snprintf(rec->ref, sizeof(rec->ref), "%s", json_string_value(c));
		if (cell(obj, (size_t)st->map[i], json_string_value(c), rec->error,
		        sizeof(rec->error)) != 0) {
			snprintf(rec->field, sizeof(rec->field), "%s", columns[st->map[i]].name);
			json_decref(obj);
			return 0;
		}
	}
	rec->obj = obj;
	return 0;
}

static void
on_row(int c, void *data)
{
	struct csv_state *st = data;

	(void)c;
	if (!st->failed) {
		if (!st->header_done) {
			st->header_done = 1;
			if (header(st) != 0)
				st->failed = 1;
		} else if (data_row(st) != 0) {
			st->failed = 1;
		}
	}
	json_array_clear(st->row);
	st->row_line = 0;
}

static int
load_csv(struct roster *r, const char *path, char *err, size_t errlen)
{
	struct csv_state st = { .r = r, .path = path, .err = err, .errlen = errlen };
	struct csv_parser p;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = -1;

	err[0] = '\0';
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	st.row = json_array();
	if (st.row == NULL || csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) != 0)
		goto out_row;
	while (!st.failed && (n = getline(&buf, &cap, f)) > 0) {
		st.line++;
		if (csv_parse(&p, buf, (size_t)n, on_field, on_row, &st) != (size_t)n) {
			snprintf(err, errlen, "%s:%u: %s", path, st.line,
			    csv_strerror(csv_error(&p)));
			goto out;
		}
	}
	if (!st.failed && csv_fini(&p, on_field, on_row, &st) != 0) {
		snprintf(err, errlen, "%s:%u: %s", path, st.line, csv_strerror(csv_error(&p)));
		goto out;
	}
	if (!st.header_done && !st.failed) {
		snprintf(err, errlen, "%s: the file is empty (a header row is needed)", path);
		goto out;
	}
	rc = st.failed ? -1 : 0;
	if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "%s: out of memory", path);
out:
	csv_free(&p);
out_row:
	free(buf);
	free(st.map);
	json_decref(st.row);
	fclose(f);
	return rc;
}

int
roster_load(struct roster *r, const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path);
	int rc;

	memset(r, 0, sizeof(*r));
	if (n > 4 && strcasecmp(path + n - 4, ".csv") == 0)
		rc = load_csv(r, path, err, errlen);
	else
		rc = load_doc(r, path, err, errlen);
	if (rc != 0)
		roster_clear(r);
	return rc;
}
