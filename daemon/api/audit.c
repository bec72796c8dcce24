/*
 * audit.c - audit rows of requests (see audit.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/audit.h"
#include "base/log.h"
#include "store/db.h"

static const char *
actor_of(const struct request *r)
{
	return r->auth.actor[0] != '\0' ? r->auth.actor : "anonymous";
}

char *
audit_param(const struct request *r)
{
	char action[128];
	json_t *o;
	char *text;

	snprintf(action, sizeof(action), "%s %s", r->route ? r->route->method : "?",
	    r->route ? r->route->path : "?");
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "actor", actor_of(r), "peer", r->auth.peer,
	    "action", action, "request_id", r->id, "correlation_id", r->correlation);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

void
request_db_by_id_audited(struct request *r, const struct request_db_call *call, const char *sql,
    request_db_cb cb)
{
	char id[24];
	char *aud = audit_param(r);
	const char *values[2] = { id, aud };

	if (aud == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	snprintf(id, sizeof(id), "%lld", (long long)r->params[0]);
	request_db_query(r, call, sql, 2, values, cb);
	free(aud); /* the pool copied it */
}

struct audit_write {
	const struct logger *log;
	char request_id[48];
};

static void
written_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct audit_write *w = arg;

	(void)res;
	if (st != DB_OK)
		log_error(w->log, "request id=%s: audit row of a refused request not written",
		    w->request_id);
	free(w);
}

void
audit_finished(void *app, const struct request *r, int status)
{
	/* clang-format off */
	static const char sql[] =
	    "WITH" AUDIT_CTE("$1", "$2::bigint", "$3::bigint", "$4", "(SELECT 1) one")
	    " SELECT 1";
	/* clang-format on */
	struct api *api = app;
	struct audit_write *w;
	char id[24], st[8];
	const char *values[4] = { NULL, NULL, NULL, st };
	char *aud;

	if (r->route == NULL || !(r->route->flags & ROUTE_AUDIT) || (status >= 200 && status < 300))
		return;
	snprintf(id, sizeof(id), "%lld", (long long)r->params[0]);
	snprintf(st, sizeof(st), "%d", status);
	if ((r->route->flags & ROUTE_AUDIT_CLIENT) == ROUTE_AUDIT_CLIENT)
		values[1] = id;
	if ((r->route->flags & ROUTE_AUDIT_EPISODE) == ROUTE_AUDIT_EPISODE)
		values[2] = id;
	w = calloc(1, sizeof(*w));
	aud = audit_param(r);
	if (w == NULL || aud == NULL)
		goto fail;
	w->log = api->log;
	snprintf(w->request_id, sizeof(w->request_id), "%s", r->id);
	values[0] = aud;
	if (db_query(api->db, sql, 4, values, written_cb, w) == NULL)
		goto fail;
	free(aud);
	return;
fail:
	log_error(api->log, "request id=%s: audit row of a refused request not written", r->id);
	free(aud);
	free(w);
}
