#include "engine/engine_err.h"

const char *
engine_strerror(int err)
{
	switch (err) {
	case ENGINE_OK: return "ok";
	case ENGINE_EINVAL: return "invalid argument";
	case ENGINE_ENOMEM: return "out of memory";
	case ENGINE_EFULL: return "table full";
	case ENGINE_ENOTFOUND: return "not found";
	case ENGINE_EEXIST: return "already exists";
	case ENGINE_EUNSORTED: return "not ordered by session";
	}
	return "unknown error";
}
