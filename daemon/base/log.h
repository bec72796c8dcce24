/*
 * log.h - one line per event on stderr: "<UTC time> <LEVEL> <message>".
 *
 * The logger lives inside the daemon context (no global state); the level
 * can change on SIGHUP.  Messages carry ids only, never a client's
 * preferences or feedback (health data).
 */
#ifndef ALLIANCE_LOG_H
#define ALLIANCE_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include "base/log_level.h"

struct logger {
	enum log_level level;
	FILE *out; /* not owned; stderr in the daemon */
};

void logger_init(struct logger *lg, enum log_level level, FILE *out);
int log_enabled(const struct logger *lg, enum log_level level);
const char *log_level_label(enum log_level level); /* "INFO" */

void log_msg(const struct logger *lg, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(const struct logger *lg, enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Cheap when the level is off: the arguments are not formatted. */
#define log_debug(lg, ...)                                     \
	do {                                                   \
		if (log_enabled((lg), LOG_DEBUG))              \
			log_msg((lg), LOG_DEBUG, __VA_ARGS__); \
	} while (0)
#define log_info(lg, ...)  log_msg((lg), LOG_INFO, __VA_ARGS__)
#define log_warn(lg, ...)  log_msg((lg), LOG_WARNING, __VA_ARGS__)
#define log_error(lg, ...) log_msg((lg), LOG_ERROR, __VA_ARGS__)

#endif
