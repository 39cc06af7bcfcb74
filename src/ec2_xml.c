/*
 * ec2_xml.c - expat parsers for EC2's XML answers (pure; see ec2_xml.h).
 */
#include "ec2_xml.h"
#include "ec2_xml_int.h"
#include "util.h"

#include <expat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_DEPTH_MAX 16
#define XML_NAME_MAX EC2_XML_NAME_MAX
#define XML_TEXT_MAX 1024
#define NS_SEP '|'
#define STATUS_ROOT "DescribeInstanceStatusResponse"

/*
 * One SAX pass collects everything any of the documents can carry; the
 * public parsers then check that the root was the one they expected. Names
 * are compared by local part only, so any namespace (or none) is accepted.
 */
struct px {
	XML_Parser p;
	unsigned depth;
	char path[XML_DEPTH_MAX][XML_NAME_MAX];
	char text[XML_TEXT_MAX];
	size_t tlen;
	int ttrunc;
	int failed;
	char why[128];

	struct ec2_address *out;
	size_t max, n;
	int in_item;

	char association_id[EC2_ID_MAX];
	struct ec2_instance_status *inst; /* DescribeInstanceStatus */
	unsigned inst_items;
	struct ec2_error error;
	int have_code;
	int error_done; /* only the first <Error> counts */
	const struct ec2_xml_walk *walk; /* ec2_xml_walk's caller */
};

static void
px_fail(struct px *x, const char *why)
{
	if (!x->failed) {
		x->failed = 1;
		util_strlcpy(x->why, why, sizeof(x->why));
	}
	XML_StopParser(x->p, XML_FALSE);
}

static const char *
local_name(const XML_Char *name)
{
	const char *s = strrchr(name, NS_SEP);

	return s ? s + 1 : name;
}

static int
at(const struct px *x, unsigned depth, const char *root, const char *a,
   const char *b, const char *c)
{
	const char *want[4] = {root, a, b, c};
	unsigned i;

	if (x->depth != depth)
		return 0;
	for (i = 0; i < depth && i < 4; i++)
		if (want[i] != NULL && strcmp(x->path[i], want[i]) != 0)
			return 0;
	return 1;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct px *x = ud;
	const char *local = local_name(name);

	(void)attrs;
	if (x->failed)
		return;
	if (x->depth >= XML_DEPTH_MAX) {
		px_fail(x, "XML nested too deeply");
		return;
	}
	/* A name too long for the buffer can match nothing we look for. */
	if (strlen(local) >= XML_NAME_MAX)
		local = "?";
	util_strlcpy(x->path[x->depth], local, XML_NAME_MAX);
	x->depth++;
	x->tlen = 0;
	x->ttrunc = 0;
	x->text[0] = '\0';
	if (x->out != NULL && at(x, 3, "DescribeAddressesResponse",
				 "addressesSet", "item", NULL)) {
		if (x->n >= x->max) {
			px_fail(x, "more addresses than expected");
			return;
		}
		memset(&x->out[x->n], 0, sizeof(x->out[x->n]));
		x->n++;
		x->in_item = 1;
	}
	if (at(x, 3, STATUS_ROOT, "instanceStatusSet", "item", NULL))
		x->inst_items++;
	if (x->walk != NULL && x->walk->open != NULL)
		x->walk->open(x->walk->ud, x->path, x->depth);
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct px *x = ud;
	size_t n = (size_t)len;

	if (x->failed || len <= 0)
		return;
	if (n > sizeof(x->text) - 1 - x->tlen) {
		n = sizeof(x->text) - 1 - x->tlen;
		x->ttrunc = 1;
	}
	memcpy(x->text + x->tlen, s, n);
	x->tlen += n;
	x->text[x->tlen] = '\0';
}

/* Identifiers must fit whole: a truncated id would name another resource. */
static void
take_id(struct px *x, char *dst, size_t size)
{
	if (x->ttrunc || x->tlen >= size) {
		px_fail(x, "identifier too long");
		return;
	}
	memcpy(dst, x->text, x->tlen + 1);
}

static void
take_address_field(struct px *x, const char *field)
{
	struct ec2_address *a = &x->out[x->n - 1];

	if (strcmp(field, "allocationId") == 0)
		take_id(x, a->allocation_id, sizeof(a->allocation_id));
	else if (strcmp(field, "publicIp") == 0)
		take_id(x, a->public_ip, sizeof(a->public_ip));
	else if (strcmp(field, "associationId") == 0)
		take_id(x, a->association_id, sizeof(a->association_id));
	else if (strcmp(field, "instanceId") == 0)
		take_id(x, a->instance_id, sizeof(a->instance_id));
	else if (strcmp(field, "networkInterfaceId") == 0)
		take_id(x, a->network_interface_id,
			sizeof(a->network_interface_id));
	else if (strcmp(field, "privateIpAddress") == 0)
		take_id(x, a->private_ip, sizeof(a->private_ip));
	else if (strcmp(field, "domain") == 0)
		take_id(x, a->domain, sizeof(a->domain));
}

/* Only the first item: we ask about one instance. */
static int
take_status_field(struct px *x, const char *field)
{
	struct ec2_instance_status *s = x->inst;

	if (s == NULL || x->inst_items != 1)
		return 0;
	if (at(x, 4, STATUS_ROOT, "instanceStatusSet", "item", NULL) &&
	    strcmp(field, "instanceId") == 0)
		take_id(x, s->instance_id, sizeof(s->instance_id));
	else if (at(x, 5, STATUS_ROOT, "instanceStatusSet", "item",
		    "instanceState") &&
		 strcmp(field, "name") == 0)
		take_id(x, s->state, sizeof(s->state));
	else if (at(x, 5, STATUS_ROOT, "instanceStatusSet", "item",
		    "instanceStatus") &&
		 strcmp(field, "status") == 0)
		take_id(x, s->instance_status, sizeof(s->instance_status));
	else if (at(x, 5, STATUS_ROOT, "instanceStatusSet", "item",
		    "systemStatus") &&
		 strcmp(field, "status") == 0)
		take_id(x, s->system_status, sizeof(s->system_status));
	else
		return 0;
	return 1;
}

static int
parent_is_error(const struct px *x)
{
	return x->depth >= 2 && strcmp(x->path[x->depth - 2], "Error") == 0;
}

static void
take_error_field(struct px *x, const char *field)
{
	if (x->error_done &&
	    (strcmp(field, "Code") == 0 || strcmp(field, "Message") == 0))
		return;
	if (strcmp(field, "Code") == 0 && parent_is_error(x)) {
		take_id(x, x->error.code, sizeof(x->error.code));
		x->have_code = 1;
	} else if (strcmp(field, "Message") == 0 && parent_is_error(x)) {
		/* Human text: truncating it is harmless. */
		util_strlcpy(x->error.message, x->text,
			     sizeof(x->error.message));
	} else if ((strcmp(field, "RequestID") == 0 ||
		    strcmp(field, "RequestId") == 0) &&
		   x->depth == 2) {
		take_id(x, x->error.request_id, sizeof(x->error.request_id));
	} else if (strcmp(field, "Error") == 0 && x->have_code) {
		x->error_done = 1;
	}
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct px *x = ud;
	const char *field;

	(void)name;
	if (x->failed || x->depth == 0)
		return;
	field = x->path[x->depth - 1];
	if (x->walk != NULL) {
		const char *why = x->walk->close(x->walk->ud, x->path, x->depth,
						 x->text, x->ttrunc);

		if (why != NULL) {
			px_fail(x, why);
			return;
		}
	}
	if (x->in_item &&
	    at(x, 4, "DescribeAddressesResponse", "addressesSet", "item", NULL))
		take_address_field(x, field);
	else if (x->in_item && at(x, 3, "DescribeAddressesResponse",
				  "addressesSet", "item", NULL))
		x->in_item = 0;
	else if (at(x, 2, "AssociateAddressResponse", "associationId", NULL,
		    NULL))
		take_id(x, x->association_id, sizeof(x->association_id));
	else if (!take_status_field(x, field))
		take_error_field(x, field);
	x->depth--;
	x->tlen = 0;
	x->text[0] = '\0';
}

/* EC2 never sends a DTD; refusing one also refuses entity expansion. */
static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
	   const XML_Char *pubid, int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	px_fail(ud, "DOCTYPE not allowed");
}

static int
px_run(struct px *x, const char *xml, size_t len, char *err, size_t errlen)
{
	int ok;

	if (xml == NULL || len > INT_MAX) {
		snprintf(err, errlen, "no XML");
		return -1;
	}
	x->p = XML_ParserCreateNS(NULL, NS_SEP);
	if (x->p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	ok = XML_Parse(x->p, xml, (int)len, XML_TRUE) == XML_STATUS_OK;
	if (!ok && !x->failed)
		snprintf(err, errlen, "bad XML at line %lu: %s",
			 (unsigned long)XML_GetCurrentLineNumber(x->p),
			 XML_ErrorString(XML_GetErrorCode(x->p)));
	else if (x->failed)
		snprintf(err, errlen, "%s", x->why);
	XML_ParserFree(x->p);
	x->p = NULL;
	return ok && !x->failed ? 0 : -1;
}

/* After a successful pass: was it the document we wanted? */
static int
px_expect_root(const struct px *x, const char *root, char *err, size_t errlen)
{
	if (strcmp(x->path[0], root) == 0)
		return 0;
	if (x->have_code)
		snprintf(err, errlen, "%s: %s", x->error.code,
			 x->error.message);
	else
		snprintf(err, errlen, "unexpected <%s> instead of <%s>",
			 x->path[0], root);
	return -1;
}

/* A parser's state, or NULL with "out of memory" in err. */
static struct px *
px_new(char *err, size_t errlen)
{
	struct px *x = calloc(1, sizeof(struct px));

	if (x == NULL)
		snprintf(err, errlen, "out of memory");
	return x;
}

int
ec2_parse_describe_addresses(const char *xml, size_t len,
			     struct ec2_address *out, size_t max, size_t *n,
			     char *err, size_t errlen)
{
	struct px *x = px_new(err, errlen);
	int rc = -1;

	*n = 0;
	if (x == NULL)
		return -1;
	x->out = out;
	x->max = out ? max : 0;
	if (px_run(x, xml, len, err, errlen) == 0 &&
	    px_expect_root(x, "DescribeAddressesResponse", err, errlen) == 0) {
		*n = x->n;
		rc = 0;
	}
	free(x);
	return rc;
}

int
ec2_parse_associate(const char *xml, size_t len, char *association_id,
		    size_t idlen, char *err, size_t errlen)
{
	struct px *x = px_new(err, errlen);
	int rc = -1;

	if (x == NULL)
		return -1;
	if (px_run(x, xml, len, err, errlen) == 0 &&
	    px_expect_root(x, "AssociateAddressResponse", err, errlen) == 0) {
		if (x->association_id[0] == '\0')
			snprintf(err, errlen, "no associationId in answer");
		else if (strlen(x->association_id) >= idlen)
			snprintf(err, errlen, "associationId too long");
		else {
			util_strlcpy(association_id, x->association_id, idlen);
			rc = 0;
		}
	}
	free(x);
	return rc;
}

int
ec2_parse_instance_status(const char *xml, size_t len,
			  struct ec2_instance_status *out, int *found,
			  char *err, size_t errlen)
{
	struct px *x = px_new(err, errlen);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	*found = 0;
	if (x == NULL)
		return -1;
	x->inst = out;
	if (px_run(x, xml, len, err, errlen) == 0 &&
	    px_expect_root(x, STATUS_ROOT, err, errlen) == 0) {
		*found = x->inst_items > 0;
		if (*found && out->state[0] == '\0')
			snprintf(err, errlen, "no instanceState in answer");
		else
			rc = 0;
	}
	if (rc == -1)
		memset(out, 0, sizeof(*out));
	free(x);
	return rc;
}

int
ec2_instance_down(const struct ec2_instance_status *s, char *why, size_t len)
{
	static const char *const gone[] = {"stopping", "stopped",
					   "shutting-down", "terminated"};
	size_t i;

	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (strcmp(s->state, gone[i]) == 0) {
			snprintf(why, len, "%s", s->state);
			return 1;
		}
	if (strcmp(s->instance_status, "impaired") == 0) {
		snprintf(why, len, "%s, instance status check impaired",
			 s->state);
		return 1;
	}
	if (strcmp(s->system_status, "impaired") == 0) {
		snprintf(why, len, "%s, system status check impaired",
			 s->state);
		return 1;
	}
	snprintf(why, len, "%s, checks %s/%s", s->state,
		 s->instance_status[0] ? s->instance_status : "-",
		 s->system_status[0] ? s->system_status : "-");
	return 0;
}

int
ec2_parse_error(const char *xml, size_t len, struct ec2_error *out, char *err,
		size_t errlen)
{
	struct px *x = px_new(err, errlen);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (x == NULL)
		return -1;
	if (px_run(x, xml, len, err, errlen) == 0) {
		if (x->have_code) {
			*out = x->error;
			rc = 0;
		} else {
			snprintf(err, errlen, "no <Error><Code> in <%s>",
				 x->path[0]);
		}
	}
	free(x);
	return rc;
}

int
ec2_xml_walk(const char *xml, size_t len, const char *root,
	     const struct ec2_xml_walk *w, char *err, size_t errlen)
{
	struct px *x = px_new(err, errlen);
	int rc = -1;

	if (x == NULL)
		return -1;
	x->walk = w;
	if (px_run(x, xml, len, err, errlen) == 0 &&
	    px_expect_root(x, root, err, errlen) == 0)
		rc = 0;
	free(x);
	return rc;
}
