/*
 * audit.h - the audit trail of client and episode data (README "Security").
 *
 * A route that reads or writes a client's or an episode's data writes its
 * audit row in the same statement as the access: a data-modifying CTE,
 * AUDIT_CTE below, whose rows exist only when the access succeeded (so a
 * failed write leaves no row claiming success, and a success cannot lose
 * its row: both commit or neither).  Who, from where and under which request
 * come in one jsonb parameter (audit_param).  Answers other than 2xx are
 * audited by the router's finished hook (audit_finished) with their status.
 */
#ifndef ALLIANCE_AUDIT_H
#define ALLIANCE_AUDIT_H

#include "api/request_db.h"
#include "http/router.h"

/* A CTE named audit: one row per row of FROM (a FROM-list item with its
 * WHERE), parameter P ("$3") being audit_param's text. */
/* clang-format off */
#define AUDIT_CTE(P, client, episode, outcome, from) \
	" audit AS (INSERT INTO audit_log (actor, peer, action, client_id, episode_id," \
	" outcome, request_id, correlation_id)" \
	" SELECT aud.a->>'actor', aud.a->>'peer', aud.a->>'action', " client ", " episode ", " \
	outcome ", aud.a->>'request_id', nullif(aud.a->>'correlation_id', '')" \
	" FROM (SELECT " P "::jsonb AS a) aud, " from ")"
/* clang-format on */

/* The start of a read of the path's episode or client ($1): "WITH tgt ...,
 * audit ...", to be followed by ", more CTEs" or " SELECT ...". */
/* clang-format off */
#define AUDIT_EPISODE_READ(P) \
	"WITH tgt AS (SELECT id, client_id FROM episodes WHERE id = $1::bigint)," \
	AUDIT_CTE(P, "tgt.client_id", "tgt.id", "'200'", "tgt")
#define AUDIT_CLIENT_READ(P) \
	"WITH tgt AS (SELECT id FROM clients WHERE id = $1::bigint)," \
	AUDIT_CTE(P, "tgt.id", "NULL::bigint", "'200'", "tgt")
/* clang-format on */

/* The jsonb text of r's actor, peer, action ("METHOD /route"), request id
 * and correlation id; the caller frees it.  NULL when out of memory. */
char *audit_param(const struct request *r);

/* request_db_query with the path's first {id} as $1 and audit_param as $2;
 * answers 500 itself when out of memory. */
void request_db_by_id_audited(struct request *r, const struct request_db_call *call,
    const char *sql, request_db_cb cb);

/* router_settings.finished: audits an audited route's answer other than
 * 2xx (refused, not found, conflict, unauthorised) in a statement of its
 * own; a lost one is logged. */
void audit_finished(void *app, const struct request *r, int status);

#endif
