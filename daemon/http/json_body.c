/*
 * json_body.c - the checks every JSON request body goes through.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/json_body.h"

bool
json_depth_ok(const char *buf, size_t len, int max)
{
	int depth = 0;
	bool in_string = false;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (in_string) {
			if (c == '\\')
				i++; /* skip the escaped character */
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c) {
		case '"': in_string = true; break;
		case '[':
		case '{':
			if (++depth > max)
				return false;
			break;
		case ']':
		case '}': depth--; break;
		default: break;
		}
	}
	return true;
}

bool
json_content_type_ok(const char *ct)
{
	const char *semi, *slash;
	size_t n;

	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	semi = strchr(ct, ';');
	n = semi ? (size_t)(semi - ct) : strlen(ct);
	while (n > 0 && ct[n - 1] == ' ')
		n--;
	if (n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0)
		return true;
	/* application/problem+json, application/merge-patch+json, ... */
	slash = memchr(ct, '/', n);
	return slash != NULL && (size_t)(slash - ct) == strlen("application") &&
	    strncasecmp(ct, "application", 11) == 0 && n >= 5 &&
	    strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* jerr.text can quote input ("unexpected token 'x'"): keep only the position
 * and our own description of what is refused. */
static void
parse_error(const json_error_t *jerr, char *err, size_t errlen)
{
	switch (json_error_code(jerr)) {
	case json_error_null_character:
		snprintf(err, errlen,
		    "a string holds \\u0000 at line %d, column %d: the NUL "
		    "character is refused in any string, since stored text cannot hold it",
		    jerr->line, jerr->column);
		break;
	case json_error_invalid_utf8:
		snprintf(err, errlen,
		    "the body is not valid UTF-8 (line %d, column %d): JSON "
		    "bodies must be UTF-8",
		    jerr->line, jerr->column);
		break;
	default:
		snprintf(err, errlen, "malformed JSON at line %d, column %d: %s", jerr->line,
		    jerr->column,
		    json_error_code(jerr) == json_error_duplicate_key ? "duplicate object key"
		                                                      : "syntax error");
		break;
	}
}

json_t *
json_body_parse(const char *buf, size_t len, int max_depth, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j;

	if (len == 0) {
		snprintf(err, errlen, "the request body is empty; a JSON document was expected");
		return NULL;
	}
	if (!json_depth_ok(buf, len, max_depth)) {
		snprintf(err, errlen, "JSON nested deeper than %d levels", max_depth);
		return NULL;
	}
	/* Any value: a well-formed body of the wrong shape (42, null) is for the
	 * caller to refuse by name, not a syntax error. */
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (j == NULL)
		parse_error(&jerr, err, errlen);
	return j;
}
