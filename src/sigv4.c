/*
 * sigv4.c - AWS Signature Version 4 (header signing), pure: the request,
 * the credentials and the time come in, the Authorization value goes out.
 */
#include "sigv4.h"

#include "util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHA256_LEN 32
#define SHA256_HEX (2 * SHA256_LEN + 1)
#define QUERY_PAIRS_MAX 256
#define SECRET_MAX 256

/* A bounded string builder: any overflow sticks and fails the whole job. */
struct sb {
	char *p;
	size_t len;
	size_t cap;
	int err;
};

static void
sb_init(struct sb *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->err = cap == 0;
	if (cap)
		p[0] = '\0';
}

static void
sb_putn(struct sb *b, const char *s, size_t n)
{
	if (b->err || n >= b->cap - b->len) {
		b->err = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_puts(struct sb *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void
sb_putc(struct sb *b, char c)
{
	sb_putn(b, &c, 1);
}

/* Cut back to `len`, as when ".." removes the segment just written. */
static void
sb_truncate(struct sb *b, size_t len)
{
	if (!b->err && len <= b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

static void
put_enc_byte(struct sb *b, unsigned char c, int encode_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char pct[3];

	if (is_unreserved(c) || (c == '/' && !encode_slash)) {
		sb_putc(b, (char)c);
		return;
	}
	pct[0] = '%';
	pct[1] = hex[c >> 4];
	pct[2] = hex[c & 15];
	sb_putn(b, pct, 3);
}

static void
put_enc(struct sb *b, const char *s, size_t n, int encode_slash)
{
	for (size_t i = 0; i < n; i++)
		put_enc_byte(b, (unsigned char)s[i], encode_slash);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A query arrives as it is on the wire, maybe already percent-encoded
 * ("%E1%88%B4") or maybe not (raw UTF-8): decoding valid %XX first and
 * encoding everything again gives the one canonical form AWS computes.
 * '+' is not a space here: AWS treats it as a literal plus.
 */
static void
put_reenc(struct sb *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			c = (unsigned char)(hexval(s[i + 1]) << 4 |
					    hexval(s[i + 2]));
			i += 2;
		}
		put_enc_byte(b, c, 1);
	}
}

int
sigv4_uri_encode(const char *in, int encode_slash, char *out, size_t outlen)
{
	struct sb b;

	if (in == NULL || out == NULL)
		return -1;
	sb_init(&b, out, outlen);
	put_enc(&b, in, strlen(in), encode_slash);
	return b.err ? -1 : 0;
}

/*
 * Every service but S3 signs the path with dot segments removed and empty
 * segments dropped ("//a/./b/../" -> "/a/"), a trailing slash kept; each
 * segment is then encoded once. Matches the published vectors and botocore.
 */
static void
put_canonical_uri(struct sb *b, const char *path, int normalize)
{
	size_t n = strlen(path);
	size_t start = b->len, nseg = 0;
	const char *s = path, *end = path + n;

	if (n == 0) {
		sb_putc(b, '/');
		return;
	}
	if (!normalize) {
		if (path[0] != '/')
			sb_putc(b, '/');
		put_enc(b, path, n, 0);
		return;
	}
	while (s < end) {
		const char *e = memchr(s, '/', (size_t)(end - s));
		size_t len = e ? (size_t)(e - s) : (size_t)(end - s);

		if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (nseg > 0 && !b->err) {
				char *slash = strrchr(b->p + start, '/');
				sb_truncate(b, (size_t)(slash - b->p));
				nseg--;
			}
		} else if (len > 0 && !(len == 1 && s[0] == '.')) {
			sb_putc(b, '/');
			put_enc(b, s, len, 0);
			nseg++;
		}
		s += len + 1;
	}
	if (nseg == 0 || path[n - 1] == '/')
		sb_putc(b, '/');
}

struct qpair {
	const char *key;
	const char *val;
};

static int
qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->val, y->val);
}

/*
 * Sort by the encoded key, then by the encoded value (repeated keys).
 * Encoded strings live in `scratch`, NUL-separated.
 */
static void
put_canonical_query(struct sb *b, const char *query, char *scratch,
		    size_t scratch_len)
{
	struct qpair pairs[QUERY_PAIRS_MAX];
	size_t npairs = 0;
	struct sb sc;
	const char *s = query, *end = query + strlen(query);

	sb_init(&sc, scratch, scratch_len);
	while (s < end && !sc.err) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		size_t len = amp ? (size_t)(amp - s) : (size_t)(end - s);
		const char *eq = memchr(s, '=', len);
		size_t klen = eq ? (size_t)(eq - s) : len;
		size_t koff, voff;

		if (len == 0) {
			s++;
			continue;
		}
		if (npairs == QUERY_PAIRS_MAX) {
			b->err = 1;
			return;
		}
		koff = sc.len;
		put_reenc(&sc, s, klen);
		sb_putn(&sc, "", 1);
		voff = sc.len;
		if (eq)
			put_reenc(&sc, eq + 1, len - klen - 1);
		sb_putn(&sc, "", 1);
		if (sc.err)
			break;
		pairs[npairs].key = scratch + koff;
		pairs[npairs].val = scratch + voff;
		npairs++;
		s += len + 1;
	}
	if (sc.err) {
		b->err = 1;
		return;
	}
	qsort(pairs, npairs, sizeof(pairs[0]), qpair_cmp);
	for (size_t i = 0; i < npairs; i++) {
		if (i)
			sb_putc(b, '&');
		sb_puts(b, pairs[i].key);
		sb_putc(b, '=');
		sb_puts(b, pairs[i].val);
	}
}

/* Whitespace as botocore's str.split() sees it in ASCII. */
static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f' || (c >= 0x1c && c <= 0x1f);
}

/* Trimall: no outer whitespace, inner runs (line folds too) -> one space. */
static void
put_trimmed(struct sb *b, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	int pending = 0, any = 0;

	for (; *s; s++) {
		if (is_ws(*s)) {
			pending = any;
			continue;
		}
		if (pending)
			sb_putc(b, ' ');
		sb_putc(b, (char)*s);
		pending = 0;
		any = 1;
	}
}

static int
name_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y || x == '\0')
			return (int)x - (int)y;
	}
}

static void
put_lower(struct sb *b, const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		sb_putc(b, c);
	}
}

static int
has_header(const struct sigv4_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (name_cmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * Canonical headers and the signed-headers list. Names sort
 * case-insensitively; an insertion sort keeps repeated names in their
 * request order, which is the order their values are joined with ','.
 */
static void
put_headers(struct sb *cr, struct sb *signed_hdrs,
	    const struct sigv4_header *all, size_t n)
{
	const struct sigv4_header *h[SIGV4_HEADERS_MAX + 2];

	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j > 0 && name_cmp(h[j - 1]->name, all[i].name) > 0) {
			h[j] = h[j - 1];
			j--;
		}
		h[j] = &all[i];
	}
	for (size_t i = 0; i < n; i++) {
		int first = i == 0 || name_cmp(h[i - 1]->name, h[i]->name);
		int last = i + 1 == n || name_cmp(h[i]->name, h[i + 1]->name);

		if (first) {
			put_lower(cr, h[i]->name);
			sb_putc(cr, ':');
			if (i)
				sb_putc(signed_hdrs, ';');
			put_lower(signed_hdrs, h[i]->name);
		} else {
			sb_putc(cr, ',');
		}
		put_trimmed(cr, h[i]->value);
		if (last)
			sb_putc(cr, '\n');
	}
}

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
sha256_hex(const void *data, size_t len, char out[SHA256_HEX])
{
	unsigned char md[SHA256_LEN];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(),
			NULL) ||
	    mdlen != SHA256_LEN)
		return -1;
	hex_encode(md, SHA256_LEN, out);
	return 0;
}

static int
hmac(const void *key, size_t keylen, const char *msg,
     unsigned char out[SHA256_LEN])
{
	unsigned int outlen = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
		 strlen(msg), out, &outlen) == NULL ||
	    outlen != SHA256_LEN)
		return -1;
	return 0;
}

/*
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request"); the signature is HMAC(kSigning, string to sign). Every
 * intermediate key is wiped before returning.
 */
static int
compute_signature(const char *secret, const char *date, const char *region,
		  const char *service, const char *sts, char out[SHA256_HEX])
{
	char ksecret[4 + SECRET_MAX + 1];
	unsigned char k1[SHA256_LEN], k2[SHA256_LEN], sig[SHA256_LEN];
	size_t slen = strlen(secret);
	int rc = -1;

	if (slen > SECRET_MAX)
		return -1;
	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen);
	/* Two buffers in turn: HMAC() need not allow key and output to alias.
	 */
	if (hmac(ksecret, 4 + slen, date, k1) == 0 &&
	    hmac(k1, SHA256_LEN, region, k2) == 0 &&
	    hmac(k2, SHA256_LEN, service, k1) == 0 &&
	    hmac(k1, SHA256_LEN, "aws4_request", k2) == 0 &&
	    hmac(k2, SHA256_LEN, sts, sig) == 0) {
		hex_encode(sig, SHA256_LEN, out);
		rc = 0;
	}
	util_explicit_bzero(ksecret, sizeof(ksecret));
	util_explicit_bzero(k1, sizeof(k1));
	util_explicit_bzero(k2, sizeof(k2));
	util_explicit_bzero(sig, sizeof(sig));
	return rc;
}

static int
req_valid(const struct sigv4_request *req, const struct sigv4_credentials *cred)
{
	if (req->method == NULL || req->path == NULL || req->region == NULL ||
	    req->service == NULL || cred->access_key_id == NULL ||
	    cred->secret_access_key == NULL ||
	    req->nheaders > SIGV4_HEADERS_MAX ||
	    (req->nheaders > 0 && req->headers == NULL) ||
	    (req->payload_len > 0 && req->payload == NULL))
		return 0;
	for (size_t i = 0; i < req->nheaders; i++)
		if (req->headers[i].name == NULL ||
		    req->headers[i].value == NULL)
			return 0;
	return has_header(req, "host");
}

/* The signing headers the caller did not list, as the header promises. */
static size_t
collect_headers(const struct sigv4_request *req,
		const struct sigv4_credentials *cred, const char *amz_date,
		struct sigv4_header *all)
{
	size_t n = req->nheaders;

	memcpy(all, req->headers, n * sizeof(*all));
	if (!has_header(req, "x-amz-date")) {
		all[n].name = "x-amz-date";
		all[n++].value = amz_date;
	}
	if (cred->session_token && cred->session_token[0] &&
	    !has_header(req, "x-amz-security-token")) {
		all[n].name = "x-amz-security-token";
		all[n++].value = cred->session_token;
	}
	return n;
}

int
sigv4_sign(const struct sigv4_request *req,
	   const struct sigv4_credentials *cred, struct sigv4_result *res)
{
	struct sigv4_header all[SIGV4_HEADERS_MAX + 2];
	/* sizeof does not evaluate res, which may be NULL (an error). */
	/* cppcheck-suppress ctunullpointer */
	char signed_hdrs[sizeof(res->authorization)];
	char scratch[sizeof(res->canonical_request)];
	char date[9], hash[SHA256_HEX], sig[SHA256_HEX];
	struct sb cr, sh;
	struct tm tm;
	size_t n;
	int len;

	if (res == NULL)
		return -1;
	memset(res, 0, sizeof(*res));
	if (req == NULL || cred == NULL || !req_valid(req, cred))
		return -1;
	if (gmtime_r(&req->when, &tm) == NULL ||
	    strftime(res->amz_date, sizeof(res->amz_date), "%Y%m%dT%H%M%SZ",
		     &tm) != 16)
		return -1;
	memcpy(date, res->amz_date, 8);
	date[8] = '\0';

	n = collect_headers(req, cred, res->amz_date, all);
	sb_init(&cr, res->canonical_request, sizeof(res->canonical_request));
	sb_init(&sh, signed_hdrs, sizeof(signed_hdrs));
	sb_puts(&cr, req->method);
	sb_putc(&cr, '\n');
	put_canonical_uri(&cr, req->path, req->normalize_path);
	sb_putc(&cr, '\n');
	put_canonical_query(&cr, req->query ? req->query : "", scratch,
			    sizeof(scratch));
	sb_putc(&cr, '\n');
	put_headers(&cr, &sh, all, n);
	sb_putc(&cr, '\n');
	sb_puts(&cr, signed_hdrs);
	sb_putc(&cr, '\n');
	if (sha256_hex(req->payload, req->payload_len, hash) < 0)
		goto fail;
	sb_puts(&cr, hash);
	if (cr.err || sh.err)
		goto fail;

	if (sha256_hex(res->canonical_request, cr.len, hash) < 0)
		goto fail;
	len = snprintf(res->string_to_sign, sizeof(res->string_to_sign),
		       "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
		       res->amz_date, date, req->region, req->service, hash);
	if (len < 0 || (size_t)len >= sizeof(res->string_to_sign))
		goto fail;
	if (compute_signature(cred->secret_access_key, date, req->region,
			      req->service, res->string_to_sign, sig) < 0)
		goto fail;
	len = snprintf(res->authorization, sizeof(res->authorization),
		       "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
		       "SignedHeaders=%s, Signature=%s",
		       cred->access_key_id, date, req->region, req->service,
		       signed_hdrs, sig);
	if (len < 0 || (size_t)len >= sizeof(res->authorization))
		goto fail;
	return 0;
fail:
	memset(res, 0, sizeof(*res));
	return -1;
}
