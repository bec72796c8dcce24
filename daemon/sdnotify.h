/*
 * sdnotify.h - the systemd notification protocol (sd_notify(3)) without
 * libsystemd: one datagram to $NOTIFY_SOCKET per state change.
 *
 * A no-op when the daemon is not started by systemd.  The watchdog interval
 * comes from $WATCHDOG_USEC (and $WATCHDOG_PID, when set, must be ours).
 */
#ifndef ALLIANCE_SDNOTIFY_H
#define ALLIANCE_SDNOTIFY_H

#include <stdint.h>

struct sdnotify {
	char path[108];         /* socket path; "" when not under systemd */
	int fd;                 /* datagram socket, -1 when unused */
	uint64_t watchdog_usec; /* 0 when no watchdog was asked for */
};

/* Reads the environment; never fails (an unusable socket disables it). */
void sdnotify_init(struct sdnotify *sn);
void sdnotify_close(struct sdnotify *sn);

/* Sends STATE (e.g. "READY=1\nSTATUS=serving"); returns 0, or -1 on error. */
int sdnotify_send(struct sdnotify *sn, const char *state);

/* "RELOADING=1\nMONOTONIC_USEC=<now>" as systemd 253's notify-reload wants. */
int sdnotify_reloading(struct sdnotify *sn);

#endif
