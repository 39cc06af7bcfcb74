/*
 * config_schema.c - the schema driver: reads a libconfig tree into struct
 * config by the rows of config_keys.c (unknown keys, did-you-mean, types,
 * ranges, defaults, variants, duplicates) and prints it back for `-T`.
 */
#include "config_schema.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define NAMES_MAX 32 /* keys of one group, sections of the file */

const char *
config_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "nothing";
	}
}

/*
 * Levenshtein distance, capped: only used to suggest the key an operator
 * probably meant, so long names simply get no suggestion.
 */
static unsigned
distance(const char *a, const char *b)
{
	unsigned row[33], i, j, la = strlen(a), lb = strlen(b);

	if (la > 32 || lb > 32)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned diag = row[0], up;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			up = row[j];
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

int
config_int_value(struct config_ctx *c, const config_setting_t *s, long long min,
	  long long max, unsigned *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return config_fail(c, s, "expected an integer, got %s", config_type_name(s));
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return config_fail(c, s, "%lld is out of range (%lld..%lld)", v, min,
			    max);
	*out = (unsigned)v;
	return 0;
}

int
config_str_value(struct config_ctx *c, const config_setting_t *s, char *buf, size_t size)
{
	const char *v;
	size_t len;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return config_fail(c, s, "expected a string, got %s", config_type_name(s));
	v = config_setting_get_string(s);
	len = strlen(v);
	if (len >= size)
		return config_fail(c, s, "too long (%zu characters, at most %zu)", len,
			    size - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return config_fail(c, s, "contains a control character");
	util_strlcpy(buf, v, size);
	return 0;
}

int
config_resolve(struct config_ctx *c, const config_setting_t *s, const char *in, char *out,
	size_t size)
{
	int n;

	if (in[0] == '/')
		n = snprintf(out, size, "%s", in);
	else
		n = snprintf(out, size, "%s/%s", c->dir, in);
	if (n < 0 || (size_t)n >= size)
		return config_fail(c, s, "path too long");
	return 0;
}


/* Unknown keys are errors: a typo must not silently keep a default. */
static int
check_names(struct config_ctx *c, const config_setting_t *grp,
	    const char *const *names, size_t n)
{
	int i, len = config_setting_length(grp);
	size_t k;

	for (i = 0; i < len; i++) {
		const config_setting_t *m = config_setting_get_elem(grp, i);
		const char *name = config_setting_name(m);
		const char *best = NULL;
		unsigned d, bestd = 3;

		for (k = 0; k < n && strcmp(names[k], name) != 0; k++)
			;
		if (k < n)
			continue;
		for (k = 0; k < n; k++) {
			d = distance(name, names[k]);
			if (d < bestd)
				bestd = d, best = names[k];
		}
		if (best)
			return config_fail(
			    c, m, "unknown setting (did you mean %s?)", best);
		return config_fail(c, m, "unknown setting");
	}
	return 0;
}

static int
check_keys(struct config_ctx *c, const config_setting_t *grp,
	   const struct config_section *sec)
{
	const char *names[NAMES_MAX] = {NULL};
	size_t k;

	for (k = 0; k < sec->nkeys && k < NAMES_MAX; k++)
		names[k] = sec->keys[k].name;
	return check_names(c, grp, names, k);
}

static void *
field(void *base, size_t offset)
{
	return (char *)base + offset;
}

static const void *
cfield(const void *base, size_t offset)
{
	return (const char *)base + offset;
}

/* `"eip"`, `"eip" or "route"`, `"a", "b" or "c"`: for messages. */
static void
variant_names(const struct config_section *sec, unsigned mask,
	      int include_hidden, char *buf, size_t len)
{
	size_t v, pos = 0, n = 0, total = 0;

	buf[0] = '\0';
	for (v = 0; v < sec->nvariants; v++)
		if ((mask & CONFIG_VARIANT(v)) &&
		    (include_hidden || !sec->variants[v].hidden))
			total++;
	for (v = 0; v < sec->nvariants; v++) {
		if (!(mask & CONFIG_VARIANT(v)) ||
		    (!include_hidden && sec->variants[v].hidden))
			continue;
		n++;
		config_append(buf, len, &pos, "%s\"%s\"",
			      n == 1	       ? ""
			      : n == total ? " or "
					   : ", ",
			      sec->variants[v].name);
	}
}

static int
read_variant(struct config_ctx *c, const config_setting_t *s,
	     const struct config_section *sec, const char *name, void *base)
{
	char tmp[80], expected[256];
	size_t v;

	for (v = 0; v < sec->nvariants; v++)
		if (strcmp(sec->variants[v].name, name) == 0) {
			sec->set_variant(base, (unsigned)v);
			return 0;
		}
	variant_names(sec, ~0u, 0, expected, sizeof(expected));
	return config_fail(c, s, "unknown type \"%s\" (expected %s)",
			   config_shown(name, tmp, sizeof(tmp)), expected);
}

/* STRING, PATH and VARIANT: "" (or absent) means the default. */
static int
read_string(struct config_ctx *c, const config_setting_t *s,
	    const config_setting_t *at, const struct config_section *sec,
	    const struct config_key *k, void *base)
{
	char tmp[CONFIG_PATH_MAX];

	util_strlcpy(tmp, k->def_str ? k->def_str : "", sizeof(tmp));
	if (s && config_str_value(c, s, tmp,
				  k->size < sizeof(tmp) ? k->size
							: sizeof(tmp)) == -1)
		return -1;
	if (s && (k->flags & CONFIG_KEY_NONEMPTY) && tmp[0] == '\0')
		return config_fail(c, s, "must not be empty");
	switch (k->kind) {
	case CONFIG_KIND_VARIANT:
		return read_variant(c, s, sec, tmp, base);
	case CONFIG_KIND_PATH:
		if (tmp[0] != '\0')
			return config_resolve(c, at, tmp, field(base, k->offset),
					      k->size);
		break;
	case CONFIG_KIND_STRING:
	case CONFIG_KIND_UINT:
	case CONFIG_KIND_BOOL:
	case CONFIG_KIND_CUSTOM:
		break;
	}
	util_strlcpy(field(base, k->offset), tmp, k->size);
	return 0;
}

static int
read_key(struct config_ctx *c, const config_setting_t *grp,
	 const struct config_section *sec, const struct config_key *k,
	 void *base)
{
	const config_setting_t *s =
	    grp ? config_setting_get_member(grp, k->name) : NULL;
	const config_setting_t *at = s ? s : grp;
	unsigned *u = field(base, k->offset);
	int *b = field(base, k->offset), run_check = 1;

	if (s == NULL && (k->flags & CONFIG_KEY_REQUIRED))
		return config_fail(c, grp, "%s is missing", k->name);
	switch (k->kind) {
	case CONFIG_KIND_UINT:
		*u = (unsigned)k->def;
		if (k->flags & CONFIG_KEY_SCALED)
			*u *= *(const unsigned *)cfield(base, k->scale_of);
		if (s && config_int_value(c, s, k->min, k->max, u) == -1)
			return -1;
		break;
	case CONFIG_KIND_BOOL:
		*b = k->def != 0;
		if (s == NULL)
			break;
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return config_fail(c, s,
					   "expected true or false, got %s",
					   config_type_name(s));
		*b = config_setting_get_bool(s);
		break;
	case CONFIG_KIND_STRING:
	case CONFIG_KIND_PATH:
		if (read_string(c, s, at, sec, k, base) == -1)
			return -1;
		run_check = s || *(const char *)cfield(base, k->offset);
		break;
	case CONFIG_KIND_VARIANT:
		return read_string(c, s, at, sec, k, base);
	case CONFIG_KIND_CUSTOM:
		if (k->read(c, grp, s, k, base) == -1)
			return -1;
		break;
	}
	if (k->check && run_check)
		return k->check(c, at, k, base);
	return 0;
}

static int
key_applies(const struct config_section *sec, const struct config_key *k,
	    const void *base)
{
	return k->variants == 0 || sec->variant_of == NULL ||
	       (k->variants & CONFIG_VARIANT(sec->variant_of(base)));
}

/* One group of keys into base: struct config or one list element. */
static int
read_group(struct config_ctx *c, const config_setting_t *grp,
	   const struct config_section *sec, void *base)
{
	char names[256];
	size_t i;

	if (grp && check_keys(c, grp, sec) == -1)
		return -1;
	for (i = 0; i < sec->nkeys; i++) {
		const struct config_key *k = &sec->keys[i];
		const config_setting_t *s;

		if (key_applies(sec, k, base)) {
			if (read_key(c, grp, sec, k, base) == -1)
				return -1;
			continue;
		}
		s = grp ? config_setting_get_member(grp, k->name) : NULL;
		if (s == NULL)
			continue;
		variant_names(sec, k->variants, 1, names, sizeof(names));
		return config_fail(c, s, "only for %s of type %s", sec->name,
				   names);
	}
	if (sec->variants) {
		const struct config_variant *v =
		    &sec->variants[sec->variant_of(base)];

		if (v->check && v->check(c, grp, base) == -1)
			return -1;
	}
	return 0;
}

/* Two list entries that say the same thing are always a typo. */
static int
same_entry(const struct config_section *sec, const void *a, const void *b)
{
	size_t i;

	for (i = 0; i < sec->nkeys; i++) {
		const struct config_key *k = &sec->keys[i];
		const void *fa = cfield(a, k->offset), *fb = cfield(b, k->offset);

		switch (k->kind) {
		case CONFIG_KIND_UINT:
			if (*(const unsigned *)fa != *(const unsigned *)fb)
				return 0;
			break;
		case CONFIG_KIND_BOOL:
			if (*(const int *)fa != *(const int *)fb)
				return 0;
			break;
		case CONFIG_KIND_STRING:
		case CONFIG_KIND_PATH:
			if (strcmp(fa, fb) != 0)
				return 0;
			break;
		case CONFIG_KIND_VARIANT:
			if (sec->variant_of(a) != sec->variant_of(b))
				return 0;
			break;
		case CONFIG_KIND_CUSTOM: /* unique lists have none yet */
			break;
		}
	}
	return 1;
}

static int
read_list(struct config_ctx *c, const config_setting_t *list,
	  const struct config_section *sec, struct config *cfg)
{
	char *arr = field(cfg, sec->offset);
	int i, j, n;

	if (!config_setting_is_list(list) && !config_setting_is_array(list))
		return config_fail(c, list, "expected a list ( ... ), got %s",
				   config_type_name(list));
	n = config_setting_length(list);
	if (sec->check_count && sec->check_count(c, list, n) == -1)
		return -1;
	if (n > (int)sec->max)
		return config_fail(c, list,
				   "has %d entries; at most %u are supported",
				   n, sec->max);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		void *base = arr + (size_t)i * sec->stride;

		if (!config_setting_is_group(e))
			return config_fail(c, e, "expected a group %s, got %s",
					   sec->shape, config_type_name(e));
		if (read_group(c, e, sec, base) == -1)
			return -1;
		for (j = 0; sec->unique && j < i; j++)
			if (same_entry(sec, arr + (size_t)j * sec->stride,
				       base))
				return config_fail(c, e,
						   "duplicate of %s[%d]",
						   sec->name, j);
	}
	*(unsigned *)field(cfg, sec->count_offset) = (unsigned)n;
	return 0;
}

static int
read_section(struct config_ctx *c, const config_setting_t *root,
	     const struct config_section *sec, struct config *cfg)
{
	const config_setting_t *s = config_setting_get_member(root, sec->name);

	if (s && !sec->list && !config_setting_is_group(s))
		return config_fail(c, s, "expected a group { ... }, got %s",
				   config_type_name(s));
	if (s == NULL && sec->required)
		return config_fail(c, NULL, "%s: required setting is missing",
				   sec->name);
	if (sec->list) {
		if (s && read_list(c, s, sec, cfg) == -1)
			return -1;
	} else if (read_group(c, s, sec, field(cfg, sec->offset)) == -1) {
		return -1;
	}
	return sec->check ? sec->check(c, s, cfg) : 0;
}

int
config_schema_read(struct config_ctx *c, const config_setting_t *root,
		   struct config *cfg)
{
	const char *names[NAMES_MAX] = {NULL};
	size_t i;

	for (i = 0; i < config_schema_len && i < NAMES_MAX; i++)
		names[i] = config_schema[i].name;
	if (check_names(c, root, names, i) == -1)
		return -1;
	for (i = 0; i < config_schema_len; i++)
		if (read_section(c, root, &config_schema[i], cfg) == -1)
			return -1;
	return 0;
}

/* ---- -T: the struct back into libconfig syntax ---------------------- */

/* Values were checked free of control characters; quote " and \. */
void
config_print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void
print_group(FILE *out, const struct config_section *sec, const void *base,
	    const char *indent)
{
	size_t i;

	for (i = 0; i < sec->nkeys; i++) {
		const struct config_key *k = &sec->keys[i];
		const void *f = cfield(base, k->offset);

		if (!key_applies(sec, k, base) ||
		    (k->flags & CONFIG_KEY_OBSOLETE))
			continue;
		/* A variant's own keys are there only when set. */
		if (k->variants && (k->kind == CONFIG_KIND_STRING ||
				    k->kind == CONFIG_KIND_PATH) &&
		    *(const char *)f == '\0')
			continue;
		fprintf(out, "%s%s = ", indent, k->name);
		switch (k->kind) {
		case CONFIG_KIND_UINT:
			fprintf(out, "%u", *(const unsigned *)f);
			break;
		case CONFIG_KIND_BOOL:
			fputs(*(const int *)f ? "true" : "false", out);
			break;
		case CONFIG_KIND_STRING:
		case CONFIG_KIND_PATH:
			config_print_string(out, f);
			break;
		case CONFIG_KIND_VARIANT:
			config_print_string(
			    out, sec->variants[sec->variant_of(base)].name);
			break;
		case CONFIG_KIND_CUSTOM:
			k->print(out, k, base);
			break;
		}
		fputs(";\n", out);
	}
}

void
config_schema_print(FILE *out, const struct config *cfg)
{
	size_t i;
	unsigned j, n;

	for (i = 0; i < config_schema_len; i++) {
		const struct config_section *sec = &config_schema[i];
		const char *base = cfield(cfg, sec->offset);

		if (!sec->list) {
			fprintf(out, "%s = {\n", sec->name);
			print_group(out, sec, base, "\t");
			fputs("};\n", out);
			continue;
		}
		n = *(const unsigned *)cfield(cfg, sec->count_offset);
		fprintf(out, "%s = (\n", sec->name);
		for (j = 0; j < n; j++) {
			fputs("\t{\n", out);
			print_group(out, sec, base + (size_t)j * sec->stride,
				    "\t\t");
			fprintf(out, "\t}%s\n", j + 1 < n ? "," : "");
		}
		fputs(");\n", out);
	}
}
