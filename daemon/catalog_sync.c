/*
 * catalog_sync.c - placeholder: an empty catalog until the socket API lands.
 */
#include <stdlib.h>

#include "catalog_sync.h"
#include "engine.h"

struct catalog_sync {
	struct catalog *cat;
	struct vocab *vocab;
};

struct catalog_sync *
catalog_sync_new(struct daemon *d, struct vocab *vocab)
{
	struct catalog_sync *cs = calloc(1, sizeof(*cs));

	(void)d;
	if (cs == NULL || (cs->cat = catalog_new()) == NULL) {
		free(cs);
		vocab_free(vocab);
		return NULL;
	}
	cs->vocab = vocab;
	return cs;
}

int catalog_sync_start(struct catalog_sync *cs) { (void)cs; return 0; }

void
catalog_sync_free(struct catalog_sync *cs)
{
	if (cs == NULL)
		return;
	catalog_free(cs->cat);
	vocab_free(cs->vocab);
	free(cs);
}

bool catalog_sync_ready(const struct catalog_sync *cs) { (void)cs; return false; }
const struct catalog *catalog_sync_catalog(const struct catalog_sync *cs) { return cs->cat; }
const struct vocab *catalog_sync_vocab(const struct catalog_sync *cs) { return cs->vocab; }

int
catalog_sync_names(const struct catalog_sync *cs, uint32_t id, const char **e, const char **n)
{
	(void)cs; (void)id; (void)e; (void)n;
	return -1;
}

void catalog_sync_refresh(struct catalog_sync *cs, uint32_t id) { (void)cs; (void)id; }

void
catalog_sync_reconfigure(struct catalog_sync *cs, struct vocab *vocab)
{
	vocab_free(cs->vocab);
	cs->vocab = vocab;
}

void
catalog_sync_stats(const struct catalog_sync *cs, unsigned *t, unsigned long long *f,
		   unsigned long long *r)
{
	(void)cs;
	*t = 0;
	*f = *r = 0;
}
