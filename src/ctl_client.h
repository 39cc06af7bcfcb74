/*
 * ctl_client.h - the subcommands of the eipfloatd binary: status, metrics,
 * switchover, maintenance (through the control socket of the running
 * daemon) and check-aws (on its own).
 */
#ifndef EIPFLOATD_CTL_CLIENT_H
#define EIPFLOATD_CTL_CLIENT_H

/* Exit codes, after the LSB status convention. */
#define CTL_EXIT_OK 0
#define CTL_EXIT_REFUSED 1 /* the daemon answered with an error */
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_NOT_RUNNING 3
#define CTL_EXIT_UNKNOWN 4 /* could not ask (permission, timeout) */

/* argv[0] is the subcommand. Returns the exit code. */
int ctl_client_main(int argc, char **argv);

#endif
