/*
 * config_schema.h - inside the configuration reader (the config*.c files
 * and the tests; the daemon includes config.h only): the error context every
 * file reports through, and the schema, one row per key, that drives
 * unknown-key errors, did-you-mean, types, ranges, defaults and `-T`.
 */
#ifndef EIPFLOATD_CONFIG_SCHEMA_H
#define EIPFLOATD_CONFIG_SCHEMA_H

#include "config.h"

#include <libconfig.h>
#include <stdio.h>

#define CONFIG_PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))

/* One load: where messages go and where relative paths start. */
struct config_ctx {
	const char *file;	   /* as the operator named it, for messages */
	char dir[CONFIG_PATH_MAX]; /* relative paths start here */
	char *err;
	size_t errlen;
};

/*
 * Report about setting `s` as "FILE:LINE: SETTING: msg" (NULL: about the
 * file, "FILE: msg"); always returns -1. fail_line is for syntax errors.
 */
int config_fail(struct config_ctx *c, const config_setting_t *s,
		const char *fmt, ...) CONFIG_PRINTF_LIKE(3, 4);
int config_fail_line(struct config_ctx *c, unsigned line, const char *fmt,
		     ...) CONFIG_PRINTF_LIKE(3, 4);
/* Append to a fixed buffer; truncation is acceptable for a log line. */
void config_append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    CONFIG_PRINTF_LIKE(4, 5);
/* Messages are one line, whatever bytes the file or libconfig gave us. */
void config_one_line(char *s);
/* A string from the file, safe to quote in a message. */
const char *config_shown(const char *in, char *buf, size_t len);
/* "an integer", "a string", ...: what the operator wrote instead. */
const char *config_type_name(const config_setting_t *s);
/* Scalars, with the type and range errors every key shares. */
int config_int_value(struct config_ctx *c, const config_setting_t *s,
		     long long min, long long max, unsigned *out);
int config_str_value(struct config_ctx *c, const config_setting_t *s,
		     char *buf, size_t size);
/* A relative path is relative to the directory of the config file. */
int config_resolve(struct config_ctx *c, const config_setting_t *s,
		   const char *in, char *out, size_t size);

/* A string in libconfig syntax (quotes and backslashes escaped), for -T. */
void config_print_string(FILE *out, const char *s);

/* libconfig 1.5 work-arounds on the raw text (config_scan.c). */
int config_scan(struct config_ctx *c, const char *text);

enum config_kind {
	CONFIG_KIND_UINT,    /* unsigned; min..max; default def */
	CONFIG_KIND_BOOL,    /* int 0/1; default def */
	CONFIG_KIND_STRING,  /* char[size]; "" means the default def_str */
	CONFIG_KIND_PATH,    /* a string, made absolute from the file's dir */
	CONFIG_KIND_VARIANT, /* a string naming one of the section's variants */
	CONFIG_KIND_CUSTOM,  /* arrays: the row's read and print do the work */
};

#define CONFIG_KEY_REQUIRED 0x1u /* absent: "KEY is missing" */
#define CONFIG_KEY_NONEMPTY 0x2u /* "": "must not be empty" */
#define CONFIG_KEY_SCALED 0x4u	 /* default: def * the UINT at scale_of */
#define CONFIG_KEY_OBSOLETE 0x8u /* still read so old files load; ignored,
				    not printed by -T nor in the sample */

#define CONFIG_VARIANT(v) (1u << (v))

/*
 * One key. `offset` is where the value lands in the struct the section
 * fills (struct config, config_node or config_resource). Rows are read in
 * order, so a SCALED default or a check may use the rows above it.
 */
struct config_key {
	const char *name;
	enum config_kind kind;
	size_t offset;
	size_t size; /* STRING, PATH, VARIANT: longest value + 1 */
	long long min, max, def;
	const char *def_str;
	size_t scale_of;
	unsigned flags;
	unsigned variants; /* lists with variants: allowed for; 0 = all */
	const char *arg;   /* the check's argument (an id prefix) */
	/*
	 * Per-type validator, run after the value is stored when the key is
	 * present or its value is not "" (UINT and BOOL: always); `at` is
	 * the setting, or its group when absent. Rules across keys (timeout
	 * >= 3 * interval) are checks too, on the later key.
	 */
	int (*check)(struct config_ctx *c, const config_setting_t *at,
		     const struct config_key *k, void *base);
	/* CUSTOM: read (s NULL when absent: set the default) and print. */
	int (*read)(struct config_ctx *c, const config_setting_t *grp,
		    const config_setting_t *s, const struct config_key *k,
		    void *base);
	void (*print)(FILE *out, const struct config_key *k, const void *base);
};

/* One value of a list's "type" key: a resource type. */
struct config_variant {
	const char *name;
	int hidden; /* test-only: not offered in messages nor documented */
	/* Which keys go together (exactly one of A and B, ...). */
	int (*check)(struct config_ctx *c, const config_setting_t *grp,
		     void *elem);
};

/*
 * A top-level setting: a group of keys landing at `offset` in struct
 * config, or a list of such groups landing in an array there.
 */
struct config_section {
	const char *name;
	int list;
	int required;
	const struct config_key *keys;
	size_t nkeys;
	size_t offset;
	/* lists */
	const char *shape; /* "{ name = ...; }" in "expected a group ..." */
	size_t stride;	   /* sizeof one element */
	size_t count_offset;
	unsigned max;
	int unique; /* two equal entries are an error */
	int (*check_count)(struct config_ctx *c, const config_setting_t *list,
			   int n);
	/* lists with a VARIANT key (it comes first in keys) */
	const struct config_variant *variants;
	size_t nvariants;
	unsigned (*variant_of)(const void *elem);
	void (*set_variant)(void *elem, unsigned v);
	/* Rules across the section (and earlier ones), after its keys. */
	int (*check)(struct config_ctx *c, const config_setting_t *s,
		     struct config *cfg);
};

/* The schema (config_keys.c), in the order sections are read. */
extern const struct config_section config_schema[];
extern const size_t config_schema_len;

/* The driver (config_schema.c). */
int config_schema_read(struct config_ctx *c, const config_setting_t *root,
		       struct config *cfg);
void config_schema_print(FILE *out, const struct config *cfg);

/* The nodes (config_node.c): rows' readers, the pair, which node am I. */
int config_node_name_check(struct config_ctx *c, const config_setting_t *at,
			   const struct config_key *k, void *base);
int config_node_read_addresses(struct config_ctx *c,
			       const config_setting_t *grp,
			       const config_setting_t *s,
			       const struct config_key *k, void *base);
void config_node_print_addresses(FILE *out, const struct config_key *k,
				 const void *base);
int config_node_read_ports(struct config_ctx *c, const config_setting_t *grp,
			   const config_setting_t *s,
			   const struct config_key *k, void *base);
void config_node_print_ports(FILE *out, const struct config_key *k,
			     const void *base);
int config_node_check_count(struct config_ctx *c, const config_setting_t *list,
			    int n);
int config_node_check_pair(struct config_ctx *c, const config_setting_t *s,
			   struct config *cfg);
int config_node_select(struct config_ctx *c, const char *node,
		       struct config *cfg);
int config_node_addr_equal(const struct sockaddr_storage *a,
			   const struct sockaddr_storage *b);

/* EC2 ids: prefix and 8 or 17 lowercase hex digits (config_keys.c). */
int config_aws_id_ok(const char *s, const char *prefix);

/* The private-address resource types (config_res.c). */
int config_res_check_cidr(struct config_ctx *c, const config_setting_t *at,
			  const struct config_key *k, void *base);
int config_res_read_route_tables(struct config_ctx *c,
				 const config_setting_t *grp,
				 const config_setting_t *s,
				 const struct config_key *k, void *base);
void config_res_print_route_tables(FILE *out, const struct config_key *k,
				   const void *base);
int config_res_check_secondary_ip(struct config_ctx *c,
				  const config_setting_t *grp, void *elem);
int config_res_check_route(struct config_ctx *c, const config_setting_t *grp,
			   void *elem);

#endif
