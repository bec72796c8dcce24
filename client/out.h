/*
 * out.h - what alliancectl prints: aligned tables through libsmartcols
 * (fitted to the terminal, colour only on a terminal without NO_COLOR),
 * key/value views of one object, and the daemon's JSON for --json.
 *
 * Ownership: an out_table owns its libsmartcols table until
 * out_table_print() or out_table_free() releases it.  Texts passed in are
 * copied.  struct out is a plain value owned by main().
 */
#ifndef OUT_H
#define OUT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct out {
	bool json;  /* --json: print the daemon's JSON, no tables */
	bool color; /* stdout is a terminal and NO_COLOR is unset or empty */
};

/* Decides colour from the environment and isatty(stdout). */
void out_init(struct out *o, bool json);

struct out_table;

/* COLS: column names; a name ending in '>' is right-aligned, one ending
 * in '~' is the wide free-text column (wrapped to the terminal). */
struct out_table *out_table_new(const struct out *o, const char *const *cols, size_t ncols);
/* A new row; its cells are set with out_cell.  -1 on failure. */
int out_row(struct out_table *t);
/* Sets cell COL of the last row; COLOR ("red", "green"...) or NULL. */
int out_cell(struct out_table *t, size_t col, const char *text, const char *color);
int out_cellf(struct out_table *t, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints and frees; -1 when printing failed. */
int out_table_print(struct out_table *t);
void out_table_free(struct out_table *t);

/* A JSON value as a short text: strings bare, numbers shortest, arrays of
 * scalars joined by ", ", objects compact JSON; "-" for null or absent.
 * Returns a malloc'd string (NULL when out of memory). */
char *out_text(const json_t *v);

/* One object as "key  value" lines (a two-column table). */
int out_object(const struct out *o, const json_t *obj);

/* Prints BODY as it came (adds a final newline when missing). */
void out_raw(const char *body);
/* Prints a JSON value indented (for answers the CLI assembled itself). */
int out_json(const json_t *v);
/* The end of a paged listing gathered as either ALL (--json: printed as
 * {KEY: ALL, "next": NEXT}) or the table T, when PRINT; frees all three
 * either way (NULLs allowed).  0, or -1 when printing failed. */
int out_listing_end(bool print, const char *key, json_t *all, json_t *next, struct out_table *t);

/* The colour of an alliance status or action word, or NULL. */
const char *out_status_color(const char *word);
/* Prints TEXT in COLOR when colour is on, else plain. */
void out_paint(const struct out *o, const char *color, const char *text);

#endif
