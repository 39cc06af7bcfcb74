/*
 * main.c - eipfloatd's command line: options, key generation, configuration
 * check, and handing over to the daemon proper (daemon.c).
 */
#include "config.h"
#include "ctl_client.h"
#include "daemon.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYGEN_BYTES 64

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: eipfloatd [-t] [-c FILE] [-n NAME] [-l LEVEL] "
		"[--runtime-dir DIR]\n"
		"       eipfloatd status [--json] | metrics [--runtime-dir DIR]\n"
		"       eipfloatd --keygen FILE\n"
		"       eipfloatd -V | -h\n"
		"\n"
		"  -c, --config FILE     configuration (default %s)\n"
		"  -n, --node NAME       which nodes[] entry is this host\n"
		"  -t, --test-config     check the configuration and exit\n"
		"  -l, --log-level LVL   error, warning, notice, info, debug\n"
		"      --runtime-dir DIR pid file and state dump (default %s)\n"
		"      --keygen FILE     write a new random authkey (mode 0600)\n"
		"  -V, --version         print the version and exit\n"
		"  -h, --help            this text\n",
		DAEMON_DEFAULT_CONFIG, DAEMON_DEFAULT_RUNTIME_DIR);
}

/*
 * The authkey is 64 random bytes; O_EXCL so an existing key (which the peer
 * shares) is never overwritten by accident.
 */
static int
keygen(const char *path)
{
	unsigned char key[KEYGEN_BYTES];
	int fd;

	if (RAND_bytes(key, sizeof(key)) != 1) {
		fprintf(stderr, "eipfloatd: cannot get random bytes\n");
		return 1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		fprintf(stderr, "eipfloatd: %s: %s%s\n", path,
			strerror(errno),
			errno == EEXIST ? " (refusing to overwrite a key)" : "");
		util_explicit_bzero(key, sizeof(key));
		return 1;
	}
	if (fchmod(fd, 0600) == -1 ||
	    write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
	    fsync(fd) == -1) {
		fprintf(stderr, "eipfloatd: %s: %s\n", path, strerror(errno));
		util_explicit_bzero(key, sizeof(key));
		close(fd);
		unlink(path);
		return 1;
	}
	util_explicit_bzero(key, sizeof(key));
	close(fd);
	printf("wrote a %d-byte authkey to %s (mode 0600); copy it to the "
	       "peer node with the same permissions\n",
	       KEYGEN_BYTES, path);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"node", required_argument, NULL, 'n'},
		{"test-config", no_argument, NULL, 't'},
		{"log-level", required_argument, NULL, 'l'},
		{"runtime-dir", required_argument, NULL, 'R'},
		{"keygen", required_argument, NULL, 'K'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct daemon_options opt = {
		.config_path = DAEMON_DEFAULT_CONFIG,
		.runtime_dir = DAEMON_DEFAULT_RUNTIME_DIR,
		.log_level = LOG_LEVEL_NOTICE,
	};
	int c, level, test_only = 0;

	/* A first word that is not an option is a subcommand (ctl_client.c). */
	if (argc > 1 && argv[1][0] != '-')
		return ctl_client_main(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "c:n:tl:Vh", longopts, NULL)) !=
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
	if (test_only)
		return daemon_check_config(&opt);
	return daemon_run(&opt);
}
