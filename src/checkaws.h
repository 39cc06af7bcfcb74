/*
 * checkaws.h - `eipfloatd check-aws`: a preflight of everything the
 * daemon needs from AWS, runnable with or without the daemon.
 */
#ifndef EIPFLOATD_CHECKAWS_H
#define EIPFLOATD_CHECKAWS_H

/* argv[0] is "check-aws"; returns 0 only when every check passed. */
int checkaws_main(int argc, char **argv);

#endif
