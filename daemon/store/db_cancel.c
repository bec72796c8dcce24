/*
 * db_cancel.c - a helper thread for PQcancel (see db_cancel.h for why a thread).
 *
 * Requests go into a fixed ring under a mutex; the thread takes one, runs PQcancel outside
 * the lock, and moves it to the done ring, then writes a byte to a pipe whose read end is an
 * event on the loop.  The loop drains the done ring and calls `done`.  A full ring refuses
 * (the statement is then left to statement_timeout): a stuck server cannot make it grow.
 */
#include "store/db_cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#define RING 64

struct item {
	PGcancel *pc;
	int id;
	unsigned gen;
};

struct ring {
	struct item it[RING];
	int head, n;
};

struct db_cancel {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ring todo, done;
	bool stop;
	int pipe_rd, pipe_wr;
	struct event ev;
	db_cancel_done_cb cb;
	void *arg;
};

static int
ring_push(struct ring *r, struct item it)
{
	if (r->n == RING)
		return -1;
	r->it[(r->head + r->n) % RING] = it;
	r->n++;
	return 0;
}

static bool
ring_pop(struct ring *r, struct item *out)
{
	if (r->n == 0)
		return false;
	*out = r->it[r->head];
	r->head = (r->head + 1) % RING;
	r->n--;
	return true;
}

static void *
cancel_thread(void *arg)
{
	struct db_cancel *dc = arg;
	struct item it;
	char errbuf[256];

	pthread_mutex_lock(&dc->mu);
	for (;;) {
		while (!dc->stop && dc->todo.n == 0)
			pthread_cond_wait(&dc->cv, &dc->mu);
		if (dc->stop)
			break;
		ring_pop(&dc->todo, &it);
		pthread_mutex_unlock(&dc->mu);
		/* Failure (server gone) needs no handling: the statement ends with its
		 * connection, or by statement_timeout. */
		(void)PQcancel(it.pc, errbuf, sizeof errbuf);
		PQfreeCancel(it.pc);
		it.pc = NULL;
		pthread_mutex_lock(&dc->mu);
		/* done holds at most as many as todo did: never full here. */
		(void)ring_push(&dc->done, it);
		/* A full pipe already holds a wake-up: nothing is lost. */
		while (write(dc->pipe_wr, "x", 1) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&dc->mu);
	return NULL;
}

static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_cancel *dc = arg;
	char buf[64];
	struct item it;

	(void)what;
	while (read(fd, buf, sizeof buf) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&dc->mu);
		bool got = ring_pop(&dc->done, &it);
		pthread_mutex_unlock(&dc->mu);
		if (!got)
			break;
		dc->cb(dc->arg, it.id, it.gen);
	}
}

struct db_cancel *
db_cancel_new(struct event_base *base, db_cancel_done_cb done, void *arg)
{
	struct db_cancel *dc;
	int fds[2];

	if (base == NULL || done == NULL)
		return NULL;
	dc = calloc(1, sizeof *dc);
	if (dc == NULL)
		return NULL;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(dc);
		return NULL;
	}
	dc->pipe_rd = fds[0];
	dc->pipe_wr = fds[1];
	dc->cb = done;
	dc->arg = arg;
	pthread_mutex_init(&dc->mu, NULL);
	pthread_cond_init(&dc->cv, NULL);
	event_assign(&dc->ev, base, dc->pipe_rd, EV_READ | EV_PERSIST, wake_cb, dc);
	if (event_add(&dc->ev, NULL) < 0)
		goto fail;
	if (pthread_create(&dc->thread, NULL, cancel_thread, dc) != 0) {
		event_del(&dc->ev);
		goto fail;
	}
	return dc;
fail:
	pthread_cond_destroy(&dc->cv);
	pthread_mutex_destroy(&dc->mu);
	close(dc->pipe_rd);
	close(dc->pipe_wr);
	free(dc);
	return NULL;
}

int
db_cancel_submit(struct db_cancel *dc, PGcancel *pc, int id, unsigned gen)
{
	struct item it = { pc, id, gen };
	int rc;

	if (dc == NULL || pc == NULL) {
		PQfreeCancel(pc);
		return -1;
	}
	pthread_mutex_lock(&dc->mu);
	/* done + todo together stay within one ring's size. */
	rc = dc->todo.n + dc->done.n >= RING ? -1 : ring_push(&dc->todo, it);
	if (rc == 0)
		pthread_cond_signal(&dc->cv);
	pthread_mutex_unlock(&dc->mu);
	if (rc < 0)
		PQfreeCancel(pc);
	return rc;
}

void
db_cancel_free(struct db_cancel *dc)
{
	struct item it;

	if (dc == NULL)
		return;
	pthread_mutex_lock(&dc->mu);
	dc->stop = true;
	pthread_cond_signal(&dc->cv);
	pthread_mutex_unlock(&dc->mu);
	pthread_join(dc->thread, NULL);
	event_del(&dc->ev);
	while (ring_pop(&dc->todo, &it))
		PQfreeCancel(it.pc);
	pthread_cond_destroy(&dc->cv);
	pthread_mutex_destroy(&dc->mu);
	close(dc->pipe_rd);
	close(dc->pipe_wr);
	free(dc);
}
