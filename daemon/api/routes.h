/*
 * routes.h - the route table of each resource file (entries beside their
 * handlers), collected by routes.c.
 */
#ifndef ALLIANCE_ROUTES_H
#define ALLIANCE_ROUTES_H

#include "http/router.h"

extern const struct route routes_health[];     /* routes_health.c */
extern const struct route routes_therapists[]; /* routes_therapists.c */
extern const struct route routes_clients[];    /* routes_clients.c */
extern const struct route routes_match[];      /* routes_match.c */
extern const struct route routes_episodes[];   /* routes_episodes.c */
extern const struct route routes_feedback[];   /* routes_feedback.c */
extern const struct route routes_referrals[];  /* routes_referrals.c */
extern const struct route routes_reports[];    /* routes_reports.c */
extern const struct route routes_tokens[];     /* routes_tokens.c */
extern const struct route routes_audit[];      /* routes_audit.c */
extern const struct route routes_events[];     /* routes_events.c */
extern const struct route routes_webhooks[];   /* routes_webhooks.c */

#endif
