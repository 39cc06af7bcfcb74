/*
 * creds_file.h - the shared credentials file (~/.aws/credentials), parsed.
 * Pure: creds.c reads the file and hands its text here.
 */
#ifndef EIPFLOATD_CREDS_FILE_H
#define EIPFLOATD_CREDS_FILE_H

#include <stddef.h>

#include "creds.h"

/*
 * creds_parse_file: find [profile] (or [profile NAME]) in the text of a
 * shared credentials file called `name`. Returns 0 and fills out, 1 when
 * the file has no such section, -1 on bad syntax or an incomplete profile
 * with "NAME:LINE: what" in err (never a secret).
 */
int creds_parse_file(const char *text, size_t len, const char *name,
		     const char *profile, struct creds *out, char *err,
		     size_t errlen);

#endif
