/*
 * routes_all.h - every route handler, grouped by the file that holds it.
 * The table that maps paths to them is routes.c.
 */
#ifndef ALLIANCE_ROUTES_ALL_H
#define ALLIANCE_ROUTES_ALL_H

struct request;

/* routes_health.c */
void route_healthz(struct request *r);
void route_readyz(struct request *r);
void route_metrics(struct request *r);

/* routes_therapists.c */
void route_therapist_create(struct request *r);
void route_therapist_list(struct request *r);
void route_therapist_get(struct request *r);
void route_therapist_replace(struct request *r);
void route_therapist_update(struct request *r);
void route_therapist_retire(struct request *r);
void route_colleagues_put(struct request *r);
void route_colleagues_get(struct request *r);

/* routes_clients.c */
void route_client_upsert(struct request *r);
void route_client_get(struct request *r);

/* routes_match.c */
void route_client_matches(struct request *r);
void route_match(struct request *r);

/* routes_episodes.c */
void route_episode_start(struct request *r);
void route_episode_get(struct request *r);
void route_episode_end(struct request *r);
void route_attendance(struct request *r);

/* routes_feedback.c */
void route_feedback(struct request *r);
void route_alliance_get(struct request *r);

/* routes_referrals.c */
void route_referrals(struct request *r);

/* routes_reports.c */
void route_report_alliance(struct request *r);
void route_report_at_risk(struct request *r);

#endif
