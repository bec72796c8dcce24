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
				i++;	/* skip the escaped character */
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c) {
		case '"':
			in_string = true;
			break;
		case '[':
		case '{':
			if (++depth > max)
				return false;
			break;
		case ']':
		case '}':
			depth--;
			break;
		default:
			break;
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
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		/* jerr.text can quote input ("unexpected token 'x'"): keep only
		 * the position and a generic description. */
		snprintf(err, errlen, "malformed JSON at line %d, column %d: %s",
		    jerr.line, jerr.column,
		    json_error_code(&jerr) == json_error_duplicate_key ?
		    "duplicate object key" : "syntax error");
		return NULL;
	}
	return j;
}
