/*
 * authkey.h - the shared secret that authenticates heartbeats: reading the
 * file named by cluster.authkey (refusing one others could read) and
 * `eipfloatd --keygen`.
 */
#ifndef EIPFLOATD_AUTHKEY_H
#define EIPFLOATD_AUTHKEY_H

#include <stddef.h>
#include <stdint.h>

#define AUTHKEY_MIN 32
#define AUTHKEY_MAX 1024
#define AUTHKEY_KEYGEN_BYTES 64

/*
 * Read the whole file at `path` into key[AUTHKEY_MAX]: it must be a regular
 * file of AUTHKEY_MIN..AUTHKEY_MAX bytes that group and other cannot
 * access. 0 and *len, or -1 with why in err ("authkey PATH is ..."); the
 * key bytes never appear in a message.
 */
int authkey_read(const char *path, uint8_t *key, size_t *len, char *err,
		 size_t errlen);

/*
 * Write AUTHKEY_KEYGEN_BYTES random bytes to a new file `path`, mode 0600;
 * an existing file (the key the peer shares) is never overwritten. 0, or
 * -1 with why in err ("PATH: reason").
 */
int authkey_generate(const char *path, char *err, size_t errlen);

#endif
