/*
 * daemon.h - the running daemon: one context that owns the loop, the
 * configuration and every module, and turns signals and module events into
 * actions.
 */
#ifndef EIPFLOATD_DAEMON_H
#define EIPFLOATD_DAEMON_H

#include "log.h"

/* configure's autoconf.h defines it in every build; this is for analysers. */
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define DAEMON_DEFAULT_CONFIG "/etc/eipfloatd.conf"
#define DAEMON_DEFAULT_RUNTIME_DIR "/run/eipfloatd"
#define DAEMON_DEFAULT_STATE_DIR "/var/lib/eipfloatd"

struct daemon_options {
	const char *config_path;
	const char *node; /* NULL: find self by host name / addresses */
	const char *runtime_dir;
	const char *state_dir; /* survives reboots: the maintenance flag */
	enum log_level log_level;
};

/* -t: load and validate, print a summary; 0 or CONFIG_EX_CONFIG. */
int daemon_check_config(const struct daemon_options *opt);
/* Run until SIGTERM/SIGINT; returns the exit code. */
int daemon_run(const struct daemon_options *opt);

#endif
