/*
 * ctl_config.h - the one thing alliancectl reads from the daemon's YAML
 * configuration: the UNIX socket path (listen.unix), with libyaml.
 *
 * Ownership: the caller owns OUT; nothing is kept.
 */
#ifndef CTL_CONFIG_H
#define CTL_CONFIG_H

#include <stddef.h>

/* 0 with the path in OUT (an empty string when the file disables the UNIX
 * listener), 1 when the file does not set listen.unix, -1 with a message
 * in ERR when the file cannot be read or parsed. */
int ctl_config_socket(const char *path, char *out, size_t outlen, char *err, size_t errlen);

#endif
