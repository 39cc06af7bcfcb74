/*
 * ec2_xml_int.h - the SAX pass of ec2_xml.c offered to the other answer
 * parsers (ec2_xml_net.c): each element's path on the way in, its text on
 * the way out, the root and the error document checked as for the rest.
 */
#ifndef EIPFLOATD_EC2_XML_INT_H
#define EIPFLOATD_EC2_XML_INT_H

#include <stddef.h>

#define EC2_XML_NAME_MAX 64

struct ec2_xml_walk {
	void *ud;
	/* An element opened; path[depth - 1] is its local name. NULL: none. */
	void (*open)(void *ud, const char (*path)[EC2_XML_NAME_MAX],
		     unsigned depth);
	/* It closed with this text; a non-NULL return fails the parse. */
	const char *(*close)(void *ud, const char (*path)[EC2_XML_NAME_MAX],
			     unsigned depth, const char *text, int truncated);
};

/* 0, or -1 with err (bad XML, another root, an EC2 error document). */
int ec2_xml_walk(const char *xml, size_t len, const char *root,
		 const struct ec2_xml_walk *w, char *err, size_t errlen);

#endif
