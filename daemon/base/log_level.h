/* log_level.h — the daemon's log levels (ordered: a message is logged when its
 * level >= the configured one). Set by the config key log.level. */
#ifndef ALLIANCE_LOG_LEVEL_H
#define ALLIANCE_LOG_LEVEL_H

/* <syslog.h> defines LOG_DEBUG/LOG_INFO/LOG_WARNING as macros; the two cannot
 * share a translation unit, so say so instead of failing obscurely. */
#if defined(LOG_DEBUG) || defined(LOG_INFO) || defined(LOG_WARNING)
#error "log_level.h clashes with <syslog.h>: do not include both in one file"
#endif

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARNING, LOG_ERROR };

/* The spelling used in the config file and in log lines. */
static inline const char *
log_level_name(enum log_level l)
{
	switch (l) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_WARNING: return "warning";
	case LOG_ERROR: return "error";
	}
	return "?";
}

#endif
