/*
 * config_scan.c - what libconfig 1.5 gets wrong, refused on the raw text
 * before it parses: integers it would truncate and @include.
 */
#include "config_schema.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * libconfig 1.5 silently truncates integers that do not fit in 32 bits
 * (5000000000 reads as 705032704, which can land inside a valid range) and
 * would pull in @include'd files that this pre-scan never sees. Refuse both
 * before parsing; strings and comments are skipped.
 */
int
config_scan(struct config_ctx *c, const char *t)
{
	unsigned line = 1;
	int bol = 1;

	while (*t) {
		const char *st = t;

		if (*t == '\n') {
			line++, bol = 1, t++;
		} else if (*t == '"') {
			for (t++; *t && *t != '"'; t++) {
				if (*t == '\\' && t[1])
					t++;
				if (*t == '\n')
					line++;
			}
			if (*t)
				t++;
			bol = 0;
		} else if (*t == '#' || (t[0] == '/' && t[1] == '/')) {
			while (*t && *t != '\n')
				t++;
		} else if (t[0] == '/' && t[1] == '*') {
			for (t += 2; *t && !(t[0] == '*' && t[1] == '/'); t++)
				if (*t == '\n')
					line++;
			if (*t)
				t += 2;
		} else if (*t == '@') {
			if (bol && strncmp(t, "@include", 8) == 0)
				return config_fail_line(c, line,
						 "@include is not supported; "
						 "keep the configuration in "
						 "one file");
			bol = 0, t++;
		} else if (isalpha((unsigned char)*t) || *t == '*') {
			while (isalnum((unsigned char)*t) || *t == '-' ||
			       *t == '_' || *t == '*')
				t++;
			bol = 0;
		} else if (isdigit((unsigned char)*t)) {
			int hex = t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
			int flt = 0;
			unsigned long long v;
			char tok[40];

			while (isalnum((unsigned char)*t) || *t == '.' ||
			       ((*t == '+' || *t == '-') && !hex &&
				(t[-1] == 'e' || t[-1] == 'E'))) {
				if (*t == '.' ||
				    (!hex && (*t == 'e' || *t == 'E')))
					flt = 1;
				t++;
			}
			bol = 0;
			if (flt || t[-1] == 'L')
				continue;
			(void)snprintf(tok, sizeof(tok), "%.*s", (int)(t - st),
				       st);
			errno = 0;
			v = strtoull(tok, NULL, hex ? 16 : 10);
			if (errno == ERANGE || (hex && v > 0xffffffffull) ||
			    (!hex && v > INT_MAX))
				return config_fail_line(
				    c, line, "integer %s is too large", tok);
		} else {
			if (!isspace((unsigned char)*t))
				bol = 0;
			t++;
		}
	}
	return 0;
}

