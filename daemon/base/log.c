/*
 * log.c - the daemon's line logger.  One write per line so that lines from
 * a crash or a sanitizer report never interleave with half a log line.
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

void
logger_init(struct logger *lg, enum log_level level, FILE *out)
{
	lg->level = level;
	lg->out = out;
}

int
log_enabled(const struct logger *lg, enum log_level level)
{
	return lg != NULL && level >= lg->level;
}

const char *
log_level_label(enum log_level level)
{
	switch (level) {
	case LOG_DEBUG: return "DEBUG";
	case LOG_INFO: return "INFO";
	case LOG_WARNING: return "WARNING";
	case LOG_ERROR: return "ERROR";
	}
	return "?";
}

void
log_vmsg(const struct logger *lg, enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;

	if (!log_enabled(lg, level))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03dZ %s ", (int)(tv.tv_usec / 1000),
	    log_level_label(level));
	if (r > 0)
		n += (size_t)r;
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (r < 0)
		r = 0;
	n += (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2; /* truncated: still one line */
	line[n++] = '\n';
	fwrite(line, 1, n, lg->out ? lg->out : stderr);
	fflush(lg->out ? lg->out : stderr);
}

void
log_msg(const struct logger *lg, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lg, level, fmt, ap);
	va_end(ap);
}
