/*
 * problem.c - RFC 9457 problem documents.  The type is a stable URN per
 * status so that an intake system can branch on it without parsing text.
 */
#include <stdio.h>

#include "http/problem.h"

const char *
http_status_title(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	}
	return "Error";
}

json_t *
problem_new(int status, const char *detail, const char *instance, json_t *errors)
{
	char type[64];
	json_t *p;

	snprintf(type, sizeof(type), "urn:alliance:problem:%d", status);
	if (errors == NULL)
		errors = json_array();
	p = json_pack("{s:s, s:s, s:i, s:s, s:o}", "type", type, "title", http_status_title(status),
	    "status", status, "detail", detail ? detail : http_status_title(status), "errors",
	    errors);
	if (p != NULL && instance != NULL)
		json_object_set_new(p, "instance", json_string(instance));
	return p;
}

int
problem_add_error(json_t *errors, const char *field, const char *message)
{
	return json_array_append_new(errors,
	    json_pack("{s:s, s:s}", "field", field, "message", message));
}
