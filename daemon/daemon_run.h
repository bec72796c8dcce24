/*
 * daemon_run.h - creating, running and freeing the daemon context.
 */
#ifndef ALLIANCE_DAEMON_RUN_H
#define ALLIANCE_DAEMON_RUN_H

struct config;
struct daemon;

/* Takes ownership of cfg (freed even on failure).  NULL when out of memory. */
struct daemon *daemon_new(const char *config_path, struct config *cfg);
/* Binds, serves until stopped; returns the process exit code. */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

#endif
