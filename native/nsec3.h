/* NSEC3 hashing (RFC 5155 §5) and the chain's cover search, for the encloser replay's signed NSEC3
 * denials (the template hole, native/udp_batch.c). */
#ifndef FLUXDNS_NSEC3_H
#define FLUXDNS_NSEC3_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define NSEC3_DIGEST 20      /* SHA-1, the one algorithm RFC 5155 §11 defines */
#define NSEC3_LABEL 32       /* its base32hex text: an NSEC3 owner's first label */

/* SHA-1 (FIPS 180-4) of a[0, alen) followed by b[0, blen); alen + blen <= 576. out may alias a. */
void nsec3_sha1(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[NSEC3_DIGEST]);

/* IH(salt, name, iterations) of RFC 5155 §5; name in canonical (lower-cased, uncompressed) wire form. */
void nsec3_hash(const uint8_t *name, size_t len, const uint8_t *salt, size_t salt_len, unsigned iterations, uint8_t out[NSEC3_DIGEST]);

/* The place covering digest h in a chain of `places` sorted digests (20 bytes each): the last one
 * strictly before h, wrapping to the last place (src/dnssec/serve/index.ts coverIndex); -1 when empty. */
int nsec3_cover(const uint8_t *digests, int places, const uint8_t h[NSEC3_DIGEST]);

/* Lower-case base32hex (RFC 4648 §7) of a digest: 32 characters, an NSEC3 owner's hashed label. */
void nsec3_b32hex(const uint8_t d[NSEC3_DIGEST], uint8_t out[NSEC3_LABEL]);

/* JS: nsec3Hash(wire: Uint8Array, salt: Uint8Array, iterations) -> Uint8Array(20), and
 * nsec3Cover(digests: Uint8Array, hash: Uint8Array) -> place: the C code above, for tests. */
napi_value nsec3_js_hash(napi_env env, napi_callback_info info);
napi_value nsec3_js_cover(napi_env env, napi_callback_info info);

#endif
