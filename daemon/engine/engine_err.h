/*
 * engine_err.h — error codes shared by every engine module.
 *
 * Engine functions return 0 on success and a negative enum engine_err on
 * failure; nothing in the engine prints or logs, so callers decide.
 */
#ifndef ENGINE_ERR_H
#define ENGINE_ERR_H

enum engine_err {
	ENGINE_OK = 0,
	ENGINE_EINVAL = -1,    /* an argument is out of range or malformed */
	ENGINE_ENOMEM = -2,    /* an allocation failed */
	ENGINE_EFULL = -3,     /* a fixed-capacity table is full */
	ENGINE_ENOTFOUND = -4, /* no such therapist / tag */
	ENGINE_EEXIST = -5,    /* already present (e.g. a duplicate tag) */
	ENGINE_EUNSORTED = -6, /* input must be ordered by session number */
};

/* A static English string for an error code (never NULL). */
const char *engine_strerror(int err);

#endif
