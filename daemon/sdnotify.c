/*
 * sdnotify.c - sd_notify(3) by hand, so the daemon needs no libsystemd.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"

void
sdnotify_init(struct sdnotify *sn)
{
	const char *p = getenv("NOTIFY_SOCKET");
	const char *wd = getenv("WATCHDOG_USEC");
	const char *wdpid = getenv("WATCHDOG_PID");

	memset(sn, 0, sizeof(*sn));
	sn->fd = -1;
	if (p != NULL && (p[0] == '/' || p[0] == '@') && strlen(p) < sizeof(sn->path)) {
		strcpy(sn->path, p);
		sn->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (sn->fd < 0)
			sn->path[0] = '\0';
	}
	if (wd != NULL && (wdpid == NULL || strtol(wdpid, NULL, 10) == (long)getpid()))
		sn->watchdog_usec = strtoull(wd, NULL, 10);
}

void
sdnotify_close(struct sdnotify *sn)
{
	if (sn->fd >= 0)
		close(sn->fd);
	sn->fd = -1;
	sn->path[0] = '\0';
}

int
sdnotify_send(struct sdnotify *sn, const char *state)
{
	struct sockaddr_un sa;
	socklen_t len;
	size_t plen;

	if (sn->fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	plen = strlen(sn->path);
	memcpy(sa.sun_path, sn->path, plen);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if (sendto(sn->fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		return -1;
	return 0;
}

int
sdnotify_reloading(struct sdnotify *sn)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
	return sdnotify_send(sn, msg);
}
