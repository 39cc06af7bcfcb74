/*
 * main.c - eipfloatd's command line: options, key generation, configuration
 * check, and handing over to the daemon proper (daemon.c).
 */
#include "authkey.h"
#include "config.h"
#include "ctl_client.h"
#include "daemon.h"
#include "log.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>


static void
usage(FILE *out)
{
	fprintf(out,
		"usage: eipfloatd [-t | -T] [-c FILE] [-n NAME] [-l LEVEL] "
		"[--runtime-dir DIR]\n"
		"                 [--state-dir DIR]\n"
		"       eipfloatd status [--json] | metrics [--runtime-dir DIR]\n"
		"       eipfloatd switchover [--force] | maintenance on|off "
		"[--force]\n"
		"       eipfloatd --keygen FILE\n"
		"       eipfloatd -V | -h\n"
		"\n"
		"  -c, --config FILE     configuration (default %s)\n"
		"  -n, --node NAME       which nodes[] entry is this host\n"
		"  -t, --test-config     check the configuration and exit\n"
		"  -T, --print-config    print the effective configuration "
		"and exit\n"
		"  -l, --log-level LVL   error, warning, notice, info, debug\n"
		"      --runtime-dir DIR pid file and state dump (default %s)\n"
		"      --state-dir DIR   what survives a reboot (default %s)\n"
		"      --keygen FILE     write a new random authkey (mode 0600)\n"
		"  -V, --version         print the version and exit\n"
		"  -h, --help            this text\n",
		DAEMON_DEFAULT_CONFIG, DAEMON_DEFAULT_RUNTIME_DIR,
		DAEMON_DEFAULT_STATE_DIR);
}

static int
keygen(const char *path)
{
	char err[CONFIG_PATH_MAX + 128];

	if (authkey_generate(path, err, sizeof(err)) == -1) {
		fprintf(stderr, "eipfloatd: %s\n", err);
		return 1;
	}
	printf("wrote a %d-byte authkey to %s (mode 0600); copy it to the "
	       "peer node with the same permissions\n",
	       AUTHKEY_KEYGEN_BYTES, path);
	return 0;
}

/* -T: what the daemon would run with, defaults filled in, no secrets. */
static int
print_config(const struct daemon_options *opt)
{
	static struct config cfg;
	char err[512];

	if (config_load(opt->config_path, opt->node, &cfg, err,
			sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return CONFIG_EX_CONFIG;
	}
	config_forget_keys(&cfg);
	config_print(&cfg, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"node", required_argument, NULL, 'n'},
		{"test-config", no_argument, NULL, 't'},
		{"print-config", no_argument, NULL, 'T'},
		{"log-level", required_argument, NULL, 'l'},
		{"runtime-dir", required_argument, NULL, 'R'},
		{"state-dir", required_argument, NULL, 'S'},
		{"keygen", required_argument, NULL, 'K'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct daemon_options opt = {
		.config_path = DAEMON_DEFAULT_CONFIG,
		.runtime_dir = DAEMON_DEFAULT_RUNTIME_DIR,
		.state_dir = DAEMON_DEFAULT_STATE_DIR,
		.log_level = LOG_LEVEL_NOTICE,
	};
	int c, level, test_only = 0, print_only = 0;

	/* A first word that is not an option is a subcommand (ctl_client.c). */
	if (argc > 1 && argv[1][0] != '-')
		return ctl_client_main(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "c:n:tTl:Vh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			opt.config_path = optarg;
			break;
		case 'n':
			opt.node = optarg;
			break;
		case 't':
			test_only = 1;
			break;
		case 'T':
			print_only = 1;
			break;
		case 'l':
			level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr,
					"eipfloatd: unknown log level \"%s\" "
					"(error, warning, notice, info, "
					"debug)\n",
					optarg);
				return 2;
			}
			opt.log_level = (enum log_level)level;
			break;
		case 'R':
			opt.runtime_dir = optarg;
			break;
		case 'S':
			opt.state_dir = optarg;
			break;
		case 'K':
			return keygen(optarg);
		case 'V':
			printf("eipfloatd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "eipfloatd: unexpected argument \"%s\"\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init(opt.log_level);
	if (print_only)
		return print_config(&opt);
	if (test_only)
		return daemon_check_config(&opt);
	return daemon_run(&opt);
}
